// Schedule/$generate (weekly templates, quota pools) and the release of reserved pools
// (slot_generator.h), over a real FHIR server and store on both backends.
#include "gateway/booking/slot_generator.h"

#include "gateway/core/clock.h"
#include "gateway/core/errors.h"

#include "tests/unit/fhir_server/fhir_server_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace hl7gw;
using hl7gw::test::Backend;
using hl7gw::test::Backends;
using hl7gw::test::Reply;

namespace {

// Mon-Fri 08:00-12:00 in 15 min x 2 (32 numbers) and 14:00-17:30 in 30 min x 2 (14);
// Saturday 08:00-10:00 in 15 min x 1 (8). Per session (largest remainder, ties to the pool
// listed first, general last):
//   32: referral 9.6, urgent 3.2, wechat 3.2, general 16 -> 10, 3, 3, 16
//   14: 4.2, 1.4, 1.4, 7 -> 4, 2, 1, 7      8: 2.4, .8, .8, 4 -> 2, 1, 1, 4
const std::string WeekTemplate = R"({
  "days": ["mon", "tue", "wed", "thu", "fri"],
  "numbers_per_slice": 2,
  "sessions": [
    {"start": "08:00", "end": "12:00"},
    {"start": "14:00", "end": "17:30", "slice_minutes": 30},
    {"start": "08:00", "end": "10:00", "days": ["sat"], "numbers_per_slice": 1}],
  "pools": {"referral": 30, "urgent-exam": 10, "channel-wechat": 10}})";

const std::string ScheduleBody =
    R"({"resourceType":"Schedule","active":true,"actor":[{"reference":"Practitioner/d1"}],)"
    R"("serviceType":[{"coding":[{"system":"urn:example:service","code":"ct-chest"}]}],)"
    R"("specialty":[{"coding":[{"system":"http://snomed.info/sct","code":"394914008"}]}]})";

/// A FHIR server with $generate registered before it takes requests. The Schedule is created
/// in-process first, so that the configured templates can be keyed by its id.
class GeneratorFixture {
  public:
    /// `bookingConfig`: the `booking` object of the config, "SCHEDULE" standing for the id.
    explicit GeneratorFixture(Backend backend, const std::string& bookingConfig = "{}")
        : database_(backend), store_(database_.open())
    {
        server_ = std::make_unique<fhir::FhirServer>(fhir::FhirServerConfig{}, store_->resources());
        booking::FhirCalls calls(*server_);
        const booking::FhirReply created = calls.call("POST", "Schedule", ScheduleBody);
        BOOST_REQUIRE_MESSAGE(created.status == 201, "Schedule: " << created.status);
        scheduleId_ = created.body["id"].GetString();
        std::string text = bookingConfig;
        for (auto at = text.find("SCHEDULE"); at != std::string::npos; at = text.find("SCHEDULE")) {
            text.replace(at, 8, scheduleId_);
        }
        rapidjson::Document config;
        core::parseConfigText(text, "conf/gateway.json", config);
        core::ConfigReader reader(config, "conf/gateway.json", "booking");
        booking::addSlotGeneration(*server_, booking::readSlotTemplates(reader));

        console::HttpServerConfig http;
        http.listen = {"127.0.0.1", 0};
        http_ = std::make_unique<console::HttpServer>(http, *store_, metrics_, nullptr);
        http_->mountFhir(*server_);
        http_->start();
        session_ = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", http_->port());
        session_->setKeepAlive(true);
    }

    ~GeneratorFixture() { http_->stop(); }

    Reply call(const std::string& method, const std::string& path, const std::string& body = {},
               const std::string& ifMatch = {})
    {
        Poco::Net::HTTPRequest request(method, "/fhir/" + path, Poco::Net::HTTPMessage::HTTP_1_1);
        if (!body.empty()) {
            request.setContentType("application/fhir+json");
        }
        if (!ifMatch.empty()) {
            request.set("If-Match", "W/\"" + ifMatch + "\"");
        }
        request.setContentLength(static_cast<std::streamsize>(body.size()));
        session_->sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session_->receiveResponse(response);
        Reply reply;
        reply.status = response.getStatus();
        Poco::StreamCopier::copyToString(in, reply.body);
        core::Issue issue;
        if (!reply.body.empty() && reply.body.front() == '{') {
            fhir::parseJson(reply.body, reply.json, issue);
        }
        return reply;
    }

