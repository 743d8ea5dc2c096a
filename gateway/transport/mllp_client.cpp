#include "gateway/transport/mllp_client.h"

#include "gateway/transport/detail/socket_io.h"
#include "gateway/transport/detail/text.h"
#include "gateway/transport/mllp_framer.h"
#include "gateway/transport/transport_error.h"

#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <algorithm>
#include <chrono>

namespace hl7gw::transport {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t ReadChunkBytes = 16 * 1024;

Poco::Logger& logger()
{
    return Poco::Logger::get("hl7gw.transport.mllp");
}

Clock::duration milliseconds(int value)
{
    return std::chrono::milliseconds(std::max(value, 1));
}

} // namespace

class MllpClient::Impl {
  public:
    explicit Impl(MllpClientConfig config)
        : config_(std::move(config)), framer_(config_.maxFrameBytes)
    {
    }

    std::string exchange(std::string_view message);
    void send(std::string_view message);
    void close();

  private:
    /// Reads and drops what the peer sent unasked; false when it closed the connection.
    bool discardUnread();
    /// Runs `work`; whatever fails closes the connection (the next call reconnects) and is
    /// thrown as a TransportError.
    template <typename Work> auto guarded(Work&& work) -> decltype(work());
    void connect();
    /// True when the open connection can carry the next message: the server has not closed
    /// it and sent nothing since the last answer.
    bool reusable();
    std::string readAnswer(Clock::time_point deadline);
    [[noreturn]] void fail(const std::string& what);

    MllpClientConfig config_;
    Poco::AutoPtr<Poco::Net::Context> context_;
    std::optional<Poco::Net::StreamSocket> socket_;
    MllpFramer framer_;
};

std::string MllpClient::Impl::exchange(std::string_view message)
{
    return guarded([&] {
        if (socket_ && !reusable()) {
            close();
        }
        if (!socket_) {
            connect();
        }
        const Clock::time_point deadline = Clock::now() + milliseconds(config_.ackTimeoutMs);
        detail::setTimeouts(*socket_, milliseconds(config_.ackTimeoutMs));
        detail::sendAll(*socket_, MllpFramer::frame(message));
        return readAnswer(deadline);
    });
}

void MllpClient::Impl::send(std::string_view message)
{
    guarded([&] {
        if (socket_ && !discardUnread()) {
            close();
        }
        if (!socket_) {
            connect();
        }
        detail::setTimeouts(*socket_, milliseconds(config_.ackTimeoutMs));
        detail::sendAll(*socket_, MllpFramer::frame(message));
    });
}

template <typename Work> auto MllpClient::Impl::guarded(Work&& work) -> decltype(work())
{
    try {
        return work();
    } catch (const TransportError&) {
        close();
        throw;
    } catch (const Poco::Exception& error) {
        fail(error.displayText());
    } catch (const std::exception& error) {
        fail(error.what());
    }
}

bool MllpClient::Impl::discardUnread()
{
    char scrap[4096];
    while (socket_->available() > 0 ||
           socket_->poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) {
        if (socket_->receiveBytes(scrap, sizeof scrap) <= 0) {
            return false; // end of stream: the server closed it (idle timeout)
        }
    }
    framer_.reset();
    return true;
}

void MllpClient::Impl::connect()
{
    initializeTransport();
    const Clock::duration timeout = milliseconds(config_.connectTimeoutMs);
    const Poco::Timespan span(
        std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
    const Poco::Net::SocketAddress address(config_.to.host, config_.to.port);
    if (config_.tls) {
        if (!context_) {
            context_ = makeClientContext(*config_.tls);
        }
        Poco::Net::SecureStreamSocket secure(context_);
        // The name the certificate must carry, and the SNI the server sees.
        secure.setPeerHostName(config_.to.host);
        // Connects and completes the handshake (verifying the server) within the timeout.
        secure.connect(address, span);
        socket_ = secure;
    } else {
        Poco::Net::StreamSocket plain;
        plain.connect(address, span);
        socket_ = plain;
    }
    socket_->setNoDelay(true);
    framer_.reset();
    detail::log(logger(), Poco::Message::PRIO_DEBUG, "client to ", config_.to.toString(),
                ": connected from ", socket_->address().toString(), config_.tls ? " (TLS)" : "");
}

bool MllpClient::Impl::reusable()
{
    // Whatever the framer still holds arrived after the last answer: a second answer, or
    // the start of one. Sending now would pair the next message with it.
    for (MllpFramer::Event event = framer_.next(); event.kind != MllpFramer::EventKind::NeedMore;
         event = framer_.next()) {
        if (event.kind == MllpFramer::EventKind::Frame) {
            return false;
        }
    }
    if (framer_.inFrame()) {
        return false;
    }
    // Readable while we are not waiting for anything means end of stream (the server's idle
    // timeout) or stray bytes: either way this connection is done.
    return socket_->available() == 0 &&
           !socket_->poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ);
}

std::string MllpClient::Impl::readAnswer(Clock::time_point deadline)
{
    for (;;) {
        for (MllpFramer::Event event = framer_.next();
             event.kind != MllpFramer::EventKind::NeedMore; event = framer_.next()) {
            switch (event.kind) {
            case MllpFramer::EventKind::Frame:
                return std::string(event.message);
            case MllpFramer::EventKind::TooLarge:
                throw TransportError(detail::text("MLLP ", config_.to.toString(),
                                                  ": answer exceeds maxFrameBytes ",
                                                  config_.maxFrameBytes));
            case MllpFramer::EventKind::Junk:
            case MllpFramer::EventKind::MissingCarriageReturn:
                detail::log(logger(), Poco::Message::PRIO_DEBUG, "client to ",
                            config_.to.toString(), ": tolerated framing fault at offset ",
                            event.offset);
                break;
            case MllpFramer::EventKind::NeedMore:
            case MllpFramer::EventKind::Truncated:
                break;
            }
        }
        if (!detail::waitReadable(*socket_, deadline)) {
            throw TransportError(detail::text("MLLP ", config_.to.toString(), ": no answer within ",
                                              config_.ackTimeoutMs, " ms"));
        }
        const std::span<char> space = framer_.prepare(ReadChunkBytes);
        const int received = socket_->receiveBytes(
            space.data(), static_cast<int>(std::min<std::size_t>(space.size(), 1 << 30)));
        if (received <= 0) {
            throw TransportError(detail::text("MLLP ", config_.to.toString(),
                                              ": connection closed before an answer"));
        }
        framer_.commit(static_cast<std::size_t>(received));
    }
}

void MllpClient::Impl::fail(const std::string& what)
{
    close();
    throw TransportError(detail::text("MLLP ", config_.to.toString(), ": ", what));
}

void MllpClient::Impl::close()
{
    if (socket_) {
        try {
            socket_->close();
        } catch (const Poco::Exception&) {
            // A TLS close_notify that cannot be sent: the descriptor is closed regardless.
        }
        socket_.reset();
    }
    framer_.reset();
}

MllpClient::MllpClient(MllpClientConfig config) : impl_(std::make_unique<Impl>(std::move(config)))
{
}

MllpClient::~MllpClient()
{
    impl_->close();
}

std::string MllpClient::exchange(std::string_view message)
{
    return impl_->exchange(message);
}

void MllpClient::send(std::string_view message)
{
    impl_->send(message);
}

void MllpClient::close()
{
    impl_->close();
}

} // namespace hl7gw::transport
