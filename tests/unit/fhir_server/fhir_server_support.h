#pragma once

// A real FHIR server for tests: a store on SQLite or PostgreSQL (store_test_support.h), the
// FhirServer, and the gateway's HTTP server on 127.0.0.1 (port chosen by the system), with a
// small client that speaks to it over real sockets.

#include "gateway/console/http_server.h"
#include "gateway/core/metrics.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/server/fhir_server.h"

#include "tests/unit/store/store_test_support.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace hl7gw::test {

struct Reply {
    int status = 0;
    std::map<std::string, std::string> headers; // names in lower case
    std::string body;
    rapidjson::Document json; // parsed body when it is JSON

    std::string header(const std::string& lowerName) const
    {
        auto found = headers.find(lowerName);
        return found == headers.end() ? std::string() : found->second;
    }
    /// json[member] as a string ("" when missing).
    std::string text(const char* member) const
    {
        if (!json.IsObject() || !json.HasMember(member) || !json[member].IsString()) {
            return {};
        }
        return json[member].GetString();
    }
};

class FhirFixture {
  public:
    explicit FhirFixture(Backend backend, fhir::FhirServerConfig config = {},
                         fhir::OutboxHook outbox = {})
        : database_(backend), store_(database_.open())
    {
        server_ =
            std::make_unique<fhir::FhirServer>(std::move(config), store_->resources(),
                                               core::SystemClock::instance(), std::move(outbox));
        console::HttpServerConfig http;
        http.listen = {"127.0.0.1", 0};
        http_ = std::make_unique<console::HttpServer>(http, *store_, metrics_, nullptr);
        http_->mountFhir(*server_);
        http_->start();
        session_ = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", http_->port());
        session_->setKeepAlive(true);
    }

    ~FhirFixture() { http_->stop(); }

    Reply call(const std::string& method, const std::string& path, const std::string& body = {},
               std::vector<std::pair<std::string, std::string>> headers = {})
    {
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        bool typed = false;
        for (const auto& [name, value] : headers) {
            request.set(name, value);
            typed = typed || Poco::icompare(name, "Content-Type") == 0;
        }
        if (!body.empty() && !typed) {
            request.setContentType("application/fhir+json");
        }
        request.setContentLength(static_cast<std::streamsize>(body.size()));
        session_->sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session_->receiveResponse(response);
        Reply reply;
        reply.status = response.getStatus();
        for (const auto& [name, value] : response) {
            reply.headers[Poco::toLower(name)] = value;
        }
        Poco::StreamCopier::copyToString(in, reply.body);
        core::Issue issue;
        if (!reply.body.empty() && reply.body.front() == '{') {
            fhir::parseJson(reply.body, reply.json, issue);
        }
        return reply;
    }

    Reply get(const std::string& path, std::vector<std::pair<std::string, std::string>> h = {})
    {
        return call("GET", "/fhir/" + path, {}, std::move(h));
    }
    Reply post(const std::string& path, const std::string& body,
               std::vector<std::pair<std::string, std::string>> h = {})
    {
        return call("POST", "/fhir/" + path, body, std::move(h));
    }
    Reply put(const std::string& path, const std::string& body,
              std::vector<std::pair<std::string, std::string>> h = {})
    {
        return call("PUT", "/fhir/" + path, body, std::move(h));
    }

    /// Creates the resource and returns its id (fails the test unless 201).
    std::string create(const std::string& type, const std::string& body)
    {
        Reply reply = post(type, body);
        BOOST_REQUIRE_MESSAGE(reply.status == 201,
                              type << " create: " << reply.status << " " << reply.body);
        return reply.text("id");
    }

    store::MessageStore& store() { return *store_; }
    /// For modules that register operations on it (booking) before the test's first request.
    fhir::FhirServer& server() { return *server_; }
    std::uint16_t port() const { return http_->port(); }

  private:
    TestDatabase database_;
    store::MessageStorePtr store_;
    core::MetricsRegistry metrics_;
    std::unique_ptr<fhir::FhirServer> server_;
    std::unique_ptr<console::HttpServer> http_;
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

/// OperationOutcome.issue[0].code of a reply ("" when there is none).
inline std::string issueCode(const Reply& reply)
{
    const auto& j = reply.json;
    if (!j.IsObject() || !j.HasMember("issue") || !j["issue"].IsArray() || j["issue"].Empty()) {
        return {};
    }
    const auto& issue = j["issue"][0];
    return issue.HasMember("code") && issue["code"].IsString() ? issue["code"].GetString() : "";
}

} // namespace hl7gw::test