    /// $generate on `schedule` for [start, end]; `slotTemplate` empty: the configured one.
    Reply generate(const std::string& schedule, const std::string& start, const std::string& end,
                   const std::string& slotTemplate = {})
    {
        rapidjson::Document parameters(rapidjson::kObjectType);
        auto& a = parameters.GetAllocator();
        parameters.AddMember("resourceType", "Parameters", a);
        rapidjson::Value list(rapidjson::kArrayType);
        auto add = [&](const char* name, const char* type, const std::string& value) {
            rapidjson::Value p(rapidjson::kObjectType);
            p.AddMember("name", rapidjson::StringRef(name), a);
            p.AddMember(rapidjson::StringRef(type), rapidjson::Value(value.c_str(), a), a);
            list.PushBack(p, a);
        };
        add("start", "valueDate", start);
        add("end", "valueDate", end);
        if (!slotTemplate.empty()) {
            add("template", "valueString", slotTemplate);
        }
        parameters.AddMember("parameter", list, a);
        return call("POST", "Schedule/" + schedule + "/$generate", fhir::writeJson(parameters));
    }

    /// Every Slot of the Schedule (one page; the tests stay under the server's maximum).
    Reply slots()
    {
        Reply page = call("GET", "Slot?schedule=Schedule/" + scheduleId_ + "&_count=500");
        BOOST_REQUIRE_EQUAL(page.status, 200);
        for (const auto& link : page.json["link"].GetArray()) {
            BOOST_REQUIRE(std::string(link["relation"].GetString()) != "next");
        }
        return page;
    }

    fhir::FhirServer& server() { return *server_; }
    const std::string& scheduleId() const { return scheduleId_; }

  private:
    test::TestDatabase database_;
    store::MessageStorePtr store_;
    core::MetricsRegistry metrics_;
    std::unique_ptr<fhir::FhirServer> server_;
    std::unique_ptr<console::HttpServer> http_;
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
    std::string scheduleId_;
};

std::string poolOf(const rapidjson::Value& slot)
{
    const auto& tags = slot["meta"]["tag"];
    BOOST_REQUIRE_EQUAL(tags.Size(), 1u);
    BOOST_REQUIRE_EQUAL(std::string(tags[0]["system"].GetString()), booking::SlotPoolSystem);
    return tags[0]["code"].GetString();
}

/// valueInteger of a Parameters parameter, or of a part of the `pool` parameter for `pool`.
std::string count(const Reply& reply, const std::string& name, const std::string& pool = {})
{
    for (const auto& p : reply.json["parameter"].GetArray()) {
        if (pool.empty() && p["name"] == name.c_str()) {
            return std::string(fhir::numberText(p["valueInteger"]));
        }
        if (!pool.empty() && p["name"] == "pool" && p["part"][0]["valueCode"] == pool.c_str()) {
            for (const auto& part : p["part"].GetArray()) {
                if (part["name"] == name.c_str()) {
                    return std::string(fhir::numberText(part["valueInteger"]));
                }
            }
        }
    }
    return "missing";
}

std::string diagnostics(const Reply& reply)
{
    const auto& issue = reply.json["issue"][0];
    return issue.HasMember("diagnostics") ? issue["diagnostics"].GetString() : "";
}

std::int64_t micros(const std::string& text)
{
    std::int64_t value = 0;
    BOOST_REQUIRE_MESSAGE(core::parseIsoTime(text, value), text);
    return value;
}

} // namespace

BOOST_AUTO_TEST_SUITE(slot_generator)

