#include "gateway/booking/no_shows.h"

#include "gateway/booking/fhir_json.h"

#include "gateway/core/clock.h"
#include "gateway/core/errors.h"
#include "gateway/fhir/model/json_io.h"

#include <Poco/Logger.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hl7gw::booking {

using namespace json;

namespace {

Poco::Logger& logger()
{
    static Poco::Logger& l = Poco::Logger::get("hl7gw.booking.no_shows");
    return l;
}

std::string nextPath(const Value& page)
{
    const Value* links = member(page, "link");
    if (links == nullptr || !links->IsArray()) {
        return {};
    }
    for (const Value& link : links->GetArray()) {
        const std::string_view url = str(link, "url");
        const auto at = url.find("/Appointment?");
        if (str(link, "relation") == "next" && at != std::string_view::npos) {
            return std::string(url.substr(at + 1));
        }
    }
    return {};
}

/// The department of each Appointment, through its Slot and the Slot's Schedule; Schedules
/// are read once per sweep.
class Departments {
  public:
    explicit Departments(const FhirCalls& fhir) : fhir_(fhir) {}

    std::string of(const Value& appointment)
    {
        const Value* slots = member(appointment, "slot");
        if (slots == nullptr || !slots->IsArray() || slots->Empty()) {
            return {};
        }
        const std::string_view reference = str((*slots)[0], "reference");
        const auto at = reference.rfind("Slot/");
        if (at == std::string_view::npos) {
            return {};
        }
        const FhirReply slot = fhir_.get(std::string(reference.substr(at)));
        const Value* schedule = slot.ok() ? member(slot.body, "schedule") : nullptr;
        const std::string target(schedule == nullptr ? "" : str(*schedule, "reference"));
        if (target.rfind("Schedule/", 0) != 0) {
            return {};
        }
        auto known = bySchedule_.find(target);
        if (known == bySchedule_.end()) {
            const FhirReply read = fhir_.get(target);
            known = bySchedule_.emplace(target, read.ok() ? departmentOf(read.body) : "").first;
        }
        return known->second;
    }

  private:
    const FhirCalls& fhir_;
    std::map<std::string, std::string> bySchedule_;
};

} // namespace

std::size_t markNoShows(const FhirCalls& fhir, std::int64_t nowMicros, const BookingConfig& config,
                        std::size_t limit)
{
    int leastGrace = config.rules.lateGraceMinutes;
    for (const auto& [department, rules] : config.departments) {
        leastGrace = std::min(leastGrace, rules.lateGraceMinutes);
    }
    // end + grace < now needs start < now - grace (start <= end), so an upper bound on the
    // start finds every candidate; end and each department's own grace are checked here.
    // Upper bound only: a lower bound would make the server walk the date index from it in
    // date order (fhir/search/README.md), through every later Appointment whenever a page is
    // not full. Paging is by keyset, so the ones marked on a page do not shift the next.
    std::string path = "Appointment?status=booked&date=lt" +
                       core::formatIsoUtc(nowMicros - leastGrace * Minute).substr(0, 19) +
                       "Z&_count=200";
    Departments departments(fhir);
    std::size_t marked = 0;
    std::size_t skipped = 0;
    while (!path.empty() && marked + skipped < limit) {
        const FhirReply page = fhir.get(path);
        if (!page.ok() || !page.body.IsObject()) {
            throw core::Error("searching booked Appointments for no-shows failed with status " +
                              std::to_string(page.status));
        }
        const Value* entries = member(page.body, "entry");
        if (entries != nullptr && entries->IsArray()) {
            for (const Value& e : entries->GetArray()) {
                if (marked + skipped >= limit) {
                    break;
                }
                const Value* appointment = member(e, "resource");
                if (appointment == nullptr || str(*appointment, "resourceType") != "Appointment" ||
                    str(*appointment, "status") != "booked") {
                    continue;
                }
                const auto end = instant(str(*appointment, "end"));
                if (!end) {
                    continue;
                }
                const int grace =
                    config.departments.empty()
                        ? config.rules.lateGraceMinutes
                        : config.rulesFor(departments.of(*appointment)).lateGraceMinutes;
                if (*end + grace * Minute >= nowMicros) {
                    continue;
                }
                const std::string id(str(*appointment, "id"));
                const Value* meta = member(*appointment, "meta");
                const std::string version(meta == nullptr ? "" : str(*meta, "versionId"));
                rapidjson::Document changed;
                changed.CopyFrom(*appointment, changed.GetAllocator());
                changed["status"].SetString("noshow", changed.GetAllocator());
                const FhirReply reply =
                    fhir.call("PUT", "Appointment/" + id, fhir::writeJson(changed), version);
                if (reply.ok()) {
                    ++marked;
                } else if (reply.status == 412 || reply.status == 404 || reply.status == 410) {
                    ++skipped;
                } else {
                    ++skipped;
                    logger().warning("Appointment/%s: marking it noshow was refused with %d", id,
                                     reply.status);
                }
            }
        }
        path = nextPath(page.body);
    }
    if (marked > 0 || skipped > 0) {
        logger().information("%z booked Appointments marked noshow (%z skipped)", marked, skipped);
    }
    return marked;
}

} // namespace hl7gw::booking
