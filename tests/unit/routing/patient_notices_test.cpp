// Patient notices delivered (issue 7): a channel whose `fhir` source sends Communications as
// FHIR JSON (payload json) posts an exam booking's confirmation and a suspension (停诊) notice
// to a test notification service over HTTP; a notice moved on by that service is not sent again.
#include "gateway/booking/fhir_calls.h"
#include "gateway/booking/scheduling.h"
#include "gateway/booking/suspension.h"
#include "gateway/core/config_reader.h"
#include "gateway/core/metrics.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/server/fhir_server.h"
#include "gateway/routing/engine.h"
#include "gateway/routing/fhir_feed.h"
#include "tests/unit/routing/routing_support.h"
#include "tests/unit/store/store_test_support.h"
#include "tests/unit/test_support.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace hl7gw;

// Named, not anonymous: the tests' lambdas capture these types (-Wsubobject-linkage).
namespace patient_notices_test {

/// One request the notification service got.
struct Pushed {
    std::string uri;
    std::string contentType;
    std::string body;
};

/// The hospital's push gateway (WeChat, Alipay, SMS): a real POCO HTTP server on 127.0.0.1,
/// port 0, that answers 202 and remembers every request.
class NotificationService {
  public:
    NotificationService() : state_(std::make_shared<State>())
    {
        Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
        Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
        params->setMaxThreads(2);
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(state_), socket, params);
        server_->start();
    }
    ~NotificationService() { server_->stopAll(true); }

    std::uint16_t port() const { return server_->port(); }
    std::vector<Pushed> pushed() const
    {
        std::lock_guard lock(state_->mutex);
        return state_->pushed;
    }

  private:
    struct State {
        mutable std::mutex mutex;
        std::vector<Pushed> pushed;
    };

    class Handler : public Poco::Net::HTTPRequestHandler {
      public:
        explicit Handler(std::shared_ptr<State> state) : state_(std::move(state)) {}
        void handleRequest(Poco::Net::HTTPServerRequest& request,
                           Poco::Net::HTTPServerResponse& response) override
        {
            Pushed pushed{request.getURI(), request.getContentType(), {}};
            pushed.body.assign(std::istreambuf_iterator<char>(request.stream()),
                               std::istreambuf_iterator<char>());
            {
                std::lock_guard lock(state_->mutex);
                state_->pushed.push_back(std::move(pushed));
            }
            response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_ACCEPTED);
            response.setContentLength(0);
            response.send();
        }

      private:
        std::shared_ptr<State> state_;
    };

    class Factory : public Poco::Net::HTTPRequestHandlerFactory {
      public:
        explicit Factory(std::shared_ptr<State> state) : state_(std::move(state)) {}
        Poco::Net::HTTPRequestHandler*
        createRequestHandler(const Poco::Net::HTTPServerRequest&) override
        {
            return new Handler(state_);
        }

      private:
        std::shared_ptr<State> state_;
    };

    std::shared_ptr<State> state_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

std::string idOf(const booking::FhirReply& reply)
{
    BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status);
    return reply.body["id"].GetString();
}

std::string at(std::int64_t micros)
{
    return core::formatIsoUtc(micros).substr(0, 19) + "Z";
}

// The ConfigError text of a channel that must not load.
std::string channelError(const std::string& json)
{
    try {
        test::channelsFrom(json);
    } catch (const core::ConfigError& e) {
        return e.message();
    }
    return "(it loaded)";
}

} // namespace patient_notices_test

using namespace patient_notices_test;

BOOST_AUTO_TEST_SUITE(patient_notices)

