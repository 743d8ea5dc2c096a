#include "gateway/transport/endpoint.h"

#include "gateway/core/errors.h"

#include <Poco/Net/IPAddress.h>

#include <algorithm>

namespace hl7gw::transport {

namespace {

[[noreturn]] void malformed(std::string_view text, std::string_view why)
{
    throw core::ConfigError("endpoint \"" + std::string(text) + "\": " + std::string(why) +
                            " (expected HOST:PORT or [IPV6]:PORT)");
}

bool isHostNameChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

std::uint16_t parsePort(std::string_view text, std::string_view port)
{
    if (port.empty()) {
        malformed(text, "no port");
    }
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        malformed(text, "port is not a number from 0 to 65535");
    }
    unsigned value = 0;
    for (char c : port) {
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) {
        malformed(text, "port is not a number from 0 to 65535");
    }
    return static_cast<std::uint16_t>(value);
}

} // namespace

Endpoint Endpoint::parse(std::string_view text)
{
    Endpoint endpoint;
    std::string_view rest;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) {
            malformed(text, "'[' without ']'");
        }
        endpoint.host = std::string(text.substr(1, close - 1));
        Poco::Net::IPAddress address;
        if (endpoint.host.find(':') == std::string::npos ||
            !Poco::Net::IPAddress::tryParse(endpoint.host, address) ||
            address.family() != Poco::Net::IPAddress::IPv6) {
            malformed(text, "not an IPv6 address in brackets");
        }
        rest = text.substr(close + 1);
        if (rest.empty() || rest.front() != ':') {
            malformed(text, "no ':' after ']'");
        }
        rest.remove_prefix(1);
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            malformed(text, "no port");
        }
        const std::string_view host = text.substr(0, colon);
        if (host.empty()) {
            malformed(text, "no host");
        }
        if (host.find(':') != std::string_view::npos) {
            malformed(text, "an IPv6 address needs brackets");
        }
        if (!std::all_of(host.begin(), host.end(), isHostNameChar)) {
            malformed(text, "host has a character a host name cannot have");
        }
        endpoint.host = std::string(host);
        rest = text.substr(colon + 1);
    }
    endpoint.port = parsePort(text, rest);
    return endpoint;
}

std::string Endpoint::toString() const
{
    const std::string port = std::to_string(this->port);
    if (host.find(':') != std::string::npos) {
        return "[" + host + "]:" + port;
    }
    return host + ":" + port;
}

} // namespace hl7gw::transport
