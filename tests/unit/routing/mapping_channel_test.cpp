// The mapping engine in a channel: an ADT^A01 received over MLLP is mapped to a FHIR
// transaction Bundle (`mapping` transform) and written to the gateway's own FHIR store
// (`fhir_store` destination); a message the map cannot handle is kept as `error` with the
// mapping's issue and delivered by a replay once the map is fixed. Real sockets on 127.0.0.1,
// on SQLite and on PostgreSQL.

#include "gateway/app/messages_command.h"
#include "gateway/console/http_server.h"
#include "gateway/core/config_reader.h"
#include "gateway/core/metrics.h"
#include "gateway/fhir/server/fhir_server.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/routing/engine.h"
#include "gateway/routing/fhir_store_destination.h"
#include "gateway/routing/stage_registry.h"
#include "gateway/transport/mllp.h"
#include "tests/unit/routing/routing_support.h"
#include "tests/unit/store/store_test_support.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

using namespace hl7gw;

// Named, not anonymous: the data test cases capture these types in lambdas.
namespace mapping_channel_test {

namespace fs = std::filesystem;

// A small map set of our own (the repo's mappings/ change under other people's hands):
// Patient from PID, matched on PID-3, birthDate from PID-7.
const char* const DataTypes = "type CX -> Identifier\n"
                              "  value = .1\n"
                              "  system = .4 | system\n"
                              "\n"
                              "type XPN -> HumanName\n"
                              "  family = .1\n"
                              "  given = .2\n"
                              "\n"
                              "type XTN -> ContactPoint\n"
                              "  value = .1\n";
const char* const PatientMap = "resource patient -> Patient\n"
                               "  key identifier\n"
                               "  identifier = PID-3\n"
                               "  name = PID-5\n"
                               "  birthDate = PID-7\n"
                               "  telecom = PID-13\n";
// The fix: a partner that sends impossible birth dates gets them left out.
const char* const FixedPatientMap = "resource patient -> Patient\n"
                                    "  key identifier\n"
                                    "  identifier = PID-3\n"
                                    "  name = PID-5\n";
const char* const AdtMap = "message adt for ADT^A01 ADT^A04 ADT^A08\n"
                           "  resource patient\n";

void writeText(const fs::path& path, const std::string& text)
{
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

void writeMaps(const fs::path& dir, const char* patientMap)
{
    writeText(dir / "v2-to-fhir" / "datatypes.map", DataTypes);
    writeText(dir / "v2-to-fhir" / "resources" / "patient.map", patientMap);
    writeText(dir / "v2-to-fhir" / "messages" / "adt.map", AdtMap);
}

std::string adtWithBirthDate(const std::string& controlId, const std::string& patient,
                             const std::string& birthDate)
{
    return "MSH|^~\\&|HIS|HOSP|GW|GW|20261201083000+0800||ADT^A01^ADT_A01|" + controlId +
           "|P|2.5.1\rEVN|A01|20261201083000+0800\rPID|1||" + patient + "^^^HOSP^MR||Zhang^San||" +
           birthDate + "|M\rPV1|1|I\r";
}

routing::ChannelSetPtr channelsWith(const std::string& json, const routing::StageRegistry& r)
{
    rapidjson::Document d;
    core::parseConfigText(json, "test.json", d);
    std::vector<std::pair<std::string, const rapidjson::Value*>> defs;
    for (rapidjson::SizeType i = 0; i < d.Size(); ++i) {
        defs.emplace_back("test.json", &d[i]);
    }
    return routing::ChannelSet::build(defs, r);
}

std::string msa1(const std::string& ack)
{
    hl7v2::Message m;
    core::IssueList issues;
    if (!hl7v2::Er7Parser().parse(ack, m, issues) || !m.findSegment("MSA")) {
        return "(no MSA)";
    }
    return std::string(m.findSegment("MSA")->field(1).raw());
}

// Everything a channel with `mapping` + `fhir_store` needs: a store, the FHIR server over it
// with the HTTP server in front (for reading back over REST), the engine, and an MLLP
// listener feeding channel "his".
struct Gateway {
    explicit Gateway(test::Backend backend) : database(backend), store(database.open())
    {
        writeMaps(dir.path() / "mappings", PatientMap);
        fhirServer =
            std::make_unique<fhir::FhirServer>(fhir::FhirServerConfig{}, store->resources());
        console::HttpServerConfig httpConfig;
        httpConfig.listen = {"127.0.0.1", 0};
        http = std::make_unique<console::HttpServer>(httpConfig, *store, metrics, nullptr);
        http->mountFhir(*fhirServer);
        http->start();
        link->bind(fhirServer.get());
        engine = std::make_unique<routing::Engine>(*store, metrics, core::SystemClock::instance(),
                                                   loadChannels(), "node-a");
        engine->start();
        mllp = std::make_unique<transport::MllpServer>(
            transport::MllpListenerConfig{"in", {"127.0.0.1", 0}, std::nullopt},
            [this](std::string_view message, const transport::ConnectionInfo& c) {
                return engine->receiver().receive(message, "his", c.peer).ack;
            });
        mllp->start();
        writeText(dir.path() / "gateway.json",
                  R"({"store": {"url": ")" + database.url() + R"("}})");
    }

    ~Gateway()
    {
        mllp->stop();
        engine->stop();
        http->stop();
        link->bind(nullptr);
    }

    // What a (re)load of the configuration does: the maps are read again.
    routing::ChannelSetPtr loadChannels()
    {
        routing::StageEnvironment environment;
        environment.baseDirectory = dir.path().string();
        environment.fhirStore = link;
        return channelsWith(R"([{"name": "his", "transforms": [
                {"type": "mapping", "mappings_dir": "mappings"}],
              "destinations": [{"name": "fhir", "type": "fhir_store",
                "retry": {"max_attempts": 3, "initial_backoff_ms": 20, "max_backoff_ms": 50}}]}])",
                            routing::StageRegistry::builtin(environment));
    }

    std::string send(const std::string& message)
    {
        transport::MllpClientConfig config;
        config.to = {"127.0.0.1", mllp->port()};
        transport::MllpClient client(config);
        return client.exchange(message);
    }

    std::int64_t count(store::MessageState state, store::Direction direction)
    {
        store::MessageQuery q;
        q.state = state;
        q.direction = direction;
        return store->count(q);
    }

    // GET on the FHIR REST API over a real socket: status and body.
    std::pair<int, std::string> get(const std::string& target)
    {
        Poco::Net::HTTPClientSession session("127.0.0.1", http->port());
        Poco::Net::HTTPRequest request("GET", target, Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("Accept", "application/fhir+json");
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::string body;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
        return {static_cast<int>(response.getStatus()), body};
    }

    int cli(const std::string& action, std::vector<std::string> arguments, std::string& out,
            const std::string& state = {})
    {
        app::MessagesCommandOptions options;
        options.action = action;
        options.arguments = std::move(arguments);
        options.config = (dir.path() / "gateway.json").string();
        options.state = state;
        std::ostringstream o;
        std::ostringstream e;
        const int rc = app::runMessages(options, o, e);
        out = o.str() + e.str();
        return rc;
    }

    test::TempDir dir;
    test::TestDatabase database;
    store::MessageStorePtr store;
    core::MetricsRegistry metrics;
    std::shared_ptr<routing::FhirStoreLink> link = std::make_shared<routing::FhirStoreLink>();
    std::unique_ptr<fhir::FhirServer> fhirServer;
    std::unique_ptr<console::HttpServer> http;
    std::unique_ptr<routing::Engine> engine;
    std::unique_ptr<transport::MllpServer> mllp;
};

