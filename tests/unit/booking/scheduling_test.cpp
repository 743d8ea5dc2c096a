// $find, $hold and $book over real HTTP on both backends (booking/scheduling.h).
#include "gateway/booking/scheduling.h"

#include "tests/unit/booking/booking_test_support.h"
#include "tests/unit/fhir_server/fhir_server_support.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

using namespace hl7gw;
using hl7gw::test::Backends;
using hl7gw::test::FhirFixture;
using hl7gw::test::Reply;

// Named, not anonymous: the tests' lambdas capture these types (-Wsubobject-linkage).
namespace scheduling_test {

using test::Day;
using test::Hour;
using test::instant;
using test::ManualClock;
using test::Minute;

/// A gateway with the scheduling operations, a doctor's Schedule and Patients, and a clock
/// the test holds at 08:00 (+08:00) of a day; slots are placed relative to it.
struct Clinic {
    /// `indexed`: $find answers from a FreeSlots index once loadIndex() has run.
    explicit Clinic(test::Backend backend, booking::BookingConfig config = {}, bool indexed = false)
        : fhir(backend), clock(today8()),
          freeSlots(indexed ? std::make_unique<booking::FreeSlots>(fhir.server()) : nullptr),
          scheduling(fhir.server(), std::move(config), clock, nullptr, freeSlots.get())
    {
        scheduling.registerOperations(fhir.server());
        schedule = fhir.create(
            "Schedule",
            R"({"resourceType":"Schedule","active":true,"actor":[{"reference":"Practitioner/d1"}],)"
            R"("specialty":[{"coding":[{"system":"http://snomed.info/sct","code":"394589003"}]}]})");
        patient = fhir.create(
            "Patient",
            R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.156.10011.1.3",)"
            R"("value":"110101199003070011"}],"name":[{"text":"李雷"}]})");
    }

    // 08:00 +08:00 today: local midnight is (utc + 8 h) rounded down to a day, less 8 h, and
    // 8 h after that is the same number. Only the operations read this clock.
    static std::int64_t today8()
    {
        const std::int64_t local = core::SystemClock::instance().nowMicros() + 8 * Hour;
        return local - local % Day;
    }

    std::string slot(std::int64_t startOffset, const std::string& pool = "general",
                     const std::string& status = "free")
    {
        const std::int64_t start = clock.nowMicros() + startOffset;
        return fhir.create("Slot", R"({"resourceType":"Slot","meta":{"tag":[{"system":)"
                                   R"("urn:hl7gw:slot-pool","code":")" +
                                       pool + R"("}]},"schedule":{"reference":"Schedule/)" +
                                       schedule + R"("},"status":")" + status + R"(","start":")" +
                                       instant(start) + R"(","end":")" +
                                       instant(start + 15 * Minute) + R"("})");
    }

    static std::string parameters(const std::string& inner)
    {
        return R"({"resourceType":"Parameters","parameter":[)" + inner + "]}";
    }

    static std::string appointmentFor(const std::string& slotId, const std::string& who,
                                      const std::string& identifier = {})
    {
        return R"({"resourceType":"Appointment","status":"proposed",)" +
               (identifier.empty()
                    ? std::string()
                    : R"("identifier":[{"system":"urn:app","value":")" + identifier + R"("}],)") +
               R"("slot":[{"reference":"Slot/)" + slotId +
               R"("}],"participant":[{"actor":{"reference":")" + who +
               R"("},"status":"needs-action"},{"actor":{"reference":"Practitioner/d1"},)"
               R"("status":"needs-action"}]})";
    }

    Reply op(const std::string& name, const std::string& body)
    {
        return fhir.post("Appointment/$" + name, body);
    }

    Reply book(const std::string& slotId, const std::string& channel, const std::string& who = {},
               const std::string& identifier = {})
    {
        return op("book",
                  parameters(
                      R"({"name":"appointment-resource","resource":)" +
                      appointmentFor(slotId, who.empty() ? "Patient/" + patient : who, identifier) +
                      R"(},{"name":"channel","valueCode":")" + channel + R"("})"));
    }

    std::string slotStatus(const std::string& id) { return fhir.get("Slot/" + id).text("status"); }

    FhirFixture fhir;
    ManualClock clock;
    std::unique_ptr<booking::FreeSlots> freeSlots;
    booking::Scheduling scheduling;
    std::string schedule;
    std::string patient;
};