BOOST_DATA_TEST_CASE(generates_a_week_with_the_pool_shares_per_session, Backends, backend)
{
    GeneratorFixture fhir(backend);
    const Reply generated =
        fhir.generate(fhir.scheduleId(), "2030-01-07", "2030-01-13", WeekTemplate);
    BOOST_REQUIRE_MESSAGE(generated.status == 200, generated.body);
    BOOST_TEST(count(generated, "created") == "238");
    BOOST_TEST(count(generated, "existing") == "0");
    BOOST_TEST(count(generated, "created", "general") == "119");
    BOOST_TEST(count(generated, "created", "referral") == "72");
    BOOST_TEST(count(generated, "created", "urgent-exam") == "26");
    BOOST_TEST(count(generated, "created", "channel-wechat") == "21");
    BOOST_TEST(std::string(generated.json["parameter"][3]["name"].GetString()) == "created");

    const Reply page = fhir.slots();
    BOOST_TEST(fhir::numberText(page.json["total"]) == "238");
    std::map<std::string, int> perDay;
    // "2030-01-07 08:00" session start -> pool -> numbers
    std::map<std::string, std::map<std::string, int>> perSession;
    std::set<std::string> identifiers;
    std::vector<std::string> mondayReferrals; // start times of Monday morning
    for (const auto& entry : page.json["entry"].GetArray()) {
        const auto& slot = entry["resource"];
        const std::string start = slot["start"].GetString();
        const std::string end = slot["end"].GetString();
        const std::string pool = poolOf(slot);
        BOOST_TEST(std::string(slot["status"].GetString()) == "free");
        BOOST_TEST(start.size() == 25u);
        BOOST_TEST(start.substr(19) == "+08:00");
        BOOST_TEST(std::string(slot["schedule"]["reference"].GetString()) ==
                   "Schedule/" + fhir.scheduleId());
        BOOST_TEST(std::string(slot["serviceType"][0]["coding"][0]["code"].GetString()) ==
                   "ct-chest");
        BOOST_TEST(std::string(slot["specialty"][0]["coding"][0]["code"].GetString()) ==
                   "394914008");
        const std::string day = start.substr(0, 10);
        const std::string clock = start.substr(11, 5);
        ++perDay[day];
        const bool saturday = day == "2030-01-12";
        const std::string session = clock < "13:00" ? "08:00" : "14:00";
        ++perSession[day + " " + session][pool];
        const int length = saturday || session == "08:00" ? 15 : 30;
        BOOST_TEST((micros(end) - micros(start)) / 60'000'000 == length, start);
        const std::string identifier = slot["identifier"][0]["value"].GetString();
        BOOST_TEST(std::string(slot["identifier"][0]["system"].GetString()) ==
                   booking::SlotIdentifierSystem);
        BOOST_TEST(identifier.rfind(fhir.scheduleId() + "-" + day.substr(0, 4) + day.substr(5, 2) +
                                        day.substr(8, 2) + clock.substr(0, 2) + clock.substr(3, 2) +
                                        "-",
                                    0) == 0u,
                   identifier);
        identifiers.insert(identifier);
        if (day == "2030-01-07" && session == "08:00" && pool == "referral") {
            mondayReferrals.push_back(clock);
        }
    }
    BOOST_TEST(identifiers.size() == 238u);
    for (const char* day : {"2030-01-07", "2030-01-08", "2030-01-09", "2030-01-10", "2030-01-11"}) {
        BOOST_TEST(perDay[day] == 46, day);
        const std::map<std::string, int> morning{
            {"referral", 10}, {"urgent-exam", 3}, {"channel-wechat", 3}, {"general", 16}};
        const std::map<std::string, int> afternoon{
            {"referral", 4}, {"urgent-exam", 2}, {"channel-wechat", 1}, {"general", 7}};
        BOOST_TEST((perSession[std::string(day) + " 08:00"] == morning), day);
        BOOST_TEST((perSession[std::string(day) + " 14:00"] == afternoon), day);
    }
    BOOST_TEST(perDay["2030-01-12"] == 8);
    const std::map<std::string, int> saturday{
        {"referral", 2}, {"urgent-exam", 1}, {"channel-wechat", 1}, {"general", 4}};
    BOOST_TEST((perSession["2030-01-12 08:00"] == saturday));
    BOOST_TEST(perDay.count("2030-01-13") == 0u);
    // Spread over the session, not bunched at its start.
    std::sort(mondayReferrals.begin(), mondayReferrals.end());
    BOOST_REQUIRE_EQUAL(mondayReferrals.size(), 10u);
    BOOST_TEST(mondayReferrals.front() < "08:30");
    BOOST_TEST(mondayReferrals.back() >= "11:00");
}