const std::string PatientSearch = "/fhir/Patient?identifier=urn:hl7gw:id:HOSP%7C";

} // namespace mapping_channel_test

using namespace mapping_channel_test;

BOOST_AUTO_TEST_SUITE(mapping_channel)

BOOST_DATA_TEST_CASE(an_adt_over_mllp_becomes_a_patient_in_the_fhir_store, test::Backends, backend)
{
    Gateway gw(backend);
    BOOST_TEST(msa1(gw.send(adtWithBirthDate("M1", "P100", "19800101"))) == "AA");
    BOOST_TEST(test::waitFor(
        [&] { return gw.count(store::MessageState::Delivered, store::Direction::Out) == 1; }));

    const auto [status, body] = gw.get(PatientSearch + "P100");
    BOOST_TEST(status == 200);
    BOOST_TEST(body.find("\"total\":1") != std::string::npos, body);
    BOOST_TEST(body.find("\"birthDate\":\"1980-01-01\"") != std::string::npos, body);
    BOOST_TEST(body.find("\"family\":\"Zhang\"") != std::string::npos, body);

    // The same patient again (A08): matched on PID-3, updated, never created twice.
    BOOST_TEST(msa1(gw.send(adtWithBirthDate("M2", "P100", "19800102"))) == "AA");
    BOOST_TEST(test::waitFor(
        [&] { return gw.count(store::MessageState::Delivered, store::Direction::Out) == 2; }));
    const auto [status2, body2] = gw.get(PatientSearch + "P100");
    BOOST_TEST(status2 == 200);
    BOOST_TEST(body2.find("\"total\":1") != std::string::npos, body2);
    BOOST_TEST(body2.find("\"birthDate\":\"1980-01-02\"") != std::string::npos, body2);

    // The queue entry keeps the Bundle it delivered and the versions it wrote, recorded in the
    // Bundle's own transaction (the second message made the Patient's second version).
    store::MessageQuery q;
    q.direction = store::Direction::Out;
    const std::vector<store::MessageRecord> out = gw.store->list(q);
    BOOST_REQUIRE(out.size() == 2U);
    const std::optional<store::MessageRecord> entry = gw.store->find(out[0].id);
    BOOST_REQUIRE(entry.has_value());
    BOOST_TEST(entry->raw.find("\"resourceType\":\"Bundle\"") != std::string::npos);
    BOOST_TEST(entry->ack.rfind("200: ", 0) == 0U, entry->ack);
    BOOST_TEST(entry->ack.find("Patient/") != std::string::npos, entry->ack);
    BOOST_TEST(entry->ack.find("/_history/2") != std::string::npos, entry->ack);
    BOOST_TEST((entry->state == store::MessageState::Delivered));
}

