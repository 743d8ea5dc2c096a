#include "gateway/booking/suspension.h"

#include "gateway/booking/fhir_json.h"

#include "gateway/booking/fhir_calls.h"
#include "gateway/fhir/model/json_io.h"

#include <Poco/Logger.h>
#include <Poco/UUIDGenerator.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::booking {

using namespace json;

// STANDARDS.md §7.3: the booking's own channel where it has one we can reach, SMS for
// everything else (phone centre, kiosk, desk, referral, HIS bookings).
NotificationMedium notificationMedium(std::string_view channel)
{
    if (channel == "app") {
        return {"app", "医院App / hospital app", "ONLINEWRIT"};
    }
    if (channel == "wechat") {
        return {"wechat", "微信 / WeChat", "ONLINEWRIT"};
    }
    if (channel == "alipay") {
        return {"alipay", "支付宝 / Alipay", "ONLINEWRIT"};
    }
    return {"sms", "短信 / SMS", "WRITTEN"};
}

namespace {

// The longest slice slot_generator.h makes: a Slot starting this long before the period can
// still run into it.
constexpr std::int64_t LongestSlot = 240 * Minute;
constexpr int Attempts = 3;
// As Schedule/$generate: a suspension is days or weeks; a longer period is a typo more often
// than a plan, and each day costs a search.
constexpr std::int64_t MaxDays = 93;
constexpr std::size_t OfferedSlots = 3;
constexpr int OfferPages = 3;
constexpr const char* HoldExpires = "urn:hl7gw:hold-expires";
constexpr const char* CancelSystem =
    "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason";
constexpr const char* CategorySystem =
    "http://terminology.hl7.org/CodeSystem/communication-category";
constexpr const char* ModeSystem = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode";

Poco::Logger& logger()
{
    static Poco::Logger& l = Poco::Logger::get("hl7gw.booking.suspension");
    return l;
}

Value text(std::string_view value, Allocator& a)
{
    return Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a);
}

Value reference(std::string_view target, Allocator& a, std::string_view display = {})
{
    Value r(rapidjson::kObjectType);
    r.AddMember("reference", text(target, a), a);
    if (!display.empty()) {
        r.AddMember("display", text(display, a), a);
    }
    return r;
}

Value coding(const char* system, std::string_view code, std::string_view display, Allocator& a)
{
    Value c(rapidjson::kObjectType);
    c.AddMember("system", Value(rapidjson::StringRef(system)), a);
    c.AddMember("code", text(code, a), a);
    if (!display.empty()) {
        c.AddMember("display", text(display, a), a);
    }
    return c;
}

std::int64_t floorDiv(std::int64_t value, std::int64_t by)
{
    return value / by - (value % by < 0 ? 1 : 0);
}

std::string offsetSuffix(int offsetMinutes)
{
    const int magnitude = offsetMinutes < 0 ? -offsetMinutes : offsetMinutes;
    const int hours = magnitude / 60 % 100;
    const int minutes = magnitude % 60;
    return std::string(offsetMinutes < 0 ? "-" : "+") + static_cast<char>('0' + hours / 10) +
           static_cast<char>('0' + hours % 10) + ":" + static_cast<char>('0' + minutes / 10) +
           static_cast<char>('0' + minutes % 10);
}

// "2026-12-03T08:00:00+08:00": how the alliance's systems write times.
std::string localTime(std::int64_t micros, int offsetMinutes)
{
    return core::formatIsoUtc(micros + offsetMinutes * Minute).substr(0, 19) +
           offsetSuffix(offsetMinutes);
}

// "2026-12-03 08:00" for the notice: the patient's own clock.
std::string readableTime(std::int64_t micros, int offsetMinutes)
{
    std::string local = localTime(micros, offsetMinutes).substr(0, 16);
    local[10] = ' ';
    return local;
}

fhir::OperationResult outcome(int status, const char* code, const std::string& diagnostics)
{
    fhir::OperationResult result;
    result.status = status;
    auto& a = result.body.GetAllocator();
    result.body.SetObject();
    result.body.AddMember("resourceType", "OperationOutcome", a);
    Value issue(rapidjson::kObjectType);
    issue.AddMember("severity", "error", a);
    issue.AddMember("code", Value(rapidjson::StringRef(code)), a);
    issue.AddMember("diagnostics", text(diagnostics, a), a);
    Value issues(rapidjson::kArrayType);
    issues.PushBack(issue, a);
    result.body.AddMember("issue", issues, a);
    return result;
}

fhir::OperationResult passOn(FhirReply& reply)
{
    fhir::OperationResult result;
    result.status = reply.status;
    if (reply.body.IsObject()) {
        result.body.Swap(reply.body);
        return result;
    }
    return outcome(reply.status >= 400 ? reply.status : 500, "exception",
                   "the FHIR server answered " + std::to_string(reply.status));
}

// The parameter's value member and its name ("valueDate"), or null.
const Value* parameterValue(const Value& parameters, std::string_view name, std::string_view& key)
{
    const Value* list = member(parameters, "parameter");
    if (list == nullptr || !list->IsArray()) {
        return nullptr;
    }
    for (const Value& p : list->GetArray()) {
        if (str(p, "name") != name) {
            continue;
        }
        for (const auto& m : p.GetObject()) {
            key = std::string_view(m.name.GetString(), m.name.GetStringLength());
            if (key.rfind("value", 0) == 0) {
                return &m.value;
            }
        }
    }
    return nullptr;
}

