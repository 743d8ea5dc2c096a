// $book on a Slot of a HIS that only takes requests (booking/his_requests.h, STANDARDS.md
// §4.5): SRM^S01 / SRM^S04 to a test HIS over real MLLP on 127.0.0.1, the SRR decides.
// Over real HTTP on both backends, with the repository's appointment-srm map and
// his-requests dialect.
#include "gateway/booking/his_requests.h"

#include "gateway/booking/fhir_calls.h"
#include "gateway/booking/scheduling.h"

#include "tests/unit/booking/booking_test_support.h"
#include "tests/unit/fhir_server/fhir_server_support.h"

#include "gateway/transport/mllp.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace hl7gw;
using hl7gw::test::Backends;
using hl7gw::test::FhirFixture;
using hl7gw::test::Reply;

// Named, not anonymous: see scheduling_test.cpp (-Wsubobject-linkage).
namespace his_requests_test {

using test::Day;
using test::Hour;
using test::instant;
using test::ManualClock;
using test::Minute;

const std::string Repository = std::string(HL7GW_TEST_DATA_DIR) + "/../..";

/// A partner HIS that owns its schedule: it answers each SRM with an SRR as `mode` says.
class TestHis {
  public:
    enum class Mode { Book, Refuse, Silent, Wait, Pending };

    TestHis()
        : server_(transport::MllpListenerConfig{"his", {"127.0.0.1", 0}, std::nullopt},
                  [this](std::string_view message, const transport::ConnectionInfo&) {
                      return answer(std::string(message));
                  })
    {
        server_.start();
    }
    ~TestHis()
    {
        release_ = true;
        server_.stop();
    }

    std::uint16_t port() const { return server_.port(); }
    std::vector<std::string> received()
    {
        std::lock_guard lock(mutex_);
        return received_;
    }
    std::atomic<Mode> mode{Mode::Book};
    std::atomic<bool> release_{false};

  private:
    static std::string field(const std::string& message, const std::string& segment, int n)
    {
        const auto at = message.find(segment == "MSH" ? "MSH|" : "\r" + segment + "|");
        if (at == std::string::npos) {
            return {};
        }
        const std::string line = message.substr(at + (segment == "MSH" ? 0 : 1));
        std::size_t start = 0;
        // MSH-1 is the separator itself: MSH-10 is the 9th bar's field.
        for (int i = 0; i < (segment == "MSH" ? n - 1 : n); ++i) {
            start = line.find('|', start);
            if (start == std::string::npos || start > line.find('\r')) {
                return {};
            }
            ++start;
        }
        return line.substr(start, std::min(line.find('|', start), line.find('\r', start)) - start);
    }

    std::string answer(const std::string& message)
    {
        {
            std::lock_guard lock(mutex_);
            received_.push_back(message);
        }
        const std::string control = field(message, "MSH", 10);
        const std::string event = field(message, "MSH", 9).substr(4, 3);
        const std::string header = "MSH|^~\\&|HIS|PARTNER|HL7GW||20301202080000+0800||SRR^" +
                                   event + "^SRR_S01|R" + control + "|P|2.5.1\r";
        const Mode now = mode.load();
        if (now == Mode::Silent) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        }
        if (now == Mode::Wait) {
            for (int i = 0; i < 1000 && !release_; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        }
        if (now == Mode::Refuse) {
            return header + "MSA|AE|" + control +
                   "\rERR||ARQ^1|205^Duplicate key identifier^HL70357|E||||该时段已约满\r";
        }
        const std::string status =
            event == "S04" ? "Cancelled" : (now == Mode::Pending ? "Pending" : "Booked");
        return header + "MSA|AA|" + control + "\rSCH||YY2030-001^HIS^2.16.156.10011.1.11^ISO" +
               std::string(23, '|') + status + "\r";
    }

    std::mutex mutex_;
    std::vector<std::string> received_;
    transport::MllpServer server_;
};

booking::BookingConfig configFor(std::uint16_t port, const std::string& extra = {},
                                 int answerTimeoutMs = 300)
{
    rapidjson::Document d;
    core::parseConfigText(
        R"({"booking": {"his_requests": [{"name": "partner-his", "departments": ["XNK"],
            "to": "mllp://127.0.0.1:)" +
            std::to_string(port) + R"(", "connect_timeout_ms": 1000, "answer_timeout_ms": )" +
            std::to_string(answerTimeoutMs) + R"(,
            "dialect": "his-requests", "mappings_dir": ")" +
            Repository + R"(/mappings", "adapters_dir": ")" + Repository + R"(/adapters")" + extra +
            "}]}}",
        "gateway.json", d);
    core::ConfigReader root = core::ConfigReader::root(d, "gateway.json");
    std::optional<core::ConfigReader> booking = root.object("booking");
    booking::BookingConfig config = booking::readBookingConfig(*booking);
    booking->finish();
    return config;
}

