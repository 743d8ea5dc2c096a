#pragma once

#include <cstdint>
#include <string_view>

namespace hl7gw::fhir {
class TypeDef;
}

namespace hl7gw::fhir::detail {

/// True when `text` is a valid value of the primitive `type` (the JSON schema's pattern as a
/// whole-value match, plus what a pattern cannot say: integer ranges, real calendar dates,
/// no empty values). Long free-text types (string, markdown, uri, base64Binary...) are checked
/// by hand-written scanners equivalent to their patterns, so a 10 MB attachment cannot blow
/// the regex engine's stack. Thread-safe.
bool isValidPrimitiveText(const TypeDef& type, std::string_view text);

/// Whether `text` matches the pattern of the primitive `type` as a whole, as std::regex would
/// (no range or calendar checks). The common types (date, dateTime, instant, id, boolean and
/// the numbers) are matched by hand; the rest (time, oid, uuid) by the compiled pattern.
bool matchesPrimitivePattern(const TypeDef& type, std::string_view text);

/// The instants a date/dateTime/instant covers, as [from, to) in microseconds since
/// 1970-01-01T00:00:00Z ("2024-05" covers the whole month; values without a zone count as
/// UTC). False when `text` is not such a value.
bool timeRange(std::string_view text, std::int64_t& from, std::int64_t& to);

} // namespace hl7gw::fhir::detail
