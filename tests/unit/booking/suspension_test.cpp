// Schedule/$suspend (停诊) over real HTTP on both backends (booking/suspension.h).
#include "gateway/booking/suspension.h"

#include "gateway/booking/free_slots.h"
#include "gateway/booking/scheduling.h"

#include "tests/unit/booking/booking_test_support.h"
#include "tests/unit/fhir_server/fhir_server_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <string>
#include <vector>

using namespace hl7gw;
using hl7gw::test::Backends;
using hl7gw::test::FhirFixture;
using hl7gw::test::Reply;

// Named, not anonymous: see scheduling_test.cpp (-Wsubobject-linkage).
namespace suspension_test {

using test::Day;
using test::Hour;
using test::instant;
using test::ManualClock;
using test::Minute;

std::string parameters(const std::string& inner)
{
    return R"({"resourceType":"Parameters","parameter":[)" + inner + "]}";
}

/// Two doctors of one department (Schedules a and b) and one of another (c), with $book and
/// $hold to make the bookings and $suspend; the clock stands at 08:00 (+08:00) today.
struct Hospital {
    explicit Hospital(test::Backend backend)
        : fhir(backend), clock(today8()), scheduling(fhir.server(), {}, clock)
    {
        scheduling.registerOperations(fhir.server());
        booking::addSuspension(fhir.server(), clock);
        a = schedule("李明", "394589003");
        b = schedule("王芳", "394589003");
        c = schedule("张伟", "394582007");
    }

    static std::int64_t today8()
    {
        const std::int64_t local = core::SystemClock::instance().nowMicros() + 8 * Hour;
        return local - local % Day;
    }

    std::string schedule(const std::string& doctor, const std::string& specialty)
    {
        const std::string practitioner =
            fhir.create("Practitioner",
                        R"({"resourceType":"Practitioner","name":[{"text":")" + doctor + R"("}]})");
        return fhir.create("Schedule",
                           R"({"resourceType":"Schedule","active":true,"actor":[{"reference":)"
                           R"("Practitioner/)" +
                               practitioner +
                               R"("}],"specialty":[{"coding":[{"system":"http://snomed.info/sct",)"
                               R"("code":")" +
                               specialty + R"("}]}]})");
    }

    // A Slot `offset` after 08:00 today, 15 minutes long.
    std::string slot(const std::string& scheduleId, std::int64_t offset,
                     const std::string& pool = "general", const std::string& status = "free")
    {
        const std::int64_t start = clock.nowMicros() + offset;
        return fhir.create("Slot", R"({"resourceType":"Slot","meta":{"tag":[{"system":)"
                                   R"("urn:hl7gw:slot-pool","code":")" +
                                       pool + R"("}]},"schedule":{"reference":"Schedule/)" +
                                       scheduleId + R"("},"status":")" + status + R"(","start":")" +
                                       instant(start) + R"(","end":")" +
                                       instant(start + 15 * Minute) + R"("})");
    }

    std::string patient(const std::string& id)
    {
        return fhir.create("Patient", R"({"resourceType":"Patient","identifier":[{"value":")" + id +
                                          R"("}]})");
    }

    // $book (or $hold) of a Slot of Schedule a; the Appointment's id.
    std::string take(const char* operation, const std::string& slotId, const std::string& who,
                     const std::string& channel)
    {
        const Reply reply = fhir.post(
            std::string("Appointment/$") + operation,
            parameters(R"({"name":"appointment-resource","resource":{"resourceType":"Appointment",)"
                       R"("status":"proposed","slot":[{"reference":"Slot/)" +
                       slotId + R"("}],"participant":[{"actor":{"reference":"Patient/)" + who +
                       R"("},"status":"needs-action"}]}},{"name":"channel","valueCode":")" +
                       channel + R"("})"));
        BOOST_REQUIRE_MESSAGE(reply.status == 200, reply.body);
        return reply.json["entry"][0]["resource"]["id"].GetString();
    }

    Reply suspend(const std::string& scheduleId, const std::string& period)
    {
        return fhir.post("Schedule/" + scheduleId + "/$suspend", parameters(period));
    }

    Reply resume(const std::string& scheduleId, const std::string& period)
    {
        return fhir.post("Schedule/" + scheduleId + "/$resume", parameters(period));
    }

    // Tomorrow 09:00 to 12:00, local.
    std::string morning() const
    {
        const std::int64_t from = clock.nowMicros() + Day + Hour;
        return R"({"name":"start","valueDateTime":")" + instant(from) +
               R"("},{"name":"end","valueDateTime":")" + instant(from + 3 * Hour) +
               R"("},{"name":"reason","valueString":"学术会议"})";
    }

    std::string status(const std::string& target) { return fhir.get(target).text("status"); }

    FhirFixture fhir;
    ManualClock clock;
    booking::Scheduling scheduling;
    std::string a;
    std::string b;
    std::string c;
};

