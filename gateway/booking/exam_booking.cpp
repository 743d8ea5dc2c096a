#include "gateway/booking/exam_booking.h"

#include "gateway/booking/fhir_json.h"
#include "gateway/booking/suspension.h"

#include <string>
#include <vector>

namespace hl7gw::booking {

using namespace json;

namespace {

constexpr int OffsetMinutes = 480; // the alliance's zone, as scheduling.cpp (STANDARDS.md §1.4)
constexpr const char* CategorySystem =
    "http://terminology.hl7.org/CodeSystem/communication-category";
constexpr const char* ModeSystem = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode";
// DICOM PS3.16 CID 29 "Acquisition Modality": how a Slot or Schedule says which modality it is.
constexpr const char* DicomSystem = "http://dicom.nema.org/resources/ontology/DCM";

Value text(std::string_view value, Allocator& a)
{
    return Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a);
}

fhir::OperationResult refuse(const std::string& chinese, const std::string& english)
{
    fhir::OperationResult result;
    result.status = 422;
    auto& a = result.body.GetAllocator();
    result.body.SetObject();
    setString(result.body, "resourceType", "OperationOutcome", a);
    Value issue(rapidjson::kObjectType);
    setString(issue, "severity", "error", a);
    setString(issue, "code", "business-rule", a);
    setString(issue, "diagnostics", chinese + " / " + english, a);
    Value issues(rapidjson::kArrayType);
    issues.PushBack(issue, a);
    result.body.AddMember("issue", issues, a);
    return result;
}

// "ServiceRequest/12" of a relative or absolute reference; empty when it names another type.
std::string targetOf(std::string_view reference, std::string_view type)
{
    const std::string prefix = std::string(type) + "/";
    const auto at = reference.rfind(prefix);
    if (at == std::string_view::npos || (at > 0 && reference[at - 1] != '/')) {
        return {};
    }
    std::string target(reference.substr(at));
    if (const auto history = target.find("/_history/"); history != std::string::npos) {
        target.resize(history);
    }
    return target.size() > prefix.size() ? target : std::string();
}

std::vector<std::string> codesOf(const Value* codeable)
{
    std::vector<std::string> codes;
    const Value* codings = codeable == nullptr ? nullptr : member(*codeable, "coding");
    if (codings != nullptr && codings->IsArray()) {
        for (const Value& coding : codings->GetArray()) {
            if (const std::string_view code = str(coding, "code"); !code.empty()) {
                codes.emplace_back(code);
            }
        }
    }
    return codes;
}

std::string firstPatient(const Value& appointment)
{
    const Value* participants = member(appointment, "participant");
    if (participants == nullptr || !participants->IsArray()) {
        return {};
    }
    for (const Value& participant : participants->GetArray()) {
        const Value* actor = member(participant, "actor");
        if (actor != nullptr) {
            if (std::string patient = targetOf(str(*actor, "reference"), "Patient");
                !patient.empty()) {
                return patient;
            }
        }
    }
    return {};
}

// The DICOM modality a Slot or Schedule is for (its serviceType), empty when it names none.
std::string modalityOf(const Value& resource)
{
    const Value* types = member(resource, "serviceType");
    if (types == nullptr || !types->IsArray()) {
        return {};
    }
    for (const Value& type : types->GetArray()) {
        const Value* codings = member(type, "coding");
        if (codings == nullptr || !codings->IsArray()) {
            continue;
        }
        for (const Value& coding : codings->GetArray()) {
            if (str(coding, "system") == DicomSystem) {
                return std::string(str(coding, "code"));
            }
        }
    }
    return {};
}

bool isReferral(const Value& request)
{
    const Value* categories = member(request, "category");
    if (categories == nullptr || !categories->IsArray()) {
        return false;
    }
    for (const Value& category : categories->GetArray()) {
        for (const std::string& code : codesOf(&category)) {
            if (code == "up-referral" || code == "down-referral") {
                return true;
            }
        }
    }
    return false;
}

// The name of what an actor reference names: its display, else the resource's own name.
std::string actorName(const FhirCalls& fhir, const Value& reference, std::string_view type)
{
    if (const std::string_view display = str(reference, "display"); !display.empty()) {
        return std::string(display);
    }
    std::string target = targetOf(str(reference, "reference"), type);
    if (target.empty()) {
        return {};
    }
    FhirReply reply = fhir.get(target);
    if (!reply.ok() || !reply.body.IsObject()) {
        return {};
    }
    if (type == "Practitioner") {
        return personName(reply.body);
    }
    if (type == "PractitionerRole") {
        const Value* practitioner = member(reply.body, "practitioner");
        return practitioner == nullptr ? std::string()
                                       : actorName(fhir, *practitioner, "Practitioner");
    }
    if (type == "Device") {
        const Value* names = member(reply.body, "deviceName");
        return names != nullptr && names->IsArray() && !names->Empty()
                   ? std::string(str((*names)[0], "name"))
                   : std::string();
    }
    return std::string(str(reply.body, "name")); // Location, HealthcareService
}

struct PlaceAndDoctor {
    std::string place;
    std::string doctor;
};

// The first place (Location, else HealthcareService, else Device) and doctor among the
// Appointment's participants and the Schedule's actors, the Appointment's first.
PlaceAndDoctor placeAndDoctor(const FhirCalls& fhir, const Value& appointment,
                              const Value& schedule)
{
    std::vector<const Value*> references;
    if (const Value* participants = member(appointment, "participant");
        participants != nullptr && participants->IsArray()) {
        for (const Value& participant : participants->GetArray()) {
            if (const Value* actor = member(participant, "actor")) {
                references.push_back(actor);
            }
        }
    }
    if (const Value* actors = member(schedule, "actor"); actors != nullptr && actors->IsArray()) {
        for (const Value& actor : actors->GetArray()) {
            references.push_back(&actor);
        }
    }
    PlaceAndDoctor found;
    for (const char* type : {"Location", "HealthcareService", "Device"}) {
        for (const Value* reference : references) {
            if (found.place.empty() && !targetOf(str(*reference, "reference"), type).empty()) {
                found.place = actorName(fhir, *reference, type);
            }
        }
    }
    for (const char* type : {"Practitioner", "PractitionerRole"}) {
        for (const Value* reference : references) {
            if (found.doctor.empty() && !targetOf(str(*reference, "reference"), type).empty()) {
                found.doctor = actorName(fhir, *reference, type);
            }
        }
    }
    return found;
}

// "2026-12-03 09:00" in the alliance's zone: the patient's own clock.
std::string readableTime(std::int64_t micros)
{
    std::string local = core::formatIsoUtc(micros + OffsetMinutes * Minute).substr(0, 16);
    local[10] = ' ';
    return local;
}

Value reference(std::string_view target, Allocator& a)
{
    Value r(rapidjson::kObjectType);
    r.AddMember("reference", text(target, a), a);
    return r;
}

Value coding(const char* system, std::string_view code, std::string_view display, Allocator& a)
{
    Value c(rapidjson::kObjectType);
    c.AddMember("system", Value(rapidjson::StringRef(system)), a);
    c.AddMember("code", text(code, a), a);
    if (!display.empty()) {
        c.AddMember("display", text(display, a), a);
    }
    return c;
}

std::string channelTag(const Value& appointment)
{
    const Value* meta = member(appointment, "meta");
    const Value* tags = meta == nullptr ? nullptr : member(*meta, "tag");
    if (tags != nullptr && tags->IsArray()) {
        for (const Value& tag : tags->GetArray()) {
            if (str(tag, "system") == ChannelSystem) {
                return std::string(str(tag, "code"));
            }
        }
    }
    return {};
}

} // namespace

