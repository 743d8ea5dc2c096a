#include "gateway/booking/scheduling.h"

#include "gateway/booking/exam_booking.h"
#include "gateway/booking/fhir_json.h"

#include "gateway/fhir/model/json_io.h"

#include <Poco/Logger.h>
#include <Poco/UUIDGenerator.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>

namespace hl7gw::booking {

using namespace json;

namespace {

constexpr int OffsetMinutes = 480; // the alliance's zone, STANDARDS.md §1.4
constexpr const char* BookingIdSystem = "urn:hl7gw:booking";
constexpr const char* HoldExpires = "urn:hl7gw:hold-expires";
constexpr const char* CancelSystem =
    "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason";
// A $find reads free Slots in pages of twice what it offers (pools and windows skip some).
constexpr int SlotPageFactor = 2;

constexpr std::array<std::string_view, 8> Channels{"app",   "wechat", "alipay",   "phone",
                                                   "kiosk", "clinic", "referral", "his"};
// Self-service channels: the no-show restriction and the cancellation deadline apply.
// In-clinic desks, referrals and the HIS act for the hospital (STANDARDS.md §7.4).
bool online(std::string_view channel)
{
    return channel == "app" || channel == "wechat" || channel == "alipay" || channel == "phone" ||
           channel == "kiosk";
}

// Which channels may take a Slot of a pool (PRODUCT.md §1 quotas). The HIS books for the
// hospital from any pool. The urgent-exam pool goes by the order's priority, not the channel
// (urgentExamPoolAllows): here it is the HIS's alone.
bool poolAllows(std::string_view pool, std::string_view channel)
{
    if (pool.empty() || pool == "general" || channel == "his") {
        return true;
    }
    if (pool == "referral") {
        return channel == "referral";
    }
    if (pool == "urgent-exam") {
        return false;
    }
    if (pool.rfind("channel-", 0) == 0) {
        return pool.substr(8) == channel;
    }
    return false; // a pool we do not know is nobody's until it is released
}

// "2026-12-03T08:00:00+08:00": how the alliance's systems write times.
std::string localTime(std::int64_t micros)
{
    const std::string utc = core::formatIsoUtc(micros + OffsetMinutes * Minute);
    return utc.substr(0, 19) + "+08:00";
}

// Parameters.parameter[name]: the member holding its value (value[x], resource), or null.
const Value* parameter(const Value& parameters, std::string_view name)
{
    if (!parameters.IsObject() || !parameters.HasMember("parameter") ||
        !parameters["parameter"].IsArray()) {
        return nullptr;
    }
    for (const Value& p : parameters["parameter"].GetArray()) {
        if (str(p, "name") != name || !p.IsObject()) {
            continue;
        }
        for (const auto& member : p.GetObject()) {
            const std::string_view key(member.name.GetString(), member.name.GetStringLength());
            if (key == "resource" || key.rfind("value", 0) == 0) {
                return &member.value;
            }
        }
    }
    return nullptr;
}

std::string_view textParameter(const Value& parameters, std::string_view name)
{
    const Value* value = parameter(parameters, name);
    if (value == nullptr) {
        return {};
    }
    if (value->IsString()) {
        return {value->GetString(), value->GetStringLength()};
    }
    if (value->IsObject()) { // valueReference, valueCodeableConcept (its first code)
        if (const std::string_view reference = str(*value, "reference"); !reference.empty()) {
            return reference;
        }
        if (value->HasMember("coding") && (*value)["coding"].IsArray() &&
            !(*value)["coding"].Empty()) {
            return str((*value)["coding"][0], "code");
        }
    }
    return {};
}

fhir::OperationResult outcome(int status, const char* code, const std::string& text,
                              const char* severity = "error")
{
    fhir::OperationResult result;
    result.status = status;
    auto& a = result.body.GetAllocator();
    result.body.SetObject();
    setString(result.body, "resourceType", "OperationOutcome", a);
    Value issue(rapidjson::kObjectType);
    setString(issue, "severity", severity, a);
    setString(issue, "code", code, a);
    setString(issue, "diagnostics", text, a);
    Value issues(rapidjson::kArrayType);
    issues.PushBack(issue, a);
    result.body.AddMember("issue", issues, a);
    return result;
}

// ITI-116/117: the slot is no longer available. The profile's Bundle holding only a fatal
// not-found OperationOutcome, sent with 409 so that plain REST clients see it too.
fhir::OperationResult slotGone(const std::string& text)
{
    fhir::OperationResult issue = outcome(409, "not-found", text, "fatal");
    fhir::OperationResult result;
    result.status = 409;
    auto& a = result.body.GetAllocator();
    result.body.SetObject();
    setString(result.body, "resourceType", "Bundle", a);
    setString(result.body, "type", "searchset", a);
    result.body.AddMember("total", fhir::makeNumber(0, a), a);
    Value entry(rapidjson::kObjectType);
    entry.AddMember("resource", Value(issue.body, a), a);
    Value search(rapidjson::kObjectType);
    setString(search, "mode", "outcome", a);
    entry.AddMember("search", search, a);
    Value entries(rapidjson::kArrayType);
    entries.PushBack(entry, a);
    result.body.AddMember("entry", entries, a);
    return result;
}

fhir::OperationResult businessRule(const std::string& chinese, const std::string& english)
{
    return outcome(422, "business-rule", chinese + " / " + english);
}

// The answer of $hold and $book: a searchset Bundle with the Appointment.
fhir::OperationResult appointmentBundle(const Value& appointment, const std::string& base)
{
    fhir::OperationResult result;
    auto& a = result.body.GetAllocator();
    result.body.SetObject();
    setString(result.body, "resourceType", "Bundle", a);
    setString(result.body, "type", "searchset", a);
    result.body.AddMember("total", fhir::makeNumber(1, a), a);
    Value entry(rapidjson::kObjectType);
    setString(entry, "fullUrl", base + "/Appointment/" + std::string(str(appointment, "id")), a);
    entry.AddMember("resource", Value(appointment, a), a);
    Value search(rapidjson::kObjectType);
    setString(search, "mode", "match", a);
    entry.AddMember("search", search, a);
    Value entries(rapidjson::kArrayType);
    entries.PushBack(entry, a);
    result.body.AddMember("entry", entries, a);
    return result;
}

std::optional<std::int64_t> holdExpiry(const Value& slot)
{
    if (!slot.HasMember("extension") || !slot["extension"].IsArray()) {
        return std::nullopt;
    }
    for (const Value& extension : slot["extension"].GetArray()) {
        if (str(extension, "url") == HoldExpires) {
            return instant(str(extension, "valueInstant"));
        }
    }
    return std::nullopt;
}

void setHoldExpiry(Value& slot, std::optional<std::int64_t> expiry, Allocator& a)
{
    Value kept(rapidjson::kArrayType);
    if (slot.HasMember("extension") && slot["extension"].IsArray()) {
        for (Value& extension : slot["extension"].GetArray()) {
            if (str(extension, "url") != HoldExpires) {
                kept.PushBack(Value(extension, a), a);
            }
        }
    }
    if (expiry) {
        Value extension(rapidjson::kObjectType);
        setString(extension, "url", HoldExpires, a);
        setString(extension, "valueInstant", core::formatIsoUtc(*expiry).substr(0, 19) + "Z", a);
        kept.PushBack(extension, a);
    }
    slot.RemoveMember("extension");
    if (!kept.Empty()) {
        slot.AddMember("extension", kept, a);
    }
}

// References of the Appointment's participants of one type ("Patient/1").
std::vector<std::string> actors(const Value& appointment, std::string_view type)
{
    std::vector<std::string> found;
    if (!appointment.HasMember("participant") || !appointment["participant"].IsArray()) {
        return found;
    }
    for (const Value& participant : appointment["participant"].GetArray()) {
        if (!participant.HasMember("actor")) {
            continue;
        }
        const std::string_view reference = str(participant["actor"], "reference");
        if (reference.rfind(std::string(type) + "/", 0) == 0) {
            found.emplace_back(reference);
        }
    }
    return found;
}

std::string slotReference(const Value& appointment)
{
    if (!appointment.HasMember("slot") || !appointment["slot"].IsArray() ||
        appointment["slot"].Empty()) {
        return {};
    }
    std::string reference(str(appointment["slot"][0], "reference"));
    // Absolute references to our own server come back from $find as base + "/Slot/id".
    const auto at = reference.rfind("Slot/");
    return at == std::string::npos ? std::string() : reference.substr(at);
}

// A transaction entry: PUT (ifMatch) or POST of `resource`.
Value entry(const char* method, const std::string& url, const Value& resource,
            const std::string& ifMatch, const std::string& fullUrl, Allocator& a)
{
    Value e(rapidjson::kObjectType);
    if (!fullUrl.empty()) {
        setString(e, "fullUrl", fullUrl, a);
    }
    e.AddMember("resource", Value(resource, a), a);
    Value request(rapidjson::kObjectType);
    setString(request, "method", method, a);
    setString(request, "url", url, a);
    if (!ifMatch.empty()) {
        setString(request, "ifMatch", "W/\"" + ifMatch + "\"", a);
    }
    e.AddMember("request", request, a);
    return e;
}

// The id and version of the entry's resource in a transaction-response
// ("Appointment/12/_history/1").
std::pair<std::string, std::string> locationOf(const Value& response, std::size_t index)
{
    if (!response.IsObject() || !response.HasMember("entry") || !response["entry"].IsArray() ||
        response["entry"].Size() <= index) {
        return {};
    }
    const std::string location(
        str(response["entry"][static_cast<rapidjson::SizeType>(index)]["response"], "location"));
    const auto history = location.find("/_history/");
    if (history == std::string::npos) {
        return {};
    }
    const auto slash = location.rfind('/', history - 1);
    return {location.substr(slash + 1, history - slash - 1), location.substr(history + 10)};
}

// The Appointment a transaction wrote, from its response (which carries each written
// resource unless return=minimal was asked for); null when it is not there.
const Value* writtenAppointment(const Value& response, std::string_view id)
{
    const Value* entries = response.IsObject() ? member(response, "entry") : nullptr;
    if (entries == nullptr || !entries->IsArray()) {
        return nullptr;
    }
    for (const Value& e : entries->GetArray()) {
        const Value* resource = member(e, "resource");
        if (resource != nullptr && str(*resource, "resourceType") == "Appointment" &&
            str(*resource, "id") == id) {
            return resource;
        }
    }
    return nullptr;
}

std::string diagnostics(const Value& outcomeBody)
{
    if (outcomeBody.IsObject() && outcomeBody.HasMember("issue") &&
        outcomeBody["issue"].IsArray() && !outcomeBody["issue"].Empty()) {
        return std::string(str(outcomeBody["issue"][0], "diagnostics"));
    }
    return "the transaction failed";
}

// Why a 422 was answered, as a label: from the English half of the reason (businessRule).
std::string refusalReason(const fhir::OperationResult& result)
{
    const std::string text = diagnostics(result.body);
    static const std::pair<const char*, const char*> reasons[] = {
        {"has closed", "closed"},
        {"not open", "not-open"},
        {"real-name", "real-name"},
        {"missed appointments", "no-show"},
        {"per doctor per day", "one-per-day"},
        {"reserved for another channel", "pool"},
        {"cancellation closes", "cancel-deadline"},
        {"kept for urgent exam orders", "urgent-exam"},
        {"not in the exam catalogue", "exam-catalogue"},
        {"exams, not", "exam-modality"},
        {"the exam order", "exam-order"}};
    for (const auto& [phrase, reason] : reasons) {
        if (text.find(phrase) != std::string::npos) {
            return reason;
        }
    }
    return "other";
}

// The KPIs of issue 7 per channel and department (STANDARDS.md §7): every answer counted by
// what it did; refusals also by reason; lead time of each booking made.
} // namespace

void Scheduling::record(const char* operation, const std::string& channel,
                        const std::string& department, const fhir::OperationResult& result) const
{
    core::MetricsRegistry* metrics = metrics_;
    const std::string ch = channel.empty() ? "unknown" : channel;
    const std::string dept = department.empty() ? "unknown" : department;
    std::string what = "invalid";
    const Value* appointment = nullptr;
    if (result.status == 200 && result.body.HasMember("entry") && result.body["entry"].IsArray() &&
        !result.body["entry"].Empty()) {
        appointment = &result.body["entry"][0]["resource"];
        const std::string_view status = str(*appointment, "status");
        what = status == "pending" ? "held" : std::string(status);
    } else if (result.status == 409 && str(result.body, "resourceType") == "OperationOutcome") {
        what = "his-refused"; // a HIS that takes requests said no (his_requests.h)
    } else if (result.status == 409) {
        what = "slot-gone";
    } else if (result.status == 504) {
        what = "his-no-answer";
    } else if (result.status == 422) {
        what = "refused";
        {
            std::lock_guard lock(tallyMutex_);
            ++refusals_[{ch, dept, refusalReason(result)}];
        }
    } else if (result.status >= 500) {
        what = "error";
    }
    if (std::string_view(operation) == "book" && what != "cancelled") {
        std::lock_guard lock(tallyMutex_);
        auto& [tried, booked] = attempts_[{ch, dept}];
        ++tried;
        booked += what == "booked" ? 1 : 0;
    }
    if (metrics == nullptr) {
        return;
    }
    if (what == "refused") {
        metrics
            ->counter("hl7gw_booking_refusals_total", "Booking requests refused by a rule",
                      {{"channel", ch}, {"department", dept}, {"reason", refusalReason(result)}})
            .add();
    }
    metrics
        ->counter(
            "hl7gw_booking_requests_total", "Booking operations by what they did",
            {{"operation", operation}, {"channel", ch}, {"department", dept}, {"outcome", what}})
        .add();
    if (appointment != nullptr && what == "booked" && std::string_view(operation) == "book") {
        const auto start = instant(str(*appointment, "start"));
        const auto made = instant(str((*appointment)["meta"], "lastUpdated"));
        if (start && made && *start > *made) {
            metrics
                ->histogram("hl7gw_booking_lead_time_seconds",
                            "From booking to the appointment's start",
                            {3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 28 * 86400},
                            {{"channel", ch}, {"department", dept}})
                .observe(static_cast<double>(*start - *made) / 1e6);
        }
    }
}

Scheduling::Scheduling(fhir::FhirServer& server, BookingConfig config, const core::Clock& clock,
                       core::MetricsRegistry* metrics, const FreeSlots* freeSlots)
    : fhir_(server), config_(std::move(config)), clock_(clock), metrics_(metrics),
      freeSlots_(freeSlots), requests_(std::make_unique<const HisRequests>(config_.hisRequests))
{
}

void Scheduling::registerOperations(fhir::FhirServer& server)
{
    server.addOperation("Appointment", "find",
                        [this](fhir::OperationCall& call) { return find(call); });
    server.addOperation("Appointment", "hold",
                        [this](fhir::OperationCall& call) { return hold(call); });
    server.addOperation("Appointment", "book",
                        [this](fhir::OperationCall& call) { return book(call); });
    server.addOperation("", "booking-stats",
                        [this](fhir::OperationCall& call) { return stats(call); });
}

namespace {

/// What one operation call works with: the channel, the Slot and its Schedule, the rules.
struct Booking {
    std::string channel;
    rapidjson::Document appointment; // as asked for (resource) or stored (reference)
    std::string storedVersion;       // the stored Appointment's, when it is stored
    std::string slotId;
    std::string slotVersion;
    rapidjson::Document slot;
    rapidjson::Document schedule;
};

} // namespace

// Shared by $hold and $book: the channel, the Appointment, its Slot and Schedule.
static std::optional<fhir::OperationResult> load(const FhirCalls& fhir, fhir::OperationCall& call,
                                                 Booking& booking)
{
    booking.channel = std::string(textParameter(call.parameters, "channel"));
    if (booking.channel.empty() ||
        std::find(Channels.begin(), Channels.end(), booking.channel) == Channels.end()) {
        return outcome(400, "required",
                       "parameter channel (valueCode) must be one of app, wechat, alipay, phone, "
                       "kiosk, clinic, referral, his");
    }
    if (const Value* resource = parameter(call.parameters, "appointment-resource");
        resource != nullptr && resource->IsObject()) {
        booking.appointment.CopyFrom(*resource, booking.appointment.GetAllocator());
        if (str(booking.appointment, "resourceType") != "Appointment") {
            return outcome(400, "invalid", "appointment-resource must be an Appointment");
        }
        if (const std::string_view id = str(booking.appointment, "id"); !id.empty()) {
            FhirReply stored = fhir.get("Appointment/" + std::string(id));
            if (stored.ok()) {
                booking.storedVersion = stored.version;
            }
        }
    } else if (const std::string_view reference =
                   textParameter(call.parameters, "appointment-reference");
               !reference.empty()) {
        const auto at = reference.rfind("Appointment/");
        FhirReply stored = at == std::string_view::npos
                               ? FhirReply{}
                               : fhir.get(std::string(reference.substr(at)));
        if (!stored.ok()) {
            return outcome(404, "not-found", "appointment-reference names no Appointment here");
        }
        booking.storedVersion = stored.version;
        booking.appointment.Swap(stored.body);
    } else {
        return outcome(400, "required", "give appointment-resource or appointment-reference");
    }
    const std::string slot = slotReference(booking.appointment);
    if (slot.empty()) {
        return outcome(400, "required", "the Appointment names no Slot (Appointment.slot)");
    }
    FhirReply slotReply = fhir.get(slot);
    if (!slotReply.ok()) {
        return slotGone(slot + " does not exist (号源不存在)");
    }
    booking.slotId = slot.substr(5);
    booking.slotVersion = slotReply.version;
    booking.slot.Swap(slotReply.body);
    if (booking.slot.HasMember("schedule")) {
        const std::string schedule(str(booking.slot["schedule"], "reference"));
        FhirReply scheduleReply = fhir.get(schedule);
        if (scheduleReply.ok()) {
            booking.schedule.Swap(scheduleReply.body);
        }
    }
    if (!booking.schedule.IsObject()) {
        booking.schedule.SetObject();
    }
    return std::nullopt;
}

// The hospital's rules for a new booking (STANDARDS.md §6.4, §7.4); nullopt when it may go on.
static std::optional<fhir::OperationResult> checkRules(const FhirCalls& fhir,
                                                       const Booking& booking,
                                                       const BookingRules& rules, std::int64_t now)
{
    const auto start = instant(str(booking.slot, "start"));
    if (!start) {
        return outcome(422, "invalid", "the Slot has no start");
    }
    if (*start < now + rules.closeMinutesBefore * Minute) {
        return businessRule(
            "该号源已停止预约（开诊前" + std::to_string(rules.closeMinutesBefore) + "分钟截止）",
            "booking for this slot has closed (" + std::to_string(rules.closeMinutesBefore) +
                " minutes before the start)");
    }
    if (*start > now + rules.openDaysAhead * Day) {
        return businessRule("该号源尚未开放（提前" + std::to_string(rules.openDaysAhead) +
                                "天放号）",
                            "this slot is not open for booking yet (opens " +
                                std::to_string(rules.openDaysAhead) + " days ahead)");
    }
    const std::vector<std::string> patients = actors(booking.appointment, "Patient");
    if (patients.empty()) {
        return businessRule("实名制预约：请指定就诊患者",
                            "real-name booking: the Appointment names no Patient");
    }
    const std::string& patient = patients.front();
    if (rules.realName) {
        FhirReply found = fhir.get(patient);
        bool named = false;
        if (found.ok() && found.body.HasMember("identifier") &&
            found.body["identifier"].IsArray()) {
            for (const Value& identifier : found.body["identifier"].GetArray()) {
                named = named || !str(identifier, "value").empty();
            }
        }
        if (!named) {
            return businessRule("实名制预约：患者须有身份证号或院内病历号",
                                "real-name booking: the patient needs a national ID or a "
                                "hospital ID");
        }
    }
    // One search for both rules below, by patient and status only: with a date criterion (and
    // no _sort) the server pages in date order and walks every Appointment since the window's
    // start (fhir/search/README.md), where the patient's own rows are few. The window and the
    // day are checked here.
    const bool checkNoShows = online(booking.channel);
    std::string statuses = checkNoShows ? "noshow" : "";
    if (rules.onePerDoctorPerDay) {
        statuses += statuses.empty() ? "" : ",";
        statuses += "pending,booked,checked-in,arrived";
    }
    FhirReply mine;
    if (!statuses.empty()) {
        mine = fhir.get("Appointment?patient=" + encode(patient) + "&status=" + statuses +
                        "&_count=500");
    }
    const Value* appointments = mine.ok() ? member(mine.body, "entry") : nullptr;
    if (appointments != nullptr && !appointments->IsArray()) {
        appointments = nullptr;
    }
    if (checkNoShows) {
        int inWindow = 0;
        std::int64_t last = 0; // the newest no-show starts the restriction
        if (appointments != nullptr) {
            for (const Value& e : appointments->GetArray()) {
                if (str(e["resource"], "status") != "noshow") {
                    continue;
                }
                const std::int64_t at = instant(str(e["resource"], "start")).value_or(0);
                if (at >= now - rules.noShowWindowDays * Day) {
                    ++inWindow;
                    last = std::max(last, at);
                }
            }
        }
        if (inWindow >= rules.noShowLimit) {
            const std::int64_t until = (last > 0 ? last : now) + rules.noShowBlockDays * Day;
            if (now < until) {
                return businessRule("爽约" + std::to_string(rules.noShowLimit) + "次，" +
                                        localTime(until).substr(0, 10) +
                                        "前不能在线预约，请到窗口办理",
                                    std::to_string(rules.noShowLimit) +
                                        " missed appointments: online booking is closed until " +
                                        localTime(until).substr(0, 10) + "; please book at a desk");
            }
        }
    }
    if (rules.onePerDoctorPerDay) {
        const std::int64_t local = *start + OffsetMinutes * Minute;
        const std::int64_t dayStart = local - (local % Day) - OffsetMinutes * Minute;
        std::vector<std::string> doctors = actors(booking.appointment, "Practitioner");
        for (const std::string& doctor : actors(booking.schedule, "Practitioner")) {
            if (std::find(doctors.begin(), doctors.end(), doctor) == doctors.end()) {
                doctors.push_back(doctor);
            }
        }
        const std::string self(str(booking.appointment, "id"));
        if (appointments != nullptr) {
            for (const Value& e : appointments->GetArray()) {
                const std::int64_t at = instant(str(e["resource"], "start")).value_or(0);
                if (str(e["resource"], "status") == "noshow" || str(e["resource"], "id") == self ||
                    at < dayStart || at >= dayStart + Day) {
                    continue;
                }
                for (const std::string& doctor : actors(e["resource"], "Practitioner")) {
                    if (std::find(doctors.begin(), doctors.end(), doctor) != doctors.end()) {
                        return businessRule("同一患者同一天只能预约同一医生一次",
                                            "one booking per patient per doctor per day");
                    }
                }
            }
        }
    }
    return std::nullopt;
}

// Schedule actors as participants of a proposed Appointment (`$find`).
static void addParticipant(Value& appointment, const std::string& reference, Allocator& a)
{
    if (!appointment.HasMember("participant")) {
        appointment.AddMember("participant", Value(rapidjson::kArrayType), a);
    }
    Value participant(rapidjson::kObjectType);
    Value actor(rapidjson::kObjectType);
    setString(actor, "reference", reference, a);
    participant.AddMember("actor", actor, a);
    setString(participant, "status", "needs-action", a);
    appointment["participant"].PushBack(participant, a);
}

fhir::OperationResult Scheduling::find(fhir::OperationCall& call) const
{
    const auto start = instant(textParameter(call.parameters, "start"));
    const auto end = instant(textParameter(call.parameters, "end"));
    if (!start || !end) {
        return outcome(400, "required", "$find needs start and end (valueDate or valueDateTime)");
    }
    const std::string channel(textParameter(call.parameters, "channel"));
    if (!channel.empty() &&
        std::find(Channels.begin(), Channels.end(), channel) == Channels.end()) {
        return outcome(400, "value", "unknown channel '" + channel + "'");
    }
    const std::string bookingChannel = channel.empty() ? "app" : channel;
    int count = 20;
    if (const Value* c = parameter(call.parameters, "_count"); c != nullptr && fhir::isNumber(*c)) {
        count = std::clamp(std::atoi(std::string(fhir::numberText(*c)).c_str()), 1, 100);
    }
    const std::int64_t now = clock_.nowMicros();
    const std::string doctor(textParameter(call.parameters, "practitioner"));
    const std::string location(textParameter(call.parameters, "location-reference"));
    const std::string specialty(textParameter(call.parameters, "specialty"));
    const std::string visit(textParameter(call.parameters, "visit-type"));
    const std::string patient(textParameter(call.parameters, "patient-reference"));
    // `based-on`: the exam order the booking is for. An urgent one (priority urgent, asap,
    // stat) is offered the urgent-exam pool too, as $book will take it.
    std::optional<ExamOrder> order;
    if (const std::string basedOn(textParameter(call.parameters, "based-on")); !basedOn.empty()) {
        FhirReply request = fhir_.get(basedOn);
        if (!request.ok() || !request.body.IsObject() ||
            str(request.body, "resourceType") != "ServiceRequest") {
            return outcome(400, "value", "based-on names no ServiceRequest: " + basedOn);
        }
        ExamOrder named;
        named.reference = basedOn;
        named.priority = std::string(str(request.body, "priority"));
        if (str(request.body, "status") == "active") {
            order = std::move(named);
        }
    }

    fhir::OperationResult result;
    auto& a = result.body.GetAllocator();
    result.body.SetObject();
    setString(result.body, "resourceType", "Bundle", a);
    setString(result.body, "type", "searchset", a);
    Value entries(rapidjson::kArrayType);
    // One offer: false when the Slot is outside the caller's pools or its booking window.
    const auto propose = [&](std::string_view pool, const std::string& department,
                             std::int64_t slotStart, std::string_view startText,
                             std::string_view endText, std::string_view slotId, const Value* copied,
                             const std::vector<std::string_view>& actors) {
        if (pool == "urgent-exam" ? !urgentExamPoolAllows(order, bookingChannel)
                                  : !poolAllows(pool, bookingChannel)) {
            return false;
        }
        const BookingRules& rules = config_.rulesFor(department);
        if (slotStart < now + rules.closeMinutesBefore * Minute ||
            slotStart > now + rules.openDaysAhead * Day) {
            return false;
        }
        Value proposed(rapidjson::kObjectType);
        setString(proposed, "resourceType", "Appointment", a);
        setString(proposed, "status", "proposed", a);
        if (copied != nullptr) {
            for (const char* name :
                 {"serviceCategory", "serviceType", "specialty", "appointmentType"}) {
                if (const Value* element = member(*copied, name)) {
                    proposed.AddMember(Value(name, a), Value(*element, a), a);
                }
            }
        }
        setString(proposed, "start", startText, a);
        setString(proposed, "end", endText, a);
        Value slots(rapidjson::kArrayType);
        Value reference(rapidjson::kObjectType);
        setString(reference, "reference", "Slot/" + std::string(slotId), a);
        slots.PushBack(reference, a);
        proposed.AddMember("slot", slots, a);
        if (!patient.empty()) {
            addParticipant(proposed, patient, a);
        }
        for (const std::string_view actor : actors) {
            addParticipant(proposed, std::string(actor), a);
        }
        Value item(rapidjson::kObjectType);
        item.AddMember("resource", proposed, a);
        Value search(rapidjson::kObjectType);
        setString(search, "mode", "match", a);
        item.AddMember("search", search, a);
        entries.PushBack(item, a);
        return true;
    };

    if (freeSlots_ != nullptr && freeSlots_->ready()) {
        FreeSlots::Query query;
        query.from = *start;
        query.to = *end;
        for (const std::string* actor : {&doctor, &location}) {
            if (!actor->empty()) {
                query.actors.push_back(*actor);
            }
        }
        query.specialty = specialty;
        query.serviceType = visit;
        std::vector<std::string_view> actors;
        freeSlots_->scan(
            query, [&](const FreeSlots::Offer& offer, const FreeSlots::ScheduleInfo& schedule) {
                rapidjson::Document copied;
                if (!offer.copied.empty()) {
                    core::Issue ignored;
                    fhir::parseJson(offer.copied, copied, ignored);
                }
                actors.assign(schedule.actors.begin(), schedule.actors.end());
                propose(offer.pool, schedule.department, offer.start, offer.startText,
                        offer.endText, offer.id, copied.IsObject() ? &copied : nullptr, actors);
                return static_cast<int>(entries.Size()) < count;
            });
    } else {
        findInStore(call, *start, *end, count, propose);
    }
    result.body.AddMember("total", fhir::makeNumber(static_cast<long long>(entries.Size()), a), a);
    result.body.AddMember("entry", entries, a);
    return result;
}

// $find before the free-Slot index is loaded (and in tests without one): the store's search.
template <typename Propose>
void Scheduling::findInStore(const fhir::OperationCall& call, std::int64_t start, std::int64_t end,
                             int count, const Propose& propose) const
{
    // Only a lower bound and no _sort: the server then pages in start order by walking the
    // date index (fhir/search/README.md), a page costing its own rows; `end` is checked here.
    std::string query = "Slot?status=free&start=ge" + utcQuery(start) +
                        "&_count=" + std::to_string(std::max(count * SlotPageFactor, 40));
    if (const std::string_view doctor = textParameter(call.parameters, "practitioner");
        !doctor.empty()) {
        query += "&schedule.actor=" + encode(doctor);
    }
    if (const std::string_view location = textParameter(call.parameters, "location-reference");
        !location.empty()) {
        query += "&schedule.actor=" + encode(location);
    }
    if (const std::string_view specialty = textParameter(call.parameters, "specialty");
        !specialty.empty()) {
        query += "&specialty=" + encode(specialty);
    }
    if (const std::string_view visit = textParameter(call.parameters, "visit-type");
        !visit.empty()) {
        query += "&service-type=" + encode(visit);
    }
    std::map<std::string, rapidjson::Document> schedules;
    int offered = 0;
    FhirReply page = fhir_.get(query);
    for (int pages = 0; pages < 5 && page.ok() && offered < count; ++pages) {
        if (page.body.HasMember("entry") && page.body["entry"].IsArray()) {
            for (const Value& e : page.body["entry"].GetArray()) {
                if (offered >= count) {
                    break;
                }
                const Value& slot = e["resource"];
                const auto slotStart = instant(str(slot, "start"));
                if (!slotStart) {
                    continue;
                }
                if (*slotStart >= end) {
                    return;
                }
                const std::string scheduleRef(str(slot["schedule"], "reference"));
                auto known = schedules.find(scheduleRef);
                if (known == schedules.end()) {
                    FhirReply reply = fhir_.get(scheduleRef);
                    known = schedules.emplace(scheduleRef, rapidjson::Document()).first;
                    if (reply.ok()) {
                        known->second.Swap(reply.body);
                    } else {
                        known->second.SetObject();
                    }
                }
                std::vector<std::string_view> actors;
                if (const Value* list = member(known->second, "actor");
                    list != nullptr && list->IsArray()) {
                    for (const Value& actor : list->GetArray()) {
                        actors.push_back(str(actor, "reference"));
                    }
                }
                if (propose(poolOf(slot), departmentOf(known->second), *slotStart,
                            str(slot, "start"), str(slot, "end"), str(slot, "id"), &slot, actors)) {
                    ++offered;
                }
            }
        }
        // The next page, when the pools left this one short.
        std::string next;
        if (page.body.HasMember("link") && page.body["link"].IsArray()) {
            for (const Value& link : page.body["link"].GetArray()) {
                if (str(link, "relation") == "next") {
                    next = std::string(str(link, "url"));
                }
            }
        }
        const auto at = next.find("/Slot?");
        if (at == std::string::npos) {
            break;
        }
        page = fhir_.get(next.substr(at + 1));
    }
}

// $hold and a new $book: the Slot taken for this Appointment, held (pending, busy-tentative)
// or booked at once (booked, busy).
static fhir::OperationResult take(const FhirCalls& fhir, const BookingConfig& config,
                                  Booking& booking, bool bookNow, std::int64_t now,
                                  const std::string& base)
{
    auto& a = booking.appointment.GetAllocator();
    // The same request again (a client retrying): the first result.
    if (booking.appointment.HasMember("identifier") &&
        booking.appointment["identifier"].IsArray()) {
        for (const Value& identifier : booking.appointment["identifier"].GetArray()) {
            const std::string system(str(identifier, "system"));
            const std::string value(str(identifier, "value"));
            if (value.empty()) {
                continue;
            }
            FhirReply earlier = fhir.get("Appointment?identifier=" + encode(system) + "%7C" +
                                         encode(value) + "&_count=2");
            if (earlier.ok() && earlier.body.HasMember("entry") &&
                earlier.body["entry"].IsArray() && !earlier.body["entry"].Empty()) {
                const Value& first = earlier.body["entry"][0]["resource"];
                const std::string_view status = str(first, "status");
                if (status == "booked" || (status == "pending" && !bookNow)) {
                    return appointmentBundle(first, base);
                }
            }
        }
    }
    const std::string_view slotStatus = str(booking.slot, "status");
    std::optional<std::string> takeOver; // a pending Appointment whose hold expired
    std::string takeOverVersion;
    rapidjson::Document expired;
    if (slotStatus == "busy-tentative") {
        const auto expiry = holdExpiry(booking.slot);
        if (!expiry || *expiry > now) {
            return slotGone("Slot/" + booking.slotId +
                            " is held by another booking (号源已被锁定)");
        }
        FhirReply holder =
            fhir.get("Appointment?slot=Slot/" + booking.slotId + "&status=pending&_count=2");
        if (holder.ok() && holder.body.HasMember("entry") && holder.body["entry"].IsArray() &&
            !holder.body["entry"].Empty()) {
            expired.CopyFrom(holder.body["entry"][0]["resource"], expired.GetAllocator());
            takeOver = std::string(str(expired, "id"));
            takeOverVersion = std::string(str(expired["meta"], "versionId"));
        }
    } else if (slotStatus != "free") {
        return slotGone("Slot/" + booking.slotId + " is " + std::string(slotStatus) +
                        " (号源已被预约)");
    }
    // An exam booking (exam_booking.h): its order checked, the urgent-exam pool by priority.
    ExamCheck exam =
        checkExamOrder(fhir, config, booking.appointment, booking.slot, booking.schedule);
    if (exam.refusal) {
        return std::move(*exam.refusal);
    }
    const std::string pool = poolOf(booking.slot);
    if (pool == "urgent-exam" && !urgentExamPoolAllows(exam.order, booking.channel)) {
        return urgentExamRefusal();
    }
    if (pool != "urgent-exam" && !poolAllows(pool, booking.channel)) {
        return businessRule("该号源为专用号源，当前渠道不能预约",
                            "this slot is reserved for another channel (pool " + pool + ")");
    }
    const BookingRules& rules = config.rulesFor(departmentOf(booking.schedule));
    if (auto refused = checkRules(fhir, booking, rules, now)) {
        return std::move(*refused);
    }

    rapidjson::Document& appointment = booking.appointment;
    appointment.RemoveMember("id");
    appointment.RemoveMember("meta");
    setString(appointment, "status", bookNow ? "booked" : "pending", a);
    setString(appointment, "start", str(booking.slot, "start"), a);
    setString(appointment, "end", str(booking.slot, "end"), a);
    setString(appointment, "created", localTime(now), a);
    // The department the booking counts for (KPIs, $booking-stats): the Schedule's.
    for (const char* element : {"specialty", "serviceType"}) {
        if (!appointment.HasMember(element) && booking.schedule.HasMember(element)) {
            appointment.AddMember(Value(element, a), Value(booking.schedule[element], a), a);
        }
    }
    bool hasIdentifier = false;
    if (appointment.HasMember("identifier") && appointment["identifier"].IsArray()) {
        for (const Value& identifier : appointment["identifier"].GetArray()) {
            hasIdentifier = hasIdentifier || !str(identifier, "value").empty();
        }
    }
    if (!hasIdentifier) {
        Value identifiers(rapidjson::kArrayType);
        Value identifier(rapidjson::kObjectType);
        setString(identifier, "system", BookingIdSystem, a);
        setString(identifier, "value", newUuid(), a);
        identifiers.PushBack(identifier, a);
        set(appointment, "identifier", std::move(identifiers), a);
    }
    // The channel it came through, for notifications and the KPIs.
    Value meta(rapidjson::kObjectType);
    Value tags(rapidjson::kArrayType);
    Value tag(rapidjson::kObjectType);
    setString(tag, "system", ChannelSystem, a);
    setString(tag, "code", booking.channel, a);
    tags.PushBack(tag, a);
    meta.AddMember("tag", tags, a);
    appointment.AddMember("meta", meta, a);
    if (appointment.HasMember("participant") && appointment["participant"].IsArray()) {
        for (Value& participant : appointment["participant"].GetArray()) {
            setString(participant, "status", "accepted", a);
        }
    }
    if (exam.order) {
        applyExamOrder(appointment, *exam.order, a);
    }

    rapidjson::Document& slot = booking.slot;
    setString(slot, "status", bookNow ? "busy" : "busy-tentative", slot.GetAllocator());
    setHoldExpiry(slot,
                  bookNow ? std::nullopt
                          : std::optional<std::int64_t>(now + config.holdSeconds * 1'000'000LL),
                  slot.GetAllocator());

    rapidjson::Document bundle(rapidjson::kObjectType);
    auto& b = bundle.GetAllocator();
    setString(bundle, "resourceType", "Bundle", b);
    setString(bundle, "type", "transaction", b);
    Value entries(rapidjson::kArrayType);
    if (takeOver) {
        // First, on its own: a transaction applies its creates before its updates, so the
        // new hold would meet the old one's row. An expired hold cancelled without the new one
        // following (a racer won) is still right.
        setString(expired, "status", "cancelled", expired.GetAllocator());
        Value reason(rapidjson::kObjectType);
        setString(reason, "text", "hold-expired", expired.GetAllocator());
        set(expired, "cancelationReason", std::move(reason), expired.GetAllocator());
        const FhirReply cancelled =
            fhir.call("PUT", "Appointment/" + *takeOver, fhir::writeJson(expired), takeOverVersion);
        if (!cancelled.ok()) {
            return slotGone("Slot/" + booking.slotId + " was taken meanwhile (号源已被占用)");
        }
    }
    entries.PushBack(entry("PUT", "Slot/" + booking.slotId, slot, booking.slotVersion, {}, b), b);
    const std::string appointmentUrl = "urn:uuid:" + newUuid();
    entries.PushBack(entry("POST", "Appointment", appointment, {}, appointmentUrl, b), b);
    if (bookNow && exam.order) { // the confirmation commits with the booking (a hold gets none)
        entries.PushBack(entry("POST", "Communication",
                               examConfirmation(fhir, *exam.order, appointment, booking.schedule,
                                                appointmentUrl, b),
                               {}, {}, b),
                         b);
    }
    bundle.AddMember("entry", entries, b);
    FhirReply done = fhir.transaction(bundle);
    if (done.status == 409 || done.status == 412) {
        return slotGone("Slot/" + booking.slotId +
                        " was taken meanwhile (号源已被占用): " + diagnostics(done.body));
    }
    if (!done.ok()) {
        fhir::OperationResult failed;
        failed.status = done.status;
        failed.body.Swap(done.body);
        return failed;
    }
    const auto [id, version] = locationOf(done.body, 1);
    if (const Value* written = writtenAppointment(done.body, id)) {
        return appointmentBundle(*written, base);
    }
    FhirReply stored = fhir.get("Appointment/" + id);
    if (!stored.ok()) {
        return outcome(500, "exception", "the booked Appointment cannot be read back");
    }
    return appointmentBundle(stored.body, base);
}

// "12" of the Slot's Schedule reference.
static std::string scheduleIdOf(const Value& slot)
{
    const Value* schedule = member(slot, "schedule");
    const std::string_view reference = schedule == nullptr ? "" : str(*schedule, "reference");
    const auto at = reference.rfind("Schedule/");
    return at == std::string_view::npos ? std::string() : std::string(reference.substr(at + 9));
}

// A HIS that takes requests answered no, or not at all (his_requests.h): the FHIR client's
// answer. `what` is "booking" or "cancellation".
static fhir::OperationResult hisFailure(const HisAnswer& answer, const std::string& what)
{
    const std::string nothing = what == "booking" ? "nothing was booked" : "nothing was cancelled";
    switch (answer.outcome) {
    case HisAnswer::Outcome::Refused:
        return outcome(409, "conflict",
                       "号源所属医院拒绝了该" + std::string(what == "booking" ? "预约" : "取消") +
                           " / the HIS refused the " + what + " (" + answer.text + "); " + nothing);
    case HisAnswer::Outcome::NoAnswer:
        return outcome(504, "timeout",
                       "号源所属医院系统无应答 / " + answer.text + "; " + nothing +
                           ", please try again");
    default:
        return outcome(502, "exception", answer.text + "; " + nothing);
    }
}

// A hold the HIS would not confirm: the Appointment cancelled, the Slot free again, in one
// transaction (a concurrent change leaves it to the expired-hold release).
static void releaseRefusedHold(const FhirCalls& fhir, const std::string& appointmentId,
                               const HisAnswer& answer)
{
    FhirReply appointment = fhir.get("Appointment/" + appointmentId);
    if (!appointment.ok() || str(appointment.body, "status") != "pending") {
        return;
    }
    const std::string slot = slotReference(appointment.body);
    FhirReply held = slot.empty() ? FhirReply{} : fhir.get(slot);
    auto& a = appointment.body.GetAllocator();
    setString(appointment.body, "status", "cancelled", a);
    Value reason(rapidjson::kObjectType);
    setString(reason, "text",
              answer.outcome == HisAnswer::Outcome::Refused ? "his-refused" : "his-no-answer", a);
    set(appointment.body, "cancelationReason", std::move(reason), a);
    rapidjson::Document bundle(rapidjson::kObjectType);
    auto& b = bundle.GetAllocator();
    setString(bundle, "resourceType", "Bundle", b);
    setString(bundle, "type", "transaction", b);
    Value entries(rapidjson::kArrayType);
    entries.PushBack(
        entry("PUT", "Appointment/" + appointmentId, appointment.body, appointment.version, {}, b),
        b);
    if (held.ok() && str(held.body, "status") == "busy-tentative") {
        setString(held.body, "status", "free", held.body.GetAllocator());
        setHoldExpiry(held.body, std::nullopt, held.body.GetAllocator());
        entries.PushBack(entry("PUT", slot, held.body, held.version, {}, b), b);
    }
    bundle.AddMember("entry", entries, b);
    const FhirReply done = fhir.transaction(bundle);
    if (!done.ok()) {
        Poco::Logger::get("hl7gw.booking")
            .warning("Appointment/%s: releasing the hold the HIS did not confirm failed (%d); the "
                     "expired-hold release frees it",
                     appointmentId, done.status);
    }
}

fhir::OperationResult Scheduling::hold(fhir::OperationCall& call) const
{
    if (call.request.method != "POST") {
        return outcome(405, "not-supported", "$hold changes the pool: POST it");
    }
    Booking booking;
    fhir::OperationResult result = [&]() -> fhir::OperationResult {
        if (auto refused = load(fhir_, call, booking)) {
            return std::move(*refused);
        }
        if (!booking.storedVersion.empty()) {
            const std::string_view status = str(booking.appointment, "status");
            if (status == "pending" || status == "booked") {
                return appointmentBundle(booking.appointment, call.base);
            }
            return outcome(422, "business-rule",
                           "Appointment is " + std::string(status) +
                               "; $hold takes a proposed one");
        }
        return take(fhir_, config_, booking, false, clock_.nowMicros(), call.base);
    }();
    record("hold", booking.channel, departmentOf(booking.schedule), result);
    return result;
}

fhir::OperationResult Scheduling::book(fhir::OperationCall& call) const
{
    if (call.request.method != "POST") {
        return outcome(405, "not-supported", "$book changes the pool: POST it");
    }
    Booking booking;
    fhir::OperationResult result = [&]() -> fhir::OperationResult {
        if (auto refused = load(fhir_, call, booking)) {
            return std::move(*refused);
        }
        const std::int64_t now = clock_.nowMicros();
        const HisRequestsConfig* his =
            requests_->ownerOf(scheduleIdOf(booking.slot), departmentOf(booking.schedule));
        if (booking.storedVersion.empty()) {
            if (his == nullptr) {
                return take(fhir_, config_, booking, true, now, call.base);
            }
            // Held and committed first, so that no other channel takes the Slot while the HIS
            // decides; then booked from the hold below.
            fhir::OperationResult held = take(fhir_, config_, booking, false, now, call.base);
            if (held.status != 200) {
                return held;
            }
            const Value& first = held.body["entry"][0]["resource"];
            if (str(first, "status") == "booked") {
                return held; // the same request again: the first result
            }
            FhirReply stored = fhir_.get("Appointment/" + std::string(str(first, "id")));
            FhirReply slot = fhir_.get("Slot/" + booking.slotId);
            if (!stored.ok() || !slot.ok()) {
                return outcome(500, "exception", "the held Appointment cannot be read back");
            }
            booking.appointment.Swap(stored.body);
            booking.storedVersion = stored.version;
            booking.slot.Swap(slot.body);
            booking.slotVersion = slot.version;
        }
        // A stored Appointment: book the hold, cancel, or move to another Slot.
        const std::string id(str(booking.appointment, "id"));
        FhirReply storedReply = fhir_.get("Appointment/" + id);
        if (!storedReply.ok()) {
            return outcome(404, "not-found", "Appointment/" + id + " does not exist");
        }
        rapidjson::Document& stored = storedReply.body;
        const std::string storedStatus(str(stored, "status"));
        const std::string wanted(str(booking.appointment, "status"));
        const std::string storedSlot = slotReference(stored);
        auto& sa = stored.GetAllocator();

        rapidjson::Document bundle(rapidjson::kObjectType);
        auto& b = bundle.GetAllocator();
        setString(bundle, "resourceType", "Bundle", b);
        setString(bundle, "type", "transaction", b);
        Value entries(rapidjson::kArrayType);
        auto freeSlot = [&](const std::string& slotRef) {
            FhirReply slot = fhir_.get(slotRef);
            if (!slot.ok()) {
                return;
            }
            const std::string_view status = str(slot.body, "status");
            if (status != "busy" && status != "busy-tentative") {
                return;
            }
            const auto start = instant(str(slot.body, "start"));
            setString(slot.body, "status", "free", slot.body.GetAllocator());
            setHoldExpiry(slot.body, std::nullopt, slot.body.GetAllocator());
            // A Slot in the past is not bookable again; it stays as it was.
            if (start && *start > now) {
                entries.PushBack(entry("PUT", slotRef, slot.body, slot.version, {}, b), b);
            }
        };

        if (wanted == "cancelled") {
            if (storedStatus == "cancelled") {
                return appointmentBundle(stored, call.base);
            }
            if (storedStatus != "pending" && storedStatus != "booked") {
                return outcome(422, "business-rule",
                               "Appointment is " + storedStatus + " and cannot be cancelled");
            }
            const BookingRules& rules = config_.rulesFor(departmentOf(booking.schedule));
            const auto start = instant(str(stored, "start"));
            if (storedStatus == "booked" && online(booking.channel) && start &&
                now > *start - rules.cancelHoursBefore * 60 * Minute) {
                return businessRule("就诊前" + std::to_string(rules.cancelHoursBefore) +
                                        "小时内不能在线取消，请联系医院",
                                    "cancellation closes " +
                                        std::to_string(rules.cancelHoursBefore) +
                                        " hours before the start; please contact the hospital");
            }
            setString(stored, "status", "cancelled", sa);
            Value reason(rapidjson::kObjectType);
            Value codings(rapidjson::kArrayType);
            Value coding(rapidjson::kObjectType);
            setString(coding, "system", CancelSystem, sa);
            setString(coding, "code", "pat", sa);
            codings.PushBack(coding, sa);
            reason.AddMember("coding", codings, sa);
            set(stored, "cancelationReason", std::move(reason), sa);
            if (his != nullptr && storedStatus == "booked") {
                // The HIS's booking: cancelled there first (SRM^S04); a hold was never sent.
                const HisAnswer answer = requests_->request(*his, stored, fhir_);
                if (answer.outcome != HisAnswer::Outcome::Accepted) {
                    return hisFailure(answer, "cancellation");
                }
            }
            entries.PushBack(entry("PUT", "Appointment/" + id, stored, storedReply.version, {}, b),
                             b);
            freeSlot(storedSlot);
        } else if (storedStatus == "pending") {
            // The hold becomes the booking: the Slot this Appointment holds goes busy.
            if (str(booking.slot, "status") != "busy-tentative") {
                return slotGone("Slot/" + booking.slotId + " is no longer held for this booking");
            }
            // An exam hold is checked again: its order may have been revoked meanwhile.
            ExamCheck exam = checkExamOrder(fhir_, config_, stored, booking.slot, booking.schedule);
            if (exam.refusal) {
                return std::move(*exam.refusal);
            }
            if (his != nullptr) {
                // A new request (SRM^S01) whatever versions the hold went through.
                rapidjson::Document request;
                request.CopyFrom(stored, request.GetAllocator());
                if (request.HasMember("meta") && request["meta"].IsObject()) {
                    request["meta"].RemoveMember("versionId");
                }
                const HisAnswer answer = requests_->request(*his, request, fhir_);
                if (answer.outcome != HisAnswer::Outcome::Accepted) {
                    releaseRefusedHold(fhir_, id, answer);
                    return hisFailure(answer, "booking");
                }
                if (!answer.fillerValue.empty()) {
                    // The HIS's number, which every later request names (ARQ-2).
                    Value identifier(rapidjson::kObjectType);
                    Value type(rapidjson::kObjectType);
                    Value codings(rapidjson::kArrayType);
                    Value fill(rapidjson::kObjectType);
                    setString(fill, "system", "http://terminology.hl7.org/CodeSystem/v2-0203", sa);
                    setString(fill, "code", "FILL", sa);
                    codings.PushBack(fill, sa);
                    type.AddMember("coding", codings, sa);
                    identifier.AddMember("type", type, sa);
                    if (!answer.fillerSystem.empty()) {
                        setString(identifier, "system", answer.fillerSystem, sa);
                    }
                    setString(identifier, "value", answer.fillerValue, sa);
                    if (!stored.HasMember("identifier") || !stored["identifier"].IsArray()) {
                        set(stored, "identifier", Value(rapidjson::kArrayType), sa);
                    }
                    stored["identifier"].PushBack(identifier, sa);
                }
            }
            setString(stored, "status", "booked", sa);
            setString(booking.slot, "status", "busy", booking.slot.GetAllocator());
            setHoldExpiry(booking.slot, std::nullopt, booking.slot.GetAllocator());
            entries.PushBack(
                entry("PUT", "Slot/" + booking.slotId, booking.slot, booking.slotVersion, {}, b),
                b);
            entries.PushBack(entry("PUT", "Appointment/" + id, stored, storedReply.version, {}, b),
                             b);
            if (exam.order) {
                entries.PushBack(entry("POST", "Communication",
                                       examConfirmation(fhir_, *exam.order, stored,
                                                        booking.schedule, "Appointment/" + id, b),
                                       {}, {}, b),
                                 b);
            }
        } else if (storedStatus == "booked" && "Slot/" + booking.slotId != storedSlot) {
            // A change to another Slot (STANDARDS.md §7.2 reschedule; SIU^S13 by the outbox).
            FhirReply oldSlot = fhir_.get(storedSlot);
            const Value* oldSchedule = oldSlot.ok() ? member(oldSlot.body, "schedule") : nullptr;
            FhirReply oldOwner = oldSchedule == nullptr
                                     ? FhirReply{}
                                     : fhir_.get(std::string(str(*oldSchedule, "reference")));
            if (his != nullptr ||
                (oldSlot.ok() &&
                 requests_->ownerOf(scheduleIdOf(oldSlot.body),
                                    oldOwner.ok() ? departmentOf(oldOwner.body) : "") != nullptr)) {
                // SRM^S02 is not sent yet: a move is a cancellation and a new request.
                return businessRule("该号源由医院系统管理，请先取消再重新预约",
                                    "this HIS takes booking and cancellation requests only: "
                                    "cancel, then book the other slot");
            }
            if (str(booking.slot, "status") != "free") {
                return slotGone("Slot/" + booking.slotId + " is not free (号源已被预约)");
            }
            // The order travels with the booking: the new Slot is checked as a first one.
            ExamCheck exam = checkExamOrder(fhir_, config_, stored, booking.slot, booking.schedule);
            if (exam.refusal) {
                return std::move(*exam.refusal);
            }
            if (const std::string pool = poolOf(booking.slot); pool == "urgent-exam") {
                if (!urgentExamPoolAllows(exam.order, booking.channel)) {
                    return urgentExamRefusal();
                }
            } else if (!poolAllows(pool, booking.channel)) {
                return businessRule("该号源为专用号源，当前渠道不能预约",
                                    "this slot is reserved for another channel");
            }
            const BookingRules& rules = config_.rulesFor(departmentOf(booking.schedule));
            if (auto refused = checkRules(fhir_, booking, rules, now)) {
                return std::move(*refused);
            }
            freeSlot(storedSlot);
            Value slots(rapidjson::kArrayType);
            Value reference(rapidjson::kObjectType);
            setString(reference, "reference", "Slot/" + booking.slotId, sa);
            slots.PushBack(reference, sa);
            set(stored, "slot", std::move(slots), sa);
            setString(stored, "start", str(booking.slot, "start"), sa);
            setString(stored, "end", str(booking.slot, "end"), sa);
            setString(booking.slot, "status", "busy", booking.slot.GetAllocator());
            entries.PushBack(
                entry("PUT", "Slot/" + booking.slotId, booking.slot, booking.slotVersion, {}, b),
                b);
            entries.PushBack(entry("PUT", "Appointment/" + id, stored, storedReply.version, {}, b),
                             b);
        } else if (storedStatus == "booked") {
            return appointmentBundle(stored, call.base); // already booked: the first result
        } else {
            return outcome(422, "business-rule",
                           "Appointment is " + storedStatus + "; $book cannot change it");
        }
        bundle.AddMember("entry", entries, b);
        FhirReply done = fhir_.transaction(bundle);
        if (done.status == 409 || done.status == 412) {
            return slotGone("the booking changed meanwhile (号源已变更): " +
                            diagnostics(done.body));
        }
        if (!done.ok()) {
            fhir::OperationResult failed;
            failed.status = done.status;
            failed.body.Swap(done.body);
            return failed;
        }
        if (const Value* written = writtenAppointment(done.body, id)) {
            return appointmentBundle(*written, call.base);
        }
        FhirReply after = fhir_.get("Appointment/" + id);
        return appointmentBundle(after.ok() ? static_cast<const Value&>(after.body) : stored,
                                 call.base);
    }();
    record("book", booking.channel, departmentOf(booking.schedule), result);
    return result;
}

namespace {

std::string ratio(std::uint64_t part, std::uint64_t whole)
{
    if (whole == 0) {
        return "0";
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.3f",
                  static_cast<double>(part) / static_cast<double>(whole));
    return text;
}

void addPart(Value& parts, const char* name, const char* type, Value value, Allocator& a)
{
    Value part(rapidjson::kObjectType);
    setString(part, "name", name, a);
    part.AddMember(Value(type, a), std::move(value), a);
    parts.PushBack(part, a);
}

Value text(const std::string& value, Allocator& a)
{
    return Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), a);
}