// One racer: POST $book over a connection of its own, sent once every racer is ready;
// the HTTP status (-1 when the exchange failed, which the race tests count as wrong).
int racingBook(std::uint16_t port, const std::string& body, std::latch& ready)
{
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest request("POST", "/fhir/Appointment/$book",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentType("application/fhir+json");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    ready.arrive_and_wait();
    try {
        session.sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::string ignored;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), ignored);
        return response.getStatus();
    } catch (const Poco::Exception&) {
        return -1;
    }
}

// How many racers booked; every other one must have been told the Slot is gone (409).
int winners(const std::vector<int>& statuses)
{
    int won = 0;
    for (int status : statuses) {
        BOOST_TEST((status == 200 || status == 409), status);
        won += status == 200 ? 1 : 0;
    }
    return won;
}

std::string firstResource(const Reply& reply, const char* member)
{
    if (!reply.json.IsObject() || !reply.json.HasMember("entry") ||
        !reply.json["entry"].IsArray() || reply.json["entry"].Empty()) {
        return {};
    }
    const auto& resource = reply.json["entry"][0]["resource"];
    return resource.HasMember(member) && resource[member].IsString() ? resource[member].GetString()
                                                                     : std::string();
}

std::string issueOf(const Reply& reply)
{
    return reply.json.IsObject() && reply.json.HasMember("issue")
               ? std::string(reply.json["issue"][0]["code"].GetString())
               : std::string();
}

} // namespace scheduling_test

using namespace scheduling_test;

BOOST_AUTO_TEST_SUITE(scheduling)

BOOST_DATA_TEST_CASE(find_offers_what_the_channel_may_take_inside_the_window, Backends, backend)
{
    Clinic clinic(backend);
    for (int i = 0; i < 3; ++i) {
        clinic.slot(Day + i * 15 * Minute);
    }
    clinic.slot(Day + 2 * Hour, "referral");
    clinic.slot(Day + 3 * Hour, "general", "busy-tentative"); // held: never offered
    clinic.slot(8 * Day, "general");                          // not open yet (7 days)
    clinic.slot(10 * Minute, "general");                      // closed (30 minutes before)
    const std::string window = R"({"name":"start","valueDateTime":")" +
                               instant(clinic.clock.nowMicros()) +
                               R"("},{"name":"end","valueDateTime":")" +
                               instant(clinic.clock.nowMicros() + 9 * Day) + R"("})";
    const Reply app =
        clinic.op("find", Clinic::parameters(window + R"(,{"name":"channel","valueCode":"app"})"));
    BOOST_REQUIRE_MESSAGE(app.status == 200, app.body);
    BOOST_TEST(fhir::numberText(app.json["total"]) == "3");
    BOOST_TEST(firstResource(app, "status") == "proposed");
    const Reply referral = clinic.op(
        "find", Clinic::parameters(window + R"(,{"name":"channel","valueCode":"referral"})"));
    BOOST_TEST(fhir::numberText(referral.json["total"]) == "4");
    // A proposed Appointment names the Schedule's doctor, ready for $hold.
    BOOST_TEST(app.body.find("Practitioner/d1") != std::string::npos);
    BOOST_TEST(
        clinic.op("find", Clinic::parameters(R"({"name":"channel","valueCode":"app"})")).status ==
        400);
}

