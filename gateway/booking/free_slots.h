#pragma once

#include "gateway/booking/fhir_calls.h"
#include "gateway/fhir/server/fhir_server.h"

#include <rapidjson/document.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hl7gw::booking {

/// The free Slots and their Schedules in memory, in start order, so that `$find` answers
/// from a map instead of a store search that walks every booked Slot of the day first
/// (STANDARDS.md §3.6; 2,600 -> see bench/README.md). The store stays the truth: an offer
/// is a proposal, and `$hold`/`$book` check the Slot and its unique hold row again.
///
/// In step by two roads:
///  - this process's commits, told after they are durable (FhirServer::addCommitObserver),
///    so a Slot booked here is gone from the next `$find` here;
///  - on a shared PostgreSQL, the other nodes' commits, read by poll() every few seconds
///    (Slot and Schedule by `_lastUpdated`, 5 s back to cover commit delay and clock skew).
/// Both carry versions; a version older than the one known is ignored, so the order in
/// which they arrive does not matter.
/// Thread-safe. `server` must outlive it.
class FreeSlots {
  public:
    /// One free Slot as `$find` offers it.
    struct Offer {
        std::string id;
        std::int64_t start = 0; // microseconds UTC
        std::string startText, endText;
        std::string schedule; // "Schedule/ID"
        std::string pool;     // its urn:hl7gw:slot-pool tag, empty when none
        /// serviceCategory, serviceType, specialty, appointmentType as one JSON object (the
        /// elements a proposed Appointment copies); empty when the Slot has none.
        std::string copied;
        std::vector<std::string> specialty, serviceType; // "system|code"
    };
    struct ScheduleInfo {
        std::string department;          // json::departmentOf
        std::vector<std::string> actors; // "Practitioner/D1", "Location/L2"
        bool active = true;
    };
    /// What a `$find` asks for: start in [from, to); `actor` (a reference) limits the scan to
    /// the Schedules that name it; `specialty`/`serviceType` are token values ("code" or
    /// "system|code").
    struct Query {
        std::int64_t from = 0, to = 0;
        std::vector<std::string> actors;
        std::string specialty, serviceType;
    };
    /// Called in start order (ties by id) with each matching offer and its Schedule; return
    /// false to stop. Runs under the shared lock: copy what it keeps, do not call back.
    using Visit = std::function<bool(const Offer&, const ScheduleInfo&)>;

    explicit FreeSlots(fhir::FhirServer& server);

    /// Reads every free Slot and every Schedule from the store; ready() after. Commits
    /// during the load are not lost: this process's reach the observer (it runs from
    /// construction), other nodes' the first tick() (it reads back to `nowMicros`).
    void load(std::int64_t nowMicros);
    bool ready() const { return ready_.load(std::memory_order_acquire); }

    /// Run every few seconds: forgets Slots that started more than a day before `now` (the
    /// map stays bounded) and, when `readOthers` (a shared PostgreSQL), reads the other
    /// writers' changes since the last round. Returns how many resources it read.
    std::size_t tick(std::int64_t nowMicros, bool readOthers);

    void scan(const Query& query, const Visit& visit) const;

    std::size_t size() const;

  private:
    using Key = std::pair<std::int64_t, std::string>; // start, id

    void observe(const std::vector<store::ResourceChange>& changes, const fhir::CommitView& view);
    // Applies one version of a Slot (or its deletion: slot == nullptr). Caller holds the
    // exclusive lock.
    void applySlot(const std::string& id, std::int64_t version, const rapidjson::Value* slot);
    void applySchedule(const std::string& id, std::int64_t version,
                       const rapidjson::Value* schedule);
    // Pages through `query` (relative to the base), applying each resource; returns the
    // count and the newest lastUpdated seen.
    std::size_t readAll(const std::string& query, std::int64_t* newest);

    FhirCalls fhir_;
    mutable std::shared_mutex mutex_;
    std::map<Key, Offer> byStart_;
    std::unordered_map<std::string, std::set<Key>> bySchedule_; // "Schedule/ID" -> its offers
    struct Seen {
        std::int64_t version = 0;
        std::int64_t start = 0;
        bool free = false; // in byStart_ under (start, id)
    };
    std::unordered_map<std::string, Seen> slots_; // every Slot seen, free or not
    // Schedules by id: version and what $find needs.
    std::unordered_map<std::string, std::pair<std::int64_t, ScheduleInfo>> schedules_;
    std::atomic<bool> ready_{false};
    std::int64_t pollSince_ = 0; // tick() only, one thread
};

} // namespace hl7gw::booking
