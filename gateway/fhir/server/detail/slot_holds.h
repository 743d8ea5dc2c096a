#pragma once

#include "gateway/store/resource_store.h"

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::fhir::server {

/// No Slot is ever booked twice (STANDARDS.md §3.6), whatever writes the Appointment: $book,
/// a plain POST or PUT, a transaction, an SIU from the HIS through a channel. An Appointment
/// that keeps its Slots (pending, booked, checked-in, arrived, fulfilled: §7.2) has one row
/// per Slot in `fhir_slot_holds`, written with its other index rows, and the table's unique
/// index refuses a second holder. The database decides, so the guarantee holds across threads
/// and across gateway nodes on one PostgreSQL. A cancelled, no-show or entered-in-error
/// version has no rows, which frees its Slots.
namespace slot_holds {

inline constexpr const char* Table = "fhir_slot_holds";

/// The table and its unique index, in the store's dialect; idempotent.
std::vector<std::string> schema(bool postgresql);

/// The rows `resource` holds (nullopt unless it is an Appointment that keeps Slots).
/// `baseUrl` turns absolute references to our own server into `Slot/id`.
std::optional<store::IndexRows> rows(const rapidjson::Value& resource, std::string_view baseUrl);

/// True when a refused change (ChangeOutcome::error) is this table's unique index.
bool isTaken(const std::string& storeError);

} // namespace slot_holds

} // namespace hl7gw::fhir::server
