#include "gateway/transport/mllp_server.h"

#include "gateway/transport/detail/socket_io.h"
#include "gateway/transport/detail/text.h"
#include "gateway/transport/mllp_framer.h"
#include "gateway/transport/transport_error.h"

#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/ThreadPool.h>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <ostream>

namespace hl7gw::transport {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int Backlog = 64;
constexpr std::size_t ReadChunkBytes = 64 * 1024;
constexpr auto DrainTimeout = std::chrono::seconds(5);
// A TLS handshake that takes longer than this is a stalled or hostile peer, whatever the
// listener's idle timeout.
constexpr auto HandshakeTimeout = std::chrono::seconds(30);
// idleTimeoutSeconds <= 0 means no idle timeout; this stands in for "never".
constexpr auto NoIdleTimeout = std::chrono::hours(24 * 365);

// Ids are unique in the process, not per listener, so log lines of different listeners never
// share one.
std::atomic<std::uint64_t> nextConnectionId{1};

Poco::Logger& logger()
{
    return Poco::Logger::get("hl7gw.transport.mllp");
}

/// "listener NAME connection ID peer ADDRESS", written only when a log line is built.
struct Describe {
    const ConnectionInfo& info;

    friend std::ostream& operator<<(std::ostream& out, const Describe& described)
    {
        return out << "listener " << described.info.listener << " connection "
                   << described.info.connectionId << " peer " << described.info.peer;
    }
};

std::string peerOf(const Poco::Net::StreamSocket& socket)
{
    try {
        return socket.peerAddress().toString();
    } catch (const Poco::Exception&) {
        return "(disconnected)";
    }
}

/// Counts the connection in connectionsOpen for as long as it lives.
class OpenGauge {
  public:
    explicit OpenGauge(std::atomic<std::int64_t>& open) : open_(open)
    {
        open_.fetch_add(1, std::memory_order_relaxed);
    }
    ~OpenGauge() { open_.fetch_sub(1, std::memory_order_relaxed); }
    OpenGauge(const OpenGauge&) = delete;
    OpenGauge& operator=(const OpenGauge&) = delete;

  private:
    std::atomic<std::int64_t>& open_;
};

/// What the listener's threads share for one start()..stop() run. The acceptor's filter, the
/// factory and every connection hold it, so a connection still running after stop() gave up
/// waiting for it never touches freed memory.
struct Run {
    Run(const MllpListenerConfig& config, const MllpHandler& handler,
        std::shared_ptr<MllpServerStats> stats)
        : config(config), handler(handler), stats(std::move(stats))
    {
        const auto idleSeconds = std::chrono::seconds(config.idleTimeoutSeconds);
        idle = config.idleTimeoutSeconds > 0
                   ? std::chrono::duration_cast<Clock::duration>(idleSeconds)
                   : std::chrono::duration_cast<Clock::duration>(NoIdleTimeout);
    }

    const MllpListenerConfig config;
    const MllpHandler handler;
    const std::shared_ptr<MllpServerStats> stats;
    Clock::duration idle;

    std::mutex mutex;
    std::condition_variable drained;
    std::atomic<bool> stopping{false};           // written under mutex; read anywhere
    std::size_t admitted = 0;                    // passed the filter, not finished; by mutex
    std::size_t running = 0;                     // connections not yet finished; by mutex
    std::map<std::uint64_t, poco_socket_t> live; // their sockets, until closed; by mutex
};

using RunPtr = std::shared_ptr<Run>;

/// Runs on the acceptor thread, before a connection gets a thread: this is where connections
/// beyond maxConnections are closed at once instead of waiting in the dispatcher's queue.
class AdmissionFilter : public Poco::Net::TCPServerConnectionFilter {
  public:
    explicit AdmissionFilter(RunPtr run) : run_(std::move(run)) {}

