#pragma once

#include "gateway/core/issue.h"
#include "gateway/fhir/rest/request_path.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::fhir::rest {

/// `W/"7"` for version id 7: our ETags are weak (FHIR R4 http.html#versioning).
std::string formatETag(std::string_view versionId);

/// The version id of one entity tag: `W/"7"` or `"7"` (a strong tag, which some clients send
/// for If-Match), surrounding spaces ignored. nullopt for anything else, including `*`, an
/// empty tag `""` and a bare `7`.
std::optional<std::string> parseETag(std::string_view value);

/// An If-Match or If-None-Match value (RFC 7232 §3.1, §3.2): `*`, or a comma-separated list of
/// entity tags. Weak comparison throughout: FHIR versions are weak tags.
struct EntityTags {
    bool any = false;                    // `*`
    std::vector<std::string> versionIds; // the tags' version ids, in order

    /// True when `*`, or when `versionId` is listed.
    bool matches(std::string_view versionId) const;
};

/// nullopt when the value is empty or any listed tag is malformed (the caller answers 400).
std::optional<EntityTags> parseEntityTags(std::string_view value);

/// "Tue, 01 Dec 2026 22:13:30 GMT" (RFC 7231 §7.1.1.1 IMF-fixdate) for a time in microseconds
/// since 1970-01-01T00:00:00Z; the fraction of a second is dropped (HTTP dates count seconds).
std::string formatHttpDate(std::int64_t micros);

/// Microseconds since the epoch (a whole number of seconds) from an HTTP-date in any of the
/// three forms RFC 7231 §7.1.1.1 requires recipients to read: IMF-fixdate, RFC 850
/// ("Tuesday, 01-Dec-26 22:13:30 GMT") and asctime ("Tue Dec  1 22:13:30 2026"). nullopt
/// otherwise (RFC 7232: an invalid If-Modified-Since is ignored, so the caller ignores it).
std::optional<std::int64_t> parseHttpDate(std::string_view value);

/// True when a resource last modified at `lastModifiedMicros` changed after
/// `ifModifiedSinceMicros` (an If-Modified-Since value), compared in whole seconds as
/// Last-Modified is sent: false means answer 304.
bool modifiedSince(std::int64_t lastModifiedMicros, std::int64_t ifModifiedSinceMicros);

/// Prefer (RFC 7240) as FHIR uses it (R4 http.html#ops, search.html#errors).
enum class PreferReturn { Unspecified, Minimal, Representation, OperationOutcome };
enum class PreferHandling { Unspecified, Strict, Lenient };

struct Preferences {
    PreferReturn returnPreference = PreferReturn::Unspecified;
    PreferHandling handling = PreferHandling::Unspecified;
    bool respondAsync = false; // parsed so it can be logged; the server answers synchronously
};

/// Reads every preference of a Prefer value ("return=minimal, handling=strict"; several
/// Prefer headers joined with ','). Names are case-insensitive, values may be quoted;
/// unknown preferences and unknown values are ignored (RFC 7240 §2); when one repeats, the
/// first counts.
Preferences parsePrefer(std::string_view value);

/// The search parameters of an If-None-Exist value (FHIR R4 http.html#ccreate: the query part
/// of a search URL, "identifier=urn:oid:2.16.156.10011.1.3|1101"), percent-decoded, in order; a
/// leading '?' is tolerated. False with an "invalid" issue for bad escapes, for non-UTF-8, and
/// for an empty value (a conditional create without criteria would match everything).
bool parseIfNoneExist(std::string_view value, QueryParams& out, core::Issue& issue);

} // namespace hl7gw::fhir::rest
