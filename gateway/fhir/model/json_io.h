#pragma once

#include "gateway/core/issue.h"

#include <rapidjson/document.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hl7gw::fhir {

/// FHIR JSON keeps decimals exactly as written ("1.50" stays 1.50, 0.1 never becomes
/// 0.1000000000000000055), which no double can do. So a document made by parseJson() holds
/// every JSON number as a string value whose first byte is NUL, followed by the number's text
/// exactly as it was in the input. Real strings cannot start with NUL: parseJson() rejects a
/// string holding U+0000 (FHIR forbids control characters in strings anyway), so the two can
/// never be confused. Read numbers only through the helpers below, and write documents only
/// with writeJson(), which prints the marked strings as bare numbers again.
inline constexpr char NumberMark = '\0';

/// True for a number made by parseJson() or makeNumber().
bool isNumber(const rapidjson::Value& value);
/// The number's text as it was written ("1.50"); empty when value is not a number.
std::string_view numberText(const rapidjson::Value& value);
/// The number as a double (for search indexes and comparisons, never for output); nullopt
/// when value is not a number.
std::optional<double> numberValue(const rapidjson::Value& value);
/// A number value holding `text`, which must be a valid JSON number.
rapidjson::Value makeNumber(std::string_view text, rapidjson::Document::AllocatorType& allocator);
rapidjson::Value makeNumber(long long value, rapidjson::Document::AllocatorType& allocator);

struct JsonLimits {
    std::size_t maxDepth = 64; // nesting of objects and arrays
};

/// Parses UTF-8 JSON text into `out` (numbers marked as above). On failure returns false and
/// fills `issue` (code "structure" for malformed JSON, "value" for invalid UTF-8 or a string
/// holding U+0000, "too-costly" for nesting deeper than the limit) with the line and column
/// in Location::line / Location::path ("line 3, column 17").
bool parseJson(std::string_view text, rapidjson::Document& out, core::Issue& issue,
               JsonLimits limits = {});

/// Compact (or indented by two spaces when pretty) UTF-8 JSON, numbers bare.
std::string writeJson(const rapidjson::Value& value, bool pretty = false);

} // namespace hl7gw::fhir
