#pragma once

#include "gateway/fhir/rest/request_path.h"
#include "gateway/transport/tls_context.h"

#include <Poco/AutoPtr.h>

#include <rapidjson/document.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Poco::Net {
class Context;
class HTTPClientSession;
} // namespace Poco::Net

namespace hl7gw::fhir::rest {

struct FhirClientConfig {
    /// The server's FHIR base, "https://host:port/fhir" (http or https; the path may be empty).
    std::string baseUrl;
    /// https only: `ca` verifies the server (system CAs when empty) and the server must be
    /// named by its certificate; `cert` + `key` are presented as the client certificate.
    transport::TlsConfig tls;
    int connectTimeoutMs = 10'000;
    /// Each send and each receive.
    int timeoutMs = 30'000;
    /// An idle kept-alive connection older than this is replaced before the next request.
    int keepAliveTimeoutMs = 8'000;
    /// A larger (decompressed) response body fails the request.
    std::size_t maxResponseBytes = 64 * 1024 * 1024;
    /// Sent with every request (Authorization, X-Request-Id ...); names are not checked.
    std::vector<std::pair<std::string, std::string>> headers;
};

/// One answer. `status` is 0 when no HTTP answer arrived; `error` then says why.
struct FhirResponse {
    int status = 0;
    std::string reason;
    std::string etag;         // as sent
    std::string versionId;    // from the ETag (W/"3" -> "3"); empty when absent or malformed
    std::string location;     // Location, else Content-Location
    std::string lastModified; // as sent
    std::string contentType;
    std::string body;             // the body bytes, after gzip decoding
    rapidjson::Document resource; // the body parsed by parseJson(); null when hasResource false
    bool hasResource = false;
    /// Empty unless the request failed below HTTP (connect, TLS, timeout, reset, a body too
    /// large or not decodable) or the body says it is JSON (or came with a 2xx) and is not.
    std::string error;

    /// A 2xx answer with no error.
    bool ok() const { return error.empty() && status >= 200 && status < 300; }
    /// Worth retrying later: no HTTP answer, 408, 429 or 5xx (as the http destination does).
    bool retryable() const
    {
        return status == 0 || status == 408 || status == 429 || status >= 500;
    }
};

/// A FHIR R4 REST client over one POCO HTTP(S) session, kept alive between requests. It
/// speaks JSON: requests carry `Accept: application/fhir+json`, `Accept-Encoding: gzip` and,
/// with a body, `Content-Type: application/fhir+json; charset=utf-8`. Ids and names are
/// percent-encoded into the path; they are not checked (the server answers 400/404).
///
/// Failures never throw: they come back in FhirResponse (an HTTP error status, or `error`).
/// After a failure below HTTP the connection is dropped and the next request opens a new
/// one; a GET, PUT or DELETE that fails on a reused connection before any answer is sent
/// once more on a fresh one (the server may close idle connections at any time); a POST is
/// not (it is not idempotent: the caller's retry decides).
///
/// Not thread-safe: one client per worker.
class FhirClient {
  public:
    /// Throws core::ConfigError for a base URL that is not http(s)://host..., and
    /// transport::TransportError when the TLS files cannot be loaded.
    explicit FhirClient(FhirClientConfig config);
    ~FhirClient();
    FhirClient(const FhirClient&) = delete;
    FhirClient& operator=(const FhirClient&) = delete;

    /// POST [type]; with ifNoneExist (a query, "identifier=sys|1") a conditional create.
    FhirResponse create(std::string_view type, const rapidjson::Value& resource,
                        std::string_view ifNoneExist = {});
    /// GET [type]/[id].
    FhirResponse read(std::string_view type, std::string_view id);
    /// GET [type]/[id]/_history/[vid].
    FhirResponse vread(std::string_view type, std::string_view id, std::string_view versionId);
    /// PUT [type]/[id]; with ifMatchVersionId, `If-Match: W/"vid"`.
    FhirResponse update(std::string_view type, std::string_view id,
                        const rapidjson::Value& resource, std::string_view ifMatchVersionId = {});
    /// DELETE [type]/[id]; with ifMatchVersionId, `If-Match: W/"vid"`.
    FhirResponse remove(std::string_view type, std::string_view id,
                        std::string_view ifMatchVersionId = {});
    /// GET [type]?params (GET [base]?params when type is empty).
    FhirResponse search(std::string_view type, const QueryParams& params);
    /// POST [base] with a Bundle of type transaction or batch.
    FhirResponse transaction(const rapidjson::Value& bundle);
    /// POST [type]/[id]/$name, [type]/$name or $name (type and id may be empty) with a
    /// Parameters resource, or with no body when parameters is null.
    FhirResponse operation(std::string_view type, std::string_view id, std::string_view name,
                           const rapidjson::Value* parameters);

    /// Any request: `relative` is a path below the base, already encoded, with its query
    /// ("Patient/1/_history"); `body` is sent as FHIR JSON when given; `headers` are added.
    FhirResponse send(const std::string& method, const std::string& relative,
                      const std::string* body,
                      const std::vector<std::pair<std::string, std::string>>& headers = {});

  private:
    Poco::Net::HTTPClientSession& session();
    FhirResponse sendOnce(const std::string& method, const std::string& target,
                          const std::string* body,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          bool& answered);

    FhirClientConfig config_;
    std::string scheme_;
    std::string host_;
    unsigned short port_ = 0;
    std::string basePath_;
    Poco::AutoPtr<Poco::Net::Context> context_;
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
    std::size_t requestsOnSession_ = 0;
};

} // namespace hl7gw::fhir::rest