    bool accept(const Poco::Net::StreamSocket& socket) override
    {
        std::size_t open = 0;
        {
            std::lock_guard lock(run_->mutex);
            if (run_->stopping) {
                return false;
            }
            if (run_->admitted < run_->config.maxConnections) {
                ++run_->admitted;
                return true;
            }
            open = run_->admitted;
        }
        run_->stats->connectionsRefused.fetch_add(1, std::memory_order_relaxed);
        detail::log(logger(), Poco::Message::PRIO_WARNING, "listener ", run_->config.name,
                    ": refused connection from ", peerOf(socket), ": ", open,
                    " connections open, maxConnections ", run_->config.maxConnections);
        return false;
    }

  private:
    RunPtr run_;
};

/// One inbound connection, on its own pool thread for its whole life.
class MllpConnection : public Poco::Net::TCPServerConnection {
  public:
    MllpConnection(const Poco::Net::StreamSocket& socket, RunPtr run)
        : Poco::Net::TCPServerConnection(socket), run_(std::move(run))
    {
    }

    void run() override;

  private:
    /// Registers the connection so stop() can wake it and wait for it, and releases its
    /// admission when the connection ends, whichever way it ends.
    class Registration {
      public:
        Registration(Run& run, std::uint64_t id, poco_socket_t fd);
        ~Registration();
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;
        bool active() const { return active_; }
        /// Withdraws the socket from stop()'s reach, so that it can be closed: a descriptor
        /// number closed while listed could be reused and shut down by mistake.
        void withdrawSocket();

      private:
        Run& run_;
        std::uint64_t id_;
        bool active_ = false;
    };

    bool handshake(const ConnectionInfo& info);
    /// serve(), with the ways a connection breaks logged (and timeouts counted).
    void serveUntilClosed(const ConnectionInfo& info);
    void serve(const ConnectionInfo& info);
    /// False when the connection must close now.
    bool handleEvent(const MllpFramer::Event& event, const ConnectionInfo& info);
    /// False when the handler failed (logged and counted) or stop() has begun.
    bool handleFrame(const MllpFramer::Event& event, const ConnectionInfo& info);
    bool stopping() const;

