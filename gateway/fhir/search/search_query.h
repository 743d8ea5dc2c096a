#pragma once

#include "gateway/core/issue.h"
#include "gateway/fhir/search/search_parameters.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace hl7gw::fhir::search {

/// A value bound to an SQL placeholder, and a sort key value read back from a result row:
/// int64 (rids, microseconds), double (numbers, quantities) or text.
using SqlValue = std::variant<std::int64_t, double, std::string>;

/// The comparison prefixes of date, number and quantity values (R4 search.html, "prefixes").
enum class Prefix : std::uint8_t { Eq, Ne, Gt, Lt, Ge, Le, Sa, Eb, Ap };

enum class Modifier : std::uint8_t {
    None,
    Missing,    // any type: value true|false
    Exact,      // string
    Contains,   // string
    Not,        // token
    Text,       // token: display / CodeableConcept.text, string-like
    OfType,     // token on Identifier: type-system|type-code|value
    Identifier, // reference: by Reference.identifier, token-like value
    Above,      // uri: the value starts with the stored uri
    Below,      // uri: the stored uri starts with the value
    Type,       // reference `:Patient`; the type is in Criterion::typeModifier
};

/// One value of an OR list, parsed for its parameter's type. Fields that do not apply to
/// the type stay empty.
struct SearchValue {
    Prefix prefix = Prefix::Eq;
    std::string raw; // the value as it came (escapes removed), after any prefix

    // token, :identifier, :of-type, quantity units: system nullopt = any system; "" = none
    // ("|code"); code empty with a system = any code of that system ("system|").
    std::optional<std::string> system;
    std::string code;
    std::string ofTypeValue;

    std::string text; // string and :text: normalized; :exact: as it came

    std::int64_t low = 0; // date: the implied range, microseconds UTC, both inclusive
    std::int64_t high = 0;

    double number = 0; // number, quantity: the value and its implied precision range
    double numberLow = 0;
    double numberHigh = 0;

    std::string targetType; // reference: local (type may be empty = any) or url
    std::string targetId;
    std::string url;

    bool missing = false; // :missing=true
};

/// One `name=value` of the request (several values = OR); the criteria of a query are ANDed.
struct Criterion {
    enum class Kind : std::uint8_t {
        Parameter,   // an index-table parameter
        Id,          // _id, on fhir_current.id
        LastUpdated, // _lastUpdated, on fhir_current.last_updated
        Chain,       // reference.param: `next` holds one criterion per target type (OR)
        Has,         // _has:Type:ref:param: `next` holds the criterion on hasType
    };
    Kind kind = Kind::Parameter;
    std::string name;                           // the parameter name as requested, for messages
    std::string resourceType;                   // the type this criterion is evaluated on
    const SearchParameter* parameter = nullptr; // Chain: the reference; Has: hasType's ref
    Modifier modifier = Modifier::None;
    std::string typeModifier; // reference `:Type`
    std::vector<SearchValue> values;
    std::vector<Criterion> next;
};

struct SortKey {
    std::string name;
    bool descending = false;
    const SearchParameter* parameter = nullptr; // _id / _lastUpdated read fhir_current
    /// The server's own order for a search with a date range and no `_sort`: by the end of
    /// the matching value of that date criterion (`driverOf()`), so that the query can walk
    /// the date index in order and stop when the page is full. Never set by a client.
    bool byMatchedEnd = false;
};

/// `_include=Source:param[:Target]` / `_revinclude=Source:param[:Target]`; `*` for every
/// reference parameter of Source (wildcard, parameter null).
struct IncludeSpec {
    std::string sourceType;
    std::string parameterName;
    std::string targetType; // empty = any
    bool iterate = false;
    bool wildcard = false;
};

enum class Summary : std::uint8_t { None, True, Text, Data, Count, False };
enum class Total : std::uint8_t { Default, None, Estimate, Accurate };

/// A decoded `_cursor`: the sort key values and rid of the last row of the previous page.
struct Cursor {
    std::vector<SqlValue> values;
    std::int64_t rid = 0;
};

/// A parsed search on one resource type.
struct SearchQuery {
    std::string resourceType;
    std::vector<Criterion> criteria; // AND
    std::size_t count = 20;          // page size (_count, capped at ParseOptions::maxCount)
    std::vector<SortKey> sort;       // empty = by rid (insertion order), ascending
    std::vector<IncludeSpec> includes;
    std::vector<IncludeSpec> revIncludes;
    Summary summary = Summary::None;
    std::vector<std::string> elements;
    Total total = Total::Default;
    std::optional<Cursor> cursor;
    /// Parameters that were understood (for the self link) and ones that were not (the
    /// caller ignores them, or answers 400 when the client sent Prefer: handling=strict).
    std::vector<std::pair<std::string, std::string>> used;
    std::vector<std::pair<std::string, std::string>> unknown;
};

struct ParseOptions {
    const SearchParameterRegistry* registry = &SearchParameterRegistry::standard();
    int offsetMinutes = 480;    // zone of dates without one (server zone), minutes east of UTC
    std::string baseUrl;        // our FHIR base: absolute references into it are local
    std::int64_t nowMicros = 0; // for `ap` on dates (10% of the distance to now)
    std::size_t defaultCount = 20;
    std::size_t maxCount = 1000;
};

/// The date criterion a `byMatchedEnd` sort walks: a plain (no modifier) single-valued
/// criterion on that date parameter whose matches all end at or after the value's start
/// (prefixes eq, ge, gt, sa, ap). Null when the query has none.
const Criterion* driverOf(const SearchQuery& query);

/// The sort specification as it would be written in `_sort` ("-date,_id"), also part of
/// the cursor so a cursor cannot be replayed against a different order.
std::string sortSignature(const std::vector<SortKey>& sort);

/// Parses the request's parameters (name/value pairs as they came, URL-decoded, in order)
/// for a search on `resourceType`. Comma separates OR values (`\,` is a literal comma);
/// repeated names AND. Bad values, unknown modifiers, chains on non-references and the
/// like add an Issue (code "value" / "not-supported", Location::path = the parameter name
/// as sent) and the criterion is left out; the caller answers 400 when issues has errors.
/// Empty values are ignored (R4 search.html). Thread-safe.
SearchQuery parseSearch(std::string_view resourceType,
                        const std::vector<std::pair<std::string, std::string>>& parameters,
                        const ParseOptions& options, core::IssueList& issues);

} // namespace hl7gw::fhir::search
