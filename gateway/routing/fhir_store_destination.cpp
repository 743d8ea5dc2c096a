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

// One transaction POSTed to the in-process server as an HTTP client's would be.
struct Write {
    bool running = false; // false: no server bound (yet)
    int status = 0;
    std::string text;  // the OperationOutcome's errors (4xx, 5xx)
    std::string where; // 2xx: the entries' locations
};

Write post(const FhirStoreLink& link, const std::string& origin, std::string_view payload,
           store::Settlement* settles = nullptr)
{
    Write write;
    fhir::FhirServer* server = link.server();
    if (server == nullptr) {
        return write;
    }
    write.running = true;
    fhir::FhirRequest request;
    request.method = "POST";
    request.target = server->config().base;
    // The partner's Bundle is its current state (conditional PUTs keyed by identifier): an
    // Appointment or Slot it changes is checked against the version read, not refused 428.
    request.ifMatchImplied = true;
    request.settles = settles;
    request.headers = {{"content-type", "application/fhir+json"},
                       {"accept", "application/fhir+json"}};
    request.body = std::string(payload);
    // Feeds listing this destination in `ignore_from` send none of its writes on.
    const FhirWriteOrigin mark(origin);
    const fhir::FhirResponse response = server->handle(request);
    write.status = response.status;
    if (response.status >= 200 && response.status < 300) {
        if (settles == nullptr || !settles->applied) { // else the record has them already
            write.where = locations(response.body);
        }
    } else {
        write.text = outcomeText(response.body);
    }
    return write;
}

// 409 and 412 are another writer's change landing first (two Bundles naming the same
// doctor): the next attempt reads the new version and passes. A Slot another appointment
// holds stays held: that one is the content's fate, not a race.
bool isRace(const Write& write)
{
    return (write.status == 409 || write.status == 412) &&
           write.text.find(fhir::SlotTaken) == std::string::npos;
}

bool isSlotTaken(const Write& write)
{
    return write.status == 409 && write.text.find(fhir::SlotTaken) != std::string::npos;
}

std::string failureText(const Write& write)
{
    return "FHIR " + std::to_string(write.status) + (write.text.empty() ? "" : ": ") + write.text;
}

const char* const NotRunning = "the FHIR server is not running (fhir.enabled turned on without a "
                               "restart?)";

class FhirStoreSender final : public Sender {
  public:
    FhirStoreSender(std::shared_ptr<const FhirStoreLink> link, std::string name)
        : link_(std::move(link)), name_(std::move(name))
    {
    }

    DeliveryResult send(std::string_view payload) override { return deliver(payload, nullptr); }

    // The entry is marked Delivered in the Bundle's own transaction: a crash between the two
    // commits would otherwise apply it again (new Provenance, MessageHeader) after the lease.
    DeliveryResult sendEntry(std::int64_t entry, std::string_view payload) override
    {
        store::Settlement settles;
        settles.entry = entry;
        DeliveryResult result = deliver(payload, &settles);
        result.recorded = settles.applied;
        return result;
    }

  private:
    DeliveryResult deliver(std::string_view payload, store::Settlement* settles)
    {
        DeliveryResult result;
        const Write write = post(*link_, name_, payload, settles);
        if (!write.running) {
            result.outcome = DeliveryResult::Outcome::Retry;
            result.error = NotRunning;
            return result;
        }
        result.response = std::to_string(write.status);
        if (write.status >= 200 && write.status < 300) {
            result.outcome = DeliveryResult::Outcome::Delivered;
            if (!write.where.empty()) {
                result.response += ": " + write.where;
            }
            return result;
        }
        // Other 4xx are the content's fault, and retrying it unchanged cannot help; a taken
        // Slot is dead at once (the sender hears of it) instead of a retry that cannot pass.
        result.outcome = write.status >= 400 && write.status < 500 && !isRace(write)
                             ? DeliveryResult::Outcome::Reject
                             : DeliveryResult::Outcome::Retry;
        result.error = failureText(write);
        return result;
    }

    std::shared_ptr<const FhirStoreLink> link_;
    const std::string name_;
};

// A race lost at receipt is tried again at once, a few times: the sender is waiting for its
// ACK, and the backoff of the queue does not apply.
constexpr int ReceiptAttempts = 3;

class FhirStoreDestination final : public DestinationKind {
  public:
    FhirStoreDestination(std::shared_ptr<const FhirStoreLink> link, std::string name,
                         bool atReceipt)
        : link_(std::move(link)), name_(std::move(name)), atReceipt_(atReceipt)
    {
    }
    SenderPtr makeSender() const override
    {
        return std::make_unique<FhirStoreSender>(link_, name_);
    }
    std::string describe() const override { return "fhir-store:in-process"; }
    bool appliesAtReceipt() const override { return atReceipt_; }
    ReceiptResult applyAtReceipt(std::string_view payload) const override;

  private:
    std::shared_ptr<const FhirStoreLink> link_;
    const std::string name_;
    const bool atReceipt_;
};

ReceiptResult FhirStoreDestination::applyAtReceipt(std::string_view payload) const
{
    ReceiptResult result;
    Write write;
    for (int attempt = 1; attempt <= ReceiptAttempts; ++attempt) {
        write = post(*link_, name_, payload);
        if (!write.running || !isRace(write)) {
            break;
        }
    }
    if (!write.running) {
        result.outcome = ReceiptResult::Outcome::Unavailable;
        result.error = NotRunning;
        result.text = "the gateway cannot apply the message now; send it again later";
        return result;
    }
    if (write.status >= 200 && write.status < 300) {
        result.response =
            std::to_string(write.status) + (write.where.empty() ? "" : ": ") + write.where;
        return result;
    }
    result.error = failureText(write);
    if (isSlotTaken(write)) {
        // STANDARDS.md §1.6: a business rule refused, AE; 205 duplicate key identifier (the
        // Slot has its holder), with our application code.
        result.outcome = ReceiptResult::Outcome::Refused;
        result.code = "205";
        result.text = "the Slot is already held by another appointment";
        result.applicationCode = "SLOT_TAKEN";
        result.userMessage = "号源已被占用";
        return result;
    }
    if (write.status >= 400 && write.status < 500 && !isRace(write)) {
        // 204 unknown key identifier for what the message names and the server does not
        // have (a conditional reference to no Slot, a deleted resource); 207 for the rest.
        result.outcome = ReceiptResult::Outcome::Refused;
        result.code = write.status == 404 || write.status == 410 ? "204" : "207";
        result.text = write.text.empty() ? "the FHIR server refused the message" : write.text;
        result.applicationCode = "FHIR_" + std::to_string(write.status);
        return result;
    }
    // 5xx, or a race lost every attempt: 206 record locked, 207 internal error; resend.
    result.outcome = ReceiptResult::Outcome::Unavailable;
    result.code = isRace(write) ? "206" : "207";
    result.text = "the gateway cannot apply the message now; send it again later";
    return result;
}

} // namespace

DestinationKindPtr makeFhirStoreDestination(core::ConfigReader& config,
                                            std::shared_ptr<const FhirStoreLink> link)
{
    if (!link) {
        config.fail("type", "fhir_store writes to the gateway's own FHIR server, which is "
                            "disabled (fhir.enabled is false)");
    }
    // The destination's name (read by the channel before this factory) marks its writes.
    const bool atReceipt = config.boolean("at_receipt", false);
    return std::make_shared<const FhirStoreDestination>(std::move(link), config.string("name", {}),
                                                        atReceipt);
}

} // namespace hl7gw::routing
