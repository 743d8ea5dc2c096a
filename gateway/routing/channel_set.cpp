#include "gateway/routing/channel_set.h"

#include "gateway/core/config_reader.h"
#include "gateway/routing/fhir_feed.h"
#include "gateway/routing/stage_registry.h"

#include <algorithm>

namespace hl7gw::routing {

namespace {

AckPolicy readAckPolicy(core::ConfigReader& config)
{
    const std::string mode = config.string("ack_mode", "standard");
    if (mode == "standard") {
        return AckPolicy::Standard;
    }
    if (mode == "original") {
        return AckPolicy::Original;
    }
    if (mode == "enhanced") {
        return AckPolicy::Enhanced;
    }
    config.fail("ack_mode", "expected standard, original or enhanced, found '" + mode + "'");
}

std::vector<FilterPtr> readFilters(core::ConfigReader& config, const StageRegistry& registry)
{
    std::vector<FilterPtr> filters;
    if (const rapidjson::Value* list = config.array("filters")) {
        for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
            core::ConfigReader item = config.element(*list, "filters", i);
            filters.push_back(registry.makeFilter(item));
            item.finish();
        }
    }
    return filters;
}

DestinationConfig readDestination(core::ConfigReader& config, const StageRegistry& registry)
{
    DestinationConfig d;
    d.name = config.requiredString("name");
    d.filters = readFilters(config, registry);
    const std::string key = config.string("order_key", "PID-3.1");
    if (!key.empty()) {
        std::string error;
        d.orderKey = hl7v2::Path::parse(key, &error);
        if (!d.orderKey) {
            config.fail("order_key", "not a path like PID-3.1: " + error);
        }
    }
    d.workers = static_cast<int>(config.integer("workers", d.workers, 1, 64));
    d.leaseMs = config.integer("lease_ms", d.leaseMs, 1'000, 86'400'000);
    if (std::optional<core::ConfigReader> retry = config.object("retry")) {
        d.retry.maxAttempts =
            static_cast<int>(retry->integer("max_attempts", d.retry.maxAttempts, 1, 1'000'000));
        d.retry.initialBackoffMs =
            retry->integer("initial_backoff_ms", d.retry.initialBackoffMs, 1, 86'400'000);
        d.retry.maxBackoffMs = retry->integer("max_backoff_ms", d.retry.maxBackoffMs,
                                              d.retry.initialBackoffMs, 7 * 86'400'000LL);
        retry->finish();
    }
    // The remaining keys ("type" and its own) belong to the destination kind's factory.
    d.kind = registry.makeDestination(config);
    return d;
}

ChannelPtr readChannel(const std::string& where, const rapidjson::Value& value,
                       const StageRegistry& registry)
{
    core::ConfigReader config = core::ConfigReader::root(value, where);
    auto channel = std::make_shared<Channel>();
    channel->file = where;
    channel->name = config.requiredString("name");
    if (std::optional<core::ConfigReader> accept = config.object("accept")) {
        if (accept->has("types")) {
            channel->acceptTypes = accept->strings("types");
        }
        channel->acceptProcessingIds = accept->strings("processing_ids");
        channel->acceptVersions = accept->strings("versions");
        accept->finish();
    }
    channel->validate = config.boolean("validate", channel->validate);
    channel->ackPolicy = readAckPolicy(config);
    const std::string charset = config.string("default_charset", "UNICODE UTF-8");
    channel->defaultCharset = hl7v2::Charset::fromAnyName(charset);
    if (channel->defaultCharset == nullptr) {
        config.fail("default_charset", "unknown or unsupported character set '" + charset + "'");
    }
    channel->utcOffsetMinutes =
        static_cast<int>(config.integer("utc_offset_minutes", 480, -14 * 60, 14 * 60));
    if (const rapidjson::Value* sources = config.array("sources")) {
        for (rapidjson::SizeType i = 0; i < sources->Size(); ++i) {
            core::ConfigReader source = config.element(*sources, "sources", i);
            const std::string type = source.requiredString("type");
            if (type == "http") {
                channel->httpSource = true;
            } else if (type == "directory") {
                DirectorySourceConfig dir;
                dir.path = source.requiredString("path");
                dir.pollMs = source.integer("poll_ms", dir.pollMs, 10, 3'600'000);
                dir.doneDirectory = source.string("done", {});
                channel->directories.push_back(std::move(dir));
            } else if (type == "fhir") {
                if (channel->fhirFeed) {
                    source.fail("type", "one fhir source per channel (list its resources)");
                }
                channel->fhirFeed = registry.makeFhirFeed(source);
            } else if (type == "mllp") {
                // MLLP listeners name their channel in the top-level "mllp" list; accepted
                // here too so that a channel file can say where its messages come from.
            } else {
                source.fail("type", "expected mllp, http, directory or fhir, found '" + type + "'");
            }
            source.finish();
        }
    }
    channel->filters = readFilters(config, registry);
    if (const rapidjson::Value* list = config.array("transforms")) {
        for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
            core::ConfigReader item = config.element(*list, "transforms", i);
            channel->transforms.push_back(registry.makeTransform(item));
            item.finish();
        }
    }
    if (const rapidjson::Value* list = config.array("destinations")) {
        for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
            core::ConfigReader item = config.element(*list, "destinations", i);
            channel->destinations.push_back(readDestination(item, registry));
            item.finish();
        }
    }
    channel->applicationAck = config.string("application_ack", {});
    if (!channel->applicationAck.empty() &&
        std::none_of(
            channel->destinations.begin(), channel->destinations.end(),
            [&](const DestinationConfig& d) { return d.name == channel->applicationAck; })) {
        config.fail("application_ack",
                    "names no destination of this channel ('" + channel->applicationAck + "')");
    }
    // A json fhir source sends FHIR JSON, which filters and transforms (v2 readers) cannot read.
    if (channel->fhirFeed && channel->fhirFeed->payload() == FhirFeed::Payload::Json) {
        bool v2Stages = !channel->filters.empty() || !channel->transforms.empty();
        for (const DestinationConfig& d : channel->destinations) {
            v2Stages = v2Stages || !d.filters.empty();
        }
        if (v2Stages) {
            config.fail("sources", "a fhir source with payload json sends FHIR JSON: its channel "
                                   "takes no filters or transforms (they read HL7 v2 messages)");
        }
    }
    config.finish();
    return channel;
}

} // namespace