/// The partner's cardiology (XNK, the HIS's) and the pool's own dermatology (PFK), a patient,
/// the clock at 08:00 (+08:00) today.
struct Partner {
    explicit Partner(test::Backend backend, int answerTimeoutMs = 300)
        : fhir(backend), clock(today8()),
          scheduling(fhir.server(), configFor(his.port(), {}, answerTimeoutMs), clock)
    {
        scheduling.registerOperations(fhir.server());
        const std::string doctor =
            fhir.create("Practitioner", R"({"resourceType":"Practitioner","identifier":[{"system":)"
                                        R"("urn:oid:2.16.156.10011.1.11","value":"D0815"}],)"
                                        R"("name":[{"family":"赵","given":["强"]}]})");
        cardiology = schedule(doctor, "XNK");
        dermatology = schedule(doctor, "PFK");
        patient = fhir.create(
            "Patient",
            R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.156.10011.1.3",)"
            R"("value":"110106196203142022"}],"name":[{"family":"黄","given":["淑芬"]}]})");
    }

    static std::int64_t today8()
    {
        const std::int64_t local = core::SystemClock::instance().nowMicros() + 8 * Hour;
        return local - local % Day;
    }

    std::string schedule(const std::string& doctor, const std::string& department)
    {
        return fhir.create(
            "Schedule", R"({"resourceType":"Schedule","active":true,"identifier":[{"value":"PB-)" +
                            department + R"("}],"actor":[{"reference":"Practitioner/)" + doctor +
                            R"("}],"specialty":[{"coding":[{"code":")" + department + R"("}]}]})");
    }

    std::string slot(const std::string& scheduleId, std::int64_t offset)
    {
        const std::int64_t start = clock.nowMicros() + offset;
        return fhir.create("Slot", R"({"resourceType":"Slot","schedule":{"reference":"Schedule/)" +
                                       scheduleId + R"("},"status":"free","start":")" +
                                       instant(start) + R"(","end":")" +
                                       instant(start + 15 * Minute) + R"("})");
    }

    static std::string parameters(const std::string& inner)
    {
        return R"({"resourceType":"Parameters","parameter":[)" + inner + "]}";
    }

    Reply book(const std::string& slotId, const std::string& who, const std::string& channel)
    {
        return fhir.post(
            "Appointment/$book",
            parameters(R"({"name":"appointment-resource","resource":{"resourceType":"Appointment",)"
                       R"("status":"proposed","slot":[{"reference":"Slot/)" +
                       slotId + R"("}],"participant":[{"actor":{"reference":"Patient/)" + who +
                       R"("},"status":"needs-action"}]}},{"name":"channel","valueCode":")" +
                       channel + R"("})"));
    }

    Reply cancel(const std::string& appointmentId, const std::string& slotId)
    {
        return fhir.post(
            "Appointment/$book",
            parameters(R"({"name":"appointment-resource","resource":{"resourceType":"Appointment",)"
                       R"("id":")" +
                       appointmentId + R"(","status":"cancelled","slot":[{"reference":"Slot/)" +
                       slotId + R"("}],"participant":[{"actor":{"reference":"Patient/)" + patient +
                       R"("},"status":"accepted"}]}},{"name":"channel","valueCode":"clinic"})"));
    }

    std::string status(const std::string& target) { return fhir.get(target).text("status"); }

    TestHis his;
    FhirFixture fhir;
    ManualClock clock;
    booking::Scheduling scheduling;
    std::string cardiology;
    std::string dermatology;
    std::string patient;
};

std::string diagnostics(const Reply& reply)
{
    if (!reply.json.IsObject() || !reply.json.HasMember("issue")) {
        return {};
    }
    return reply.json["issue"][0]["diagnostics"].GetString();
}

// The Appointments of the patient in a status ("cancelled").
std::vector<std::string> appointmentsIn(Partner& partner, const std::string& status)
{
    const Reply found =
        partner.fhir.get("Appointment?patient=Patient/" + partner.patient + "&status=" + status);
    std::vector<std::string> ids;
    if (found.json.HasMember("entry")) {
        for (const auto& e : found.json["entry"].GetArray()) {
            ids.push_back(e["resource"]["id"].GetString());
        }
    }
    return ids;
}

} // namespace his_requests_test

using namespace his_requests_test;

BOOST_AUTO_TEST_SUITE(his_requests)

