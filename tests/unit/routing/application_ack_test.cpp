// Enhanced mode's application ACKs (STANDARDS.md §1.6): the accept ACK on the connection,
// the outcome as a message of its own through the channel's application_ack destination.
#include "gateway/core/errors.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/routing/engine.h"
#include "gateway/transport/mllp.h"
#include "tests/unit/routing/routing_support.h"

#include <boost/test/unit_test.hpp>

#include <mutex>

using namespace hl7gw;

namespace {

// The sender's own listener, where its application ACKs arrive. It records every frame and
// answers each with an ACK of its own when `answers` is set: some systems acknowledge ACKs,
// and the gateway must neither wait for that nor take it for the next answer.
class SenderListener {
  public:
    explicit SenderListener(bool answers)
        : answers_(answers),
          server_(transport::MllpListenerConfig{"sender", {"127.0.0.1", 0}, std::nullopt},
                  [this](std::string_view message, const transport::ConnectionInfo&) {
                      std::lock_guard lock(mutex_);
                      frames_.emplace_back(message);
                      return answers_ ? std::string("MSH|^~\\&|HIS|HOSP|GW|GW|20261201||ACK|X" +
                                                    std::to_string(frames_.size()) +
                                                    "|P|2.5.1\rMSA|AA|whatever\r")
                                      : std::string();
                  })
    {
        server_.start();
    }
    ~SenderListener() { server_.stop(); }

    std::uint16_t port() const { return server_.port(); }
    std::vector<std::string> frames()
    {
        std::lock_guard lock(mutex_);
        return frames_;
    }

  private:
    const bool answers_;
    std::mutex mutex_;
    std::vector<std::string> frames_;
    transport::MllpServer server_;
};

struct Ack {
    std::string code;
    std::string acknowledged;  // MSA-2
    std::string errCode;       // ERR-3.1
    std::string receiver;      // MSH-5^MSH-6
    std::string type;          // MSH-9
    std::string acceptAckType; // MSH-15
};

Ack readAck(const std::string& bytes)
{
    hl7v2::Message m;
    core::IssueList issues;
    BOOST_REQUIRE_MESSAGE(hl7v2::Er7Parser().parse(bytes, m, issues), "ACK does not parse");
    const auto msa = m.findSegment("MSA");
    BOOST_REQUIRE(msa.has_value());
    Ack a;
    a.code = std::string(msa->field(1).raw());
    a.acknowledged = std::string(msa->field(2).raw());
    if (const auto err = m.findSegment("ERR")) {
        a.errCode = std::string(err->field(3).component(1).raw());
    }
    const hl7v2::SegmentView msh = m.header();
    a.receiver = std::string(msh.field(5).raw()) + "^" + std::string(msh.field(6).raw());
    a.type = std::string(msh.field(9).raw());
    a.acceptAckType = std::string(msh.field(15).raw());
    return a;
}

// An ADT^A01 asking for the given accept (MSH-15) and application (MSH-16) ACKs.
std::string adtAsking(const std::string& controlId, const std::string& accept,
                      const std::string& application)
{
    std::string m = test::adt(controlId);
    const std::string version = "|P|2.5.1";
    m.replace(m.find(version), version.size(), version + "|||" + accept + "|" + application);
    return m;
}

struct Fixture {
    test::TempDir dir;
    store::MessageStorePtr store = store::openStore({"sqlite:" + dir.file("gw.db")});
    core::MetricsRegistry metrics;

