#include "gateway/fhir/rest/request_path.h"

#include "gateway/core/utf8.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace hl7gw::fhir::rest {

namespace {

bool isAsciiUpper(char c)
{
    return c >= 'A' && c <= 'Z';
}

bool isAsciiAlpha(char c)
{
    return isAsciiUpper(c) || (c >= 'a' && c <= 'z');
}

bool isAsciiDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isUtf8(std::string_view text)
{
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = core::utf8SequenceLength(text, i);
        if (length == 0) {
            return false;
        }
        i += length;
    }
    return true;
}

void fail(core::Issue& issue, std::string code, std::string text)
{
    issue = core::Issue{};
    issue.severity = core::Severity::Error;
    issue.code = std::move(code);
    issue.text = std::move(text);
}

/// Percent-decodes `raw` into `out`; false (issue set) on a bad escape or non-UTF-8 result.
bool decode(std::string_view raw, bool plusIsSpace, std::string& out, core::Issue& issue,
            std::string_view what)
{
    std::string encoded(raw);
    if (plusIsSpace) {
        // Only a literal '+' is a space (HTML form encoding); "%2B" still decodes to '+'.
        std::replace(encoded.begin(), encoded.end(), '+', ' ');
    }
    out.clear();
    try {
        Poco::URI::decode(encoded, out);
    } catch (const Poco::SyntaxException&) {
        fail(issue, "invalid", std::string(what) + ": bad percent escape");
        return false;
    }
    if (!isUtf8(out)) {
        fail(issue, "invalid", std::string(what) + ": not UTF-8 once decoded");
        return false;
    }
    return true;
}

/// Interprets decoded path segments relative to the FHIR base.
bool parseSegments(const std::vector<std::string>& segments, RequestPath& out, core::Issue& issue)
{
    const auto notFound = [&issue](const std::string& why) {
        fail(issue, "not-found", why);
        return false;
    };
    const auto checkId = [&issue](const std::string& id, const char* what) {
        if (isValidId(id)) {
            return true;
        }
        fail(issue, "invalid", std::string(what) + " is not a valid FHIR id ([A-Za-z0-9-.]{1,64})");
        return false;
    };
    const auto checkOperation = [&issue](const std::string& segment, RequestPath& path) {
        path.operation = segment.substr(1);
        if (isValidOperationName(path.operation)) {
            return true;
        }
        fail(issue, "invalid", "'" + segment + "' is not an operation name");
        return false;
    };

    const std::size_t count = segments.size();
    if (count == 0) {
        out.endpoint = Endpoint::System;
        return true;
    }
    const std::string& first = segments[0];
    if (count == 1 && first == "metadata") {
        out.endpoint = Endpoint::Metadata;
        return true;
    }
    if (count == 1 && first == "_history") {
        out.endpoint = Endpoint::SystemHistory;
        return true;
    }
    if (count == 1 && first == "_search") {
        out.endpoint = Endpoint::SystemSearch;
        return true;
    }
    if (!first.empty() && first[0] == '$') {
        if (count != 1) {
            return notFound("nothing is below a system operation");
        }
        out.endpoint = Endpoint::SystemOperation;
        return checkOperation(first, out);
    }
    if (!isValidTypeName(first)) {
        return notFound("'" + first.substr(0, 64) + "' is not a resource type");
    }
    out.type = first;
    if (count == 1) {
        out.endpoint = Endpoint::Type;
        return true;
    }
    const std::string& second = segments[1];
    if (second == "_search" || second == "_history" || second[0] == '$') {
        if (count != 2) {
            return notFound("nothing is below " + first + "/" + second);
        }
        if (second == "_search") {
            out.endpoint = Endpoint::TypeSearch;
            return true;
        }
        if (second == "_history") {
            out.endpoint = Endpoint::TypeHistory;
            return true;
        }
        out.endpoint = Endpoint::TypeOperation;
        return checkOperation(second, out);
    }
    if (!checkId(second, "the resource id")) {
        return false;
    }
    out.id = second;
    if (count == 2) {
        out.endpoint = Endpoint::Instance;
        return true;
    }
    const std::string& third = segments[2];
    if (third[0] == '$') {
        if (count != 3) {
            return notFound("nothing is below an instance operation");
        }
        out.endpoint = Endpoint::InstanceOperation;
        return checkOperation(third, out);
    }
    if (third != "_history") {
        return notFound("'" + third.substr(0, 64) + "' is not an interaction on " + first);
    }
    if (count == 3) {
        out.endpoint = Endpoint::InstanceHistory;
        return true;
    }
    if (count != 4) {
        return notFound("nothing is below a version");
    }
    if (!checkId(segments[3], "the version id")) {
        return false;
    }
    out.versionId = segments[3];
    out.endpoint = Endpoint::InstanceVersion;
    return true;
}

