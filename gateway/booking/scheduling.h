#pragma once

#include "gateway/booking/booking_config.h"
#include "gateway/booking/fhir_calls.h"
#include "gateway/booking/free_slots.h"
#include "gateway/booking/his_requests.h"
#include "gateway/core/clock.h"
#include "gateway/core/metrics.h"
#include "gateway/fhir/server/fhir_server.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

namespace hl7gw::booking {

/// The scheduling operations of STANDARDS.md §3.6 (IHE ITI-115/116/117) over the one slot
/// pool, with the hospital's rules (§6.4, §7.1, §7.2):
///  - `POST /fhir/Appointment/$find`: free Slots in [start, end) that the caller's channel may
///    take (pool tags), inside the booking window, as proposed Appointments (not stored).
///  - `$hold`: the Slot becomes busy-tentative for `hold_seconds` and a pending Appointment is
///    stored, in one transaction.
///  - `$book`: a held Appointment becomes booked (Slot busy); a new one is held and booked at
///    once; `cancelled` frees the Slot; a booked one naming another Slot moves to it.
/// Every change is a transaction through the FHIR server, so versions (If-Match), the Slot-hold
/// constraint and the outbox (SIU for the HIS) apply as for any client. A Slot that is gone is
/// 409 with a Bundle holding an OperationOutcome (`not-found`); a broken rule is 422 with
/// `business-rule` and a reason in Chinese and English. The same Appointment.identifier again
/// returns the first result.
///
/// A Slot of a HIS in `booking.his_requests` (one that owns its schedule and only takes
/// requests, STANDARDS.md §4.5) is booked only once that HIS agrees: `$book` of a new
/// Appointment holds the Slot first (pending, busy-tentative, committed), then sends SRM^S01
/// over MLLP and waits for the SRR; a `$book` of a hold does the same from the hold; a
/// cancellation of a booked Appointment sends SRM^S04 first. SRR MSA-1 AA/CA (for S01 with
/// SCH-25 Booked): committed as usual, the HIS's number (SCH-2) kept as the Appointment's
/// FILL identifier. AE/AR/CE/CR (or S01 without Booked): 409 OperationOutcome `conflict` with
/// the ERR text. No answer within `answer_timeout_ms`: 504 `timeout`; an answer that is not
/// this request's SRR: 502. On any of these a new booking's hold is released (Appointment
/// cancelled, reason his-refused / his-no-answer, Slot free) and a cancellation changes
/// nothing. A reschedule into or out of such a Slot is 422 (cancel, then book). Thread-safe.
class Scheduling {
  public:
    /// `metrics` (optional) gets hl7gw_booking_requests_total, _refusals_total and
    /// _lead_time_seconds by channel and department. `freeSlots` (optional, must outlive
    /// this): $find answers from it once it is loaded, from a store search before.
    Scheduling(fhir::FhirServer& server, BookingConfig config, const core::Clock& clock,
               core::MetricsRegistry* metrics = nullptr, const FreeSlots* freeSlots = nullptr);

    /// Registers $find, $hold and $book on Appointment, and $booking-stats at system level.
    void registerOperations(fhir::FhirServer& server);

    fhir::OperationResult find(fhir::OperationCall& call) const;
    fhir::OperationResult hold(fhir::OperationCall& call) const;
    fhir::OperationResult book(fhir::OperationCall& call) const;

    /// `$booking-stats` (GET or POST, `start`, `end`: the appointments' period, default the
    /// last 30 days and the next 7): per channel and department, bookings, cancellations,
    /// no-shows, refusals by reason (since this process started), success, no-show and
    /// cancellation rates, mean lead time; per department the Slots' utilisation.
    fhir::OperationResult stats(fhir::OperationCall& call) const;

    /// Frees the Slots of holds that expired by `now` (their pending Appointment becomes
    /// cancelled, reason hold-expired); returns how many. Run it every few seconds.
    std::size_t releaseExpiredHolds(std::int64_t nowMicros) const;

  private:
    template <typename Propose>
    void findInStore(const fhir::OperationCall& call, std::int64_t start, std::int64_t end,
                     int count, const Propose& propose) const;
    void record(const char* operation, const std::string& channel, const std::string& department,
                const fhir::OperationResult& result) const;

    FhirCalls fhir_;
    const BookingConfig config_;
    const core::Clock& clock_;
    core::MetricsRegistry* const metrics_;
    const FreeSlots* const freeSlots_;
    const std::unique_ptr<const HisRequests> requests_;
    // What the report needs of the answers, which are not stored: $book attempts and
    // bookings per (channel, department), refusals per (channel, department, reason).
    mutable std::mutex tallyMutex_;
    mutable std::map<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::uint64_t>>
        attempts_;
    mutable std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> refusals_;
};

} // namespace hl7gw::booking
