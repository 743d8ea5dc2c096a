#include "gateway/booking/free_slots.h"

#include "gateway/booking/fhir_json.h"
#include "gateway/fhir/model/json_io.h"

#include <algorithm>
#include <mutex>
#include <string_view>

namespace hl7gw::booking {

using namespace json;

namespace {

// How far back a poll reads before its previous round: commits are stamped when their request
// began and may land later (group commit), and nodes' clocks differ a little.
constexpr std::int64_t PollLookback = 5 * 1'000'000LL;
constexpr int MaxPages = 10'000; // a bound on one read, 5 million resources

std::int64_t versionOf(const Value& resource)
{
    const Value* meta = member(resource, "meta");
    if (meta == nullptr) {
        return 0;
    }
    const std::string_view text = str(*meta, "versionId");
    std::int64_t version = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return 0;
        }
        version = version * 10 + (c - '0');
    }
    return version;
}

// "system|code" of every coding of a CodeableConcept array.
std::vector<std::string> tokensOf(const Value& resource, const char* name)
{
    std::vector<std::string> tokens;
    const Value* list = member(resource, name);
    if (list == nullptr || !list->IsArray()) {
        return tokens;
    }
    for (const Value& concept_ : list->GetArray()) {
        const Value* codings = member(concept_, "coding");
        if (codings == nullptr || !codings->IsArray()) {
            continue;
        }
        for (const Value& coding : codings->GetArray()) {
            tokens.push_back(std::string(str(coding, "system")) + "|" +
                             std::string(str(coding, "code")));
        }
    }
    return tokens;
}

// A token search value ("code", "system|code", "|code") against "system|code" tokens.
bool tokenMatches(const std::vector<std::string>& tokens, std::string_view wanted)
{
    if (wanted.empty()) {
        return true;
    }
    const bool withSystem = wanted.find('|') != std::string_view::npos;
    for (const std::string& token : tokens) {
        if (withSystem ? token == wanted
                       : std::string_view(token).substr(token.find('|') + 1) == wanted) {
            return true;
        }
    }
    return false;
}

} // namespace

FreeSlots::FreeSlots(fhir::FhirServer& server) : fhir_(server)
{
    server.addCommitObserver([this](const std::vector<store::ResourceChange>& changes,
                                    const fhir::CommitView& view) { observe(changes, view); });
}

void FreeSlots::observe(const std::vector<store::ResourceChange>& changes,
                        const fhir::CommitView& view)
{
    const auto relevant = [](const store::ResourceChange& c) {
        return c.type == "Slot" || c.type == "Schedule";
    };
    if (std::none_of(changes.begin(), changes.end(), relevant)) {
        return;
    }
    // Large commits (a week of Slots generated at once) look their resources up by key.
    std::unordered_map<std::string_view, const Value*> byKey;
    if (view.resources.size() > 8) {
        for (const auto& [key, resource] : view.resources) {
            byKey.emplace(key, resource);
        }
    }
    std::unique_lock lock(mutex_);
    for (const store::ResourceChange& change : changes) {
        if (!relevant(change)) {
            continue;
        }
        const Value* resource = nullptr;
        if (change.action == store::ResourceChange::Action::Put) {
            const std::string key = change.type + "/" + change.id;
            if (view.resources.size() > 8) {
                const auto found = byKey.find(key);
                resource = found != byKey.end() ? found->second : nullptr;
            } else {
                resource = view.find(key);
            }
            if (resource == nullptr) {
                continue;
            }
        }
        const std::int64_t version = change.expectedVersion + 1;
        if (change.type == "Slot") {
            applySlot(change.id, version, resource);
        } else {
            applySchedule(change.id, version, resource);
        }
    }
}

