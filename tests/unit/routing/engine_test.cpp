#include "gateway/routing/engine.h"

#include "gateway/hl7v2/ack_builder.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/transport/mllp.h"
#include "tests/unit/routing/routing_support.h"

#include <boost/test/unit_test.hpp>

#include <map>
#include <mutex>

using namespace hl7gw;

namespace {

// A partner system on 127.0.0.1: answers every message with an ACK whose code the test
// sets, and records what it received in order.
class FakePeer {
  public:
    FakePeer()
        : server_(transport::MllpListenerConfig{"peer", {"127.0.0.1", 0}, std::nullopt},
                  [this](std::string_view message, const transport::ConnectionInfo&) {
                      return answer(message);
                  })
    {
        server_.start();
    }
    ~FakePeer() { server_.stop(); }

    std::uint16_t port() const { return server_.port(); }
    void setCode(hl7v2::AckCode code)
    {
        std::lock_guard lock(mutex_);
        code_ = code;
    }
    std::vector<std::string> controlIds(const std::string& patient)
    {
        std::lock_guard lock(mutex_);
        return byPatient_[patient];
    }
    std::size_t received()
    {
        std::lock_guard lock(mutex_);
        return count_;
    }

  private:
    std::string answer(std::string_view bytes)
    {
        hl7v2::Message m;
        core::IssueList issues;
        hl7v2::Er7Parser().parse(bytes, m, issues);
        hl7v2::AckRequest request;
        request.controlId = "P" + std::to_string(count_);
        request.timestamp = "20261201";
        std::string ack;
        std::lock_guard lock(mutex_);
        request.code = code_;
        if (code_ == hl7v2::AckCode::ApplicationAccept) {
            ++count_;
            byPatient_[std::string(m.findSegment("PID")->field(3).component(1).raw())].push_back(
                std::string(m.controlId()));
        }
        hl7v2::AckBuilder().build(&m, request, ack, issues);
        return ack;
    }

    std::mutex mutex_;
    hl7v2::AckCode code_ = hl7v2::AckCode::ApplicationAccept;
    std::map<std::string, std::vector<std::string>> byPatient_;
    std::size_t count_ = 0;
    transport::MllpServer server_;
};

struct Fixture {
    test::TempDir dir;
    store::MessageStorePtr store = store::openStore({"sqlite:" + dir.file("gw.db")});
    core::MetricsRegistry metrics;

    routing::ChannelSetPtr channelsTo(std::uint16_t port, int maxAttempts = 1000)
    {
        return test::channelsFrom(R"([{"name": "his", "destinations": [
            {"name": "lis", "type": "mllp", "to": "127.0.0.1:)" +
                                  std::to_string(port) +
                                  R"(", "workers": 4, "ack_timeout_ms": 2000,
             "connect_timeout_ms": 500,
             "retry": {"max_attempts": )" +
                                  std::to_string(maxAttempts) +
                                  R"(, "initial_backoff_ms": 20, "max_backoff_ms": 100}},
            {"name": "a01-archive", "type": "file", "directory": ")" +
                                  dir.file("out") + R"(",
             "filters": [{"type": "message_type", "types": ["ADT^A01"]}]}]}])");
    }

    std::int64_t countState(store::MessageState s)
    {
        store::MessageQuery q;
        q.state = s;
        return store->count(q);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(engine)

BOOST_FIXTURE_TEST_CASE(routes_to_each_destination_that_wants_the_message, Fixture)
{
    FakePeer peer;
    routing::Engine engine(*store, metrics, core::SystemClock::instance(), channelsTo(peer.port()),
                           "node-a");
    engine.start();
    engine.receiver().receive(test::adt("M1", "P1", "A01"), "his", "t");
    engine.receiver().receive(test::adt("M2", "P1", "A08"), "his", "t");
    BOOST_TEST(test::waitFor([&] { return countState(store::MessageState::Delivered) == 3; }));
    engine.stop();
    BOOST_TEST(peer.controlIds("P1") == (std::vector<std::string>{"M1", "M2"}));
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path() / "out")) {
        (void)e;
        ++files;
    }
    BOOST_TEST(files == 1U);
    BOOST_TEST(countState(store::MessageState::Processed) == 2);
}

