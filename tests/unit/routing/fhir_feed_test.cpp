// A channel's `fhir` source: FHIR writes become HL7 v2 messages for its destinations, queued in
// the write's own transaction, with the repository's outbound maps.
#include "gateway/core/config_reader.h"
#include "gateway/fhir/server/fhir_server.h"
#include "gateway/routing/channel_set.h"
#include "gateway/routing/fhir_feed.h"
#include "gateway/routing/stage_registry.h"
#include "tests/unit/store/store_test_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace hl7gw;
namespace fs = std::filesystem;

namespace {

const std::string Mappings = std::string(HL7GW_TEST_DATA_DIR) + "/../../mappings";

routing::ChannelSetPtr feedChannels(const fs::path& outbox)
{
    const std::string json = R"([
      {"name": "booking-his",
       "sources": [{"type": "fhir", "resources": ["Appointment"], "mappings_dir": ")" +
                             Mappings + R"(",
                    "ignore_from": ["his-siu-fhir"]}],
       "destinations": [{"name": "his", "type": "file", "directory": ")" +
                             outbox.string() + R"("}]},
      {"name": "broken-feed",
       "sources": [{"type": "fhir", "resources": ["Appointment"], "mappings_dir": ")" +
                             Mappings + R"(",
                    "mapping": "patient-adt"}],
       "destinations": [{"name": "nowhere", "type": "file", "directory": ")" +
                             outbox.string() + R"("}]}])";
    rapidjson::Document d;
    core::parseConfigText(json, "test.json", d);
    std::vector<std::pair<std::string, const rapidjson::Value*>> defs;
    for (rapidjson::SizeType i = 0; i < d.Size(); ++i) {
        defs.emplace_back("test.json", &d[i]);
    }
    return routing::ChannelSet::build(defs);
}

fhir::FhirResponse post(fhir::FhirServer& server, const std::string& target,
                        const std::string& body, const std::string& method = "POST",
                        const std::string& ifMatch = {})
{
    fhir::FhirRequest request;
    request.method = method;
    request.target = "/fhir" + target;
    request.headers = {{"content-type", "application/fhir+json"}};
    if (!ifMatch.empty()) {
        request.headers.emplace_back("if-match", ifMatch);
    }
    request.body = body;
    request.host = "127.0.0.1";
    return server.handle(request);
}

std::int64_t countOf(store::MessageStore& messages, store::MessageState state,
                     const std::string& type = {})
{
    store::MessageQuery query;
    query.state = state;
    if (!type.empty()) {
        query.type = type;
    }
    return messages.count(query);
}

const char* const Booking = R"({"resourceType": "Bundle", "type": "transaction", "entry": [
  {"fullUrl": "urn:uuid:3b1e4c52-9a43-4f0e-8d7a-3f2b6c9d1e01",
   "resource": {"resourceType": "Patient",
                "identifier": [{"system": "urn:oid:2.16.156.10011.1.11", "value": "MZ0042"}],
                "name": [{"text": "王小明", "family": "王", "given": ["小明"]}],
                "gender": "male", "birthDate": "1990-05-01"},
   "request": {"method": "POST", "url": "Patient"}},
  {"resource": {"resourceType": "Appointment", "id": "apt-1", "status": "booked",
                "identifier": [{"system": "urn:hl7gw:booking", "value": "BK-1"}],
                "start": "2026-12-03T08:00:00+08:00", "end": "2026-12-03T08:15:00+08:00",
                "minutesDuration": 15,
                "participant": [{"actor": {"reference": "urn:uuid:3b1e4c52-9a43-4f0e-8d7a-3f2b6c9d1e01"},
                                 "status": "accepted"}]},
   "request": {"method": "PUT", "url": "Appointment/apt-1"}}]})";

} // namespace

BOOST_AUTO_TEST_SUITE(fhir_feed)

