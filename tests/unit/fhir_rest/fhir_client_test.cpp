#include "gateway/fhir/rest/fhir_client.h"

#include "gateway/core/errors.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/rest/negotiation.h"
#include "gateway/transport/tls_context.h"
#include "gateway/transport/transport_error.h"
#include "tests/unit/transport/transport_test_support.h"

#include <boost/test/unit_test.hpp>

#include <Poco/Event.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using hl7gw::core::Issue;
using hl7gw::fhir::parseJson;
using hl7gw::fhir::rest::FhirClient;
using hl7gw::fhir::rest::FhirClientConfig;
using hl7gw::fhir::rest::FhirResponse;
using hl7gw::fhir::rest::QueryParams;

namespace {

/// What the server saw of one request.
struct Seen {
    std::string method;
    std::string uri;
    std::map<std::string, std::string> headers; // lower-case names
    std::string body;
    std::string client; // the peer's address: the same for requests on one connection
};

/// What the server answers.
struct Canned {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool gzip = false;
};

using Responder = std::function<Canned(const Seen&)>;

/// A real POCO HTTP(S) server on 127.0.0.1, port 0, that records each request and answers
/// what `responder` returns.
class CannedServer {
  public:
    explicit CannedServer(Responder responder, Poco::Net::Context::Ptr tls = nullptr)
        : state_(std::make_shared<State>())
    {
        state_->responder = std::move(responder);
        Poco::Net::SocketAddress address("127.0.0.1", 0);
        Poco::Net::ServerSocket socket = tls ? Poco::Net::SecureServerSocket(address, 64, tls)
                                             : Poco::Net::ServerSocket(address);
        Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
        params->setKeepAlive(true);
        params->setMaxThreads(4);
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(state_), socket, params);
        server_->start();
        port_ = server_->port();
    }
    ~CannedServer() { server_->stopAll(true); }

    std::uint16_t port() const { return port_; }
    std::string base(const std::string& scheme = "http") const
    {
        return scheme + "://127.0.0.1:" + std::to_string(port_) + "/fhir";
    }
    std::vector<Seen> seen() const
    {
        std::lock_guard lock(state_->mutex);
        return state_->seen;
    }

  private:
    struct State {
        std::mutex mutex;
        Responder responder;
        std::vector<Seen> seen;
    };