BOOST_DATA_TEST_CASE(a_rerun_over_the_same_days_creates_nothing_twice, Backends, backend)
{
    GeneratorFixture fhir(backend, R"({"templates": {"SCHEDULE": )" + WeekTemplate + "}}");
    const Reply first = fhir.generate(fhir.scheduleId(), "2030-01-07", "2030-01-09");
    BOOST_REQUIRE_MESSAGE(first.status == 200, first.body);
    BOOST_TEST(count(first, "created") == "138");

    const Reply again = fhir.generate(fhir.scheduleId(), "2030-01-07", "2030-01-11");
    BOOST_REQUIRE_MESSAGE(again.status == 200, again.body);
    BOOST_TEST(count(again, "created") == "92");
    BOOST_TEST(count(again, "existing") == "138");
    BOOST_TEST(count(again, "existing", "referral") == "42");
    BOOST_TEST(count(again, "created", "referral") == "28");

    const Reply page = fhir.slots();
    BOOST_TEST(fhir::numberText(page.json["total"]) == "230");
    std::set<std::string> identifiers;
    for (const auto& entry : page.json["entry"].GetArray()) {
        identifiers.insert(entry["resource"]["identifier"][0]["value"].GetString());
    }
    BOOST_TEST(identifiers.size() == 230u);

    // A third run of the whole period is all "existing", also across transaction chunks.
    const Reply third = fhir.generate(fhir.scheduleId(), "2030-01-07", "2030-01-11");
    BOOST_TEST(count(third, "created") == "0");
    BOOST_TEST(count(third, "existing") == "230");
}

BOOST_DATA_TEST_CASE(refuses_unknown_schedules_missing_templates_and_bad_parameters, Backends,
                     backend)
{
    GeneratorFixture fhir(backend);
    const Reply unknown =
        fhir.generate("no-such-schedule", "2030-01-07", "2030-01-13", WeekTemplate);
    BOOST_TEST(unknown.status == 404);
    BOOST_TEST(test::issueCode(unknown) == "not-found");

    std::string inactiveBody = ScheduleBody;
    inactiveBody.replace(inactiveBody.find("\"active\":true"), 13, "\"active\":false");
    const Reply inactive = fhir.call("POST", "Schedule", inactiveBody);
    BOOST_REQUIRE_EQUAL(inactive.status, 201);
    const Reply closed =
        fhir.generate(inactive.text("id"), "2030-01-07", "2030-01-13", WeekTemplate);
    BOOST_TEST(closed.status == 422);
    BOOST_TEST(diagnostics(closed).find("is not active") != std::string::npos);

    const Reply untemplated = fhir.generate(fhir.scheduleId(), "2030-01-07", "2030-01-13");
    BOOST_TEST(untemplated.status == 422);
    BOOST_TEST(test::issueCode(untemplated) == "business-rule");
    BOOST_TEST(diagnostics(untemplated).find("booking.templates." + fhir.scheduleId()) !=
               std::string::npos);

    const Reply backwards =
        fhir.generate(fhir.scheduleId(), "2030-01-13", "2030-01-07", WeekTemplate);
    BOOST_TEST(backwards.status == 400);
    const Reply notADate = fhir.generate(fhir.scheduleId(), "2030-01", "2030-01-07", WeekTemplate);
    BOOST_TEST(notADate.status == 400);
    BOOST_TEST(diagnostics(notADate).find("start") != std::string::npos);
    const Reply tooLong =
        fhir.generate(fhir.scheduleId(), "2030-01-01", "2030-12-31", WeekTemplate);
    BOOST_TEST(tooLong.status == 400);
    BOOST_TEST(test::issueCode(tooLong) == "too-costly");

    // The bad template's JSON path is in the answer, and nothing was written.
    std::string bad = WeekTemplate;
    bad.replace(bad.find("17:30"), 5, "25:00");
    const Reply refused = fhir.generate(fhir.scheduleId(), "2030-01-07", "2030-01-13", bad);
    BOOST_TEST(refused.status == 400);
    BOOST_TEST(test::issueCode(refused) == "value");
    BOOST_TEST(diagnostics(refused).find("template: sessions.1.end: ") != std::string::npos,
               diagnostics(refused));
    BOOST_TEST(fhir::numberText(fhir.slots().json["total"]) == "0");
}

