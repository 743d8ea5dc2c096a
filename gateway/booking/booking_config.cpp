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

// A DICOM modality code (PS3.3 C.7.3.1.1.1: CT, MR, US, ES for endoscopy ...): what the PACS
// worklist is keyed on, so a typo would send the patient to no worklist.
bool isModality(const std::string& code)
{
    if (code.size() < 2 || code.size() > 4) {
        return false;
    }
    for (const char c : code) {
        if (c < 'A' || c > 'Z') {
            return false;
        }
    }
    return true;
}

ExamType readExam(core::ConfigReader& config)
{
    ExamType exam;
    exam.display = config.requiredString("display");
    exam.displayEn = config.string("display_en", exam.display);
    if (exam.displayEn.empty()) {
        config.fail("display_en", "must not be empty (leave it out to use display)");
    }
    exam.modality = config.requiredString("modality");
    if (!isModality(exam.modality)) {
        config.fail("modality", "expected a DICOM modality code such as CT, MR, US or ES, found '" +
                                    exam.modality + "'");
    }
    exam.preparationZh = config.requiredString("preparation_zh");
    exam.preparationEn = config.requiredString("preparation_en");
    return exam;
}

} // namespace

const BookingRules& BookingConfig::rulesFor(const std::string& department) const
{
    const auto it = departments.find(department);
    return it == departments.end() ? rules : it->second;
}

const ExamType* BookingConfig::examFor(const std::string& code) const
{
    const auto it = exams.find(code);
    return it == exams.end() ? nullptr : &it->second;
}

BookingConfig readBookingConfig(core::ConfigReader& booking, const std::string& baseDirectory)
{
    BookingConfig config;
    config.holdSeconds =
        static_cast<int>(booking.integer("hold_seconds", config.holdSeconds, 10, 86400));
    config.rules = readRules(booking, config.rules);
    config.templates = readSlotTemplates(booking);
    config.release = readReleaseRules(booking); // the defaults when absent
    config.hisRequests = readHisRequests(booking, baseDirectory);
    for (std::size_t i = 0; i < config.hisRequests.size(); ++i) {
        const auto& client = config.hisRequests[i].client;
        // The Slot is held while the HIS decides: a hold that ran out meanwhile could be
        // taken over by another channel's booking.
        if (static_cast<std::int64_t>(client.connectTimeoutMs) + client.ackTimeoutMs >=
            static_cast<std::int64_t>(config.holdSeconds) * 1000) {
            booking.fail("his_requests." + std::to_string(i) + ".answer_timeout_ms",
                         "connect_timeout_ms + answer_timeout_ms must be shorter than "
                         "hold_seconds (" +
                             std::to_string(config.holdSeconds) + " s)");
        }
    }
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
    if (const rapidjson::Value* exams = booking.raw("exams")) {
        if (!exams->IsObject()) {
            booking.fail("exams", "expected an object of exam code -> exam");
        }
        for (const auto& member : exams->GetObject()) {
            const std::string code(member.name.GetString(), member.name.GetStringLength());
            if (!member.value.IsObject()) {
                booking.fail("exams." + code, "expected an object with display, modality, "
                                              "preparation_zh and preparation_en");
            }
            // The full dotted path, as --set takes it: booking.exams.CT-ABD.modality.
            core::ConfigReader exam(member.value, booking.where(),
                                    (booking.path().empty() ? "" : booking.path() + ".") +
                                        "exams." + code);
            config.exams[code] = readExam(exam);
            exam.finish();
        }
    }
    return config;
}

} // namespace hl7gw::booking
