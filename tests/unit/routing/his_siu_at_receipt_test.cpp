// The HIS's own SIU in step (issue 7, deliverables 3 and 5): an SIU^S12 is written to the FHIR
// store at receipt, so its ACK tells the HIS whether the booking stands (AA, or AE SLOT_TAKEN
// for a Slot another appointment holds), and an SIU^S23 suspends the doctor's Schedule: the
// Appointments are cancelled, the patients notified, and the HIS gets an SIU^S15 per
// cancellation but never its own S12 or S23 back. Real MLLP sockets on 127.0.0.1, the
// repository's maps, on SQLite and on PostgreSQL.
#include "gateway/booking/fhir_calls.h"
#include "gateway/booking/suspension.h"
#include "gateway/core/config_reader.h"
#include "gateway/core/metrics.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/server/fhir_server.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/routing/engine.h"
#include "gateway/routing/fhir_feed.h"
#include "gateway/routing/fhir_store_destination.h"
#include "gateway/routing/stage_registry.h"
#include "gateway/transport/mllp.h"
#include "tests/unit/store/store_test_support.h"
#include "tests/unit/test_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <mutex>
#include <string>
#include <vector>

using namespace hl7gw;

// Named, not anonymous: the data test cases capture these types in lambdas.
namespace his_siu_at_receipt_test {

// A HIS listener that answers AA and remembers what it got.
class TestHis {
  public:
    TestHis()
        : server_(transport::MllpListenerConfig{"his", {"127.0.0.1", 0}, std::nullopt},
                  [this](std::string_view message, const transport::ConnectionInfo&) {
                      const std::string text(message);
                      {
                          std::lock_guard lock(mutex_);
                          received_.push_back(text);
                      }
                      return std::string(
                                 "MSH|^~\\&|HIS||GW||20301202080000||ACK|A1|P|2.4\rMSA|AA|") +
                             "X\r";
                  })
    {
        server_.start();
    }
    ~TestHis() { server_.stop(); }

    std::uint16_t port() const { return server_.port(); }
    std::size_t countOf(const std::string& type)
    {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const std::string& m : received_) {
            n += m.find("|" + type) != std::string::npos ? 1 : 0;
        }
        return n;
    }
    std::size_t total()
    {
        std::lock_guard lock(mutex_);
        return received_.size();
    }
    std::string last(const std::string& type)
    {
        std::lock_guard lock(mutex_);
        for (auto it = received_.rbegin(); it != received_.rend(); ++it) {
            if (it->find("|" + type) != std::string::npos) {
                return *it;
            }
        }
        return {};
    }

  private:
    std::mutex mutex_;
    std::vector<std::string> received_;
    transport::MllpServer server_;
};

const std::string Mappings = std::string(HL7GW_TEST_DATA_DIR) + "/../../mappings";