// A bound of the period. A date is a local day (FHIR R4 dateTime: a value of date precision
// is the whole day), so an `end` date includes its day; a time without a zone is local, as
// the server reads search values (STANDARDS.md §3.5).
std::optional<std::int64_t> periodBound(std::string_view value, bool isEnd, int offsetMinutes)
{
    if (value.size() == 10) {
        const auto day = instant(std::string(value) + "T00:00:00Z");
        if (!day) {
            return std::nullopt;
        }
        return *day - offsetMinutes * Minute + (isEnd ? Day : 0);
    }
    std::string withZone(value);
    if (value.size() > 10 && value.find_first_of("Z+-", 10) == std::string_view::npos) {
        withZone += offsetSuffix(offsetMinutes);
    }
    return instant(withZone);
}

// "Slot/12" from a relative or absolute reference; empty when it names no Slot.
std::string slotTarget(std::string_view reference)
{
    const auto at = reference.rfind("Slot/");
    return at == std::string_view::npos ? std::string() : std::string(reference.substr(at));
}

std::vector<std::string> slotsOf(const Value& appointment)
{
    std::vector<std::string> slots;
    const Value* list = member(appointment, "slot");
    if (list != nullptr && list->IsArray()) {
        for (const Value& slot : list->GetArray()) {
            if (std::string target = slotTarget(str(slot, "reference")); !target.empty()) {
                slots.push_back(std::move(target));
            }
        }
    }
    return slots;
}

std::string firstPatient(const Value& appointment)
{
    const Value* participants = member(appointment, "participant");
    if (participants == nullptr || !participants->IsArray()) {
        return {};
    }
    for (const Value& participant : participants->GetArray()) {
        const Value* actor = member(participant, "actor");
        const std::string_view target = actor == nullptr ? "" : str(*actor, "reference");
        if (target.rfind("Patient/", 0) == 0) {
            return std::string(target);
        }
    }
    return {};
}

std::string tagOf(const Value& resource, const char* system)
{
    const Value* meta = member(resource, "meta");
    const Value* tags = meta == nullptr ? nullptr : member(*meta, "tag");
    if (tags == nullptr || !tags->IsArray()) {
        return {};
    }
    for (const Value& tag : tags->GetArray()) {
        if (str(tag, "system") == system) {
            return std::string(str(tag, "code"));
        }
    }
    return {};
}

bool hasTag(const Value& resource, const char* system, std::string_view code)
{
    const Value* meta = member(resource, "meta");
    const Value* tags = meta == nullptr ? nullptr : member(*meta, "tag");
    if (tags == nullptr || !tags->IsArray()) {
        return false;
    }
    return std::any_of(tags->Begin(), tags->End(), [&](const Value& tag) {
        return str(tag, "system") == system && str(tag, "code") == code;
    });
}

void addTag(Value& resource, const char* system, std::string_view code, Allocator& a)
{
    if (hasTag(resource, system, code)) {
        return;
    }
    if (!resource.HasMember("meta") || !resource["meta"].IsObject()) {
        set(resource, "meta", Value(rapidjson::kObjectType), a);
    }
    Value& meta = resource["meta"];
    if (!meta.HasMember("tag") || !meta["tag"].IsArray()) {
        set(meta, "tag", Value(rapidjson::kArrayType), a);
    }
    meta["tag"].PushBack(coding(system, code, {}, a), a);
}

void removeTag(Value& resource, const char* system, std::string_view code, Allocator& a)
{
    Value* meta = resource.HasMember("meta") ? &resource["meta"] : nullptr;
    if (meta == nullptr || !meta->IsObject() || !meta->HasMember("tag") ||
        !(*meta)["tag"].IsArray()) {
        return;
    }
    Value kept(rapidjson::kArrayType);
    for (Value& tag : (*meta)["tag"].GetArray()) {
        if (str(tag, "system") != system || str(tag, "code") != code) {
            kept.PushBack(Value(tag, a), a);
        }
    }
    meta->RemoveMember("tag");
    if (!kept.Empty()) {
        meta->AddMember("tag", kept, a);
    }
}

std::string nextPath(const Value& page, std::string_view type)
{
    const Value* links = member(page, "link");
    if (links == nullptr || !links->IsArray()) {
        return {};
    }
    const std::string marker = "/" + std::string(type) + "?";
    for (const Value& link : links->GetArray()) {
        const std::string_view url = str(link, "url");
        const auto at = url.find(marker);
        if (str(link, "relation") == "next" && at != std::string_view::npos) {
            return std::string(url.substr(at + 1));
        }
    }
    return {};
}

// The search parameter and value naming the Schedule's department: its first specialty
// coding, else its first serviceType coding (the department booking_config.h reads).
std::string departmentCriterion(const Value& schedule)
{
    const std::pair<const char*, const char*> elements[] = {
        {"specialty", "schedule.specialty"}, {"serviceType", "schedule.service-type"}};
    for (const auto& [element, parameter] : elements) {
        const Value* list = member(schedule, element);
        if (list == nullptr || !list->IsArray()) {
            continue;
        }
        for (const Value& codeable : list->GetArray()) {
            const Value* codings = member(codeable, "coding");
            if (codings == nullptr || !codings->IsArray() || codings->Empty()) {
                continue;
            }
            const Value& first = (*codings)[0];
            const std::string_view system = str(first, "system");
            const std::string_view code = str(first, "code");
            if (code.empty()) {
                continue;
            }
            return std::string(parameter) + "=" +
                   encode(system.empty() ? std::string(code)
                                         : std::string(system) + "|" + std::string(code));
        }
    }
    return {};
}