    class Handler : public Poco::Net::HTTPRequestHandler {
      public:
        explicit Handler(std::shared_ptr<State> state) : state_(std::move(state)) {}
        void handleRequest(Poco::Net::HTTPServerRequest& request,
                           Poco::Net::HTTPServerResponse& response) override
        {
            Seen seen;
            seen.method = request.getMethod();
            seen.uri = request.getURI();
            for (const auto& [name, value] : request) {
                seen.headers[Poco::toLower(name)] = value;
            }
            seen.body.assign(std::istreambuf_iterator<char>(request.stream()),
                             std::istreambuf_iterator<char>());
            seen.client = request.clientAddress().toString();
            Responder responder;
            {
                std::lock_guard lock(state_->mutex);
                state_->seen.push_back(seen);
                responder = state_->responder;
            }
            const Canned canned = responder(seen);
            response.setStatusAndReason(
                static_cast<Poco::Net::HTTPResponse::HTTPStatus>(canned.status));
            for (const auto& [name, value] : canned.headers) {
                response.set(name, value);
            }
            std::string body = canned.body;
            if (canned.gzip) {
                body = hl7gw::fhir::rest::gzipCompress(body);
                response.set("Content-Encoding", "gzip");
            }
            response.setContentLength(static_cast<std::streamsize>(body.size()));
            response.send().write(body.data(), static_cast<std::streamsize>(body.size()));
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
    std::uint16_t port_ = 0;
};

const std::string JsonType = "application/fhir+json; charset=utf-8";

Canned json(int status, const std::string& body,
            std::vector<std::pair<std::string, std::string>> headers = {})
{
    headers.emplace_back("Content-Type", JsonType);
    return Canned{status, std::move(headers), body, false};
}

rapidjson::Document parse(const std::string& text)
{
    rapidjson::Document document;
    Issue issue;
    BOOST_REQUIRE_MESSAGE(parseJson(text, document, issue), issue.text);
    return document;
}

FhirClientConfig config(const std::string& base)
{
    FhirClientConfig config;
    config.baseUrl = base;
    config.connectTimeoutMs = 5000;
    config.timeoutMs = 5000;
    return config;
}

std::string str(const rapidjson::Value& value)
{
    return std::string(value.GetString(), value.GetStringLength());
}

} // namespace

BOOST_AUTO_TEST_SUITE(fhir_client)

BOOST_AUTO_TEST_CASE(creates_and_reads_back_headers_and_body)
{
    CannedServer server([](const Seen&) {
        return json(201, R"({"resourceType":"Patient","id":"p1","meta":{"versionId":"1"}})",
                    {{"ETag", "W/\"1\""},
                     {"Location", "http://127.0.0.1/fhir/Patient/p1/_history/1"},
                     {"Last-Modified", "Tue, 01 Dec 2026 22:13:30 GMT"}});
    });
    FhirClient client(config(server.base()));
    const FhirResponse response =
        client.create("Patient", parse(R"({"resourceType":"Patient","birthDate":"1980-01-01"})"),
                      "identifier=urn:oid:1.2|3");

    BOOST_TEST(response.error == "");
    BOOST_TEST(response.ok());
    BOOST_TEST(response.status == 201);
    BOOST_TEST(response.versionId == "1");
    BOOST_TEST(response.etag == "W/\"1\"");
    BOOST_TEST(response.location == "http://127.0.0.1/fhir/Patient/p1/_history/1");
    BOOST_TEST(response.lastModified == "Tue, 01 Dec 2026 22:13:30 GMT");
    BOOST_TEST_REQUIRE(response.hasResource);
    BOOST_TEST(str(response.resource["id"]) == "p1");

    const std::vector<Seen> seen = server.seen();
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen[0].method == "POST");
    BOOST_TEST(seen[0].uri == "/fhir/Patient");
    BOOST_TEST(seen[0].headers.at("content-type") == JsonType);
    BOOST_TEST(seen[0].headers.at("accept") == "application/fhir+json");
    BOOST_TEST(seen[0].headers.at("if-none-exist") == "identifier=urn:oid:1.2|3");
    BOOST_TEST(seen[0].body == R"({"resourceType":"Patient","birthDate":"1980-01-01"})");
}

