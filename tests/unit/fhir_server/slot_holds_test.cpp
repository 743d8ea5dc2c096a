// No Slot booked twice, enforced by the database whatever the write path (slot_holds.h).
#include "tests/unit/fhir_server/fhir_server_support.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <latch>
#include <string>
#include <thread>
#include <vector>

using namespace hl7gw;
using hl7gw::test::Backends;
using hl7gw::test::FhirFixture;
using hl7gw::test::Reply;

namespace {

std::string appointmentFor(const std::string& slotId, const std::string& status,
                           const std::string& who)
{
    return R"({"resourceType":"Appointment","status":")" + status +
           R"(","start":"2026-12-03T08:00:00+08:00","end":"2026-12-03T08:15:00+08:00",)"
           R"("slot":[{"reference":"Slot/)" +
           slotId + R"("}],"participant":[{"status":"accepted","actor":{"reference":"Patient/)" +
           who + R"("}}]})";
}

std::string freeSlot()
{
    return R"({"resourceType":"Slot","schedule":{"reference":"Schedule/s1"},"status":"free",)"
           R"("start":"2026-12-03T08:00:00+08:00","end":"2026-12-03T08:15:00+08:00"})";
}

int rawPost(std::uint16_t port, const std::string& body)
{
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    Poco::Net::HTTPRequest request("POST", "/fhir/Appointment", Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentType("application/fhir+json");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::string ignored;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), ignored);
    return response.getStatus();
}

} // namespace

BOOST_AUTO_TEST_SUITE(slot_holds)

BOOST_DATA_TEST_CASE(racing_bookings_of_one_slot_have_one_winner, Backends, backend)
{
    FhirFixture fhir(backend);
    const std::string slot = fhir.create("Slot", freeSlot());
    constexpr int Racers = 24;
    std::vector<int> statuses(Racers, 0);
    std::latch start(Racers);
    std::vector<std::thread> racers;
    for (int i = 0; i < Racers; ++i) {
        racers.emplace_back([&, i] {
            start.arrive_and_wait();
            statuses[static_cast<std::size_t>(i)] =
                rawPost(fhir.port(), appointmentFor(slot, "booked", "p" + std::to_string(i)));
        });
    }
    for (auto& racer : racers) {
        racer.join();
    }
    int won = 0;
    for (int status : statuses) {
        BOOST_TEST((status == 201 || status == 409), status);
        won += status == 201 ? 1 : 0;
    }
    BOOST_TEST(won == 1);
    const Reply active = fhir.get("Appointment?slot=Slot/" + slot + "&_total=accurate");
    BOOST_TEST(fhir::numberText(active.json["total"]) == "1");
}

BOOST_DATA_TEST_CASE(a_released_slot_can_be_booked_again_and_every_path_is_guarded, Backends,
                     backend)
{
    FhirFixture fhir(backend);
    const std::string slot = fhir.create("Slot", freeSlot());
    const std::string first = fhir.create("Appointment", appointmentFor(slot, "booked", "a"));

    // A second holder by POST: 409 with a readable reason.
    const Reply taken = fhir.post("Appointment", appointmentFor(slot, "pending", "b"));
    BOOST_TEST(taken.status == 409);
    BOOST_TEST(taken.body.find("号源已被占用") != std::string::npos, taken.body);
    // A proposed or cancelled Appointment holds nothing.
    BOOST_TEST(fhir.post("Appointment", appointmentFor(slot, "cancelled", "c")).status == 201);

    // By a transaction: nothing of the Bundle is applied.
    const std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient","name":[{"family":"Never"}]},
       "request":{"method":"POST","url":"Patient"}},
      {"resource":)" + appointmentFor(slot, "booked", "d") +
                               R"(,"request":{"method":"POST","url":"Appointment"}}]})";
    const Reply refused = fhir.post("", bundle);
    BOOST_TEST(refused.status == 409);
    BOOST_TEST(fhir::numberText(fhir.get("Patient?name=never&_total=accurate").json["total"]) ==
               "0");

    // Two Appointments of one transaction for the same Slot: refused together.
    const std::string twice = R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":)" + appointmentFor("other", "booked", "e") +
                              R"(,"request":{"method":"POST","url":"Appointment"}},
      {"resource":)" + appointmentFor("other", "booked", "f") +
                              R"(,"request":{"method":"POST","url":"Appointment"}}]})";
    BOOST_TEST(fhir.post("", twice).status == 409);

    // Cancelling the first releases the Slot; the next booking takes it.
    std::string cancelled = fhir.get("Appointment/" + first).body;
    cancelled.replace(cancelled.find("\"booked\""), 8, "\"cancelled\"");
    BOOST_TEST(fhir.put("Appointment/" + first, cancelled, {{"If-Match", "W/\"1\""}}).status ==
               200);
    BOOST_TEST(fhir.post("Appointment", appointmentFor(slot, "booked", "g")).status == 201);
    // ... and putting the cancelled one back is refused, since the Slot is someone else's.
    std::string again = fhir.get("Appointment/" + first).body;
    again.replace(again.find("\"cancelled\""), 11, "\"booked\"");
    BOOST_TEST(fhir.put("Appointment/" + first, again, {{"If-Match", "W/\"2\""}}).status == 409);
}

BOOST_AUTO_TEST_SUITE_END()
