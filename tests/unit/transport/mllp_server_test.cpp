#include "gateway/transport/mllp_server.h"

#include "tests/unit/transport/transport_test_support.h"

#include <boost/test/unit_test.hpp>

#include <Poco/Net/NetException.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace hl7gw::transport;
using namespace hl7gw::test;

BOOST_AUTO_TEST_SUITE(mllp_server)

BOOST_AUTO_TEST_CASE(answers_a_message_with_the_handlers_ack)
{
    std::mutex mutex;
    ConnectionInfo seen;
    std::string received;
    MllpServer server(listenerConfig("adt-in"),
                      [&](std::string_view bytes, const ConnectionInfo& info) {
                          std::lock_guard lock(mutex);
                          seen = info;
                          received = std::string(bytes);
                          return ackFor(controlIdOf(bytes));
                      });
    server.start();
    BOOST_REQUIRE(server.port() != 0);

    MllpClient client(clientConfig(server.port()));
    BOOST_TEST(client.exchange(message("C1")) == ackFor("C1"));

    std::lock_guard lock(mutex);
    BOOST_TEST(received == message("C1"));
    BOOST_TEST(seen.listener == "adt-in");
    BOOST_TEST(seen.peer.rfind("127.0.0.1:", 0) == 0);
    BOOST_TEST(seen.connectionId != 0u);
    BOOST_TEST(!seen.tls);
    BOOST_TEST(server.stats().frames == 1u);
    BOOST_TEST(server.stats().connectionsAccepted == 1u);
    BOOST_TEST(server.stats().connectionsOpen == 1);
}

BOOST_AUTO_TEST_CASE(answers_in_order_on_one_connection)
{
    MllpServer server(listenerConfig(), echoAck);
    server.start();
    MllpClient client(clientConfig(server.port()));
    for (int i = 0; i < 200; ++i) {
        const std::string id = "SEQ" + std::to_string(i);
        BOOST_REQUIRE(client.exchange(message(id)) == ackFor(id));
    }
    BOOST_TEST(server.stats().frames == 200u);
    BOOST_TEST(server.stats().connectionsAccepted == 1u);
}

BOOST_AUTO_TEST_CASE(answers_frames_sent_together_one_by_one_in_order)
{
    MllpServer server(listenerConfig(), echoAck);
    server.start();
    RawPeer peer(server.port());
    peer.send(MllpFramer::frame(message("A")) + MllpFramer::frame(message("B")) +
              MllpFramer::frame(message("C")));
    BOOST_TEST(peer.readFrame().value_or("") == ackFor("A"));
    BOOST_TEST(peer.readFrame().value_or("") == ackFor("B"));
    BOOST_TEST(peer.readFrame().value_or("") == ackFor("C"));
}

