#pragma once

#include "gateway/core/issue.h"

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::fhir::search {

/// The value type of a search parameter (FHIR R4 search.html, "Search Parameter Types").
enum class ParamType : std::uint8_t { Token, String, Date, Reference, Quantity, Number, Uri };

std::string_view toString(ParamType type);
std::ostream& operator<<(std::ostream& out, ParamType type);

/// One step of an element path: the element name, and the filters the registry's FHIRPath
/// puts on it.
struct PathStep {
    /// Element name as in the resource definition. A choice element is named without its
    /// type ("effective"); it matches `effectiveDateTime`, `effectivePeriod` ... unless
    /// `choiceType` narrows it.
    std::string name;
    /// From `x as Type` / `x.ofType(Type)`: only `x` + Type ("valueQuantity"); empty = any.
    std::string choiceType;
    /// From `.where(element='value')`: keep only items whose `whereElement` equals it.
    std::string whereElement;
    std::string whereValue;
};

/// One alternative of an expression ("A | B" has two).
struct ElementPath {
    std::vector<PathStep> steps;
    /// From `.where(resolve() is Type)`: index only references to this type; empty = any.
    std::string targetFilter;
};

/// A search parameter of one resource type (or of every type when resourceType is
/// "Resource"). Immutable once the registry is built.
struct SearchParameter {
    std::string resourceType;
    std::string name;
    ParamType type = ParamType::Token;
    std::string expression; // as in the table, for CapabilityStatement and messages
    std::vector<ElementPath> paths;
    /// Reference targets; {"*"} = any type. Empty for other types.
    std::vector<std::string> targets;

    bool targetsAny() const;
    bool allowsTarget(std::string_view type) const;
};

/// The search parameters per resource type. Built once (from the compiled-in table or a
/// text in the same form), then read-only and safe to share between threads.
class SearchParameterRegistry {
  public:
    /// The standard R4 parameters compiled in from data/search_parameters.txt.
    static const SearchParameterRegistry& standard();

    /// Reads a table in the form of data/search_parameters.txt; problems go to `issues`
    /// (Location::line set) and the line is skipped.
    static std::unique_ptr<SearchParameterRegistry> fromText(std::string_view text,
                                                             core::IssueList& issues);

    /// The parameter `name` of `resourceType`, including the ones every type has
    /// (`_id`, `_lastUpdated`, `_tag`, `_profile`, `_security`, `_source`); nullptr if none.
    const SearchParameter* find(std::string_view resourceType, std::string_view name) const;
    /// The parameters of `resourceType` only (not the Resource ones), sorted by name.
    std::vector<const SearchParameter*> forType(std::string_view resourceType) const;
    /// The parameters every resource type has.
    std::vector<const SearchParameter*> common() const;
    /// The resource types with parameters of their own, sorted.
    std::vector<std::string> resourceTypes() const;

  private:
    std::map<std::string, std::map<std::string, SearchParameter, std::less<>>, std::less<>> byType_;
};

/// Parses one registry expression (subset described in the table's header) into paths,
/// dropping the leading resource type. False (and `error` set) when outside the subset.
bool parseExpression(std::string_view expression, std::vector<ElementPath>& paths,
                     std::string& error);

} // namespace hl7gw::fhir::search