// The in-memory index answers $find as the store search does, and follows the pool.
BOOST_DATA_TEST_CASE(find_from_the_free_slot_index_follows_every_write, Backends, backend)
{
    Clinic clinic(backend, {}, true);
    std::vector<std::string> slots;
    for (int i = 0; i < 4; ++i) {
        slots.push_back(clinic.slot(Day + i * 15 * Minute));
    }
    clinic.slot(Day + 2 * Hour, "referral");
    clinic.slot(Day + 3 * Hour, "general", "busy-tentative");
    clinic.slot(8 * Day, "general");
    const std::string window = R"({"name":"start","valueDateTime":")" +
                               instant(clinic.clock.nowMicros()) +
                               R"("},{"name":"end","valueDateTime":")" +
                               instant(clinic.clock.nowMicros() + 9 * Day) + R"("})";
    const auto find = [&](const std::string& extra) {
        return clinic.op("find", Clinic::parameters(
                                     window + R"(,{"name":"channel","valueCode":"app"})" + extra));
    };
    const Reply fromStore = find({});
    BOOST_REQUIRE_MESSAGE(fromStore.status == 200, fromStore.body);
    BOOST_TEST(!clinic.freeSlots->ready());
    clinic.freeSlots->load(clinic.clock.nowMicros());
    BOOST_REQUIRE(clinic.freeSlots->ready());
    BOOST_TEST(clinic.freeSlots->size() == 6u); // the held one is not free
    const Reply fromIndex = find({});
    BOOST_TEST(fromIndex.body == fromStore.body);
    BOOST_TEST(fhir::numberText(fromIndex.json["total"]) == "4");
    BOOST_TEST(fhir::numberText(find(R"(,{"name":"practitioner","valueReference":{"reference":)"
                                     R"("Practitioner/d1"}})")
                                    .json["total"]) == "4");
    BOOST_TEST(fhir::numberText(find(R"(,{"name":"practitioner","valueReference":{"reference":)"
                                     R"("Practitioner/nobody"}})")
                                    .json["total"]) == "0");
    BOOST_TEST(
        fhir::numberText(find(R"(,{"name":"specialty","valueCode":"394589003"})").json["total"]) ==
        "0"); // the Slots carry no specialty of their own

    // Booked: gone from the next $find at once (the commit observer), first offer moves on.
    const Reply booked = clinic.book(slots[0], "app");
    BOOST_REQUIRE_MESSAGE(booked.status == 200, booked.body);
    const Reply after = find({});
    BOOST_TEST(fhir::numberText(after.json["total"]) == "3");
    BOOST_TEST(after.body.find("Slot/" + slots[0]) == std::string::npos);
    // A Slot created afterwards is offered; one made busy by a plain PUT is not.
    clinic.slot(Day + 4 * Hour);
    Reply second = clinic.fhir.get("Slot/" + slots[1]);
    std::string busy = second.body;
    busy.replace(busy.find("\"free\""), 6, "\"busy\"");
    BOOST_REQUIRE(clinic.fhir.put("Slot/" + slots[1], busy, {{"if-match", "W/\"1\""}}).status ==
                  200);
    const Reply later = find({});
    BOOST_TEST(fhir::numberText(later.json["total"]) == "3");
    BOOST_TEST(later.body.find("Slot/" + slots[1]) == std::string::npos);
    // Cancelled by the desk: offered again.
    const std::string id = firstResource(booked, "id");
    const Reply cancelled = clinic.op(
        "book",
        Clinic::parameters(R"({"name":"appointment-resource","resource":{"resourceType":)"
                           R"("Appointment","id":")" +
                           id + R"(","status":"cancelled","slot":[{"reference":"Slot/)" + slots[0] +
                           R"("}],"participant":[{"status":"accepted","actor":)"
                           R"({"reference":"Patient/)" +
                           clinic.patient + R"("}}]}},{"name":"channel","valueCode":"clinic"})"));
    BOOST_REQUIRE_MESSAGE(cancelled.status == 200, cancelled.body);
    BOOST_TEST(find({}).body.find("Slot/" + slots[0]) != std::string::npos);
}

