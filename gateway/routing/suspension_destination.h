#pragma once

#include "gateway/core/config_reader.h"
#include "gateway/routing/stage.h"

#include <memory>

namespace hl7gw::routing {

class FhirStoreLink;

/// `destination.schedule_suspension`: {"type": "schedule_suspension", "at_receipt": true}. A
/// doctor's suspension (停诊) the HIS announces with SIU^S23 (STANDARDS.md §7.3 step 1)
/// becomes `POST [base]/Schedule/{id}/$suspend` on the in-process FHIR server (booking
/// registers it), for each Schedule it names; its end, SIU^S24 (slots opened, §7.1),
/// becomes `Schedule/{id}/$resume`. The payload is what the `mapping` transform makes of the
/// message (mappings/v2-to-fhir/messages/siu.map `siu-slots`): a Bundle holding a
/// Parameters resource with
///  - `event` (valueCode): MSH-9.2, S23 or S24 (S23 when absent; another is Reject, 201);
///  - `practitioner` (valueIdentifier): the doctor; their Schedules are those whose actor is
///    the Practitioner with that identifier; or `schedule` (valueIdentifier): one Schedule by
///    its own identifier (tried first when both are given);
///  - `start` (valueDateTime) and `end` (valueDateTime) or `minutes` (valueInteger): the
///    period; a time without zone is the server's local time;
///  - `reason` (valueString, optional): the suspension's reason, in the cancellations.
/// The writes carry the destination's name as FhirWriteOrigin, so a `fhir` source that
/// sends the operations' Provenance as SIU^S23/S24 names it in `ignore_from` and the HIS
/// does not get its own message back; cancelling the Appointments is still the gateway's own
/// change, and their SIU^S15 reach the HIS through an Appointment channel that does not name
/// this destination.
///
/// Outcomes: every Schedule suspended or resumed is Delivered ("Schedule/1: 4 slots blocked,
/// 2 appointments cancelled, 2 patients notified", "Schedule/1: 4 slots reopened"); no
/// Schedule found, no start, or a 4xx of
/// the operation is Reject (at receipt: AE, ERR-3 204 with ERR-5 `UNKNOWN_SCHEDULE`, 101, or 207
/// with `FHIR_<status>`); a 5xx, a 409 (the Slots kept changing) or a server not running is
/// Retry (at receipt: AR 207 / 206). A second $suspend of a period changes nothing, so a
/// retry after a partial success is safe. `link` null: a ConfigError (fhir.enabled false).
DestinationKindPtr makeSuspensionDestination(core::ConfigReader& config,
                                             std::shared_ptr<const FhirStoreLink> link);

} // namespace hl7gw::routing