// Parameters.parameter[name].valueInteger as text; "" when absent.
std::string count(const Reply& reply, const char* name)
{
    if (!reply.json.IsObject() || !reply.json.HasMember("parameter")) {
        return {};
    }
    for (const auto& p : reply.json["parameter"].GetArray()) {
        if (p["name"] == name && p.HasMember("valueInteger")) {
            return std::string(fhir::numberText(p["valueInteger"]));
        }
    }
    return {};
}

// The Communications about a patient, as a searchset.
Reply noticesOf(Hospital& hospital, const std::string& patient)
{
    Reply found = hospital.fhir.get("Communication?subject=Patient/" + patient);
    BOOST_REQUIRE_MESSAGE(found.status == 200, found.body);
    return found;
}

std::size_t entries(const Reply& reply)
{
    return reply.json.HasMember("entry") ? reply.json["entry"].Size() : 0;
}

// The Slots a notice offers (payload contentReference), in order.
std::vector<std::string> offered(const rapidjson::Value& communication)
{
    std::vector<std::string> slots;
    for (const auto& part : communication["payload"].GetArray()) {
        if (part.HasMember("contentReference")) {
            slots.push_back(part["contentReference"]["reference"].GetString());
        }
    }
    return slots;
}

std::string mediumOf(const rapidjson::Value& communication)
{
    for (const auto& c : communication["medium"][0]["coding"].GetArray()) {
        if (c["system"] == booking::NotificationChannelSystem) {
            return c["code"].GetString();
        }
    }
    return {};
}

} // namespace suspension_test

using namespace suspension_test;

BOOST_AUTO_TEST_SUITE(suspension)