BOOST_AUTO_TEST_CASE(sends_each_interaction_to_its_url)
{
    CannedServer server([](const Seen&) { return json(200, R"({"resourceType":"Bundle"})"); });
    FhirClientConfig settings = config(server.base());
    settings.headers.emplace_back("Authorization", "Bearer t");
    FhirClient client(settings);
    const rapidjson::Document slot = parse(R"({"resourceType":"Slot","id":"s1"})");
    const rapidjson::Document bundle = parse(R"({"resourceType":"Bundle","type":"transaction"})");
    const rapidjson::Document parameters = parse(R"({"resourceType":"Parameters"})");

    BOOST_TEST(client.read("Patient", "p1").ok());
    BOOST_TEST(client.vread("Patient", "p1", "2").ok());
    BOOST_TEST(client.update("Slot", "s1", slot, "4").ok());
    BOOST_TEST(client.update("Slot", "s1", slot).ok());
    BOOST_TEST(client.remove("Slot", "s1", "5").ok());
    BOOST_TEST(client
                   .search("Appointment", QueryParams{{"date", "ge2024-05-06T08:00:00+08:00"},
                                                      {"patient", "Patient/p1"},
                                                      {"identifier", "urn:oid:1|a&b"}})
                   .ok());
    BOOST_TEST(client.search("", QueryParams{{"_type", "Patient"}}).ok());
    BOOST_TEST(client.transaction(bundle).ok());
    BOOST_TEST(client.operation("Appointment", "", "find", &parameters).ok());
    BOOST_TEST(client.operation("Patient", "p1", "everything", nullptr).ok());
    BOOST_TEST(client.operation("", "", "export", nullptr).ok());

    const std::vector<Seen> seen = server.seen();
    BOOST_TEST_REQUIRE(seen.size() == 11u);
    const std::vector<std::pair<std::string, std::string>> expected{
        {"GET", "/fhir/Patient/p1"},
        {"GET", "/fhir/Patient/p1/_history/2"},
        {"PUT", "/fhir/Slot/s1"},
        {"PUT", "/fhir/Slot/s1"},
        {"DELETE", "/fhir/Slot/s1"},
        // ':' and '/' may stay in a query (RFC 3986 §3.4); '+', '&' and '|' may not.
        {"GET", "/fhir/Appointment?date=ge2024-05-06T08:00:00%2B08:00&patient=Patient/p1"
                "&identifier=urn:oid:1%7Ca%26b"},
        {"GET", "/fhir?_type=Patient"},
        {"POST", "/fhir"},
        {"POST", "/fhir/Appointment/$find"},
        {"POST", "/fhir/Patient/p1/$everything"},
        {"POST", "/fhir/$export"},
    };
    for (std::size_t i = 0; i < expected.size(); ++i) {
        BOOST_TEST(seen[i].method == expected[i].first, i);
        BOOST_TEST(seen[i].uri == expected[i].second, i << ": " << seen[i].uri);
        BOOST_TEST(seen[i].headers.at("authorization") == "Bearer t", i);
    }
    BOOST_TEST(seen[2].headers.at("if-match") == "W/\"4\"");
    BOOST_TEST(seen[3].headers.count("if-match") == 0u);
    BOOST_TEST(seen[4].headers.at("if-match") == "W/\"5\"");
    BOOST_TEST(seen[2].body == R"({"resourceType":"Slot","id":"s1"})");
    BOOST_TEST(seen[7].body == R"({"resourceType":"Bundle","type":"transaction"})");
    BOOST_TEST(seen[8].body == R"({"resourceType":"Parameters"})");
    BOOST_TEST(seen[9].body.empty());
}

BOOST_AUTO_TEST_CASE(keeps_the_connection_alive)
{
    CannedServer server([](const Seen&) { return json(200, R"({"resourceType":"Patient"})"); });
    FhirClient client(config(server.base()));
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(client.read("Patient", "p1").ok());
    }
    const std::vector<Seen> seen = server.seen();
    BOOST_TEST_REQUIRE(seen.size() == 3u);
    BOOST_TEST(seen[0].client == seen[1].client);
    BOOST_TEST(seen[1].client == seen[2].client);
}