/// Parses `path` (relative to the base, no leading '/') and `query` into `out`.
bool parseRelative(std::string_view path, std::string_view query, RequestPath& out,
                   core::Issue& issue)
{
    RequestPath result;
    if (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    std::vector<std::string> segments;
    if (!path.empty()) {
        std::size_t start = 0;
        for (;;) {
            const std::size_t slash = path.find('/', start);
            const std::string_view raw = path.substr(
                start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
            if (raw.empty()) {
                fail(issue, "invalid", "the path has an empty segment");
                return false;
            }
            std::string segment;
            if (!decode(raw, false, segment, issue, "a path segment")) {
                return false;
            }
            if (segment.empty()) {
                fail(issue, "invalid", "the path has an empty segment");
                return false;
            }
            segments.push_back(std::move(segment));
            if (slash == std::string_view::npos) {
                break;
            }
            start = slash + 1;
        }
    }
    if (!parseSegments(segments, result, issue)) {
        return false;
    }
    if (!parseQuery(query, result.query, issue)) {
        return false;
    }
    out = std::move(result);
    return true;
}

/// Splits a target at '?' (and drops a '#' fragment).
void splitTarget(std::string_view target, std::string_view& path, std::string_view& query)
{
    target = target.substr(0, target.find('#'));
    const std::size_t mark = target.find('?');
    path = target.substr(0, mark);
    query = mark == std::string_view::npos ? std::string_view() : target.substr(mark + 1);
}

} // namespace

std::string_view toString(Endpoint endpoint)
{
    switch (endpoint) {
    case Endpoint::System:
        return "system";
    case Endpoint::SystemSearch:
        return "system-search";
    case Endpoint::SystemHistory:
        return "system-history";
    case Endpoint::SystemOperation:
        return "system-operation";
    case Endpoint::Metadata:
        return "metadata";
    case Endpoint::Type:
        return "type";
    case Endpoint::TypeSearch:
        return "type-search";
    case Endpoint::TypeHistory:
        return "type-history";
    case Endpoint::TypeOperation:
        return "type-operation";
    case Endpoint::Instance:
        return "instance";
    case Endpoint::InstanceHistory:
        return "instance-history";
    case Endpoint::InstanceVersion:
        return "instance-version";
    case Endpoint::InstanceOperation:
        return "instance-operation";
    }
    return "unknown";
}

bool parseRequestTarget(std::string_view target, RequestPath& out, core::Issue& issue,
                        std::string_view base)
{
    std::string_view path;
    std::string_view query;
    splitTarget(target, path, query);
    while (!base.empty() && base.back() == '/') {
        base.remove_suffix(1);
    }
    if (path.substr(0, base.size()) != base ||
        (path.size() > base.size() && path[base.size()] != '/')) {
        fail(issue, "not-found", "the target is not under the FHIR base " + std::string(base));
        return false;
    }
    path.remove_prefix(base.size());
    if (!path.empty()) {
        path.remove_prefix(1); // the '/' after the base
    }
    return parseRelative(path, query, out, issue);
}

bool parseEntryUrl(std::string_view url, RequestPath& out, core::Issue& issue,
                   std::string_view baseUrl)
{
    while (!baseUrl.empty() && baseUrl.back() == '/') {
        baseUrl.remove_suffix(1);
    }
    if (!baseUrl.empty() && url.substr(0, baseUrl.size()) == baseUrl &&
        (url.size() == baseUrl.size() || url[baseUrl.size()] == '/' ||
         url[baseUrl.size()] == '?')) {
        url.remove_prefix(baseUrl.size());
    } else if (url.find("://") != std::string_view::npos) {
        fail(issue, "not-found", "request.url is an absolute URL outside this server's base");
        return false;
    }
    if (!url.empty() && url.front() == '/') {
        url.remove_prefix(1);
    }
    std::string_view path;
    std::string_view query;
    splitTarget(url, path, query);
    return parseRelative(path, query, out, issue);
}

bool parseQuery(std::string_view query, QueryParams& out, core::Issue& issue, bool plusIsSpace)
{
    QueryParams result;
    std::size_t start = 0;
    while (start <= query.size()) {
        const std::size_t amp = std::min(query.find('&', start), query.size());
        const std::string_view piece = query.substr(start, amp - start);
        start = amp + 1;
        if (piece.empty()) {
            continue;
        }
        const std::size_t equals = piece.find('=');
        QueryParam param;
        if (!decode(piece.substr(0, equals), plusIsSpace, param.name, issue, "a parameter name")) {
            return false;
        }
        if (equals != std::string_view::npos &&
            !decode(piece.substr(equals + 1), plusIsSpace, param.value, issue,
                    "the value of " + param.name.substr(0, 64))) {
            return false;
        }
        result.push_back(std::move(param));
    }
    out = std::move(result);
    return true;
}

bool isValidId(std::string_view id)
{
    if (id.empty() || id.size() > 64) {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return isAsciiAlpha(c) || isAsciiDigit(c) || c == '-' || c == '.';
    });
}

bool isValidTypeName(std::string_view type)
{
    if (type.empty() || type.size() > 64 || !isAsciiUpper(type[0])) {
        return false;
    }
    return std::all_of(type.begin(), type.end(), isAsciiAlpha);
}

bool isValidOperationName(std::string_view name)
{
    if (name.empty() || !isAsciiAlpha(name[0])) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return isAsciiAlpha(c) || isAsciiDigit(c) || c == '-' || c == '_';
    });
}

} // namespace hl7gw::fhir::rest
