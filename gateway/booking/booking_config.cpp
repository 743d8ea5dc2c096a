#include "gateway/booking/booking_config.h"

namespace hl7gw::booking {

namespace {

BookingRules readRules(core::ConfigReader& config, BookingRules rules)
{
    auto integer = [&](const char* key, int fallback, int max) {
        return static_cast<int>(config.integer(key, fallback, 0, max));
    };
    rules.openDaysAhead = integer("open_days_ahead", rules.openDaysAhead, 366);
    rules.closeMinutesBefore = integer("close_minutes_before", rules.closeMinutesBefore, 7 * 1440);
    rules.cancelHoursBefore = integer("cancel_hours_before", rules.cancelHoursBefore, 30 * 24);
    rules.realName = config.boolean("real_name", rules.realName);
    rules.onePerDoctorPerDay = config.boolean("one_per_doctor_per_day", rules.onePerDoctorPerDay);
    rules.lateGraceMinutes = integer("late_grace_minutes", rules.lateGraceMinutes, 1440);
    if (std::optional<core::ConfigReader> noShow = config.object("no_show")) {
        rules.noShowLimit = static_cast<int>(noShow->integer("limit", rules.noShowLimit, 1, 100));
        rules.noShowWindowDays =
            static_cast<int>(noShow->integer("window_days", rules.noShowWindowDays, 1, 3660));
        rules.noShowBlockDays =
            static_cast<int>(noShow->integer("block_days", rules.noShowBlockDays, 0, 3660));
        noShow->finish();
    }
    return rules;
}

} // namespace

const BookingRules& BookingConfig::rulesFor(const std::string& department) const
{
    const auto it = departments.find(department);
    return it == departments.end() ? rules : it->second;
}

BookingConfig readBookingConfig(core::ConfigReader& booking)
{
    BookingConfig config;
    config.holdSeconds =
        static_cast<int>(booking.integer("hold_seconds", config.holdSeconds, 10, 86400));
    config.rules = readRules(booking, config.rules);
    config.templates = readSlotTemplates(booking);
    config.release = readReleaseRules(booking); // the defaults when absent
    if (const rapidjson::Value* departments = booking.raw("departments")) {
        if (!departments->IsObject()) {
            booking.fail("departments", "expected an object of department code -> rules");
        }
        for (const auto& member : departments->GetObject()) {
            const std::string code(member.name.GetString(), member.name.GetStringLength());
            if (!member.value.IsObject()) {
                booking.fail("departments." + code, "expected an object of rules");
            }
            core::ConfigReader department =
                core::ConfigReader::root(member.value, booking.at("departments." + code));
            config.departments[code] = readRules(department, config.rules);
            department.finish();
        }
    }
    return config;
}

} // namespace hl7gw::booking
