#include "gateway/console/http_server.h"

#include "gateway/fhir/rest/negotiation.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

#include <Poco/String.h>

#include <chrono>
#include <istream>
#include <ostream>
#include <thread>

namespace hl7gw::console {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

void sendText(HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
              const std::string& contentType, const std::string& body)
{
    response.setStatus(status);
    response.setContentType(contentType);
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send().write(body.data(), static_cast<std::streamsize>(body.size()));
}

struct Shared {
    HttpServerConfig config;
    store::MessageStore& store;
    core::MetricsRegistry& metrics;
    HttpMessageFn onMessage;
    fhir::FhirServer* fhir = nullptr;
};

// Bodies smaller than this go out as they are: gzip would save little and cost a copy.
constexpr std::size_t GzipThreshold = 1024;

class Handler : public Poco::Net::HTTPRequestHandler {
  public:
    explicit Handler(Shared& shared) : shared_(shared) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override
    {
        const std::string& uri = request.getURI();
        const std::string path = uri.substr(0, uri.find('?'));
        const bool get = request.getMethod() == "GET" || request.getMethod() == "HEAD";
        if (path == "/healthz" && get) {
            try {
                shared_.store.ping();
                sendText(response, HTTPResponse::HTTP_OK, "text/plain", "ok\n");
            } catch (const Poco::Exception& e) {
                sendText(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "text/plain",
                         "store unavailable\n");
            }
            return;
        }
        if (path == "/metrics" && get) {
            sendText(response, HTTPResponse::HTTP_OK, "text/plain; version=0.0.4",
                     shared_.metrics.render());
            return;
        }
        if (shared_.fhir != nullptr) {
            const std::string& base = shared_.fhir->config().base;
            if (path == base || path.rfind(base + "/", 0) == 0) {
                handleFhir(request, response);
                return;
            }
        }
        if (path.rfind("/hl7/", 0) == 0) {
            if (request.getMethod() != "POST") {
                response.set("Allow", "POST");
                sendText(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "text/plain",
                         "POST an HL7 v2 message\n");
                return;
            }
            handleMessage(request, response, path.substr(5));
            return;
        }
        sendText(response, HTTPResponse::HTTP_NOT_FOUND, "text/plain", "not found\n");
    }

  private:
    /// Reads the whole body, or returns false once it passes the limit.
    bool readBody(HTTPServerRequest& request, std::string& body)
    {
        if (request.hasContentLength() &&
            request.getContentLength64() > static_cast<Poco::Int64>(shared_.config.maxBodyBytes)) {
            return false;
        }
        body.reserve(request.hasContentLength()
                         ? static_cast<std::size_t>(request.getContentLength64())
                         : 4096);
        char buf[8192];
        std::istream& in = request.stream();
        while (in.read(buf, sizeof buf) || in.gcount() > 0) {
            body.append(buf, static_cast<std::size_t>(in.gcount()));
            if (body.size() > shared_.config.maxBodyBytes) {
                return false;
            }
        }
        return true;
    }

    void handleFhir(HTTPServerRequest& request, HTTPServerResponse& response)
    {
        fhir::FhirRequest fhirRequest;
        fhirRequest.method = request.getMethod();
        fhirRequest.target = request.getURI();
        fhirRequest.host = request.getHost();
        for (const auto& [name, value] : request) {
            fhirRequest.headers.emplace_back(Poco::toLower(name), value);
        }
        fhir::FhirResponse answer;
        if (!readBody(request, fhirRequest.body)) {
            fhirRequest.body.clear();
            answer =
                shared_.fhir->refuse(fhirRequest, 413, "too-costly",
                                     "the body is larger than " +
                                         std::to_string(shared_.config.maxBodyBytes) + " bytes");
        } else if (Poco::icompare(fhirRequest.header("content-encoding"), "gzip") == 0) {
            std::string plain;
            if (!fhir::rest::gzipDecompress(fhirRequest.body, plain)) {
                sendText(response, HTTPResponse::HTTP_BAD_REQUEST, "text/plain",
                         "the body is not valid gzip\n");
                return;
            }
            fhirRequest.body = std::move(plain);
        }
        if (answer.status == 200) {
            answer = shared_.fhir->handle(fhirRequest);
        }
        response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(answer.status));
        for (const auto& [name, value] : answer.headers) {
            response.set(name, value);
        }
        if (answer.body.size() >= GzipThreshold &&
            fhir::rest::gzipWanted(request.get("Accept-Encoding", ""))) {
            answer.body = fhir::rest::gzipCompress(answer.body);
            response.set("Content-Encoding", "gzip");
            response.set("Vary", "Accept-Encoding");
        }
        response.setContentLength(static_cast<std::streamsize>(answer.body.size()));
        std::ostream& out = response.send();
        if (request.getMethod() != "HEAD") {
            out.write(answer.body.data(), static_cast<std::streamsize>(answer.body.size()));
        }
    }