    RunPtr run_;
    Clock::time_point deadline_;
};

MllpConnection::Registration::Registration(Run& run, std::uint64_t id, poco_socket_t fd)
    : run_(run), id_(id)
{
    std::lock_guard lock(run_.mutex);
    // A connection dequeued after stop() swept the live set would never be woken: it must not
    // start at all.
    if (!run_.stopping) {
        run_.live.emplace(id_, fd);
        ++run_.running;
        active_ = true;
    }
}

void MllpConnection::Registration::withdrawSocket()
{
    std::lock_guard lock(run_.mutex);
    run_.live.erase(id_);
}

MllpConnection::Registration::~Registration()
{
    std::lock_guard lock(run_.mutex);
    run_.live.erase(id_);
    --run_.admitted;
    if (active_ && --run_.running == 0) {
        run_.drained.notify_all();
    }
}

void MllpConnection::run()
{
    Run& run = *run_;
    ConnectionInfo info;
    info.connectionId = nextConnectionId.fetch_add(1, std::memory_order_relaxed);
    info.listener = run.config.name;
    info.peer = peerOf(socket());
    info.tls = run.config.tls.has_value();

    Registration registration(run, info.connectionId, socket().impl()->sockfd());
    if (!registration.active()) {
        return;
    }
    if (info.tls && !handshake(info)) {
        run.stats->connectionsRefused.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    run.stats->connectionsAccepted.fetch_add(1, std::memory_order_relaxed);
    const OpenGauge gauge(run.stats->connectionsOpen);
    detail::log(logger(), Poco::Message::PRIO_DEBUG, Describe{info}, ": opened");
    serveUntilClosed(info);
    // Closed here rather than by ~TCPServerConnection, so that the peer has seen the close
    // by the time connectionsOpen and stop() say the connection is gone.
    registration.withdrawSocket();
    try {
        socket().close();
    } catch (const Poco::Exception&) {
        // A TLS close_notify the peer no longer takes: the descriptor is closed regardless.
    }
    detail::log(logger(), Poco::Message::PRIO_DEBUG, Describe{info}, ": closed");
}

void MllpConnection::serveUntilClosed(const ConnectionInfo& info)
{
    Run& run = *run_;
    try {
        serve(info);
    } catch (const Poco::TimeoutException&) {
        // A TLS record, or an answer, that never completes: as silent as no bytes at all.
        run.stats->idleTimeouts.fetch_add(1, std::memory_order_relaxed);
        detail::log(logger(), Poco::Message::PRIO_INFORMATION, Describe{info},
                    ": timed out inside a read or write");
    } catch (const Poco::Exception& error) {
        // stop() shutting the receive side down makes TLS report an unexpected end of stream.
        detail::log(logger(),
                    stopping() ? Poco::Message::PRIO_DEBUG : Poco::Message::PRIO_INFORMATION,
                    Describe{info}, ": broken: ", error.displayText());
    } catch (const std::exception& error) {
        detail::log(logger(), Poco::Message::PRIO_WARNING, Describe{info},
                    ": broken: ", error.what());
    }
}

bool MllpConnection::handshake(const ConnectionInfo& info)
{
    try {
        detail::setTimeouts(socket(), std::min<Clock::duration>(HandshakeTimeout, run_->idle));
        Poco::Net::SecureStreamSocket secure(socket());
        if (secure.completeHandshake() == 1) {
            return true;
        }
        detail::log(logger(), Poco::Message::PRIO_WARNING, Describe{info},
                    ": TLS handshake did not complete");
    } catch (const Poco::Exception& error) {
        // Clients without a certificate under requireClientCert, certificates from another
        // CA, plain MLLP sent to a TLS port, and handshakes that stall all end here.
        detail::log(logger(), Poco::Message::PRIO_WARNING, Describe{info},
                    ": TLS handshake failed: ", error.displayText());
    }
    return false;
}

bool MllpConnection::stopping() const
{
    return run_->stopping.load();
}

void MllpConnection::serve(const ConnectionInfo& info)
{
    Run& run = *run_;
    detail::setTimeouts(socket(), run.idle);
    MllpFramer framer(run.config.maxFrameBytes);
    deadline_ = Clock::now() + run.idle;
    for (;;) {
        for (MllpFramer::Event event = framer.next(); event.kind != MllpFramer::EventKind::NeedMore;
             event = framer.next()) {
            if (!handleEvent(event, info)) {
                return;
            }
        }
        if (!detail::waitReadable(socket(), deadline_)) {
            run.stats->idleTimeouts.fetch_add(1, std::memory_order_relaxed);
            detail::log(logger(), Poco::Message::PRIO_INFORMATION, Describe{info}, ": silent for ",
                        run.config.idleTimeoutSeconds, " s, closing");
            return;
        }
        const std::span<char> space = framer.prepare(ReadChunkBytes);
        const int received = socket().receiveBytes(
            space.data(), static_cast<int>(std::min<std::size_t>(space.size(), 1 << 30)));
        if (received <= 0) {
            // End of stream from the peer, or from stop() shutting the receive side down.
            handleEvent(framer.finish(), info);
            return;
        }
        framer.commit(static_cast<std::size_t>(received));
        deadline_ = Clock::now() + run.idle;
    }
}

bool MllpConnection::handleEvent(const MllpFramer::Event& event, const ConnectionInfo& info)
{
    Run& run = *run_;
    switch (event.kind) {
    case MllpFramer::EventKind::NeedMore:
        return true;
    case MllpFramer::EventKind::Frame:
        return handleFrame(event, info);
    case MllpFramer::EventKind::Junk:
        // STANDARDS.md §1.5: bytes before 0x0B are discarded and counted.
        run.stats->junkBytes.fetch_add(event.size, std::memory_order_relaxed);
        detail::log(logger(), Poco::Message::PRIO_WARNING, Describe{info}, ": discarded ",
                    event.size, " bytes at offset ", event.offset, " outside a frame");
        return true;
    case MllpFramer::EventKind::MissingCarriageReturn:
        detail::log(logger(), Poco::Message::PRIO_WARNING, Describe{info},
                    ": no 0x0D after the end block at ", "offset ", event.offset, " (tolerated)");
        return true;
    case MllpFramer::EventKind::TooLarge:
        // STANDARDS.md §1.5: a frame over the limit closes the connection without an ACK.
        run.stats->oversizedFrames.fetch_add(1, std::memory_order_relaxed);
        detail::log(logger(), Poco::Message::PRIO_WARNING, Describe{info}, ": frame at offset ",
                    event.offset, " exceeds maxFrameBytes ", run.config.maxFrameBytes, " (",
                    event.size, " bytes so far), closing without an answer");
        return false;
    case MllpFramer::EventKind::Truncated:
        detail::log(logger(), Poco::Message::PRIO_INFORMATION, Describe{info},
                    ": closed inside the frame at ", "offset ", event.offset, " after ", event.size,
                    " bytes");
        return false;
    }
    return false;
}

bool MllpConnection::handleFrame(const MllpFramer::Event& event, const ConnectionInfo& info)
{
    Run& run = *run_;
    // Frames already buffered when stop() began are left to the sender to send again; only
    // the one being handled is finished.
    if (stopping()) {
        return false;
    }
    run.stats->frames.fetch_add(1, std::memory_order_relaxed);
    detail::log(logger(), Poco::Message::PRIO_DEBUG, Describe{info}, ": frame at offset ",
                event.offset, ", ", event.size, " bytes");
    std::string ack;
    std::string failure;
    try {
        ack = run.handler(event.message, info);
    } catch (const Poco::Exception& error) {
        failure = error.displayText();
    } catch (const std::exception& error) {
        failure = error.what();
    } catch (...) {
        failure = "unknown exception";
    }
    if (!failure.empty()) {
        // The sender gets no answer, keeps the message and sends it again.
        run.stats->handlerErrors.fetch_add(1, std::memory_order_relaxed);
        detail::log(logger(), Poco::Message::PRIO_ERROR, Describe{info},
                    ": handler failed on the frame at ", "offset ", event.offset, " (", failure,
                    "); closing without an answer");
        return false;
    }
    if (!ack.empty()) {
        detail::sendAll(socket(), MllpFramer::frame(ack));
    }
    // Time spent in the handler is ours, not the peer's silence.
    deadline_ = Clock::now() + run.idle;
    return true;
}

class ConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
  public:
    explicit ConnectionFactory(RunPtr run) : run_(std::move(run)) {}

    Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override
    {
        return new MllpConnection(socket, run_);
    }

  private:
    RunPtr run_;
};

} // namespace

