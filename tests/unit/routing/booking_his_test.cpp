// The HIS in step (issue 7): a booking made over FHIR reaches a test HIS over MLLP as SIU^S12,
// its cancellation as SIU^S15, and what the HIS's own channel wrote is never echoed back.
#include "gateway/booking/fhir_calls.h"
#include "gateway/booking/scheduling.h"
#include "gateway/core/config_reader.h"
#include "gateway/core/metrics.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/server/fhir_server.h"
#include "gateway/routing/engine.h"
#include "gateway/routing/fhir_feed.h"
#include "gateway/routing/stage_registry.h"
#include "gateway/transport/mllp.h"
#include "tests/unit/store/store_test_support.h"
#include "tests/unit/test_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <mutex>
#include <string>
#include <vector>

using namespace hl7gw;

namespace booking_his_test {

// A HIS that answers AA and remembers what it got.
class TestHis {
  public:
    TestHis()
        : server_(transport::MllpListenerConfig{"his", {"127.0.0.1", 0}, std::nullopt},
                  [this](std::string_view message, const transport::ConnectionInfo&) {
                      const std::string text(message);
                      std::vector<std::string> fields;
                      const std::string msh = text.substr(0, text.find('\r'));
                      std::size_t start = 0;
                      for (std::size_t bar; (bar = msh.find('|', start)) != std::string::npos;
                           start = bar + 1) {
                          fields.push_back(msh.substr(start, bar - start));
                      }
                      fields.push_back(msh.substr(start));
                      {
                          std::lock_guard lock(mutex_);
                          received_.push_back(text);
                      }
                      const std::string control = fields.size() > 9 ? fields[9] : "";
                      return "MSH|^~\\&|HIS||GW||20261202080000||ACK|A" + control +
                             "|P|2.4\rMSA|AA|" + control + "\r";
                  })
    {
        server_.start();
    }
    ~TestHis() { server_.stop(); }

    std::uint16_t port() const { return server_.port(); }
    std::vector<std::string> received()
    {
        std::lock_guard lock(mutex_);
        return received_;
    }
    std::size_t countOf(const std::string& type)
    {
        std::size_t n = 0;
        for (const std::string& m : received()) {
            n += m.find("|" + type + "^") != std::string::npos ? 1 : 0;
        }
        return n;
    }

  private:
    std::mutex mutex_;
    std::vector<std::string> received_;
    transport::MllpServer server_;
};

std::string idOf(const booking::FhirReply& reply)
{
    BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status);
    return reply.body["id"].GetString();
}

} // namespace booking_his_test

using namespace booking_his_test;

BOOST_AUTO_TEST_SUITE(booking_his)