bool ExamOrder::urgent() const
{
    return priority == "urgent" || priority == "asap" || priority == "stat";
}

ExamCheck checkExamOrder(const FhirCalls& fhir, const BookingConfig& config,
                         const Value& appointment, const Value& slot, const Value& schedule)
{
    ExamCheck check;
    std::string target;
    if (const Value* basedOn = member(appointment, "basedOn");
        basedOn != nullptr && basedOn->IsArray()) {
        for (const Value& based : basedOn->GetArray()) {
            target = targetOf(str(based, "reference"), "ServiceRequest");
            if (!target.empty()) {
                break;
            }
        }
    }
    if (target.empty()) {
        return check;
    }
    FhirReply request = fhir.get(target);
    if (!request.ok() || !request.body.IsObject()) {
        check.refusal =
            refuse("检查申请" + target + "不存在", "the exam order " + target + " does not exist");
        return check;
    }
    if (isReferral(request.body)) {
        return check; // a referral booking (referral quota), not an exam
    }
    if (const std::string status(str(request.body, "status")); status != "active") {
        check.refusal = refuse("检查申请状态为" + status + "，不能预约",
                               "the exam order " + target + " is " + status +
                                   "; only an active order can be booked");
        return check;
    }
    const std::string patient = firstPatient(appointment);
    const Value* subject = member(request.body, "subject");
    const std::string orderPatient =
        subject == nullptr ? std::string() : targetOf(str(*subject, "reference"), "Patient");
    if (!patient.empty() && !orderPatient.empty() && patient != orderPatient) {
        check.refusal =
            refuse("检查申请不属于该患者", "the exam order " + target + " is for another patient");
        return check;
    }
    const std::vector<std::string> codes = codesOf(member(request.body, "code"));
    ExamOrder order;
    for (const std::string& code : codes) {
        if (const ExamType* exam = config.examFor(code)) {
            order.code = code;
            order.exam = exam;
            break;
        }
    }
    if (order.exam == nullptr) {
        const std::string code = codes.empty() ? std::string("(none)") : codes.front();
        check.refusal = refuse("检查项目" + code + "不在检查目录中，不能预约",
                               "exam code " + code + " of " + target +
                                   " is not in the exam catalogue (booking.exams)");
        return check;
    }
    std::string modality = modalityOf(slot);
    if (modality.empty()) {
        modality = modalityOf(schedule);
    }
    if (!modality.empty() && modality != order.exam->modality) {
        check.refusal =
            refuse("该号源为" + modality + "检查号源，不能预约" + order.exam->modality + "检查",
                   "this slot is for " + modality + " exams, not " + order.exam->modality);
        return check;
    }
    order.reference = target;
    order.priority = std::string(str(request.body, "priority"));
    if (order.priority.empty()) {
        order.priority = "routine"; // R4 ServiceRequest.priority: absent means routine
    }
    check.order = std::move(order);
    return check;
}