// STANDARDS.md §4.1 rule 3: an element the update leaves empty stays as it is; one it sends
// as `""` is removed.
BOOST_DATA_TEST_CASE(an_update_keeps_what_the_message_leaves_empty_and_removes_what_it_clears,
                     test::Backends, backend)
{
    Gateway gw(backend);
    auto adt = [](const std::string& controlId, const std::string& trigger,
                  const std::string& phone, const std::string& birthDate) {
        return "MSH|^~\\&|HIS|HOSP|GW|GW|20261201083000+0800||ADT^" + trigger + "^ADT_A01|" +
               controlId + "|P|2.5.1\rEVN|" + trigger +
               "|20261201083000+0800\rPID|1||P300^^^HOSP^MR||" + "Wang^Wu||" + birthDate +
               "|F|||||" + phone + "\rPV1|1|O\r";
    };
    auto patient = [&] {
        const auto [status, body] = gw.get(PatientSearch + "P300");
        BOOST_TEST(status == 200);
        BOOST_TEST(body.find("\"total\":1") != std::string::npos, body);
        return body;
    };
    auto delivered = [&](std::int64_t n) {
        return test::waitFor(
            [&] { return gw.count(store::MessageState::Delivered, store::Direction::Out) == n; });
    };
    BOOST_TEST(msa1(gw.send(adt("U1", "A01", "13800138000", "19900101"))) == "AA");
    BOOST_TEST(delivered(1));
    BOOST_TEST(patient().find("13800138000") != std::string::npos);

    // An A08 without PID-13 changes the birth date and keeps the phone.
    BOOST_TEST(msa1(gw.send(adt("U2", "A08", "", "19900102"))) == "AA");
    BOOST_TEST(delivered(2));
    const std::string kept = patient();
    BOOST_TEST(kept.find("\"birthDate\":\"1990-01-02\"") != std::string::npos, kept);
    BOOST_TEST(kept.find("13800138000") != std::string::npos, kept);

    // One with PID-13 `""` removes it; PID-7 left empty keeps the birth date.
    BOOST_TEST(msa1(gw.send(adt("U3", "A08", "\"\"", ""))) == "AA");
    BOOST_TEST(delivered(3));
    const std::string cleared = patient();
    BOOST_TEST(cleared.find("13800138000") == std::string::npos, cleared);
    BOOST_TEST(cleared.find("\"telecom\"") == std::string::npos, cleared);
    BOOST_TEST(cleared.find("\"birthDate\":\"1990-01-02\"") != std::string::npos, cleared);
}

