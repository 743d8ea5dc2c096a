#pragma once

#include "gateway/transport/endpoint.h"
#include "gateway/transport/tls_context.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hl7gw::transport {

struct MllpClientConfig {
    Endpoint to;
    std::optional<TlsConfig> tls; // cert/key optional (client certificate for mTLS)
    int connectTimeoutMs = 10'000;
    int ackTimeoutMs = 30'000;
    std::size_t maxFrameBytes = 16 * 1024 * 1024;
};

/// Sends messages over one long-lived MLLP connection and waits for each answer
/// (STANDARDS.md §1.5). Connects lazily and reconnects after a failure. Not thread-safe:
/// one client per sending thread.
///
/// connectTimeoutMs bounds the TCP connect and the TLS handshake (name resolution is the
/// system's); ackTimeoutMs bounds sending the frame and receiving the whole answer. With TLS
/// the server's certificate must chain to `tls.ca` (the system CAs when empty) and name
/// `to.host`. A connection the server closed while idle is noticed before the next message
/// is sent and replaced, so that message is not lost to a stale socket.
class MllpClient {
  public:
    explicit MllpClient(MllpClientConfig config);
    ~MllpClient();
    MllpClient(const MllpClient&) = delete;
    MllpClient& operator=(const MllpClient&) = delete;

    /// Frames `message`, sends it and returns the answer's bytes (without the envelope).
    /// Throws TransportError when it cannot connect, send, or gets no complete answer within
    /// ackTimeoutMs; the connection is then closed, so the next call reconnects.
    std::string exchange(std::string_view message);
    /// Frames and sends `message` without waiting for an answer: for ACKs, which are never
    /// acknowledged (STANDARDS.md §1.6). Whatever the peer sent since is read and dropped
    /// first (some answer ACKs all the same). Throws TransportError like exchange().
    void send(std::string_view message);
    void close();

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace hl7gw::transport