    routing::ChannelSetPtr channelsTo(std::uint16_t port)
    {
        return test::channelsFrom(R"([{"name": "his", "validate": true,
            "application_ack": "his-acks",
            "destinations": [
              {"name": "archive", "type": "file", "directory": ")" +
                                  dir.file("out") + R"("},
              {"name": "his-acks", "type": "mllp", "to": "127.0.0.1:)" +
                                  std::to_string(port) + R"(", "order_key": "",
               "ack_timeout_ms": 2000, "connect_timeout_ms": 500,
               "retry": {"initial_backoff_ms": 20, "max_backoff_ms": 100}}]}])");
    }

    std::int64_t count(store::Direction direction, const std::string& type)
    {
        store::MessageQuery q;
        q.direction = direction;
        q.type = type;
        return store->count(q);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(application_ack)

BOOST_FIXTURE_TEST_CASE(a_stored_message_gets_ca_then_an_application_aa_at_the_senders_listener,
                        Fixture)
{
    SenderListener listener(/*answers=*/true);
    routing::Engine engine(*store, metrics, core::SystemClock::instance(),
                           channelsTo(listener.port()), "node-a");
    engine.start();
    const Ack accept =
        readAck(engine.receiver().receive(adtAsking("E1", "AL", "AL"), "his", "t").ack);
    const Ack accept2 =
        readAck(engine.receiver().receive(adtAsking("E2", "AL", "AL"), "his", "t").ack);
    BOOST_TEST(accept.code == "CA");
    BOOST_TEST(accept2.code == "CA");
    BOOST_TEST(test::waitFor([&] { return listener.frames().size() == 2; }));
    engine.stop();

    const std::vector<std::string> frames = listener.frames();
    BOOST_REQUIRE(frames.size() == 2U);
    const Ack first = readAck(frames[0]);
    BOOST_TEST(first.code == "AA");
    BOOST_TEST(first.acknowledged == "E1");
    BOOST_TEST(first.receiver == "HIS^HOSP"); // back to the sender's MSH-3/4
    BOOST_TEST(first.type == "ACK^A01^ACK");
    BOOST_TEST(first.acceptAckType.empty()); // an ACK asks for no ACK
    BOOST_TEST(readAck(frames[1]).acknowledged == "E2");
    // The archive got the messages, the ACK destination only the ACKs.
    BOOST_TEST(count(store::Direction::Out, "ADT") == 2);
    store::MessageQuery delivered;
    delivered.direction = store::Direction::Out;
    delivered.type = "ACK";
    delivered.state = store::MessageState::Delivered;
    BOOST_TEST(store->count(delivered) == 2);
}

BOOST_FIXTURE_TEST_CASE(a_content_error_is_accepted_ca_and_refused_in_an_application_ae, Fixture)
{
    SenderListener listener(/*answers=*/false);
    routing::Engine engine(*store, metrics, core::SystemClock::instance(),
                           channelsTo(listener.port()), "node-a");
    engine.start();
    std::string broken = adtAsking("E3", "AL", "AL");
    broken.replace(broken.find("P1^^^HOSP^MR"), 12, ""); // PID-3 is required
    const Ack accept = readAck(engine.receiver().receive(broken, "his", "t").ack);
    BOOST_TEST(accept.code == "CA");
    BOOST_TEST(accept.errCode.empty()); // the error is the application ACK's to tell
    BOOST_TEST(test::waitFor([&] { return listener.frames().size() == 1; }));
    engine.stop();
    const Ack application = readAck(listener.frames().at(0));
    BOOST_TEST(application.code == "AE");
    BOOST_TEST(application.acknowledged == "E3");
    BOOST_TEST(application.errCode == "101");
    store::MessageQuery rejected;
    rejected.state = store::MessageState::Rejected;
    BOOST_TEST(store->count(rejected) == 1); // kept, never dropped
    BOOST_TEST(count(store::Direction::Out, "ADT") == 0);
}

BOOST_FIXTURE_TEST_CASE(msh_16_says_which_application_acks_are_sent, Fixture)
{
    // No engine: what is queued is read from the store.
    test::ManualClock clock;
    const routing::ChannelSetPtr channels = channelsTo(9); // never dialled
    routing::Receiver receiver{*store, metrics, clock, [&] { return channels; }, nullptr};
    std::string bad = adtAsking("X", "AL", "AL");
    bad.replace(bad.find("P1^^^HOSP^MR"), 12, "");
    auto badWith = [&](const std::string& controlId, const std::string& accept,
                       const std::string& application) {
        std::string m = bad;
        m.replace(m.find("|X|"), 3, "|" + controlId + "|");
        m.replace(m.find("|AL|AL"), 6, "|" + accept + "|" + application);
        return m;
    };
    auto applicationAcks = [&] { return count(store::Direction::Out, "ACK"); };

    BOOST_TEST(readAck(receiver.receive(adtAsking("S1", "AL", "NE"), "his", "t").ack).code == "CA");
    BOOST_TEST(applicationAcks() == 0); // NE: never
    receiver.receive(adtAsking("S2", "AL", "ER"), "his", "t");
    BOOST_TEST(applicationAcks() == 0); // ER: only for an error
    receiver.receive(adtAsking("S3", "AL", "SU"), "his", "t");
    BOOST_TEST(applicationAcks() == 1); // SU: success
    receiver.receive(badWith("S4", "AL", "SU"), "his", "t");
    BOOST_TEST(applicationAcks() == 1);
    receiver.receive(badWith("S5", "AL", "ER"), "his", "t");
    BOOST_TEST(applicationAcks() == 2);
    // MSH-16 empty asks for none: the error stays in the accept ACK.
    BOOST_TEST(readAck(receiver.receive(badWith("S6", "AL", ""), "his", "t").ack).code == "CE");
    BOOST_TEST(applicationAcks() == 2);

    // MSH-15 is answered on the connection whatever it says: the sender waits for it.
    BOOST_TEST(readAck(receiver.receive(adtAsking("S7", "NE", "AL"), "his", "t").ack).code == "CA");
    BOOST_TEST(readAck(receiver.receive(adtAsking("S8", "ER", "AL"), "his", "t").ack).code == "CA");
    BOOST_TEST(applicationAcks() == 4);
    // A resend is a duplicate: its original answer again, and no second application ACK.
    const routing::Receiver::Reply again =
        receiver.receive(adtAsking("S7", "NE", "AL"), "his", "t");
    BOOST_TEST(again.stored);
    BOOST_TEST(readAck(again.ack).acknowledged == "S7");
    BOOST_TEST(applicationAcks() == 4);
}

BOOST_AUTO_TEST_CASE(application_ack_must_name_a_destination_of_its_channel)
{
    BOOST_CHECK_EXCEPTION(test::channelsFrom(R"([{"name": "his", "application_ack": "nowhere",
        "destinations": [{"name": "archive", "type": "file", "directory": "/tmp"}]}])"),
                          core::ConfigError, [](const core::ConfigError& e) {
                              const std::string text = e.message();
                              return text.find("application_ack") != std::string::npos &&
                                     text.find("nowhere") != std::string::npos;
                          });
}

BOOST_AUTO_TEST_SUITE_END()