/// Reads shared by the attempts of one call: Schedules and the doctors' names.
class Directory {
  public:
    explicit Directory(const FhirCalls& fhir) : fhir_(fhir) {}

    /// The resource `target` names ("Schedule/1"); an empty object when it cannot be read.
    const Value& read(const std::string& target)
    {
        auto it = read_.find(target);
        if (it == read_.end()) {
            it = read_.emplace(target, std::make_unique<rapidjson::Document>()).first;
            it->second->SetObject();
            if (target.find('/') != std::string::npos) {
                FhirReply reply = fhir_.get(target);
                if (reply.ok() && reply.body.IsObject()) {
                    it->second->Swap(reply.body);
                }
            }
        }
        return *it->second;
    }

    // The doctor of a Schedule: its Practitioner actor's name (or a PractitionerRole's
    // practitioner's), else an actor's display; empty when none is known.
    std::string doctorOf(const Value& schedule)
    {
        const Value* actors = member(schedule, "actor");
        if (actors == nullptr || !actors->IsArray()) {
            return {};
        }
        std::string display;
        for (const Value& actor : actors->GetArray()) {
            std::string target(str(actor, "reference"));
            if (display.empty()) {
                display = std::string(str(actor, "display"));
            }
            if (target.rfind("PractitionerRole/", 0) == 0) {
                const Value* practitioner = member(read(target), "practitioner");
                target =
                    practitioner == nullptr ? "" : std::string(str(*practitioner, "reference"));
            }
            if (target.rfind("Practitioner/", 0) == 0) {
                if (std::string name = personName(read(target)); !name.empty()) {
                    return name;
                }
            }
        }
        return display;
    }

  private:
    const FhirCalls& fhir_;
    std::map<std::string, std::unique_ptr<rapidjson::Document>> read_;
};

struct Offer {
    std::string slot; // "Slot/9"
    std::string when; // "2026-12-05 09:00"
    std::string doctor;
};

struct Period {
    std::int64_t start = 0;
    std::int64_t end = 0;
};

struct Cancelled {
    std::int64_t start = 0;
    std::string target;  // "Appointment/7"
    std::string channel; // its booking channel tag
    bool operator<(const Cancelled& other) const { return start < other.start; }
};

// [start, end) and the period share a moment.
bool overlaps(std::int64_t start, std::int64_t end, Period period)
{
    return start < period.end && end > period.start;
}

/// One patient's notice: the Appointments cancelled for them, earliest first; it goes
/// through the earliest one's channel.
struct Notice {
    std::string patient;
    std::vector<Cancelled> appointments;
    const std::string& channel() const { return appointments.front().channel; }
};

std::string joined(const std::vector<std::string>& parts, const char* separator)
{
    std::string out;
    for (const std::string& part : parts) {
        out += (out.empty() ? "" : separator) + part;
    }
    return out;
}

class Suspension {
  public:
    Suspension(fhir::FhirServer& server, const core::Clock& clock)
        : fhir_(server), clock_(clock), offsetMinutes_(server.config().offsetMinutes),
          maxEntries_(server.config().maxBundleEntries)
    {
    }

    fhir::OperationResult suspend(fhir::OperationCall& call) const;
    fhir::OperationResult resume(fhir::OperationCall& call) const;

  private:
    /// What one attempt writes: the transaction and its counts.
    struct Plan {
        rapidjson::Document bundle;
        std::size_t slots = 0;
        std::size_t appointments = 0;
        std::size_t notices = 0;
    };

    std::optional<fhir::OperationResult>
    collect(const std::string& scheduleId, Period period,
            std::map<std::string, rapidjson::Document>& slots,
            std::map<std::string, rapidjson::Document>& appointments) const;
    /// The period and reason of a $suspend or $resume call, and its Schedule; an
    /// OperationOutcome when they are missing or malformed, or the Schedule cannot be read.
    std::optional<fhir::OperationResult> readCall(const fhir::OperationCall& call,
                                                  const char* operation, Period& period,
                                                  std::string& reason, FhirReply& schedule) const;
    /// The record of one $suspend or $resume (`activity`) that changed `slots`: what a
    /// channel's `fhir` source sends to the HIS as SIU^S23 / SIU^S24.
    Value provenance(const std::string& scheduleId, const char* activity, Period period,
                     const std::string& reason, const std::vector<std::string>& slots,
                     Allocator& a) const;
    std::optional<fhir::OperationResult> plan(const std::string& scheduleId, const Value& schedule,
                                              Period period, const std::string& reason,
                                              Directory& directory, Plan& out) const;
    std::vector<Offer> offers(const Value& schedule, std::string_view channel, Period period,
                              Directory& directory) const;
    Value communication(const Notice& notice, const std::string& doctor,
                        const std::vector<Offer>& offered, const std::string& reasonText,
                        Allocator& a) const;

    FhirCalls fhir_;
    const core::Clock& clock_;
    const int offsetMinutes_;
    const std::size_t maxEntries_;
};

