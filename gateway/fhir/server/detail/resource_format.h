#pragma once

#include "gateway/core/issue.h"
#include "gateway/fhir/rest/negotiation.h"

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace hl7gw::fhir::server {

/// Reads a request body in JSON or XML into `out`; false with the issues (400) when it is not
/// well-formed FHIR of that format. Checks that it is an object with a resourceType.
bool decodeResource(std::string_view body, rest::Format format, rapidjson::Document& out,
                    core::IssueList& issues);

/// A resource (or Bundle, OperationOutcome) in the response format.
std::string encodeResource(const rapidjson::Value& resource, rest::Format format, bool pretty);

/// Sets a string member, replacing any there.
void setMember(rapidjson::Value& object, std::string_view name, std::string_view value,
               rapidjson::Document::AllocatorType& allocator);
void setMember(rapidjson::Value& object, std::string_view name, rapidjson::Value value,
               rapidjson::Document::AllocatorType& allocator);
/// The string member `name`, or "" when missing or not a string.
std::string_view stringMember(const rapidjson::Value& object, std::string_view name);

} // namespace hl7gw::fhir::server
