#include "gateway/booking/fhir_calls.h"

#include "gateway/fhir/model/json_io.h"

namespace hl7gw::booking {

FhirReply FhirCalls::get(const std::string& path) const
{
    return call("GET", path, {});
}

FhirReply FhirCalls::transaction(const rapidjson::Value& bundle) const
{
    return call("POST", "", fhir::writeJson(bundle));
}

FhirReply FhirCalls::call(const std::string& method, const std::string& path,
                          const std::string& body, const std::string& ifMatch) const
{
    fhir::FhirRequest request;
    request.method = method;
    request.target = server_.config().base + (path.empty() ? "" : "/" + path);
    request.headers = {{"accept", "application/fhir+json"}};
    if (!body.empty()) {
        request.headers.emplace_back("content-type", "application/fhir+json");
    }
    if (!ifMatch.empty()) {
        request.headers.emplace_back("if-match", "W/\"" + ifMatch + "\"");
    }
    request.body = body;
    request.host = "localhost";
    const fhir::FhirResponse response = server_.handle(request);
    FhirReply reply;
    reply.status = response.status;
    for (const auto& [name, value] : response.headers) {
        if (name == "ETag" || name == "etag") {
            const auto open = value.find('"');
            const auto close = value.rfind('"');
            if (open != std::string::npos && close > open) {
                reply.version = value.substr(open + 1, close - open - 1);
            }
        }
    }
    if (!response.body.empty()) {
        core::Issue issue;
        if (!fhir::parseJson(response.body, reply.body, issue)) {
            reply.body.SetNull();
        }
    }
    return reply;
}

} // namespace hl7gw::booking
