#include "gateway/fhir/search/detail/search_values.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace hl7gw::fhir::search::detail {

namespace {

using namespace std::string_view_literals;

constexpr Micros MicrosPerSecond = 1000000;
constexpr Micros MicrosPerDay = 86400 * MicrosPerSecond;

bool readDigits(std::string_view text, std::size_t& pos, std::size_t count, int& value)
{
    if (pos + count > text.size()) {
        return false;
    }
    value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char ch = text[pos + i];
        if (ch < '0' || ch > '9') {
            return false;
        }
        value = value * 10 + (ch - '0');
    }
    pos += count;
    return true;
}

bool isLeap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned daysInMonth(int year, unsigned month)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && isLeap(year) ? 29 : days[month - 1];
}

Micros localMidnight(int year, unsigned month, unsigned day)
{
    return daysFromCivil(year, month, day) * MicrosPerDay;
}

void appendUtf8(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// Decodes one UTF-8 sequence at `pos`; nullopt (and pos unchanged) when invalid.
std::optional<char32_t> decodeUtf8(std::string_view s, std::size_t& pos)
{
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = byte(pos);
    std::size_t length = 0;
    char32_t cp = 0;
    if (lead < 0x80) {
        ++pos;
        return lead;
    }
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        cp = lead & 0x07;
    } else {
        return std::nullopt;
    }
    if (pos + length > s.size()) {
        return std::nullopt;
    }
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(pos + i) & 0xC0) != 0x80) {
            return std::nullopt;
        }
        cp = (cp << 6) | (byte(pos + i) & 0x3F);
    }
    pos += length;
    return cp;
}

// Base letters of U+00C0..U+00FF; '\0' = keep (× ÷), '*' = two letters (see below).
constexpr std::string_view Latin1Bases = "aaaaaa*ceeeeiiiidnooooo\0ouuuuy*"
                                         "*aaaaaa*ceeeeiiiidnooooo\0ouuuuy*y"sv;
// Base letters of U+0100..U+017F (Latin Extended-A).
constexpr std::string_view LatinExtendedABases =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkkllllllllllnnnnnnnnnoooooo**"
    "rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
// U+01CD..U+01DC: the pinyin tone letters ǎ ǐ ǒ ǔ ǖ ǘ ǚ ǜ and their capitals.
constexpr std::string_view PinyinBases = "aaiioouuuuuuuuuu";

std::string_view twoLetterBase(char32_t cp)
{
    switch (cp) {
    case 0xC6:
    case 0xE6:
        return "ae";
    case 0xDE:
    case 0xFE:
        return "th";
    case 0xDF:
        return "ss";
    case 0x152:
    case 0x153:
        return "oe";
    default:
        return {};
    }
}

} // namespace

std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day)
{
    // H. Hinnant's days_from_civil: shift the year to start in March so leap days come last.
    year -= month <= 2 ? 1 : 0;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto yearOfEra = static_cast<unsigned>(year - era * 400);
    const unsigned dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
    return era * 146097 + static_cast<std::int64_t>(dayOfEra) - 719468;
}

std::optional<DateRange> parseDateRange(std::string_view text, int offsetMinutes)
{
    std::size_t pos = 0;
    int year = 0;
    int month = 1;
    int day = 1;
    if (!readDigits(text, pos, 4, year)) {
        return std::nullopt;
    }
    const Micros offset = static_cast<Micros>(offsetMinutes) * 60 * MicrosPerSecond;
    if (pos == text.size()) {
        const Micros low = localMidnight(year, 1, 1) - offset;
        return DateRange{low, localMidnight(year + 1, 1, 1) - offset - 1};
    }
    if (text[pos++] != '-' || !readDigits(text, pos, 2, month) || month < 1 || month > 12) {
        return std::nullopt;
    }
    if (pos == text.size()) {
        const Micros low = localMidnight(year, month, 1) - offset;
        const Micros next =
            month == 12 ? localMidnight(year + 1, 1, 1) : localMidnight(year, month + 1, 1);
        return DateRange{low, next - offset - 1};
    }
    if (text[pos++] != '-' || !readDigits(text, pos, 2, day) || day < 1 ||
        static_cast<unsigned>(day) > daysInMonth(year, month)) {
        return std::nullopt;
    }
    const Micros midnight = localMidnight(year, month, day);
    if (pos == text.size()) {
        return DateRange{midnight - offset, midnight + MicrosPerDay - offset - 1};
    }
    int hour = 0;
    int minute = 0;
    int second = 0;
    if (text[pos++] != 'T' || !readDigits(text, pos, 2, hour) || hour > 23 || pos >= text.size() ||
        text[pos++] != ':' || !readDigits(text, pos, 2, minute) || minute > 59) {
        return std::nullopt;
    }
    Micros span = 60 * MicrosPerSecond;
    Micros fraction = 0;
    if (pos < text.size() && text[pos] == ':') {
        ++pos;
        // A leap second (60) is read as the last second of the minute.
        if (!readDigits(text, pos, 2, second) || second > 60) {
            return std::nullopt;
        }
        second = second == 60 ? 59 : second;
        span = MicrosPerSecond;
        if (pos < text.size() && text[pos] == '.') {
            ++pos;
            std::size_t digits = 0;
            Micros unit = MicrosPerSecond;
            while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
                if (digits < 6) {
                    unit /= 10;
                    fraction += (text[pos] - '0') * unit;
                }
                ++digits;
                ++pos;
            }
            if (digits == 0) {
                return std::nullopt;
            }
            span = unit;
        }
    }
    Micros zone = offset;
    if (pos < text.size()) {
        if (text[pos] == 'Z' && pos + 1 == text.size()) {
            zone = 0;
        } else if (text[pos] == '+' || text[pos] == '-') {
            const bool minus = text[pos++] == '-';
            int zoneHour = 0;
            int zoneMinute = 0;
            if (!readDigits(text, pos, 2, zoneHour) || pos >= text.size() || text[pos++] != ':' ||
                !readDigits(text, pos, 2, zoneMinute) || pos != text.size() || zoneHour > 14 ||
                zoneMinute > 59) {
                return std::nullopt;
            }
            zone = (zoneHour * 60 + zoneMinute) * 60 * MicrosPerSecond * (minus ? -1 : 1);
        } else {
            return std::nullopt;
        }
    }
    const Micros low =
        midnight + ((hour * 60 + minute) * 60 + second) * MicrosPerSecond + fraction - zone;
    return DateRange{low, low + span - 1};
}

