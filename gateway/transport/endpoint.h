#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hl7gw::transport {

/// "HOST:PORT", "[::1]:PORT". Throws core::ConfigError naming the text when malformed.
///
/// HOST is a DNS name or an IPv4 address (letters, digits, '.', '-', '_'), or an IPv6 address
/// in brackets; PORT is decimal, 0 to 65535 (0 = any free port, for listeners in tests). The
/// name is not resolved here; that happens when a connection is made.
struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
    static Endpoint parse(std::string_view text);
    /// The form parse() reads back: IPv6 hosts in brackets.
    std::string toString() const;
};

} // namespace hl7gw::transport
