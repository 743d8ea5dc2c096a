#pragma once

#include "gateway/booking/booking_config.h"
#include "gateway/booking/fhir_calls.h"
#include "gateway/fhir/server/fhir_server.h"

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

namespace hl7gw::booking {

/// Exam booking (检查预约, PRODUCT.md §1): an Appointment whose `basedOn` names an exam order
/// (a ServiceRequest whose code is in `booking.exams`) books an exam Slot through the same
/// $hold/$book as any booking, and carries the exam's preparation. `Scheduling` calls these;
/// they read through the FHIR server in-process and never write.

/// The exam order a booking is based on.
struct ExamOrder {
    std::string reference;          // "ServiceRequest/12", as the Appointment names it
    std::string code;               // the ServiceRequest.code code found in the catalogue
    std::string priority;           // routine (also when absent), urgent, asap, stat
    const ExamType* exam = nullptr; // in the BookingConfig given to checkExamOrder
    /// urgent, asap or stat: the orders the `urgent-exam` pool is kept for.
    bool urgent() const;
};

/// What checkExamOrder found: an exam order, a refusal, or neither (not an exam booking).
struct ExamCheck {
    std::optional<ExamOrder> order;
    std::optional<fhir::OperationResult> refusal;
};

/// Reads the exam order of an Appointment to be held or booked: the first `basedOn` reference
/// to a ServiceRequest. No such reference, or a referral (ServiceRequest.category
/// `up-referral` / `down-referral`, STANDARDS.md §6.3), is not an exam booking. Otherwise the
/// booking is refused, 422 `business-rule` with the reason in Chinese and English, when the
/// ServiceRequest does not exist (or is deleted), is not `active`, is for another patient than
/// the Appointment's first Patient participant, has no code in `config.exams`, or when the
/// Slot (or its Schedule) has a serviceType coding in the DICOM system naming another
/// modality than the exam's (a CT order does not take an MR slot).
ExamCheck checkExamOrder(const FhirCalls& fhir, const BookingConfig& config,
                         const rapidjson::Value& appointment, const rapidjson::Value& slot,
                         const rapidjson::Value& schedule);

/// Whether a Slot of the `urgent-exam` pool (PRODUCT.md §1 quotas) may be taken: by an exam
/// order of priority urgent, asap or stat, whatever the channel, and by the HIS, which books
/// for the hospital from any pool. Nothing else, in-clinic routine orders included.
bool urgentExamPoolAllows(const std::optional<ExamOrder>& order, std::string_view channel);

/// The refusal of a booking the urgent-exam pool does not allow (422 `business-rule`).
fhir::OperationResult urgentExamRefusal();

/// Puts the exam's preparation on the Appointment: `patientInstruction` (R4 string) =
/// "中文 / English" from the catalogue, replacing what the client sent.
void applyExamOrder(rapidjson::Value& appointment, const ExamOrder& order,
                    rapidjson::Document::AllocatorType& a);

/// The patient's confirmation of a booked exam, a Communication to POST in the booking's own
/// transaction (as suspension.h writes its notices): status `preparation` (the channel that
/// delivers it, and then the push gateway, move it on), category
/// `communication-category#notification` with text "预约确认 / booking confirmation", medium
/// by the Appointment's booking channel tag (notificationMedium), `basedOn` the exam order,
/// subject and recipient the first Patient participant, `about` `appointmentReference` (an
/// id or the transaction's `urn:uuid:`), and `payload` the notice in Chinese then in English:
/// the exam, its local time (+08:00), the place and doctor (the Schedule's and Appointment's
/// Location, HealthcareService, Device and Practitioner actors, by display or their names)
/// and the preparation. `appointment` must have its `start`.
rapidjson::Value examConfirmation(const FhirCalls& fhir, const ExamOrder& order,
                                  const rapidjson::Value& appointment,
                                  const rapidjson::Value& schedule,
                                  const std::string& appointmentReference,
                                  rapidjson::Document::AllocatorType& a);

} // namespace hl7gw::booking