class MllpServer::Impl {
  public:
    Impl(MllpListenerConfig config, MllpHandler handler)
        : config(std::move(config)), handler(std::move(handler)),
          stats(std::make_shared<MllpServerStats>())
    {
    }

    const MllpListenerConfig config;
    const MllpHandler handler;
    const std::shared_ptr<MllpServerStats> stats;

    RunPtr run;
    std::unique_ptr<Poco::ThreadPool> pool;
    std::unique_ptr<Poco::Net::TCPServer> server;
    Poco::Net::ServerSocket socket;
    std::atomic<std::uint16_t> port{0};
    std::atomic<bool> stopping{false};
};

MllpServer::MllpServer(MllpListenerConfig config, MllpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(handler)))
{
}

MllpServer::~MllpServer()
{
    try {
        stop();
    } catch (...) {
        // stop() only throws if logging does; nothing is left to close.
    }
}

void MllpServer::start()
{
    Impl& impl = *impl_;
    if (impl.server) {
        return;
    }
    initializeTransport();
    const MllpListenerConfig& config = impl.config;
    const std::string where = "listener " + config.name + " on " + config.listen.toString();

    Poco::Net::ServerSocket socket;
    try {
        const Poco::Net::SocketAddress address(config.listen.host, config.listen.port);
        if (config.tls) {
            socket = Poco::Net::SecureServerSocket(makeServerContext(*config.tls));
        }
        // No SO_REUSEPORT: a second listener on a taken port must fail, not share it.
        socket.bind(address, true, false);
        socket.listen(Backlog);
    } catch (const TransportError& error) {
        throw TransportError(where + ": " + error.message());
    } catch (const Poco::Exception& error) {
        throw TransportError(where + ": cannot listen: " + error.displayText());
    }

    auto run = std::make_shared<Run>(config, impl.handler, impl.stats);
    // One thread per admitted connection, plus slack so that a thread finishing one
    // connection never makes the dispatcher refuse the next on its own.
    const int threads = static_cast<int>(std::min<std::size_t>(config.maxConnections, 1 << 16)) + 2;
    auto pool = std::make_unique<Poco::ThreadPool>(std::min(2, threads), threads + 2, 60);
    Poco::Net::TCPServerParams::Ptr params = new Poco::Net::TCPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(threads);
    params->setThreadIdleTime(Poco::Timespan(10, 0));
    auto server =
        std::make_unique<Poco::Net::TCPServer>(new ConnectionFactory(run), *pool, socket, params);
    server->setConnectionFilter(new AdmissionFilter(run));
    server->start();

    impl.run = std::move(run);
    impl.pool = std::move(pool);
    impl.server = std::move(server);
    impl.socket = socket;
    impl.port = socket.address().port();
    impl.stopping = false;
    // Debug: the application logs the one start line with every listener in it.
    detail::log(logger(), Poco::Message::PRIO_DEBUG, "listener ", config.name,
                " listening on ", socket.address().toString(), config.tls ? " (TLS" : " (plain",
                ", maxConnections ", config.maxConnections, ")");
}

