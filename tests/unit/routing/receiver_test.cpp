#include "gateway/routing/receiver.h"

#include "gateway/hl7v2/ack_builder.h"
#include "gateway/hl7v2/er7_parser.h"
#include "tests/unit/routing/routing_support.h"
#include "tests/unit/test_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

using namespace hl7gw;
namespace bdata = boost::unit_test::data;

namespace {

struct Fixture {
    test::TempDir dir;
    store::MessageStorePtr store = store::openStore({"sqlite:" + dir.file("gw.db")});
    core::MetricsRegistry metrics;
    test::ManualClock clock;
    routing::ChannelSetPtr channels = test::channelsFrom(R"([
        {"name": "in", "accept": {"types": ["ADT^*", "ORU^R01", "SIU^*"], "processing_ids": ["P", "T", "D"]},
         "destinations": [{"name": "archive", "type": "file", "directory": "/nonexistent"},
                          {"name": "a08-only", "type": "file", "directory": "/nonexistent",
                           "filters": [{"type": "message_type", "types": ["ADT^A08"]}]}]},
        {"name": "strict", "validate": true, "accept": {"versions": ["2.5.1"]}},
        {"name": "enhanced", "ack_mode": "enhanced"}])");
    int stored = 0; // commits that queued entries
    routing::Receiver receiver{*store, metrics, clock, [this] { return channels; },
                               [this](const std::vector<std::string>&) { ++stored; }};
};

struct Ack {
    std::string code;
    std::string controlId;
    std::string errCode;
};

Ack readAck(const std::string& bytes)
{
    hl7v2::Message m;
    core::IssueList issues;
    BOOST_REQUIRE_MESSAGE(hl7v2::Er7Parser().parse(bytes, m, issues), "ACK does not parse");
    const auto msa = m.findSegment("MSA");
    BOOST_REQUIRE(msa.has_value());
    Ack a{std::string(msa->field(1).raw()), std::string(msa->field(2).raw()), {}};
    if (const auto err = m.findSegment("ERR")) {
        a.errCode = std::string(err->field(3).component(1).raw());
        if (a.errCode.empty()) {
            a.errCode = std::string(err->field(1).component(4).subcomponent(1).raw());
        }
    }
    return a;
}

