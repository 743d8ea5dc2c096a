// Exam booking (检查预约) through $hold/$book over real HTTP on both backends
// (booking/exam_booking.h), and the exam catalogue of the config (booking_config.h).
#include "gateway/booking/exam_booking.h"

#include "gateway/booking/scheduling.h"
#include "gateway/core/config_reader.h"

#include "tests/unit/booking/booking_test_support.h"
#include "tests/unit/fhir_server/fhir_server_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

using namespace hl7gw;
using hl7gw::test::Backends;
using hl7gw::test::FhirFixture;
using hl7gw::test::Reply;

// Named, not anonymous: see scheduling_test.cpp (-Wsubobject-linkage).
namespace exam_booking_test {

using test::Day;
using test::Hour;
using test::instant;
using test::ManualClock;
using test::Minute;

const char* const Fasting = "检查前空腹8小时 / fast for 8 hours before the exam";

booking::BookingConfig catalogue()
{
    booking::BookingConfig config;
    config.exams["CT-ABD"] = {"腹部CT", "abdominal CT", "CT", "检查前空腹8小时",
                              "fast for 8 hours before the exam"};
    config.exams["US-PEL"] = {"盆腔超声", "pelvic ultrasound", "US", "检查前憋尿",
                              "come with a full bladder"};
    return config;
}

/// A CT room (Location, a doctor, serviceType DICOM CT) with the scheduling operations, a
/// Patient and the clock at 08:00 (+08:00) today.
struct CtRoom {
    explicit CtRoom(test::Backend backend)
        : fhir(backend), clock(today8()), scheduling(fhir.server(), catalogue(), clock)
    {
        scheduling.registerOperations(fhir.server());
        const std::string room =
            fhir.create("Location", R"({"resourceType":"Location","name":"CT一室"})");
        const std::string doctor = fhir.create(
            "Practitioner", R"({"resourceType":"Practitioner","name":[{"text":"李明"}]})");
        schedule = fhir.create(
            "Schedule",
            R"({"resourceType":"Schedule","active":true,"actor":[{"reference":"Location/)" + room +
                R"("},{"reference":"Practitioner/)" + doctor +
                R"("}],"serviceType":[{"coding":[{"system":)"
                R"("http://dicom.nema.org/resources/ontology/DCM","code":"CT"}]}]})");
        patient = newPatient("110101199003070011");
    }

    static std::int64_t today8()
    {
        const std::int64_t local = core::SystemClock::instance().nowMicros() + 8 * Hour;
        return local - local % Day;
    }

    std::string newPatient(const std::string& nationalId)
    {
        return fhir.create("Patient", R"({"resourceType":"Patient","identifier":[{"system":)"
                                      R"("urn:oid:2.16.156.10011.1.3","value":")" +
                                          nationalId + R"("}],"name":[{"text":"李雷"}]})");
    }

    std::string slot(std::int64_t startOffset, const std::string& pool = "general")
    {
        const std::int64_t start = clock.nowMicros() + startOffset;
        return fhir.create("Slot", R"({"resourceType":"Slot","meta":{"tag":[{"system":)"
                                   R"("urn:hl7gw:slot-pool","code":")" +
                                       pool + R"("}]},"schedule":{"reference":"Schedule/)" +
                                       schedule + R"("},"status":"free","start":")" +
                                       instant(start) + R"(","end":")" +
                                       instant(start + 15 * Minute) + R"("})");
    }

    /// An exam order; `extra` adds members ("priority":"urgent").
    std::string order(const std::string& code, const std::string& extra = {},
                      const std::string& status = "active", const std::string& who = {})
    {
        return fhir.create("ServiceRequest",
                           R"({"resourceType":"ServiceRequest","status":")" + status +
                               R"(","intent":"order","code":{"coding":[{"system":)"
                               R"("urn:oid:1.2.156.112604.1.5","code":")" +
                               code + R"("}]},"subject":{"reference":"Patient/)" +
                               (who.empty() ? patient : who) + "\"}" +
                               (extra.empty() ? "" : "," + extra) + "}");
    }

    static std::string appointmentFor(const std::string& slotId, const std::string& patientId,
                                      const std::string& orderReference)
    {
        return R"({"resourceType":"Appointment","status":"proposed",)" +
               (orderReference.empty()
                    ? std::string()
                    : R"("basedOn":[{"reference":")" + orderReference + R"("}],)") +
               R"("slot":[{"reference":"Slot/)" + slotId +
               R"("}],"participant":[{"actor":{"reference":"Patient/)" + patientId +
               R"("},"status":"needs-action"}]})";
    }

    Reply op(const std::string& name, const std::string& slotId, const std::string& channel,
             const std::string& orderReference, const std::string& who = {})
    {
        return fhir.post(
            "Appointment/$" + name,
            R"({"resourceType":"Parameters","parameter":[{"name":"appointment-resource",)"
            R"("resource":)" +
                appointmentFor(slotId, who.empty() ? patient : who, orderReference) +
                R"(},{"name":"channel","valueCode":")" + channel + R"("}]})");
    }

    Reply book(const std::string& slotId, const std::string& channel,
               const std::string& orderReference)
    {
        return op("book", slotId, channel, orderReference);
    }

    // The patient's Communications (searchset).
    Reply notices(const std::string& who = {})
    {
        return fhir.get("Communication?subject=Patient/" + (who.empty() ? patient : who));
    }

    std::string slotStatus(const std::string& id) { return fhir.get("Slot/" + id).text("status"); }

    FhirFixture fhir;
    ManualClock clock;
    booking::Scheduling scheduling;
    std::string schedule;
    std::string patient;
};