// A transaction entry: PUT with If-Match, or POST with a urn:uuid fullUrl.
Value entry(const char* method, const std::string& url, Value resource, const std::string& ifMatch,
            Allocator& a)
{
    Value e(rapidjson::kObjectType);
    if (ifMatch.empty()) {
        e.AddMember("fullUrl", text("urn:uuid:" + newUuid(), a), a);
    }
    e.AddMember("resource", resource, a);
    Value request(rapidjson::kObjectType);
    request.AddMember("method", Value(rapidjson::StringRef(method)), a);
    request.AddMember("url", text(url, a), a);
    if (!ifMatch.empty()) {
        request.AddMember("ifMatch", text("W/\"" + ifMatch + "\"", a), a);
    }
    e.AddMember("request", request, a);
    return e;
}

// The Schedule's Slots overlapping the period ("Slot/1"), with the Appointments naming them
// ("Appointment/1", any status), by the local day of their start. `start=eq<day>` bounds the
// date walk to that day (fhir/search/README.md); a lower bound alone would walk every later
// Slot of every Schedule whenever a page is not full.
std::optional<fhir::OperationResult>
Suspension::collect(const std::string& scheduleId, Period period,
                    std::map<std::string, rapidjson::Document>& slots,
                    std::map<std::string, rapidjson::Document>& appointments) const
{
    const std::int64_t offset = offsetMinutes_ * Minute;
    const std::int64_t firstDay = floorDiv(period.start - LongestSlot + offset, Day);
    const std::int64_t lastDay = floorDiv(period.end - 1 + offset, Day);
    for (std::int64_t day = firstDay; day <= lastDay; ++day) {
        std::string path = "Slot?schedule=Schedule/" + scheduleId + "&start=eq" +
                           core::formatIsoUtc(day * Day).substr(0, 10) +
                           "&_revinclude=Appointment:slot&_count=200";
        while (!path.empty()) {
            FhirReply page = fhir_.get(path);
            if (!page.ok() || !page.body.IsObject()) {
                return passOn(page);
            }
            const Value* entries = member(page.body, "entry");
            if (entries == nullptr || !entries->IsArray()) {
                break;
            }
            for (const Value& e : entries->GetArray()) {
                const Value* resource = member(e, "resource");
                if (resource == nullptr) {
                    continue;
                }
                const std::string type(str(*resource, "resourceType"));
                const std::string target = type + "/" + std::string(str(*resource, "id"));
                if (type == "Appointment") {
                    appointments[target].CopyFrom(*resource, appointments[target].GetAllocator());
                    continue;
                }
                const auto start = instant(str(*resource, "start"));
                const auto end = instant(str(*resource, "end"));
                if (type == "Slot" && start && end && overlaps(*start, *end, period)) {
                    slots[target].CopyFrom(*resource, slots[target].GetAllocator());
                }
            }
            path = nextPath(page.body, "Slot");
        }
    }
    return std::nullopt;
}

std::optional<fhir::OperationResult> Suspension::plan(const std::string& scheduleId,
                                                      const Value& schedule, Period period,
                                                      const std::string& reason,
                                                      Directory& directory, Plan& out) const
{
    std::map<std::string, rapidjson::Document> slots;
    std::map<std::string, rapidjson::Document> appointments;
    if (auto failed = collect(scheduleId, period, slots, appointments)) {
        return failed;
    }

    // A Slot whose visit has begun stays as it is; a pending or booked Appointment on any
    // Slot of the period is cancelled, even on a Slot blocked before (an earlier
    // suspension of an overlapping period, or a booking written past the block).
    std::set<std::string> inVisit;
    std::vector<const rapidjson::Document*> cancelled;
    for (const auto& [target, appointment] : appointments) {
        const std::string_view status = str(appointment, "status");
        const std::vector<std::string> held = slotsOf(appointment);
        const bool inPeriod = std::any_of(held.begin(), held.end(), [&](const std::string& slot) {
            return slots.count(slot) > 0;
        });
        if (status == "checked-in" || status == "arrived" || status == "fulfilled") {
            inVisit.insert(held.begin(), held.end());
        } else if (inPeriod && (status == "pending" || status == "booked")) {
            cancelled.push_back(&appointment);
        }
    }

    out.bundle.SetObject();
    auto& a = out.bundle.GetAllocator();
    out.bundle.AddMember("resourceType", "Bundle", a);
    out.bundle.AddMember("type", "transaction", a);
    Value entries(rapidjson::kArrayType);
    std::vector<std::string> blockedSlots;
    for (const auto& [target, slot] : slots) {
        const std::string_view status = str(slot, "status");
        if ((status != "free" && status != "busy-tentative" && status != "busy") ||
            inVisit.count(target) > 0) {
            continue;
        }
        Value blocked(slot, a);
        blocked["status"].SetString("busy-unavailable", a);
        // What $resume reopens: a Slot blocked for another reason (a free one never is)
        // stays blocked when the suspension ends.
        addTag(blocked, SlotBlockSystem, SuspensionBlock, a);
        // The hold is over with the Slot's availability (STANDARDS.md §7.1).
        if (blocked.HasMember("extension") && blocked["extension"].IsArray()) {
            Value kept(rapidjson::kArrayType);
            for (Value& extension : blocked["extension"].GetArray()) {
                if (str(extension, "url") != HoldExpires) {
                    kept.PushBack(Value(extension, a), a);
                }
            }
            blocked.RemoveMember("extension");
            if (!kept.Empty()) {
                blocked.AddMember("extension", kept, a);
            }
        }
        const std::string version(str(slot["meta"], "versionId"));
        entries.PushBack(entry("PUT", target, std::move(blocked), version, a), a);
        ++out.slots;
        blockedSlots.push_back(target);
    }

    const std::string reasonText =
        reason.empty() ? std::string("doctor-suspension") : "doctor-suspension: " + reason;
    std::map<std::string, Notice> notices;
    for (const rapidjson::Document* appointment : cancelled) {
        const std::string id(str(*appointment, "id"));
        Value changed(*appointment, a);
        changed["status"].SetString("cancelled", a);
        Value why(rapidjson::kObjectType);
        Value codings(rapidjson::kArrayType);
        codings.PushBack(coding(CancelSystem, "prov", "Provider", a), a);
        why.AddMember("coding", codings, a);
        why.AddMember("text", text(reasonText, a), a);
        set(changed, "cancelationReason", std::move(why), a);
        const std::string version(str((*appointment)["meta"], "versionId"));
        entries.PushBack(entry("PUT", "Appointment/" + id, std::move(changed), version, a), a);
        ++out.appointments;

        const std::string patient = firstPatient(*appointment);
        if (patient.empty()) {
            continue; // nobody to tell; the HIS still gets its SIU^S15
        }
        Notice& notice = notices[patient];
        notice.patient = patient;
        notice.appointments.push_back({instant(str(*appointment, "start")).value_or(0),
                                       "Appointment/" + id, tagOf(*appointment, ChannelSystem)});
    }

    const std::string doctor = directory.doctorOf(schedule);
    std::map<std::string, std::vector<Offer>> offersByChannel;
    for (auto& [patient, notice] : notices) {
        std::stable_sort(notice.appointments.begin(), notice.appointments.end());
        auto known = offersByChannel.find(notice.channel());
        if (known == offersByChannel.end()) {
            known = offersByChannel
                        .emplace(notice.channel(),
                                 offers(schedule, notice.channel(), period, directory))
                        .first;
        }
        entries.PushBack(entry("POST", "Communication",
                               communication(notice, doctor, known->second, reasonText, a), {}, a),
                         a);
        ++out.notices;
    }
    if (!blockedSlots.empty()) {
        entries.PushBack(entry("POST", "Provenance",
                               provenance(scheduleId, "suspend", period, reason, blockedSlots, a),
                               {}, a),
                         a);
    }
    out.bundle.AddMember("entry", entries, a);
    return std::nullopt;
}

