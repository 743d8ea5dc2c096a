#include "gateway/routing/fhir_store_destination.h"

#include "gateway/fhir/server/fhir_server.h"
#include "gateway/routing/fhir_feed.h"

#include <rapidjson/document.h>

namespace hl7gw::routing {

namespace {

std::string stringMember(const rapidjson::Value& object, const char* name)
{
    if (!object.IsObject()) {
        return {};
    }
    const auto it = object.FindMember(name);
    return it != object.MemberEnd() && it->value.IsString()
               ? std::string(it->value.GetString(), it->value.GetStringLength())
               : std::string();
}

// The errors of an OperationOutcome: "diagnostics (at expression)", joined; the details'
// text when there are no diagnostics.
std::string outcomeText(const std::string& body)
{
    rapidjson::Document outcome;
    outcome.Parse(body.data(), body.size());
    if (outcome.HasParseError() || !outcome.IsObject() || !outcome.HasMember("issue") ||
        !outcome["issue"].IsArray()) {
        return {};
    }
    std::string text;
    for (const rapidjson::Value& issue : outcome["issue"].GetArray()) {
        const std::string severity = stringMember(issue, "severity");
        if (severity != "error" && severity != "fatal") {
            continue;
        }
        std::string one = stringMember(issue, "diagnostics");
        if (one.empty() && issue.HasMember("details")) {
            one = stringMember(issue["details"], "text");
        }
        if (issue.IsObject() && issue.HasMember("expression") && issue["expression"].IsArray() &&
            !issue["expression"].Empty() && issue["expression"][0].IsString()) {
            one += std::string(one.empty() ? "" : " ") + "(at " +
                   issue["expression"][0].GetString() + ")";
        }
        if (!one.empty()) {
            text += (text.empty() ? "" : "; ") + one;
        }
    }
    return text;
}

// "Patient/1/_history/1, Encounter/2/_history/1": where the transaction put each entry.
std::string locations(const std::string& body)
{
    rapidjson::Document bundle;
    bundle.Parse(body.data(), body.size());
    if (bundle.HasParseError() || !bundle.IsObject() || !bundle.HasMember("entry") ||
        !bundle["entry"].IsArray()) {
        return {};
    }
    std::string text;
    for (const rapidjson::Value& entry : bundle["entry"].GetArray()) {
        if (!entry.IsObject() || !entry.HasMember("response")) {
            continue;
        }
        const std::string location = stringMember(entry["response"], "location");
        if (!location.empty()) {
            text += (text.empty() ? "" : ", ") + location;
        }
    }
    return text;
}

class FhirStoreSender final : public Sender {
  public:
    FhirStoreSender(std::shared_ptr<const FhirStoreLink> link, std::string name)
        : link_(std::move(link)), name_(std::move(name))
    {
    }

    DeliveryResult send(std::string_view payload) override
    {
        DeliveryResult result;
        fhir::FhirServer* server = link_->server();
        if (server == nullptr) {
            result.outcome = DeliveryResult::Outcome::Retry;
            result.error = "the FHIR server is not running (fhir.enabled turned on without a "
                           "restart?)";
            return result;
        }
        fhir::FhirRequest request;
        request.method = "POST";
        request.target = server->config().base;
        request.headers = {{"content-type", "application/fhir+json"},
                           {"accept", "application/fhir+json"}};
        request.body = std::string(payload);
        // Feeds listing this destination in `ignore_from` send none of its writes on.
        const FhirWriteOrigin origin(name_);
        const fhir::FhirResponse response = server->handle(request);
        result.response = std::to_string(response.status);
        if (response.status >= 200 && response.status < 300) {
            result.outcome = DeliveryResult::Outcome::Delivered;
            const std::string where = locations(response.body);
            if (!where.empty()) {
                result.response += ": " + where;
            }
            return result;
        }
        const std::string text = outcomeText(response.body);
        // 409 and 412 are another writer's change landing first (two Bundles naming the same
        // doctor): the next attempt reads the new version and passes. Other 4xx are the
        // content's fault, and retrying it unchanged cannot help.
        // A Slot another appointment holds stays held: the sender hears of it (dead entry)
        // instead of a retry that cannot pass.
        const bool conflict = (response.status == 409 || response.status == 412) &&
                              text.find(fhir::SlotTaken) == std::string::npos;
        result.outcome = response.status >= 400 && response.status < 500 && !conflict
                             ? DeliveryResult::Outcome::Reject
                             : DeliveryResult::Outcome::Retry;
        result.error =
            "FHIR " + std::to_string(response.status) + (text.empty() ? "" : ": ") + text;
        return result;
    }

  private:
    std::shared_ptr<const FhirStoreLink> link_;
    const std::string name_;
};

class FhirStoreDestination final : public DestinationKind {
  public:
    FhirStoreDestination(std::shared_ptr<const FhirStoreLink> link, std::string name)
        : link_(std::move(link)), name_(std::move(name))
    {
    }
    SenderPtr makeSender() const override
    {
        return std::make_unique<FhirStoreSender>(link_, name_);
    }
    std::string describe() const override { return "fhir-store:in-process"; }

  private:
    std::shared_ptr<const FhirStoreLink> link_;
    const std::string name_;
};

} // namespace

DestinationKindPtr makeFhirStoreDestination(core::ConfigReader& config,
                                            std::shared_ptr<const FhirStoreLink> link)
{
    if (!link) {
        config.fail("type", "fhir_store writes to the gateway's own FHIR server, which is "
                            "disabled (fhir.enabled is false)");
    }
    // The destination's name (read by the channel before this factory) marks its writes.
    return std::make_shared<const FhirStoreDestination>(std::move(link), config.string("name", {}));
}

} // namespace hl7gw::routing
