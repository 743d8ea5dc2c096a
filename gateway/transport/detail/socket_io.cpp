#include "gateway/transport/detail/socket_io.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>

#include <algorithm>

namespace hl7gw::transport::detail {

namespace {

// poll() takes its timeout in int milliseconds, and so does POCO's TLS layer when it polls
// with a socket's receive or send timeout: longer waits ("no idle timeout") would overflow.
// Long waits are made of slices instead, and per-call timeouts are capped.
constexpr auto MaxPollSlice = std::chrono::minutes(10);

} // namespace

void setTimeouts(Poco::Net::StreamSocket& socket, std::chrono::steady_clock::duration timeout)
{
    const auto bounded = std::min<std::chrono::steady_clock::duration>(timeout, MaxPollSlice);
    const Poco::Timespan span(
        std::chrono::duration_cast<std::chrono::microseconds>(bounded).count());
    socket.setReceiveTimeout(span);
    socket.setSendTimeout(span);
}

bool waitReadable(Poco::Net::StreamSocket& socket, std::chrono::steady_clock::time_point deadline)
{
    if (socket.available() > 0) {
        return true;
    }
    for (;;) {
        const auto remaining = deadline - std::chrono::steady_clock::now();
        if (remaining <= std::chrono::steady_clock::duration::zero()) {
            return false;
        }
        const auto slice = std::min<std::chrono::steady_clock::duration>(remaining, MaxPollSlice);
        // Round up: a poll that wakes a fraction of a millisecond early would spin.
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(slice);
        const Poco::Timespan span(std::chrono::microseconds(wait).count());
        if (socket.poll(span, Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR)) {
            return true;
        }
    }
}

void sendAll(Poco::Net::StreamSocket& socket, std::string_view bytes)
{
    while (!bytes.empty()) {
        const int chunk = static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 30));
        const int sent = socket.sendBytes(bytes.data(), chunk);
        if (sent <= 0) {
            throw Poco::Net::NetException("the connection accepted no more bytes");
        }
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
}

} // namespace hl7gw::transport::detail
