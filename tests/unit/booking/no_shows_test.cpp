// Automatic no-shows on both backends (booking/no_shows.h).
#include "gateway/booking/no_shows.h"

#include "tests/unit/booking/booking_test_support.h"
#include "tests/unit/fhir_server/fhir_server_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace hl7gw;
using hl7gw::test::Backends;
using hl7gw::test::FhirFixture;

// Named, not anonymous: see scheduling_test.cpp (-Wsubobject-linkage).
namespace no_shows_test {

using test::Day;
using test::Hour;
using test::instant;
using test::ManualClock;
using test::Minute;

/// A patient's Appointments placed by when they ended, against one `now`.
struct Ward {
    explicit Ward(test::Backend backend) : fhir(backend), calls(fhir.server())
    {
        patient = fhir.create("Patient", R"({"resourceType":"Patient","identifier":[{"value":)"
                                         R"("MZ1"}]})");
    }

    // An Appointment of 15 minutes that ended `endedAgo` before now; `slot` names its Slot.
    std::string appointment(const std::string& status, std::int64_t endedAgo,
                            const std::string& slot = {})
    {
        const std::int64_t end = now - endedAgo;
        return fhir.create(
            "Appointment",
            R"({"resourceType":"Appointment","status":")" + status + R"(",)" +
                (slot.empty() ? std::string()
                              : R"("slot":[{"reference":"Slot/)" + slot + R"("}],)") +
                R"("start":")" + instant(end - 15 * Minute) + R"(","end":")" + instant(end) +
                R"(","participant":[{"status":"accepted","actor":{"reference":"Patient/)" +
                patient + R"("}}]})");
    }

    std::string status(const std::string& id)
    {
        return fhir.get("Appointment/" + id).text("status");
    }

    std::string version(const std::string& id)
    {
        return fhir.get("Appointment/" + id).json["meta"]["versionId"].GetString();
    }

    FhirFixture fhir;
    booking::FhirCalls calls;
    std::string patient;
    const std::int64_t now = core::SystemClock::instance().nowMicros();
};

} // namespace no_shows_test

using namespace no_shows_test;

BOOST_AUTO_TEST_SUITE(no_shows)

// A backlog is worked off `limit` at a time, so that a round (and a shutdown) stays short.
BOOST_DATA_TEST_CASE(a_backlog_is_marked_a_limited_number_per_round, Backends, backend)
{
    Ward ward(backend);
    booking::BookingConfig config;
    std::vector<std::string> late;
    for (int i = 0; i < 5; ++i) {
        late.push_back(ward.appointment("booked", (2 + i) * 60 * Minute));
    }
    BOOST_TEST(booking::markNoShows(ward.calls, ward.now, config, 2) == 2u);
    BOOST_TEST(booking::markNoShows(ward.calls, ward.now, config, 2) == 2u);
    BOOST_TEST(booking::markNoShows(ward.calls, ward.now, config, 2) == 1u);
    BOOST_TEST(booking::markNoShows(ward.calls, ward.now, config, 2) == 0u);
    for (const std::string& id : late) {
        BOOST_TEST(ward.status(id) == "noshow");
    }
}

BOOST_DATA_TEST_CASE(booked_appointments_past_the_grace_become_no_shows, Backends, backend)
{
    Ward ward(backend);
    booking::BookingConfig config;
    config.rules.lateGraceMinutes = 30;
    const std::string late = ward.appointment("booked", 40 * Minute);
    const std::string inGrace = ward.appointment("booked", 20 * Minute);
    const std::string cancelled = ward.appointment("cancelled", 3 * 60 * Minute);
    const std::string ahead = ward.appointment("booked", -24 * 60 * Minute); // tomorrow

    BOOST_TEST(booking::markNoShows(ward.calls, ward.now, config) == 1u);
    BOOST_TEST(ward.status(late) == "noshow");
    BOOST_TEST(ward.status(inGrace) == "booked");
    BOOST_TEST(ward.status(ahead) == "booked");
    BOOST_TEST(ward.status(cancelled) == "cancelled");
    BOOST_TEST(ward.version(cancelled) == "1");

    // Nothing twice; the one in grace follows once its grace is over.
    BOOST_TEST(booking::markNoShows(ward.calls, ward.now, config) == 0u);
    BOOST_TEST(booking::markNoShows(ward.calls, ward.now + 11 * Minute, config) == 1u);
    BOOST_TEST(ward.status(inGrace) == "noshow");
    BOOST_TEST(ward.version(late) == "2");
}

BOOST_DATA_TEST_CASE(a_department_grace_comes_from_the_slots_schedule, Backends, backend)
{
    Ward ward(backend);
    booking::BookingConfig config;
    config.rules.lateGraceMinutes = 30;
    booking::BookingRules longer = config.rules;
    longer.lateGraceMinutes = 60;
    config.departments["394589003"] = longer;
    const std::string schedule = ward.fhir.create(
        "Schedule",
        R"({"resourceType":"Schedule","actor":[{"reference":"Practitioner/d1"}],"specialty":)"
        R"([{"coding":[{"system":"http://snomed.info/sct","code":"394589003"}]}]})");
    const std::string slot = ward.fhir.create(
        "Slot", R"({"resourceType":"Slot","schedule":{"reference":"Schedule/)" + schedule +
                    R"("},"status":"busy","start":")" + instant(ward.now - 55 * Minute) +
                    R"(","end":")" + instant(ward.now - 40 * Minute) + R"("})");
    const std::string inDepartment = ward.appointment("booked", 40 * Minute, slot);
    const std::string hospitalRules = ward.appointment("booked", 40 * Minute);

    BOOST_TEST(booking::markNoShows(ward.calls, ward.now, config) == 1u);
    BOOST_TEST(ward.status(inDepartment) == "booked"); // 60 minutes there
    BOOST_TEST(ward.status(hospitalRules) == "noshow");
    BOOST_TEST(booking::markNoShows(ward.calls, ward.now + 21 * Minute, config) == 1u);
    BOOST_TEST(ward.status(inDepartment) == "noshow");
}

BOOST_AUTO_TEST_SUITE_END()