// The gateway: the HIS's inbound SIU channel (mapping; fhir_store and schedule_suspension,
// both at receipt), the booking-his channel sending Appointment changes to the test HIS, the
// FHIR server with $suspend, and an MLLP listener for the inbound channel.
struct Gateway {
    explicit Gateway(test::Backend backend) : database(backend), store(database.open())
    {
        routing::StageEnvironment environment;
        environment.fhirStore = link;
        const std::string json = R"([
          {"name": "his-siu", "transforms": [{"type": "mapping", "mappings_dir": ")" +
                                 Mappings + R"("}],
           "application_ack": "his-acks",
           "destinations": [
             {"name": "his-acks", "type": "mllp", "order_key": "", "to": "127.0.0.1:)" +
                                 std::to_string(his.port()) + R"("},
             {"name": "his-siu-fhir-store", "type": "fhir_store", "at_receipt": true,
              "filters": [{"type": "message_type", "types": ["SIU^S12", "SIU^S13", "SIU^S14",
                                                             "SIU^S15"]}]},
             {"name": "his-suspension", "type": "schedule_suspension", "at_receipt": true,
              "filters": [{"type": "message_type", "types": ["SIU^S23", "SIU^S24"]}]}]},
          {"name": "booking-his",
           "sources": [{"type": "fhir", "resources": ["Appointment"], "mappings_dir": ")" +
                                 Mappings + R"(", "ignore_from": ["his-siu-fhir-store"]}],
           "destinations": [{"name": "his-out", "type": "mllp", "to": "127.0.0.1:)" +
                                 std::to_string(his.port()) + R"("}]},
          {"name": "his-slots",
           "sources": [{"type": "fhir", "resources": ["Provenance"], "mapping": "slots-siu",
                        "tags": ["urn:hl7gw:slot-change|suspend", "urn:hl7gw:slot-change|resume"],
                        "mappings_dir": ")" +
                                 Mappings + R"(", "ignore_from": ["his-suspension"]}],
           "destinations": [{"name": "his-slots-out", "type": "mllp", "order_key": "AIP-3.1",
                             "to": "127.0.0.1:)" +
                                 std::to_string(his.port()) + R"("}]}])";
        rapidjson::Document d;
        core::parseConfigText(json, "test.json", d);
        auto channels = routing::ChannelSet::build(
            {{"test.json", &d[0]}, {"test.json", &d[1]}, {"test.json", &d[2]}},
            routing::StageRegistry::builtin(environment));
        engine = std::make_unique<routing::Engine>(*store, metrics, core::SystemClock::instance(),
                                                   channels, "node-a");
        server = std::make_unique<fhir::FhirServer>(
            fhir::FhirServerConfig{}, store->resources(), core::SystemClock::instance(),
            routing::makeFhirOutboxHook([this] { return engine->snapshot(); }, store->resources()));
        booking::addSuspension(*server, core::SystemClock::instance());
        link->bind(server.get());
        engine->start();
        mllp = std::make_unique<transport::MllpServer>(
            transport::MllpListenerConfig{"in", {"127.0.0.1", 0}, std::nullopt},
            [this](std::string_view message, const transport::ConnectionInfo& c) {
                return engine->receiver().receive(message, "his-siu", c.peer).ack;
            });
        mllp->start();
    }

    ~Gateway()
    {
        mllp->stop();
        engine->stop();
        link->bind(nullptr);
    }

    std::string send(const std::string& message)
    {
        transport::MllpClientConfig config;
        config.to = {"127.0.0.1", mllp->port()};
        transport::MllpClient client(config);
        return client.exchange(message);
    }

    std::string create(const std::string& type, const std::string& body)
    {
        booking::FhirCalls fhir(*server);
        booking::FhirReply reply = fhir.call("POST", type, body);
        BOOST_REQUIRE_MESSAGE(reply.ok(), type + ": " + std::to_string(reply.status));
        return reply.body["id"].GetString();
    }

    // The doctor D9 (as the maps name AIP-3 D9^^^^^^^^HOSP), a Schedule of theirs and Slots
    // S-1..S-n of 15 minutes from 2030-12-03 08:00 +08:00.
    void schedule(int slots)
    {
        const std::string doctor =
            create("Practitioner", R"({"resourceType":"Practitioner","identifier":[)"
                                   R"({"system":"urn:hl7gw:id:HOSP","value":"D9"}]})");
        const std::string schedule =
            create("Schedule", R"({"resourceType":"Schedule","active":true,"actor":[)"
                               R"({"reference":"Practitioner/)" +
                                   doctor + R"("}]})");
        static const char* const Times[] = {"08:00", "08:15", "08:30", "08:45", "09:00"};
        for (int i = 1; i <= slots && i < 5; ++i) {
            slotIds.push_back(create(
                "Slot", R"({"resourceType":"Slot","status":"free","identifier":[)"
                        R"({"system":"urn:hl7gw:slot","value":"S-)" +
                            std::to_string(i) + R"("}],"schedule":{"reference":"Schedule/)" +
                            schedule + R"("},"start":"2030-12-03T)" + Times[i - 1] +
                            R"(:00+08:00","end":"2030-12-03T)" + Times[i] + R"(:00+08:00"})"));
        }
    }

    booking::FhirReply search(const std::string& query)
    {
        return booking::FhirCalls(*server).get(query);
    }

    std::vector<store::MessageRecord> inbound(store::MessageState state)
    {
        store::MessageQuery q;
        q.state = state;
        q.direction = store::Direction::In;
        q.withBodies = true;
        return store->list(q);
    }

    TestHis his;
    test::TestDatabase database;
    store::MessageStorePtr store;
    core::MetricsRegistry metrics;
    std::shared_ptr<routing::FhirStoreLink> link = std::make_shared<routing::FhirStoreLink>();
    std::unique_ptr<routing::Engine> engine;
    std::unique_ptr<fhir::FhirServer> server;
    std::unique_ptr<transport::MllpServer> mllp;
    std::vector<std::string> slotIds;
};

