#include "gateway/fhir/server/detail/resource_format.h"

#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/model/xml_codec.h"

namespace hl7gw::fhir::server {

bool decodeResource(std::string_view body, rest::Format format, rapidjson::Document& out,
                    core::IssueList& issues)
{
    if (format == rest::Format::Xml) {
        if (!xmlToJson(body, out, issues)) {
            return false;
        }
    } else {
        core::Issue issue;
        if (!parseJson(body, out, issue)) {
            issues.add(std::move(issue));
            return false;
        }
    }
    if (!out.IsObject()) {
        issues.add(core::Severity::Error, "structure", {}, "the body is not a JSON object");
        return false;
    }
    auto type = out.FindMember("resourceType");
    if (type == out.MemberEnd() || !type->value.IsString() || isNumber(type->value)) {
        issues.add(core::Severity::Error, "structure", {}, "the body has no resourceType");
        return false;
    }
    return true;
}

std::string encodeResource(const rapidjson::Value& resource, rest::Format format, bool pretty)
{
    if (format == rest::Format::Xml) {
        std::string xml;
        core::IssueList issues;
        // Our own resources were validated on the way in; a failure here is a bug, and the
        // caller's 500 says so.
        if (!jsonToXml(resource, xml, issues)) {
            throw std::runtime_error("cannot write XML: " + (issues.begin() != issues.end()
                                                                 ? issues.begin()->text
                                                                 : std::string("?")));
        }
        return xml;
    }
    return writeJson(resource, pretty);
}

void setMember(rapidjson::Value& object, std::string_view name, rapidjson::Value value,
               rapidjson::Document::AllocatorType& allocator)
{
    const rapidjson::Value key(rapidjson::StringRef(name.data(), name.size()));
    auto found = object.FindMember(key);
    if (found != object.MemberEnd()) {
        found->value = std::move(value);
        return;
    }
    object.AddMember(
        rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), allocator),
        value, allocator);
}

void setMember(rapidjson::Value& object, std::string_view name, std::string_view value,
               rapidjson::Document::AllocatorType& allocator)
{
    setMember(
        object, name,
        rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), allocator),
        allocator);
}

std::string_view stringMember(const rapidjson::Value& object, std::string_view name)
{
    if (!object.IsObject()) {
        return {};
    }
    auto found =
        object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
    if (found == object.MemberEnd() || !found->value.IsString() || isNumber(found->value)) {
        return {};
    }
    return {found->value.GetString(), found->value.GetStringLength()};
}

} // namespace hl7gw::fhir::server
