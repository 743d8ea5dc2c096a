#include "gateway/store/message_store.h"

#include "tests/unit/store/store_test_support.h"

#include "gateway/store/detail/store_url.h"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Process.h>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <boost/test/unit_test_monitor.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace store = hl7gw::store;
namespace data = boost::unit_test::data;
using store::Direction;
using store::MessageState;
using namespace std::string_literals;

namespace {

using hl7gw::test::Backend;
using hl7gw::test::Backends;
using hl7gw::test::TestDatabase;
using hl7gw::test::uniqueSuffix;

store::InboundMessage inbound(std::string controlId, std::string sender = "HIS^HOSP",
                              store::Micros at = 1'000'000)
{
    store::InboundMessage m;
    m.channel = "his-adt";
    m.peer = "127.0.0.1:40000";
    m.sender = std::move(sender);
    m.controlId = controlId;
    m.type = "ADT^A01";
    m.raw = "MSH|^~\\&|HIS|HOSP|GW|GW|20261201||ADT^A01|" + controlId + "|P|2.5\rPID|1\r";
    m.ack = "MSH|^~\\&|GW|GW|HIS|HOSP|20261201||ACK|A" + controlId + "|P|2.5\rMSA|AA|" + controlId +
            "\r";
    m.receivedAt = at;
    return m;
}

store::OutboundEntry entry(std::string destination, std::string orderKey, std::string payload)
{
    store::OutboundEntry e;
    e.destination = std::move(destination);
    e.orderKey = std::move(orderKey);
    e.type = "ADT^A01";
    e.controlId = "OUT-" + payload.substr(0, 8);
    e.payload = std::move(payload);
    return e;
}

/// Receives one message and routes it to `entries`; returns the inbound id.
store::MessageId receiveRouted(store::MessageStore& s, const std::string& controlId,
                               std::vector<store::OutboundEntry> entries,
                               store::Micros at = 1'000'000)
{
    const store::MessageId id = s.receive(inbound(controlId, "HIS^HOSP", at)).id;
    store::RoutingResult result;
    result.messageId = id;
    result.state = entries.empty() ? MessageState::Filtered : MessageState::Processed;
    result.entries = std::move(entries);
    s.commitRouting({result}, at + 1);
    return id;
}

std::vector<store::MessageId> idsOf(const std::vector<store::MessageRecord>& records)
{
    std::vector<store::MessageId> ids;
    for (const auto& r : records) {
        ids.push_back(r.id);
    }
    return ids;
}

/// Boost.Test shows an exception's what(), which for POCO exceptions is only the class name.
struct ShowPocoExceptionText {
    ShowPocoExceptionText()
    {
        boost::unit_test::unit_test_monitor.register_exception_translator<Poco::Exception>(
            [](const Poco::Exception& e) { throw std::runtime_error(e.displayText()); });
    }
};

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(ShowPocoExceptionText);

BOOST_TEST_DONT_PRINT_LOG_VALUE(store::MessageState)
BOOST_TEST_DONT_PRINT_LOG_VALUE(store::Direction)

BOOST_AUTO_TEST_SUITE(message_store)

BOOST_DATA_TEST_CASE(receive_and_find_round_trip_every_byte, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    // Sender in GB18030 (中医院).
    store::InboundMessage m = inbound("CTRL-1", "HIS^\xD6\xD0\xD2\xBD\xD4\xBA");
    // NUL, CR, and GB18030 (陳, a four-byte sequence, and a trail byte that is '|').
    m.raw = "MSH|^~\\&|HIS|\xB3\xC2|\x81\x30\x89\x38|\x95|\rOBX|1|ED|\0\x01\xFF\xFE|\r"s;
    m.ack = "MSH|\0ACK\r\xB3\xC2"s;
    m.type = "ADT^A01";
    m.receivedAt = 1'700'000'000'123'456;
    const store::ReceiveOutcome outcome = s->receive(m);
    BOOST_TEST(!outcome.duplicate);
    BOOST_TEST(outcome.id > 0);
    BOOST_TEST(outcome.ack == m.ack);

    const auto found = s->find(outcome.id);
    BOOST_REQUIRE(found);
    BOOST_TEST(found->id == outcome.id);
    BOOST_TEST(found->parentId == 0);
    BOOST_TEST(found->direction == Direction::In);
    BOOST_TEST(found->state == MessageState::Received);
    BOOST_TEST(found->raw == m.raw);
    BOOST_TEST(found->raw.find(std::string(1, '\0')) == 33u);
    BOOST_TEST(found->ack == m.ack);
    BOOST_TEST(found->sender == m.sender);
    BOOST_TEST(found->controlId == "CTRL-1");
    BOOST_TEST(found->channel == "his-adt");
    BOOST_TEST(found->peer == "127.0.0.1:40000");
    BOOST_TEST(found->type == "ADT^A01");
    BOOST_TEST(found->receivedAt == m.receivedAt);
    BOOST_TEST(found->updatedAt == m.receivedAt);
    BOOST_TEST(!s->find(outcome.id + 1000));
}

BOOST_DATA_TEST_CASE(acks_come_back_byte_for_byte_however_they_are_stored, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    // A real ACK echoes its message's MSH (stored deflated against it), an odd one does not
    // (stored as it is); duplicates, find and list all give the bytes back.
    store::InboundMessage echoing = inbound("ACK-1", "HIS^HOSP_A");
    echoing.raw = "MSH|^~\\&|HIS|HOSP_A|GATEWAY|REGIONAL_HUB|20250321085724+0800||ADT^A01^ADT_A01|"
                  "ACK-1|P|2.5.1|||AL|NE|CHN|UNICODE UTF-8\rEVN|A01\rPID|1||1379^^^HOSP_A^MR\r";
    echoing.ack = "MSH|^~\\&|GATEWAY|REGIONAL_HUB|HIS|HOSP_A|20261201120000+0800||ACK^A01^ACK|"
                  "GW1|P|2.5.1|||||CHN|UNICODE UTF-8\rMSA|AA|ACK-1\r";
    store::InboundMessage odd = inbound("ACK-2");
    odd.ack = std::string("\0\xFF", 2);
    store::InboundMessage none = inbound("ACK-3");
    none.ack.clear();
    for (const store::InboundMessage* m : {&echoing, &odd, &none}) {
        const auto first = s->receive(*m);
        BOOST_TEST(first.ack == m->ack);
        BOOST_TEST(s->receive(*m).ack == m->ack);
        BOOST_TEST(s->find(first.id)->ack == m->ack);
    }
    store::MessageQuery all;
    all.withBodies = true;
    const auto records = s->list(all);
    BOOST_REQUIRE(records.size() == 3u);
    BOOST_TEST(records[2].ack == echoing.ack);
    BOOST_TEST(records[1].ack == odd.ack);
    BOOST_TEST(records[0].ack.empty());
}

BOOST_DATA_TEST_CASE(text_fields_with_invalid_bytes_are_stored_as_valid_utf8, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    store::InboundMessage m = inbound("CTRL-T");
    m.type = "AD\xFFT\0"s;
    m.error = "\xB3\xC2 bad";
    m.state = MessageState::Rejected;
    const auto found = s->find(s->receive(m).id);
    BOOST_REQUIRE(found);
    BOOST_TEST(found->type == "AD\xEF\xBF\xBDT\xEF\xBF\xBD");
    BOOST_TEST(found->error == "\xEF\xBF\xBD\xEF\xBF\xBD bad");
}

BOOST_DATA_TEST_CASE(duplicate_returns_original_ack_and_stores_nothing, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    const store::InboundMessage first = inbound("DUP-1");
    const store::ReceiveOutcome original = s->receive(first);

    store::InboundMessage again = inbound("DUP-1");
    again.raw += "ZZZ|changed\r";
    again.ack = "a different ACK";
    again.receivedAt = 2'000'000;
    const store::ReceiveOutcome dup = s->receive(again);
    BOOST_TEST(dup.duplicate);
    BOOST_TEST(dup.id == original.id);
    BOOST_TEST(dup.ack == first.ack);
    BOOST_TEST(s->count({}) == 1);
    BOOST_TEST(s->find(original.id)->raw == first.raw);

    // The same control id from another sender is another message.
    const store::ReceiveOutcome other = s->receive(inbound("DUP-1", "LIS^HOSP"));
    BOOST_TEST(!other.duplicate);
    BOOST_TEST(other.id != original.id);
    BOOST_TEST(s->count({}) == 2);
}

BOOST_DATA_TEST_CASE(concurrent_duplicates_share_one_row_and_its_ack, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    constexpr int Threads = 8;
    constexpr int Keys = 40;
    // Every thread sends the same 40 control ids at once, so batches hold several copies of
    // one key: the first copy is stored, every other one gets its id and ACK.
    std::vector<std::vector<store::ReceiveOutcome>> outcomes(Threads);
    std::latch start(Threads);
    std::vector<std::thread> threads;
    for (int t = 0; t < Threads; ++t) {
        threads.emplace_back([&, t] {
            start.arrive_and_wait();
            for (int k = 0; k < Keys; ++k) {
                store::InboundMessage m = inbound("K" + std::to_string(k));
                m.ack = "ACK from thread " + std::to_string(t);
                outcomes[t].push_back(s->receive(m));
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    BOOST_TEST(s->count({}) == Keys);
    for (int k = 0; k < Keys; ++k) {
        int stored = 0;
        std::set<store::MessageId> ids;
        std::set<std::string> acks;
        for (int t = 0; t < Threads; ++t) {
            const store::ReceiveOutcome& o = outcomes[t][k];
            stored += o.duplicate ? 0 : 1;
            ids.insert(o.id);
            acks.insert(o.ack);
        }
        BOOST_TEST(stored == 1);
        BOOST_TEST(ids.size() == 1u);
        BOOST_TEST(acks.size() == 1u);
        BOOST_TEST(s->find(*ids.begin())->ack == *acks.begin());
    }
}

BOOST_DATA_TEST_CASE(empty_control_id_never_dedupes, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    const auto a = s->receive(inbound(""));
    const auto b = s->receive(inbound(""));
    BOOST_TEST(!a.duplicate);
    BOOST_TEST(!b.duplicate);
    BOOST_TEST(a.id != b.id);
    BOOST_TEST(s->count({}) == 2);
}

BOOST_DATA_TEST_CASE(rejected_messages_are_stored_and_not_routed, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    store::InboundMessage m = inbound("REJ-1");
    m.state = MessageState::Rejected;
    m.type = "";
    m.error = "MSH-9: missing";
    m.ack = "MSA|AR|REJ-1";
    const auto outcome = s->receive(m);
    const auto found = s->find(outcome.id);
    BOOST_REQUIRE(found);
    BOOST_TEST(found->state == MessageState::Rejected);
    BOOST_TEST(found->error == "MSH-9: missing");
    BOOST_TEST(found->ack == "MSA|AR|REJ-1");
    BOOST_TEST(s->pendingRouting(10).empty());
    // A resend is a duplicate and gets the same AR.
    const auto again = s->receive(m);
    BOOST_TEST(again.duplicate);
    BOOST_TEST(again.ack == "MSA|AR|REJ-1");
}

BOOST_DATA_TEST_CASE(commit_routing_writes_states_and_entries_together, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    const store::InboundMessage in1 = inbound("R-1");
    const store::MessageId m1 = s->receive(in1).id;
    const store::MessageId m2 = s->receive(inbound("R-2")).id;
    const store::MessageId m3 = s->receive(inbound("R-3")).id;

    store::RoutingResult r1;
    r1.messageId = m1;
    r1.state = MessageState::Processed;
    r1.entries.push_back(entry("lis", "PAT-1", in1.raw)); // pass-through: same bytes
    r1.entries.push_back(entry("billing", "", "transformed payload"));
    store::RoutingResult r2;
    r2.messageId = m2;
    r2.state = MessageState::Filtered;
    store::RoutingResult r3;
    r3.messageId = m3;
    r3.state = MessageState::Error;
    r3.error = "mapping adt-to-fhir: PID-3 missing";
    s->commitRouting({r1, r2, r3}, 5'000'000);

    BOOST_TEST(s->find(m1)->state == MessageState::Processed);
    BOOST_TEST(s->find(m1)->updatedAt == 5'000'000);
    BOOST_TEST(s->find(m2)->state == MessageState::Filtered);
    BOOST_TEST(s->find(m3)->state == MessageState::Error);
    BOOST_TEST(s->find(m3)->error == "mapping adt-to-fhir: PID-3 missing");
    BOOST_TEST(s->pendingRouting(10).empty());

    const auto entries = s->deliveriesOf(m1);
    BOOST_REQUIRE(entries.size() == 2u);
    BOOST_TEST(entries[0].destination == "lis");
    BOOST_TEST(entries[0].orderKey == "PAT-1");
    BOOST_TEST(entries[0].raw == in1.raw);
    BOOST_TEST(entries[1].destination == "billing");
    BOOST_TEST(entries[1].raw == "transformed payload");
    for (const auto& e : entries) {
        BOOST_TEST(e.direction == Direction::Out);
        BOOST_TEST(e.state == MessageState::Queued);
        BOOST_TEST(e.parentId == m1);
        BOOST_TEST(e.channel == "his-adt");
        BOOST_TEST(e.sender.empty());
        BOOST_TEST(e.type == "ADT^A01");
        BOOST_TEST(e.receivedAt == 5'000'000);
        BOOST_TEST(e.nextAttemptAt == 5'000'000);
        BOOST_TEST(e.attempts == 0);
        BOOST_TEST(s->find(e.id)->raw == e.raw);
    }
    BOOST_TEST(entries[0].controlId == "OUT-MSH|^~\\&");
    BOOST_TEST(s->deliveriesOf(m2).empty());

    // Routing a message that is no longer Received (another router got there first) queues
    // nothing more.
    s->commitRouting({r1}, 6'000'000);
    BOOST_TEST(s->deliveriesOf(m1).size() == 2u);
    BOOST_TEST(s->find(m1)->updatedAt == 5'000'000);
}

BOOST_DATA_TEST_CASE(pending_routing_is_received_messages_oldest_first, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    const auto a = s->receive(inbound("P-1")).id;
    const auto b = s->receive(inbound("P-2")).id;
    store::InboundMessage rejected = inbound("P-3");
    rejected.state = MessageState::Rejected;
    s->receive(rejected);
    const auto c = s->receive(inbound("P-4")).id;

    const auto two = s->pendingRouting(2);
    BOOST_TEST(idsOf(two) == (std::vector<store::MessageId>{a, b}));
    BOOST_TEST(two[0].raw == inbound("P-1").raw);
    BOOST_TEST(idsOf(s->pendingRouting(10)) == (std::vector<store::MessageId>{a, b, c}));
    BOOST_TEST(s->pendingRouting(0).empty());
}

BOOST_DATA_TEST_CASE(claim_keeps_order_per_key_and_runs_keys_in_parallel, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    receiveRouted(*s, "C-1", {entry("lis", "A", "a1"), entry("pacs", "A", "x1")});
    receiveRouted(*s, "C-2", {entry("lis", "A", "a2")});
    receiveRouted(*s, "C-3", {entry("lis", "B", "b1")});
    receiveRouted(*s, "C-4", {entry("lis", "", "n1")});

    const auto first = s->claim("lis", "node-1", 10, 2'000'000, 3'000'000);
    BOOST_REQUIRE(first.size() == 3u); // the head of A, B and ""
    BOOST_TEST(first[0].payload == "a1");
    BOOST_TEST(first[1].payload == "b1");
    BOOST_TEST(first[2].payload == "n1");
    BOOST_TEST(first[0].destination == "lis");
    BOOST_TEST(first[0].orderKey == "A");
    BOOST_TEST(first[0].attempts == 0);
    BOOST_TEST(first[0].parentId > 0);

    // a2 waits while a1 is out; nothing else is due.
    BOOST_TEST(s->claim("lis", "node-1", 10, 2'000'001, 3'000'000).empty());
    // Another destination is a queue of its own.
    const auto pacs = s->claim("pacs", "node-1", 10, 2'000'001, 3'000'000);
    BOOST_REQUIRE(pacs.size() == 1u);
    BOOST_TEST(pacs[0].payload == "x1");

    s->markDelivered(first[0].id, "MSA|AA|a1", 2'000'002);
    const auto next = s->claim("lis", "node-1", 10, 2'000'003, 3'000'000);
    BOOST_REQUIRE(next.size() == 1u);
    BOOST_TEST(next[0].payload == "a2");
    const auto delivered = s->find(first[0].id);
    BOOST_TEST(delivered->state == MessageState::Delivered);
    BOOST_TEST(delivered->ack == "MSA|AA|a1");
    BOOST_TEST(delivered->updatedAt == 2'000'002);

    // limit bounds the batch, oldest first.
    TestDatabase db2(backend);
    auto t = db2.open();
    for (int i = 0; i < 5; ++i) {
        receiveRouted(*t, "L-" + std::to_string(i), {entry("lis", "K" + std::to_string(i), "p")});
    }
    const auto two = t->claim("lis", "n", 2, 2'000'000, 3'000'000);
    BOOST_TEST(two.size() == 2u);
    BOOST_TEST(two[0].id < two[1].id);
    BOOST_TEST(t->claim("lis", "n", 10, 2'000'000, 3'000'000).size() == 3u);
    BOOST_TEST(t->claim("lis", "n", 0, 2'000'000, 3'000'000).empty());
}

BOOST_DATA_TEST_CASE(expired_lease_makes_an_entry_claimable_again, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    receiveRouted(*s, "E-1", {entry("lis", "A", "e1")});
    const auto claimed = s->claim("lis", "node-1", 1, 2'000'000, 2'500'000);
    BOOST_REQUIRE(claimed.size() == 1u);
    BOOST_TEST(s->claim("lis", "node-2", 1, 2'499'999, 3'000'000).empty());
    // node-1 died: at its lease's end the entry goes to whoever claims.
    const auto again = s->claim("lis", "node-2", 1, 2'500'000, 3'000'000);
    BOOST_REQUIRE(again.size() == 1u);
    BOOST_TEST(again[0].id == claimed[0].id);
    BOOST_TEST(again[0].attempts == 0);
}

BOOST_DATA_TEST_CASE(mark_failed_retries_later_then_goes_dead, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    receiveRouted(*s, "F-1", {entry("lis", "A", "f1")});
    receiveRouted(*s, "F-2", {entry("lis", "A", "f2")});
    auto claimed = s->claim("lis", "n", 5, 2'000'000, 3'000'000);
    BOOST_REQUIRE(claimed.size() == 1u);
    const store::MessageId f1 = claimed[0].id;

    s->markFailed(f1, "connection refused", 2'000'010, 2'500'000, false);
    auto record = s->find(f1);
    BOOST_TEST(record->state == MessageState::Queued);
    BOOST_TEST(record->attempts == 1);
    BOOST_TEST(record->error == "connection refused");
    BOOST_TEST(record->nextAttemptAt == 2'500'000);
    BOOST_TEST(record->updatedAt == 2'000'010);
    // Not due yet, and f2 waits behind it.
    BOOST_TEST(s->claim("lis", "n", 5, 2'499'999, 3'000'000).empty());

    claimed = s->claim("lis", "n", 5, 2'500'000, 3'000'000);
    BOOST_REQUIRE(claimed.size() == 1u);
    BOOST_TEST(claimed[0].id == f1);
    BOOST_TEST(claimed[0].attempts == 1);

    s->markFailed(f1, "AR: unknown patient", 2'500'010, 2'600'000, true);
    record = s->find(f1);
    BOOST_TEST(record->state == MessageState::Dead);
    BOOST_TEST(record->attempts == 2);
    BOOST_TEST(record->error == "AR: unknown patient");
    // A dead entry no longer holds up its key.
    claimed = s->claim("lis", "n", 5, 2'500'020, 3'000'000);
    BOOST_REQUIRE(claimed.size() == 1u);
    BOOST_TEST(claimed[0].payload == "f2");
    // A late failure report for an entry that is no longer Queued changes nothing.
    s->markFailed(f1, "late", 2'600'000, 2'700'000, false);
    BOOST_TEST(s->find(f1)->state == MessageState::Dead);
}

BOOST_DATA_TEST_CASE(replay_puts_messages_and_entries_back, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    const store::MessageId m = receiveRouted(*s, "RP-1", {entry("lis", "A", "r1")});
    const store::MessageId out = s->deliveriesOf(m).at(0).id;
    s->claim("lis", "n", 1, 2'000'000, 3'000'000);
    s->markFailed(out, "gave up", 2'000'001, 2'000'002, true);
    BOOST_TEST(s->find(out)->state == MessageState::Dead);

    BOOST_TEST(s->replay(out, 4'000'000));
    auto entryRecord = s->find(out);
    BOOST_TEST(entryRecord->state == MessageState::Queued);
    BOOST_TEST(entryRecord->attempts == 0);
    BOOST_TEST(entryRecord->nextAttemptAt == 4'000'000);
    BOOST_TEST(entryRecord->updatedAt == 4'000'000);
    BOOST_TEST(s->claim("lis", "n", 1, 3'999'999, 5'000'000).empty());
    BOOST_TEST(s->claim("lis", "n", 1, 4'000'000, 5'000'000).size() == 1u);

    BOOST_TEST(s->replay(m, 4'000'001));
    BOOST_TEST(s->find(m)->state == MessageState::Received);
    BOOST_TEST(idsOf(s->pendingRouting(10)) == (std::vector<store::MessageId>{m}));
    // Routing it again makes new entries.
    store::RoutingResult again;
    again.messageId = m;
    again.entries.push_back(entry("lis", "A", "r1 again"));
    s->commitRouting({again}, 4'000'002);
    BOOST_TEST(s->deliveriesOf(m).size() == 2u);

    BOOST_TEST(!s->replay(out + 1000, 4'000'003));
}

BOOST_DATA_TEST_CASE(replay_takes_a_real_time, Backends, backend)
{
    // Microseconds since 1970 do not fit 32 bits: PostgreSQL once typed the parameter from
    // the CASE's integer literal and refused every replay outside the tests' small clocks.
    TestDatabase db(backend);
    auto s = db.open();
    const store::Micros now = 1'796'175'486'307'829;
    const store::MessageId m = receiveRouted(*s, "RP-2", {entry("lis", "A", "r1")});
    const store::MessageId out = s->deliveriesOf(m).at(0).id;
    BOOST_TEST(s->replay(out, now));
    BOOST_TEST(s->find(out)->nextAttemptAt == now);
    BOOST_TEST(s->find(out)->updatedAt == now);
    BOOST_TEST(s->replay(m, now + 1));
    BOOST_TEST(s->find(m)->state == MessageState::Received);
    BOOST_TEST(s->find(m)->updatedAt == now + 1);
}

BOOST_DATA_TEST_CASE(list_and_count_filter_and_sort_newest_first, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    const auto put = [&](const std::string& id, const std::string& type, store::Micros at,
                         MessageState state, const std::string& channel = "his-adt") {
        store::InboundMessage m = inbound(id, "HIS^HOSP", at);
        m.type = type;
        m.state = state;
        m.channel = channel;
        return s->receive(m).id;
    };
    const auto a01 = put("1", "ADT^A01", 100, MessageState::Received);
    const auto a08 = put("2", "ADT^A08", 200, MessageState::Received);
    const auto adt = put("3", "ADT", 300, MessageState::Rejected);
    const auto adtx = put("4", "ADTX^Z01", 400, MessageState::Received);
    const auto oru = put("5", "ORU^R01", 500, MessageState::Received, "lis-results");
    store::RoutingResult routed;
    routed.messageId = oru;
    routed.entries.push_back(entry("fhir", "", "bundle"));
    routed.entries.back().type = "Bundle";
    s->commitRouting({routed}, 600);
    const auto outId = s->deliveriesOf(oru).at(0).id;

    using Ids = std::vector<store::MessageId>;
    store::MessageQuery all;
    BOOST_TEST(idsOf(s->list(all)) == (Ids{outId, oru, adtx, adt, a08, a01}));
    BOOST_TEST(s->count(all) == 6);

    store::MessageQuery byType;
    byType.type = "ADT";
    BOOST_TEST(idsOf(s->list(byType)) == (Ids{adt, a08, a01}));
    BOOST_TEST(s->count(byType) == 3);
    byType.type = "ADT^A08";
    BOOST_TEST(idsOf(s->list(byType)) == (Ids{a08}));
    BOOST_TEST(s->count(byType) == 1);

    store::MessageQuery byState;
    byState.state = MessageState::Received;
    BOOST_TEST(idsOf(s->list(byState)) == (Ids{adtx, a08, a01}));
    byState.state = MessageState::Queued;
    BOOST_TEST(idsOf(s->list(byState)) == (Ids{outId}));

    store::MessageQuery since;
    since.since = 300;
    BOOST_TEST(idsOf(s->list(since)) == (Ids{outId, oru, adtx, adt}));
    BOOST_TEST(s->count(since) == 4);

    store::MessageQuery out;
    out.direction = Direction::Out;
    BOOST_TEST(idsOf(s->list(out)) == (Ids{outId}));
    out.direction = Direction::In;
    BOOST_TEST(s->count(out) == 5);

    store::MessageQuery channel;
    channel.channel = "lis-results";
    BOOST_TEST(idsOf(s->list(channel)) == (Ids{outId, oru}));

    store::MessageQuery combined;
    combined.type = "ADT";
    combined.state = MessageState::Received;
    combined.since = 150;
    combined.direction = Direction::In;
    BOOST_TEST(idsOf(s->list(combined)) == (Ids{a08}));
    BOOST_TEST(s->count(combined) == 1);

    store::MessageQuery limited;
    limited.limit = 2;
    BOOST_TEST(idsOf(s->list(limited)) == (Ids{outId, oru}));
    BOOST_TEST(s->count(limited) == 6); // count ignores limit
    limited.limit = 0;
    BOOST_TEST(s->list(limited).size() == 6u);

    // Bodies only when asked for.
    BOOST_TEST(s->list(all).back().raw.empty());
    BOOST_TEST(s->list(all).back().ack.empty());
    BOOST_TEST(s->list(all).back().controlId == "1");
    all.withBodies = true;
    BOOST_TEST(s->list(all).back().raw == inbound("1").raw);
    BOOST_TEST(s->list(all).front().raw == "bundle");
}

BOOST_DATA_TEST_CASE(deliveries_and_queue_depths, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    const auto m1 = receiveRouted(*s, "Q-1", {entry("lis", "", "1"), entry("pacs", "", "2")}, 100);
    receiveRouted(*s, "Q-2", {entry("lis", "", "3")}, 200);
    receiveRouted(*s, "Q-3", {entry("lis", "K", "4")}, 300);
    const auto d1 = s->deliveriesOf(m1);
    BOOST_REQUIRE(d1.size() == 2u);
    BOOST_TEST(d1[0].destination == "lis");
    BOOST_TEST(d1[1].destination == "pacs");
    BOOST_TEST(d1[0].id < d1[1].id);

    auto depths = s->queueDepths();
    BOOST_REQUIRE(depths.size() == 2u);
    BOOST_TEST(depths[0].destination == "lis");
    BOOST_TEST(depths[0].queued == 3);
    BOOST_TEST(depths[0].oldestQueuedAt == 101);
    BOOST_TEST(depths[0].dead == 0);
    BOOST_TEST(depths[1].destination == "pacs");
    BOOST_TEST(depths[1].queued == 1);

    // pacs: its one entry goes dead; lis: the oldest is delivered.
    auto pacs = s->claim("pacs", "n", 1, 1000, 2000);
    s->markFailed(pacs.at(0).id, "down", 1001, 1002, true);
    auto lis = s->claim("lis", "n", 1, 1000, 2000);
    s->markDelivered(lis.at(0).id, "AA", 1003);
    depths = s->queueDepths();
    BOOST_REQUIRE(depths.size() == 2u);
    BOOST_TEST(depths[0].queued == 2);
    BOOST_TEST(depths[0].oldestQueuedAt == 201);
    BOOST_TEST(depths[1].destination == "pacs");
    BOOST_TEST(depths[1].queued == 0);
    BOOST_TEST(depths[1].oldestQueuedAt == 0);
    BOOST_TEST(depths[1].dead == 1);
}

BOOST_DATA_TEST_CASE(prune_deletes_finished_work_and_keeps_queued_and_dead, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    const store::Micros old = 1'000;
    const auto delivered =
        receiveRouted(*s, "PR-1", {entry("lis", "", "1"), entry("pacs", "", "2")}, old);
    for (const char* destination : {"lis", "pacs"}) {
        for (const auto& c : s->claim(destination, "n", 10, 2'000, 3'000)) {
            s->markDelivered(c.id, "AA", 2'001);
        }
    }
    const auto queued = receiveRouted(*s, "PR-2", {entry("lis", "", "3")}, old);
    const auto dead = receiveRouted(*s, "PR-3", {entry("billing", "", "4")}, old);
    s->markFailed(s->claim("billing", "n", 1, 2'000, 3'000).at(0).id, "no", 2'001, 2'002, true);
    const auto filtered = receiveRouted(*s, "PR-4", {}, old);
    store::InboundMessage rejectedMessage = inbound("PR-5", "HIS^HOSP", old);
    rejectedMessage.state = MessageState::Rejected;
    const auto rejected = s->receive(rejectedMessage).id;
    const auto received = s->receive(inbound("PR-6", "HIS^HOSP", old)).id;
    const auto error = s->receive(inbound("PR-7", "HIS^HOSP", old)).id;
    store::RoutingResult failed;
    failed.messageId = error;
    failed.state = MessageState::Error;
    s->commitRouting({failed}, old + 1);
    const auto recent = receiveRouted(*s, "PR-8", {}, 10'000);
    const auto deliveredEntries = s->deliveriesOf(delivered);

    // delivered (+2 entries), filtered and rejected: 5 rows.
    BOOST_TEST(s->prune(5'000) == 5);
    BOOST_TEST(!s->find(delivered));
    for (const auto& e : deliveredEntries) {
        BOOST_TEST(!s->find(e.id));
    }
    BOOST_TEST(!s->find(filtered));
    BOOST_TEST(!s->find(rejected));
    for (const auto id : {queued, dead, received, error, recent}) {
        BOOST_TEST(s->find(id).has_value());
    }
    BOOST_TEST(s->deliveriesOf(queued).size() == 1u);
    BOOST_TEST(s->deliveriesOf(dead).size() == 1u);
    BOOST_TEST(s->prune(5'000) == 0);
}

BOOST_DATA_TEST_CASE(ids_are_never_reused_after_prune, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    store::InboundMessage m = inbound("ID-1");
    m.state = MessageState::Rejected;
    const auto first = s->receive(m).id;
    BOOST_TEST(s->prune(2'000'000) == 1);
    BOOST_TEST(s->receive(inbound("ID-2")).id > first);
}

BOOST_DATA_TEST_CASE(prune_works_through_many_batches, Backends, backend)
{
    TestDatabase db(backend);
    auto s = db.open();
    constexpr int Threads = 8;
    constexpr int PerThread = 320; // 2,560 rows: three batches of at most 1,000
    std::vector<std::thread> threads;
    for (int t = 0; t < Threads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < PerThread; ++i) {
                store::InboundMessage m =
                    inbound(std::to_string(t) + "-" + std::to_string(i), "HIS^HOSP", 100);
                m.state = MessageState::Rejected;
                s->receive(m);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    const auto kept = s->receive(inbound("KEEP", "HIS^HOSP", 100)).id;
    BOOST_TEST(s->prune(200) == Threads * PerThread);
    BOOST_TEST(s->count({}) == 1);
    BOOST_TEST(s->find(kept).has_value());
}

BOOST_DATA_TEST_CASE(two_stores_on_one_database_never_claim_the_same_entry, Backends, backend)
{
    TestDatabase db(backend);
    auto a = db.open();
    auto b = db.open();
    constexpr int Entries = 120;
    {
        std::vector<store::RoutingResult> results;
        for (int i = 0; i < Entries; ++i) {
            store::RoutingResult r;
            r.messageId = a->receive(inbound("TS-" + std::to_string(i))).id;
            // Every third entry shares key "X", so order per key is exercised across stores.
            r.entries.push_back(
                entry("lis", i % 3 == 0 ? "X" : "K" + std::to_string(i), "p" + std::to_string(i)));
            results.push_back(std::move(r));
        }
        a->commitRouting(results, 10);
    }
    std::mutex mutex;
    std::map<store::MessageId, int> claims;
    std::vector<store::MessageId> keyOrder;
    std::atomic<int> delivered{0};
    std::latch start(4);
    const auto worker = [&](store::MessageStore& s, const std::string& owner) {
        start.arrive_and_wait();
        int idle = 0;
        while (delivered.load() < Entries && idle < 2000) {
            const auto claimed = s.claim("lis", owner, 4, 1'000, 1'000'000'000);
            if (claimed.empty()) {
                ++idle;
                std::this_thread::yield();
                continue;
            }
            for (const auto& c : claimed) {
                {
                    std::lock_guard lock(mutex);
                    ++claims[c.id];
                    if (c.orderKey == "X") {
                        keyOrder.push_back(c.id);
                    }
                }
                s.markDelivered(c.id, "AA", 2'000);
                ++delivered;
            }
        }
    };
    std::vector<std::thread> threads;
    threads.emplace_back(worker, std::ref(*a), "a1");
    threads.emplace_back(worker, std::ref(*a), "a2");
    threads.emplace_back(worker, std::ref(*b), "b1");
    threads.emplace_back(worker, std::ref(*b), "b2");
    for (auto& thread : threads) {
        thread.join();
    }
    BOOST_TEST(claims.size() == static_cast<std::size_t>(Entries));
    for (const auto& [id, times] : claims) {
        BOOST_TEST(times == 1, "entry " << id << " claimed " << times << " times");
    }
    BOOST_TEST(std::is_sorted(keyOrder.begin(), keyOrder.end()));
    BOOST_TEST(keyOrder.size() == static_cast<std::size_t>(Entries / 3));
}

BOOST_DATA_TEST_CASE(two_stores_on_one_database_store_a_message_once, Backends, backend)
{
    // Two nodes behind one load balancer, a sender that resends to both at once.
    TestDatabase db(backend);
    auto a = db.open();
    auto b = db.open();
    constexpr int Keys = 30;
    std::vector<store::ReceiveOutcome> fromA(Keys);
    std::vector<store::ReceiveOutcome> fromB(Keys);
    std::latch start(4);
    std::mutex failuresMutex;
    std::vector<std::string> failures;
    const auto send = [&](store::MessageStore& s, std::vector<store::ReceiveOutcome>& out,
                          bool reverse, const std::string& node) {
        start.arrive_and_wait();
        for (int i = 0; i < Keys; ++i) {
            const int k = reverse ? Keys - 1 - i : i;
            store::InboundMessage m = inbound("N" + std::to_string(k));
            m.ack = "ACK via " + node;
            try {
                out[k] = s.receive(m);
            } catch (const Poco::Exception& e) {
                std::lock_guard lock(failuresMutex);
                failures.push_back(e.displayText());
            }
        }
    };
    std::vector<store::ReceiveOutcome> fromA2(Keys);
    std::vector<store::ReceiveOutcome> fromB2(Keys);
    std::vector<std::thread> threads;
    threads.emplace_back(send, std::ref(*a), std::ref(fromA), false, "a");
    threads.emplace_back(send, std::ref(*b), std::ref(fromB), true, "b");
    threads.emplace_back(send, std::ref(*a), std::ref(fromA2), true, "a2");
    threads.emplace_back(send, std::ref(*b), std::ref(fromB2), false, "b2");
    for (auto& thread : threads) {
        thread.join();
    }
    BOOST_TEST(failures.empty(), (failures.empty() ? "" : failures.front()));
    BOOST_TEST(a->count({}) == Keys);
    for (int k = 0; k < Keys; ++k) {
        const auto& outcomes = {fromA[k], fromB[k], fromA2[k], fromB2[k]};
        int stored = 0;
        for (const auto& o : outcomes) {
            stored += o.duplicate ? 0 : 1;
            BOOST_TEST(o.id == fromA[k].id);
            BOOST_TEST(o.ack == fromA[k].ack);
        }
        BOOST_TEST(stored == 1);
    }
}

BOOST_DATA_TEST_CASE(reopening_keeps_messages_and_schema, Backends, backend)
{
    TestDatabase db(backend);
    store::MessageId id = 0;
    {
        auto s = db.open();
        id = s->receive(inbound("RO-1")).id;
    }
    auto s = db.open();
    BOOST_TEST(s->find(id)->controlId == "RO-1");
    BOOST_TEST(s->receive(inbound("RO-1")).duplicate);
}

BOOST_DATA_TEST_CASE(ping_and_describe_without_password, Backends, backend)
{
    TestDatabase db(backend);
    if (backend == Backend::Sqlite) {
        auto s = db.open();
        s->ping();
        BOOST_TEST(s->describe() == db.url());
        return;
    }
    // Trust authentication ignores the password; describe() must not show it either way.
    std::string url = db.url();
    const std::size_t at = url.find('@');
    BOOST_REQUIRE(at != std::string::npos);
    url.insert(at, ":s3cr%40t");
    store::StoreConfig config;
    config.url = url;
    auto s = store::openStore(config);
    s->ping();
    const std::string text = s->describe();
    BOOST_TEST(text.find("s3cr") == std::string::npos);
    BOOST_TEST(text.rfind("postgresql://", 0) == 0u);
    BOOST_TEST(text.find("/hl7gw_test") != std::string::npos);
}

BOOST_DATA_TEST_CASE(a_database_that_cannot_be_opened_is_a_store_error, Backends, backend)
{
    TestDatabase db(backend);
    store::StoreConfig config;
    if (backend == Backend::Sqlite) {
        // The parent "directory" is a regular file.
        auto s = db.open();
        const std::string path = db.url().substr(7);
        config.url = "sqlite:" + path + "/inside/store.db";
    } else {
        // Nothing listens on port 1.
        config.url = "postgresql://postgres:secret@127.0.0.1:1/hl7gw_test";
    }
    BOOST_CHECK_THROW(store::openStore(config), store::StoreError);
    try {
        store::openStore(config);
    } catch (const store::StoreError& e) {
        BOOST_TEST(e.displayText().find("secret") == std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(a_postgresql_store_reconnects_after_losing_its_connections)
{
    TestDatabase db(Backend::Postgresql);
    auto s = db.open();
    const auto first = s->receive(inbound("RC-1")).id;
    BOOST_TEST(s->find(first).has_value());
    db.dropConnections();
    // The calls that find their connection gone fail; the next ones reconnect.
    const auto eventually = [](const auto& call) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            try {
                return call();
            } catch (const store::StoreError&) {
            }
        }
        return call();
    };
    const auto second = eventually([&] { return s->receive(inbound("RC-2")).id; });
    BOOST_TEST(second > first);
    BOOST_TEST(eventually([&] { return s->find(first).has_value(); }));
    BOOST_TEST(s->count({}) == 2);
    s->ping();
}

// The page size is bytes 16-17 of an SQLite file's header, big-endian.
int sqliteFilePageSize(const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    unsigned char header[18] = {};
    file.read(reinterpret_cast<char*>(header), sizeof header);
    BOOST_REQUIRE(file.gcount() == static_cast<std::streamsize>(sizeof header));
    return header[16] << 8 | header[17];
}

BOOST_AUTO_TEST_CASE(sqlite_page_size_applies_when_the_file_is_created)
{
    TestDatabase db(Backend::Sqlite);
    const std::string path = db.url().substr(7);
    store::StoreConfig config;
    config.url = db.url();
    BOOST_TEST(config.sqlitePageSize == 4096);
    config.sqlitePageSize = 8192;
    store::openStore(config)->receive(inbound("PS-1"));
    BOOST_TEST(sqliteFilePageSize(path) == 8192);
    // An existing file keeps its pages (SQLite changes them only on VACUUM) and its data.
    config.sqlitePageSize = 4096;
    auto reopened = store::openStore(config);
    BOOST_TEST(reopened->count({}) == 1);
    BOOST_TEST(sqliteFilePageSize(path) == 8192);
}

BOOST_AUTO_TEST_CASE(a_url_of_another_scheme_is_a_config_error)
{
    for (const char* url : {"mysql://root@localhost/db", "var/hl7gw.db", "sqlite:", "",
                            "sqlite::memory:", "postgresql://u@h:port/db"}) {
        store::StoreConfig config;
        config.url = url;
        BOOST_CHECK_THROW(store::openStore(config), hl7gw::core::ConfigError);
    }
}

BOOST_AUTO_TEST_CASE(state_names_round_trip)
{
    for (MessageState state : {MessageState::Received, MessageState::Processed,
                               MessageState::Filtered, MessageState::Rejected, MessageState::Error,
                               MessageState::Queued, MessageState::Delivered, MessageState::Dead}) {
        BOOST_TEST((store::parseMessageState(store::toString(state)) == state));
    }
    BOOST_TEST(store::toString(MessageState::Dead) == "dead");
    BOOST_TEST((store::parseMessageState("Delivered") == MessageState::Delivered));
    BOOST_TEST(!store::parseMessageState("sent"));
    BOOST_TEST(store::toString(Direction::In) == "in");
    BOOST_TEST(store::toString(Direction::Out) == "out");
}

BOOST_AUTO_TEST_SUITE_END()
