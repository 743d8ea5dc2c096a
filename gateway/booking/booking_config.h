#pragma once

#include "gateway/booking/his_requests.h"
#include "gateway/booking/slot_generator.h"
#include "gateway/core/config_reader.h"

#include <map>
#include <string>

namespace hl7gw::booking {

/// The hospital's booking rules (PRODUCT.md §1, STANDARDS.md §6.4), for the whole hospital or
/// one department.
struct BookingRules {
    int openDaysAhead = 7;       // a slot opens this many days before its start
    int closeMinutesBefore = 30; // and closes this long before it
    int cancelHoursBefore = 24;  // a later cancellation is refused (422)
    bool realName = true;        // the patient must carry a national or hospital id
    bool onePerDoctorPerDay = true;
    int noShowLimit = 3; // no-shows inside the window that block online booking
    int noShowWindowDays = 90;
    int noShowBlockDays = 90;  // from the no-show that reached the limit
    int lateGraceMinutes = 30; // after the slot's end, a booked appointment is a no-show
};

/// One exam of the catalogue (检查项目, PRODUCT.md §1): what a ServiceRequest with this code
/// books, and what the patient must do before it (sent in Appointment.patientInstruction, the
/// SIU^S12 and the confirmation).
struct ExamType {
    std::string display;       // "腹部CT"
    std::string displayEn;     // "abdominal CT"; the display when not configured
    std::string modality;      // DICOM modality: CT, MR, US, ES (endoscopy) ...
    std::string preparationZh; // "检查前空腹8小时"
    std::string preparationEn; // "fast for 8 hours before the exam"
};

/// `booking` in the gateway config:
///   {"hold_seconds": 300, "open_days_ahead": 7, "close_minutes_before": 30,
///    "cancel_hours_before": 24, "real_name": true, "one_per_doctor_per_day": true,
///    "no_show": {"limit": 3, "window_days": 90, "block_days": 90},
///    "late_grace_minutes": 30,
///    "departments": {"394589003": {"open_days_ahead": 14, ...}},
///    "templates": {"<Schedule id>": {weekly template, slot_generator.h}},
///    "release_hours": {"referral": 48, "urgent-exam": 24},
///    "exams": {"CT-ABD": {"display": "腹部CT", "display_en": "abdominal CT", "modality": "CT",
///              "preparation_zh": "检查前空腹8小时", "preparation_en": "fast for 8 hours"}},
///    "his_requests": [{HIS that only takes requests, his_requests.h}]}
/// A department is the first code of its Schedule's specialty (else serviceType); its object
/// overrides the hospital's values key by key. An exam's key is a ServiceRequest.code coding's
/// code (any system); `display`, `modality` and both preparations are required.
struct BookingConfig {
    int holdSeconds = 300;
    BookingRules rules;
    std::map<std::string, BookingRules> departments;
    SlotTemplates templates;                                  // for Schedule/$generate
    std::vector<ReleaseRule> release = defaultReleaseRules(); // reserved pools -> general
    std::map<std::string, ExamType> exams;                    // by ServiceRequest code
    std::vector<HisRequestsConfig> hisRequests;               // SRM/SRR, his_requests.h

    const BookingRules& rulesFor(const std::string& department) const;
    /// The catalogue's exam of that code; nullptr when it has none.
    const ExamType* examFor(const std::string& code) const;
};

/// Reads the keys above; unknown keys and out-of-range values are core::ConfigError naming
/// the path. `baseDirectory` (the configuration file's folder) is where relative
/// `his_requests` map directories are taken from.
BookingConfig readBookingConfig(core::ConfigReader& booking, const std::string& baseDirectory = {});

} // namespace hl7gw::booking
