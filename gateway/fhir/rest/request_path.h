#pragma once

#include "gateway/core/issue.h"

#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::fhir::rest {

/// One query or form parameter, percent-decoded. Names keep their modifiers and chains
/// ("subject:Patient.name", "date").
struct QueryParam {
    std::string name;
    std::string value;

    bool operator==(const QueryParam&) const = default;
};
/// In request order; a repeated parameter appears once per occurrence (repeats mean AND).
using QueryParams = std::vector<QueryParam>;

/// Which FHIR interaction endpoint a request target names (FHIR R4 http.html).
enum class Endpoint {
    System,            // [base]: batch/transaction (POST), system search (GET [base]?...)
    SystemSearch,      // [base]/_search
    SystemHistory,     // [base]/_history
    SystemOperation,   // [base]/$op
    Metadata,          // [base]/metadata
    Type,              // [type]: search (GET), create (POST), conditional update/delete
    TypeSearch,        // [type]/_search
    TypeHistory,       // [type]/_history
    TypeOperation,     // [type]/$op
    Instance,          // [type]/[id]: read, update, patch, delete
    InstanceHistory,   // [type]/[id]/_history
    InstanceVersion,   // [type]/[id]/_history/[vid]: vread
    InstanceOperation, // [type]/[id]/$op
};

std::string_view toString(Endpoint endpoint);

/// A parsed request target. Fields a kind does not use are empty.
struct RequestPath {
    Endpoint endpoint = Endpoint::System;
    std::string type;      // syntax checked only: the server decides whether it exists
    std::string id;        // checked with isValidId()
    std::string versionId; // checked with isValidId()
    std::string operation; // without the '$'
    QueryParams query;
};

/// Parses an HTTP request target ("/fhir/Patient/123/_history/2?_format=json") under `base`
/// (a path, "/fhir"). Path segments are percent-decoded one by one (so "%2F" cannot split
/// a segment); one trailing '/' is tolerated; a fragment is dropped. The query is parsed by
/// parseQuery() with '+' kept as '+' (a URL's '+' is the timezone sign of an unescaped
/// dateTime far more often than an encoded space; form bodies use plusIsSpace).
/// On failure returns false with `issue` set:
/// - code "not-found" (404): the target is not under `base`, names no FHIR endpoint
///   (`Patient/1/foo`), or a type that is not a resource type name (`patient`);
/// - code "invalid" (400): an id or version id breaking `[A-Za-z0-9\-\.]{1,64}`, an operation
///   name that is not `$name`, an empty segment (`Patient//1`), a bad percent escape, or a
///   decoded name or value that is not UTF-8.
/// Location::path is left empty (these are not FHIRPath locations); text names the segment.
bool parseRequestTarget(std::string_view target, RequestPath& out, core::Issue& issue,
                        std::string_view base = "/fhir");

/// Parses a transaction or batch entry's `request.url`: relative to the base
/// ("Patient/123", "Patient?identifier=x|1", "Patient/123/_history/2"), or absolute when it
/// starts with `baseUrl` followed by '/' or '?' (baseUrl "https://gw.example/fhir"; empty =
/// relative only). A leading '/' is tolerated. Issues as for parseRequestTarget().
bool parseEntryUrl(std::string_view url, RequestPath& out, core::Issue& issue,
                   std::string_view baseUrl = {});

/// Splits `query` (without '?') at '&' into name=value pairs and percent-decodes both; with
/// plusIsSpace (application/x-www-form-urlencoded bodies), '+' decodes to a space. Empty
/// pieces ("a=1&&b=2") are skipped; a piece without '=' is a name with an empty value. Returns
/// false with an "invalid" issue on a bad escape ("%zz") or a result that is not UTF-8.
bool parseQuery(std::string_view query, QueryParams& out, core::Issue& issue,
                bool plusIsSpace = false);

/// FHIR id syntax: [A-Za-z0-9\-\.]{1,64}.
bool isValidId(std::string_view id);
/// A resource type name by syntax: an ASCII capital then ASCII letters, at most 64 in all.
bool isValidTypeName(std::string_view type);
/// An operation name after '$': a letter then letters, digits, '-' or '_'.
bool isValidOperationName(std::string_view name);

} // namespace hl7gw::fhir::rest
