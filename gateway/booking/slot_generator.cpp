#include "gateway/booking/slot_generator.h"

#include "gateway/booking/fhir_json.h"

#include "gateway/core/clock.h"
#include "gateway/core/errors.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/rest/outcome.h"

#include <Poco/Logger.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

namespace hl7gw::booking {

namespace {

using Allocator = rapidjson::Document::AllocatorType;

Poco::Logger& logger()
{
    static Poco::Logger& l = Poco::Logger::get("hl7gw.booking.slots");
    return l;
}

constexpr std::array<const char*, 7> DayNames{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr int MaxGenerateDays = 93;     // a quarter: the longest planning horizon seen
constexpr std::size_t MaxSlots = 50000; // per call, so one request cannot fill the store
constexpr std::size_t EntriesPerTransaction = 200;

std::string child(const std::string& path, std::string_view key)
{
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string twoDigits(int n)
{
    char buf[16]; // room for any int: -Wformat-truncation
    std::snprintf(buf, sizeof buf, "%02d", n);
    return buf;
}

/// "HH:MM" to minutes after midnight; "24:00" only when `endOfDay`.
std::optional<int> parseClock(const std::string& text, bool endOfDay)
{
    if (text.size() != 5 || text[2] != ':') {
        return std::nullopt;
    }
    for (std::size_t i : {0, 1, 3, 4}) {
        if (text[i] < '0' || text[i] > '9') {
            return std::nullopt;
        }
    }
    const int hours = (text[0] - '0') * 10 + (text[1] - '0');
    const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
    if (minutes > 59 || hours > 24 || (hours == 24 && (minutes != 0 || !endOfDay))) {
        return std::nullopt;
    }
    return hours * 60 + minutes;
}

std::string clockText(int minute)
{
    return twoDigits(minute / 60) + ":" + twoDigits(minute % 60);
}

/// "+08:00" / "-03:30" to minutes east of UTC.
std::optional<int> parseOffset(const std::string& text)
{
    if (text.size() != 6 || (text[0] != '+' && text[0] != '-')) {
        return std::nullopt;
    }
    const std::optional<int> clock = parseClock(text.substr(1), false);
    if (!clock || *clock > 14 * 60) {
        return std::nullopt;
    }
    return text[0] == '-' ? -*clock : *clock;
}

std::string offsetText(int minutes)
{
    const int abs = minutes < 0 ? -minutes : minutes;
    return (minutes < 0 ? "-" : "+") + clockText(abs);
}

unsigned readDays(core::ConfigReader& config, std::string_view key)
{
    unsigned days = 0;
    const std::vector<std::string> names = config.strings(key);
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto found = std::find(DayNames.begin(), DayNames.end(), names[i]);
        if (found == DayNames.end()) {
            config.fail(std::string(key) + "." + std::to_string(i),
                        "'" + names[i] + "' is not a day (mon tue wed thu fri sat sun)");
        }
        days |= 1u << static_cast<unsigned>(found - DayNames.begin());
    }
    if (config.has(key) && days == 0) {
        config.fail(key, "must name at least one day");
    }
    return days;
}

bool validPoolName(const std::string& pool)
{
    if (pool == "referral" || pool == "urgent-exam") {
        return true;
    }
    const std::string prefix = "channel-";
    if (pool.size() <= prefix.size() || pool.compare(0, prefix.size(), prefix) != 0) {
        return false;
    }
    return std::all_of(
        pool.begin() + static_cast<std::ptrdiff_t>(prefix.size()), pool.end(),
        [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::vector<PoolShare> readPools(core::ConfigReader& config)
{
    std::vector<PoolShare> pools;
    const rapidjson::Value* raw = config.raw("pools");
    if (raw == nullptr) {
        return pools;
    }
    if (!raw->IsObject()) {
        config.fail("pools", std::string("expected an object of pool -> percent, found ") +
                                 core::jsonTypeName(*raw));
    }
    core::ConfigReader shares(*raw, config.where(), child(config.path(), "pools"));
    int sum = 0;
    for (const auto& member : raw->GetObject()) {
        const std::string pool(member.name.GetString(), member.name.GetStringLength());
        if (!validPoolName(pool)) {
            shares.fail(pool, "not a reserved pool (referral, urgent-exam, channel-<a-z0-9->; "
                              "general is what the others leave)");
        }
        PoolShare share{pool, static_cast<int>(shares.integer(pool, 0, 0, 100))};
        sum += share.percent;
        pools.push_back(std::move(share));
    }
    if (sum > 100) {
        config.fail("pools", "the shares add up to " + std::to_string(sum) + "%, over 100%");
    }
    return pools;
}

/// Largest remainder (Hamilton) in whole numbers: no floating point, so ties are exact and
/// the same on every machine. Index pools.size() is general.
std::vector<int> poolCounts(int numbers, const std::vector<PoolShare>& pools)
{
    std::vector<int> percents;
    int reserved = 0;
    for (const PoolShare& share : pools) {
        percents.push_back(share.percent);
        reserved += share.percent;
    }
    percents.push_back(100 - reserved);
    std::vector<int> counts;
    std::vector<int> remainders;
    int given = 0;
    for (int percent : percents) {
        counts.push_back(numbers * percent / 100);
        remainders.push_back(numbers * percent % 100);
        given += counts.back();
    }
    std::vector<std::size_t> order(percents.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    // stable_sort keeps template order among equal remainders, general (last) after them.
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return remainders[a] > remainders[b]; });
    for (std::size_t i = 0; given < numbers; ++i) {
        ++counts[order[i]];
        ++given;
    }
    return counts;
}

/// Smooth weighted round-robin (as nginx balances upstreams): over sum(counts) steps every
/// pool is picked exactly its count of times, evenly spaced, so reserved numbers are spread
/// over the session rather than taking its first hour.
std::vector<std::size_t> spreadPools(const std::vector<int>& counts)
{
    int total = 0;
    for (int count : counts) {
        total += count;
    }
    std::vector<int> current(counts.size(), 0);
    std::vector<std::size_t> sequence;
    sequence.reserve(static_cast<std::size_t>(total));
    for (int step = 0; step < total; ++step) {
        std::size_t best = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
            current[i] += counts[i];
            if (current[i] > current[best]) {
                best = i;
            }
        }
        current[best] -= total;
        sequence.push_back(best);
    }
    return sequence;
}

SlotSession readSession(core::ConfigReader& config, unsigned defaultDays, int defaultSlice,
                        int defaultNumbers)
{
    SlotSession session;
    const std::string start = config.requiredString("start");
    const std::string end = config.requiredString("end");
    const std::optional<int> startMinute = parseClock(start, false);
    if (!startMinute) {
        config.fail("start", "expected a local time HH:MM (00:00 to 23:59), found '" + start + "'");
    }
    const std::optional<int> endMinute = parseClock(end, true);
    if (!endMinute) {
        config.fail("end", "expected a local time HH:MM (00:01 to 24:00), found '" + end + "'");
    }
    if (*endMinute <= *startMinute) {
        config.fail("end", "must be after start (" + start + ")");
    }
    session.startMinute = *startMinute;
    session.endMinute = *endMinute;
    session.sliceMinutes = static_cast<int>(config.integer("slice_minutes", defaultSlice, 5, 240));
    session.numbersPerSlice =
        static_cast<int>(config.integer("numbers_per_slice", defaultNumbers, 1, 200));
    if ((session.endMinute - session.startMinute) % session.sliceMinutes != 0) {
        config.fail("end", start + "-" + end + " is not a whole number of " +
                               std::to_string(session.sliceMinutes) + "-minute slices");
    }
    session.weekdays = config.has("days") ? readDays(config, "days") : defaultDays;
    if (session.weekdays == 0) {
        config.fail("days", "missing (a session needs days, here or in the template)");
    }
    config.finish();
    return session;
}

} // namespace

SlotTemplate readSlotTemplate(core::ConfigReader& config)
{
    SlotTemplate slotTemplate;
    const unsigned days = readDays(config, "days");
    const int slice = static_cast<int>(config.integer("slice_minutes", 15, 5, 240));
    const int numbers = static_cast<int>(config.integer("numbers_per_slice", 1, 1, 200));
    const std::string offset = config.string("offset", "+08:00");
    const std::optional<int> offsetMinutes = parseOffset(offset);
    if (!offsetMinutes) {
        config.fail("offset", "expected a UTC offset like +08:00, found '" + offset + "'");
    }
    slotTemplate.offsetMinutes = *offsetMinutes;
    const rapidjson::Value* sessions = config.array("sessions");
    if (sessions == nullptr || sessions->Empty()) {
        config.fail("sessions", "missing (at least one session is required)");
    }
    for (rapidjson::SizeType i = 0; i < sessions->Size(); ++i) {
        core::ConfigReader reader = config.element(*sessions, "sessions", i);
        SlotSession session = readSession(reader, days, slice, numbers);
        // Two sessions of one day sharing a minute would give Slots the same identifier.
        for (std::size_t j = 0; j < slotTemplate.sessions.size(); ++j) {
            const SlotSession& other = slotTemplate.sessions[j];
            const unsigned shared = other.weekdays & session.weekdays;
            if (shared != 0 && session.startMinute < other.endMinute &&
                other.startMinute < session.endMinute) {
                unsigned day = 0;
                while ((shared & (1u << day)) == 0) {
                    ++day;
                }
                reader.fail("start", "overlaps sessions." + std::to_string(j) + " (" +
                                         clockText(other.startMinute) + "-" +
                                         clockText(other.endMinute) + ") on " + DayNames[day]);
            }
        }
        slotTemplate.sessions.push_back(session);
    }
    slotTemplate.pools = readPools(config);
    config.finish();
    return slotTemplate;
}

SlotTemplates readSlotTemplates(core::ConfigReader& booking)
{
    SlotTemplates templates;
    const rapidjson::Value* raw = booking.raw("templates");
    if (raw == nullptr) {
        return templates;
    }
    if (!raw->IsObject()) {
        booking.fail("templates", std::string("expected an object of Schedule id -> template, "
                                              "found ") +
                                      core::jsonTypeName(*raw));
    }
    for (const auto& member : raw->GetObject()) {
        const std::string id(member.name.GetString(), member.name.GetStringLength());
        core::ConfigReader reader(member.value, booking.where(),
                                  child(booking.path(), "templates." + id));
        templates[id] = readSlotTemplate(reader);
    }
    return templates;
}

bool parseSlotTemplate(std::string_view json, SlotTemplate& out, core::Issue& issue,
                       const std::string& where)
{
    // Plain RapidJSON numbers (not fhir::parseJson's marked strings), as the config has them,
    // so that one reader serves both.
    try {
        rapidjson::Document document;
        core::parseConfigText(std::string(json), where, document);
        core::ConfigReader reader = core::ConfigReader::root(document, where);
        out = readSlotTemplate(reader);
        return true;
    } catch (const core::ConfigError& e) {
        issue = core::Issue{core::Severity::Error, "value", {}, e.message()};
        return false;
    }
}

namespace {

using Day = std::chrono::sys_days;

std::optional<Day> parseDate(std::string_view text)
{
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (text[i] < '0' || text[i] > '9') {
            return std::nullopt;
        }
    }
    auto number = [&](std::size_t from, std::size_t length) {
        int n = 0;
        for (std::size_t i = from; i < from + length; ++i) {
            n = n * 10 + (text[i] - '0');
        }
        return n;
    };
    const std::chrono::year_month_day date{std::chrono::year{number(0, 4)},
                                           std::chrono::month{static_cast<unsigned>(number(5, 2))},
                                           std::chrono::day{static_cast<unsigned>(number(8, 2))}};
    if (!date.ok()) {
        return std::nullopt;
    }
    return Day{date};
}

struct LocalDate {
    int year = 0;
    int month = 0;
    int day = 0;
};

LocalDate localDate(Day day)
{
    const std::chrono::year_month_day date{day};
    return {static_cast<int>(date.year()), static_cast<int>(static_cast<unsigned>(date.month())),
            static_cast<int>(static_cast<unsigned>(date.day()))};
}

std::string dateText(Day day)
{
    const LocalDate d = localDate(day);
    return std::to_string(d.year) + "-" + twoDigits(d.month) + "-" + twoDigits(d.day);
}

/// FHIR dateTime in the template's offset; minute 1440 is the next day's 00:00.
std::string dateTimeText(Day day, int minute, int offsetMinutes)
{
    if (minute >= 1440) {
        day += std::chrono::days{minute / 1440};
        minute %= 1440;
    }
    return dateText(day) + "T" + clockText(minute) + ":00" + offsetText(offsetMinutes);
}

std::string stamp(Day day, int minute)
{
    const LocalDate d = localDate(day);
    return std::to_string(d.year) + twoDigits(d.month) + twoDigits(d.day) + twoDigits(minute / 60) +
           twoDigits(minute % 60);
}

unsigned weekdayBit(Day day)
{
    return 1u << (std::chrono::weekday{day}.iso_encoding() - 1);
}

rapidjson::Value text(std::string_view value, Allocator& a)
{
    return rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a);
}

std::string_view stringMember(const rapidjson::Value& object, const char* name)
{
    if (!object.IsObject()) {
        return {};
    }
    const auto it = object.FindMember(name);
    if (it == object.MemberEnd() || !it->value.IsString() || fhir::isNumber(it->value)) {
        return {};
    }
    return {it->value.GetString(), it->value.GetStringLength()};
}

fhir::OperationResult outcome(int status, const std::string& code, const std::string& diagnostics,
                              const std::string& expression = {})
{
    core::Issue issue{core::Severity::Error, code, {}, diagnostics};
    issue.location.path = expression;
    return {status, fhir::rest::makeOutcome(issue)};
}

/// A failed in-process call answered as it came (its OperationOutcome), or as a 500.
fhir::OperationResult passOn(const FhirReply& reply, const std::string& what)
{
    if (!reply.body.IsObject() || reply.status < 400) {
        return outcome(500, "exception", what + " with status " + std::to_string(reply.status));
    }
    fhir::OperationResult result{reply.status, rapidjson::Document()};
    result.body.CopyFrom(reply.body, result.body.GetAllocator());
    return result;
}

/// Parameters.parameter named `name`; nullptr when absent.
const rapidjson::Value* parameter(const rapidjson::Value& parameters, const char* name)
{
    if (!parameters.IsObject()) {
        return nullptr;
    }
    const auto list = parameters.FindMember("parameter");
    if (list == parameters.MemberEnd() || !list->value.IsArray()) {
        return nullptr;
    }
    for (const auto& p : list->value.GetArray()) {
        if (stringMember(p, "name") == name) {
            return &p;
        }
    }
    return nullptr;
}

struct PlannedSlot {
    Day day;
    int startMinute = 0;
    int endMinute = 0;
    int number = 0;       // 1-based inside the slice
    std::size_t pool = 0; // index into the template's pools; pools.size() is general
};

std::vector<PlannedSlot> planSlots(const SlotTemplate& slotTemplate, Day first, Day last)
{
    std::vector<std::vector<std::size_t>> sequences;
    for (const SlotSession& session : slotTemplate.sessions) {
        const int numbers = (session.endMinute - session.startMinute) / session.sliceMinutes *
                            session.numbersPerSlice;
        sequences.push_back(spreadPools(poolCounts(numbers, slotTemplate.pools)));
    }
    std::vector<PlannedSlot> planned;
    for (Day day = first; day <= last; day += std::chrono::days{1}) {
        for (std::size_t s = 0; s < slotTemplate.sessions.size(); ++s) {
            const SlotSession& session = slotTemplate.sessions[s];
            if ((session.weekdays & weekdayBit(day)) == 0) {
                continue;
            }
            std::size_t position = 0;
            for (int minute = session.startMinute; minute < session.endMinute;
                 minute += session.sliceMinutes) {
                for (int n = 1; n <= session.numbersPerSlice; ++n) {
                    planned.push_back(
                        {day, minute, minute + session.sliceMinutes, n, sequences[s][position++]});
                }
            }
        }
    }
    return planned;
}

void copyMember(const rapidjson::Value& from, const char* name, rapidjson::Value& to, Allocator& a)
{
    const auto it = from.FindMember(name);
    if (it != from.MemberEnd()) {
        to.AddMember(rapidjson::StringRef(name), rapidjson::Value(it->value, a), a);
    }
}

rapidjson::Value slotResource(const PlannedSlot& slot, const std::string& scheduleId,
                              const std::string& identifier, const std::string& pool,
                              const SlotTemplate& slotTemplate, const rapidjson::Value& schedule,
                              Allocator& a)
{
    rapidjson::Value resource(rapidjson::kObjectType);
    resource.AddMember("resourceType", "Slot", a);
    rapidjson::Value coding(rapidjson::kObjectType);
    coding.AddMember("system", rapidjson::StringRef(SlotPoolSystem), a);
    coding.AddMember("code", text(pool, a), a);
    rapidjson::Value tags(rapidjson::kArrayType);
    tags.PushBack(coding, a);
    rapidjson::Value meta(rapidjson::kObjectType);
    meta.AddMember("tag", tags, a);
    resource.AddMember("meta", meta, a);
    rapidjson::Value id(rapidjson::kObjectType);
    id.AddMember("system", rapidjson::StringRef(SlotIdentifierSystem), a);
    id.AddMember("value", text(identifier, a), a);
    rapidjson::Value identifiers(rapidjson::kArrayType);
    identifiers.PushBack(id, a);
    resource.AddMember("identifier", identifiers, a);
    for (const char* name : {"serviceCategory", "serviceType", "specialty"}) {
        copyMember(schedule, name, resource, a);
    }
    rapidjson::Value reference(rapidjson::kObjectType);
    reference.AddMember("reference", text("Schedule/" + scheduleId, a), a);
    resource.AddMember("schedule", reference, a);
    resource.AddMember("status", "free", a);
    resource.AddMember(
        "start", text(dateTimeText(slot.day, slot.startMinute, slotTemplate.offsetMinutes), a), a);
    resource.AddMember(
        "end", text(dateTimeText(slot.day, slot.endMinute, slotTemplate.offsetMinutes), a), a);
    return resource;
}

struct PoolTally {
    std::string code;
    std::size_t created = 0;
    std::size_t existing = 0;
};

void addNamed(rapidjson::Value& list, const char* name, const char* type, rapidjson::Value value,
              Allocator& a)
{
    rapidjson::Value p(rapidjson::kObjectType);
    p.AddMember("name", rapidjson::StringRef(name), a);
    p.AddMember(rapidjson::StringRef(type), value, a);
    list.PushBack(p, a);
}

rapidjson::Document summary(const std::string& scheduleId, Day first, Day last,
                            const std::vector<PoolTally>& tallies)
{
    rapidjson::Document result(rapidjson::kObjectType);
    auto& a = result.GetAllocator();
    result.AddMember("resourceType", "Parameters", a);
    rapidjson::Value list(rapidjson::kArrayType);
    rapidjson::Value reference(rapidjson::kObjectType);
    reference.AddMember("reference", text("Schedule/" + scheduleId, a), a);
    addNamed(list, "schedule", "valueReference", std::move(reference), a);
    addNamed(list, "start", "valueDate", text(dateText(first), a), a);
    addNamed(list, "end", "valueDate", text(dateText(last), a), a);
    std::size_t created = 0;
    std::size_t existing = 0;
    for (const PoolTally& tally : tallies) {
        created += tally.created;
        existing += tally.existing;
    }
    auto integer = [&](std::size_t n) { return fhir::makeNumber(static_cast<long long>(n), a); };
    addNamed(list, "created", "valueInteger", integer(created), a);
    addNamed(list, "existing", "valueInteger", integer(existing), a);
    for (const PoolTally& tally : tallies) {
        rapidjson::Value parts(rapidjson::kArrayType);
        addNamed(parts, "code", "valueCode", text(tally.code, a), a);
        addNamed(parts, "created", "valueInteger", integer(tally.created), a);
        addNamed(parts, "existing", "valueInteger", integer(tally.existing), a);
        rapidjson::Value pool(rapidjson::kObjectType);
        pool.AddMember("name", "pool", a);
        pool.AddMember("part", parts, a);
        list.PushBack(pool, a);
    }
    result.AddMember("parameter", list, a);
    return result;
}

class SlotGeneration {
  public:
    SlotGeneration(fhir::FhirServer& server, SlotTemplates configured)
        : server_(server), configured_(std::move(configured))
    {
    }