// An SIU from the HIS booking pool Slot `slot` for patient `patient` (filler id `filler`);
// `event` S12 (new), S13 (rescheduled), S14 (changed).
std::string siu(const std::string& event, const std::string& control, const std::string& filler,
                const std::string& slot, const std::string& patient)
{
    return "MSH|^~\\&|HIS|HOSP|HL7GW|HL7GW|20301201083000+0800||SIU^" + event + "^SIU_S12|" +
           control + "|P|2.5.1\rSCH||" + filler + "^HIS|||" + slot +
           "||||||^^^20301203080000+0800^20301203081500+0800\rPID|1||" + patient +
           "^^^HOSP^MR||Wang^Fang||19800101|F\rRGS|1|A\rAIP|1|A|D9^Li^Ming^^^^^^HOSP|||"
           "20301203080000+0800\r";
}

std::string s12(const std::string& control, const std::string& filler, const std::string& slot,
                const std::string& patient)
{
    return siu("S12", control, filler, slot, patient);
}

struct Ack {
    std::string code;                               // MSA-1
    std::string err3, err3system, err4, err5, err8; // ERR-3.1, ERR-3.3, ERR-4, ERR-5, ERR-8
};

Ack parseAck(const std::string& bytes)
{
    Ack ack;
    hl7v2::Message m;
    core::IssueList issues;
    BOOST_REQUIRE_MESSAGE(hl7v2::Er7Parser().parse(bytes, m, issues), bytes);
    BOOST_REQUIRE(m.findSegment("MSA"));
    ack.code = std::string(m.findSegment("MSA")->field(1).raw());
    if (const auto err = m.findSegment("ERR")) {
        ack.err3 = std::string(err->field(3).component(1).raw());
        ack.err3system = std::string(err->field(3).component(3).raw());
        ack.err4 = std::string(err->field(4).raw());
        ack.err5 = std::string(err->field(5).raw());
        ack.err8 = std::string(err->field(8).raw());
    }
    return ack;
}

std::string statusOf(booking::FhirReply& reply, rapidjson::SizeType entry = 0)
{
    BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status);
    BOOST_REQUIRE(reply.body["entry"].IsArray() && reply.body["entry"].Size() > entry);
    return reply.body["entry"][entry]["resource"]["status"].GetString();
}

} // namespace his_siu_at_receipt_test

using namespace his_siu_at_receipt_test;

BOOST_AUTO_TEST_SUITE(his_siu_at_receipt)

BOOST_DATA_TEST_CASE(an_s12_for_a_free_slot_is_booked_before_its_aa, test::Backends, backend)
{
    Gateway gw(backend);
    gw.schedule(1);

    const std::string first = gw.send(s12("C1", "FL1", "S-1", "MZ42"));
    BOOST_TEST(parseAck(first).code == "AA", first);
    // Written at receipt: the Appointment is there as soon as the ACK is.
    booking::FhirReply booked = gw.search("Appointment?identifier=FL1");
    BOOST_TEST(statusOf(booked) == "booked");
    BOOST_TEST(
        std::string(booked.body["entry"][0]["resource"]["slot"][0]["reference"].GetString()) ==
        "Slot/" + gw.slotIds[0]);
    const std::string version =
        booked.body["entry"][0]["resource"]["meta"]["versionId"].GetString();

    const auto processed = gw.inbound(store::MessageState::Processed);
    BOOST_REQUIRE(processed.size() == 1u);
    const auto deliveries = gw.store->deliveriesOf(processed[0].id);
    BOOST_REQUIRE_EQUAL(deliveries.size(), 1u);
    BOOST_TEST(deliveries[0].destination == "his-siu-fhir-store");
    BOOST_TEST((deliveries[0].state == store::MessageState::Delivered));
    BOOST_TEST(deliveries[0].ack.find("Appointment/") != std::string::npos, deliveries[0].ack);

    // A resend (same control id) gets the original ACK byte for byte and is not applied again.
    BOOST_TEST(gw.send(s12("C1", "FL1", "S-1", "MZ42")) == first);
    booking::FhirReply again = gw.search("Appointment?identifier=FL1");
    BOOST_TEST(std::string(again.body["entry"][0]["resource"]["meta"]["versionId"].GetString()) ==
               version);
    BOOST_TEST(gw.inbound(store::MessageState::Processed).size() == 1u);

    // The HIS's own booking is not echoed back to it.
    BOOST_TEST(!test::waitFor([&] { return gw.his.total() > 0; }, 1.5));
}