void MllpServer::stop()
{
    Impl& impl = *impl_;
    if (!impl.server) {
        return;
    }
    impl.stopping = true;
    Run& run = *impl.run;
    {
        std::lock_guard lock(run.mutex);
        run.stopping = true;
    }
    // Joins the acceptor and drops connections still queued for a thread; the ones running
    // keep their threads.
    impl.server->stop();
    impl.socket.close();
    {
        // Shutting down only the receive side wakes a connection blocked in poll() or
        // recv() (it sees end of stream) while an answer being written still goes out.
        std::lock_guard lock(run.mutex);
        for (const auto& [id, fd] : run.live) {
            ::shutdown(fd, SHUT_RD);
        }
    }
    bool drained = false;
    std::size_t stuck = 0;
    {
        std::unique_lock lock(run.mutex);
        drained = run.drained.wait_for(lock, DrainTimeout, [&run] { return run.running == 0; });
        if (!drained) {
            stuck = run.running;
            for (const auto& [id, fd] : run.live) {
                ::shutdown(fd, SHUT_RDWR);
            }
        }
    }
    impl.server.reset();
    if (drained) {
        impl.pool.reset();
    } else {
        // A handler still blocked after the drain timeout keeps its pool thread, and
        // ~ThreadPool would wait 10 s per such thread. The pool is left to the process; the
        // connection keeps the Run it uses alive itself.
        detail::log(logger(), Poco::Message::PRIO_ERROR, "listener ", impl.config.name, ": ", stuck,
                    " connections still in their handler after ", DrainTimeout.count(),
                    " s; abandoning them");
        static_cast<void>(impl.pool.release());
    }
    impl.run.reset();
    impl.port = 0;
    detail::log(logger(), Poco::Message::PRIO_INFORMATION, "listener ", impl.config.name,
                " stopped");
}

std::uint16_t MllpServer::port() const
{
    return impl_->port.load();
}

const MllpListenerConfig& MllpServer::config() const
{
    return impl_->config;
}

const MllpServerStats& MllpServer::stats() const
{
    return *impl_->stats;
}

bool MllpServer::isStopping() const
{
    return impl_->stopping.load();
}

} // namespace hl7gw::transport
