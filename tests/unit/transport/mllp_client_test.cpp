#include "gateway/transport/mllp_client.h"

#include "tests/unit/transport/transport_test_support.h"

#include <boost/test/unit_test.hpp>

#include <Poco/Net/ServerSocket.h>

#include <future>
#include <memory>
#include <string>

using namespace hl7gw::transport;
using namespace hl7gw::test;

namespace {

/// A port nothing listens on: bound once, then released.
std::uint16_t unusedPort()
{
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    const std::uint16_t port = socket.address().port();
    socket.close();
    return port;
}

/// Reads one frame from `socket` (an accepted connection); "" when it closed first.
std::string readFrame(Poco::Net::StreamSocket& socket)
{
    MllpFramer framer;
    for (;;) {
        const auto event = framer.next();
        if (event.kind == MllpFramer::EventKind::Frame) {
            return std::string(event.message);
        }
        if (event.kind != MllpFramer::EventKind::NeedMore) {
            continue;
        }
        const auto space = framer.prepare(4096);
        const int received = socket.receiveBytes(space.data(), static_cast<int>(space.size()));
        if (received <= 0) {
            return {};
        }
        framer.commit(static_cast<std::size_t>(received));
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(mllp_client)

BOOST_AUTO_TEST_CASE(throws_when_nothing_listens)
{
    MllpClient client(clientConfig(unusedPort()));
    BOOST_CHECK_THROW(client.exchange(message("X")), TransportError);
}

BOOST_AUTO_TEST_CASE(throws_when_no_answer_comes_in_time)
{
    // The kernel completes the connection into the backlog; nobody ever reads or answers.
    Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0));
    auto config = clientConfig(silent.address().port());
    config.ackTimeoutMs = 200;
    MllpClient client(config);
    try {
        client.exchange(message("WAIT"));
        BOOST_ERROR("no exception");
    } catch (const TransportError& error) {
        BOOST_TEST(error.message().find("no answer within 200 ms") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(reconnects_after_the_server_closed_an_idle_connection)
{
    auto listener = listenerConfig();
    listener.idleTimeoutSeconds = 1;
    MllpServer server(listener, echoAck);
    server.start();
    MllpClient client(clientConfig(server.port()));
    BOOST_TEST(client.exchange(message("BEFORE")) == ackFor("BEFORE"));
    BOOST_REQUIRE(waitUntil([&] { return server.stats().idleTimeouts == 1u; }));
    // connectionsOpen drops only once the server has closed the socket.
    BOOST_REQUIRE(waitUntil([&] { return server.stats().connectionsOpen == 0; }));
    BOOST_TEST(client.exchange(message("AFTER")) == ackFor("AFTER"));
    BOOST_TEST(server.stats().connectionsAccepted == 2u);
}

BOOST_AUTO_TEST_CASE(reconnects_after_a_failed_exchange)
{
    auto first = std::make_unique<MllpServer>(listenerConfig(), echoAck);
    first->start();
    const std::uint16_t port = first->port();
    MllpClient client(clientConfig(port));
    BOOST_TEST(client.exchange(message("1")) == ackFor("1"));
    first.reset();
    BOOST_CHECK_THROW(client.exchange(message("2")), TransportError);

    auto config = listenerConfig();
    config.listen.port = port;
    MllpServer second(config, echoAck);
    second.start();
    BOOST_TEST(client.exchange(message("2")) == ackFor("2"));
}

BOOST_AUTO_TEST_CASE(throws_when_the_answer_exceeds_its_limit)
{
    MllpServer server(listenerConfig(), [](std::string_view, const ConnectionInfo&) {
        return std::string(4096, 'a');
    });
    server.start();
    auto config = clientConfig(server.port());
    config.maxFrameBytes = 1024;
    MllpClient client(config);
    BOOST_CHECK_THROW(client.exchange(message("X")), TransportError);
}

BOOST_AUTO_TEST_CASE(never_pairs_a_message_with_a_stray_answer)
{
    // A server that answers the first message twice: the second answer must not be taken
    // for the answer to the next message.
    Poco::Net::ServerSocket listening(Poco::Net::SocketAddress("127.0.0.1", 0));
    auto peer = std::async(std::launch::async, [&listening] {
        Poco::Net::StreamSocket first = listening.acceptConnection();
        first.setReceiveTimeout(Poco::Timespan(5, 0));
        const std::string one = readFrame(first);
        const std::string twice =
            MllpFramer::frame(ackFor(controlIdOf(one))) + MllpFramer::frame("MSA|AA|STRAY\r");
        first.sendBytes(twice.data(), static_cast<int>(twice.size()));
        if (!listening.poll(Poco::Timespan(5, 0), Poco::Net::Socket::SELECT_READ)) {
            return false; // the client kept using the first connection
        }
        Poco::Net::StreamSocket second = listening.acceptConnection();
        second.setReceiveTimeout(Poco::Timespan(5, 0));
        const std::string two = readFrame(second);
        const std::string answer = MllpFramer::frame(ackFor(controlIdOf(two)));
        second.sendBytes(answer.data(), static_cast<int>(answer.size()));
        return readFrame(first).empty();
    });
    MllpClient client(clientConfig(listening.address().port()));
    BOOST_TEST(client.exchange(message("ONE")) == ackFor("ONE"));
    BOOST_TEST(client.exchange(message("TWO")) == ackFor("TWO"));
    client.close();
    BOOST_TEST(peer.get());
}

BOOST_AUTO_TEST_SUITE_END()
