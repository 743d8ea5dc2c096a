#pragma once

#include <string>
#include <string_view>

namespace hl7gw::fhir::detail {

/// Builds the text of data/r4_definitions.txt from the official R4 JSON Schema
/// (fhir.schema.json: primitives' patterns and JSON kinds, required-binding codes) and the
/// single-file XSD (fhir-single.xsd: element order, cardinality, choice types, which members
/// are XML attributes). Both are passed as text; nothing is read here. Returns false and sets
/// `error` when the sources disagree or hold something the table cannot express.
bool generateDefinitionsTable(std::string_view schemaJson, std::string_view singleXsd,
                              std::string& table, std::string& error);

} // namespace hl7gw::fhir::detail
