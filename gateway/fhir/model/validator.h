#pragma once

#include "gateway/core/issue.h"

#include <rapidjson/document.h>

#include <string_view>

namespace hl7gw::fhir {

class Definitions;

/// Checks a FHIR R4 resource in JSON form (a document made by parseJson(): numbers are the
/// marked strings of json_io.h) against the compiled-in definitions, adding one Issue per
/// problem. Location::path holds a FHIRPath-like expression ("Appointment.participant[0].status";
/// for a primitive's `_name` sibling the primitive's own path). Issue codes are FHIR
/// issue-type: `structure` (unknown element, wrong JSON kind, array where there must be one
/// value or the reverse, empty array, null), `required` (minimum cardinality), `value`
/// (primitive format), `code-invalid` (required binding), `invariant` (the rules of
/// STANDARDS.md §3.3 and ext-1). Texts name elements and rules, never values.
///
/// Checked: resourceType; every member against its type, recursively, contained resources
/// and Bundle.entry.resource / Parameters.parameter.resource as resources; primitives by the
/// schema's patterns (whole-value match), integer ranges, real calendar dates; `_name`
/// extension siblings (arrays aligned with nulls); extensions (url, one value[x], ext-1);
/// narrative `div` must be a string starting with `<div`.
void validateResource(const rapidjson::Value& resource, core::IssueList& issues);

/// True when `text` is a valid JSON-side value of the primitive type `typeName`
/// ("dateTime", "positiveInt"...), by the same rules validateResource() applies. False for
/// unknown or non-primitive types.
bool isValidPrimitive(std::string_view typeName, std::string_view text);

} // namespace hl7gw::fhir
