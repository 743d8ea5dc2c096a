#pragma once

#include <string>

namespace hl7gw::app {

enum class FhirFormat { None, Json, Xml };

/// Whether an input file is FHIR, reading it into `text` when it is a file: a FHIR resource
/// starts with '{' (JSON) or is XML in the FHIR namespace; anything else is HL7 v2 (ER7, or
/// v2 XML). Standard input (`-`) is always v2: it cannot be looked at twice.
FhirFormat fhirFormatOf(const std::string& path, std::string& text);

} // namespace hl7gw::app