void FreeSlots::applySlot(const std::string& id, std::int64_t version, const Value* slot)
{
    Seen& seen = slots_[id];
    if (version <= seen.version) {
        return; // an older version told late
    }
    if (seen.free) {
        const Key key{seen.start, id};
        if (const auto found = byStart_.find(key); found != byStart_.end()) {
            if (auto list = bySchedule_.find(found->second.schedule); list != bySchedule_.end()) {
                list->second.erase(key);
                if (list->second.empty()) {
                    bySchedule_.erase(list);
                }
            }
            byStart_.erase(found);
        }
    }
    seen.version = version;
    seen.free = false;
    if (slot == nullptr) {
        return;
    }
    const std::optional<std::int64_t> start = instant(str(*slot, "start"));
    seen.start = start.value_or(0);
    if (str(*slot, "status") != "free" || !start) {
        return;
    }
    Offer offer;
    offer.id = id;
    offer.start = *start;
    offer.startText = std::string(str(*slot, "start"));
    offer.endText = std::string(str(*slot, "end"));
    if (const Value* schedule = member(*slot, "schedule")) {
        offer.schedule = std::string(str(*schedule, "reference"));
    }
    offer.pool = poolOf(*slot);
    offer.specialty = tokensOf(*slot, "specialty");
    offer.serviceType = tokensOf(*slot, "serviceType");
    rapidjson::Document copied(rapidjson::kObjectType);
    for (const char* name : {"serviceCategory", "serviceType", "specialty", "appointmentType"}) {
        if (const Value* element = member(*slot, name)) {
            copied.AddMember(Value(name, copied.GetAllocator()),
                             Value(*element, copied.GetAllocator()), copied.GetAllocator());
        }
    }
    if (copied.MemberCount() > 0) {
        offer.copied = fhir::writeJson(copied);
    }
    const Key key{offer.start, id};
    bySchedule_[offer.schedule].insert(key);
    byStart_.emplace(key, std::move(offer));
    seen.free = true;
}

void FreeSlots::applySchedule(const std::string& id, std::int64_t version, const Value* schedule)
{
    auto& [known, info] = schedules_[id];
    if (version <= known) {
        return;
    }
    known = version;
    info = ScheduleInfo{};
    if (schedule == nullptr) {
        return;
    }
    info.department = departmentOf(*schedule);
    if (const Value* actors = member(*schedule, "actor"); actors != nullptr && actors->IsArray()) {
        for (const Value& actor : actors->GetArray()) {
            info.actors.emplace_back(str(actor, "reference"));
        }
    }
}

std::size_t FreeSlots::readAll(const std::string& query, std::int64_t* newest)
{
    std::size_t read = 0;
    std::string next = query;
    for (int pages = 0; pages < MaxPages && !next.empty(); ++pages) {
        FhirReply page = fhir_.get(next);
        if (!page.ok()) {
            throw std::runtime_error("free slots: " + query + " answered " +
                                     std::to_string(page.status));
        }
        next.clear();
        if (const Value* entries = member(page.body, "entry");
            entries != nullptr && entries->IsArray()) {
            std::unique_lock lock(mutex_);
            for (const Value& entry : entries->GetArray()) {
                const Value* resource = member(entry, "resource");
                if (resource == nullptr) {
                    continue;
                }
                const std::string id(str(*resource, "id"));
                const std::int64_t version = versionOf(*resource);
                if (str(*resource, "resourceType") == "Slot") {
                    applySlot(id, version, resource);
                } else if (str(*resource, "resourceType") == "Schedule") {
                    applySchedule(id, version, resource);
                }
                if (const Value* meta = member(*resource, "meta"); newest && meta) {
                    *newest = std::max(*newest, instant(str(*meta, "lastUpdated")).value_or(0));
                }
                ++read;
            }
        }
        if (const Value* links = member(page.body, "link"); links != nullptr && links->IsArray()) {
            for (const Value& link : links->GetArray()) {
                if (str(link, "relation") != "next") {
                    continue;
                }
                // Absolute: base + "/Slot?...". The path after the base is what we ask.
                const std::string_view url = str(link, "url");
                const std::string_view type = query.substr(0, query.find('?'));
                const auto at = url.find("/" + std::string(type) + "?");
                if (at != std::string_view::npos) {
                    next = std::string(url.substr(at + 1));
                }
            }
        }
    }
    return read;
}