    void handleMessage(HTTPServerRequest& request, HTTPServerResponse& response,
                       const std::string& channel)
    {
        if (request.hasContentLength() &&
            request.getContentLength64() > static_cast<Poco::Int64>(shared_.config.maxBodyBytes)) {
            sendText(response, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "text/plain",
                     "message larger than the limit\n");
            return;
        }
        std::string body;
        body.reserve(request.hasContentLength()
                         ? static_cast<std::size_t>(request.getContentLength64())
                         : 4096);
        char buf[8192];
        std::istream& in = request.stream();
        while (in.read(buf, sizeof buf) || in.gcount() > 0) {
            body.append(buf, static_cast<std::size_t>(in.gcount()));
            if (body.size() > shared_.config.maxBodyBytes) {
                sendText(response, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "text/plain",
                         "message larger than the limit\n");
                return;
            }
        }
        std::string ack;
        bool stored = false;
        const std::string peer = "http:" + request.clientAddress().toString();
        if (!shared_.onMessage || !shared_.onMessage(body, channel, peer, ack, stored)) {
            sendText(response, HTTPResponse::HTTP_NOT_FOUND, "text/plain",
                     "no channel takes HTTP messages at this path\n");
            return;
        }
        sendText(response, stored ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
                 "x-application/hl7-v2+er7", ack);
    }

    Shared& shared_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    explicit Factory(Shared& shared) : shared_(shared) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override
    {
        return new Handler(shared_);
    }

  private:
    Shared& shared_;
};

} // namespace

class HttpServer::Impl {
  public:
    Impl(HttpServerConfig config, store::MessageStore& store, core::MetricsRegistry& metrics,
         HttpMessageFn onMessage)
        : shared_{std::move(config), store, metrics, std::move(onMessage)}
    {
    }

    Shared shared_;
    // Our own threads: on POCO's default pool (16 threads) a second server in the process, or
    // anything else there, could take them all, and this server's queued connections would
    // wait for a thread that never comes. Declared before server_, which uses it.
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    std::uint16_t port_ = 0;
};

HttpServer::HttpServer(HttpServerConfig config, store::MessageStore& store,
                       core::MetricsRegistry& metrics, HttpMessageFn onMessage)
    : impl_(std::make_unique<Impl>(std::move(config), store, metrics, std::move(onMessage)))
{
}

HttpServer::~HttpServer()
{
    stop();
}

void HttpServer::mountFhir(fhir::FhirServer& server)
{
    impl_->shared_.fhir = &server;
}

void HttpServer::start()
{
    const transport::Endpoint& listen = impl_->shared_.config.listen;
    Poco::Net::ServerSocket socket;
    try {
        socket.bind(Poco::Net::SocketAddress(listen.host, listen.port), true);
        socket.listen(128);
    } catch (const Poco::Exception& e) {
        throw transport::TransportError("cannot listen for HTTP on " + listen.toString() + ": " +
                                        e.displayText());
    }
    impl_->port_ = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(impl_->shared_.config.maxThreads);
    params->setKeepAlive(true);
    // POCO serves a connection on one thread until it closes: without a bound, clients
    // beyond maxThreads that keep their connections open would wait forever (with 16
    // threads, 16 of wrk's 32 connections were never served). A busy connection is closed
    // after this many requests, an idle one after the timeout, and the queue moves.
    params->setMaxKeepAliveRequests(1000);
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    impl_->pool_ = std::make_unique<Poco::ThreadPool>(2, impl_->shared_.config.maxThreads + 2, 60);
    impl_->server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(impl_->shared_),
                                                             *impl_->pool_, socket, params);
    impl_->server_->start();
}

void HttpServer::stop()
{
    if (impl_ && impl_->server_) {
        // Requests in hand finish; connections that stay open (keep-alive) are closed after a
        // short grace, so that the pool's threads end and the pool can go.
        impl_->server_->stopAll(false);
        for (int i = 0; i < 40 && impl_->pool_->used() > 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        impl_->server_->stopAll(true);
        impl_->pool_->joinAll();
        impl_->server_.reset();
        impl_->pool_.reset();
    }
}

std::uint16_t HttpServer::port() const
{
    return impl_->port_;
}

} // namespace hl7gw::console
