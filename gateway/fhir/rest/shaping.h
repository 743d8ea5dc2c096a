#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::fhir::rest {

/// `_summary` (FHIR R4 search.html#summary).
enum class SummaryMode {
    False, // the whole resource
    True,  // the summary elements only
    Text,  // text, id, meta and the mandatory top-level elements
    Data,  // everything but text
    Count, // a count only: the caller answers with Bundle.total and no entries
};

/// Reads a `_summary` value ("true", "text", "data", "count", "false"); false for others.
bool parseSummaryMode(std::string_view value, SummaryMode& mode);

/// The top-level element names of `type` that are summary (isSummary in R4) or mandatory
/// (min >= 1), from the table in data/summary_elements.txt, which covers the resources of
/// STANDARDS.md §3.1 and §3.5 plus Parameters. Choice elements end in "[x]" ("deceased[x]").
/// The elements of Resource that every type has (id, meta, implicitRules) are not listed;
/// they are always summary.
///
/// Fallback for a type not in the table (hasSummaryTable() false): summary = identifier and
/// status, mandatory = status. That is a guess, not R4: most resources have those two as
/// summary and status as their mandatory element, but a type's other summary elements are
/// lost and a type without a mandatory status keeps nothing extra. Such output is marked
/// SUBSETTED like any other, so a client knows it is not the whole resource.
bool hasSummaryTable(std::string_view type);
const std::vector<std::string>& summaryElements(std::string_view type);
const std::vector<std::string>& mandatoryElements(std::string_view type);

/// True when the JSON member `key` of a `type` resource belongs to one of `elements`
/// (element names as in the table): "deceasedBoolean" is "deceased[x]", "_birthDate" (a
/// primitive's id and extensions) is "birthDate".
bool keyInElements(std::string_view key, const std::vector<std::string>& elements);

/// The element names of an `_elements` value ("identifier,name,Patient.birthDate") for a
/// resource of `type`: split at ',', trimmed, a leading "type." dropped, a deeper path
/// reduced to its top-level element ("name.family" -> "name"); a name whose table entry is
/// a choice gets "[x]" ("deceased" -> "deceased[x]"). Empty names are dropped.
std::vector<std::string> parseElementsParam(std::string_view value, std::string_view type);

/// Keeps only resourceType, id, meta, the mandatory elements of its type and `elements`
/// (made by parseElementsParam) in `resource`, a JSON resource object; then marks it
/// SUBSETTED. R4 says servers SHOULD return mandatory elements whether asked or not.
void applyElements(rapidjson::Value& resource, const std::vector<std::string>& elements,
                   rapidjson::Document::AllocatorType& allocator);

/// Shapes `resource` for `mode`: True keeps resourceType, id, meta, implicitRules and the
/// summary elements; Text keeps resourceType, id, meta, text and the mandatory elements; Data
/// removes text. These three mark the result SUBSETTED. False and Count change nothing.
/// Only top-level elements are considered: a kept element keeps all its children, summary or
/// not (R4 also marks children, e.g. Patient.link.other; we keep the whole link).
void applySummary(rapidjson::Value& resource, SummaryMode mode,
                  rapidjson::Document::AllocatorType& allocator);

/// Adds the tag http://terminology.hl7.org/CodeSystem/v3-ObservationValue#SUBSETTED to
/// resource.meta.tag, unless it is there already (meta and tag are created as needed).
void markSubsetted(rapidjson::Value& resource, rapidjson::Document::AllocatorType& allocator);

} // namespace hl7gw::fhir::rest