BOOST_FIXTURE_TEST_CASE(a_destination_that_was_down_gets_everything_in_order_per_key, Fixture)
{
    // Reserve a port, leave it closed while messages arrive, then open the peer on it.
    std::uint16_t port = 0;
    {
        FakePeer probe;
        port = probe.port();
    }
    routing::Engine engine(*store, metrics, core::SystemClock::instance(), channelsTo(port),
                           "node-a");
    engine.start();
    const int patients = 5;
    const int perPatient = 20;
    for (int i = 0; i < perPatient; ++i) {
        for (int p = 0; p < patients; ++p) {
            engine.receiver().receive(test::adt("M" + std::to_string(p) + "-" + std::to_string(i),
                                                "P" + std::to_string(p), "A08"),
                                      "his", "t");
        }
    }
    BOOST_TEST(test::waitFor([&] {
        store::MessageQuery q;
        q.direction = store::Direction::Out;
        q.state = store::MessageState::Queued;
        return store->count(q) == patients * perPatient;
    }));
    std::unique_ptr<FakePeer> peer;
    BOOST_TEST(test::waitFor([&] {
        try {
            peer = std::make_unique<FakePeer>();
        } catch (...) {
            return false;
        }
        return true;
    }));
    // The fake peer binds port 0; re-point the channel at it (a reload, as SIGHUP does).
    engine.reload(channelsTo(peer->port()));
    BOOST_TEST(test::waitFor(
        [&] { return countState(store::MessageState::Delivered) == patients * perPatient; }, 30));
    engine.stop();
    for (int p = 0; p < patients; ++p) {
        std::vector<std::string> expected;
        for (int i = 0; i < perPatient; ++i) {
            expected.push_back("M" + std::to_string(p) + "-" + std::to_string(i));
        }
        BOOST_TEST(peer->controlIds("P" + std::to_string(p)) == expected);
    }
}

BOOST_FIXTURE_TEST_CASE(entries_that_keep_failing_are_dead_and_replay_delivers_them, Fixture)
{
    FakePeer peer;
    peer.setCode(hl7v2::AckCode::ApplicationReject);
    routing::Engine engine(*store, metrics, core::SystemClock::instance(),
                           channelsTo(peer.port(), 3), "node-a");
    engine.start();
    engine.receiver().receive(test::adt("D1", "P9", "A08"), "his", "t");
    BOOST_TEST(test::waitFor([&] { return countState(store::MessageState::Dead) == 1; }));
    store::MessageQuery q;
    q.state = store::MessageState::Dead;
    const auto dead = store->list(q);
    BOOST_REQUIRE(dead.size() == 1U);
    BOOST_TEST(dead[0].attempts == 3);
    BOOST_TEST(dead[0].error.find("AR") != std::string::npos, dead[0].error);

    peer.setCode(hl7v2::AckCode::ApplicationAccept);
    BOOST_TEST(store->replay(dead[0].id, core::SystemClock::instance().nowMicros()));
    BOOST_TEST(test::waitFor([&] { return countState(store::MessageState::Delivered) == 1; }));
    engine.stop();
    BOOST_TEST(peer.controlIds("P9") == std::vector<std::string>{"D1"});
}

BOOST_FIXTURE_TEST_CASE(an_ae_answer_is_dead_at_once, Fixture)
{
    FakePeer peer;
    peer.setCode(hl7v2::AckCode::ApplicationError);
    routing::Engine engine(*store, metrics, core::SystemClock::instance(), channelsTo(peer.port()),
                           "node-a");
    engine.start();
    engine.receiver().receive(test::adt("E1", "P1", "A08"), "his", "t");
    BOOST_TEST(test::waitFor([&] { return countState(store::MessageState::Dead) == 1; }));
    engine.stop();
    store::MessageQuery q;
    q.state = store::MessageState::Dead;
    BOOST_TEST(store->list(q).at(0).attempts == 1);
}

BOOST_FIXTURE_TEST_CASE(messages_left_received_by_a_crash_are_routed_at_start, Fixture)
{
    store::InboundMessage in;
    in.channel = "his";
    in.raw = test::adt("R1", "P1", "A01");
    in.controlId = "R1";
    in.sender = "HIS|HOSP";
    in.ack = "ACK";
    store->receive(in);
    FakePeer peer;
    routing::Engine engine(*store, metrics, core::SystemClock::instance(), channelsTo(peer.port()),
                           "node-a");
    engine.start();
    BOOST_TEST(test::waitFor([&] { return countState(store::MessageState::Delivered) == 2; }));
    engine.stop();
}

BOOST_AUTO_TEST_CASE(backoff_doubles_up_to_the_limit)
{
    routing::RetryPolicy p;
    p.initialBackoffMs = 100;
    p.maxBackoffMs = 1000;
    BOOST_TEST(routing::Dispatcher::backoffMs(p, 1) == 100);
    BOOST_TEST(routing::Dispatcher::backoffMs(p, 2) == 200);
    BOOST_TEST(routing::Dispatcher::backoffMs(p, 4) == 800);
    BOOST_TEST(routing::Dispatcher::backoffMs(p, 5) == 1000);
    BOOST_TEST(routing::Dispatcher::backoffMs(p, 50) == 1000);
}

BOOST_AUTO_TEST_SUITE_END()
