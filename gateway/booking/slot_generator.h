#pragma once

#include "gateway/booking/fhir_calls.h"
#include "gateway/core/config_reader.h"
#include "gateway/core/issue.h"
#include "gateway/fhir/server/fhir_server.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::booking {

/// Slot.meta.tag system of the quota pools (STANDARDS.md §3.6): `general`, `referral`,
/// `urgent-exam`, `channel-<name>`.
inline constexpr const char* SlotPoolSystem = "urn:hl7gw:slot-pool";
inline constexpr const char* GeneralPool = "general";
/// Slot.identifier system of generated Slots: `<schedule id>-<yyyymmddhhmm local>-<n>`, n the
/// number (号序) inside its slice counting from 1.
inline constexpr const char* SlotIdentifierSystem = "urn:hl7gw:slot";

/// One session of a weekly template: [start, end) in local minutes after midnight, cut into
/// slices of `sliceMinutes`, each slice giving `numbersPerSlice` Slots with the same start and
/// end (one per bookable number, 号序).
struct SlotSession {
    int startMinute = 0;
    int endMinute = 0;
    int sliceMinutes = 15;
    int numbersPerSlice = 1;
    /// Bit 0 Monday ... bit 6 Sunday.
    unsigned weekdays = 0;
};

/// A reserved pool and its share of every session's numbers, in percent.
struct PoolShare {
    std::string pool; // "referral", "urgent-exam", "channel-wechat"
    int percent = 0;
};

/// The weekly template of one Schedule (PRODUCT.md §1, STANDARDS.md §6.4). JSON shape, the
/// same in `booking.templates.<Schedule id>` of the config and in the `template` parameter of
/// `$generate`:
///
///   {"days": ["mon", "tue", "wed", "thu", "fri"],      // default of every session
///    "slice_minutes": 15,                              // default 15; 5..240
///    "numbers_per_slice": 1,                           // default 1; 1..200
///    "offset": "+08:00",                               // local time's UTC offset; default +08:00
///    "sessions": [
///      {"start": "08:00", "end": "12:00"},
///      {"start": "14:00", "end": "17:30", "slice_minutes": 30, "numbers_per_slice": 2},
///      {"start": "08:00", "end": "10:00", "days": ["sat"]}],
///    "pools": {"referral": 30, "urgent-exam": 10, "channel-wechat": 5}}
///
/// `days` are mon tue wed thu fri sat sun; a session's own `days`, `slice_minutes` and
/// `numbers_per_slice` replace the template's. A session must be a whole number of slices
/// (08:00-12:10 in 15-minute slices is an error, not a shorter session), and two sessions of
/// one day must not overlap (their Slots would share identifiers). `pools` maps reserved pool
/// names (`referral`, `urgent-exam`, `channel-<a-z0-9->`) to whole percents summing to at most
/// 100; `general` gets the rest and is not listed.
///
/// Rounding, per session and day: of its N numbers, each pool first gets floor(N x percent /
/// 100); the numbers left over go one each to the pools with the largest remainders, ties to
/// the pool listed first in `pools` and `general` last. So every pool is within one number of
/// its exact share and the session's counts add up to N. E.g. referral 30% and urgent-exam
/// 10% of a 14-number session: 4.2, 1.4 and general 8.4 become 4, 2 and 8 (the .4 tie goes to
/// urgent-exam, listed before general). The pools' numbers are spread over the session in
/// proportion (smooth weighted round-robin), not bunched at its start.
struct SlotTemplate {
    std::vector<SlotSession> sessions;
    std::vector<PoolShare> pools; // in template order; general not included
    int offsetMinutes = 480;
};

/// Templates by Schedule id.
using SlotTemplates = std::map<std::string, SlotTemplate>;

/// Reads one template object (shape above). Unknown keys and bad values are core::ConfigError
/// naming the reader's `where` and the dotted path ("booking.templates.s1.sessions.1.end").
SlotTemplate readSlotTemplate(core::ConfigReader& config);

/// Reads `booking.templates` (an object of Schedule id -> template) from the `booking`
/// reader, marking the key as read; an absent key gives no templates. Throws as above.
SlotTemplates readSlotTemplates(core::ConfigReader& booking);