    fhir::OperationResult generate(fhir::OperationCall& call) const;

  private:
    fhir::FhirServer& server_;
    const SlotTemplates configured_;
};

fhir::OperationResult SlotGeneration::generate(fhir::OperationCall& call) const
{
    if (call.id.empty()) {
        return outcome(400, "invalid",
                       "$generate is called on one Schedule: Schedule/[id]/$generate");
    }
    const rapidjson::Value& parameters = call.parameters;
    if (!parameters.IsObject() || stringMember(parameters, "resourceType") != "Parameters") {
        return outcome(400, "invalid", "$generate takes a Parameters resource with start and end");
    }
    std::optional<Day> period[2];
    const char* names[2] = {"start", "end"};
    for (int i = 0; i < 2; ++i) {
        const std::string expression =
            std::string("Parameters.parameter.where(name='") + names[i] + "')";
        const rapidjson::Value* p = parameter(parameters, names[i]);
        if (p == nullptr) {
            return outcome(400, "invalid",
                           std::string("the parameter ") + names[i] + " is required", expression);
        }
        period[i] = parseDate(stringMember(*p, "valueDate"));
        if (!period[i]) {
            return outcome(400, "invalid",
                           std::string("the parameter ") + names[i] +
                               " must be a valueDate YYYY-MM-DD",
                           expression);
        }
    }
    const Day first = *period[0];
    const Day last = *period[1];
    if (last < first) {
        return outcome(400, "invalid", "end is before start");
    }
    if ((last - first).count() + 1 > MaxGenerateDays) {
        return outcome(400, "too-costly",
                       "a period of at most " + std::to_string(MaxGenerateDays) +
                           " days is generated at a time");
    }

    FhirCalls calls(server_);
    const FhirReply schedule = calls.get("Schedule/" + call.id);
    if (schedule.status == 404 || schedule.status == 410) {
        return outcome(404, "not-found", "Schedule/" + call.id + " does not exist");
    }
    if (!schedule.ok() || !schedule.body.IsObject()) {
        return passOn(schedule, "reading Schedule/" + call.id + " failed");
    }
    const auto active = schedule.body.FindMember("active");
    if (active != schedule.body.MemberEnd() && active->value.IsBool() && !active->value.GetBool()) {
        return outcome(422, "business-rule", "Schedule/" + call.id + " is not active");
    }

    SlotTemplate slotTemplate;
    if (const rapidjson::Value* given = parameter(parameters, "template")) {
        const std::string_view json = stringMember(*given, "valueString");
        if (json.empty()) {
            return outcome(400, "invalid", "the parameter template must be a valueString of JSON",
                           "Parameters.parameter.where(name='template')");
        }
        core::Issue issue;
        if (!parseSlotTemplate(json, slotTemplate, issue)) {
            return {400, fhir::rest::makeOutcome(issue)};
        }
    } else {
        const auto found = configured_.find(call.id);
        if (found == configured_.end()) {
            return outcome(422, "business-rule",
                           "Schedule/" + call.id +
                               " has no slot template: pass one as the parameter template or "
                               "configure booking.templates." +
                               call.id);
        }
        slotTemplate = found->second;
    }

    const std::vector<PlannedSlot> planned = planSlots(slotTemplate, first, last);
    if (planned.size() > MaxSlots) {
        return outcome(400, "too-costly",
                       "the period would make " + std::to_string(planned.size()) + " Slots, over " +
                           std::to_string(MaxSlots) + "; ask for fewer days");
    }
    std::vector<PoolTally> tallies;
    for (const PoolShare& share : slotTemplate.pools) {
        tallies.push_back({share.pool});
    }
    tallies.push_back({GeneralPool});

    for (std::size_t from = 0; from < planned.size(); from += EntriesPerTransaction) {
        const std::size_t to = std::min(planned.size(), from + EntriesPerTransaction);
        rapidjson::Document bundle(rapidjson::kObjectType);
        auto& a = bundle.GetAllocator();
        bundle.AddMember("resourceType", "Bundle", a);
        bundle.AddMember("type", "transaction", a);
        rapidjson::Value entries(rapidjson::kArrayType);
        for (std::size_t i = from; i < to; ++i) {
            const PlannedSlot& slot = planned[i];
            const std::string identifier = call.id + "-" + stamp(slot.day, slot.startMinute) + "-" +
                                           std::to_string(slot.number);
            rapidjson::Value request(rapidjson::kObjectType);
            request.AddMember("method", "POST", a);
            request.AddMember("url", "Slot", a);
            request.AddMember(
                "ifNoneExist",
                text(std::string("identifier=") + SlotIdentifierSystem + "|" + identifier, a), a);
            rapidjson::Value entry(rapidjson::kObjectType);
            entry.AddMember("resource",
                            slotResource(slot, call.id, identifier, tallies[slot.pool].code,
                                         slotTemplate, schedule.body, a),
                            a);
            entry.AddMember("request", request, a);
            entries.PushBack(entry, a);
        }
        bundle.AddMember("entry", entries, a);
        FhirReply reply = calls.transaction(bundle);
        if (!reply.ok()) {
            fhir::OperationResult failed = passOn(reply, "a Slot transaction failed");
            core::Issue partial{core::Severity::Information,
                                "informational",
                                {},
                                std::to_string(from) + " of " + std::to_string(planned.size()) +
                                    " Slots were written before this failure; $generate again "
                                    "for the same period completes it"};
            fhir::rest::appendIssue(failed.body, partial, failed.body.GetAllocator());
            logger().warning("Schedule/%s $generate: a transaction failed with %d after %z of "
                             "%z Slots",
                             call.id, reply.status, from, planned.size());
            return failed;
        }
        const auto answers = reply.body.FindMember("entry");
        for (std::size_t i = from; i < to; ++i) {
            const rapidjson::Value* answer = nullptr;
            if (answers != reply.body.MemberEnd() && answers->value.IsArray() &&
                i - from < answers->value.Size()) {
                const auto& entry = answers->value[static_cast<rapidjson::SizeType>(i - from)];
                const auto response = entry.FindMember("response");
                answer = response != entry.MemberEnd() ? &response->value : nullptr;
            }
            // "201 Created" for a new Slot, "200 OK" where ifNoneExist found one.
            const bool created =
                answer != nullptr && stringMember(*answer, "status").substr(0, 3) == "201";
            PoolTally& tally = tallies[planned[i].pool];
            ++(created ? tally.created : tally.existing);
        }
    }
    // general first in the answer: it is the pool every channel books from.
    std::rotate(tallies.rbegin(), tallies.rbegin() + 1, tallies.rend());
    std::size_t created = 0;
    for (const PoolTally& tally : tallies) {
        created += tally.created;
    }
    logger().information("Schedule/%s $generate %s..%s: %z Slots created, %z there already",
                         call.id, dateText(first), dateText(last), created,
                         planned.size() - created);
    return {200, summary(call.id, first, last, tallies)};
}

std::string isoSeconds(std::int64_t micros)
{
    // Whole seconds in UTC: "Z" needs no escaping in a query, "+08:00" would.
    return core::formatIsoUtc(micros).substr(0, 19) + "Z";
}

} // namespace

void addSlotGeneration(fhir::FhirServer& server, SlotTemplates configured)
{
    auto generation = std::make_shared<const SlotGeneration>(server, std::move(configured));
    server.addOperation("Schedule", "generate", [generation](fhir::OperationCall& call) {
        return generation->generate(call);
    });
}

std::vector<ReleaseRule> defaultReleaseRules()
{
    return {{"referral", 48 * 60}, {"urgent-exam", 24 * 60}};
}

std::vector<ReleaseRule> readReleaseRules(core::ConfigReader& config)
{
    std::vector<ReleaseRule> rules;
    const rapidjson::Value* raw = config.raw("release_hours");
    if (raw == nullptr) {
        return defaultReleaseRules();
    }
    if (!raw->IsObject()) {
        config.fail("release_hours", std::string("expected an object of pool -> hours, found ") +
                                         core::jsonTypeName(*raw));
    }
    core::ConfigReader hours(*raw, config.where(), child(config.path(), "release_hours"));
    for (const auto& member : raw->GetObject()) {
        const std::string pool(member.name.GetString(), member.name.GetStringLength());
        if (!validPoolName(pool)) {
            hours.fail(pool, "not a reserved pool (referral, urgent-exam, channel-<a-z0-9->)");
        }
        rules.push_back({pool, hours.integer(pool, 0, 0, 8760) * 60});
    }
    return rules;
}

std::size_t ReleaseCounts::total() const
{
    std::size_t n = 0;
    for (const auto& [pool, count] : released) {
        n += count;
    }
    return n;
}

ReleaseOutcome releaseSlot(const FhirCalls& calls, const rapidjson::Value& slot)
{
    const std::string id(stringMember(slot, "id"));
    const std::string pool = json::poolOf(slot);
    if (id.empty() || stringMember(slot, "status") != "free" || pool.empty() ||
        pool == GeneralPool) {
        return ReleaseOutcome::Skipped;
    }
    const auto meta = slot.FindMember("meta");
    const std::string version(stringMember(meta->value, "versionId"));
    rapidjson::Document released;
    released.CopyFrom(slot, released.GetAllocator());
    auto& a = released.GetAllocator();
    rapidjson::Value& tags = released["meta"]["tag"];
    rapidjson::Value kept(rapidjson::kArrayType);
    for (auto& tag : tags.GetArray()) {
        if (stringMember(tag, "system") != SlotPoolSystem) {
            kept.PushBack(rapidjson::Value(tag, a), a);
        }
    }
    rapidjson::Value general(rapidjson::kObjectType);
    general.AddMember("system", rapidjson::StringRef(SlotPoolSystem), a);
    general.AddMember("code", rapidjson::StringRef(GeneralPool), a);
    kept.PushBack(general, a);
    tags = kept;

    const FhirReply reply = calls.call("PUT", "Slot/" + id, fhir::writeJson(released), version);
    if (reply.ok()) {
        return ReleaseOutcome::Released;
    }
    // 412: booked, held or edited since it was found; 404/410: gone. Either way it is no
    // longer a free reserved Slot to release.
    if (reply.status == 412 || reply.status == 404 || reply.status == 410) {
        return ReleaseOutcome::Skipped;
    }
    logger().warning("Slot/%s: releasing pool %s to general was refused with %d", id, pool,
                     reply.status);
    return ReleaseOutcome::Failed;
}

ReleaseCounts releaseReservedSlots(const FhirCalls& calls, std::int64_t nowMicros,
                                   const std::vector<ReleaseRule>& rules)
{
    ReleaseCounts counts;
    for (const ReleaseRule& rule : rules) {
        if (rule.leadMinutes <= 0) {
            continue;
        }
        std::string path = "Slot?status=free&_tag=" + std::string(SlotPoolSystem) + "|" +
                           rule.pool + "&start=ge" + isoSeconds(nowMicros) + "&start=lt" +
                           isoSeconds(nowMicros + rule.leadMinutes * 60'000'000) + "&_count=200";
        while (!path.empty()) {
            const FhirReply page = calls.get(path);
            if (!page.ok() || !page.body.IsObject()) {
                throw core::Error("searching the free Slots of pool " + rule.pool +
                                  " to release failed with status " + std::to_string(page.status));
            }
            const auto entries = page.body.FindMember("entry");
            if (entries != page.body.MemberEnd() && entries->value.IsArray()) {
                for (const auto& entry : entries->value.GetArray()) {
                    const auto resource = entry.FindMember("resource");
                    if (resource == entry.MemberEnd() ||
                        stringMember(resource->value, "resourceType") != "Slot") {
                        continue;
                    }
                    switch (releaseSlot(calls, resource->value)) {
                    case ReleaseOutcome::Released:
                        ++counts.released[rule.pool];
                        break;
                    case ReleaseOutcome::Skipped:
                        ++counts.skipped;
                        break;
                    case ReleaseOutcome::Failed:
                        ++counts.failed;
                        break;
                    }
                }
            }
            // Paging is by keyset (_cursor), so the Slots released on this page do not
            // shift the next one.
            path.clear();
            const auto links = page.body.FindMember("link");
            if (links != page.body.MemberEnd() && links->value.IsArray()) {
                for (const auto& link : links->value.GetArray()) {
                    const std::string_view url = stringMember(link, "url");
                    const std::size_t at = url.find("/Slot?");
                    if (stringMember(link, "relation") == "next" && at != std::string_view::npos) {
                        path = std::string(url.substr(at + 1));
                    }
                }
            }
        }
    }
    if (counts.total() > 0 || counts.failed > 0) {
        logger().information("released %z reserved Slots to general (%z skipped, %z refused)",
                             counts.total(), counts.skipped, counts.failed);
    }
    return counts;
}

} // namespace hl7gw::booking