// The HIS moves its booking to another Slot: an update of a stored Appointment, which a
// client over HTTP could only make with If-Match; the channel's version is the one read.
BOOST_DATA_TEST_CASE(an_s13_moves_a_booking_of_the_his, test::Backends, backend)
{
    Gateway gw(backend);
    gw.schedule(2);
    BOOST_TEST(parseAck(gw.send(s12("C1", "FL1", "S-1", "MZ42"))).code == "AA");
    const std::string moved = gw.send(siu("S13", "C2", "FL1", "S-2", "MZ42"));
    BOOST_TEST(parseAck(moved).code == "AA", moved);
    booking::FhirReply after = gw.search("Appointment?identifier=FL1");
    BOOST_TEST(statusOf(after) == "booked");
    const auto& appointment = after.body["entry"][0]["resource"];
    BOOST_TEST(std::string(appointment["slot"][0]["reference"].GetString()) ==
               "Slot/" + gw.slotIds[1]);
    BOOST_TEST(std::string(appointment["meta"]["versionId"].GetString()) == "2");
    // The first Slot is no longer held: another booking of it is accepted.
    BOOST_TEST(parseAck(gw.send(s12("C3", "FL2", "S-1", "MZ43"))).code == "AA");
    // Three messages from one sending facility (MSH-4), each naming it in its MessageHeader
    // and Provenance: one Organization, found by the later ones (STANDARDS.md §4.1 rule 2).
    booking::FhirReply senders = gw.search("Organization?_summary=count");
    BOOST_TEST(hl7gw::fhir::numberText(senders.body["total"]) == "1");
}

BOOST_DATA_TEST_CASE(an_s12_for_a_taken_slot_is_answered_ae_slot_taken, test::Backends, backend)
{
    Gateway gw(backend);
    gw.schedule(1);
    BOOST_TEST(parseAck(gw.send(s12("C1", "FL1", "S-1", "MZ42"))).code == "AA");

    const std::string refused = gw.send(s12("C2", "FL2", "S-1", "MZ43"));
    const Ack ack = parseAck(refused);
    BOOST_TEST(ack.code == "AE", refused);
    BOOST_TEST(ack.err3 == "205");
    BOOST_TEST(ack.err3system == "HL70357");
    BOOST_TEST(ack.err4 == "E");
    BOOST_TEST(ack.err5 == "SLOT_TAKEN");
    BOOST_TEST(ack.err8 == "号源已被占用");
    // Nothing of it was written: no second Appointment.
    booking::FhirReply none = gw.search("Appointment?identifier=FL2");
    BOOST_REQUIRE(none.ok());
    BOOST_TEST((!none.body.HasMember("entry") || none.body["entry"].Empty()));

    // Kept as rejected with the reason, listed, without queue entries.
    const auto rejected = gw.inbound(store::MessageState::Rejected);
    BOOST_REQUIRE(rejected.size() == 1u);
    BOOST_TEST(rejected[0].controlId == "C2");
    BOOST_TEST(rejected[0].error.find("his-siu-fhir-store") != std::string::npos,
               rejected[0].error);
    BOOST_TEST(rejected[0].error.find("FHIR 409") != std::string::npos, rejected[0].error);
    BOOST_TEST(gw.store->deliveriesOf(rejected[0].id).empty());
    // AE means "do not resend unchanged": a resend gets the same AE.
    BOOST_TEST(gw.send(s12("C2", "FL2", "S-1", "MZ43")) == refused);

    // A Slot the pool does not have: AE 204, the server's text.
    const Ack unknown = parseAck(gw.send(s12("C3", "FL3", "S-404", "MZ44")));
    BOOST_TEST(unknown.code == "AE");
    BOOST_TEST(unknown.err3 == "204");
    BOOST_TEST(unknown.err5 == "FHIR_404");
    BOOST_TEST(gw.inbound(store::MessageState::Rejected).size() == 2u);
}