std::vector<std::filesystem::path> corpusMessages()
{
    std::vector<std::filesystem::path> out;
    for (const auto& p : test::filesUnder(test::corpusDir() / "hl7v2", {".hl7", ".txt"})) {
        const std::string s = p.string();
        if (s.find("/_malformed/") == std::string::npos &&
            s.find("/_batch_and_multi/") == std::string::npos) {
            out.push_back(p);
        }
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(receiver)

BOOST_FIXTURE_TEST_CASE(accepts_stores_then_answers_aa_with_the_control_id, Fixture)
{
    const Ack a = readAck(receiver.receive(test::adt("C1"), "in", "127.0.0.1:1").ack);
    BOOST_TEST(a.code == "AA");
    BOOST_TEST(a.controlId == "C1");
    BOOST_TEST(stored == 1);
    store::MessageQuery all;
    all.withBodies = true;
    all.direction = store::Direction::In;
    const auto list = store->list(all);
    BOOST_REQUIRE(list.size() == 1U);
    BOOST_TEST(list[0].controlId == "C1");
    BOOST_TEST(list[0].sender == "HIS|HOSP");
    BOOST_TEST(list[0].type == "ADT^A01");
    BOOST_TEST(list[0].raw == test::adt("C1"));
    // Routed in the same transaction: processed, with its one queue entry (the A08-only
    // destination filtered it out).
    BOOST_TEST((list[0].state == store::MessageState::Processed));
    const auto deliveries = store->deliveriesOf(list[0].id);
    BOOST_REQUIRE(deliveries.size() == 1U);
    BOOST_TEST(deliveries[0].destination == "archive");
    BOOST_TEST((deliveries[0].state == store::MessageState::Queued));
    BOOST_TEST(deliveries[0].orderKey == "P1");
}

BOOST_FIXTURE_TEST_CASE(duplicate_gets_the_original_ack_byte_for_byte, Fixture)
{
    const std::string first = receiver.receive(test::adt("C1"), "in", "p").ack;
    clock.advance(5'000'000);
    const std::string second = receiver.receive(test::adt("C1"), "in", "p").ack;
    BOOST_TEST(first == second);
    store::MessageQuery in;
    in.direction = store::Direction::In;
    BOOST_TEST(store->count(in) == 1);
    BOOST_TEST(stored == 1);
}

BOOST_FIXTURE_TEST_CASE(unreadable_message_is_stored_rejected_and_answered_ar, Fixture)
{
    const routing::Receiver::Reply reply = receiver.receive("PID|1||x\r", "in", "p");
    BOOST_TEST(reply.stored);
    const Ack a = readAck(reply.ack);
    BOOST_TEST(a.code == "AR");
    BOOST_TEST(a.errCode == "100");
    store::MessageQuery q;
    q.state = store::MessageState::Rejected;
    q.withBodies = true;
    const auto rejected = store->list(q);
    BOOST_REQUIRE(rejected.size() == 1U);
    BOOST_TEST(rejected[0].raw == "PID|1||x\r");
    BOOST_TEST(rejected[0].error.find("MSH") != std::string::npos, rejected[0].error);
    BOOST_TEST(stored == 0);
}

BOOST_FIXTURE_TEST_CASE(acceptance_rules_answer_ar_with_their_table_0357_code, Fixture)
{
    std::string mdm = test::adt("C2");
    mdm.replace(mdm.find("ADT^A01^ADT_A01"), 15, "MDM^T02^MDM_T02");
    BOOST_TEST(readAck(receiver.receive(mdm, "in", "p").ack).errCode == "200");
    std::string oru = test::adt("C3");
    oru.replace(oru.find("ADT^A01^ADT_A01"), 15, "ORU^R30^ORU_R30");
    BOOST_TEST(readAck(receiver.receive(oru, "in", "p").ack).errCode == "201");
    std::string training = test::adt("C4");
    training.replace(training.find("|P|2.5.1"), 8, "|X|2.5.1");
    BOOST_TEST(readAck(receiver.receive(training, "in", "p").ack).errCode == "202");
    std::string v23 = test::adt("C5");
    v23.replace(v23.find("|P|2.5.1"), 8, "|P|2.3");
    const Ack a = readAck(receiver.receive(v23, "strict", "p").ack);
    BOOST_TEST(a.code == "AR");
    BOOST_TEST(a.errCode == "203");
    store::MessageQuery q;
    q.state = store::MessageState::Rejected;
    BOOST_TEST(store->count(q) == 4);
}

BOOST_FIXTURE_TEST_CASE(structure_errors_answer_ae_on_a_validating_channel, Fixture)
{
    // PID-3 (required) removed.
    std::string m = test::adt("C6");
    m.replace(m.find("P1^^^HOSP^MR"), 12, "");
    const Ack a = readAck(receiver.receive(m, "strict", "p").ack);
    BOOST_TEST(a.code == "AE");
    BOOST_TEST(a.errCode == "101");
    // The same message on a channel that does not validate is accepted.
    std::string again = m;
    again.replace(again.find("|C6|"), 4, "|C7|");
    BOOST_TEST(readAck(receiver.receive(again, "in", "p").ack).code == "AA");
}

BOOST_FIXTURE_TEST_CASE(enhanced_mode_answers_ca, Fixture)
{
    BOOST_TEST(readAck(receiver.receive(test::adt("C8"), "enhanced", "p").ack).code == "CA");
}

BOOST_FIXTURE_TEST_CASE(unknown_channel_is_answered_ar_and_still_stored, Fixture)
{
    const routing::Receiver::Reply reply = receiver.receive(test::adt("C9"), "gone", "p");
    BOOST_TEST(reply.stored);
    BOOST_TEST(readAck(reply.ack).code == "AR");
}

BOOST_FIXTURE_TEST_CASE(an_ack_is_stored_and_not_answered, Fixture)
{
    const std::string ack = "MSH|^~\\&|LIS|LAB|GW|GW|20261201||ACK^A01^ACK|A1|P|2.5.1\rMSA|AA|C1\r";
    const routing::Receiver::Reply reply = receiver.receive(ack, "enhanced", "p");
    BOOST_TEST(reply.ack.empty());
    BOOST_TEST(reply.stored);
    BOOST_TEST(store->count({}) == 1);
}

BOOST_DATA_TEST_CASE(every_corpus_message_gets_aa_with_its_control_id,
                     bdata::make(corpusMessages()), path)
{
    Fixture f;
    f.channels = test::channelsFrom(R"([{"name": "all"}])");
    const std::string bytes = test::readFile(path);
    hl7v2::Message m;
    core::IssueList issues;
    BOOST_REQUIRE(hl7v2::Er7Parser().parse(bytes, m, issues));
    const routing::Receiver::Reply reply = f.receiver.receive(bytes, "all", "p");
    if (m.messageCode() == "ACK") {
        BOOST_TEST(reply.ack.empty());
        return;
    }
    const Ack a = readAck(reply.ack);
    // Enhanced mode (MSH-15/16 valued) is answered with the accept ACK.
    const std::string expected = hl7v2::ackModeOf(m) == hl7v2::AckMode::Enhanced ? "CA" : "AA";
    BOOST_TEST(a.code == expected, path.string() << ": " << a.code << ' ' << a.errCode);
    BOOST_TEST(a.controlId == std::string(m.controlId()));
}

BOOST_AUTO_TEST_SUITE_END()