BOOST_DATA_TEST_CASE(fhir_writes_become_queued_messages_for_the_channel, test::Backends, backend)
{
    test::TestDatabase db(backend);
    auto messages = db.open();
    const fs::path outbox = fs::temp_directory_path() / ("hl7gw-feed-" + test::uniqueSuffix());
    const routing::ChannelSetPtr channels = feedChannels(outbox);
    fhir::FhirServer server(
        {}, messages->resources(), core::SystemClock::instance(),
        routing::makeFhirOutboxHook([&] { return channels; }, messages->resources()));

    // A booking made over FHIR: one SIU^S12 for the HIS, made in the same transaction, with
    // the Patient of the same Bundle followed for PID.
    const fhir::FhirResponse booked = post(server, "", Booking);
    BOOST_REQUIRE_MESSAGE(booked.status == 200, booked.body);
    BOOST_TEST(countOf(*messages, store::MessageState::Queued, "SIU^S12") == 1);
    auto claimed = messages->claim("his", "test", 10, INT64_MAX / 2, INT64_MAX / 2 + 1);
    BOOST_REQUIRE(claimed.size() == 1u);
    BOOST_TEST(claimed[0].payload.find("SIU^S12") != std::string::npos, claimed[0].payload);
    BOOST_TEST(claimed[0].payload.find("\rPID|") != std::string::npos, claimed[0].payload);
    BOOST_TEST(claimed[0].payload.find("MZ0042") != std::string::npos, claimed[0].payload);
    BOOST_TEST(claimed[0].orderKey == "MZ0042"); // the destination's default key, PID-3.1
    messages->markDelivered(claimed[0].id, "AA", 1);

    // The map that cannot make a message (a Patient map for an Appointment) leaves an error
    // row naming the resource: the booking stands, and the failure is visible.
    BOOST_TEST(countOf(*messages, store::MessageState::Error) == 1);
    store::MessageQuery errors;
    errors.state = store::MessageState::Error;
    const auto failed = messages->list(errors);
    BOOST_REQUIRE(failed.size() == 1u);
    BOOST_TEST(failed[0].channel == "broken-feed");
    BOOST_TEST(failed[0].error.find("Appointment/apt-1") != std::string::npos, failed[0].error);

    // What the HIS told us (written by the HIS's own fhir_store destination) is not echoed.
    std::string cancelled = post(server, "/Appointment/apt-1", "", "GET").body;
    {
        cancelled.replace(cancelled.find("\"booked\""), 8, "\"cancelled\"");
        const routing::FhirWriteOrigin fromHis("his-siu-fhir");
        const fhir::FhirResponse put =
            post(server, "/Appointment/apt-1", cancelled, "PUT", "W/\"1\"");
        BOOST_REQUIRE_MESSAGE(put.status == 200, put.body);
    }
    BOOST_TEST(countOf(*messages, store::MessageState::Queued, "SIU^S15") == 0);

    // The same change made by anyone else goes to the HIS as SIU^S15.
    std::string noshow = cancelled;
    noshow.replace(noshow.find("\"cancelled\""), 11, "\"noshow\"");
    const fhir::FhirResponse put = post(server, "/Appointment/apt-1", noshow, "PUT", "W/\"2\"");
    BOOST_REQUIRE_MESSAGE(put.status == 200, put.body);
    BOOST_TEST(countOf(*messages, store::MessageState::Queued, "SIU^S26") == 1);
    fs::remove_all(outbox);
}

BOOST_AUTO_TEST_CASE(a_feed_names_types_it_can_map)
{
    const std::string json = R"({"name": "x", "sources": [{"type": "fhir", "resources": ["Slot"],
                                "mappings_dir": ")" +
                             Mappings + R"("}], "destinations": []})";
    rapidjson::Document d;
    core::parseConfigText(json, "x.json", d);
    try {
        routing::ChannelSet::build({{"x.json", &d}});
        BOOST_FAIL("a feed of a type without an outbound map was accepted");
    } catch (const core::ConfigError& e) {
        BOOST_TEST(e.message().find("no outbound map for Slot") != std::string::npos, e.message());
    }
}

BOOST_AUTO_TEST_CASE(tags_select_the_versions_a_feed_sends)
{
    const std::string file =
        std::string(HL7GW_TEST_DATA_DIR) + "/../../conf/channels/his-slots.json.example";
    std::ifstream in(file);
    BOOST_REQUIRE_MESSAGE(in, file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    rapidjson::Document d;
    core::parseConfigText(text, file, d);
    routing::StageEnvironment environment;
    // Paths in channel files are the gateway.json's (conf/), as serve reads them.
    environment.baseDirectory = fs::path(file).parent_path().parent_path().string();
    routing::ChannelSetPtr channels;
    try {
        channels =
            routing::ChannelSet::build({{file, &d}}, routing::StageRegistry::builtin(environment));
    } catch (const core::ConfigError& e) {
        BOOST_FAIL(e.message());
    }
    const routing::Channel* channel = channels->find("his-slots");
    BOOST_REQUIRE(channel != nullptr && channel->fhirFeed != nullptr);
    BOOST_TEST(channel->fhirFeed->wants("Provenance", ""));
    BOOST_TEST(!channel->fhirFeed->wants("Provenance", "his-suspension"));
    rapidjson::Document suspended;
    suspended.Parse(R"({"resourceType":"Provenance","meta":{"tag":[{"system":"urn:other",)"
                    R"("code":"x"},{"system":"urn:hl7gw:slot-change","code":"suspend"}]}})");
    rapidjson::Document mapped;
    mapped.Parse(R"({"resourceType":"Provenance","activity":{"coding":[{"code":"CREATE"}]}})");
    rapidjson::Document otherTag;
    otherTag.Parse(R"({"resourceType":"Provenance","meta":{"tag":[{"system":)"
                   R"("urn:hl7gw:slot-change","code":"generate"}]}})");
    BOOST_TEST(channel->fhirFeed->wantsTags(suspended));
    BOOST_TEST(!channel->fhirFeed->wantsTags(mapped));
    BOOST_TEST(!channel->fhirFeed->wantsTags(otherTag));

    const std::string bad = R"({"name": "x", "sources": [{"type": "fhir", "resources":
        ["Provenance"], "mapping": "slots-siu", "tags": ["suspend"], "mappings_dir": ")" +
                            Mappings + R"("}], "destinations": []})";
    rapidjson::Document b;
    core::parseConfigText(bad, "x.json", b);
    try {
        routing::ChannelSet::build({{"x.json", &b}});
        BOOST_FAIL("a tag without its system was accepted");
    } catch (const core::ConfigError& e) {
        BOOST_TEST(e.message().find("tags") != std::string::npos, e.message());
    }
}

BOOST_AUTO_TEST_SUITE_END()