// The first free Slots of the department after the suspension that the patient's channel
// may book: `general` or the channel's own pool (the pool rules of scheduling.cpp for the
// online channels, the ones that get a notice of their own).
std::vector<Offer> Suspension::offers(const Value& schedule, std::string_view channel,
                                      Period period, Directory& directory) const
{
    std::vector<Offer> found;
    const std::string department = departmentCriterion(schedule);
    if (department.empty()) {
        return found;
    }
    const std::int64_t from = std::max(period.end, clock_.nowMicros());
    // A lower bound and no _sort: the server pages in start order, each page costing about
    // its own rows (fhir/search/README.md), and the first matches are the ones wanted.
    std::string path = "Slot?status=free&" + department + "&start=ge" + utcQuery(from) +
                       "&_count=" + std::to_string(OfferedSlots * 10);
    for (int pages = 0; pages < OfferPages && !path.empty() && found.size() < OfferedSlots;
         ++pages) {
        FhirReply page = fhir_.get(path);
        if (!page.ok() || !page.body.IsObject()) {
            logger().warning("$suspend: searching free Slots to offer failed with %d", page.status);
            break;
        }
        const Value* entries = member(page.body, "entry");
        if (entries != nullptr && entries->IsArray()) {
            for (const Value& e : entries->GetArray()) {
                const Value* slot = member(e, "resource");
                if (slot == nullptr || found.size() >= OfferedSlots) {
                    continue;
                }
                const std::string pool = tagOf(*slot, PoolSystem);
                const auto start = instant(str(*slot, "start"));
                if (!start || *start < from ||
                    !(pool.empty() || pool == "general" ||
                      (!channel.empty() && pool == "channel-" + std::string(channel)))) {
                    continue;
                }
                const Value* owner = member(*slot, "schedule");
                const std::string scheduleTarget(owner == nullptr ? "" : str(*owner, "reference"));
                found.push_back({"Slot/" + std::string(str(*slot, "id")),
                                 readableTime(*start, offsetMinutes_),
                                 directory.doctorOf(directory.read(scheduleTarget))});
            }
        }
        path = nextPath(page.body, "Slot");
    }
    return found;
}