// Every resource of a search, following the next links (at most `pages` pages).
template <typename Fn> void eachResult(const FhirCalls& fhir, std::string path, int pages, Fn&& fn)
{
    for (int page = 0; page < pages && !path.empty(); ++page) {
        FhirReply reply = fhir.get(path);
        path.clear();
        if (!reply.ok() || !reply.body.HasMember("entry") || !reply.body["entry"].IsArray()) {
            return;
        }
        for (const Value& e : reply.body["entry"].GetArray()) {
            if (!fn(e["resource"])) {
                return;
            }
        }
        if (reply.body.HasMember("link") && reply.body["link"].IsArray()) {
            for (const Value& link : reply.body["link"].GetArray()) {
                const std::string url(str(link, "url"));
                const auto at = url.find("/fhir/");
                if (str(link, "relation") == "next" && at != std::string::npos) {
                    path = url.substr(at + 6);
                }
            }
        }
    }
}

std::string channelOf(const Value& appointment)
{
    if (appointment.HasMember("meta") && appointment["meta"].HasMember("tag") &&
        appointment["meta"]["tag"].IsArray()) {
        for (const Value& tag : appointment["meta"]["tag"].GetArray()) {
            if (str(tag, "system") == ChannelSystem) {
                return std::string(str(tag, "code"));
            }
        }
    }
    return "unknown";
}

} // namespace