BOOST_DATA_TEST_CASE(a_booking_waits_for_the_srr_and_keeps_the_his_number, Backends, backend)
{
    Partner partner(backend);
    const std::string slot = partner.slot(partner.cardiology, Day + Hour);
    const Reply booked = partner.book(slot, partner.patient, "referral");
    BOOST_REQUIRE_MESSAGE(booked.status == 200, booked.body);
    const auto& appointment = booked.json["entry"][0]["resource"];
    BOOST_TEST(appointment["status"].GetString() == std::string("booked"));
    BOOST_TEST(partner.status("Slot/" + slot) == "busy");
    bool filler = false;
    for (const auto& identifier : appointment["identifier"].GetArray()) {
        filler = filler || (identifier["value"] == "YY2030-001" &&
                            identifier["system"] == "urn:oid:2.16.156.10011.1.11" &&
                            identifier["type"]["coding"][0]["code"] == "FILL");
    }
    BOOST_TEST(filler, booked.body);

    const std::vector<std::string> sent = partner.his.received();
    BOOST_REQUIRE_EQUAL(sent.size(), 1u);
    BOOST_TEST(sent[0].find("|SRM^S01^SRM_S01|") != std::string::npos, sent[0]);
    BOOST_TEST(sent[0].find("\rARQ|") != std::string::npos, sent[0]);
    BOOST_TEST(sent[0].find("PB-XNK") != std::string::npos, sent[0]); // ARQ-5, the HIS's 排班
    BOOST_TEST(sent[0].find("110106196203142022") != std::string::npos, sent[0]);

    // The pool's own Slot: booked at once, nothing asked.
    const std::string own = partner.slot(partner.dermatology, 2 * Day + Hour);
    BOOST_REQUIRE_EQUAL(partner.book(own, partner.patient, "clinic").status, 200);
    BOOST_TEST(partner.his.received().size() == 1u);

    // The cancellation is asked for first (SRM^S04, naming the HIS's number in ARQ-2).
    const std::string id = appointment["id"].GetString();
    const Reply cancelled = partner.cancel(id, slot);
    BOOST_REQUIRE_MESSAGE(cancelled.status == 200, cancelled.body);
    BOOST_TEST(partner.status("Appointment/" + id) == "cancelled");
    BOOST_TEST(partner.status("Slot/" + slot) == "free");
    const std::vector<std::string> all = partner.his.received();
    BOOST_REQUIRE_EQUAL(all.size(), 2u);
    BOOST_TEST(all[1].find("|SRM^S04^SRM_S01|") != std::string::npos, all[1]);
    BOOST_TEST(all[1].find("|YY2030-001^") != std::string::npos, all[1]);
}

BOOST_DATA_TEST_CASE(a_refusal_is_409_with_the_err_text_and_books_nothing, Backends, backend)
{
    Partner partner(backend);
    partner.his.mode = TestHis::Mode::Refuse;
    const std::string slot = partner.slot(partner.cardiology, Day + Hour);
    const Reply refused = partner.book(slot, partner.patient, "app");
    BOOST_TEST(refused.status == 409, refused.body);
    BOOST_TEST(test::issueCode(refused) == "conflict");
    BOOST_TEST(diagnostics(refused).find("该时段已约满") != std::string::npos, refused.body);
    BOOST_TEST(diagnostics(refused).find("AE") != std::string::npos, refused.body);
    // The hold taken while asking is released: the Slot is free, nothing booked.
    BOOST_TEST(partner.status("Slot/" + slot) == "free");
    BOOST_TEST(appointmentsIn(partner, "booked").empty());
    const std::vector<std::string> released = appointmentsIn(partner, "cancelled");
    BOOST_REQUIRE_EQUAL(released.size(), 1u);
    BOOST_TEST(partner.fhir.get("Appointment/" + released[0]).body.find("his-refused") !=
               std::string::npos);

    // AA, but SCH-25 says Pending: not a booking either (STANDARDS.md §4.5: Booked books).
    partner.his.mode = TestHis::Mode::Pending;
    const Reply pending = partner.book(slot, partner.patient, "app");
    BOOST_TEST(pending.status == 409, pending.body);
    BOOST_TEST(diagnostics(pending).find("SCH-25 Pending") != std::string::npos, pending.body);
    BOOST_TEST(partner.status("Slot/" + slot) == "free");
    BOOST_TEST(appointmentsIn(partner, "booked").empty());

    // A booking the HIS made, whose cancellation it refuses: it stays booked.
    partner.his.mode = TestHis::Mode::Book;
    const Reply booked = partner.book(slot, partner.patient, "app");
    BOOST_REQUIRE_MESSAGE(booked.status == 200, booked.body);
    const std::string id = booked.json["entry"][0]["resource"]["id"].GetString();
    partner.his.mode = TestHis::Mode::Refuse;
    const Reply kept = partner.cancel(id, slot);
    BOOST_TEST(kept.status == 409, kept.body);
    BOOST_TEST(partner.status("Appointment/" + id) == "booked");
    BOOST_TEST(partner.status("Slot/" + slot) == "busy");
}

