#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hl7gw::core {

/// The time source. Code that stamps or schedules takes a Clock so that tests can set the
/// time; production code uses SystemClock.
class Clock {
  public:
    virtual ~Clock() = default;
    /// Microseconds since 1970-01-01T00:00:00Z.
    virtual std::int64_t nowMicros() const = 0;
};

class SystemClock : public Clock {
  public:
    std::int64_t nowMicros() const override
    {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    static const SystemClock& instance()
    {
        static const SystemClock clock;
        return clock;
    }
};

/// "2026-12-01T19:23:36.123456Z" for machine output (JSON Lines, logs).
std::string formatIsoUtc(std::int64_t micros);
/// HL7 DTM in the given offset from UTC in minutes, e.g. "20261202032336+0800" (MSH-7).
std::string formatHl7Timestamp(std::int64_t micros, int offsetMinutes);
/// Reads "2026-12-01", "2026-12-01T19:23:36Z", "2026-12-01T19:23:36+08:00" (or with a
/// space for T, with fractions); returns false when the text is none of these.
bool parseIsoTime(const std::string& text, std::int64_t& micros);

} // namespace hl7gw::core
