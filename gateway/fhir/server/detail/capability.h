#pragma once

#include "gateway/store/message_store.h"

#include <rapidjson/document.h>

#include <string>
#include <utility>
#include <vector>

namespace hl7gw::fhir::server {

/// The CapabilityStatement of /fhir/metadata: what this server really does, from the same
/// tables it runs on (resource types from the definitions, search parameters from the
/// registry), so the two cannot drift apart.
/// `operations` are the (type, name) pairs modules registered (FhirServer::addOperation).
rapidjson::Document
capabilityStatement(const std::string& base, store::Micros now,
                    const std::vector<std::pair<std::string, std::string>>& operations = {});

} // namespace hl7gw::fhir::server
