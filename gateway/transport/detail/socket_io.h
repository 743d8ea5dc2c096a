#pragma once

#include <chrono>
#include <string_view>

namespace Poco::Net {
class StreamSocket;
}

namespace hl7gw::transport::detail {

/// Sets the socket's send and receive timeouts, capped at 10 minutes (they bound what one
/// blocking call, such as a TLS record read or a handshake step, may wait).
void setTimeouts(Poco::Net::StreamSocket& socket, std::chrono::steady_clock::duration timeout);

/// Waits until the socket has bytes to read (or end of stream, or an error to report), or
/// `deadline` passes; false on the deadline. Bytes TLS already decrypted count as readable,
/// although poll() on the descriptor cannot see them.
bool waitReadable(Poco::Net::StreamSocket& socket, std::chrono::steady_clock::time_point deadline);

/// Sends every byte, looping over partial writes. Throws Poco exceptions on failure.
void sendAll(Poco::Net::StreamSocket& socket, std::string_view bytes);

} // namespace hl7gw::transport::detail