BOOST_AUTO_TEST_CASE(serves_many_connections_at_once)
{
    constexpr int Connections = 8;
    constexpr int Messages = 200;
    MllpServer server(listenerConfig(), echoAck);
    server.start();
    std::atomic<int> wrong{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> senders;
    for (int c = 0; c < Connections; ++c) {
        senders.emplace_back([&, c] {
            try {
                MllpClient client(clientConfig(server.port()));
                for (int i = 0; i < Messages; ++i) {
                    const std::string id = std::to_string(c) + "-" + std::to_string(i);
                    if (client.exchange(message(id)) != ackFor(id)) {
                        ++wrong;
                    }
                }
            } catch (const std::exception&) {
                ++failed;
            }
        });
    }
    for (auto& sender : senders) {
        sender.join();
    }
    BOOST_TEST(wrong == 0);
    BOOST_TEST(failed == 0);
    BOOST_TEST(server.stats().frames == static_cast<std::uint64_t>(Connections * Messages));
    BOOST_TEST(server.stats().connectionsAccepted == static_cast<std::uint64_t>(Connections));
}

BOOST_AUTO_TEST_CASE(counts_and_discards_junk_before_a_start_block)
{
    MllpServer server(listenerConfig(), echoAck);
    server.start();
    RawPeer peer(server.port());
    peer.send("garbage\r\n" + MllpFramer::frame(message("J1")));
    BOOST_TEST(peer.readFrame().value_or("") == ackFor("J1"));
    BOOST_TEST(server.stats().junkBytes == 9u);
    BOOST_TEST(server.stats().frames == 1u);
}

BOOST_AUTO_TEST_CASE(answers_a_frame_whose_carriage_return_is_missing)
{
    MllpServer server(listenerConfig(), echoAck);
    server.start();
    RawPeer peer(server.port());
    peer.send("\x0b" + message("NOCR") + "\x1c");
    BOOST_TEST(peer.readFrame().value_or("") == ackFor("NOCR"));
    peer.send(MllpFramer::frame(message("NEXT")));
    BOOST_TEST(peer.readFrame().value_or("") == ackFor("NEXT"));
    BOOST_TEST(server.stats().junkBytes == 0u);
}

BOOST_AUTO_TEST_CASE(closes_a_connection_that_stays_silent)
{
    auto config = listenerConfig();
    config.idleTimeoutSeconds = 1;
    MllpServer server(config, echoAck);
    server.start();
    RawPeer peer(server.port());
    peer.send(MllpFramer::frame(message("I1")));
    BOOST_TEST(peer.readFrame().value_or("") == ackFor("I1"));
    BOOST_TEST(peer.closedByServer());
    BOOST_TEST(waitUntil([&] { return server.stats().idleTimeouts == 1u; }));
    BOOST_TEST(waitUntil([&] { return server.stats().connectionsOpen == 0; }));
}

BOOST_AUTO_TEST_CASE(closes_without_an_answer_on_a_frame_over_the_limit)
{
    auto config = listenerConfig();
    config.maxFrameBytes = 1024;
    std::atomic<int> calls{0};
    MllpServer server(config, [&](std::string_view bytes, const ConnectionInfo& info) {
        ++calls;
        return echoAck(bytes, info);
    });
    server.start();
    RawPeer peer(server.port());
    peer.send(MllpFramer::frame(message("BIG") + std::string(2000, 'x')));
    BOOST_TEST(peer.closedByServer());
    BOOST_TEST(waitUntil([&] { return server.stats().oversizedFrames == 1u; }));
    BOOST_TEST(calls == 0);
    BOOST_TEST(server.stats().frames == 0u);
}

BOOST_AUTO_TEST_CASE(closes_without_an_answer_when_the_handler_throws)
{
    MllpServer server(listenerConfig(), [](std::string_view bytes, const ConnectionInfo& info) {
        if (controlIdOf(bytes) == "BOOM") {
            throw std::runtime_error("store unavailable");
        }
        return echoAck(bytes, info);
    });
    server.start();
    MllpClient client(clientConfig(server.port()));
    BOOST_CHECK_THROW(client.exchange(message("BOOM")), TransportError);
    BOOST_TEST(server.stats().handlerErrors == 1u);
    // The sender keeps the message and tries again on a new connection.
    BOOST_TEST(client.exchange(message("AFTER")) == ackFor("AFTER"));
    BOOST_TEST(server.stats().connectionsAccepted == 2u);
}

BOOST_AUTO_TEST_CASE(sends_nothing_for_an_empty_answer)
{
    MllpServer server(listenerConfig(), [](std::string_view bytes, const ConnectionInfo& info) {
        return controlIdOf(bytes) == "QUIET" ? std::string() : echoAck(bytes, info);
    });
    server.start();
    RawPeer peer(server.port());
    peer.send(MllpFramer::frame(message("QUIET")) + MllpFramer::frame(message("LOUD")));
    BOOST_TEST(peer.readFrame().value_or("") == ackFor("LOUD"));
    BOOST_TEST(server.stats().frames == 2u);
}

BOOST_AUTO_TEST_CASE(refuses_connections_over_the_limit_and_counts_them)
{
    auto config = listenerConfig();
    config.maxConnections = 2;
    MllpServer server(config, echoAck);
    server.start();
    MllpClient first(clientConfig(server.port()));
    MllpClient second(clientConfig(server.port()));
    BOOST_TEST(first.exchange(message("1")) == ackFor("1"));
    BOOST_TEST(second.exchange(message("2")) == ackFor("2"));

    RawPeer third(server.port());
    BOOST_TEST(third.closedByServer());
    BOOST_TEST(waitUntil([&] { return server.stats().connectionsRefused == 1u; }));

    // A slot freed is a slot available again.
    first.close();
    BOOST_TEST(waitUntil([&] { return server.stats().connectionsOpen == 1; }));
    MllpClient fourth(clientConfig(server.port()));
    BOOST_TEST(fourth.exchange(message("4")) == ackFor("4"));
    BOOST_TEST(server.stats().connectionsAccepted == 3u);
}

BOOST_AUTO_TEST_CASE(stop_lets_a_handler_in_progress_answer)
{
    std::mutex mutex;
    std::condition_variable changed;
    bool entered = false;
    bool release = false;
    MllpServer server(listenerConfig(), [&](std::string_view bytes, const ConnectionInfo& info) {
        std::unique_lock lock(mutex);
        entered = true;
        changed.notify_all();
        changed.wait_for(lock, 10s, [&] { return release; });
        return echoAck(bytes, info);
    });
    server.start();
    const std::uint16_t port = server.port();

    auto answer = std::async(std::launch::async, [port] {
        MllpClient client(clientConfig(port));
        return client.exchange(message("SLOW"));
    });
    {
        std::unique_lock lock(mutex);
        BOOST_REQUIRE(changed.wait_for(lock, 5s, [&] { return entered; }));
    }
    auto stopped = std::async(std::launch::async, [&server] { server.stop(); });
    BOOST_REQUIRE(waitUntil([&] { return server.isStopping(); }));
    // stop() cannot finish while the handler runs.
    BOOST_TEST((stopped.wait_for(0s) == std::future_status::timeout));
    {
        std::lock_guard lock(mutex);
        release = true;
        changed.notify_all();
    }
    BOOST_TEST(answer.get() == ackFor("SLOW"));
    stopped.get();
    BOOST_TEST(server.stats().connectionsOpen == 0);

    // Nothing listens any more.
    MllpClient late(clientConfig(port));
    BOOST_CHECK_THROW(late.exchange(message("LATE")), TransportError);
}

BOOST_AUTO_TEST_CASE(stop_closes_idle_connections_at_once)
{
    MllpServer server(listenerConfig(), echoAck);
    server.start();
    RawPeer peer(server.port());
    peer.send(MllpFramer::frame(message("S1")));
    BOOST_TEST(peer.readFrame().value_or("") == ackFor("S1"));
    server.stop();
    BOOST_TEST(server.stats().connectionsOpen == 0);
    BOOST_TEST(peer.closedByServer());
}

BOOST_AUTO_TEST_CASE(starts_again_after_stop)
{
    MllpServer server(listenerConfig(), echoAck);
    server.start();
    server.stop();
    server.start();
    MllpClient client(clientConfig(server.port()));
    BOOST_TEST(client.exchange(message("AGAIN")) == ackFor("AGAIN"));
}

BOOST_AUTO_TEST_CASE(fails_to_start_on_a_port_in_use)
{
    MllpServer first(listenerConfig("first"), echoAck);
    first.start();
    auto config = listenerConfig("second");
    config.listen.port = first.port();
    MllpServer second(config, echoAck);
    BOOST_CHECK_THROW(second.start(), TransportError);
}

BOOST_AUTO_TEST_SUITE_END()
