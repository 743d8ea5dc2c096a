#pragma once

#include "gateway/fhir/search/search_query.h"

#include <optional>
#include <string>
#include <string_view>

namespace hl7gw::fhir::search::detail {

/// The `_cursor` token: base64url (no padding) of
///   "1|" signature "|" value* "r" rid ";"
/// with each value "i" digits ";" (int64), "d" 16 hex digits ";" (the double's bits) or
/// "s" byte-length ":" bytes (text). `signature` is sortSignature() of the query.
std::string encodeCursor(std::string_view signature, const Cursor& cursor);
/// Nullopt when the text is not a cursor or was made for another sort signature.
std::optional<Cursor> decodeCursor(std::string_view text, std::string_view signature);

} // namespace hl7gw::fhir::search::detail