const rapidjson::Value& firstResource(const Reply& reply)
{
    BOOST_REQUIRE_MESSAGE(reply.json.IsObject() && reply.json.HasMember("entry") &&
                              reply.json["entry"].IsArray() && !reply.json["entry"].Empty(),
                          reply.body);
    return reply.json["entry"][0]["resource"];
}

std::size_t entries(const Reply& reply)
{
    return reply.json.IsObject() && reply.json.HasMember("entry") && reply.json["entry"].IsArray()
               ? reply.json["entry"].Size()
               : 0;
}

std::string diagnostics(const Reply& reply)
{
    return reply.json.IsObject() && reply.json.HasMember("issue")
               ? std::string(reply.json["issue"][0]["diagnostics"].GetString())
               : std::string();
}

// The refusal a test expects: 422 business-rule, saying `english` (and some Chinese).
void refused(const Reply& reply, const std::string& english)
{
    BOOST_TEST(reply.status == 422, reply.body);
    BOOST_TEST(test::issueCode(reply) == "business-rule");
    const std::string text = diagnostics(reply);
    BOOST_TEST(text.find(english) != std::string::npos, text);
    BOOST_TEST(text.find(" / ") != std::string::npos, text); // 中文 / English
}

booking::BookingConfig parse(const std::string& exams)
{
    rapidjson::Document d;
    core::parseConfigText(R"({"booking": {"exams": )" + exams + "}}", "gateway.json", d);
    core::ConfigReader root = core::ConfigReader::root(d, "gateway.json");
    std::optional<core::ConfigReader> booking = root.object("booking");
    booking::BookingConfig config = booking::readBookingConfig(*booking);
    booking->finish();
    return config;
}

// The ConfigError text of a catalogue that must not load.
std::string parseError(const std::string& exams)
{
    try {
        parse(exams);
    } catch (const core::ConfigError& e) {
        return e.message();
    }
    return "(it loaded)";
}

} // namespace exam_booking_test

using namespace exam_booking_test;

BOOST_AUTO_TEST_SUITE(exam_booking)

