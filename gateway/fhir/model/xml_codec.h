#pragma once

#include "gateway/core/issue.h"

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace hl7gw::fhir {

/// FHIR XML (http://hl7.org/fhir/xml.html) <-> FHIR JSON, driven by the compiled-in R4
/// definitions. Codecs do no I/O. Numbers follow json_io.h: decimal, integer, positiveInt and
/// unsignedInt values become marked numbers keeping their exact text; booleans become JSON
/// booleans; every other primitive a string.

/// Writes `resource` (a JSON resource) as UTF-8 FHIR XML: namespace http://hl7.org/fhir,
/// elements in definition order whatever the JSON order, primitives as `value` attributes
/// with `_name` siblings as their `id` attribute and extension children, Element.id and
/// Extension.url as attributes, contained / Bundle.entry.resource / Parameters.parameter.resource
/// wrapped in their resource's element, narrative `div` copied verbatim (the XHTML namespace
/// added when missing). Returns false with issues (code `structure`/`value`, FHIRPath in
/// Location::path) when the JSON cannot be written: unknown members or wrong JSON kinds.
bool jsonToXml(const rapidjson::Value& resource, std::string& xmlOut, core::IssueList& issues);

/// Reads FHIR XML into `out` (a JSON resource). Rejects malformed XML, a DOCTYPE (so no
/// entities, internal or external), elements outside the FHIR namespace (except the
/// narrative's XHTML), unknown elements and attributes, text where FHIR has none, and values
/// that are not valid JSON numbers/booleans for numeric/boolean types. Narrative `div` becomes
/// a string: the XHTML re-serialised with the namespace on the root, `&amp; &lt; &gt; &quot;`
/// escaped, empty elements as `<x/>`, comments dropped. Returns false with issues naming the
/// line/column or the FHIRPath.
bool xmlToJson(std::string_view xml, rapidjson::Document& out, core::IssueList& issues);

} // namespace hl7gw::fhir
