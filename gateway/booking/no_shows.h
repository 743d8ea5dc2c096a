#pragma once

#include "gateway/booking/booking_config.h"
#include "gateway/booking/fhir_calls.h"

#include <cstddef>
#include <cstdint>

namespace hl7gw::booking {

/// Automatic no-shows (STANDARDS.md §7.2, §7.4): every `booked` Appointment whose `end` plus
/// the late-arrival grace is before `nowMicros` becomes `noshow`, by PUT with If-Match on the
/// version found. The grace is `lateGraceMinutes` of the rules for the Appointment's
/// department (the first specialty code of its Slot's Schedule, else serviceType,
/// BookingConfig::rulesFor); without a Slot or Schedule, the hospital's. An Appointment
/// without an `end` is left alone (only proposed, cancelled and waitlist may lack it, §3.3).
///
/// Nothing else is written: the outbox sends SIU^S26 for each, and the no-show count that
/// restricts online booking is the patient's `noshow` Appointments ($book counts them).
/// A checked-in or arrived patient is no longer `booked`, so is never marked.
///
/// At most `limit` are marked (or skipped) per call, the rest by the next: a backlog (a
/// restore, a week without the task) is worked off at a steady pace, its SIU^S26 with it, and
/// `serve` never waits long for a round at shutdown.
///
/// Returns how many were marked. One changed meanwhile (412: checked in, cancelled, moved) or
/// gone (404, 410) is skipped; any other refusal is logged with the Appointment's id and
/// skipped. Throws core::Error when a search fails (the store did not answer): the caller's
/// schedule runs it again. Runs in the caller's thread; no timer.
std::size_t markNoShows(const FhirCalls& fhir, std::int64_t nowMicros, const BookingConfig& config,
                        std::size_t limit = 500);

} // namespace hl7gw::booking