BOOST_DATA_TEST_CASE(hold_then_book_and_the_slot_follows, Backends, backend)
{
    Clinic clinic(backend);
    const std::string slot = clinic.slot(Day);
    const std::string hold =
        Clinic::parameters(R"({"name":"appointment-resource","resource":)" +
                           Clinic::appointmentFor(slot, "Patient/" + clinic.patient, "APP-1") +
                           R"(},{"name":"channel","valueCode":"wechat"})");
    const Reply held = clinic.op("hold", hold);
    BOOST_REQUIRE_MESSAGE(held.status == 200, held.body);
    BOOST_TEST(firstResource(held, "status") == "pending");
    BOOST_TEST(clinic.slotStatus(slot) == "busy-tentative");
    const std::string id = firstResource(held, "id");

    // Someone else cannot hold it meanwhile: 409 with the profile's not-found outcome.
    const std::string other = clinic.fhir.create(
        "Patient", R"({"resourceType":"Patient","identifier":[{"value":"MZ9"}]})");
    const Reply refused =
        clinic.op("hold", Clinic::parameters(R"({"name":"appointment-resource","resource":)" +
                                             Clinic::appointmentFor(slot, "Patient/" + other) +
                                             R"(},{"name":"channel","valueCode":"app"})"));
    BOOST_TEST(refused.status == 409);
    BOOST_TEST(refused.body.find("not-found") != std::string::npos, refused.body);

    // The same hold again (a retry): the first result.
    BOOST_TEST(firstResource(clinic.op("hold", hold), "id") == id);

    const std::string byReference = Clinic::parameters(
        R"({"name":"appointment-reference","valueReference":{"reference":"Appointment/)" + id +
        R"("}},{"name":"channel","valueCode":"wechat"})");
    const Reply booked = clinic.op("book", byReference);
    BOOST_REQUIRE_MESSAGE(booked.status == 200, booked.body);
    BOOST_TEST(firstResource(booked, "status") == "booked");
    BOOST_TEST(clinic.slotStatus(slot) == "busy");
    BOOST_TEST(clinic.op("book", byReference).status == 200); // again: the same booking
    BOOST_TEST(clinic.fhir.get("Appointment/" + id).json["meta"]["versionId"].GetString() ==
               std::string("2"));
}

BOOST_DATA_TEST_CASE(racing_books_of_one_slot_from_many_channels_have_one_winner, Backends, backend)
{
    Clinic clinic(backend);
    const std::string slot = clinic.slot(Day);
    constexpr int Racers = 16;
    const char* channels[] = {"app", "wechat", "alipay", "kiosk"};
    std::vector<std::string> patients;
    for (int i = 0; i < Racers; ++i) {
        patients.push_back(
            clinic.fhir.create("Patient", R"({"resourceType":"Patient","identifier":[{"value":"R)" +
                                              std::to_string(i) + R"("}]})"));
    }
    std::vector<int> statuses(Racers, 0);
    std::latch start(Racers);
    std::vector<std::thread> racers;
    for (int i = 0; i < Racers; ++i) {
        racers.emplace_back([&, i] {
            const std::string body = Clinic::parameters(
                R"({"name":"appointment-resource","resource":)" +
                Clinic::appointmentFor(slot, "Patient/" + patients[static_cast<std::size_t>(i)]) +
                R"(},{"name":"channel","valueCode":")" + channels[i % 4] + R"("})");
            statuses[static_cast<std::size_t>(i)] = racingBook(clinic.fhir.port(), body, start);
        });
    }
    for (auto& racer : racers) {
        racer.join();
    }
    BOOST_TEST(winners(statuses) == 1);
    BOOST_TEST(clinic.slotStatus(slot) == "busy");
    const Reply booked = clinic.fhir.get("Appointment?slot=Slot/" + slot + "&status=booked");
    BOOST_TEST(booked.json["entry"].Size() == 1u);
}

