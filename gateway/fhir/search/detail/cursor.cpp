#include "gateway/fhir/search/detail/cursor.h"

#include "gateway/fhir/search/detail/search_values.h"

#include <charconv>
#include <cstring>

namespace hl7gw::fhir::search::detail {

namespace {

bool readInt(std::string_view& text, std::int64_t& value, char end)
{
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    const std::size_t used = static_cast<std::size_t>(ptr - text.data());
    if (ec != std::errc() || used >= text.size() || text[used] != end) {
        return false;
    }
    text.remove_prefix(used + 1);
    return true;
}

} // namespace

std::string encodeCursor(std::string_view signature, const Cursor& cursor)
{
    std::string payload = "1|";
    payload += signature;
    payload += '|';
    for (const SqlValue& value : cursor.values) {
        if (const auto* integer = std::get_if<std::int64_t>(&value)) {
            payload += 'i' + std::to_string(*integer) + ';';
        } else if (const auto* real = std::get_if<double>(&value)) {
            std::uint64_t bits = 0;
            std::memcpy(&bits, real, sizeof bits);
            char hex[17];
            for (int i = 15; i >= 0; --i) {
                hex[15 - i] = "0123456789abcdef"[(bits >> (i * 4)) & 0xF];
            }
            hex[16] = '\0';
            payload += 'd';
            payload += hex;
            payload += ';';
        } else {
            const std::string& text = std::get<std::string>(value);
            payload += 's' + std::to_string(text.size()) + ':' + text;
        }
    }
    payload += 'r' + std::to_string(cursor.rid) + ';';
    return base64UrlEncode(payload);
}

std::optional<Cursor> decodeCursor(std::string_view text, std::string_view signature)
{
    const std::optional<std::string> decoded = base64UrlDecode(text);
    if (!decoded) {
        return std::nullopt;
    }
    std::string_view payload = *decoded;
    const std::string head = "1|" + std::string(signature) + "|";
    if (payload.substr(0, head.size()) != head) {
        return std::nullopt;
    }
    payload.remove_prefix(head.size());
    Cursor cursor;
    while (!payload.empty()) {
        const char tag = payload.front();
        payload.remove_prefix(1);
        if (tag == 'i') {
            std::int64_t value = 0;
            if (!readInt(payload, value, ';')) {
                return std::nullopt;
            }
            cursor.values.emplace_back(value);
        } else if (tag == 'd') {
            if (payload.size() < 17 || payload[16] != ';') {
                return std::nullopt;
            }
            std::uint64_t bits = 0;
            const auto [ptr, ec] = std::from_chars(payload.data(), payload.data() + 16, bits, 16);
            if (ec != std::errc() || ptr != payload.data() + 16) {
                return std::nullopt;
            }
            double value = 0;
            std::memcpy(&value, &bits, sizeof value);
            cursor.values.emplace_back(value);
            payload.remove_prefix(17);
        } else if (tag == 's') {
            std::int64_t length = 0;
            if (!readInt(payload, length, ':') || length < 0 ||
                static_cast<std::size_t>(length) > payload.size()) {
                return std::nullopt;
            }
            cursor.values.emplace_back(std::string(payload.substr(0, length)));
            payload.remove_prefix(static_cast<std::size_t>(length));
        } else if (tag == 'r') {
            if (!readInt(payload, cursor.rid, ';') || !payload.empty()) {
                return std::nullopt;
            }
            return cursor;
        } else {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

} // namespace hl7gw::fhir::search::detail