BOOST_DATA_TEST_CASE(no_answer_is_504_and_books_nothing, Backends, backend)
{
    Partner partner(backend);
    partner.his.mode = TestHis::Mode::Silent;
    const std::string slot = partner.slot(partner.cardiology, Day + Hour);
    const Reply late = partner.book(slot, partner.patient, "wechat");
    BOOST_TEST(late.status == 504, late.body);
    BOOST_TEST(test::issueCode(late) == "timeout");
    BOOST_TEST(partner.status("Slot/" + slot) == "free");
    BOOST_TEST(appointmentsIn(partner, "booked").empty());
    BOOST_TEST(appointmentsIn(partner, "pending").empty());

    // A HIS that is not listening at all: the same.
    std::uint16_t closedPort = 0;
    {
        TestHis gone;
        closedPort = gone.port();
    }
    booking::Scheduling elsewhere(partner.fhir.server(), configFor(closedPort), partner.clock);
    const std::string other = partner.slot(partner.cardiology, Day + 2 * Hour);
    rapidjson::Document parameters;
    parameters.Parse(
        Partner::parameters(
            R"({"name":"appointment-resource","resource":{"resourceType":"Appointment",)"
            R"("status":"proposed","slot":[{"reference":"Slot/)" +
            other + R"("}],"participant":[{"actor":{"reference":"Patient/)" + partner.patient +
            R"("},"status":"needs-action"}]}},{"name":"channel","valueCode":"app"})")
            .c_str());
    fhir::FhirRequest request;
    request.method = "POST";
    fhir::OperationCall call{request, "Appointment",         "",
                             "book",  std::move(parameters), "http://localhost/fhir"};
    const fhir::OperationResult down = elsewhere.book(call);
    BOOST_TEST(down.status == 504);
    BOOST_TEST(partner.status("Slot/" + other) == "free");
}

BOOST_DATA_TEST_CASE(the_slot_is_held_while_the_his_decides, Backends, backend)
{
    Partner partner(backend, 10'000);
    partner.his.mode = TestHis::Mode::Wait;
    const std::string slot = partner.slot(partner.cardiology, Day + Hour);
    const std::string rival = partner.fhir.create(
        "Patient", R"({"resourceType":"Patient","identifier":[{"value":"MZ77"}]})");
    // In-process, on a thread of its own (the fixture's HTTP session is the main thread's).
    const std::string body = Partner::parameters(
        R"({"name":"appointment-resource","resource":{"resourceType":"Appointment",)"
        R"("status":"proposed","slot":[{"reference":"Slot/)" +
        slot + R"("}],"participant":[{"actor":{"reference":"Patient/)" + partner.patient +
        R"("},"status":"needs-action"}]}},{"name":"channel","valueCode":"app"})");
    std::atomic<int> firstStatus{0};
    std::thread first([&] {
        firstStatus = booking::FhirCalls(partner.fhir.server())
                          .call("POST", "Appointment/$book", body)
                          .status;
    });
    BOOST_TEST(test::waitFor([&] { return partner.his.received().size() == 1; }));
    BOOST_TEST(partner.status("Slot/" + slot) == "busy-tentative");
    const Reply second = partner.book(slot, rival, "wechat");
    BOOST_TEST(second.status == 409, second.body);
    BOOST_TEST(partner.his.received().size() == 1u); // the rival never reached the HIS
    partner.his.release_ = true;
    first.join();
    BOOST_TEST(firstStatus == 200);
    BOOST_TEST(partner.status("Slot/" + slot) == "busy");
    BOOST_TEST(appointmentsIn(partner, "booked").size() == 1u);
}

BOOST_AUTO_TEST_CASE(misconfigured_his_requests_are_config_errors_naming_the_path)
{
    auto error = [](const std::string& extra) {
        try {
            configFor(1, extra);
        } catch (const core::ConfigError& e) {
            return std::string(e.message());
        }
        return std::string("(accepted)");
    };
    BOOST_TEST(error("") == "(accepted)");
    std::string slow;
    try {
        configFor(1, {}, 400'000);
    } catch (const core::ConfigError& e) {
        slow = e.message();
    }
    BOOST_TEST(slow.find("his_requests.0.answer_timeout_ms") != std::string::npos, slow);
    const std::string typo = error(R"(, "answer_timout_ms": 100)");
    BOOST_TEST(typo.find("answer_timout_ms") != std::string::npos, typo);
    const std::string map = error(R"(, "mapping": "no-such-map")");
    BOOST_TEST(map.find("mapping") != std::string::npos, map);
}

BOOST_AUTO_TEST_SUITE_END()