BOOST_DATA_TEST_CASE(release_returns_only_due_free_reserved_slots_to_general, Backends, backend)
{
    GeneratorFixture fhir(backend);
    BOOST_REQUIRE_EQUAL(
        fhir.generate(fhir.scheduleId(), "2030-01-07", "2030-01-13", WeekTemplate).status, 200);
    booking::FhirCalls calls(fhir.server());

    // Monday 09:00 local: Monday's earlier Slots have started; referral (48 h) reaches to
    // Wednesday 09:00, urgent-exam (24 h) to Tuesday 09:00; channel-wechat has no rule.
    const std::int64_t now = micros("2030-01-07T09:00:00+08:00");
    const Reply before = fhir.slots();
    std::string bookedId;
    std::string editedId;
    std::map<std::string, std::string> expected; // Slot id -> pool after the release
    std::map<std::string, std::size_t> due;
    std::size_t started = 0;
    for (const auto& entry : before.json["entry"].GetArray()) {
        const auto& slot = entry["resource"];
        const std::string id = slot["id"].GetString();
        const std::string pool = poolOf(slot);
        const std::int64_t start = micros(slot["start"].GetString());
        const std::int64_t hour = 3'600'000'000;
        const bool referralDue = pool == "referral" && start >= now && start < now + 48 * hour;
        const bool urgentDue = pool == "urgent-exam" && start >= now && start < now + 24 * hour;
        started += pool == "referral" && start < now ? 1 : 0;
        if (referralDue && bookedId.empty()) {
            bookedId = id; // booked before the release: stays referral
            expected[id] = pool;
            continue;
        }
        if (referralDue && editedId.empty()) {
            editedId = id;
        }
        expected[id] = referralDue || urgentDue ? "general" : pool;
        due[pool] += referralDue || urgentDue ? 1 : 0;
    }
    BOOST_REQUIRE(!bookedId.empty() && !editedId.empty());
    BOOST_TEST(started > 0u);
    // Monday from 09:00, Tuesday, and Wednesday before 09:00: one day's worth (14), twice,
    // less the booked one; urgent-exam: one day's worth (5).
    BOOST_TEST(due["referral"] == 27u);
    BOOST_TEST(due["urgent-exam"] == 5u);

    std::string booked = fhir.call("GET", "Slot/" + bookedId).body;
    booked.replace(booked.find("\"free\""), 6, "\"busy\"");
    BOOST_REQUIRE_EQUAL(fhir.call("PUT", "Slot/" + bookedId, booked, "1").status, 200);
    // Even handed over directly, a Slot that is not free keeps its pool.
    const Reply busy = fhir.call("GET", "Slot/" + bookedId);
    BOOST_TEST((booking::releaseSlot(calls, busy.json) == booking::ReleaseOutcome::Skipped));
    BOOST_TEST(
        std::string(fhir.call("GET", "Slot/" + bookedId).json["meta"]["versionId"].GetString()) ==
        "2");

    // A copy that changed after it was found is skipped and left as it is now.
    const Reply stale = fhir.call("GET", "Slot/" + editedId);
    std::string edited = stale.body;
    edited.replace(edited.find("\"free\""), 6, "\"free\",\"comment\":\"moved room\"");
    BOOST_REQUIRE_EQUAL(fhir.call("PUT", "Slot/" + editedId, edited, "1").status, 200);
    BOOST_TEST((booking::releaseSlot(calls, stale.json) == booking::ReleaseOutcome::Skipped));
    const Reply kept = fhir.call("GET", "Slot/" + editedId);
    BOOST_TEST(poolOf(kept.json) == "referral");
    BOOST_TEST(std::string(kept.json["meta"]["versionId"].GetString()) == "2");

    const booking::ReleaseCounts counts =
        booking::releaseReservedSlots(calls, now, booking::defaultReleaseRules());
    BOOST_TEST(counts.released.at("referral") == 27u);
    BOOST_TEST(counts.released.at("urgent-exam") == 5u);
    BOOST_TEST(counts.released.count("channel-wechat") == 0u);
    BOOST_TEST(counts.skipped == 0u);
    BOOST_TEST(counts.failed == 0u);

    const Reply after = fhir.slots();
    std::size_t checked = 0;
    for (const auto& entry : after.json["entry"].GetArray()) {
        const auto& slot = entry["resource"];
        const std::string id = slot["id"].GetString();
        BOOST_TEST(poolOf(slot) == expected.at(id), id << " " << slot["start"].GetString());
        ++checked;
    }
    BOOST_TEST(checked == expected.size());
    const Reply stillBooked = fhir.call("GET", "Slot/" + bookedId);
    BOOST_TEST(std::string(stillBooked.json["status"].GetString()) == "busy");
    BOOST_TEST(poolOf(stillBooked.json) == "referral");
    BOOST_TEST(std::string(fhir.call("GET", "Slot/" + editedId).json["comment"].GetString()) ==
               "moved room");

    // Nothing left to release.
    BOOST_TEST(booking::releaseReservedSlots(calls, now, booking::defaultReleaseRules()).total() ==
               0u);
}

