#include "gateway/routing/suspension_destination.h"

#include "gateway/core/clock.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/server/fhir_server.h"
#include "gateway/routing/fhir_feed.h"
#include "gateway/routing/fhir_store_destination.h"

#include <Poco/URI.h>

#include <rapidjson/document.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::routing {

namespace {

using Value = rapidjson::Value;

std::string_view str(const Value& object, const char* name)
{
    if (!object.IsObject()) {
        return {};
    }
    const auto it = object.FindMember(name);
    return it != object.MemberEnd() && it->value.IsString()
               ? std::string_view(it->value.GetString(), it->value.GetStringLength())
               : std::string_view();
}

const Value* member(const Value& object, const char* name)
{
    if (!object.IsObject()) {
        return nullptr;
    }
    const auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

/// One run's end, told the dispatcher (DeliveryResult) or the receiver (ReceiptResult) alike.
struct Run {
    ReceiptResult::Outcome outcome = ReceiptResult::Outcome::Applied;
    std::string response;
    std::string error;
    std::string code = "207";
    std::string text;
    std::string applicationCode;
    std::string userMessage;
};

Run refused(std::string code, std::string text, std::string applicationCode = {},
            std::string userMessage = {})
{
    Run run;
    run.outcome = ReceiptResult::Outcome::Refused;
    run.error = text;
    run.code = std::move(code);
    run.text = std::move(text);
    run.applicationCode = std::move(applicationCode);
    run.userMessage = std::move(userMessage);
    return run;
}

Run unavailable(std::string code, std::string error)
{
    Run run;
    run.outcome = ReceiptResult::Outcome::Unavailable;
    run.error = std::move(error);
    run.code = std::move(code);
    run.text = "the gateway cannot apply the message now; send it again later";
    return run;
}

// The errors of an OperationOutcome, joined.
std::string outcomeText(const rapidjson::Document& body)
{
    std::string text;
    const Value* issues = member(body, "issue");
    if (issues == nullptr || !issues->IsArray()) {
        return text;
    }
    for (const Value& issue : issues->GetArray()) {
        std::string_view one = str(issue, "diagnostics");
        if (one.empty()) {
            if (const Value* details = member(issue, "details")) {
                one = str(*details, "text");
            }
        }
        if (!one.empty()) {
            text += (text.empty() ? "" : "; ") + std::string(one);
        }
    }
    return text;
}

/// What the S23 asks for, read from the mapped Parameters.
struct Request {
    std::string practitioner; // "system|value", search-encoded
    std::string schedule;
    std::string start;
    std::string end;
    std::optional<long long> minutes;
    std::string reason;
    std::string event; // MSH-9.2: S23 blocks, S24 reopens
};

std::string token(const Value& identifier)
{
    const std::string_view value = str(identifier, "value");
    if (value.empty()) {
        return {};
    }
    std::string system;
    std::string code;
    Poco::URI::encode(std::string(str(identifier, "system")), "&=+#%?|, ", system);
    Poco::URI::encode(std::string(value), "&=+#%?|, ", code);
    return system + "|" + code;
}

// The first Parameters of the payload: the Bundle the mapping made, or one on its own.
const Value* parametersOf(const rapidjson::Document& payload)
{
    if (str(payload, "resourceType") == "Parameters") {
        return &payload;
    }
    const Value* entries = member(payload, "entry");
    if (entries == nullptr || !entries->IsArray()) {
        return nullptr;
    }
    for (const Value& entry : entries->GetArray()) {
        const Value* resource = member(entry, "resource");
        if (resource != nullptr && str(*resource, "resourceType") == "Parameters") {
            return resource;
        }
    }
    return nullptr;
}

Request readRequest(const Value& parameters)
{
    Request request;
    const Value* list = member(parameters, "parameter");
    if (list == nullptr || !list->IsArray()) {
        return request;
    }
    for (const Value& p : list->GetArray()) {
        const std::string_view name = str(p, "name");
        if (const Value* id = member(p, "valueIdentifier"); id != nullptr && name == "schedule") {
            request.schedule = token(*id);
        } else if (id != nullptr && name == "practitioner") {
            request.practitioner = token(*id);
        } else if (name == "start" || name == "end") {
            (name == "start" ? request.start : request.end) = std::string(str(p, "valueDateTime"));
        } else if (name == "reason") {
            request.reason = std::string(str(p, "valueString"));
        } else if (name == "event") {
            request.event = std::string(str(p, "valueCode"));
        } else if (const Value* n = member(p, "valueInteger");
                   name == "minutes" && n != nullptr && fhir::isNumber(*n)) {
            try {
                request.minutes = std::stoll(std::string(fhir::numberText(*n)));
            } catch (const std::exception&) {
                request.minutes.reset();
            }
        }
    }
    return request;
}

std::string offsetSuffix(int offsetMinutes)
{
    const int magnitude = offsetMinutes < 0 ? -offsetMinutes : offsetMinutes;
    char text[16];
    std::snprintf(text, sizeof text, "%c%02d:%02d", offsetMinutes < 0 ? '-' : '+',
                  magnitude / 60 % 100, magnitude % 60);
    return text;
}

class Suspender {
  public:
    Suspender(fhir::FhirServer& server, std::string name) : server_(server), name_(std::move(name))
    {
    }

    Run run(std::string_view payload) const;

  private:
    fhir::FhirResponse call(const std::string& method, const std::string& path,
                            std::string body = {}) const
    {
        fhir::FhirRequest request;
        request.method = method;
        request.target = server_.config().base + "/" + path;
        request.headers = {{"accept", "application/fhir+json"}};
        if (!body.empty()) {
            request.headers.emplace_back("content-type", "application/fhir+json");
            request.body = std::move(body);
        }
        return server_.handle(request);
    }

    /// "Schedule/1" ids of the search's matches; nullopt with `failure` when it failed.
    std::optional<std::vector<std::string>> ids(const std::string& search, Run& failure) const;
    std::optional<std::vector<std::string>> schedules(const Request& request, Run& failure) const;

    fhir::FhirServer& server_;
    const std::string name_;
};

std::optional<std::vector<std::string>> Suspender::ids(const std::string& search,
                                                       Run& failure) const
{
    const fhir::FhirResponse response = call("GET", search + "&_count=100");
    rapidjson::Document body;
    core::Issue issue;
    const bool parsed = fhir::parseJson(response.body, body, issue);
    if (response.status != 200 || !parsed) {
        const std::string text = "FHIR " + std::to_string(response.status) + " searching " +
                                 search.substr(0, search.find('?')) + ": " +
                                 (parsed ? outcomeText(body) : std::string("no JSON"));
        failure = response.status >= 500 ? unavailable("207", text) : refused("207", text);
        return std::nullopt;
    }
    std::vector<std::string> found;
    if (const Value* entries = member(body, "entry"); entries != nullptr && entries->IsArray()) {
        for (const Value& entry : entries->GetArray()) {
            const Value* resource = member(entry, "resource");
            if (resource != nullptr && str(*resource, "id").size() > 0) {
                found.push_back(std::string(str(*resource, "resourceType")) + "/" +
                                std::string(str(*resource, "id")));
            }
        }
    }
    return found;
}

std::optional<std::vector<std::string>> Suspender::schedules(const Request& request,
                                                             Run& failure) const
{
    if (!request.schedule.empty()) {
        auto found = ids("Schedule?identifier=" + request.schedule, failure);
        if (!found || !found->empty() || request.practitioner.empty()) {
            return found;
        }
    }
    auto doctors = ids("Practitioner?identifier=" + request.practitioner, failure);
    if (!doctors) {
        return doctors;
    }
    std::vector<std::string> all;
    for (const std::string& doctor : *doctors) {
        auto found = ids("Schedule?actor=" + doctor, failure);
        if (!found) {
            return found;
        }
        all.insert(all.end(), found->begin(), found->end());
    }
    return all;
}

Run Suspender::run(std::string_view payload) const
{
    rapidjson::Document document;
    core::Issue issue;
    const Value* parameters =
        fhir::parseJson(payload, document, issue) ? parametersOf(document) : nullptr;
    if (parameters == nullptr) {
        return refused("207", "the payload holds no Parameters resource (map the SIU^S23 or "
                              "S24 with the siu-slots message map)");
    }
    Request request = readRequest(*parameters);
    const bool reopen = request.event == "S24";
    if (!request.event.empty() && request.event != "S23" && !reopen) {
        return refused("201",
                       "schedule_suspension takes SIU^S23 and SIU^S24, not " + request.event);
    }
    const std::string operation = reopen ? "$resume" : "$suspend";
    if (request.practitioner.empty() && request.schedule.empty()) {
        return refused("101", "no doctor or schedule named (AIP-3)", "UNKNOWN_SCHEDULE",
                       "未指定停诊医生");
    }
    if (request.start.empty()) {
        return refused("101", "no start of the period (AIP-6, AIS-4, AIL-6, AIG-8, SCH-11.4 or "
                              "TQ1-7)");
    }
    if (request.end.empty()) {
        std::string start = request.start;
        if (start.size() > 10 && start.find_first_of("Z+-", 10) == std::string::npos) {
            start += offsetSuffix(server_.config().offsetMinutes); // local, as $suspend reads it
        }
        std::int64_t from = 0;
        if (!request.minutes || *request.minutes <= 0 || !core::parseIsoTime(start, from)) {
            return refused("101", "no end of the period, nor a duration (AIP-9, AIS-7, AIL-9, "
                                  "AIG-11, SCH-9, SCH-11.5 or TQ1-8)");
        }
        request.end = core::formatIsoUtc(from + *request.minutes * 60'000'000LL);
    }
    Run failure;
    const auto found = schedules(request, failure);
    if (!found) {
        return failure;
    }
    if (found->empty()) {
        return refused("204", "no Schedule of the doctor or schedule the message names",
                       "UNKNOWN_SCHEDULE", "找不到该医生的排班");
    }

    rapidjson::Document out(rapidjson::kObjectType);
    auto& a = out.GetAllocator();
    out.AddMember("resourceType", "Parameters", a);
    Value list(rapidjson::kArrayType);
    auto add = [&](const char* name, const char* key, const std::string& value) {
        Value p(rapidjson::kObjectType);
        p.AddMember("name", Value(rapidjson::StringRef(name)), a);
        p.AddMember(Value(rapidjson::StringRef(key)),
                    Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), a), a);
        list.PushBack(p, a);
    };
    add("start", "valueDateTime", request.start);
    add("end", "valueDateTime", request.end);
    if (!request.reason.empty()) {
        add("reason", "valueString", request.reason);
    }
    out.AddMember("parameter", list, a);
    const std::string body = fhir::writeJson(out);