std::shared_ptr<const ChannelSet>
ChannelSet::build(const std::vector<std::pair<std::string, const rapidjson::Value*>>& definitions)
{
    return build(definitions, StageRegistry::builtin());
}

std::shared_ptr<const ChannelSet>
ChannelSet::build(const std::vector<std::pair<std::string, const rapidjson::Value*>>& definitions,
                  const StageRegistry& registry)
{
    auto set = std::make_shared<ChannelSet>();
    std::map<std::string, std::string> destinationOwners;
    for (const auto& [where, value] : definitions) {
        ChannelPtr channel = readChannel(where, *value, registry);
        if (set->byName_.count(channel->name) != 0) {
            throw core::ConfigError(where + ": name: channel '" + channel->name +
                                    "' is defined twice (also in " +
                                    set->byName_[channel->name]->file + ")");
        }
        for (const DestinationConfig& d : channel->destinations) {
            const auto [it, inserted] = destinationOwners.emplace(d.name, channel->name);
            if (!inserted) {
                throw core::ConfigError(where + ": destinations: destination name '" + d.name +
                                        "' is already used by channel '" + it->second +
                                        "' (names key the queue, so they must be unique)");
            }
        }
        set->channels_.push_back(channel);
        set->byName_[channel->name] = channel.get();
        for (const DestinationConfig& d : channel->destinations) {
            set->destinations_[d.name] = &d;
        }
    }
    return set;
}

const Channel* ChannelSet::find(const std::string& name) const
{
    const auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : it->second;
}

const DestinationConfig* ChannelSet::findDestination(const std::string& name) const
{
    const auto it = destinations_.find(name);
    return it == destinations_.end() ? nullptr : it->second;
}

} // namespace hl7gw::routing