BOOST_AUTO_TEST_CASE(reads_a_template_with_session_defaults_and_pools_in_order)
{
    booking::SlotTemplate parsed;
    core::Issue issue;
    BOOST_REQUIRE_MESSAGE(booking::parseSlotTemplate(WeekTemplate, parsed, issue), issue.text);
    BOOST_REQUIRE_EQUAL(parsed.sessions.size(), 3u);
    BOOST_TEST(parsed.sessions[0].startMinute == 8 * 60);
    BOOST_TEST(parsed.sessions[0].endMinute == 12 * 60);
    BOOST_TEST(parsed.sessions[0].sliceMinutes == 15);
    BOOST_TEST(parsed.sessions[0].numbersPerSlice == 2);
    BOOST_TEST(parsed.sessions[0].weekdays == 0x1Fu);
    BOOST_TEST(parsed.sessions[1].sliceMinutes == 30);
    BOOST_TEST(parsed.sessions[1].endMinute == 17 * 60 + 30);
    BOOST_TEST(parsed.sessions[2].weekdays == 0x20u);
    BOOST_TEST(parsed.sessions[2].numbersPerSlice == 1);
    BOOST_TEST(parsed.offsetMinutes == 480);
    BOOST_REQUIRE_EQUAL(parsed.pools.size(), 3u);
    BOOST_TEST(parsed.pools[0].pool == "referral");
    BOOST_TEST(parsed.pools[0].percent == 30);
    BOOST_TEST(parsed.pools[2].pool == "channel-wechat");

    BOOST_REQUIRE(booking::parseSlotTemplate(
        R"({"days":["sun"],"offset":"-03:30","sessions":[{"start":"20:00","end":"24:00"}]})",
        parsed, issue));
    BOOST_TEST(parsed.offsetMinutes == -210);
    BOOST_TEST(parsed.sessions[0].endMinute == 1440);
    BOOST_TEST(parsed.sessions[0].weekdays == 0x40u);
    BOOST_TEST(parsed.pools.empty());
}

BOOST_AUTO_TEST_CASE(a_bad_template_is_an_issue_naming_its_json_path)
{
    const std::string session = R"("sessions":[{"start":"08:00","end":"12:00"}])";
    const std::vector<std::pair<std::string, std::string>> cases{
        {R"({"days":["mon","fri","xyz"],)" + session + "}", "template: days.2: 'xyz' is not a day"},
        {R"({"days":["mon"],"slice_minute":15,)" + session + "}",
         "template: slice_minute: unknown key"},
        {R"({"days":["mon"],"slice_minutes":1,)" + session + "}",
         "template: slice_minutes: must be between 5 and 240"},
        {R"({"days":["mon"],"sessions":[{"start":"08:00","end":"12:10"}]})",
         "template: sessions.0.end: 08:00-12:10 is not a whole number of 15-minute slices"},
        {R"({"days":["mon"],"sessions":[{"start":"8:00","end":"12:00"}]})",
         "template: sessions.0.start: expected a local time HH:MM"},
        {R"({"days":["mon"],"sessions":[{"start":"12:00","end":"08:00"}]})",
         "template: sessions.0.end: must be after start"},
        {R"({"days":["mon","tue"],"sessions":[{"start":"08:00","end":"12:00"},)"
         R"({"start":"11:00","end":"13:00","days":["tue"]}]})",
         "template: sessions.1.start: overlaps sessions.0 (08:00-12:00) on tue"},
        {R"({"sessions":[{"start":"08:00","end":"12:00"}]})", "template: sessions.0.days: missing"},
        {R"({"days":["mon"],"sessions":[]})", "template: sessions: missing"},
        {R"({"days":["mon"],"offset":"+8",)" + session + "}", "template: offset: expected a UTC"},
        {R"({"days":["mon"],)" + session + R"(,"pools":{"referral":60,"urgent-exam":50}})",
         "template: pools: the shares add up to 110%, over 100%"},
        {R"({"days":["mon"],)" + session + R"(,"pools":{"vip":10}})",
         "template: pools.vip: not a reserved pool"},
        {R"({"days":["mon"],)" + session + R"(,"pools":{"general":10}})",
         "template: pools.general: not a reserved pool"},
        {R"({"days":["mon"],)" + session + R"(,"pools":{"referral":"30%"}})",
         "template: pools.referral: expected an integer, found a string"},
        {R"({"days":["mon"],"sessions":[{"start":"08:00","end":"12:00","numbers":3}]})",
         "template: sessions.0.numbers: unknown key"},
        {R"({"days":["mon"] "sessions":[]})", "template:1:17: "},
        {R"([1, 2])", "template: (top level): expected an object"},
    };
    for (const auto& [json, message] : cases) {
        booking::SlotTemplate parsed;
        core::Issue issue;
        BOOST_TEST(!booking::parseSlotTemplate(json, parsed, issue), json);
        BOOST_TEST(issue.code == "value", json);
        BOOST_TEST(issue.text.rfind(message, 0) == 0u, json << " -> " << issue.text);
    }
}