    Run done;
    // The HIS's own S23/S24: the Provenance these write is not sent back to it (a channel's
    // `ignore_from`), while the cancellations' SIU^S15 still are (a channel not naming us).
    const FhirWriteOrigin origin(name_);
    for (const std::string& schedule : *found) {
        const fhir::FhirResponse response = call("POST", schedule + "/" + operation, body);
        rapidjson::Document answer;
        const bool parsed = fhir::parseJson(response.body, answer, issue);
        if (response.status != 200) {
            const std::string text = schedule + " " + operation + ": FHIR " +
                                     std::to_string(response.status) +
                                     (parsed ? ": " + outcomeText(answer) : std::string());
            // 409: its Slots kept changing during the operation's own attempts; later may pass.
            if (response.status >= 500 || response.status == 409) {
                return unavailable(response.status == 409 ? "206" : "207", text);
            }
            return refused("207", text, "FHIR_" + std::to_string(response.status));
        }
        std::string counts;
        const Value* results = parsed ? member(answer, "parameter") : nullptr;
        for (const char* name :
             {"slots-blocked", "appointments-cancelled", "patients-notified", "slots-reopened"}) {
            if (results == nullptr || !results->IsArray()) {
                break;
            }
            for (const Value& p : results->GetArray()) {
                const Value* n = member(p, "valueInteger");
                if (str(p, "name") == name && n != nullptr && fhir::isNumber(*n)) {
                    std::string words(name);
                    words.replace(words.find('-'), 1, " ");
                    counts += (counts.empty() ? " " : ", ") + std::string(fhir::numberText(*n)) +
                              " " + words;
                }
            }
        }
        done.response += (done.response.empty() ? "" : "; ") + schedule + ":" + counts;
    }
    return done;
}

