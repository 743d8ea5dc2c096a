#pragma once

#include "gateway/fhir/search/search_parameters.h"

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hl7gw::fhir::search {

/// Index rows of one resource, one vector per index table (search_sql.h has the DDL). Every
/// row belongs to one parameter (`param` = its name). Rows that serve a modifier are kept
/// under the parameter's name plus the modifier: "subject:identifier" holds the
/// Reference.identifier tokens of `subject`, "identifier:of-type" the type of each
/// Identifier (system/code of the type's coding, `text` = the identifier's value as is).
struct TokenRow {
    std::string param;
    std::string system;              // "" when the value has none
    std::optional<std::string> code; // nullopt for a row that only carries text
    std::string text;                // normalized display / CodeableConcept.text, for :text
    auto operator<=>(const TokenRow&) const = default;
};

struct StringRow {
    std::string param;
    std::string normalized; // detail::normalizeText(exact)
    std::string exact;
    auto operator<=>(const StringRow&) const = default;
};

/// Both ends inclusive, microseconds since the epoch in UTC; an open Period end is
/// INT64_MIN / INT64_MAX.
struct DateRow {
    std::string param;
    std::int64_t low = 0;
    std::int64_t high = 0;
    auto operator<=>(const DateRow&) const = default;
};

/// A local reference has targetType and targetId and an empty url; any other (absolute URL
/// outside our base, urn:uuid:, canonical) has only `url`.
struct ReferenceRow {
    std::string param;
    std::string targetType;
    std::string targetId;
    std::string url;
    auto operator<=>(const ReferenceRow&) const = default;
};

struct QuantityRow {
    std::string param;
    double value = 0;
    std::string system;
    std::string code;
    std::string unit;
    auto operator<=>(const QuantityRow&) const = default;
};

struct NumberRow {
    std::string param;
    double value = 0;
    auto operator<=>(const NumberRow&) const = default;
};

struct UriRow {
    std::string param;
    std::string uri;
    auto operator<=>(const UriRow&) const = default;
};

struct IndexRows {
    std::vector<TokenRow> tokens;
    std::vector<StringRow> strings;
    std::vector<DateRow> dates;
    std::vector<ReferenceRow> references;
    std::vector<QuantityRow> quantities;
    std::vector<NumberRow> numbers;
    std::vector<UriRow> uris;

    std::size_t size() const;
    bool empty() const { return size() == 0; }
};

struct ExtractOptions {
    /// Zone of date/dateTime values without one, minutes east of UTC (+08:00 by default,
    /// STANDARDS.md §1.4).
    int offsetMinutes = 480;
    /// Our FHIR base ("https://gw.example.org/fhir"), so absolute references to our own
    /// resources index as local ones; empty = none.
    std::string baseUrl;
};

/// The index rows of `resource` (a FHIR JSON resource, numbers as made by parseJson() or
/// plain JSON numbers) for every parameter the registry has for its resourceType, the
/// common ones included. `_id` and `_lastUpdated` have no rows: the SQL reads them from
/// fhir_current. Values that are not what their type says (a date that does not parse, a
/// reference to "#contained") are skipped, never an error: validation is not done here.
/// Rows come sorted and without duplicates. Thread-safe.
IndexRows
extractIndexRows(const rapidjson::Value& resource,
                 const SearchParameterRegistry& registry = SearchParameterRegistry::standard(),
                 const ExtractOptions& options = {});

/// How a reference string reads: a local `Type/id` (a `/_history/n` suffix dropped, our
/// base removed first) or an absolute one. Nullopt for `#contained`, conditional
/// (`Type?query`) and unreadable references.
struct ParsedReference {
    std::string type; // local, or the last `Type/id` of an absolute URL when it has one
    std::string id;
    std::string url; // absolute only
    bool local() const { return url.empty(); }
};
std::optional<ParsedReference> parseReference(std::string_view reference, std::string_view baseUrl);

} // namespace hl7gw::fhir::search