BOOST_DATA_TEST_CASE(a_message_the_map_rejects_is_kept_with_the_error_and_replayed_after_the_fix,
                     test::Backends, backend)
{
    Gateway gw(backend);
    // 1988-13-18 is no date: the map fails on PID-7. The message is stored (AA: it is ours
    // now), marked error, and nothing is queued.
    BOOST_TEST(msa1(gw.send(adtWithBirthDate("M1", "P200", "19881318"))) == "AA");
    BOOST_TEST(test::waitFor(
        [&] { return gw.count(store::MessageState::Error, store::Direction::In) == 1; }));
    BOOST_TEST(gw.count(store::MessageState::Queued, store::Direction::Out) == 0);

    store::MessageQuery q;
    q.state = store::MessageState::Error;
    const std::vector<store::MessageRecord> errors = gw.store->list(q);
    BOOST_REQUIRE(errors.size() == 1U);
    const store::MessageRecord& failed = errors[0];
    BOOST_TEST_MESSAGE("mapping error: " << failed.error);
    BOOST_TEST(failed.error.find("patient.map") != std::string::npos, failed.error);
    BOOST_TEST(failed.error.find("PID") != std::string::npos, failed.error);
    BOOST_TEST(failed.error.find("7") != std::string::npos, failed.error);

    // What the operator sees.
    std::string text;
    BOOST_TEST(gw.cli("list", {}, text, "error") == 0);
    BOOST_TEST(text.find("patient.map") != std::string::npos, text);
    BOOST_TEST(text.find("\terror\t") != std::string::npos, text);
    BOOST_TEST(gw.cli("show", {std::to_string(failed.id)}, text) == 0);
    BOOST_TEST(text.find("patient.map") != std::string::npos, text);
    BOOST_TEST(text.find("deliveries (0)") != std::string::npos, text);

    // Replay before the fix: the same error again, still kept.
    BOOST_TEST(gw.cli("replay", {std::to_string(failed.id)}, text) == 0);
    gw.engine->router().notify();
    BOOST_TEST(test::waitFor([&] {
        const auto r = gw.store->find(failed.id);
        return r && r->state == store::MessageState::Error && r->updatedAt > failed.updatedAt;
    }));
    BOOST_TEST(gw.get(PatientSearch + "P200").second.find("\"total\":0") != std::string::npos);

    // Fix the map, reload (SIGHUP), replay: routed with the channel's current maps.
    writeMaps(gw.dir.path() / "mappings", FixedPatientMap);
    gw.engine->reload(gw.loadChannels());
    BOOST_TEST(gw.cli("replay", {std::to_string(failed.id)}, text) == 0);
    BOOST_TEST(text.find("replayed") != std::string::npos, text);
    gw.engine->router().notify();
    BOOST_TEST(test::waitFor(
        [&] { return gw.count(store::MessageState::Delivered, store::Direction::Out) == 1; }));
    const auto r = gw.store->find(failed.id);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(store::toString(r->state) == "processed");

    const auto [status, body] = gw.get(PatientSearch + "P200");
    BOOST_TEST(status == 200);
    BOOST_TEST(body.find("\"total\":1") != std::string::npos, body);
    BOOST_TEST(body.find("birthDate") == std::string::npos, body);
}

