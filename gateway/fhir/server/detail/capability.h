#pragma once

#include "gateway/store/message_store.h"

#include <rapidjson/document.h>

#include <string>

namespace hl7gw::fhir::server {

/// The CapabilityStatement of /fhir/metadata: what this server really does, from the same
/// tables it runs on (resource types from the definitions, search parameters from the
/// registry), so the two cannot drift apart.
rapidjson::Document capabilityStatement(const std::string& base, store::Micros now);

} // namespace hl7gw::fhir::server