Value Suspension::communication(const Notice& notice, const std::string& doctor,
                                const std::vector<Offer>& offered, const std::string& reasonText,
                                Allocator& a) const
{
    std::vector<std::string> times;
    for (const Cancelled& appointment : notice.appointments) {
        times.push_back(readableTime(appointment.start, offsetMinutes_));
    }
    std::vector<std::string> chinese;
    std::vector<std::string> english;
    for (const Offer& offer : offered) {
        chinese.push_back(offer.when +
                          (offer.doctor.empty() ? "" : "（" + offer.doctor + "医生）"));
        english.push_back(offer.when + (offer.doctor.empty() ? "" : " (Dr " + offer.doctor + ")"));
    }
    const bool several = notice.appointments.size() > 1;
    std::string zh = "【停诊通知】您预约的" + joined(times, "、") +
                     (doctor.empty() ? "的门诊" : " " + doctor + "医生的门诊") +
                     "因医生停诊已取消。";
    zh += offered.empty() ? "暂无可改约的号源，请联系医院。"
                          : "可改约以下号源：" + joined(chinese, "；") + "。请通过原渠道重新预约。";
    std::string en =
        std::string("Clinic suspended: your appointment") + (several ? "s" : "") + " at " +
        joined(times, ", ") + (doctor.empty() ? std::string() : " with Dr " + doctor) +
        (several ? " are" : " is") + " cancelled because the doctor's clinic is suspended. ";
    en += offered.empty() ? "No free slot is available now; please contact the hospital."
                          : "Free slots you may book instead: " + joined(english, "; ") +
                                ". Please book again through the same channel.";

    Value resource(rapidjson::kObjectType);
    resource.AddMember("resourceType", "Communication", a);
    resource.AddMember("status", "preparation", a);
    Value categories(rapidjson::kArrayType);
    Value category(rapidjson::kObjectType);
    Value categoryCodings(rapidjson::kArrayType);
    categoryCodings.PushBack(coding(CategorySystem, "notification", "Notification", a), a);
    category.AddMember("coding", categoryCodings, a);
    category.AddMember("text", "停诊通知 / doctor suspension", a);
    categories.PushBack(category, a);
    resource.AddMember("category", categories, a);
    const NotificationMedium medium = notificationMedium(notice.channel());
    Value media(rapidjson::kArrayType);
    Value way(rapidjson::kObjectType);
    Value wayCodings(rapidjson::kArrayType);
    wayCodings.PushBack(coding(NotificationChannelSystem, medium.code, medium.display, a), a);
    wayCodings.PushBack(coding(ModeSystem, medium.mode, {}, a), a);
    way.AddMember("coding", wayCodings, a);
    media.PushBack(way, a);
    resource.AddMember("medium", media, a);
    resource.AddMember("subject", reference(notice.patient, a), a);
    Value about(rapidjson::kArrayType);
    for (const Cancelled& appointment : notice.appointments) {
        about.PushBack(reference(appointment.target, a), a);
    }
    resource.AddMember("about", about, a);
    Value recipients(rapidjson::kArrayType);
    recipients.PushBack(reference(notice.patient, a), a);
    resource.AddMember("recipient", recipients, a);
    Value reasons(rapidjson::kArrayType);
    Value why(rapidjson::kObjectType);
    Value whyCodings(rapidjson::kArrayType);
    whyCodings.PushBack(coding(CancelSystem, "prov", "Provider", a), a);
    why.AddMember("coding", whyCodings, a);
    why.AddMember("text", text(reasonText, a), a);
    reasons.PushBack(why, a);
    resource.AddMember("reasonCode", reasons, a);
    Value payload(rapidjson::kArrayType);
    for (const std::string* body : {&zh, &en}) {
        Value part(rapidjson::kObjectType);
        part.AddMember("contentString", text(*body, a), a);
        payload.PushBack(part, a);
    }
    for (std::size_t i = 0; i < offered.size(); ++i) {
        Value part(rapidjson::kObjectType);
        part.AddMember("contentReference", reference(offered[i].slot, a, english[i]), a);
        payload.PushBack(part, a);
    }
    resource.AddMember("payload", payload, a);
    return resource;
}

fhir::OperationResult counts(const std::string& scheduleId, Period period, int offsetMinutes,
                             std::size_t slots, std::size_t appointments, std::size_t notices,
                             const std::vector<std::string>& communications)
{
    fhir::OperationResult result;
    auto& a = result.body.GetAllocator();
    result.body.SetObject();
    result.body.AddMember("resourceType", "Parameters", a);
    Value list(rapidjson::kArrayType);
    auto add = [&](const char* name, const char* key, Value value) {
        Value p(rapidjson::kObjectType);
        p.AddMember("name", Value(rapidjson::StringRef(name)), a);
        p.AddMember(Value(rapidjson::StringRef(key)), value, a);
        list.PushBack(p, a);
    };
    auto integer = [&](std::size_t n) { return fhir::makeNumber(static_cast<long long>(n), a); };
    add("schedule", "valueReference", reference("Schedule/" + scheduleId, a));
    add("start", "valueDateTime", text(localTime(period.start, offsetMinutes), a));
    add("end", "valueDateTime", text(localTime(period.end, offsetMinutes), a));
    add("slots-blocked", "valueInteger", integer(slots));
    add("appointments-cancelled", "valueInteger", integer(appointments));
    add("patients-notified", "valueInteger", integer(notices));
    for (const std::string& target : communications) {
        add("communication", "valueReference", reference(target, a));
    }
    result.body.AddMember("parameter", list, a);
    return result;
}