BOOST_DATA_TEST_CASE(bookings_reach_the_his_and_its_own_changes_are_not_echoed, test::Backends,
                     backend)
{
    TestHis his;
    test::TestDatabase database(backend);
    store::MessageStorePtr store = database.open();
    core::MetricsRegistry metrics;
    const std::string json = R"([{"name": "booking-his",
      "sources": [{"type": "fhir", "resources": ["Appointment"],
                   "mappings_dir": ")" +
                             std::string(HL7GW_TEST_DATA_DIR) +
                             R"(/../../mappings", "ignore_from": ["his-siu-fhir-store"]}],
      "destinations": [{"name": "his-siu", "type": "mllp", "to": "127.0.0.1:)" +
                             std::to_string(his.port()) + R"("}]}])";
    rapidjson::Document d;
    core::parseConfigText(json, "test.json", d);
    auto channels = routing::ChannelSet::build({{"test.json", &d[0]}});
    routing::Engine engine(*store, metrics, core::SystemClock::instance(), channels, "node-a");
    fhir::FhirServer server(
        {}, store->resources(), core::SystemClock::instance(),
        routing::makeFhirOutboxHook([&] { return engine.snapshot(); }, store->resources()));
    booking::Scheduling scheduling(server, {}, core::SystemClock::instance());
    scheduling.registerOperations(server);
    engine.start();
    booking::FhirCalls fhir(server);

    const std::string patient = idOf(fhir.call(
        "POST", "Patient",
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.156.10011.1.11",)"
        R"("value":"MZ42"}],"name":[{"family":"王","given":["芳"]}],"gender":"female"})"));
    const std::string schedule = idOf(fhir.call(
        "POST", "Schedule",
        R"({"resourceType":"Schedule","active":true,"actor":[{"reference":"Practitioner/d9"}]})"));
    const std::int64_t start = core::SystemClock::instance().nowMicros() + 26 * 3'600'000'000LL;
    auto at = [](std::int64_t micros) { return core::formatIsoUtc(micros).substr(0, 19) + "Z"; };
    const std::string slot = idOf(fhir.call(
        "POST", "Slot",
        R"({"resourceType":"Slot","status":"free","schedule":{"reference":"Schedule/)" + schedule +
            R"("},"start":")" + at(start) + R"(","end":")" + at(start + 900'000'000LL) + R"("})"));

    const booking::FhirReply booked = fhir.call(
        "POST", "Appointment/$book",
        R"({"resourceType":"Parameters","parameter":[{"name":"appointment-resource","resource":)"
        R"({"resourceType":"Appointment","status":"proposed","slot":[{"reference":"Slot/)" +
            slot + R"("}],"participant":[{"actor":{"reference":"Patient/)" + patient +
            R"("},"status":"needs-action"}]}},{"name":"channel","valueCode":"wechat"}]})");
    BOOST_REQUIRE_MESSAGE(booked.ok(), booked.status);
    const std::string id = booked.body["entry"][0]["resource"]["id"].GetString();
    BOOST_TEST(test::waitFor([&] { return his.countOf("SIU") == 1; }));
    const auto first = his.received();
    BOOST_REQUIRE(first.size() == 1u);
    BOOST_TEST(first[0].find("|SIU^S12") != std::string::npos, first[0]);
    BOOST_TEST(first[0].find("MZ42") != std::string::npos, first[0]);

    // The HIS's own change, written by its inbound channel's fhir_store: not sent back.
    {
        const routing::FhirWriteOrigin fromHis("his-siu-fhir-store");
        booking::FhirReply current = fhir.get("Appointment/" + id);
        std::string body = fhir::writeJson(current.body);
        body.replace(body.find("\"booked\""), 8, "\"arrived\"");
        BOOST_TEST(fhir.call("PUT", "Appointment/" + id, body, current.version).ok());
    }
    // A cancellation at the desk goes out as S15 (and nothing for the HIS's own change).
    const booking::FhirReply cancelled = fhir.call(
        "POST", "Appointment/$book",
        R"({"resourceType":"Parameters","parameter":[{"name":"appointment-resource","resource":)"
        R"({"resourceType":"Appointment","id":")" +
            id + R"(","status":"cancelled","slot":[{"reference":"Slot/)" + slot +
            R"("}],"participant":[{"actor":{"reference":"Patient/)" + patient +
            R"("},"status":"accepted"}]}},{"name":"channel","valueCode":"clinic"}]})");
    // An arrived appointment cannot be cancelled by $book: the HIS's change stands.
    BOOST_TEST(cancelled.status == 422);
    BOOST_TEST(test::waitFor([&] { return his.countOf("SIU") >= 1; }, 2));
    BOOST_TEST(his.countOf("SIU") == 1u);

    // A booking of another slot, then its cancellation: S12 and S15.
    const std::string second = idOf(
        fhir.call("POST", "Slot",
                  R"({"resourceType":"Slot","status":"free","schedule":{"reference":"Schedule/)" +
                      schedule + R"("},"start":")" + at(start + 86'400'000'000LL) + R"(","end":")" +
                      at(start + 86'400'000'000LL + 900'000'000LL) + R"("})"));
    const booking::FhirReply again = fhir.call(
        "POST", "Appointment/$book",
        R"({"resourceType":"Parameters","parameter":[{"name":"appointment-resource","resource":)"
        R"({"resourceType":"Appointment","status":"proposed","slot":[{"reference":"Slot/)" +
            second + R"("}],"participant":[{"actor":{"reference":"Patient/)" + patient +
            R"("},"status":"needs-action"}]}},{"name":"channel","valueCode":"clinic"}]})");
    BOOST_REQUIRE_MESSAGE(again.ok(), again.status);
    const std::string secondId = again.body["entry"][0]["resource"]["id"].GetString();
    const booking::FhirReply undone = fhir.call(
        "POST", "Appointment/$book",
        R"({"resourceType":"Parameters","parameter":[{"name":"appointment-resource","resource":)"
        R"({"resourceType":"Appointment","id":")" +
            secondId + R"(","status":"cancelled","slot":[{"reference":"Slot/)" + second +
            R"("}],"participant":[{"actor":{"reference":"Patient/)" + patient +
            R"("},"status":"accepted"}]}},{"name":"channel","valueCode":"clinic"}]})");
    BOOST_REQUIRE_MESSAGE(undone.ok(), undone.status);
    BOOST_TEST(test::waitFor([&] { return his.countOf("SIU") == 3; }));
    BOOST_TEST(his.countOf("SIU") == 3u);
    const auto all = his.received();
    BOOST_TEST(all.back().find("|SIU^S15") != std::string::npos, all.back());
    engine.stop();
}

BOOST_AUTO_TEST_SUITE_END()