BOOST_DATA_TEST_CASE(suspension_blocks_cancels_notifies_and_offers_the_department, Backends,
                     backend)
{
    Hospital hospital(backend);
    const std::string p1 = hospital.patient("MZ1");
    const std::string p2 = hospital.patient("MZ2");
    const std::string p3 = hospital.patient("MZ3");
    const std::string p4 = hospital.patient("MZ4");
    // In the period (tomorrow 09:00-12:00): two booked, one held, one free.
    const std::string s1 = hospital.slot(hospital.a, Day + Hour);
    const std::string s2 = hospital.slot(hospital.a, Day + Hour + 15 * Minute);
    const std::string s3 = hospital.slot(hospital.a, Day + Hour + 30 * Minute);
    const std::string s4 = hospital.slot(hospital.a, Day + Hour + 45 * Minute);
    const std::string booked1 = hospital.take("book", s1, p1, "wechat");
    const std::string booked2 = hospital.take("book", s2, p2, "phone");
    const std::string pending = hospital.take("hold", s3, p3, "app");
    // Outside it: 14:00 the same day.
    const std::string s5 = hospital.slot(hospital.a, Day + 6 * Hour);
    const std::string outside = hospital.take("book", s5, p4, "app");
    // What could be offered: only b's 13:00 (general) and 12:45 (wechat's own pool) qualify.
    const std::string during = hospital.slot(hospital.b, Day + 2 * Hour); // before the end
    hospital.slot(hospital.b, Day + 4 * Hour, "referral");                // not their pool
    hospital.slot(hospital.c, Day + 4 * Hour + 15 * Minute);              // another department
    const std::string forWechat =
        hospital.slot(hospital.b, Day + 4 * Hour + 45 * Minute, "channel-wechat");
    const std::string general = hospital.slot(hospital.b, Day + 5 * Hour);

    const Reply done = hospital.suspend(hospital.a, hospital.morning());
    BOOST_REQUIRE_MESSAGE(done.status == 200, done.body);
    BOOST_TEST(count(done, "slots-blocked") == "4");
    BOOST_TEST(count(done, "appointments-cancelled") == "3");
    BOOST_TEST(count(done, "patients-notified") == "3");

    for (const std::string& slot : {s1, s2, s3, s4}) {
        BOOST_TEST(hospital.status("Slot/" + slot) == "busy-unavailable", slot);
    }
    BOOST_TEST(hospital.fhir.get("Slot/" + s3).body.find("hold-expires") == std::string::npos);
    BOOST_TEST(hospital.status("Slot/" + s5) == "busy");
    BOOST_TEST(hospital.status("Slot/" + during) == "free");
    for (const std::string& id : {booked1, booked2, pending}) {
        const Reply appointment = hospital.fhir.get("Appointment/" + id);
        BOOST_TEST(appointment.text("status") == "cancelled", id);
        const auto& reason = appointment.json["cancelationReason"];
        BOOST_TEST(reason["coding"][0]["code"].GetString() == std::string("prov"));
        BOOST_TEST(reason["text"].GetString() == std::string("doctor-suspension: 学术会议"));
    }
    const Reply untouched = hospital.fhir.get("Appointment/" + outside);
    BOOST_TEST(untouched.text("status") == "booked");
    BOOST_TEST(untouched.json["meta"]["versionId"].GetString() == std::string("1"));

    // One notice per patient, through the booking's channel, offering b's Slots after 12:00.
    const Reply first = noticesOf(hospital, p1);
    BOOST_REQUIRE_EQUAL(entries(first), 1u);
    const auto& wechat = first.json["entry"][0]["resource"];
    BOOST_TEST(wechat["status"].GetString() == std::string("preparation"));
    BOOST_TEST(mediumOf(wechat) == "wechat");
    BOOST_TEST(wechat["about"][0]["reference"].GetString() == "Appointment/" + booked1);
    const std::string chinese = wechat["payload"][0]["contentString"].GetString();
    BOOST_TEST(chinese.find("停诊") != std::string::npos, chinese);
    BOOST_TEST(chinese.find("李明") != std::string::npos, chinese);
    BOOST_TEST(chinese.find("王芳") != std::string::npos, chinese); // the other doctor's Slot
    const std::string english = wechat["payload"][1]["contentString"].GetString();
    BOOST_TEST(english.find("cancelled") != std::string::npos, english);
    BOOST_TEST(
        (offered(wechat) == std::vector<std::string>{"Slot/" + forWechat, "Slot/" + general}));

    const Reply second = noticesOf(hospital, p2);
    BOOST_REQUIRE_EQUAL(entries(second), 1u);
    BOOST_TEST(mediumOf(second.json["entry"][0]["resource"]) == "sms");
    BOOST_TEST((offered(second.json["entry"][0]["resource"]) ==
                std::vector<std::string>{"Slot/" + general}));
    const Reply third = noticesOf(hospital, p3);
    BOOST_REQUIRE_EQUAL(entries(third), 1u);
    BOOST_TEST(mediumOf(third.json["entry"][0]["resource"]) == "app");
    BOOST_TEST(entries(noticesOf(hospital, p4)) == 0u);

    // Again for the same period: nothing left to change.
    const Reply again = hospital.suspend(hospital.a, hospital.morning());
    BOOST_REQUIRE_MESSAGE(again.status == 200, again.body);
    BOOST_TEST(count(again, "slots-blocked") == "0");
    BOOST_TEST(count(again, "appointments-cancelled") == "0");
    BOOST_TEST(count(again, "patients-notified") == "0");
    BOOST_TEST(entries(noticesOf(hospital, p1)) == 1u);
    BOOST_TEST(hospital.fhir.get("Appointment/" + booked1).json["meta"]["versionId"].GetString() ==
               std::string("2")); // booked, then cancelled once
}