// Two gateway nodes on one PostgreSQL, each with its own store (writer, readers, no shared
// memory), its FHIR server and its HTTP port: racing $book of one Slot through both has one
// winner, and the database alone decides it.
BOOST_AUTO_TEST_CASE(two_nodes_on_one_postgresql_book_a_slot_once)
{
    test::TestDatabase database(test::Backend::Postgresql);
    struct Node {
        explicit Node(const test::TestDatabase& db)
            : store(db.open()), server({}, store->resources()),
              scheduling(server, {}, core::SystemClock::instance())
        {
            scheduling.registerOperations(server);
            console::HttpServerConfig config;
            config.listen = {"127.0.0.1", 0};
            http = std::make_unique<console::HttpServer>(config, *store, metrics, nullptr);
            http->mountFhir(server);
            http->start();
        }
        ~Node() { http->stop(); }
        store::MessageStorePtr store;
        core::MetricsRegistry metrics;
        fhir::FhirServer server;
        booking::Scheduling scheduling;
        std::unique_ptr<console::HttpServer> http;
    };
    Node a(database);
    Node b(database);
    booking::FhirCalls calls(a.server);
    const std::int64_t start = core::SystemClock::instance().nowMicros() + Day;
    const booking::FhirReply slot = calls.call(
        "POST", "Slot",
        R"({"resourceType":"Slot","status":"free","schedule":{"reference":"Schedule/s"},"start":")" +
            instant(start) + R"(","end":")" + instant(start + 15 * Minute) + R"("})");
    BOOST_REQUIRE(slot.ok());
    const std::string slotId = slot.body["id"].GetString();
    constexpr int Racers = 100;
    std::vector<std::string> patients;
    for (int i = 0; i < Racers; ++i) {
        const booking::FhirReply p =
            calls.call("POST", "Patient",
                       R"({"resourceType":"Patient","identifier":[{"value":"N)" +
                           std::to_string(i) + R"("}]})");
        BOOST_REQUIRE_MESSAGE(p.ok(), "Patient create: " << p.status);
        patients.push_back(p.body["id"].GetString());
    }
    const char* channels[] = {"app", "wechat", "alipay", "kiosk", "phone"};
    std::vector<int> statuses(Racers, 0);
    std::latch go(Racers);
    std::vector<std::thread> racers;
    for (int i = 0; i < Racers; ++i) {
        racers.emplace_back([&, i] {
            const std::string body = Clinic::parameters(
                R"({"name":"appointment-resource","resource":)" +
                Clinic::appointmentFor(slotId, "Patient/" + patients[static_cast<std::size_t>(i)]) +
                R"(},{"name":"channel","valueCode":")" + channels[i % 5] + R"("})");
            statuses[static_cast<std::size_t>(i)] =
                racingBook((i % 2 == 0 ? a : b).http->port(), body, go);
        });
    }
    for (auto& racer : racers) {
        racer.join();
    }
    BOOST_TEST(winners(statuses) == 1);
    const booking::FhirReply holders =
        booking::FhirCalls(b.server).get("Appointment?slot=Slot/" + slotId + "&_total=accurate");
    BOOST_REQUIRE_MESSAGE(holders.ok(), "search: " << holders.status);
    BOOST_TEST(fhir::numberText(holders.body["total"]) == "1");
}

// Another node's booking reaches this node's index on its next tick.
BOOST_AUTO_TEST_CASE(the_free_slot_index_reads_other_nodes_changes_on_a_shared_postgresql)
{
    test::TestDatabase database(test::Backend::Postgresql);
    store::MessageStorePtr storeA = database.open();
    store::MessageStorePtr storeB = database.open();
    fhir::FhirServer a({}, storeA->resources());
    fhir::FhirServer b({}, storeB->resources());
    booking::FreeSlots index(a);
    booking::FhirCalls callsA(a);
    booking::FhirCalls callsB(b);
    const std::int64_t now = core::SystemClock::instance().nowMicros();
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        const booking::FhirReply slot = callsA.call(
            "POST", "Slot",
            R"({"resourceType":"Slot","status":"free","schedule":{"reference":"Schedule/s"},)"
            R"("start":")" +
                instant(now + Day + i * 15 * Minute) + R"(","end":")" +
                instant(now + Day + (i + 1) * 15 * Minute) + R"("})");
        BOOST_REQUIRE(slot.ok());
        ids.push_back(slot.body["id"].GetString());
    }
    index.load(now);
    BOOST_TEST(index.size() == 3u);
    // Node B takes one; A's index cannot know until it reads.
    booking::FhirReply taken = callsB.get("Slot/" + ids[1]);
    taken.body["status"].SetString("busy", taken.body.GetAllocator());
    BOOST_REQUIRE(callsB.call("PUT", "Slot/" + ids[1], fhir::writeJson(taken.body), "1").ok());
    BOOST_TEST(index.size() == 3u);
    BOOST_TEST(index.tick(core::SystemClock::instance().nowMicros(), true) > 0u);
    BOOST_TEST(index.size() == 2u);
    std::vector<std::string> offered;
    booking::FreeSlots::Query query;
    query.from = now;
    query.to = now + 2 * Day;
    index.scan(query, [&](const booking::FreeSlots::Offer& offer, const auto&) {
        offered.push_back(offer.id);
        return true;
    });
    BOOST_TEST(offered == (std::vector<std::string>{ids[0], ids[2]}));
    // A's own later change of the same Slot (version 3) wins over B's version 2 read again.
    booking::FhirReply freed = callsA.get("Slot/" + ids[1]);
    freed.body["status"].SetString("free", freed.body.GetAllocator());
    BOOST_REQUIRE(callsA.call("PUT", "Slot/" + ids[1], fhir::writeJson(freed.body), "2").ok());
    index.tick(core::SystemClock::instance().nowMicros(), true);
    BOOST_TEST(index.size() == 3u);
}

