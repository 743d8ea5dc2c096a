#pragma once

#include "gateway/core/clock.h"
#include "gateway/fhir/server/fhir_server.h"

#include <string_view>

namespace hl7gw::booking {

/// Communication.medium system naming the way a suspension notice goes out: `app`, `wechat`,
/// `alipay` (the channel the Appointment was booked through) or `sms` (phone bookings and
/// every other channel: kiosk, desk, referral and HIS bookings have no app to push to).
inline constexpr const char* NotificationChannelSystem = "urn:hl7gw:notification-channel";

/// Slot.meta.tag system of why a Slot is busy-unavailable; code `suspension` marks the Slots
/// $suspend blocked, the only ones $resume reopens.
inline constexpr const char* SlotBlockSystem = "urn:hl7gw:slot-block";
inline constexpr const char* SuspensionBlock = "suspension";
/// Provenance.activity and meta.tag system of the Provenance each $suspend (`suspend`) and
/// $resume (`resume`) writes in its transaction: the Schedule and the Slots it changed
/// (`target`), the period (`occurredPeriod`) and the reason (`reason.text`). A channel's
/// `fhir` source with `"tags": ["urn:hl7gw:slot-change|suspend", ...]` sends it to the HIS
/// as SIU^S23 / SIU^S24 (mappings/fhir-to-v2/slots-siu.map).
inline constexpr const char* SlotChangeSystem = "urn:hl7gw:slot-change";

/// Communication.medium of a patient notice for a booking made through `channel`: the code in
/// NotificationChannelSystem with its display, and the v3 ParticipationMode (ONLINEWRIT for
/// app, WeChat and Alipay pushes; WRITTEN for SMS, which R4's ParticipationMode lacks).
struct NotificationMedium {
    const char* code;
    const char* display;
    const char* mode;
};
NotificationMedium notificationMedium(std::string_view channel);

/// Registers `POST /fhir/Schedule/{id}/$suspend`, a doctor's suspension (停诊, STANDARDS.md
/// §7.1, §7.3). Parameters: `start` and `end` (valueDateTime, or valueDate: `start` from the
/// beginning of its local day, `end` to the end of its day, so start = end = one date is that
/// whole day) and `reason` (valueString, optional). In one transaction through the FHIR
/// server, so If-Match, validation and the outbox (SIU^S15 per cancelled Appointment) apply:
///  - every Slot of the Schedule overlapping [start, end) that is free, busy-tentative or busy
///    becomes busy-unavailable (its hold expiry removed). A Slot whose Appointment is
///    checked-in, arrived or fulfilled is left as it is: that visit is taking place;
///  - every pending or booked Appointment holding a Slot of the Schedule in the period becomes
///    cancelled, cancelationReason `appointment-cancellation-reason#prov` with text
///    "doctor-suspension: <reason>" (not a no-show, not the patient's doing);
///  - one Communication per patient (the Appointment's first Patient participant), status
///    `preparation` (the channel that delivers it moves it on), category
///    `communication-category#notification`, medium NotificationChannelSystem (the channel of
///    the patient's earliest cancelled Appointment) with v3 ParticipationMode ONLINEWRIT, or
///    WRITTEN for SMS; subject and recipient the Patient, `about` the cancelled Appointments,
///    reasonCode as the cancellation's. `payload` holds, in this order: the notice in Chinese
///    (contentString), the same in English, then one contentReference per Slot offered
///    instead (display: the local time and doctor), the same Slots the texts list.
/// Offered Slots: the first three free ones starting after both now and `end`, of Schedules
/// with the same department (the Schedule's first specialty coding, else its serviceType),
/// this one included, in pool `general` or the patient's own `channel-<name>`. They are not
/// held: patients rebook through $hold/$book, which applies the hospital's rules.
/// A transaction that meets a concurrent change (409/412) is rebuilt from fresh reads, three
/// attempts in all, then 409 `conflict`. Nothing left to change is no transaction: a second
/// $suspend of a period answers zeros.
///
/// Answers 200 with Parameters: `schedule` (valueReference), `start`, `end` (valueDateTime,
/// local), `slots-blocked`, `appointments-cancelled`, `patients-notified` (valueInteger), and
/// one `communication` (valueReference) per notice written. Failures are OperationOutcomes:
/// 400 `required`/`invalid` for a missing or malformed start or end, 400 `invalid` when
/// start >= end, 400 `too-costly` for a period over 93 days or for changes that do not fit in
/// one transaction (FhirServerConfig::maxBundleEntries; suspend shorter periods), 404
/// `not-found` for an unknown or deleted Schedule; a transaction refused otherwise passes on
/// its status and OperationOutcome.
///
/// Every Slot it blocks gets the meta.tag SlotBlockSystem|suspension, and the transaction
/// POSTs a Provenance (SlotChangeSystem `suspend`) naming the Schedule and those Slots.
///
/// Registers `POST /fhir/Schedule/{id}/$resume` too, the end of a suspension (STANDARDS.md
/// §7.1 "busy-unavailable -> unblock -> free"; SIU^S24 from the HIS): same `start`, `end`
/// and `reason`; in one transaction every Slot of the Schedule overlapping the period that
/// is busy-unavailable with the suspension tag and starts after now becomes free again, the
/// tag removed and its pool tags as they were, plus a Provenance (`resume`). Slots blocked
/// otherwise, and the Appointments the suspension cancelled, stay as they are. Answers 200
/// with Parameters `schedule`, `start`, `end`, `slots-reopened` (valueInteger); the same
/// failures as $suspend. Nothing to reopen is no transaction (0).
///
/// Slots are found by the local day of their start: the days of [start - 4 h, end), 4 h being
/// the longest slice slot_generator.h makes, so a Slot that begins earlier than that and runs
/// into the period is not found. Call before the server takes requests; `server` and `clock`
/// must outlive it. Thread-safe.
void addSuspension(fhir::FhirServer& server, const core::Clock& clock);

} // namespace hl7gw::booking