// Enhanced mode (MSH-15/16 AL, STANDARDS.md §1.6): CA on the connection, and the booking's
// fate in an application ACK to the HIS's listener: AA, or AE 205 SLOT_TAKEN.
BOOST_DATA_TEST_CASE(in_enhanced_mode_a_taken_slot_is_ca_then_an_application_ae, test::Backends,
                     backend)
{
    Gateway gw(backend);
    gw.schedule(1);
    auto enhanced = [](std::string m) {
        m.replace(m.find("|P|2.5.1"), 8, "|P|2.5.1|||AL|AL");
        return m;
    };
    BOOST_TEST(parseAck(gw.send(enhanced(s12("E1", "FL1", "S-1", "MZ42")))).code == "CA");
    const Ack accepted = parseAck(gw.send(enhanced(s12("E2", "FL2", "S-1", "MZ43"))));
    BOOST_TEST(accepted.code == "CA");
    BOOST_TEST(accepted.err3.empty()); // the refusal is the application ACK's to tell
    BOOST_TEST(test::waitFor([&] { return gw.his.countOf("ACK^S12") == 2; }));
    BOOST_TEST(gw.his.countOf("AA|E1") == 1);
    const std::string application = gw.his.last("ACK^S12");
    BOOST_TEST(application.find("MSA|AE|E2") != std::string::npos, application);
    const Ack refusal = parseAck(application);
    BOOST_TEST(refusal.err3 == "205");
    BOOST_TEST(refusal.err5 == "SLOT_TAKEN");
    BOOST_TEST(refusal.err8 == "号源已被占用");
    // Stored rejected all the same, and no second Appointment.
    BOOST_TEST(gw.inbound(store::MessageState::Rejected).size() == 1u);
    booking::FhirReply none = gw.search("Appointment?identifier=FL2");
    BOOST_REQUIRE(none.ok());
    BOOST_TEST((!none.body.HasMember("entry") || none.body["entry"].Empty()));
}