BOOST_DATA_TEST_CASE(the_hospital_rules_refuse_with_a_reason, Backends, backend)
{
    Clinic clinic(backend);
    // Real name: a patient without any identifier.
    const std::string anonymous =
        clinic.fhir.create("Patient", R"({"resourceType":"Patient","name":[{"text":"匿名"}]})");
    const Reply unnamed = clinic.book(clinic.slot(Day), "app", "Patient/" + anonymous);
    BOOST_TEST(unnamed.status == 422);
    BOOST_TEST(issueOf(unnamed) == "business-rule");
    BOOST_TEST(unnamed.body.find("实名制") != std::string::npos, unnamed.body);

    // One booking per doctor per day: the second slot of the same day is refused.
    BOOST_TEST(clinic.book(clinic.slot(Day + Hour), "app").status == 200);
    const Reply again = clinic.book(clinic.slot(Day + 2 * Hour), "app");
    BOOST_TEST(again.status == 422);
    BOOST_TEST(again.body.find("per doctor per day") != std::string::npos, again.body);
    // ... another day is fine.
    BOOST_TEST(clinic.book(clinic.slot(2 * Day), "app").status == 200);

    // A reserved pool: referral slots are not for the app, but for referrals.
    const std::string reserved = clinic.slot(3 * Day, "referral");
    BOOST_TEST(clinic.book(reserved, "app").status == 422);
    BOOST_TEST(clinic.book(reserved, "referral").status == 200);
}

BOOST_DATA_TEST_CASE(no_shows_block_online_channels_only, Backends, backend)
{
    Clinic clinic(backend);
    for (int i = 1; i <= 3; ++i) {
        const std::int64_t start = clinic.clock.nowMicros() - i * 7 * Day;
        clinic.fhir.create(
            "Appointment",
            R"({"resourceType":"Appointment","status":"noshow","start":")" + instant(start) +
                R"(","end":")" + instant(start + 15 * Minute) +
                R"(","participant":[{"status":"accepted","actor":{"reference":"Patient/)" +
                clinic.patient + R"("}}]})");
    }
    const Reply online = clinic.book(clinic.slot(Day), "wechat");
    BOOST_TEST(online.status == 422);
    BOOST_TEST(online.body.find("爽约") != std::string::npos, online.body);
    BOOST_TEST(clinic.book(clinic.slot(2 * Day), "clinic").status == 200);
}

