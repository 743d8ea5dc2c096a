#include "gateway/core/clock.h"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Timestamp.h>

#include <cstdio>

namespace hl7gw::core {

std::string formatIsoUtc(std::int64_t micros)
{
    const Poco::DateTime t{Poco::Timestamp(micros)};
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", t.year(), t.month(),
                  t.day(), t.hour(), t.minute(), t.second(),
                  static_cast<int>(((micros % 1'000'000) + 1'000'000) % 1'000'000));
    return buf;
}

std::string formatHl7Timestamp(std::int64_t micros, int offsetMinutes)
{
    const Poco::DateTime t{
        Poco::Timestamp(micros + static_cast<std::int64_t>(offsetMinutes) * 60'000'000)};
    const int abs = offsetMinutes < 0 ? -offsetMinutes : offsetMinutes;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d%c%02d%02d", t.year(), t.month(),
                  t.day(), t.hour(), t.minute(), t.second(), offsetMinutes < 0 ? '-' : '+',
                  abs / 60, abs % 60);
    return buf;
}

bool parseIsoTime(const std::string& text, std::int64_t& micros)
{
    std::string s = text;
    if (s.size() > 10 && s[10] == ' ') {
        s[10] = 'T';
    }
    int tzd = 0;
    Poco::DateTime parsed;
    const std::string formats[] = {Poco::DateTimeFormat::ISO8601_FRAC_FORMAT,
                                   Poco::DateTimeFormat::ISO8601_FORMAT, "%Y-%m-%dT%H:%M:%S",
                                   "%Y-%m-%d"};
    for (const std::string& format : formats) {
        if (Poco::DateTimeParser::tryParse(format, s, parsed, tzd)) {
            micros =
                parsed.timestamp().epochMicroseconds() - static_cast<std::int64_t>(tzd) * 1'000'000;
            return true;
        }
    }
    return false;
}

} // namespace hl7gw::core
