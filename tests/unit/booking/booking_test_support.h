#pragma once

#include "gateway/core/clock.h"
#include "tests/unit/test_support.h"

#include <cstdint>
#include <string>

namespace hl7gw::test {

inline constexpr std::int64_t Minute = 60'000'000; // microseconds
inline constexpr std::int64_t Hour = 60 * Minute;
inline constexpr std::int64_t Day = 24 * Hour;

/// A FHIR instant in UTC ("2026-12-03T00:00:00Z") for Slot and Appointment times.
inline std::string instant(std::int64_t micros)
{
    return core::formatIsoUtc(micros).substr(0, 19) + "Z";
}

} // namespace hl7gw::test