void FreeSlots::load(std::int64_t nowMicros)
{
    pollSince_ = nowMicros;
    readAll("Schedule?_count=500", nullptr);
    readAll("Slot?status=free&_count=500", nullptr);
    ready_.store(true, std::memory_order_release);
}

std::size_t FreeSlots::tick(std::int64_t nowMicros, bool readOthers)
{
    {
        std::unique_lock lock(mutex_);
        const std::int64_t horizon = nowMicros - Day;
        for (auto it = slots_.begin(); it != slots_.end();) {
            if (it->second.start == 0 || it->second.start >= horizon) {
                ++it;
                continue;
            }
            if (it->second.free) {
                const Key key{it->second.start, it->first};
                if (const auto found = byStart_.find(key); found != byStart_.end()) {
                    if (auto list = bySchedule_.find(found->second.schedule);
                        list != bySchedule_.end() && list->second.erase(key) > 0 &&
                        list->second.empty()) {
                        bySchedule_.erase(list);
                    }
                    byStart_.erase(found);
                }
            }
            it = slots_.erase(it);
        }
    }
    if (!readOthers) {
        return 0;
    }
    const std::int64_t since = (pollSince_ == 0 ? nowMicros : pollSince_) - PollLookback;
    pollSince_ = nowMicros;
    const std::string when = "_lastUpdated=ge" + utcQuery(since) + "&_sort=_lastUpdated&_count=500";
    return readAll("Schedule?" + when, nullptr) + readAll("Slot?" + when, nullptr);
}

void FreeSlots::scan(const Query& query, const Visit& visit) const
{
    std::shared_lock lock(mutex_);
    static const ScheduleInfo none;
    const auto scheduleOf = [this](const std::string& reference) -> const ScheduleInfo& {
        const auto slash = reference.rfind('/');
        const auto found = schedules_.find(reference.substr(slash + 1));
        return found != schedules_.end() ? found->second.second : none;
    };
    const auto matches = [&query](const Offer& offer) {
        return tokenMatches(offer.specialty, query.specialty) &&
               tokenMatches(offer.serviceType, query.serviceType);
    };
    const Key from{query.from, std::string()};
    if (query.actors.empty()) {
        for (auto it = byStart_.lower_bound(from); it != byStart_.end(); ++it) {
            if (it->first.first >= query.to) {
                return;
            }
            if (matches(it->second) && !visit(it->second, scheduleOf(it->second.schedule))) {
                return;
            }
        }
        return;
    }
    // The Schedules naming every actor asked for, merged in start order.
    std::vector<std::pair<std::set<Key>::const_iterator, std::set<Key>::const_iterator>> runs;
    for (const auto& [reference, keys] : bySchedule_) {
        const ScheduleInfo& info = scheduleOf(reference);
        const bool all = std::all_of(query.actors.begin(), query.actors.end(), [&](const auto& a) {
            return std::find(info.actors.begin(), info.actors.end(), a) != info.actors.end();
        });
        if (all) {
            runs.emplace_back(keys.lower_bound(from), keys.end());
        }
    }
    while (true) {
        auto best = runs.end();
        for (auto run = runs.begin(); run != runs.end(); ++run) {
            if (run->first != run->second && (best == runs.end() || *run->first < *best->first)) {
                best = run;
            }
        }
        if (best == runs.end() || best->first->first >= query.to) {
            return;
        }
        const Offer& offer = byStart_.at(*best->first);
        ++best->first;
        if (matches(offer) && !visit(offer, scheduleOf(offer.schedule))) {
            return;
        }
    }
}

std::size_t FreeSlots::size() const
{
    std::shared_lock lock(mutex_);
    return byStart_.size();
}

} // namespace hl7gw::booking