BOOST_AUTO_TEST_CASE(the_catalogue_is_read_and_every_mistake_names_its_path)
{
    const booking::BookingConfig config =
        parse(R"({"CT-ABD": {"display": "腹部CT", "display_en": "abdominal CT", "modality": "CT",
                  "preparation_zh": "检查前空腹8小时", "preparation_en": "fast for 8 hours"},
                  "ES-GAS": {"display": "胃镜", "modality": "ES",
                  "preparation_zh": "检查前禁食禁水6小时", "preparation_en": "no food or water for 6 hours"}})");
    BOOST_REQUIRE(config.examFor("CT-ABD") != nullptr);
    BOOST_TEST(config.examFor("CT-ABD")->modality == "CT");
    BOOST_TEST(config.examFor("CT-ABD")->preparationZh == "检查前空腹8小时");
    BOOST_TEST(config.examFor("CT-ABD")->displayEn == "abdominal CT");
    BOOST_TEST(config.examFor("ES-GAS")->displayEn == "胃镜"); // the display when not given
    BOOST_TEST(config.examFor("MR-HEAD") == nullptr);

    const std::string good = R"("display": "腹部CT", "modality": "CT", )";
    const std::string unknown =
        parseError(R"({"CT-ABD": {)" + good +
                   R"("preparation_zh": "空腹", "preparation_en": "fast", "fasting_hours": 8}})");
    BOOST_TEST(unknown.find("booking.exams.CT-ABD.fasting_hours") != std::string::npos, unknown);
    const std::string wrongType =
        parseError(R"({"CT-ABD": {"display": "腹部CT", "modality": 3, "preparation_zh": "空腹",)"
                   R"( "preparation_en": "fast"}})");
    BOOST_TEST(wrongType.find("booking.exams.CT-ABD.modality") != std::string::npos, wrongType);
    const std::string badModality =
        parseError(R"({"CT-ABD": {"display": "腹部CT", "modality": "ct", "preparation_zh": "空腹",)"
                   R"( "preparation_en": "fast"}})");
    BOOST_TEST(badModality.find("DICOM modality") != std::string::npos, badModality);
    const std::string missing =
        parseError(R"({"CT-ABD": {)" + good + R"("preparation_zh": "空腹"}})");
    BOOST_TEST(missing.find("booking.exams.CT-ABD.preparation_en") != std::string::npos, missing);
    const std::string notObject = parseError(R"({"CT-ABD": "腹部CT"})");
    BOOST_TEST(notObject.find("booking.exams.CT-ABD") != std::string::npos, notObject);
    const std::string notCatalogue = parseError(R"(["CT-ABD"])");
    BOOST_TEST(notCatalogue.find("booking.exams") != std::string::npos, notCatalogue);
}

BOOST_DATA_TEST_CASE(a_booked_exam_carries_its_preparation_and_a_confirmation, Backends, backend)
{
    CtRoom room(backend);
    const std::string order = room.order("CT-ABD");
    const std::string slot = room.slot(Day + Hour);
    const Reply booked = room.book(slot, "wechat", "ServiceRequest/" + order);
    BOOST_REQUIRE_MESSAGE(booked.status == 200, booked.body);
    const rapidjson::Value& appointment = firstResource(booked);
    BOOST_TEST(std::string(appointment["status"].GetString()) == "booked");
    BOOST_TEST(std::string(appointment["patientInstruction"].GetString()) == Fasting);
    BOOST_TEST(std::string(appointment["basedOn"][0]["reference"].GetString()) ==
               "ServiceRequest/" + order);
    BOOST_TEST(room.slotStatus(slot) == "busy");
    const std::string id = appointment["id"].GetString();

    // The confirmation, written in the booking's transaction.
    const Reply notices = room.notices();
    BOOST_REQUIRE_MESSAGE(entries(notices) == 1u, notices.body);
    const rapidjson::Value& notice = firstResource(notices);
    BOOST_TEST(std::string(notice["status"].GetString()) == "preparation");
    BOOST_TEST(std::string(notice["category"][0]["coding"][0]["code"].GetString()) ==
               "notification");
    BOOST_TEST(std::string(notice["medium"][0]["coding"][0]["code"].GetString()) == "wechat");
    BOOST_TEST(std::string(notice["about"][0]["reference"].GetString()) == "Appointment/" + id);
    BOOST_TEST(std::string(notice["basedOn"][0]["reference"].GetString()) ==
               "ServiceRequest/" + order);
    BOOST_TEST(std::string(notice["recipient"][0]["reference"].GetString()) ==
               "Patient/" + room.patient);
    const std::string zh = notice["payload"][0]["contentString"].GetString();
    const std::string en = notice["payload"][1]["contentString"].GetString();
    // 09:00 +08:00 tomorrow: the slot's local time as the patient reads it.
    const std::string when =
        core::formatIsoUtc(room.clock.nowMicros() + Day + Hour + 8 * Hour).substr(0, 10) + " 09:00";
    for (const std::string* text : {&zh, &en}) {
        BOOST_TEST(text->find(when) != std::string::npos, *text);
        BOOST_TEST(text->find("CT一室") != std::string::npos, *text);
        BOOST_TEST(text->find("李明") != std::string::npos, *text);
    }
    BOOST_TEST(zh.find("腹部CT") != std::string::npos, zh);
    BOOST_TEST(zh.find("检查前空腹8小时") != std::string::npos, zh);
    BOOST_TEST(en.find("abdominal CT") != std::string::npos, en);
    BOOST_TEST(en.find("fast for 8 hours before the exam") != std::string::npos, en);

    // The Slot is gone for another booking, which writes no notice.
    BOOST_TEST(room.book(slot, "wechat", "ServiceRequest/" + order).status == 409);
    BOOST_TEST(entries(room.notices()) == 1u);
}