std::optional<DecimalValue> parseDecimal(std::string_view text)
{
    std::size_t pos = 0;
    if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
        ++pos;
    }
    const std::size_t intStart = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        ++pos;
    }
    if (pos == intStart) {
        return std::nullopt;
    }
    int decimals = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
            ++pos;
            ++decimals;
        }
        if (decimals == 0) {
            return std::nullopt;
        }
    }
    int exponent = 0;
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
        ++pos;
        bool minus = false;
        if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
            minus = text[pos++] == '-';
        }
        const std::size_t expStart = pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) &&
               pos - expStart < 4) {
            exponent = exponent * 10 + (text[pos++] - '0');
        }
        if (pos == expStart) {
            return std::nullopt;
        }
        exponent = minus ? -exponent : exponent;
    }
    if (pos != text.size()) {
        return std::nullopt;
    }
    const std::string copy(text);
    const double value = std::strtod(copy.c_str(), nullptr);
    if (!std::isfinite(value)) {
        return std::nullopt;
    }
    const double half = 0.5 * std::pow(10.0, exponent - decimals);
    return DecimalValue{value, value - half, value + half};
}

std::string normalizeText(std::string_view utf8)
{
    std::string out;
    out.reserve(utf8.size());
    bool pendingSpace = false;
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        const std::optional<char32_t> decoded = decodeUtf8(utf8, pos);
        if (!decoded) {
            out += utf8[pos++];
            continue;
        }
        char32_t cp = *decoded;
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            cp -= 0xFEE0; // full-width ASCII (common in Chinese input) -> ASCII
        }
        if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000 || cp == 0xA0) {
            pendingSpace = !out.empty();
            continue;
        }
        if (cp >= 0x300 && cp <= 0x36F) {
            continue; // combining marks of decomposed accents
        }
        if (pendingSpace) {
            out += ' ';
            pendingSpace = false;
        }
        if (cp >= 'A' && cp <= 'Z') {
            out += static_cast<char>(cp + 32);
        } else if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp >= 0xC0 && cp <= 0xFF) {
            const char base = Latin1Bases[cp - 0xC0];
            if (base == '*') {
                out += twoLetterBase(cp);
            } else if (base == '\0') {
                appendUtf8(out, cp);
            } else {
                out += base;
            }
        } else if (cp >= 0x100 && cp <= 0x17F) {
            const char base = LatinExtendedABases[cp - 0x100];
            if (base == '*') {
                out += twoLetterBase(cp);
            } else {
                out += base;
            }
        } else if (cp >= 0x1CD && cp <= 0x1DC) {
            out += PinyinBases[cp - 0x1CD];
        } else if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) {
            appendUtf8(out, cp + 0x20);
        } else if (cp >= 0x410 && cp <= 0x42F) {
            appendUtf8(out, cp + 0x20);
        } else if (cp >= 0x400 && cp <= 0x40F) {
            appendUtf8(out, cp + 0x50);
        } else {
            appendUtf8(out, cp);
        }
    }
    return out;
}

std::string base64UrlEncode(std::string_view bytes)
{
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char ch : bytes) {
        buffer = (buffer << 8) | static_cast<unsigned char>(ch);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += alphabet[(buffer >> bits) & 0x3F];
        }
    }
    if (bits > 0) {
        out += alphabet[(buffer << (6 - bits)) & 0x3F];
    }
    return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text)
{
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char ch : text) {
        int value = -1;
        if (ch >= 'A' && ch <= 'Z') {
            value = ch - 'A';
        } else if (ch >= 'a' && ch <= 'z') {
            value = ch - 'a' + 26;
        } else if (ch >= '0' && ch <= '9') {
            value = ch - '0' + 52;
        } else if (ch == '-') {
            value = 62;
        } else if (ch == '_') {
            value = 63;
        } else {
            return std::nullopt;
        }
        buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    return out;
}

} // namespace hl7gw::fhir::search::detail