BOOST_DATA_TEST_CASE(a_date_is_the_whole_local_day, Backends, backend)
{
    Hospital hospital(backend);
    const std::string evening = hospital.slot(hospital.a, Day + 12 * Hour); // 20:00 tomorrow
    const std::string nextDay = hospital.slot(hospital.a, 2 * Day + Hour);  // 09:00 after
    // A patient already checked in: that visit goes on.
    const std::string seen = hospital.slot(hospital.a, Day + 2 * Hour, "general", "busy");
    const std::string checkedIn = hospital.fhir.create(
        "Appointment",
        R"({"resourceType":"Appointment","status":"checked-in","slot":[{"reference":"Slot/)" +
            seen + R"("}],"start":")" + instant(hospital.clock.nowMicros() + Day + 2 * Hour) +
            R"(","end":")" + instant(hospital.clock.nowMicros() + Day + 2 * Hour + 15 * Minute) +
            R"(","participant":[{"status":"accepted","actor":{"reference":"Patient/)" +
            hospital.patient("MZ5") + R"("}}]})");
    const std::string tomorrow =
        core::formatIsoUtc(hospital.clock.nowMicros() + Day + 8 * Hour).substr(0, 10);
    const Reply done =
        hospital.suspend(hospital.a, R"({"name":"start","valueDate":")" + tomorrow +
                                         R"("},{"name":"end","valueDate":")" + tomorrow + R"("})");
    BOOST_REQUIRE_MESSAGE(done.status == 200, done.body);
    BOOST_TEST(count(done, "slots-blocked") == "1");
    BOOST_TEST(hospital.status("Slot/" + evening) == "busy-unavailable");
    BOOST_TEST(hospital.status("Slot/" + nextDay) == "free");
    BOOST_TEST(hospital.status("Slot/" + seen) == "busy");
    BOOST_TEST(hospital.status("Appointment/" + checkedIn) == "checked-in");
}

BOOST_DATA_TEST_CASE(refuses_an_unknown_schedule_and_an_empty_period, Backends, backend)
{
    Hospital hospital(backend);
    const Reply unknown = hospital.suspend("nope", hospital.morning());
    BOOST_TEST(unknown.status == 404);
    BOOST_TEST(test::issueCode(unknown) == "not-found");
    const std::string at = instant(hospital.clock.nowMicros() + Day);
    const Reply empty =
        hospital.suspend(hospital.a, R"({"name":"start","valueDateTime":")" + at +
                                         R"("},{"name":"end","valueDateTime":")" + at + R"("})");
    BOOST_TEST(empty.status == 400);
    BOOST_TEST(test::issueCode(empty) == "invalid");
    const Reply missing =
        hospital.suspend(hospital.a, R"({"name":"start","valueDateTime":")" + at + R"("})");
    BOOST_TEST(missing.status == 400);
    BOOST_TEST(test::issueCode(missing) == "required");
    const Reply tooLong =
        hospital.suspend(hospital.a, R"({"name":"start","valueDateTime":")" + at +
                                         R"("},{"name":"end","valueDateTime":")" +
                                         instant(hospital.clock.nowMicros() + 100 * Day) + R"("})");
    BOOST_TEST(tooLong.status == 400);
    BOOST_TEST(test::issueCode(tooLong) == "too-costly");
}