Run runLinked(const FhirStoreLink& link, const std::string& name, std::string_view payload)
{
    fhir::FhirServer* server = link.server();
    if (server == nullptr) {
        return unavailable("207", "the FHIR server is not running (fhir.enabled turned on "
                                  "without a restart?)");
    }
    return Suspender(*server, name).run(payload);
}

class SuspensionSender final : public Sender {
  public:
    SuspensionSender(std::shared_ptr<const FhirStoreLink> link, std::string name)
        : link_(std::move(link)), name_(std::move(name))
    {
    }
    DeliveryResult send(std::string_view payload) override
    {
        const Run run = runLinked(*link_, name_, payload);
        DeliveryResult result;
        result.outcome =
            run.outcome == ReceiptResult::Outcome::Applied   ? DeliveryResult::Outcome::Delivered
            : run.outcome == ReceiptResult::Outcome::Refused ? DeliveryResult::Outcome::Reject
                                                             : DeliveryResult::Outcome::Retry;
        result.response = run.response;
        result.error = run.error;
        return result;
    }

  private:
    std::shared_ptr<const FhirStoreLink> link_;
    const std::string name_;
};

class SuspensionDestination final : public DestinationKind {
  public:
    SuspensionDestination(std::shared_ptr<const FhirStoreLink> link, std::string name,
                          bool atReceipt)
        : link_(std::move(link)), name_(std::move(name)), atReceipt_(atReceipt)
    {
    }
    SenderPtr makeSender() const override
    {
        return std::make_unique<SuspensionSender>(link_, name_);
    }
    std::string describe() const override
    {
        return "fhir-store:in-process Schedule/$suspend, $resume";
    }
    bool appliesAtReceipt() const override { return atReceipt_; }
    ReceiptResult applyAtReceipt(std::string_view payload) const override
    {
        Run run = runLinked(*link_, name_, payload);
        ReceiptResult result;
        result.outcome = run.outcome;
        result.response = std::move(run.response);
        result.error = std::move(run.error);
        result.code = std::move(run.code);
        result.text = std::move(run.text);
        result.applicationCode = std::move(run.applicationCode);
        result.userMessage = std::move(run.userMessage);
        return result;
    }

  private:
    std::shared_ptr<const FhirStoreLink> link_;
    const std::string name_;
    const bool atReceipt_;
};

} // namespace

DestinationKindPtr makeSuspensionDestination(core::ConfigReader& config,
                                             std::shared_ptr<const FhirStoreLink> link)
{
    if (!link) {
        config.fail("type", "schedule_suspension calls the gateway's own FHIR server, which is "
                            "disabled (fhir.enabled is false)");
    }
    const bool atReceipt = config.boolean("at_receipt", false);
    // The destination's name (read by the channel before this factory) marks its writes.
    return std::make_shared<const SuspensionDestination>(std::move(link), config.string("name", {}),
                                                         atReceipt);
}

} // namespace hl7gw::routing
