#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// Small reads and writes of FHIR JSON the booking operations share.
namespace hl7gw::booking::json {

using Value = rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

inline constexpr std::int64_t Minute = 60'000'000; // microseconds
inline constexpr std::int64_t Day = 1440 * Minute;
/// Slot.meta.tag system of the quota pools (general, referral, urgent-exam, channel-NAME).
inline constexpr const char* PoolSystem = "urn:hl7gw:slot-pool";
/// Appointment.meta.tag system of the channel a booking came through.
inline constexpr const char* ChannelSystem = "urn:hl7gw:booking-channel";

/// object[name] as text; empty when missing or not a string.
std::string_view str(const Value& object, const char* name);
/// object[name]; nullptr when missing (rapidjson's operator[] would be undefined).
const Value* member(const Value& object, const char* name);
/// Sets or replaces object[name].
void set(Value& object, const char* name, Value value, Allocator& a);
void setString(Value& object, const char* name, std::string_view text, Allocator& a);

/// A FHIR instant or dateTime as microseconds UTC; a date alone is that local day's start
/// (+08:00, STANDARDS.md §1.4). Nullopt for anything else.
std::optional<std::int64_t> instant(std::string_view text);
/// "2026-12-03T00:00:00Z", for search parameters (no '+' to escape).
std::string utcQuery(std::int64_t micros);
/// Percent-encodes a search parameter value (references and URIs keep '/' and ':').
std::string encode(std::string_view text);
std::string newUuid();

/// A Patient's or Practitioner's first name as people read it: its text, else family then
/// given names without spaces (Chinese order, as the HIS write them); empty when none.
std::string personName(const Value& person);

/// The code of a Slot's PoolSystem tag (its quota pool); empty when it has none.
std::string poolOf(const Value& slot);

/// The first code of a Schedule's (or Appointment's) specialty, else its serviceType: its
/// department, for `booking.departments` and the KPIs.
std::string departmentOf(const Value& resource);

} // namespace hl7gw::booking::json