BOOST_DATA_TEST_CASE(cancellation_frees_the_slot_but_not_after_the_deadline, Backends, backend)
{
    Clinic clinic(backend);
    const std::string soon = clinic.slot(10 * Hour); // inside the 24 h deadline
    const Reply booked = clinic.book(soon, "app");
    BOOST_REQUIRE_MESSAGE(booked.status == 200, booked.body);
    const std::string id = firstResource(booked, "id");
    auto cancel = [&](const std::string& channel) {
        return clinic.op(
            "book",
            Clinic::parameters(R"({"name":"appointment-resource","resource":{"resourceType":)"
                               R"("Appointment","id":")" +
                               id + R"(","status":"cancelled","slot":[{"reference":"Slot/)" + soon +
                               R"("}],"participant":[{"status":"accepted","actor":)"
                               R"({"reference":"Patient/)" +
                               clinic.patient + R"("}}]}},{"name":"channel","valueCode":")" +
                               channel + R"("})"));
    };
    const Reply late = cancel("app");
    BOOST_TEST(late.status == 422);
    BOOST_TEST(clinic.slotStatus(soon) == "busy");
    const Reply desk = cancel("clinic"); // the desk may
    BOOST_REQUIRE_MESSAGE(desk.status == 200, desk.body);
    BOOST_TEST(firstResource(desk, "status") == "cancelled");
    BOOST_TEST(clinic.slotStatus(soon) == "free");
    // The freed Slot is bookable again.
    BOOST_TEST(clinic.book(soon, "clinic").status == 200);
}

BOOST_DATA_TEST_CASE(expired_holds_give_their_slot_back, Backends, backend)
{
    booking::BookingConfig config;
    config.holdSeconds = 60;
    Clinic clinic(backend, config);
    const std::string slot = clinic.slot(Day);
    const Reply held = clinic.op(
        "hold", Clinic::parameters(R"({"name":"appointment-resource","resource":)" +
                                   Clinic::appointmentFor(slot, "Patient/" + clinic.patient) +
                                   R"(},{"name":"channel","valueCode":"app"})"));
    BOOST_REQUIRE_MESSAGE(held.status == 200, held.body);
    const std::string id = firstResource(held, "id");
    BOOST_TEST(clinic.scheduling.releaseExpiredHolds(clinic.clock.nowMicros()) == 0u);
    clinic.clock.advance(61'000'000);
    BOOST_TEST(clinic.scheduling.releaseExpiredHolds(clinic.clock.nowMicros()) == 1u);
    BOOST_TEST(clinic.slotStatus(slot) == "free");
    BOOST_TEST(clinic.fhir.get("Appointment/" + id).text("status") == "cancelled");

    // A hold that ran out is taken over by the next $hold even before the sweep.
    const std::string second = clinic.slot(2 * Day);
    BOOST_TEST(clinic
                   .op("hold", Clinic::parameters(
                                   R"({"name":"appointment-resource","resource":)" +
                                   Clinic::appointmentFor(second, "Patient/" + clinic.patient) +
                                   R"(},{"name":"channel","valueCode":"app"})"))
                   .status == 200);
    clinic.clock.advance(61'000'000);
    const std::string other = clinic.fhir.create(
        "Patient", R"({"resourceType":"Patient","identifier":[{"value":"MZ7"}]})");
    const Reply takeover =
        clinic.op("hold", Clinic::parameters(R"({"name":"appointment-resource","resource":)" +
                                             Clinic::appointmentFor(second, "Patient/" + other) +
                                             R"(},{"name":"channel","valueCode":"app"})"));
    BOOST_TEST(takeover.status == 200, takeover.body);
}

