#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace hl7gw::fhir::search::detail {

/// Microseconds since 1970-01-01T00:00:00Z. The index stores these for every date.
using Micros = std::int64_t;
inline constexpr Micros MinMicros = std::numeric_limits<Micros>::min();
inline constexpr Micros MaxMicros = std::numeric_limits<Micros>::max();

/// The range a FHIR date, dateTime or instant stands for (FHIR R4 search.html, "date"):
/// `2024` is the whole year, `2024-05-06T14:30:15Z` the whole second. Both ends are
/// inclusive, in UTC.
struct DateRange {
    Micros low = MinMicros;
    Micros high = MaxMicros;
};

/// Parses YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.f+]][Z|(+|-)hh:mm]. Values
/// without a zone are read at `offsetMinutes` east of UTC. Nullopt when malformed or out
/// of range (month 13, day 31 in April, hour 24 ...).
std::optional<DateRange> parseDateRange(std::string_view text, int offsetMinutes);

/// Days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day);

/// A decimal as a double and the range its precision implies (FHIR R4 search.html,
/// "number": `100` is [99.5, 100.5), `1e2` is [50, 150), `100.00` is [99.995, 100.005)).
struct DecimalValue {
    double value = 0;
    double low = 0;
    double high = 0;
};
std::optional<DecimalValue> parseDecimal(std::string_view text);

/// The form string search compares: lower case, accents and marks removed from Latin
/// letters (é -> e, ß -> ss, pinyin ǎ -> a), full-width ASCII made ASCII, Greek and
/// Cyrillic lower-cased, white space runs made one space, trimmed. CJK and everything
/// else are kept as they are. Invalid UTF-8 bytes pass through unchanged.
std::string normalizeText(std::string_view utf8);

std::string base64UrlEncode(std::string_view bytes);
std::optional<std::string> base64UrlDecode(std::string_view text);

} // namespace hl7gw::fhir::search::detail