BOOST_AUTO_TEST_CASE(resends_an_idempotent_request_when_a_kept_connection_was_closed)
{
    // A peer that answers with keep-alive and then closes anyway, as servers may do with idle
    // connections: the second GET meets a dead connection and goes out again on a new one; a
    // POST on the dead connection is not resent.
    Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0));
    std::atomic<int> accepted{0};
    std::thread peer([&listener, &accepted] {
        for (int i = 0; i < 3; ++i) {
            Poco::Net::StreamSocket socket = listener.acceptConnection();
            ++accepted;
            socket.setReceiveTimeout(Poco::Timespan(5, 0));
            std::string request;
            char buffer[1024];
            while (request.find("\r\n\r\n") == std::string::npos) {
                const int received = socket.receiveBytes(buffer, sizeof buffer);
                if (received <= 0) {
                    break;
                }
                request.append(buffer, static_cast<std::size_t>(received));
            }
            const std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
                                       "Connection: keep-alive\r\nContent-Length: 2\r\n\r\n{}";
            socket.sendBytes(answer.data(), static_cast<int>(answer.size()));
            socket.shutdownSend();
            socket.close();
        }
    });
    FhirClient client(
        config("http://127.0.0.1:" + std::to_string(listener.address().port()) + "/fhir"));
    const FhirResponse first = client.read("Patient", "p1");  // connection 1
    const FhirResponse second = client.read("Patient", "p1"); // 1 is dead: again on 2
    const FhirResponse post = client.transaction(parse(R"({"resourceType":"Bundle"})"));
    const FhirResponse third = client.read("Patient", "p1"); // 2 was dropped: 3
    peer.join();
    BOOST_TEST(first.ok(), first.error);
    BOOST_TEST(second.ok(), second.error);
    BOOST_TEST(post.status == 0); // failed on 2, not resent on 3
    BOOST_TEST(!post.error.empty());
    BOOST_TEST(third.ok(), third.error);
    BOOST_TEST(accepted.load() == 3);
}

BOOST_AUTO_TEST_CASE(decodes_gzip_answers)
{
    CannedServer server([](const Seen&) {
        Canned canned = json(200, R"({"resourceType":"Patient","id":"gz"})");
        canned.gzip = true;
        return canned;
    });
    FhirClient client(config(server.base()));
    const FhirResponse response = client.read("Patient", "gz");
    BOOST_TEST(response.error == "");
    BOOST_TEST_REQUIRE(response.hasResource);
    BOOST_TEST(str(response.resource["id"]) == "gz");
    BOOST_TEST(server.seen().at(0).headers.at("accept-encoding") == "gzip");
}

BOOST_AUTO_TEST_CASE(returns_error_statuses_with_their_outcome)
{
    CannedServer server([](const Seen&) {
        return json(412, R"({"resourceType":"OperationOutcome","issue":[{"severity":"error",)"
                         R"("code":"conflict"}]})");
    });
    FhirClient client(config(server.base()));
    const FhirResponse response =
        client.update("Slot", "s1", parse(R"({"resourceType":"Slot"})"), "1");
    BOOST_TEST(response.status == 412);
    BOOST_TEST(!response.ok());
    BOOST_TEST(!response.retryable());
    BOOST_TEST(response.error == "");
    BOOST_TEST_REQUIRE(response.hasResource);
    BOOST_TEST(str(response.resource["issue"][0]["code"]) == "conflict");
}

BOOST_AUTO_TEST_CASE(flags_bodies_that_are_not_json)
{
    CannedServer server([](const Seen& seen) {
        if (seen.uri.find("html") != std::string::npos) {
            return Canned{502, {{"Content-Type", "text/html"}}, "<html>bad gateway</html>", false};
        }
        return json(200, "{not json");
    });
    FhirClient client(config(server.base()));
    const FhirResponse broken = client.read("Patient", "p1");
    BOOST_TEST(broken.status == 200);
    BOOST_TEST(!broken.ok());
    BOOST_TEST(broken.error.find("not valid JSON") != std::string::npos, broken.error);
    BOOST_TEST(!broken.hasResource);

    const FhirResponse proxy = client.read("Patient", "html");
    BOOST_TEST(proxy.status == 502);
    BOOST_TEST(proxy.retryable());
    BOOST_TEST(proxy.error == "");
    BOOST_TEST(proxy.body == "<html>bad gateway</html>");
    BOOST_TEST(!proxy.hasResource);
}

BOOST_AUTO_TEST_CASE(reports_a_server_that_is_not_there)
{
    std::uint16_t port = 0;
    {
        Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
        port = probe.address().port();
    }
    FhirClient client(config("http://127.0.0.1:" + std::to_string(port) + "/fhir"));
    const FhirResponse response = client.read("Patient", "p1");
    BOOST_TEST(response.status == 0);
    BOOST_TEST(!response.error.empty());
    BOOST_TEST(response.retryable());
}

