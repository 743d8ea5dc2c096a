#include "gateway/fhir/server/detail/capability.h"

#include "gateway/core/clock.h"
#include "gateway/fhir/model/definitions.h"
#include "gateway/fhir/search/search_parameters.h"
#include "gateway/fhir/server/detail/resource_format.h"

namespace hl7gw::fhir::server {

namespace {

using Allocator = rapidjson::Document::AllocatorType;

rapidjson::Value codes(std::initializer_list<const char*> list, const char* key, Allocator& a)
{
    rapidjson::Value array(rapidjson::kArrayType);
    for (const char* code : list) {
        rapidjson::Value item(rapidjson::kObjectType);
        setMember(item, key, code, a);
        array.PushBack(item, a);
    }
    return array;
}

rapidjson::Value searchParam(const search::SearchParameter& parameter, Allocator& a)
{
    rapidjson::Value param(rapidjson::kObjectType);
    setMember(param, "name", parameter.name, a);
    setMember(param, "type", search::toString(parameter.type), a);
    if (!parameter.expression.empty()) {
        setMember(param, "documentation", "expression: " + parameter.expression, a);
    }
    return param;
}

} // namespace

// The operations of `type` ("" = system level) as CapabilityStatement entries.
rapidjson::Value operationList(const std::vector<std::pair<std::string, std::string>>& operations,
                               std::string_view type, rapidjson::Document::AllocatorType& a)
{
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& [owner, name] : operations) {
        if (owner != type) {
            continue;
        }
        rapidjson::Value entry(rapidjson::kObjectType);
        setMember(entry, "name", name, a);
        // Our own canonical: the IHE profiles define the scheduling operations' semantics,
        // STANDARDS.md §3.6 (and mappings/README.md for $generate, $suspend) ours on top.
        setMember(entry, "definition",
                  "urn:hl7gw:operation:" + (owner.empty() ? std::string() : owner + "-") + name, a);
        list.PushBack(entry, a);
    }
    return list;
}

rapidjson::Document
capabilityStatement(const std::string& base, store::Micros now,
                    const std::vector<std::pair<std::string, std::string>>& operations)
{
    rapidjson::Document cs(rapidjson::kObjectType);
    auto& a = cs.GetAllocator();
    setMember(cs, "resourceType", "CapabilityStatement", a);
    setMember(cs, "status", "active", a);
    setMember(cs, "date", core::formatIsoUtc(now).substr(0, 10), a);
    setMember(cs, "publisher", "hl7gw", a);
    setMember(cs, "kind", "instance", a);
    rapidjson::Value software(rapidjson::kObjectType);
    setMember(software, "name", "hl7gw", a);
    setMember(software, "version", HL7GW_VERSION, a);
    setMember(cs, "software", std::move(software), a);
    rapidjson::Value implementation(rapidjson::kObjectType);
    setMember(implementation, "description", "hl7gw FHIR R4 server", a);
    setMember(implementation, "url", base, a);
    setMember(cs, "implementation", std::move(implementation), a);
    setMember(cs, "fhirVersion", "4.0.1", a);
    rapidjson::Value formats(rapidjson::kArrayType);
    for (const char* f : {"application/fhir+json", "application/fhir+xml", "json", "xml"}) {
        formats.PushBack(rapidjson::Value(f, a), a);
    }
    setMember(cs, "format", std::move(formats), a);
    rapidjson::Value patchFormats(rapidjson::kArrayType);
    patchFormats.PushBack(rapidjson::Value("application/json-patch+json", a), a);
    setMember(cs, "patchFormat", std::move(patchFormats), a);

    rapidjson::Value rest(rapidjson::kObjectType);
    setMember(rest, "mode", "server", a);
    const auto& registry = search::SearchParameterRegistry::standard();
    const auto common = registry.common();
    rapidjson::Value resources(rapidjson::kArrayType);
    for (std::string_view type : Definitions::r4().resourceTypes()) {
        rapidjson::Value resource(rapidjson::kObjectType);
        setMember(resource, "type", type, a);
        setMember(resource, "interaction",
                  codes({"read", "vread", "update", "patch", "delete", "history-instance",
                         "history-type", "create", "search-type"},
                        "code", a),
                  a);
        setMember(resource, "versioning", "versioned-update", a);
        resource.AddMember("readHistory", true, a);
        resource.AddMember("updateCreate", true, a);
        resource.AddMember("conditionalCreate", true, a);
        setMember(resource, "conditionalRead", "not-supported", a);
        resource.AddMember("conditionalUpdate", true, a);
        setMember(resource, "conditionalDelete", "not-supported", a);
        rapidjson::Value includes(rapidjson::kArrayType);
        rapidjson::Value params(rapidjson::kArrayType);
        const auto own = registry.forType(type);
        for (const auto* parameter : own) {
            params.PushBack(searchParam(*parameter, a), a);
            if (parameter->type == search::ParamType::Reference) {
                includes.PushBack(
                    rapidjson::Value((std::string(type) + ":" + parameter->name).c_str(), a), a);
            }
        }
        for (const auto* parameter : common) {
            params.PushBack(searchParam(*parameter, a), a);
        }
        if (!includes.Empty()) {
            setMember(resource, "searchInclude", std::move(includes), a);
        }
        setMember(resource, "searchParam", std::move(params), a);
        rapidjson::Value ownOperations = operationList(operations, type, a);
        if (!ownOperations.Empty()) {
            setMember(resource, "operation", std::move(ownOperations), a);
        }
        resources.PushBack(resource, a);
    }
    setMember(rest, "resource", std::move(resources), a);
    setMember(rest, "interaction", codes({"transaction", "batch", "history-system"}, "code", a), a);
    rapidjson::Value systemOperations = operationList(operations, "", a);
    if (!systemOperations.Empty()) {
        setMember(rest, "operation", std::move(systemOperations), a);
    }
    setMember(cs, "rest", rapidjson::Value(rapidjson::kArrayType), a);
    cs["rest"].PushBack(rest, a);
    return cs;
}

} // namespace hl7gw::fhir::server
