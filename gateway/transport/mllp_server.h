#pragma once

#include "gateway/transport/endpoint.h"
#include "gateway/transport/tls_context.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hl7gw::transport {

struct MllpListenerConfig {
    std::string name;
    Endpoint listen{"127.0.0.1", 2575}; // port 0 = any free port (tests)
    std::optional<TlsConfig> tls;
    std::size_t maxFrameBytes = 16 * 1024 * 1024;
    int idleTimeoutSeconds = 600;     // a connection silent this long is closed
    std::size_t maxConnections = 256; // further connections are closed at once, and counted
};

/// Who is on the other end of an inbound connection.
struct ConnectionInfo {
    std::uint64_t connectionId = 0;
    std::string listener; // MllpListenerConfig::name
    std::string peer;     // "127.0.0.1:51234"
    bool tls = false;
};

/// Called once per complete frame, in order, on the connection's thread, with the message
/// bytes (without the MLLP envelope). Returns the ACK bytes to frame and send back; an empty
/// string sends nothing. May block (it waits for the store). Must not throw for bad input;
/// an exception closes the connection without an answer (the sender keeps the message).
///
/// Called concurrently from every open connection's thread. `message` is valid only during
/// the call; an empty frame (0x0B 0x1C 0x0D) is passed on like any other.
using MllpHandler = std::function<std::string(std::string_view message, const ConnectionInfo&)>;

/// Counters of one listener, readable from any thread (for /metrics). They accumulate across
/// stop() and start().
struct MllpServerStats {
    std::atomic<std::uint64_t> connectionsAccepted{0};
    std::atomic<std::uint64_t> connectionsRefused{0}; // over maxConnections, or TLS failed
    std::atomic<std::int64_t> connectionsOpen{0};
    std::atomic<std::uint64_t> frames{0};
    std::atomic<std::uint64_t> junkBytes{0};       // bytes before a start block, discarded
    std::atomic<std::uint64_t> oversizedFrames{0}; // connection closed without an ACK
    std::atomic<std::uint64_t> idleTimeouts{0};
    std::atomic<std::uint64_t> handlerErrors{0}; // handler threw: closed without an answer
};

/// One MLLP listener (plain or TLS) over POCO TCPServer, one thread per connection.
/// start() binds and returns; stop() stops accepting, lets each connection finish the
/// message it is handling (its ACK is sent), then closes them. Not copyable.
///
/// stop() waits at most 5 s for handlers still running; it is called by the destructor, and
/// start() may be called again after it. start(), stop() and the destructor must not run
/// concurrently with each other; the accessors may be called from any thread. Connections
/// are logged to "hl7gw.transport.mllp" with ids, peers, offsets and sizes, never content.
class MllpServer {
  public:
    MllpServer(MllpListenerConfig config, MllpHandler handler);
    ~MllpServer();
    MllpServer(const MllpServer&) = delete;
    MllpServer& operator=(const MllpServer&) = delete;

    /// Throws TransportError when the address cannot be bound or the certificates not loaded.
    void start();
    void stop();
    /// The bound port (useful with port 0).
    std::uint16_t port() const;
    const MllpListenerConfig& config() const;
    const MllpServerStats& stats() const;
    /// True from the moment stop() begins until the next start(): new connections are
    /// refused and the open ones are being drained (for /healthz, or a handler that waits).
    bool isStopping() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace hl7gw::transport
