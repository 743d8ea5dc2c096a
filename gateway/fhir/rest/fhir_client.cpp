#include "gateway/fhir/rest/fhir_client.h"

#include "gateway/core/errors.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/rest/headers.h"
#include "gateway/fhir/rest/negotiation.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/String.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <istream>
#include <ostream>

namespace hl7gw::fhir::rest {

namespace {

constexpr std::string_view JsonType = "application/fhir+json";

Poco::Timespan millis(int ms)
{
    return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms) * 1000);
}

std::string encodeSegment(std::string_view segment)
{
    std::string out;
    Poco::URI::encode(std::string(segment), "/?#&=+;", out);
    return out;
}

std::string encodeQuery(const QueryParams& params)
{
    std::string out;
    for (const QueryParam& param : params) {
        out += out.empty() ? "" : "&";
        Poco::URI::encode(param.name, "&=+#?", out);
        out += '=';
        Poco::URI::encode(param.value, "&=+#?", out);
    }
    return out;
}

/// "Patient/1", "Patient", "" from optional parts, each encoded.
std::string joinPath(std::initializer_list<std::string_view> segments)
{
    std::string path;
    for (std::string_view segment : segments) {
        if (segment.empty()) {
            continue;
        }
        path += path.empty() ? "" : "/";
        path += encodeSegment(segment);
    }
    return path;
}

bool isIdempotent(const std::string& method)
{
    return method == Poco::Net::HTTPRequest::HTTP_GET ||
           method == Poco::Net::HTTPRequest::HTTP_PUT ||
           method == Poco::Net::HTTPRequest::HTTP_DELETE ||
           method == Poco::Net::HTTPRequest::HTTP_HEAD;
}

/// Reads at most `limit` bytes of `in` into `out`; false when there were more.
bool readLimited(std::istream& in, std::size_t limit, std::string& out)
{
    char buffer[16384];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        out.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (out.size() > limit) {
            return false;
        }
        if (!in) {
            break;
        }
    }
    return true;
}

void readBody(FhirResponse& response, std::istream& in, const Poco::Net::HTTPResponse& http,
              std::size_t limit)
{
    std::string raw;
    if (!readLimited(in, limit, raw)) {
        response.error = "the response body is larger than " + std::to_string(limit) + " bytes";
        return;
    }
    if (in.bad()) {
        // istream swallows the stream buffer's exception (reset, timeout) and sets badbit.
        response.error = "the connection failed while the response body was read";
        return;
    }
    if (http.hasContentLength() && response.status != 204 && response.status != 304 &&
        static_cast<std::streamsize>(raw.size()) < http.getContentLength64()) {
        response.error = "the connection closed before the whole response body arrived";
        return;
    }
    if (Poco::icompare(http.get("Content-Encoding", ""), "gzip") == 0) {
        std::string plain;
        if (!gzipDecompress(raw, plain)) {
            response.error = "the response says gzip but is not";
            return;
        }
        if (plain.size() > limit) {
            response.error = "the response body is larger than " + std::to_string(limit) + " bytes";
            return;
        }
        raw = std::move(plain);
    }
    response.body = std::move(raw);
    if (response.body.empty()) {
        return;
    }
    const Negotiated<BodyFormat> format = requestFormat(response.contentType);
    const bool success = response.status >= 200 && response.status < 300;
    if (format.ok() && format.value == BodyFormat::Xml) {
        if (success) {
            response.error = "the server answered XML; this client reads JSON";
        }
        return;
    }
    const bool saysJson = format.ok() && format.value == BodyFormat::Json;
    if (!saysJson && !success) {
        return; // an error page from a proxy, say: the status is the answer
    }
    core::Issue issue;
    if (parseJson(response.body, response.resource, issue)) {
        response.hasResource = true;
    } else {
        response.resource.SetNull();
        response.error = "the response body is not valid JSON: " + issue.text + " (" +
                         issue.location.toString() + ")";
    }
}

} // namespace

FhirClient::FhirClient(FhirClientConfig config) : config_(std::move(config))
{
    // SIGPIPE ignored (POCO writes without MSG_NOSIGNAL: a server that resets mid-request
    // would end the process) and OpenSSL initialised, as for every client in this process.
    transport::initializeTransport();
    Poco::URI uri;
    try {
        uri = Poco::URI(config_.baseUrl);
    } catch (const Poco::SyntaxException& error) {
        throw core::ConfigError("FHIR base URL " + config_.baseUrl + ": " + error.message());
    }
    scheme_ = Poco::toLower(uri.getScheme());
    if ((scheme_ != "http" && scheme_ != "https") || uri.getHost().empty()) {
        throw core::ConfigError("FHIR base URL " + config_.baseUrl +
                                ": expected http://host[:port]/path or https://...");
    }
    if (!uri.getQuery().empty() || !uri.getFragment().empty()) {
        throw core::ConfigError("FHIR base URL " + config_.baseUrl +
                                ": a base has no query or fragment");
    }
    host_ = uri.getHost();
    port_ = uri.getPort();
    basePath_ = uri.getPath();
    while (!basePath_.empty() && basePath_.back() == '/') {
        basePath_.pop_back();
    }
    if (scheme_ == "https") {
        context_ = transport::makeClientContext(config_.tls);
    }
}

FhirClient::~FhirClient() = default;

Poco::Net::HTTPClientSession& FhirClient::session()
{
    if (!session_) {
        if (context_) {
            session_ = std::make_unique<Poco::Net::HTTPSClientSession>(host_, port_, context_);
        } else {
            session_ = std::make_unique<Poco::Net::HTTPClientSession>(host_, port_);
        }
        session_->setTimeout(millis(config_.connectTimeoutMs), millis(config_.timeoutMs),
                             millis(config_.timeoutMs));
        session_->setKeepAlive(true);
        session_->setKeepAliveTimeout(millis(config_.keepAliveTimeoutMs));
        requestsOnSession_ = 0;
    }
    return *session_;
}