BOOST_AUTO_TEST_CASE(times_out_on_a_silent_server)
{
    auto release = std::make_shared<Poco::Event>();
    CannedServer server([release](const Seen&) {
        release->tryWait(10'000);
        return json(200, "{}");
    });
    FhirClientConfig settings = config(server.base());
    settings.timeoutMs = 200;
    FhirClient client(settings);
    const FhirResponse response = client.read("Patient", "slow");
    release->set();
    BOOST_TEST(response.status == 0);
    BOOST_TEST(!response.error.empty());
    BOOST_TEST(response.retryable());
}

BOOST_AUTO_TEST_CASE(limits_the_response_size)
{
    CannedServer server([](const Seen&) { return json(200, std::string(5000, ' ') + "{}"); });
    FhirClientConfig settings = config(server.base());
    settings.maxResponseBytes = 1000;
    FhirClient client(settings);
    const FhirResponse response = client.read("Patient", "big");
    BOOST_TEST(!response.ok());
    BOOST_TEST(response.error.find("larger than 1000") != std::string::npos, response.error);
}

BOOST_AUTO_TEST_CASE(rejects_bad_base_urls)
{
    BOOST_CHECK_THROW(FhirClient(config("ftp://host/fhir")), hl7gw::core::ConfigError);
    BOOST_CHECK_THROW(FhirClient(config("/fhir")), hl7gw::core::ConfigError);
    BOOST_CHECK_THROW(FhirClient(config("http://host/fhir?x=1")), hl7gw::core::ConfigError);
}

BOOST_AUTO_TEST_CASE(speaks_tls_and_mutual_tls)
{
    hl7gw::test::TempDir dir;
    hl7gw::test::TestPki pki(dir, "ca");
    const auto serverCert = pki.issueServer("server", "IP:127.0.0.1");
    const auto clientCert = pki.issueClient("client");
    const auto answer = [](const Seen&) { return json(200, R"({"resourceType":"Patient"})"); };

    hl7gw::transport::TlsConfig serverTls;
    serverTls.cert = serverCert.cert;
    serverTls.key = serverCert.key;
    CannedServer tlsServer(answer, hl7gw::transport::makeServerContext(serverTls));

    FhirClientConfig trusting = config(tlsServer.base("https"));
    trusting.tls.ca = pki.caFile();
    FhirClient client(trusting);
    const FhirResponse response = client.read("Patient", "p1");
    BOOST_TEST(response.error == "");
    BOOST_TEST(response.ok());

    // Without our CA the server's certificate does not verify (system CAs only).
    FhirClient stranger(config(tlsServer.base("https")));
    const FhirResponse refused = stranger.read("Patient", "p1");
    BOOST_TEST(refused.status == 0);
    BOOST_TEST(!refused.error.empty());

    hl7gw::transport::TlsConfig mutualTls = serverTls;
    mutualTls.ca = pki.caFile();
    mutualTls.requireClientCert = true;
    CannedServer mutualServer(answer, hl7gw::transport::makeServerContext(mutualTls));

    FhirClientConfig withCert = config(mutualServer.base("https"));
    withCert.tls.ca = pki.caFile();
    withCert.tls.cert = clientCert.cert;
    withCert.tls.key = clientCert.key;
    FhirClient identified(withCert);
    BOOST_TEST(identified.read("Patient", "p1").ok());

    FhirClientConfig withoutCert = config(mutualServer.base("https"));
    withoutCert.tls.ca = pki.caFile();
    FhirClient anonymous(withoutCert);
    const FhirResponse anonymousResponse = anonymous.read("Patient", "p1");
    BOOST_TEST(!anonymousResponse.ok());
    BOOST_TEST(anonymousResponse.status == 0);
    BOOST_TEST(mutualServer.seen().size() == 1u); // only the identified client got through
}

BOOST_AUTO_TEST_SUITE_END()