/// Parses template JSON text (the `template` parameter). Returns false with `issue` (code
/// `value`, text starting with `where` and the dotted path of the bad value) when the text
/// is not JSON or not a valid template. Never throws for bad input.
bool parseSlotTemplate(std::string_view json, SlotTemplate& out, core::Issue& issue,
                       const std::string& where = "template");

/// Registers `POST /fhir/Schedule/{id}/$generate` on `server`. Parameters: `start` and `end`
/// (valueDate, both days included, at most 93 days) and optionally `template` (valueString of
/// template JSON; otherwise `configured[id]`). For every slice of every session of every day
/// it writes one free Slot per number: `schedule`, `start`/`end` in the template's offset,
/// `serviceCategory`/`serviceType`/`specialty` copied from the Schedule, `identifier` as
/// SlotIdentifierSystem says, and one `meta.tag` of SlotPoolSystem with its pool. Writes are
/// conditional creates (`ifNoneExist` on the identifier) in transactions of at most 200
/// entries, so a rerun for the same period creates nothing twice (Slots already there are
/// left as they are, even when the template changed).
///
/// Answers 200 with Parameters: `schedule` (valueReference), `start`, `end` (valueDate),
/// `created`, `existing` (valueInteger, all pools), and one `pool` per pool (`general` first,
/// then the template's order) with parts `code` (valueCode), `created`, `existing`.
/// Failures are OperationOutcomes: 400 `invalid` for missing or malformed parameters, 400
/// `value` for a bad template (its JSON path in diagnostics), 400 `too-costly` over 50,000
/// Slots, 404 `not-found` for a Schedule that does not exist (or is deleted), 422
/// `business-rule` for an inactive Schedule or one with no template at all. A transaction that
/// fails midway answers its own status and OperationOutcome; the earlier transactions stay
/// written and a rerun completes the period.
///
/// Call before the server takes requests. The operation is thread-safe: it holds only
/// `configured` (immutable) and `server`, which must outlive it.
void addSlotGeneration(fhir::FhirServer& server, SlotTemplates configured = {});

/// When the Slots of a reserved pool return to `general` (STANDARDS.md §6.4, §7.1): those
/// starting less than `leadMinutes` after now.
struct ReleaseRule {
    std::string pool;
    std::int64_t leadMinutes = 0;
};

/// referral 48 h, urgent-exam 24 h (STANDARDS.md §6.4).
std::vector<ReleaseRule> defaultReleaseRules();

/// Reads an object of pool -> lead time in hours (`{"referral": 48, "urgent-exam": 24}`, 0 to
/// 8760), e.g. `booking.release_hours`; pools not listed are never released. Throws
/// core::ConfigError naming the path.
std::vector<ReleaseRule> readReleaseRules(core::ConfigReader& config);

struct ReleaseCounts {
    std::map<std::string, std::size_t> released; // by the pool the Slots came from
    std::size_t skipped = 0; // changed or deleted between the search and the update
    std::size_t failed = 0;  // refused for another reason (logged with the Slot id)
    std::size_t total() const;
};

/// Turns every free Slot tagged with a rule's pool whose start is in [now, now + lead) into
/// `general`, by PUT with If-Match on the version found. A Slot that changed meanwhile (412)
/// or went away (404, 410) is skipped, not an error; Slots that already started are left as
/// they are (they are not bookable). Throws core::Error when a search fails (the store did not
/// answer): the caller's schedule runs it again. Runs in the caller's thread; no timer.
ReleaseCounts releaseReservedSlots(const FhirCalls& calls, std::int64_t nowMicros,
                                   const std::vector<ReleaseRule>& rules);

enum class ReleaseOutcome { Released, Skipped, Failed };

/// Releases one Slot as found by a search or read (`slot` with meta.versionId): its tags of
/// SlotPoolSystem become one `general`, written with If-Match on that version.
ReleaseOutcome releaseSlot(const FhirCalls& calls, const rapidjson::Value& slot);

} // namespace hl7gw::booking