BOOST_DATA_TEST_CASE(an_s23_suspends_the_doctor_and_the_his_hears_s15s, test::Backends, backend)
{
    Gateway gw(backend);
    gw.schedule(4);
    BOOST_TEST(parseAck(gw.send(s12("C1", "FL1", "S-1", "MZ42"))).code == "AA");
    BOOST_TEST(parseAck(gw.send(s12("C2", "FL2", "S-3", "MZ43"))).code == "AA");

    // 停诊 08:00-09:00 for Dr D9 (AIP-3), reason in SCH-6.
    const std::string s23 = "MSH|^~\\&|HIS|HOSP|HL7GW|HL7GW|20301201090000+0800||SIU^S23^SIU_S12|"
                            "C9|P|2.5.1\rSCH||||||SUSP^医生停诊\rRGS|1|A\r"
                            "AIP|1|A|D9^Li^Ming^^^^^^HOSP|||20301203080000+0800|||60|min\r";
    const std::string answer = gw.send(s23);
    BOOST_TEST(parseAck(answer).code == "AA", answer);

    for (const std::string filler : {"FL1", "FL2"}) {
        booking::FhirReply cancelled = gw.search("Appointment?identifier=" + filler);
        BOOST_TEST(statusOf(cancelled) == "cancelled", filler);
        BOOST_TEST(
            std::string(
                cancelled.body["entry"][0]["resource"]["cancelationReason"]["text"].GetString())
                .find("医生停诊") != std::string::npos);
    }
    booking::FhirReply slots = gw.search("Slot?status=busy-unavailable");
    BOOST_REQUIRE(slots.ok());
    BOOST_TEST(slots.body["entry"].Size() == 4u);
    booking::FhirReply notices = gw.search("Communication?status=preparation");
    BOOST_REQUIRE(notices.ok());
    BOOST_TEST(notices.body["entry"].Size() == 2u);

    // The stored S23 keeps what the suspension did.
    const auto processed = gw.inbound(store::MessageState::Processed);
    const auto it = std::find_if(processed.begin(), processed.end(),
                                 [](const store::MessageRecord& r) { return r.controlId == "C9"; });
    BOOST_REQUIRE(it != processed.end());
    const auto deliveries = gw.store->deliveriesOf(it->id);
    BOOST_REQUIRE_EQUAL(deliveries.size(), 1u);
    BOOST_TEST(deliveries[0].destination == "his-suspension");
    BOOST_TEST(deliveries[0].ack.find("2 appointments cancelled") != std::string::npos,
               deliveries[0].ack);

    // One SIU^S15 per cancelled Appointment reaches the HIS: the gateway's own change. Not
    // the S12s the HIS sent, nor its S23.
    BOOST_TEST(test::waitFor([&] { return gw.his.countOf("SIU^S15") == 2; }));
    BOOST_TEST(!test::waitFor([&] { return gw.his.total() > 2; }, 1.5));
    BOOST_TEST(gw.his.countOf("SIU^S12") == 0u);
    BOOST_TEST(gw.his.countOf("SIU^S23") == 0u);

    // An S23 for a doctor without a Schedule: AE 204 UNKNOWN_SCHEDULE, kept as rejected.
    std::string other = s23;
    other.replace(other.find("|C9|"), 4, "|C10|");
    other.replace(other.find("D9^"), 3, "D7^");
    const Ack unknown = parseAck(gw.send(other));
    BOOST_TEST(unknown.code == "AE");
    BOOST_TEST(unknown.err3 == "204");
    BOOST_TEST(unknown.err5 == "UNKNOWN_SCHEDULE");
    BOOST_TEST(gw.inbound(store::MessageState::Rejected).size() == 1u);
}