BOOST_AUTO_TEST_CASE(a_bundle_the_fhir_server_refuses_is_rejected_with_the_outcome_text)
{
    test::TestDatabase database(test::Backend::Sqlite);
    store::MessageStorePtr store = database.open();
    fhir::FhirServer server(fhir::FhirServerConfig{}, store->resources());
    auto link = std::make_shared<routing::FhirStoreLink>();
    routing::StageEnvironment environment;
    environment.fhirStore = link;
    const routing::ChannelSetPtr channels =
        channelsWith(R"([{"name": "c", "destinations": [{"name": "f", "type": "fhir_store"}]}])",
                     routing::StageRegistry::builtin(environment));
    routing::SenderPtr sender = channels->findDestination("f")->kind->makeSender();

    // Not bound yet: try again later.
    BOOST_TEST(static_cast<int>(sender->send("{}").outcome) ==
               static_cast<int>(routing::DeliveryResult::Outcome::Retry));
    link->bind(&server);
    const routing::DeliveryResult refused =
        sender->send(R"({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": {"resourceType": "Patient", "birthDate": "1988-13-18"},
             "request": {"method": "POST", "url": "Patient"}}]})");
    BOOST_TEST(static_cast<int>(refused.outcome) ==
               static_cast<int>(routing::DeliveryResult::Outcome::Reject));
    BOOST_TEST(refused.error.find("FHIR 4") == 0U, refused.error);
    BOOST_TEST(refused.error.size() > 8U, refused.error);

    const routing::DeliveryResult done =
        sender->send(R"({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": {"resourceType": "Patient", "birthDate": "1988-12-18"},
             "request": {"method": "POST", "url": "Patient"}}]})");
    BOOST_TEST(static_cast<int>(done.outcome) ==
               static_cast<int>(routing::DeliveryResult::Outcome::Delivered));
    BOOST_TEST(done.response.find("200: ") == 0U, done.response);
    BOOST_TEST(done.response.find("/fhir/Patient/") != std::string::npos, done.response);
    link->bind(nullptr);
}

BOOST_AUTO_TEST_CASE(configuration_errors_name_the_path)
{
    test::TempDir dir;
    writeMaps(dir.path() / "mappings", PatientMap);
    writeText(dir.path() / "adapters" / "his" / "dialect.json", R"({"name": "his"})");
    routing::StageEnvironment environment;
    environment.baseDirectory = dir.path().string();
    const routing::StageRegistry registry = routing::StageRegistry::builtin(environment);
    const auto error = [&](const std::string& transform) {
        try {
            channelsWith(R"([{"name": "c", "transforms": [)" + transform + "]}]", registry);
        } catch (const core::ConfigError& e) {
            return e.message();
        }
        return std::string("(no error)");
    };
    BOOST_TEST(error(R"({"type": "mapping"})") == "(no error)");
    BOOST_TEST(error(R"({"type": "mapping", "dialect": "his", "mapping": "adt"})") == "(no error)");
    BOOST_TEST(error(R"({"type": "mapping", "colour": 1})").find("transforms.0.colour") !=
               std::string::npos);
    BOOST_TEST(error(R"({"type": "mapping", "mapping": "nope"})").find("transforms.0.mapping") !=
               std::string::npos);
    BOOST_TEST(error(R"({"type": "mapping", "dialect": "nope"})").find("transforms.0.dialect") !=
               std::string::npos);
    BOOST_TEST(error(R"({"type": "mapping", "mappings_dir": "missing"})")
                   .find("transforms.0.mappings_dir") != std::string::npos);
    // A map that does not load: its file and line in the error.
    writeText(dir.path() / "broken" / "v2-to-fhir" / "bad.map",
              "resource patient -> Patient\n  birthDate = PID-99999\n");
    const std::string broken = error(R"({"type": "mapping", "mappings_dir": "broken"})");
    BOOST_TEST(broken.find("transforms.0.mappings_dir") != std::string::npos, broken);
    BOOST_TEST(broken.find("bad.map:2") != std::string::npos, broken);

    // fhir_store without the FHIR server (fhir.enabled false).
    try {
        channelsWith(R"([{"name": "c", "destinations": [{"name": "f", "type": "fhir_store"}]}])",
                     registry);
        BOOST_FAIL("fhir_store without a FHIR server was accepted");
    } catch (const core::ConfigError& e) {
        BOOST_TEST(e.message().find("destinations.0.type") != std::string::npos, e.message());
    }
}

BOOST_AUTO_TEST_SUITE_END()