BOOST_DATA_TEST_CASE(confirmations_and_suspension_notices_reach_the_notification_service,
                     test::Backends, backend)
{
    NotificationService service;
    test::TestDatabase database(backend);
    store::MessageStorePtr store = database.open();
    core::MetricsRegistry metrics;
    auto channels = test::channelsFrom(
        R"([{"name": "patient-notices",
             "sources": [{"type": "fhir", "resources": ["Communication"], "payload": "json",
                          "statuses": ["preparation"]}],
             "destinations": [{"name": "notice-push", "type": "http",
                               "url": "http://127.0.0.1:)" +
        std::to_string(service.port()) + R"(/notices",
                               "content_type": "application/fhir+json; charset=utf-8"}]}])");
    routing::Engine engine(*store, metrics, core::SystemClock::instance(), channels, "node-a");
    fhir::FhirServer server(
        {}, store->resources(), core::SystemClock::instance(),
        routing::makeFhirOutboxHook([&] { return engine.snapshot(); }, store->resources()));
    booking::BookingConfig config;
    config.exams["CT-ABD"] = {"腹部CT", "abdominal CT", "CT", "检查前空腹8小时",
                              "fast for 8 hours before the exam"};
    booking::Scheduling scheduling(server, config, core::SystemClock::instance());
    scheduling.registerOperations(server);
    booking::addSuspension(server, core::SystemClock::instance());
    engine.start();
    booking::FhirCalls fhir(server);

    const std::string patient = idOf(fhir.call(
        "POST", "Patient",
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.156.10011.1.11",)"
        R"("value":"MZ42"}],"name":[{"family":"王","given":["芳"]}]})"));
    const std::string room =
        idOf(fhir.call("POST", "Location", R"({"resourceType":"Location","name":"CT一室"})"));
    const std::string schedule = idOf(
        fhir.call("POST", "Schedule",
                  R"({"resourceType":"Schedule","active":true,"actor":[{"reference":"Location/)" +
                      room + R"("}]})"));
    const std::string order = idOf(
        fhir.call("POST", "ServiceRequest",
                  R"({"resourceType":"ServiceRequest","status":"active","intent":"order","code":)"
                  R"({"coding":[{"code":"CT-ABD"}]},"subject":{"reference":"Patient/)" +
                      patient + R"("}})"));
    const std::int64_t start = core::SystemClock::instance().nowMicros() + 26 * 3'600'000'000LL;
    const std::string slot = idOf(fhir.call(
        "POST", "Slot",
        R"({"resourceType":"Slot","status":"free","schedule":{"reference":"Schedule/)" + schedule +
            R"("},"start":")" + at(start) + R"(","end":")" + at(start + 900'000'000LL) + R"("})"));

    const booking::FhirReply booked = fhir.call(
        "POST", "Appointment/$book",
        R"({"resourceType":"Parameters","parameter":[{"name":"appointment-resource","resource":)"
        R"({"resourceType":"Appointment","status":"proposed","basedOn":[{"reference":)"
        R"("ServiceRequest/)" +
            order + R"("}],"slot":[{"reference":"Slot/)" + slot +
            R"("}],"participant":[{"actor":{"reference":"Patient/)" + patient +
            R"("},"status":"needs-action"}]}},{"name":"channel","valueCode":"wechat"}]})");
    BOOST_REQUIRE_MESSAGE(booked.ok(), fhir::writeJson(booked.body));
    const std::string appointment = booked.body["entry"][0]["resource"]["id"].GetString();

    // The confirmation, as FHIR JSON, posted to the service's URL.
    BOOST_TEST(test::waitFor([&] { return service.pushed().size() == 1; }));
    std::vector<Pushed> pushed = service.pushed();
    BOOST_REQUIRE(pushed.size() == 1u);
    BOOST_TEST(pushed[0].uri == "/notices");
    BOOST_TEST(pushed[0].contentType == "application/fhir+json; charset=utf-8");
    rapidjson::Document confirmation;
    core::Issue issue;
    BOOST_REQUIRE_MESSAGE(fhir::parseJson(pushed[0].body, confirmation, issue), pushed[0].body);
    BOOST_TEST(std::string(confirmation["resourceType"].GetString()) == "Communication");
    BOOST_TEST(std::string(confirmation["about"][0]["reference"].GetString()) ==
               "Appointment/" + appointment);
    BOOST_TEST(std::string(confirmation["medium"][0]["coding"][0]["code"].GetString()) == "wechat");
    const std::string english = confirmation["payload"][1]["contentString"].GetString();
    BOOST_TEST(english.find("fast for 8 hours before the exam") != std::string::npos, english);
    BOOST_TEST(english.find("CT一室") != std::string::npos, english);

    // 停诊: the suspension's notice goes out the same way.
    const booking::FhirReply suspended =
        fhir.call("POST", "Schedule/" + schedule + "/$suspend",
                  R"({"resourceType":"Parameters","parameter":[{"name":"start","valueDateTime":")" +
                      at(start - 3'600'000'000LL) + R"("},{"name":"end","valueDateTime":")" +
                      at(start + 3'600'000'000LL) + R"("}]})");
    BOOST_REQUIRE_MESSAGE(suspended.ok(), fhir::writeJson(suspended.body));
    BOOST_TEST(test::waitFor([&] { return service.pushed().size() == 2; }));
    pushed = service.pushed();
    BOOST_REQUIRE(pushed.size() == 2u);
    BOOST_TEST(pushed[1].body.find("停诊通知") != std::string::npos, pushed[1].body);
    BOOST_TEST(pushed[1].body.find("Appointment/" + appointment) != std::string::npos,
               pushed[1].body);

    // The service marks the confirmation sent: that version is not pushed again.
    const std::string sent = confirmation["id"].GetString();
    booking::FhirReply current = fhir.get("Communication/" + sent);
    std::string body = fhir::writeJson(current.body);
    body.replace(body.find("\"preparation\""), 13, "\"completed\"");
    BOOST_TEST(fhir.call("PUT", "Communication/" + sent, body, current.version).ok());
    BOOST_TEST(!test::waitFor([&] { return service.pushed().size() > 2; }, 2));
    BOOST_TEST(service.pushed().size() == 2u);
    engine.stop();
}

BOOST_AUTO_TEST_CASE(a_json_fhir_source_takes_no_map_and_no_v2_stages)
{
    const std::string destination =
        R"("destinations": [{"name": "push", "type": "http", "url": "http://127.0.0.1:9/n"}])";
    const std::string withMap = channelError(
        R"([{"name": "n", "sources": [{"type": "fhir", "resources": ["Communication"],)"
        R"( "payload": "json", "mapping": "appointment-siu"}], )" +
        destination + "}]");
    BOOST_TEST(withMap.find("sources.0.mapping") != std::string::npos, withMap);
    const std::string unknownPayload = channelError(
        R"([{"name": "n", "sources": [{"type": "fhir", "resources": ["Communication"],)"
        R"( "payload": "xml"}], )" +
        destination + "}]");
    BOOST_TEST(unknownPayload.find("expected v2 or json") != std::string::npos, unknownPayload);
    const std::string filtered = channelError(
        R"([{"name": "n", "sources": [{"type": "fhir", "resources": ["Communication"],)"
        R"( "payload": "json"}], "filters": [{"type": "message_type", "types": ["SIU"]}], )" +
        destination + "}]");
    BOOST_TEST(filtered.find("no filters or transforms") != std::string::npos, filtered);
    const std::string typo = channelError(
        R"([{"name": "n", "sources": [{"type": "fhir", "resources": ["Communication"],)"
        R"( "payload": "json", "status": ["preparation"]}], )" +
        destination + "}]");
    BOOST_TEST(typo.find("sources.0.status") != std::string::npos, typo);
    // And the good one loads, with its statuses.
    const auto channels = test::channelsFrom(
        R"([{"name": "n", "sources": [{"type": "fhir", "resources": ["Communication"],)"
        R"( "payload": "json", "statuses": ["preparation"]}], )" +
        destination + "}]");
    const routing::Channel* channel = channels->find("n");
    BOOST_REQUIRE(channel != nullptr);
    BOOST_REQUIRE(channel->fhirFeed != nullptr);
    BOOST_TEST((channel->fhirFeed->payload() == routing::FhirFeed::Payload::Json));
    rapidjson::Document preparation;
    preparation.Parse(R"({"resourceType":"Communication","status":"preparation"})");
    rapidjson::Document completed;
    completed.Parse(R"({"resourceType":"Communication","status":"completed"})");
    BOOST_TEST(channel->fhirFeed->wantsStatus(preparation));
    BOOST_TEST(!channel->fhirFeed->wantsStatus(completed));
}

BOOST_AUTO_TEST_CASE(the_example_channel_file_loads)
{
    const std::string file =
        std::string(HL7GW_TEST_DATA_DIR) + "/../../conf/channels/patient-notices.json.example";
    std::ifstream in(file);
    BOOST_REQUIRE_MESSAGE(in, file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    rapidjson::Document d;
    core::parseConfigText(text, file, d);
    const auto channels = routing::ChannelSet::build({{file, &d}});
    const routing::Channel* channel = channels->find("patient-notices");
    BOOST_REQUIRE(channel != nullptr);
    BOOST_REQUIRE(channel->fhirFeed != nullptr);
    BOOST_TEST((channel->fhirFeed->payload() == routing::FhirFeed::Payload::Json));
    BOOST_TEST(channel->fhirFeed->wants("Communication", ""));
    BOOST_TEST(!channel->fhirFeed->wants("Appointment", ""));
    BOOST_TEST(channel->destinations.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