bool urgentExamPoolAllows(const std::optional<ExamOrder>& order, std::string_view channel)
{
    return channel == "his" || (order && order->urgent());
}

fhir::OperationResult urgentExamRefusal()
{
    return refuse("该号源为急诊检查预留号源，仅限加急检查申请预约",
                  "this slot is kept for urgent exam orders (priority urgent, asap or stat)");
}

void applyExamOrder(Value& appointment, const ExamOrder& order, Allocator& a)
{
    setString(appointment, "patientInstruction",
              order.exam->preparationZh + " / " + order.exam->preparationEn, a);
}

Value examConfirmation(const FhirCalls& fhir, const ExamOrder& order, const Value& appointment,
                       const Value& schedule, const std::string& appointmentReference, Allocator& a)
{
    const ExamType& exam = *order.exam;
    const std::string when = readableTime(instant(str(appointment, "start")).value_or(0));
    const PlaceAndDoctor at = placeAndDoctor(fhir, appointment, schedule);
    std::string zh = "【检查预约确认】您预约的" + exam.display + "检查时间为" + when;
    std::string en = "Exam booked: your " + exam.displayEn + " is at " + when;
    if (!at.place.empty()) {
        zh += "，地点：" + at.place;
        en += ", " + at.place;
    }
    if (!at.doctor.empty()) {
        zh += "，医生：" + at.doctor;
        en += ", with Dr " + at.doctor;
    }
    zh += "。检查前准备：" + exam.preparationZh + "。";
    en += ". Preparation: " + exam.preparationEn + ".";

    const std::string patient = firstPatient(appointment);
    Value resource(rapidjson::kObjectType);
    resource.AddMember("resourceType", "Communication", a);
    Value basedOn(rapidjson::kArrayType);
    basedOn.PushBack(reference(order.reference, a), a);
    resource.AddMember("basedOn", basedOn, a);
    resource.AddMember("status", "preparation", a);
    Value categories(rapidjson::kArrayType);
    Value category(rapidjson::kObjectType);
    Value categoryCodings(rapidjson::kArrayType);
    categoryCodings.PushBack(coding(CategorySystem, "notification", "Notification", a), a);
    category.AddMember("coding", categoryCodings, a);
    category.AddMember("text", "预约确认 / booking confirmation", a);
    categories.PushBack(category, a);
    resource.AddMember("category", categories, a);
    const NotificationMedium medium = notificationMedium(channelTag(appointment));
    Value media(rapidjson::kArrayType);
    Value way(rapidjson::kObjectType);
    Value wayCodings(rapidjson::kArrayType);
    wayCodings.PushBack(coding(NotificationChannelSystem, medium.code, medium.display, a), a);
    wayCodings.PushBack(coding(ModeSystem, medium.mode, {}, a), a);
    way.AddMember("coding", wayCodings, a);
    media.PushBack(way, a);
    resource.AddMember("medium", media, a);
    if (!patient.empty()) {
        resource.AddMember("subject", reference(patient, a), a);
    }
    Value about(rapidjson::kArrayType);
    about.PushBack(reference(appointmentReference, a), a);
    resource.AddMember("about", about, a);
    if (!patient.empty()) {
        Value recipients(rapidjson::kArrayType);
        recipients.PushBack(reference(patient, a), a);
        resource.AddMember("recipient", recipients, a);
    }
    Value payload(rapidjson::kArrayType);
    for (const std::string* body : {&zh, &en}) {
        Value part(rapidjson::kObjectType);
        part.AddMember("contentString", text(*body, a), a);
        payload.PushBack(part, a);
    }
    resource.AddMember("payload", payload, a);
    return resource;
}

} // namespace hl7gw::booking
