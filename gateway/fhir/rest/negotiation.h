#pragma once

#include <string>
#include <string_view>

namespace hl7gw::fhir::rest {

/// The two FHIR encodings we speak.
enum class Format { Json, Xml };

/// What a request body holds, from its Content-Type.
enum class BodyFormat {
    Json,      // application/fhir+json, application/json, application/json+fhir
    Xml,       // application/fhir+xml, application/xml, text/xml, application/xml+fhir
    JsonPatch, // application/json-patch+json (PATCH)
    Form,      // application/x-www-form-urlencoded (POST [type]/_search)
};

/// The outcome of a negotiation: `status` 0 when it succeeded; otherwise the HTTP status to
/// answer (406, 415) and `reason`, a sentence for the OperationOutcome's diagnostics.
template <typename T> struct Negotiated {
    T value{};
    int status = 0;
    std::string reason;

    bool ok() const { return status == 0; }
};

/// The response format (FHIR R4 http.html#mime-type, STANDARDS.md §3.4). A non-empty
/// `formatParam` (_format) decides alone: json, application/json, application/fhir+json
/// (also "application/fhir json", which is what an unescaped '+' becomes once decoded) ->
/// JSON; xml, text/xml, application/xml, application/fhir+xml -> XML; MIME parameters
/// (";fhirVersion=4.0") are ignored; anything else -> 406. Otherwise `accept` (RFC 7231
/// §5.3.2): each format's quality is that of the most specific range matching one of its
/// MIME types (exact, then type/*, then */*); the higher quality wins, on a tie the more
/// specific match, then JSON. No Accept at all, or only ranges that are malformed, means
/// JSON. Every matching range at q=0 (or none matching) -> 406.
Negotiated<Format> responseFormat(std::string_view formatParam, std::string_view accept);

/// The request body format from its Content-Type. A charset other than utf-8 -> 415 (FHIR is
/// UTF-8 only); a missing Content-Type or an unknown type -> 415. Whether the format fits
/// the interaction (a Form on PUT) is the caller's check.
Negotiated<BodyFormat> requestFormat(std::string_view contentType);

/// `_pretty`: true only for "true" (the spec's only values are true and false; anything else
/// reads as false, which is the default).
bool prettyWanted(std::string_view prettyParam);

/// True when Accept-Encoding (RFC 7231 §5.3.4) takes gzip (or x-gzip) with q > 0, or names
/// `*` with q > 0 and does not name gzip at all.
bool gzipWanted(std::string_view acceptEncoding);

/// "application/fhir+json; charset=utf-8" / "application/fhir+xml; charset=utf-8".
std::string_view contentTypeFor(Format format);

/// `bytes` compressed as one gzip member (RFC 1952), for Content-Encoding: gzip.
std::string gzipCompress(std::string_view bytes);

/// The bytes of a gzip stream; false when `bytes` is not valid gzip.
bool gzipDecompress(std::string_view bytes, std::string& out);

} // namespace hl7gw::fhir::rest