fhir::OperationResult Scheduling::stats(fhir::OperationCall& call) const
{
    const std::int64_t now = clock_.nowMicros();
    const std::string startText(textParameter(call.parameters, "start"));
    const std::string endText(textParameter(call.parameters, "end"));
    const auto start = startText.empty() ? std::optional(now - 30 * Day) : instant(startText);
    const auto end = endText.empty() ? std::optional(now + 7 * Day) : instant(endText);
    if (!start || !end || *end <= *start) {
        return outcome(400, "invalid", "start and end must be dates or times, start before end");
    }
    struct Tally {
        std::uint64_t booked = 0; // every Appointment that was booked: booked and after
        std::uint64_t cancelled = 0;
        std::uint64_t noshow = 0;
        std::uint64_t past = 0; // booked ones whose start has passed (no-show rate base)
        double leadHours = 0;
        std::uint64_t leads = 0;
    };
    std::map<std::pair<std::string, std::string>, Tally> tallies;
    // Start order through the date index, the end checked here (see find()).
    eachResult(fhir_, "Appointment?date=ge" + utcQuery(*start) + "&_count=500", 400,
               [&](const Value& appointment) {
                   const auto at = instant(str(appointment, "start"));
                   if (at && *at >= *end) {
                       return false;
                   }
                   Tally& t = tallies[{channelOf(appointment), departmentOf(appointment)}];
                   const std::string_view status = str(appointment, "status");
                   if (status == "cancelled") {
                       ++t.cancelled;
                   } else if (status == "noshow") {
                       ++t.noshow;
                       ++t.booked;
                       ++t.past;
                   } else if (status == "booked" || status == "arrived" || status == "checked-in" ||
                              status == "fulfilled") {
                       ++t.booked;
                       t.past += at && *at < now ? 1 : 0;
                   }
                   const auto created = instant(str(appointment, "created"));
                   if (at && created && *at > *created && status != "cancelled") {
                       t.leadHours += static_cast<double>(*at - *created) / (60.0 * Minute);
                       ++t.leads;
                   }
                   return true;
               });
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> slots; // dept -> (all, busy)
    std::map<std::string, std::string> departments;                       // schedule -> dept
    eachResult(
        fhir_, "Slot?start=ge" + utcQuery(*start) + "&_count=500", 400, [&](const Value& slot) {
            const auto at = instant(str(slot, "start"));
            if (at && *at >= *end) {
                return false;
            }
            const std::string_view status = str(slot, "status");
            if (status == "busy-unavailable") {
                return true; // not offered: not part of the capacity
            }
            const std::string schedule(str(slot["schedule"], "reference"));
            auto known = departments.find(schedule);
            if (known == departments.end()) {
                FhirReply reply = fhir_.get(schedule);
                known =
                    departments.emplace(schedule, reply.ok() ? departmentOf(reply.body) : "").first;
            }
            auto& [all, busy] = slots[known->second.empty() ? "unknown" : known->second];
            ++all;
            busy += status == "busy" ? 1 : 0;
            return true;
        });

    fhir::OperationResult result;
    auto& a = result.body.GetAllocator();
    result.body.SetObject();
    setString(result.body, "resourceType", "Parameters", a);
    Value parameters(rapidjson::kArrayType);
    {
        Value period(rapidjson::kObjectType);
        setString(period, "start", localTime(*start), a);
        setString(period, "end", localTime(*end), a);
        Value p(rapidjson::kObjectType);
        setString(p, "name", "period", a);
        p.AddMember("valuePeriod", period, a);
        parameters.PushBack(p, a);
    }
    std::map<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::uint64_t>> attempts;
    std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> refusals;
    {
        std::lock_guard lock(tallyMutex_);
        attempts = attempts_;
        refusals = refusals_;
    }
    for (const auto& [key, t] : tallies) {
        const auto& [channel, department] = key;
        std::uint64_t refused = 0;
        for (const auto& [r, n] : refusals) {
            refused += std::get<0>(r) == channel && std::get<1>(r) == department ? n : 0;
        }
        Value parts(rapidjson::kArrayType);
        addPart(parts, "channel", "valueCode", text(channel, a), a);
        addPart(parts, "department", "valueCode",
                text(department.empty() ? "unknown" : department, a), a);
        addPart(parts, "booked", "valueInteger",
                fhir::makeNumber(static_cast<long long>(t.booked), a), a);
        addPart(parts, "cancelled", "valueInteger",
                fhir::makeNumber(static_cast<long long>(t.cancelled), a), a);
        addPart(parts, "noshow", "valueInteger",
                fhir::makeNumber(static_cast<long long>(t.noshow), a), a);
        addPart(parts, "refused", "valueInteger",
                fhir::makeNumber(static_cast<long long>(refused), a), a);
        const auto tried = attempts.find(key);
        // Success: of this process's $book attempts, those that booked (refusals and slots
        // gone are not stored, so the rate is this node's since it started).
        if (tried != attempts.end()) {
            addPart(parts, "success-rate", "valueDecimal",
                    fhir::makeNumber(ratio(tried->second.second, tried->second.first), a), a);
        }
        addPart(parts, "noshow-rate", "valueDecimal", fhir::makeNumber(ratio(t.noshow, t.past), a),
                a);
        addPart(parts, "cancellation-rate", "valueDecimal",
                fhir::makeNumber(ratio(t.cancelled, t.booked + t.cancelled), a), a);
        if (t.leads > 0) {
            char lead[32];
            std::snprintf(lead, sizeof lead, "%.1f", t.leadHours / static_cast<double>(t.leads));
            addPart(parts, "mean-lead-time-hours", "valueDecimal", fhir::makeNumber(lead, a), a);
        }
        Value p(rapidjson::kObjectType);
        setString(p, "name", "group", a);
        p.AddMember("part", parts, a);
        parameters.PushBack(p, a);
    }
    for (const auto& [key, n] : refusals) {
        Value parts(rapidjson::kArrayType);
        addPart(parts, "channel", "valueCode", text(std::get<0>(key), a), a);
        addPart(parts, "department", "valueCode", text(std::get<1>(key), a), a);
        addPart(parts, "reason", "valueCode", text(std::get<2>(key), a), a);
        addPart(parts, "count", "valueInteger", fhir::makeNumber(static_cast<long long>(n), a), a);
        Value p(rapidjson::kObjectType);
        setString(p, "name", "refusal", a);
        p.AddMember("part", parts, a);
        parameters.PushBack(p, a);
    }
    for (const auto& [department, counts] : slots) {
        Value parts(rapidjson::kArrayType);
        addPart(parts, "department", "valueCode", text(department, a), a);
        addPart(parts, "slots", "valueInteger",
                fhir::makeNumber(static_cast<long long>(counts.first), a), a);
        addPart(parts, "busy", "valueInteger",
                fhir::makeNumber(static_cast<long long>(counts.second), a), a);
        addPart(parts, "rate", "valueDecimal",
                fhir::makeNumber(ratio(counts.second, counts.first), a), a);
        Value p(rapidjson::kObjectType);
        setString(p, "name", "utilisation", a);
        p.AddMember("part", parts, a);
        parameters.PushBack(p, a);
    }
    result.body.AddMember("parameter", parameters, a);
    return result;
}