BOOST_DATA_TEST_CASE(a_held_exam_is_confirmed_when_it_is_booked, Backends, backend)
{
    CtRoom room(backend);
    const std::string order = room.order("CT-ABD");
    const std::string slot = room.slot(Day);
    const Reply held = room.op("hold", slot, "app", "ServiceRequest/" + order);
    BOOST_REQUIRE_MESSAGE(held.status == 200, held.body);
    const rapidjson::Value& pending = firstResource(held);
    BOOST_TEST(std::string(pending["status"].GetString()) == "pending");
    BOOST_TEST(std::string(pending["patientInstruction"].GetString()) == Fasting);
    BOOST_TEST(entries(room.notices()) == 0u); // a hold is not a booking
    const std::string id = pending["id"].GetString();

    const Reply booked = room.fhir.post(
        "Appointment/$book",
        R"({"resourceType":"Parameters","parameter":[{"name":"appointment-reference",)"
        R"("valueReference":{"reference":"Appointment/)" +
            id + R"("}},{"name":"channel","valueCode":"app"}]})");
    BOOST_REQUIRE_MESSAGE(booked.status == 200, booked.body);
    BOOST_TEST(std::string(firstResource(booked)["status"].GetString()) == "booked");
    const Reply notices = room.notices();
    BOOST_REQUIRE_MESSAGE(entries(notices) == 1u, notices.body);
    const rapidjson::Value& notice = firstResource(notices);
    BOOST_TEST(std::string(notice["about"][0]["reference"].GetString()) == "Appointment/" + id);
    BOOST_TEST(std::string(notice["medium"][0]["coding"][0]["code"].GetString()) == "app");
}

BOOST_DATA_TEST_CASE(exam_bookings_without_a_bookable_order_are_refused, Backends, backend)
{
    CtRoom room(backend);
    const std::string slot = room.slot(Day);
    refused(room.book(slot, "app", "ServiceRequest/no-such-order"), "does not exist");
    refused(room.book(slot, "app", "ServiceRequest/" + room.order("XR-CHEST")),
            "XR-CHEST of ServiceRequest/");
    refused(room.book(slot, "app", "ServiceRequest/" + room.order("CT-ABD", {}, "revoked")),
            "is revoked; only an active order can be booked");
    const std::string other = room.newPatient("110101199003070022");
    refused(room.book(slot, "app", "ServiceRequest/" + room.order("CT-ABD", {}, "active", other)),
            "is for another patient");
    // An ultrasound order does not take a CT room's slot.
    refused(room.book(slot, "app", "ServiceRequest/" + room.order("US-PEL")),
            "this slot is for CT exams, not US");
    BOOST_TEST(room.slotStatus(slot) == "free");
    BOOST_TEST(entries(room.notices()) == 0u);
    // The refusals are counted by reason for $booking-stats.
    const Reply stats = room.fhir.get("$booking-stats");
    for (const char* reason : {"exam-order", "exam-catalogue", "exam-modality"}) {
        BOOST_TEST(stats.body.find(reason) != std::string::npos, reason);
    }

    // A referral's ServiceRequest is no exam order: booked without preparation or notice.
    const std::string referral = room.fhir.create(
        "ServiceRequest",
        R"({"resourceType":"ServiceRequest","status":"active","intent":"order","category":)"
        R"([{"coding":[{"system":"urn:hl7gw:referral-direction","code":"up-referral"}]}],)"
        R"("subject":{"reference":"Patient/)" +
            room.patient + R"("}})");
    const Reply booked = room.book(slot, "app", "ServiceRequest/" + referral);
    BOOST_REQUIRE_MESSAGE(booked.status == 200, booked.body);
    BOOST_TEST(!firstResource(booked).HasMember("patientInstruction"));
    BOOST_TEST(entries(room.notices()) == 0u);
}

