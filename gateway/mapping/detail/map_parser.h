#pragma once

#include "gateway/mapping/detail/map_program.h"
#include "gateway/mapping/detail/outbound_program.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::mapping::detail {

/// The blocks of one .map file as written: names, targets and sources are syntax only; the
/// resolver checks them against the definitions and links the maps together.
struct ParsedFile {
    std::shared_ptr<const std::string> path;
    std::vector<TypeMap> types;
    std::vector<ResourceMap> resources;
    std::vector<MessageMap> messages;
    std::vector<OutType> outtypes;
    std::vector<OutboundMap> outbounds;
};

/// Splits a FHIR path into steps: "identifier[type.coding.code=PLAC].value",
/// "participant.actor->Practitioner.name", "given[1]". Throws MappingLoadError at `at`.
std::vector<FhirStep> parseFhirPath(std::string_view text, const SourcePosition& at);

/// Parses the text of a .map file (syntax in mappings/README.md). Throws MappingLoadError with
/// file:line:column on the first syntax error.
ParsedFile parseMapFile(std::string_view text, std::shared_ptr<const std::string> path);

/// Splits a target spelling into its steps: "period.start" -> {period, start};
/// "extension(http://x/y).valueString" -> {extension(http://x/y), valueString}.
std::vector<std::string> splitTarget(std::string_view spelling);

} // namespace hl7gw::mapping::detail
