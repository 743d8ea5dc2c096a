#pragma once

#include <string>
#include <string_view>

namespace hl7gw::mapping {

/// The primitive conversions between HL7 v2 values (already unescaped, UTF-8) and FHIR R4
/// primitives (STANDARDS.md §1.4, §4.3). Each returns false and says why in `error` (naming
/// the rule, never repeating the value: errors end up in logs) when the value does not fit.
/// Pure functions; thread-safe.
///
/// Offsets are minutes east of UTC (+480 is +08:00, China). A v2 time without an offset is in
/// the channel's zone, so the dialect's offset is written out; an offset in the value is kept.

/// "+08:00" for 480, "-05:30" for -330, "+00:00" for 0.
std::string offsetText(int offsetMinutes);
/// Parses "+08:00", "+0800", "Z" (0), "-03:30"; false when malformed or beyond ±14:00.
bool parseOffset(std::string_view text, int& offsetMinutes);

/// DT/DTM/TS `YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]` -> FHIR `date` (`YYYY`, `YYYY-MM`,
/// `YYYY-MM-DD`): the date as written, the time and offset dropped.
bool v2ToFhirDate(std::string_view v2, std::string& out, std::string& error);
/// -> FHIR `dateTime`: a date alone stays a date; with hours the time is padded to seconds
/// (FHIR requires hh:mm:ss) and an offset is always written. Fractions kept as written.
bool v2ToFhirDateTime(std::string_view v2, int offsetMinutes, std::string& out, std::string& error);
/// -> FHIR `instant`: needs at least hours (padded to seconds); a date alone is an error.
bool v2ToFhirInstant(std::string_view v2, int offsetMinutes, std::string& out, std::string& error);
/// TM `HH[MM[SS[.S...]]][+/-ZZZZ]` -> FHIR `time` `hh:mm:ss[.s]` (an offset is dropped: FHIR
/// time has none).
bool v2ToFhirTime(std::string_view v2, std::string& out, std::string& error);
/// NM -> FHIR `decimal` text, the digits kept exactly ("1.50" stays "1.50"); a leading "+" is
/// dropped, ".5" becomes "0.5", "-.5" "-0.5". Anything else (spaces, "1e3", "1,5") is an error.
bool v2ToFhirDecimal(std::string_view v2, std::string& out, std::string& error);
/// NM/SI -> FHIR `integer` (`minimum` 0 for unsignedInt, 1 for positiveInt, INT32_MIN for
/// integer); "007" -> "7"; fractions are an error; range is 32-bit signed.
bool v2ToFhirInteger(std::string_view v2, long long minimum, std::string& out, std::string& error);
/// ID `Y`/`N` (also `y`/`n`, `1`/`0`, `T`/`F`) -> boolean.
bool v2ToFhirBoolean(std::string_view v2, bool& out, std::string& error);

/// FHIR `date`/`dateTime`/`instant` -> v2 DTM: `2024-03-01T08:30:00+08:00` ->
/// `20240301083000+0800`. A value in another offset is written in its own offset (the
/// instant is not moved); a value without one (a date, or a dateTime sent without a zone)
/// gets none, which v2 reads as the receiver's local time. `Z` becomes `+0000`. Fractions
/// kept. A channel that wants local time without a zone (STANDARDS.md §1.4) drops it itself.
bool fhirToV2Timestamp(std::string_view fhir, std::string& out, std::string& error);
/// FHIR `time` `hh:mm:ss[.s]` -> TM `HHMMSS[.S]`.
bool fhirToV2Time(std::string_view fhir, std::string& out, std::string& error);

/// A duration `amount` (NM text) in `unit` (a UCUM or HL7 duration unit code: `s`, `min`, `h`,
/// `d`, `wk`, `mo` (30 d), and the v2 ISO+ forms `S`, `M`/`MIN`, `H`/`HR`, `D`, `W`/`WK`;
/// empty: minutes) -> whole minutes, rounded to nearest. False for an unknown unit or a value
/// that is not a non-negative number.
bool durationMinutes(std::string_view amount, std::string_view unit, long long& minutes,
                     std::string& error);

} // namespace hl7gw::mapping