BOOST_DATA_TEST_CASE(the_urgent_exam_pool_is_for_urgent_orders_only, Backends, backend)
{
    CtRoom room(backend);
    const std::string reserved = room.slot(Day, "urgent-exam");
    // A routine order, even from the clinic, and a booking with no order at all: refused.
    refused(room.book(reserved, "clinic", "ServiceRequest/" + room.order("CT-ABD")),
            "kept for urgent exam orders");
    refused(room.book(reserved, "clinic", {}), "kept for urgent exam orders");
    BOOST_TEST(room.slotStatus(reserved) == "free");
    // An urgent order takes it, whatever the channel.
    const Reply urgent = room.book(
        reserved, "app", "ServiceRequest/" + room.order("CT-ABD", R"("priority":"urgent")"));
    BOOST_REQUIRE_MESSAGE(urgent.status == 200, urgent.body);
    BOOST_TEST(room.slotStatus(reserved) == "busy");
    // stat and asap are urgent too; the HIS books for the hospital from any pool.
    const std::string statPatient = room.newPatient("110101199003070033");
    const Reply stat = room.op(
        "book", room.slot(Day + Hour, "urgent-exam"), "kiosk",
        "ServiceRequest/" + room.order("CT-ABD", R"("priority":"stat")", "active", statPatient),
        statPatient);
    BOOST_TEST(stat.status == 200, stat.body);
    const Reply his = room.book(room.slot(2 * Day, "urgent-exam"), "his", {});
    BOOST_TEST(his.status == 200, his.body);
    // The general pool takes a routine order.
    BOOST_TEST(
        room.book(room.slot(3 * Day), "app", "ServiceRequest/" + room.order("CT-ABD")).status ==
        200);
}

// $find offers what $book takes: the urgent-exam pool to an urgent order (`based-on`) from any
// channel and to the HIS, not to a channel by its name.
BOOST_DATA_TEST_CASE(find_offers_the_urgent_exam_pool_to_urgent_orders_only, Backends, backend)
{
    CtRoom room(backend);
    const std::string general = room.slot(Day);
    const std::string reserved = room.slot(Day + Hour, "urgent-exam");
    auto offers = [&](const std::string& channel, const std::string& basedOn) {
        const std::string order =
            basedOn.empty()
                ? std::string()
                : R"(,{"name":"based-on","valueReference":{"reference":")" + basedOn + "\"}}";
        const Reply reply = room.fhir.post(
            "Appointment/$find",
            R"({"resourceType":"Parameters","parameter":[{"name":"start","valueDateTime":")" +
                instant(room.clock.nowMicros() + Day - Hour) +
                R"("},{"name":"end","valueDateTime":")" +
                instant(room.clock.nowMicros() + Day + 2 * Hour) +
                R"("},{"name":"channel","valueCode":")" + channel + "\"}" + order + "]}");
        BOOST_TEST(reply.status == 200, reply.body);
        return std::make_pair(reply.body.find("Slot/" + general) != std::string::npos,
                              reply.body.find("Slot/" + reserved) != std::string::npos);
    };
    using Seen = std::pair<bool, bool>; // general, urgent-exam
    BOOST_TEST((offers("clinic", {}) == Seen{true, false}));
    BOOST_TEST((offers("app", "ServiceRequest/" + room.order("CT-ABD")) == Seen{true, false}));
    BOOST_TEST((offers("app", "ServiceRequest/" + room.order("CT-ABD", R"("priority":"urgent")")) ==
                Seen{true, true}));
    BOOST_TEST((offers("his", {}) == Seen{true, true}));
    // A cancelled urgent order is no order.
    BOOST_TEST((offers("app", "ServiceRequest/" + room.order("CT-ABD", R"("priority":"stat")",
                                                             "revoked")) == Seen{true, false}));
    const Reply unknown = room.fhir.post(
        "Appointment/$find",
        R"({"resourceType":"Parameters","parameter":[{"name":"start","valueDate":"2026-12-03"},)"
        R"({"name":"end","valueDate":"2026-12-04"},)"
        R"({"name":"based-on","valueReference":{"reference":"ServiceRequest/nope"}}]})");
    BOOST_TEST(unknown.status == 400, unknown.body);
}

BOOST_AUTO_TEST_SUITE_END()