std::optional<fhir::OperationResult> Suspension::readCall(const fhir::OperationCall& call,
                                                          const char* operation, Period& period,
                                                          std::string& reason,
                                                          FhirReply& schedule) const
{
    if (call.id.empty()) {
        return outcome(400, "invalid",
                       std::string("$") + operation +
                           " is called on one Schedule: Schedule/[id]/$" + operation);
    }
    const Value& parameters = call.parameters;
    if (!parameters.IsObject() || str(parameters, "resourceType") != "Parameters") {
        return outcome(400, "invalid",
                       std::string("$") + operation +
                           " takes a Parameters resource with start and end");
    }
    for (const bool isEnd : {false, true}) {
        const char* name = isEnd ? "end" : "start";
        std::string_view key;
        const Value* value = parameterValue(parameters, name, key);
        if (value == nullptr) {
            return outcome(400, "required", std::string("the parameter ") + name + " is required");
        }
        const auto bound =
            (key == "valueDate" || key == "valueDateTime" || key == "valueInstant") &&
                    value->IsString()
                ? periodBound(std::string_view(value->GetString(), value->GetStringLength()), isEnd,
                              offsetMinutes_)
                : std::nullopt;
        if (!bound) {
            return outcome(400, "invalid",
                           std::string("the parameter ") + name +
                               " must be a valueDateTime or valueDate");
        }
        (isEnd ? period.end : period.start) = *bound;
    }
    if (period.start >= period.end) {
        return outcome(400, "invalid", "start must be before end");
    }
    if (period.end - period.start > MaxDays * Day) {
        return outcome(400, "too-costly",
                       "a period of at most " + std::to_string(MaxDays) + " days at a time for $" +
                           operation);
    }
    std::string_view key;
    const Value* reasonValue = parameterValue(parameters, "reason", key);
    reason = reasonValue != nullptr && reasonValue->IsString() ? reasonValue->GetString() : "";
    schedule = fhir_.get("Schedule/" + call.id);
    if (schedule.status == 404 || schedule.status == 410) {
        return outcome(404, "not-found", "Schedule/" + call.id + " does not exist");
    }
    if (!schedule.ok() || !schedule.body.IsObject()) {
        return passOn(schedule);
    }
    return std::nullopt;
}

fhir::OperationResult Suspension::suspend(fhir::OperationCall& call) const
{
    Period period;
    std::string reason;
    FhirReply schedule;
    if (auto refused = readCall(call, "suspend", period, reason, schedule)) {
        return std::move(*refused);
    }

    Directory directory(fhir_);
    for (int attempt = 1; attempt <= Attempts; ++attempt) {
        Plan plan;
        if (auto failed = this->plan(call.id, schedule.body, period, reason, directory, plan)) {
            return std::move(*failed);
        }
        const std::size_t size = plan.bundle["entry"].Size();
        if (size == 0) {
            return counts(call.id, period, offsetMinutes_, 0, 0, 0, {});
        }
        if (size > maxEntries_) {
            return outcome(400, "too-costly",
                           "the suspension changes " + std::to_string(size) +
                               " resources, more than one transaction takes (" +
                               std::to_string(maxEntries_) + "); suspend shorter periods");
        }
        FhirReply done = fhir_.transaction(plan.bundle);
        if (done.status == 409 || done.status == 412) {
            // A booking, hold or release changed a Slot or Appointment after it was read.
            logger().debug("Schedule/%s $suspend: attempt %d met a change (%d)", call.id, attempt,
                           done.status);
            continue;
        }
        if (!done.ok()) {
            return passOn(done);
        }
        std::vector<std::string> communications;
        const Value* answers = member(done.body, "entry");
        const std::size_t first = plan.slots + plan.appointments;
        for (std::size_t i = first; answers != nullptr && answers->IsArray() &&
                                    i < answers->Size() && i < first + plan.notices;
             ++i) {
            const Value* response =
                member((*answers)[static_cast<rapidjson::SizeType>(i)], "response");
            const std::string_view location = response == nullptr ? "" : str(*response, "location");
            const auto at = location.find("Communication/");
            if (at != std::string_view::npos) {
                const std::string_view rest = location.substr(at);
                communications.emplace_back(rest.substr(0, rest.find("/_history")));
            }
        }
        logger().information("Schedule/%s $suspend: %z Slots blocked, %z Appointments "
                             "cancelled, %z notices",
                             call.id, plan.slots, plan.appointments, plan.notices);
        return counts(call.id, period, offsetMinutes_, plan.slots, plan.appointments, plan.notices,
                      communications);
    }
    return outcome(409, "conflict",
                   "Schedule/" + call.id + ": its Slots or Appointments kept changing during " +
                       std::to_string(Attempts) + " attempts; $suspend again");
}

Value Suspension::provenance(const std::string& scheduleId, const char* activity, Period period,
                             const std::string& reason, const std::vector<std::string>& slots,
                             Allocator& a) const
{
    const bool suspending = std::string_view(activity) == "suspend";
    Value resource(rapidjson::kObjectType);
    resource.AddMember("resourceType", "Provenance", a);
    // The tag is what a `fhir` source selects on (`tags`): other Provenances (every mapped
    // v2 message writes one) are none of the HIS's business.
    Value meta(rapidjson::kObjectType);
    Value tags(rapidjson::kArrayType);
    tags.PushBack(coding(SlotChangeSystem, activity, {}, a), a);
    meta.AddMember("tag", tags, a);
    resource.AddMember("meta", meta, a);
    Value targets(rapidjson::kArrayType);
    targets.PushBack(reference("Schedule/" + scheduleId, a), a);
    for (const std::string& slot : slots) {
        targets.PushBack(reference(slot, a), a);
    }
    resource.AddMember("target", targets, a);
    Value occurred(rapidjson::kObjectType);
    occurred.AddMember("start", text(localTime(period.start, offsetMinutes_), a), a);
    occurred.AddMember("end", text(localTime(period.end, offsetMinutes_), a), a);
    resource.AddMember("occurredPeriod", occurred, a);
    resource.AddMember("recorded", text(utcQuery(clock_.nowMicros()), a), a);
    Value activityConcept(rapidjson::kObjectType);
    Value activityCodings(rapidjson::kArrayType);
    activityCodings.PushBack(coding(SlotChangeSystem, activity,
                                    suspending ? "停诊 / slots blocked" : "复诊 / slots reopened",
                                    a),
                             a);
    activityConcept.AddMember("coding", activityCodings, a);
    resource.AddMember("activity", activityConcept, a);
    if (!reason.empty()) {
        Value reasons(rapidjson::kArrayType);
        Value why(rapidjson::kObjectType);
        why.AddMember("text", text(reason, a), a);
        reasons.PushBack(why, a);
        resource.AddMember("reason", reasons, a);
    }
    Value agents(rapidjson::kArrayType);
    Value agent(rapidjson::kObjectType);
    Value agentType(rapidjson::kObjectType);
    Value agentCodings(rapidjson::kArrayType);
    agentCodings.PushBack(
        coding("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "assembler", {},
               a),
        a);
    agentType.AddMember("coding", agentCodings, a);
    agent.AddMember("type", agentType, a);
    Value who(rapidjson::kObjectType);
    who.AddMember("display", "hl7gw booking", a);
    agent.AddMember("who", who, a);
    agents.PushBack(agent, a);
    resource.AddMember("agent", agents, a);
    return resource;
}

