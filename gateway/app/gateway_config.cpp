#include "gateway/app/gateway_config.h"

#include "gateway/core/config_reader.h"
#include "gateway/routing/mapping_transform.h"
#include "gateway/routing/stage_registry.h"

#include <Poco/Environment.h>
#include <Poco/Process.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <list>

namespace hl7gw::app {

namespace fs = std::filesystem;

namespace {

std::string readText(const std::string& file, const std::string& what)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw core::ConfigError(file + ": cannot read the " + what);
    }
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void loadDocument(const std::string& file, const std::vector<std::string>& sets,
                  rapidjson::Document& document)
{
    core::parseConfigText(readText(file, "configuration file"), file, document);
    for (const std::string& set : sets) {
        core::applyOverride(document, set);
    }
}

store::StoreConfig readStore(core::ConfigReader& root, RetentionConfig* retention)
{
    store::StoreConfig store;
    if (std::optional<core::ConfigReader> s = root.object("store")) {
        store.url = s->string("url", store.url);
        if (store.url.empty()) {
            s->fail("url", "must not be empty");
        }
        store.maxBatch = static_cast<std::size_t>(
            s->integer("max_batch", static_cast<std::int64_t>(store.maxBatch), 1, 100'000));
        store.sqlitePageSize =
            static_cast<int>(s->integer("sqlite_page_size", store.sqlitePageSize, 512, 65'536));
        if ((store.sqlitePageSize & (store.sqlitePageSize - 1)) != 0) {
            s->fail("sqlite_page_size", "must be a power of two from 512 to 65536");
        }
        RetentionConfig r;
        r.days = s->integer("retention_days", r.days, 0, 36'500);
        r.intervalSeconds = s->integer("prune_interval_seconds", r.intervalSeconds, 1, 86'400);
        if (retention != nullptr) {
            *retention = r;
        }
        s->finish();
    }
    return store;
}

transport::Endpoint readEndpoint(core::ConfigReader& config, const std::string& key,
                                 const transport::Endpoint& fallback)
{
    if (!config.has(key)) {
        return fallback;
    }
    const std::string text = config.string(key, {});
    try {
        return transport::Endpoint::parse(text);
    } catch (const core::ConfigError& e) {
        config.fail(key, "expected HOST:PORT, e.g. 127.0.0.1:2575 (" + e.message() + ")");
    }
}

ListenerConfig readListener(core::ConfigReader& config)
{
    ListenerConfig l;
    l.mllp.name = config.requiredString("name");
    l.mllp.listen = readEndpoint(config, "listen", l.mllp.listen);
    l.channel = config.requiredString("channel");
    l.mllp.maxFrameBytes = static_cast<std::size_t>(config.integer(
        "max_frame_bytes", static_cast<std::int64_t>(l.mllp.maxFrameBytes), 1024, 1LL << 31));
    l.mllp.idleTimeoutSeconds = static_cast<int>(
        config.integer("idle_timeout_seconds", l.mllp.idleTimeoutSeconds, 1, 86'400 * 7));
    l.mllp.maxConnections = static_cast<std::size_t>(config.integer(
        "max_connections", static_cast<std::int64_t>(l.mllp.maxConnections), 1, 10'000));
    if (std::optional<core::ConfigReader> tls = config.object("tls")) {
        transport::TlsConfig t;
        t.cert = tls->requiredString("cert");
        t.key = tls->requiredString("key");
        t.ca = tls->string("ca", {});
        t.requireClientCert = tls->boolean("require_client_cert", false);
        if (t.requireClientCert && t.ca.empty()) {
            tls->fail("require_client_cert", "needs tls.ca to verify the client certificates");
        }
        tls->finish();
        l.mllp.tls = t;
    }
    return l;
}

// Channel entries are objects (inline) or file names relative to the configuration file;
// a name ending in "*.json" takes every such file of that folder, in name order.
void collectChannelFiles(const std::string& configFile, const std::string& entry,
                         std::vector<std::string>& files, const std::string& where)
{
    const fs::path base = fs::path(configFile).parent_path();
    const fs::path path = fs::path(entry).is_absolute() ? fs::path(entry) : base / entry;
    const std::string name = path.filename().string();
    if (name.size() >= 6 && name.compare(0, 1, "*") == 0) {
        const std::string suffix = name.substr(1);
        std::vector<std::string> found;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(path.parent_path(), ec)) {
            const std::string n = e.path().filename().string();
            if (e.is_regular_file() && n.size() > suffix.size() &&
                n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
                found.push_back(e.path().string());
            }
        }
        if (ec) {
            throw core::ConfigError(where + ": cannot list " + path.parent_path().string() + ": " +
                                    ec.message());
        }
        std::sort(found.begin(), found.end());
        files.insert(files.end(), found.begin(), found.end());
        return;
    }
    files.push_back(path.string());
}

} // namespace

store::StoreConfig loadStoreConfig(const std::string& file, const std::vector<std::string>& sets)
{
    rapidjson::Document document;
    loadDocument(file, sets, document);
    core::ConfigReader root = core::ConfigReader::root(document, file);
    return readStore(root, nullptr);
}

GatewayConfig loadGatewayConfig(const std::string& file, const std::vector<std::string>& sets)
{
    rapidjson::Document document;
    loadDocument(file, sets, document);
    core::ConfigReader root = core::ConfigReader::root(document, file);

    GatewayConfig config;
    config.file = file;
    config.store = readStore(root, &config.retention);
    if (const rapidjson::Value* list = root.array("mllp")) {
        for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
            core::ConfigReader item = root.element(*list, "mllp", i);
            config.mllp.push_back(readListener(item));
            item.finish();
        }
    }
    if (std::optional<core::ConfigReader> http = root.object("http")) {
        config.http.listen = readEndpoint(*http, "listen", config.http.listen);
        config.http.maxThreads =
            static_cast<int>(http->integer("max_threads", config.http.maxThreads, 1, 1024));
        http->finish();
    }
    if (std::optional<core::ConfigReader> fhir = root.object("fhir")) {
        config.fhirEnabled = fhir->boolean("enabled", config.fhirEnabled);
        config.fhir.publicBase = fhir->string("base_url", config.fhir.publicBase);
        config.fhir.offsetMinutes = static_cast<int>(
            fhir->integer("utc_offset_minutes", config.fhir.offsetMinutes, -720, 840));
        config.fhir.defaultCount = static_cast<std::size_t>(fhir->integer(
            "default_count", static_cast<std::int64_t>(config.fhir.defaultCount), 1, 10000));
        config.fhir.maxCount = static_cast<std::size_t>(
            fhir->integer("max_count", static_cast<std::int64_t>(config.fhir.maxCount), 1, 10000));
        config.fhir.maxBodyBytes = static_cast<std::size_t>(
            fhir->integer("max_body_bytes", static_cast<std::int64_t>(config.fhir.maxBodyBytes),
                          1024, std::int64_t{1} << 30));
        fhir->finish();
    }
    if (std::optional<core::ConfigReader> booking = root.object("booking")) {
        // his_requests map directories are relative to this file, as stage paths are.
        config.booking =
            booking::readBookingConfig(*booking, fs::path(file).parent_path().string());
        booking->finish();
    }
    if (std::optional<core::ConfigReader> logging = root.object("logging")) {
        config.logLevel = logging->string("level", config.logLevel);
        static const char* levels[] = {"fatal",  "critical",    "error", "warning",
                                       "notice", "information", "debug", "trace"};
        if (std::find(std::begin(levels), std::end(levels), config.logLevel) == std::end(levels)) {
            logging->fail("level", "expected error, warning, information, debug or trace");
        }
        logging->finish();
    }
    config.nodeId = root.string("node_id", Poco::Environment::nodeName() + ':' +
                                               std::to_string(Poco::Process::id()));

    // Channel definitions: documents must live until ChannelSet::build has copied them.
    std::list<rapidjson::Document> channelDocuments;
    std::vector<std::pair<std::string, const rapidjson::Value*>> definitions;
    if (const rapidjson::Value* list = root.array("channels")) {
        for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
            const rapidjson::Value& entry = (*list)[i];
            const std::string where = file + " (channels." + std::to_string(i) + ")";
            if (entry.IsObject()) {
                definitions.emplace_back(where, &entry);
            } else if (entry.IsString()) {
                std::vector<std::string> files;
                collectChannelFiles(file, entry.GetString(), files, where);
                for (const std::string& f : files) {
                    rapidjson::Document& d = channelDocuments.emplace_back();
                    core::parseConfigText(readText(f, "channel file"), f, d);
                    definitions.emplace_back(f, &d);
                }
            } else {
                throw core::ConfigError(file + ": channels." + std::to_string(i) +
                                        ": expected a channel object or a file name");
            }
        }
    }
    // Stage paths (mappings_dir, adapters_dir) are relative to this file, as channel files are.
    routing::StageEnvironment environment;
    environment.baseDirectory = fs::path(file).parent_path().string();
    environment.maps = std::make_shared<routing::MapSetCache>();
    if (config.fhirEnabled) {
        config.fhirStore = std::make_shared<routing::FhirStoreLink>();
        environment.fhirStore = config.fhirStore;
    }
    config.channels =
        routing::ChannelSet::build(definitions, routing::StageRegistry::builtin(environment));
    root.finish();

    for (const ListenerConfig& l : config.mllp) {
        if (config.channels->find(l.channel) == nullptr) {
            throw core::ConfigError(file + ": mllp: listener '" + l.mllp.name +
                                    "' names channel '" + l.channel + "', which is not defined");
        }
    }
    return config;
}

} // namespace hl7gw::app