BOOST_DATA_TEST_CASE(an_s24_reopens_and_fhir_suspensions_reach_the_his_as_s23_and_s24,
                     test::Backends, backend)
{
    Gateway gw(backend);
    gw.schedule(4);
    BOOST_TEST(parseAck(gw.send(s12("C1", "FL1", "S-1", "MZ42"))).code == "AA");
    const std::string s23 = "MSH|^~\\&|HIS|HOSP|HL7GW|HL7GW|20301201090000+0800||SIU^S23^SIU_S12|"
                            "C9|P|2.5.1\rSCH||||||SUSP^医生停诊\rRGS|1|A\r"
                            "AIP|1|A|D9^Li^Ming^^^^^^HOSP|||20301203080000+0800|||60|min\r";
    BOOST_TEST(parseAck(gw.send(s23)).code == "AA");
    booking::FhirReply blocked = gw.search("Slot?status=busy-unavailable");
    BOOST_REQUIRE(blocked.ok());
    BOOST_TEST(blocked.body["entry"].Size() == 4u);

    // 08:30-09:00 reopened by the HIS: two Slots free, the cancelled booking stays cancelled.
    std::string s24 = s23;
    s24.replace(s24.find("SIU^S23"), 7, "SIU^S24");
    s24.replace(s24.find("|C9|"), 4, "|C11|");
    s24.replace(s24.find("20301203080000+0800|||60"), 24, "20301203083000+0800|||30");
    const std::string answer = gw.send(s24);
    BOOST_TEST(parseAck(answer).code == "AA", answer);
    booking::FhirReply open = gw.search("Slot?status=free");
    BOOST_REQUIRE(open.ok());
    BOOST_TEST(open.body["entry"].Size() == 2u);
    BOOST_TEST(statusOf(blocked = gw.search("Slot?identifier=S-1")) == "busy-unavailable");
    booking::FhirReply cancelled = gw.search("Appointment?identifier=FL1");
    BOOST_TEST(statusOf(cancelled) == "cancelled");
    const auto processed = gw.inbound(store::MessageState::Processed);
    const auto it =
        std::find_if(processed.begin(), processed.end(),
                     [](const store::MessageRecord& r) { return r.controlId == "C11"; });
    BOOST_REQUIRE(it != processed.end());
    const auto deliveries = gw.store->deliveriesOf(it->id);
    BOOST_REQUIRE_EQUAL(deliveries.size(), 1u);
    BOOST_TEST(deliveries[0].ack.find("2 slots reopened") != std::string::npos, deliveries[0].ack);
    // The HIS hears its booking's S15 (the gateway's change), never its own S23 or S24.
    BOOST_TEST(test::waitFor([&] { return gw.his.countOf("SIU^S15") == 1; }));
    BOOST_TEST(!test::waitFor([&] { return gw.his.total() > 1; }, 1.5));

    // Over FHIR (the desk, not the HIS): $resume and $suspend reach the HIS as S24 and S23,
    // the doctor in AIP-3 and the period in SCH-11, as the HIS would send them.
    const std::string schedule =
        std::string(gw.search("Schedule?_count=1").body["entry"][0]["resource"]["id"].GetString());
    booking::FhirCalls fhir(*gw.server);
    const std::string period =
        R"({"resourceType":"Parameters","parameter":[{"name":"start","valueDateTime":)"
        R"("2030-12-03T08:00:00+08:00"},{"name":"end","valueDateTime":)"
        R"("2030-12-03T08:30:00+08:00"},{"name":"reason","valueString":"会诊结束"}]})";
    booking::FhirReply resumed = fhir.call("POST", "Schedule/" + schedule + "/$resume", period);
    BOOST_REQUIRE_MESSAGE(resumed.ok(), resumed.status);
    BOOST_TEST(test::waitFor([&] { return gw.his.countOf("SIU^S24") == 1; }));
    booking::FhirReply again = fhir.call("POST", "Schedule/" + schedule + "/$suspend", period);
    BOOST_REQUIRE_MESSAGE(again.ok(), again.status);
    BOOST_TEST(test::waitFor([&] { return gw.his.countOf("SIU^S23") == 1; }));
    const std::string s23out = gw.his.last("SIU^S23");
    BOOST_TEST(s23out.find("|D9^") != std::string::npos, s23out);
    BOOST_TEST(s23out.find("^20301203080000+0800^20301203083000+0800") != std::string::npos,
               s23out);
    BOOST_TEST(s23out.find("会诊结束") != std::string::npos, s23out);
    BOOST_TEST(s23out.find("|Blocked") != std::string::npos, s23out);
    BOOST_TEST(gw.his.countOf("SIU^S24") == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_or_misspelt_keys_are_config_errors_naming_the_path)
{
    routing::StageEnvironment environment;
    environment.fhirStore = std::make_shared<routing::FhirStoreLink>();
    const routing::StageRegistry registry = routing::StageRegistry::builtin(environment);
    auto build = [&](const std::string& destination) {
        rapidjson::Document d;
        core::parseConfigText(R"([{"name": "his-siu", "destinations": [)" + destination + "]}]",
                              "test.json", d);
        try {
            routing::ChannelSet::build({{"test.json", &d[0]}}, registry);
        } catch (const core::ConfigError& e) {
            return std::string(e.message());
        }
        return std::string("(accepted)");
    };
    const std::string typo =
        build(R"({"name": "s", "type": "schedule_suspension", "at_reciept": true})");
    BOOST_TEST(typo.find("at_reciept") != std::string::npos, typo);
    BOOST_TEST(typo.find("destinations") != std::string::npos, typo);
    const std::string notBool = build(R"({"name": "f", "type": "fhir_store", "at_receipt": 1})");
    BOOST_TEST(notBool.find("at_receipt") != std::string::npos, notBool);
    BOOST_TEST(build(R"({"name": "f", "type": "fhir_store", "at_receipt": true})") == "(accepted)");
    // Without the FHIR server there is nothing to suspend through.
    rapidjson::Document d;
    core::parseConfigText(
        R"([{"name": "c", "destinations": [{"name": "s", "type": "schedule_suspension"}]}])",
        "test.json", d);
    BOOST_CHECK_THROW(routing::ChannelSet::build({{"test.json", &d[0]}}), core::ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()