// The KPIs (issue 7 deliverable 7): what $booking-stats reports per channel and department.
BOOST_DATA_TEST_CASE(booking_stats_report_per_channel_and_department, Backends, backend)
{
    core::MetricsRegistry metrics;
    test::FhirFixture fhir(backend);
    ManualClock clock(Clinic::today8());
    booking::Scheduling scheduling(fhir.server(), {}, clock, &metrics);
    scheduling.registerOperations(fhir.server());
    const std::string schedule = fhir.create(
        "Schedule",
        R"({"resourceType":"Schedule","actor":[{"reference":"Practitioner/d1"}],)"
        R"("specialty":[{"coding":[{"system":"http://snomed.info/sct","code":"394589003"}]}]})");
    const std::string patient =
        fhir.create("Patient", R"({"resourceType":"Patient","identifier":[{"value":"S1"}]})");
    const std::string anonymous = fhir.create("Patient", R"({"resourceType":"Patient"})");
    auto slotAt = [&](std::int64_t offset) {
        const std::int64_t start = clock.nowMicros() + offset;
        return fhir.create("Slot", R"({"resourceType":"Slot","schedule":{"reference":"Schedule/)" +
                                       schedule + R"("},"status":"free","start":")" +
                                       instant(start) + R"(","end":")" +
                                       instant(start + 15 * Minute) + R"("})");
    };
    auto book = [&](const std::string& slot, const std::string& who, const char* channel) {
        return fhir.post("Appointment/$book",
                         Clinic::parameters(R"({"name":"appointment-resource","resource":)" +
                                            Clinic::appointmentFor(slot, "Patient/" + who) +
                                            R"(},{"name":"channel","valueCode":")" + channel +
                                            R"("})"));
    };
    const std::string first = slotAt(2 * Day);
    const Reply kept = book(first, patient, "app");
    BOOST_REQUIRE_MESSAGE(kept.status == 200, kept.body);
    const std::string second = slotAt(3 * Day);
    const Reply dropped = book(second, patient, "app");
    BOOST_REQUIRE_MESSAGE(dropped.status == 200, dropped.body);
    const std::string droppedId = firstResource(dropped, "id");
    BOOST_TEST(
        fhir.post("Appointment/$book",
                  Clinic::parameters(
                      R"({"name":"appointment-resource","resource":{"resourceType":)"
                      R"("Appointment","id":")" +
                      droppedId + R"(","status":"cancelled","slot":[{"reference":"Slot/)" + second +
                      R"("}],"participant":[{"status":"accepted","actor":)"
                      R"({"reference":"Patient/)" +
                      patient + R"("}}]}},{"name":"channel","valueCode":"app"})"))
            .status == 200);
    BOOST_TEST(book(slotAt(4 * Day), anonymous, "app").status == 422); // real name
    slotAt(5 * Day);                                                   // stays free

    const Reply report = fhir.get("$booking-stats");
    BOOST_REQUIRE_MESSAGE(report.status == 200, report.body);
    auto part = [](const rapidjson::Value& parameter, const char* name) -> std::string {
        for (const auto& p : parameter["part"].GetArray()) {
            if (std::string(p["name"].GetString()) != name) {
                continue;
            }
            for (const auto& m : p.GetObject()) {
                if (std::string(m.name.GetString()).rfind("value", 0) == 0) {
                    // Numbers are strings with a mark (fhir/model/json_io.h).
                    return fhir::isNumber(m.value) ? std::string(fhir::numberText(m.value))
                           : m.value.IsString()    ? std::string(m.value.GetString())
                                                   : std::string();
                }
            }
        }
        return {};
    };
    bool group = false;
    bool refusal = false;
    bool utilisation = false;
    for (const auto& p : report.json["parameter"].GetArray()) {
        const std::string name = p["name"].GetString();
        if (name == "group" && part(p, "channel") == "app") {
            group = true;
            BOOST_TEST(part(p, "department") == "394589003");
            BOOST_TEST(part(p, "booked") == "1");
            BOOST_TEST(part(p, "cancelled") == "1");
            BOOST_TEST(part(p, "refused") == "1");
            BOOST_TEST(part(p, "cancellation-rate") == "0.500");
            BOOST_TEST(part(p, "success-rate") == "0.667"); // 2 of 3 $book attempts booked
        } else if (name == "refusal") {
            refusal = true;
            BOOST_TEST(part(p, "reason") == "real-name");
            BOOST_TEST(part(p, "count") == "1");
        } else if (name == "utilisation") {
            utilisation = true;
            BOOST_TEST(part(p, "slots") == "4"); // the cancelled one's Slot is free again
            BOOST_TEST(part(p, "busy") == "1");
        }
    }
    BOOST_TEST(group);
    BOOST_TEST(refusal);
    BOOST_TEST(utilisation);
    // The same figures on /metrics.
    const std::string text = metrics.render();
    BOOST_TEST(text.find("hl7gw_booking_refusals_total{channel=\"app\",department=\"394589003\","
                         "reason=\"real-name\"} 1") != std::string::npos,
               text);
}

BOOST_AUTO_TEST_SUITE_END()
