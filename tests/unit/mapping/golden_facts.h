#pragma once

// Golden-test support: compares two FHIR Bundles by content ("facts"), not by ids.
//
// A resource's facts are its leaves flattened to dotted paths without array indices
// (`identifier.type.coding.code`, `name.given`). Ids differ between converters (Microsoft's
// are hashes of its own, ours are `urn:uuid:`s made from business identifiers), so:
//  - `id` (at any depth), and `meta` and `text` (narrative) at a resource's root are ignored,
//    and so are entry `fullUrl`s and `request`s (only `entry.resource` is read);
//  - a `reference` becomes the type of the resource it points to (`Practitioner`), resolved
//    through the Bundle's fullUrls for `urn:uuid:` references;
//  - a dateTime/instant with an offset becomes UTC (`1988-08-18T11:26:00+02:15` ->
//    `1988-08-18T09:11:00Z`, fractional seconds kept), so two time-zone choices for the same
//    instant compare equal; dates and partial dates are unchanged;
//  - numbers are their JSON text, booleans `true`/`false`.
//
// Only facts chosen by a FactSelection are compared; a difference matched by a
// KeptDifferences row is reported as kept (with its reason) instead of failing.

#include <rapidjson/document.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hl7gw::test {

struct Fact {
    std::string resourceType;
    std::string path;
    std::string value;
};

bool operator<(const Fact& a, const Fact& b);
bool operator==(const Fact& a, const Fact& b);
bool operator!=(const Fact& a, const Fact& b);
/// `Patient name.family = "EVERYMAN"` (the value JSON-quoted so spaces and empties show).
std::string toString(const Fact& fact);
std::ostream& operator<<(std::ostream& out, const Fact& fact);

/// `1988-08-18T11:26:00+02:15` -> `1988-08-18T09:11:00Z` (fractional seconds kept, missing
/// seconds written `:00`); anything that is not a dateTime with a time and an offset (a
/// date, `2018-05`, a time, free text) is returned unchanged.
std::string normaliseDateTime(std::string_view value);

/// Every fact of every resource in `bundle` (its `entry[].resource`s; a value that is not a
/// Bundle is taken as one resource), sorted. Not filtered by any selection.
std::vector<Fact> bundleFacts(const rapidjson::Value& bundle);

/// The facts we claim to map: lines `ResourceType path-prefix`; `#` starts a comment.
/// A path-prefix `*` selects every path of that type.
class FactSelection {
  public:
    FactSelection() = default;
    /// Throws std::runtime_error "FILE:LINE: what is wrong".
    static FactSelection load(const std::filesystem::path& file);
    static FactSelection parse(std::string_view text, const std::string& sourceName);

    /// True when `path` equals a prefix selected for `resourceType` or starts with prefix + ".".
    bool selects(std::string_view resourceType, std::string_view path) const;
    /// True when some path of `resourceType` is selected.
    bool selectsType(std::string_view resourceType) const;
    bool empty() const { return prefixes_.empty(); }
    std::size_t size() const;

  private:
    std::map<std::string, std::vector<std::string>, std::less<>> prefixes_;
};

/// Differences we chose to keep, from a TSV:
/// `PAIR_OR_*<TAB>ResourceType<TAB>path-prefix<TAB>reason`; `#` lines and blank lines skipped.
/// The pair column is a pair name (`ADT-A40-01`), `*` (every pair) or a name prefix ending
/// in `*` (`SIU-*`); path-prefix `*` matches every path of the type. The reason is mandatory.
class KeptDifferences {
  public:
    struct Row {
        std::string pair;
        std::string resourceType;
        std::string pathPrefix;
        std::string reason;
        std::string where; ///< FILE:LINE, for messages
    };

    KeptDifferences() = default;
    /// Throws std::runtime_error "FILE:LINE: what is wrong".
    static KeptDifferences load(const std::filesystem::path& file);
    static KeptDifferences parse(std::string_view text, const std::string& sourceName);

    /// The first row (in file order) matching the fact in that pair, or nullptr.
    const Row* match(std::string_view pairName, const Fact& fact) const;
    const std::vector<Row>& rows() const { return rows_; }

  private:
    std::vector<Row> rows_;
};

struct FactComparison {
    std::vector<Fact> missing; ///< theirs, not ours
    std::vector<Fact> extra;   ///< ours, not theirs
    /// Differences matched by a KeptDifferences row, with the row's reason: the first
    /// `keptMissing` were missing, the rest extra.
    std::vector<std::pair<Fact, std::string>> kept;
    std::size_t keptMissing = 0;
    std::size_t matched = 0;

    bool same() const { return missing.empty() && extra.empty(); }
};

/// Compares the selected facts of two Bundles as multisets per resource type, across the
/// whole Bundle (all Patients' facts together, and so on).
FactComparison compareFacts(const rapidjson::Value& ours, const rapidjson::Value& theirs,
                            const FactSelection& selection, const KeptDifferences& kept,
                            std::string_view pairName);

/// A readable diff: a summary line, then one line per fact, `- ` missing (theirs only),
/// `+ ` extra (ours only), `~-`/`~+` kept (with the reason after `  # `).
std::string describe(const FactComparison& comparison);

/// How many selected facts each resource type has in `bundle` (coverage for the golden test).
std::map<std::string, std::size_t> factCountsByType(const rapidjson::Value& bundle,
                                                    const FactSelection& selection);

} // namespace hl7gw::test