BOOST_DATA_TEST_CASE(resume_reopens_only_what_the_suspension_blocked, Backends, backend)
{
    Hospital hospital(backend);
    booking::FreeSlots index(hospital.fhir.server());
    index.load(hospital.clock.nowMicros());
    const std::string p1 = hospital.patient("MZ1");
    const std::string booked = hospital.slot(hospital.a, Day + Hour);
    const std::string appointment = hospital.take("book", booked, p1, "wechat");
    const std::string free = hospital.slot(hospital.a, Day + Hour + 15 * Minute);
    const std::string referral = hospital.slot(hospital.a, Day + Hour + 30 * Minute, "referral");
    // Blocked before the suspension, for another reason (a room closed): stays blocked.
    const std::string closed =
        hospital.slot(hospital.a, Day + Hour + 45 * Minute, "general", "busy-unavailable");
    // Another doctor's Slot at the same time: not theirs to reopen.
    const std::string other = hospital.slot(hospital.b, Day + Hour);

    const Reply suspended = hospital.suspend(hospital.a, hospital.morning());
    BOOST_REQUIRE_MESSAGE(suspended.status == 200, suspended.body);
    BOOST_TEST(count(suspended, "slots-blocked") == "3");
    const Reply marked = hospital.fhir.get("Slot?_tag=urn:hl7gw:slot-block%7Csuspension");
    BOOST_TEST(entries(marked) == 3u, marked.body);
    // The Provenance the HIS's channel sends as SIU^S23.
    const Reply blockedRecord =
        hospital.fhir.get("Provenance?_tag=urn:hl7gw:slot-change%7Csuspend");
    BOOST_REQUIRE_EQUAL(entries(blockedRecord), 1u);
    const auto& record = blockedRecord.json["entry"][0]["resource"];
    BOOST_TEST(record["target"][0]["reference"].GetString() == "Schedule/" + hospital.a);
    BOOST_TEST(record["target"].Size() == 4u); // the Schedule and its 3 Slots
    BOOST_TEST(record["reason"][0]["text"].GetString() == std::string("学术会议"));
    auto indexed = [&](const std::string& slot) {
        bool found = false;
        booking::FreeSlots::Query query;
        query.from = hospital.clock.nowMicros();
        query.to = hospital.clock.nowMicros() + 2 * Day;
        index.scan(query, [&](const booking::FreeSlots::Offer& offer,
                              const booking::FreeSlots::ScheduleInfo&) {
            found = found || offer.id == slot;
            return true;
        });
        return found;
    };
    BOOST_TEST(!indexed(free));

    const Reply resumed = hospital.resume(hospital.a, hospital.morning());
    BOOST_REQUIRE_MESSAGE(resumed.status == 200, resumed.body);
    BOOST_TEST(count(resumed, "slots-reopened") == "3");
    for (const std::string& slot : {booked, free, referral}) {
        const Reply opened = hospital.fhir.get("Slot/" + slot);
        BOOST_TEST(opened.text("status") == "free", slot);
        BOOST_TEST(opened.body.find("urn:hl7gw:slot-block") == std::string::npos, opened.body);
    }
    // Pool tags as they were.
    BOOST_TEST(hospital.fhir.get("Slot/" + referral).body.find("\"referral\"") !=
               std::string::npos);
    BOOST_TEST(hospital.status("Slot/" + closed) == "busy-unavailable");
    BOOST_TEST(hospital.status("Slot/" + other) == "free");
    // The patient was told: the cancellation stands.
    BOOST_TEST(hospital.status("Appointment/" + appointment) == "cancelled");
    BOOST_TEST(indexed(free));
    BOOST_TEST(indexed(booked));
    BOOST_TEST(!indexed(closed));
    BOOST_TEST(entries(hospital.fhir.get("Provenance?_tag=urn:hl7gw:slot-change%7Cresume")) == 1u);

    // Again: nothing left to reopen, and no second record.
    const Reply again = hospital.resume(hospital.a, hospital.morning());
    BOOST_REQUIRE_MESSAGE(again.status == 200, again.body);
    BOOST_TEST(count(again, "slots-reopened") == "0");
    BOOST_TEST(entries(hospital.fhir.get("Provenance?_tag=urn:hl7gw:slot-change%7Cresume")) == 1u);
    // The reopened Slot can be booked again.
    hospital.take("book", free, hospital.patient("MZ2"), "app");
    BOOST_TEST(hospital.status("Slot/" + free) == "busy");
}

BOOST_DATA_TEST_CASE(resume_leaves_slots_that_started_and_is_listed_in_metadata, Backends, backend)
{
    Hospital hospital(backend);
    const std::string early = hospital.slot(hospital.a, 30 * Minute); // 08:30 today
    const std::string late = hospital.slot(hospital.a, 3 * Hour);     // 11:00 today
    const std::string period = R"({"name":"start","valueDateTime":")" +
                               instant(hospital.clock.nowMicros()) +
                               R"("},{"name":"end","valueDateTime":")" +
                               instant(hospital.clock.nowMicros() + 4 * Hour) + R"("})";
    BOOST_REQUIRE_EQUAL(hospital.suspend(hospital.a, period).status, 200);
    hospital.clock.advance(Hour); // 09:00: the 08:30 Slot has started
    const Reply resumed = hospital.resume(hospital.a, period);
    BOOST_REQUIRE_MESSAGE(resumed.status == 200, resumed.body);
    BOOST_TEST(count(resumed, "slots-reopened") == "1");
    BOOST_TEST(hospital.status("Slot/" + early) == "busy-unavailable");
    BOOST_TEST(hospital.status("Slot/" + late) == "free");

    BOOST_TEST(hospital.resume("nope", period).status == 404);
    BOOST_TEST(
        test::issueCode(hospital.resume(hospital.a, R"({"name":"end","valueDateTime":")" +
                                                        instant(hospital.clock.nowMicros() + Hour) +
                                                        R"("})")) == "required");

    const Reply metadata = hospital.fhir.get("metadata");
    BOOST_REQUIRE_EQUAL(metadata.status, 200);
    bool listed = false;
    for (const auto& resource : metadata.json["rest"][0]["resource"].GetArray()) {
        if (resource["type"] != "Schedule" || !resource.HasMember("operation")) {
            continue;
        }
        for (const auto& operation : resource["operation"].GetArray()) {
            listed = listed || operation["name"] == "resume";
        }
    }
    BOOST_TEST(listed);
}

BOOST_AUTO_TEST_SUITE_END()