std::size_t Scheduling::releaseExpiredHolds(std::int64_t nowMicros) const
{
    std::size_t released = 0;
    FhirReply held = fhir_.get("Slot?status=busy-tentative&_count=200");
    if (!held.ok() || !held.body.HasMember("entry") || !held.body["entry"].IsArray()) {
        return 0;
    }
    for (Value& e : held.body["entry"].GetArray()) {
        Value& slot = e["resource"];
        const auto expiry = holdExpiry(slot);
        if (!expiry || *expiry > nowMicros) {
            continue;
        }
        const std::string slotId(str(slot, "id"));
        const std::string slotVersion(str(slot["meta"], "versionId"));
        rapidjson::Document bundle(rapidjson::kObjectType);
        auto& b = bundle.GetAllocator();
        setString(bundle, "resourceType", "Bundle", b);
        setString(bundle, "type", "transaction", b);
        Value entries(rapidjson::kArrayType);
        FhirReply holder =
            fhir_.get("Appointment?slot=Slot/" + slotId + "&status=pending&_count=5");
        if (holder.ok() && holder.body.HasMember("entry") && holder.body["entry"].IsArray()) {
            for (Value& h : holder.body["entry"].GetArray()) {
                Value& appointment = h["resource"];
                const std::string id(str(appointment, "id"));
                const std::string version(str(appointment["meta"], "versionId"));
                setString(appointment, "status", "cancelled", holder.body.GetAllocator());
                Value reason(rapidjson::kObjectType);
                setString(reason, "text", "hold-expired", holder.body.GetAllocator());
                set(appointment, "cancelationReason", std::move(reason),
                    holder.body.GetAllocator());
                entries.PushBack(entry("PUT", "Appointment/" + id, appointment, version, {}, b), b);
            }
        }
        setString(slot, "status", "free", held.body.GetAllocator());
        setHoldExpiry(slot, std::nullopt, held.body.GetAllocator());
        entries.PushBack(entry("PUT", "Slot/" + slotId, slot, slotVersion, {}, b), b);
        bundle.AddMember("entry", entries, b);
        // A Slot booked or taken over meanwhile fails its ifMatch: left alone, as it should.
        if (fhir_.transaction(bundle).ok()) {
            ++released;
        }
    }
    return released;
}

} // namespace hl7gw::booking