FhirResponse FhirClient::create(std::string_view type, const rapidjson::Value& resource,
                                std::string_view ifNoneExist)
{
    const std::string body = writeJson(resource);
    std::vector<std::pair<std::string, std::string>> headers;
    if (!ifNoneExist.empty()) {
        headers.emplace_back("If-None-Exist", std::string(ifNoneExist));
    }
    return send(Poco::Net::HTTPRequest::HTTP_POST, joinPath({type}), &body, headers);
}

FhirResponse FhirClient::read(std::string_view type, std::string_view id)
{
    return send(Poco::Net::HTTPRequest::HTTP_GET, joinPath({type, id}), nullptr);
}

FhirResponse FhirClient::vread(std::string_view type, std::string_view id,
                               std::string_view versionId)
{
    return send(Poco::Net::HTTPRequest::HTTP_GET, joinPath({type, id, "_history", versionId}),
                nullptr);
}

FhirResponse FhirClient::update(std::string_view type, std::string_view id,
                                const rapidjson::Value& resource, std::string_view ifMatchVersionId)
{
    const std::string body = writeJson(resource);
    std::vector<std::pair<std::string, std::string>> headers;
    if (!ifMatchVersionId.empty()) {
        headers.emplace_back("If-Match", formatETag(ifMatchVersionId));
    }
    return send(Poco::Net::HTTPRequest::HTTP_PUT, joinPath({type, id}), &body, headers);
}

FhirResponse FhirClient::remove(std::string_view type, std::string_view id,
                                std::string_view ifMatchVersionId)
{
    std::vector<std::pair<std::string, std::string>> headers;
    if (!ifMatchVersionId.empty()) {
        headers.emplace_back("If-Match", formatETag(ifMatchVersionId));
    }
    return send(Poco::Net::HTTPRequest::HTTP_DELETE, joinPath({type, id}), nullptr, headers);
}

FhirResponse FhirClient::search(std::string_view type, const QueryParams& params)
{
    std::string relative = joinPath({type});
    if (!params.empty()) {
        relative += "?" + encodeQuery(params);
    }
    return send(Poco::Net::HTTPRequest::HTTP_GET, relative, nullptr);
}

FhirResponse FhirClient::transaction(const rapidjson::Value& bundle)
{
    const std::string body = writeJson(bundle);
    return send(Poco::Net::HTTPRequest::HTTP_POST, "", &body);
}

FhirResponse FhirClient::operation(std::string_view type, std::string_view id,
                                   std::string_view name, const rapidjson::Value* parameters)
{
    std::string relative = joinPath({type, id});
    relative += (relative.empty() ? "$" : "/$") + encodeSegment(name);
    if (!parameters) {
        return send(Poco::Net::HTTPRequest::HTTP_POST, relative, nullptr);
    }
    const std::string body = writeJson(*parameters);
    return send(Poco::Net::HTTPRequest::HTTP_POST, relative, &body);
}

FhirResponse FhirClient::send(const std::string& method, const std::string& relative,
                              const std::string* body,
                              const std::vector<std::pair<std::string, std::string>>& headers)
{
    std::string target = basePath_;
    if (relative.empty() || relative[0] == '?') {
        target += relative;
    } else {
        target += "/" + relative;
    }
    if (target.empty() || target[0] != '/') {
        target.insert(0, "/");
    }
    const bool reused = session_ && requestsOnSession_ > 0;
    bool answered = false;
    FhirResponse response = sendOnce(method, target, body, headers, answered);
    if (response.status == 0 && !answered && reused && isIdempotent(method)) {
        response = sendOnce(method, target, body, headers, answered);
    }
    return response;
}

FhirResponse FhirClient::sendOnce(const std::string& method, const std::string& target,
                                  const std::string* body,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  bool& answered)
{
    FhirResponse response;
    answered = false;
    try {
        Poco::Net::HTTPClientSession& http = session();
        Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
        request.setKeepAlive(true);
        request.set("Accept", std::string(JsonType));
        request.set("Accept-Encoding", "gzip");
        for (const auto& [name, value] : config_.headers) {
            request.set(name, value);
        }
        for (const auto& [name, value] : headers) {
            request.set(name, value);
        }
        if (body) {
            request.setContentType(std::string(contentTypeFor(Format::Json)));
            request.setContentLength(static_cast<std::streamsize>(body->size()));
        }
        ++requestsOnSession_;
        std::ostream& out = http.sendRequest(request);
        if (body) {
            out.write(body->data(), static_cast<std::streamsize>(body->size()));
        }
        Poco::Net::HTTPResponse answer;
        std::istream& in = http.receiveResponse(answer);
        answered = true;
        response.status = static_cast<int>(answer.getStatus());
        response.reason = answer.getReason();
        response.etag = answer.get("ETag", "");
        if (std::optional<std::string> versionId = parseETag(response.etag)) {
            response.versionId = std::move(*versionId);
        }
        response.location = answer.get("Location", answer.get("Content-Location", ""));
        response.lastModified = answer.get("Last-Modified", "");
        response.contentType = answer.get("Content-Type", "");
        readBody(response, in, answer, config_.maxResponseBytes);
        if (!response.error.empty() || !answer.getKeepAlive()) {
            session_.reset();
        }
    } catch (const Poco::Exception& error) {
        // Connect, TLS, timeout or reset: this connection is done; the next request opens
        // another. A status already read stays, so a cut-off body reads as the failure it is.
        response.error = error.displayText();
        session_.reset();
    }
    return response;
}

} // namespace hl7gw::fhir::rest