BOOST_AUTO_TEST_CASE(config_templates_and_release_hours_name_their_config_path)
{
    rapidjson::Document config;
    core::parseConfigText(R"({"templates": {"s1": {"days": ["mon"], "sessions": [
                               {"start": "08:00", "end": "12:00"}]},
                               "s2": {"days": ["tue"], "sessions": [
                               {"start": "08:00", "end": "12:00", "slice_minutes": 7}]}}})",
                          "conf/gateway.json", config);
    core::ConfigReader booking(config, "conf/gateway.json", "booking");
    try {
        booking::readSlotTemplates(booking);
        BOOST_FAIL("a 7-minute slice in a 4-hour session was accepted");
    } catch (const core::ConfigError& e) {
        BOOST_TEST(
            e.message().rfind("conf/gateway.json: booking.templates.s2.sessions.0.end: ", 0) == 0u,
            e.message());
    }

    core::parseConfigText(R"({"templates": {"s1": {"days": ["mon"], "sessions": [
                               {"start": "08:00", "end": "12:00"}]}},
                               "release_hours": {"referral": 72, "channel-wechat": 2}})",
                          "conf/gateway.json", config);
    core::ConfigReader good(config, "conf/gateway.json", "booking");
    const booking::SlotTemplates templates = booking::readSlotTemplates(good);
    BOOST_TEST(templates.size() == 1u);
    BOOST_TEST(templates.at("s1").sessions.at(0).sliceMinutes == 15);
    const std::vector<booking::ReleaseRule> rules = booking::readReleaseRules(good);
    BOOST_REQUIRE_EQUAL(rules.size(), 2u);
    BOOST_TEST(rules[0].pool == "referral");
    BOOST_TEST(rules[0].leadMinutes == 72 * 60);
    BOOST_TEST(rules[1].pool == "channel-wechat");
    BOOST_TEST(rules[1].leadMinutes == 120);
    good.finish(); // both keys were marked as read

    core::parseConfigText(R"({"release_hours": {"referral": -1}})", "conf/gateway.json", config);
    core::ConfigReader negative(config, "conf/gateway.json", "booking");
    BOOST_CHECK_EXCEPTION(
        booking::readReleaseRules(negative), core::ConfigError, [](const core::ConfigError& e) {
            return e.message().rfind("conf/gateway.json: booking.release_hours.referral: ", 0) == 0;
        });
    const auto defaults = booking::defaultReleaseRules();
    BOOST_REQUIRE_EQUAL(defaults.size(), 2u);
    BOOST_TEST(defaults[0].leadMinutes == 48 * 60);
    BOOST_TEST(defaults[1].pool == "urgent-exam");
    BOOST_TEST(defaults[1].leadMinutes == 24 * 60);
}

BOOST_AUTO_TEST_SUITE_END()