// STANDARDS.md §7.1 "busy-unavailable -> unblock -> free": the Slots a suspension blocked,
// and only those. Appointments it cancelled stay cancelled (the patients were told, and may
// have booked elsewhere); a Slot that already started stays blocked, as a cancellation leaves
// a past Slot (scheduling.cpp): it is not bookable any more.
fhir::OperationResult Suspension::resume(fhir::OperationCall& call) const
{
    Period period;
    std::string reason;
    FhirReply schedule;
    if (auto refused = readCall(call, "resume", period, reason, schedule)) {
        return std::move(*refused);
    }
    auto answer = [&](std::size_t reopened) {
        fhir::OperationResult result;
        auto& a = result.body.GetAllocator();
        result.body.SetObject();
        result.body.AddMember("resourceType", "Parameters", a);
        Value list(rapidjson::kArrayType);
        auto add = [&](const char* name, const char* key, Value value) {
            Value p(rapidjson::kObjectType);
            p.AddMember("name", Value(rapidjson::StringRef(name)), a);
            p.AddMember(Value(rapidjson::StringRef(key)), value, a);
            list.PushBack(p, a);
        };
        add("schedule", "valueReference", reference("Schedule/" + call.id, a));
        add("start", "valueDateTime", text(localTime(period.start, offsetMinutes_), a));
        add("end", "valueDateTime", text(localTime(period.end, offsetMinutes_), a));
        add("slots-reopened", "valueInteger",
            fhir::makeNumber(static_cast<long long>(reopened), a));
        result.body.AddMember("parameter", list, a);
        return result;
    };

    for (int attempt = 1; attempt <= Attempts; ++attempt) {
        std::map<std::string, rapidjson::Document> slots;
        std::map<std::string, rapidjson::Document> appointments;
        if (auto failed = collect(call.id, period, slots, appointments)) {
            return std::move(*failed);
        }
        const std::int64_t now = clock_.nowMicros();
        rapidjson::Document bundle(rapidjson::kObjectType);
        auto& a = bundle.GetAllocator();
        bundle.AddMember("resourceType", "Bundle", a);
        bundle.AddMember("type", "transaction", a);
        Value entries(rapidjson::kArrayType);
        std::vector<std::string> reopened;
        for (const auto& [target, slot] : slots) {
            const auto start = instant(str(slot, "start"));
            if (str(slot, "status") != "busy-unavailable" ||
                !hasTag(slot, SlotBlockSystem, SuspensionBlock) || !start || *start <= now) {
                continue;
            }
            Value opened(slot, a);
            opened["status"].SetString("free", a);
            removeTag(opened, SlotBlockSystem, SuspensionBlock, a);
            const std::string version(str(slot["meta"], "versionId"));
            entries.PushBack(entry("PUT", target, std::move(opened), version, a), a);
            reopened.push_back(target);
        }
        if (reopened.empty()) {
            return answer(0);
        }
        if (reopened.size() + 1 > maxEntries_) {
            return outcome(400, "too-costly",
                           "the resumption changes " + std::to_string(reopened.size()) +
                               " Slots, more than one transaction takes (" +
                               std::to_string(maxEntries_) + "); resume shorter periods");
        }
        entries.PushBack(entry("POST", "Provenance",
                               provenance(call.id, "resume", period, reason, reopened, a), {}, a),
                         a);
        bundle.AddMember("entry", entries, a);
        FhirReply done = fhir_.transaction(bundle);
        if (done.status == 409 || done.status == 412) {
            logger().debug("Schedule/%s $resume: attempt %d met a change (%d)", call.id, attempt,
                           done.status);
            continue;
        }
        if (!done.ok()) {
            return passOn(done);
        }
        logger().information("Schedule/%s $resume: %z Slots reopened", call.id, reopened.size());
        return answer(reopened.size());
    }
    return outcome(409, "conflict",
                   "Schedule/" + call.id + ": its Slots kept changing during " +
                       std::to_string(Attempts) + " attempts; $resume again");
}

} // namespace

void addSuspension(fhir::FhirServer& server, const core::Clock& clock)
{
    auto suspension = std::make_shared<const Suspension>(server, clock);
    server.addOperation("Schedule", "suspend", [suspension](fhir::OperationCall& call) {
        return suspension->suspend(call);
    });
    server.addOperation("Schedule", "resume", [suspension](fhir::OperationCall& call) {
        return suspension->resume(call);
    });
}

} // namespace hl7gw::booking
