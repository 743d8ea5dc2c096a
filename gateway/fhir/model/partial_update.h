#pragma once

namespace hl7gw::fhir {

/// Extensions on a transaction entry's `request` that make a conditional PUT a partial update
/// (STANDARDS.md §4.1 rule 3: an element the v2 message leaves empty stays as it is, one it
/// sends as `""` is removed). The mapping engine writes them; the FHIR server reads them.
/// `{"url": MergeExtension, "valueBoolean": true}`: every top-level element the new version
/// leaves out is kept from the stored one.
inline constexpr const char* MergeExtension = "urn:hl7gw:merge";
/// `{"url": RemoveExtension, "valueString": "telecom"}`, one per element: not kept.
inline constexpr const char* RemoveExtension = "urn:hl7gw:remove";

} // namespace hl7gw::fhir
