#include "gateway/fhir/server/detail/interactions.h"

#include "gateway/core/clock.h"
#include "gateway/fhir/model/definitions.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/model/validator.h"
#include "gateway/fhir/rest/json_patch.h"
#include "gateway/fhir/rest/outcome.h"
#include "gateway/fhir/rest/shaping.h"
#include "gateway/fhir/server/detail/capability.h"
#include "gateway/fhir/server/detail/resource_format.h"
#include "gateway/fhir/server/detail/slot_holds.h"
#include "gateway/store/message_store.h"

#include <Poco/Logger.h>
#include <Poco/URI.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>

namespace hl7gw::fhir::server {

namespace {

// A version conflict on an update without If-Match means another writer got in between our
// read and our write; we read again and retry this often before answering 409.
constexpr int UpdateAttempts = 3;

Poco::Logger& logger()
{
    return Poco::Logger::get("hl7gw.fhir");
}

std::string paramValue(const rest::QueryParams& params, std::string_view name)
{
    for (const auto& param : params) {
        if (param.name == name) {
            return param.value;
        }
    }
    return {};
}

// A link's query part: reserved characters and non-ASCII (Chinese names) percent-encoded.
std::string queryEncode(const std::string& text)
{
    std::string encoded;
    Poco::URI::encode(text, "&=+#", encoded);
    return encoded;
}

std::string versionText(std::int64_t version)
{
    return std::to_string(version);
}

bool requiresIfMatch(const FhirServerConfig& config, const std::string& type)
{
    return std::find(config.requireIfMatch.begin(), config.requireIfMatch.end(), type) !=
           config.requireIfMatch.end();
}

} // namespace

std::string fhirInstant(store::Micros micros)
{
    return core::formatIsoUtc(micros);
}

Interactions::Interactions(FhirServerConfig config, store::ResourceStore& store,
                           const core::Clock& clock, OutboxHook outbox)
    : config_(std::move(config)), store_(store), clock_(clock), outbox_(std::move(outbox)),
      runner_(store)
{
}

store::ChangeOutcome Interactions::commit(const std::vector<PreparedWrite*>& writes,
                                          store::Settlement* settles)
{
    std::vector<store::ResourceChange> changes;
    std::vector<store::OutboxMessage> outbox;
    changes.reserve(writes.size());
    static const rapidjson::Value none;
    CommitView view;
    if (outbox_ || !observers_.empty()) {
        for (const PreparedWrite* write : writes) {
            if (write->resource.IsObject()) {
                view.resources.emplace_back(write->change.type + "/" + write->change.id,
                                            &write->resource);
            }
        }
    }
    for (PreparedWrite* write : writes) {
        if (outbox_) {
            outbox_(write->change, write->resource.IsObject() ? write->resource : none, view,
                    outbox);
        }
        // The body and index rows are moved, not copied: the response reads only the rest.
        store::ResourceChange& mine = write->change;
        store::ResourceChange& change = changes.emplace_back();
        change.action = mine.action;
        change.type = mine.type;
        change.id = mine.id;
        change.expectedVersion = mine.expectedVersion;
        change.at = mine.at;
        change.method = mine.method;
        change.body = std::move(mine.body);
        change.indexes = std::move(mine.indexes);
    }
    if (settles != nullptr) {
        // What the entry's record says it wrote: every version the transaction makes.
        settles->response = "200: ";
        for (std::size_t i = 0; i < changes.size(); ++i) {
            settles->response += (i == 0 ? "" : ", ") + changes[i].type + '/' + changes[i].id +
                                 "/_history/" + std::to_string(changes[i].expectedVersion + 1);
        }
    }
    store::ChangeOutcome outcome = store_.apply(changes, outbox, settles);
    if (outcome.status == store::ChangeOutcome::Status::Applied) {
        for (const CommitObserver& observer : observers_) {
            observer(changes, view);
        }
    }
    if (outcome.status == store::ChangeOutcome::Status::Failed &&
        slot_holds::isTaken(outcome.error)) {
        const store::ResourceChange& change = changes.at(outcome.failedChange);
        outcome.error = change.type + "/" + change.id + ": " + SlotTaken;
    }
    return outcome;
}

bool Interactions::begin(Context& context, FhirResponse& refused)
{
    const FhirRequest& request = context.request;
    core::Issue pathIssue;
    const bool pathOk =
        rest::parseRequestTarget(request.target, context.path, pathIssue, config_.base);
    context.now = clock_.nowMicros();
    context.base = !config_.publicBase.empty()
                       ? config_.publicBase
                       : "http://" +
                             (request.host.empty() ? std::string("localhost") : request.host) +
                             config_.base;
    const auto negotiated =
        rest::responseFormat(paramValue(context.path.query, "_format"), request.header("accept"));
    context.pretty = rest::prettyWanted(paramValue(context.path.query, "_pretty"));
    context.prefer = rest::parsePrefer(request.header("prefer"));
    if (!negotiated.ok()) {
        refused = failure(context, negotiated.status, "not-supported", negotiated.reason);
        return false;
    }
    context.format = negotiated.value;
    if (!pathOk) {
        core::IssueList issues;
        issues.add(pathIssue);
        refused = failure(context, issues);
        return false;
    }
    return true;
}

FhirResponse Interactions::refuse(const FhirRequest& request, int status, std::string code,
                                  std::string text)
{
    Context context{request, {}, rest::Format::Json, false, {}, {}, 0};
    FhirResponse refused;
    begin(context, refused);
    return failure(context, status, std::move(code), std::move(text));
}

FhirResponse Interactions::handle(const FhirRequest& request)
{
    std::call_once(schemaOnce_, [this] {
        runner_.ensureSchema();
        store_.ensureIndexSchema(slot_holds::schema(store_.isPostgresql()), {slot_holds::Table});
    });
    Context context{request, {}, rest::Format::Json, false, {}, {}, 0};
    FhirResponse refused;
    if (!begin(context, refused)) {
        return refused;
    }
    try {
        return dispatch(context);
    } catch (const store::StoreError& e) {
        logger().error("FHIR %s %s: store failed: %s", request.method,
                       std::string(rest::toString(context.path.endpoint)), e.message());
        return failure(context, 503, "transient", "the store did not answer; try again");
    } catch (const std::exception& e) {
        logger().error("FHIR %s %s: %s", request.method,
                       std::string(rest::toString(context.path.endpoint)), std::string(e.what()));
        return failure(context, 500, "exception", "internal error");
    }
}

FhirResponse Interactions::dispatch(Context& context)
{
    using rest::Endpoint;
    const std::string& method = context.request.method;
    const rest::RequestPath& path = context.path;
    if (!path.type.empty() && !Definitions::r4().isResourceType(path.type)) {
        return failure(context, 404, "not-found", "'" + path.type + "' is not an R4 resource type");
    }
    switch (path.endpoint) {
    case Endpoint::Metadata:
        if (method == "GET") {
            return metadata(context);
        }
        break;
    case Endpoint::Instance:
        if (method == "GET" || method == "HEAD") {
            return read(context);
        }
        if (method == "PUT") {
            return update(context);
        }
        if (method == "PATCH") {
            return patch(context);
        }
        if (method == "DELETE") {
            return remove(context);
        }
        break;
    case Endpoint::InstanceVersion:
        if (method == "GET" || method == "HEAD") {
            return vread(context);
        }
        break;
    case Endpoint::InstanceHistory:
    case Endpoint::TypeHistory:
    case Endpoint::SystemHistory:
        if (method == "GET") {
            return history(context);
        }
        break;
    case Endpoint::Type:
        if (method == "GET") {
            return search(context, context.path.query);
        }
        if (method == "POST") {
            return create(context);
        }
        if (method == "PUT") {
            return conditionalUpdate(context);
        }
        if (method == "DELETE") {
            return failure(context, 405, "not-supported", "conditional delete is not supported");
        }
        break;
    case Endpoint::TypeSearch:
        if (method == "POST" || method == "GET") {
            rest::QueryParams params = context.path.query;
            if (method == "POST") {
                core::Issue issue;
                if (!rest::parseQuery(context.request.body, params, issue, true)) {
                    core::IssueList issues;
                    issues.add(issue);
                    return failure(context, issues);
                }
            }
            return search(context, params);
        }
        break;
    case Endpoint::System:
        if (method == "POST") {
            return bundle(context);
        }
        break;
    case Endpoint::SystemOperation:
    case Endpoint::TypeOperation:
    case Endpoint::InstanceOperation:
        if (operations_.count({path.type, path.operation}) > 0) {
            return operation(context);
        }
        [[fallthrough]];
    case Endpoint::SystemSearch:
        return failure(context, 404, "not-supported",
                       path.operation.empty()
                           ? "system-wide search is not supported"
                           : "operation $" + path.operation + " is not supported here");
    }
    return failure(context, 405, "not-supported",
                   method + " is not allowed on " + std::string(rest::toString(path.endpoint)));
}

// --- responses ---

FhirResponse Interactions::respond(Context& context, int status, const rapidjson::Value& body)
{
    FhirResponse response;
    response.status = status;
    response.headers.emplace_back("Content-Type",
                                  std::string(rest::contentTypeFor(context.format)));
    response.body = encodeResource(body, context.format, context.pretty);
    return response;
}

FhirResponse Interactions::failure(Context& context, int status, std::string code, std::string text,
                                   std::string path)
{
    core::Issue issue;
    issue.severity = core::Severity::Error;
    issue.code = std::move(code);
    issue.text = std::move(text);
    issue.location.path = std::move(path);
    core::IssueList issues;
    issues.add(std::move(issue));
    return failure(context, issues, status);
}

FhirResponse Interactions::failure(Context& context, const core::IssueList& issues, int status)
{
    const rapidjson::Document outcome = rest::makeOutcome(issues);
    return respond(context, status != 0 ? status : rest::statusFor(issues), outcome);
}

FhirResponse Interactions::resourceResponse(Context& context, int status,
                                            const store::StoredResource& stored,
                                            const rest::QueryParams& shaping)
{
    FhirResponse response;
    response.status = status;
    response.headers.emplace_back("ETag", rest::formatETag(versionText(stored.version)));
    response.headers.emplace_back("Last-Modified", rest::formatHttpDate(stored.lastUpdated));
    response.headers.emplace_back("Content-Type",
                                  std::string(rest::contentTypeFor(context.format)));
    const std::string summary = paramValue(shaping, "_summary");
    const std::string elements = paramValue(shaping, "_elements");
    // The stored bytes are already compact JSON of this version: the common read costs no
    // parse and no write.
    if (context.format == rest::Format::Json && !context.pretty && summary.empty() &&
        elements.empty()) {
        response.body = stored.body;
        return response;
    }
    rapidjson::Document resource;
    core::Issue issue;
    if (!parseJson(stored.body, resource, issue)) {
        throw std::runtime_error("stored resource " + stored.type + "/" + stored.id +
                                 " is not JSON");
    }
    if (!elements.empty()) {
        rest::applyElements(resource, rest::parseElementsParam(elements, stored.type),
                            resource.GetAllocator());
    } else if (!summary.empty()) {
        rest::SummaryMode mode{};
        if (!rest::parseSummaryMode(summary, mode)) {
            return failure(context, 400, "value",
                           "_summary must be true, text, data, count or false", "_summary");
        }
        rest::applySummary(resource, mode, resource.GetAllocator());
    }
    response.body = encodeResource(resource, context.format, context.pretty);
    return response;
}

FhirResponse Interactions::writeResponse(Context& context, int status, const PreparedWrite& write)
{
    const store::ResourceChange& change = write.change;
    const std::int64_t version = change.expectedVersion + 1;
    FhirResponse response;
    switch (context.prefer.returnPreference) {
    case rest::PreferReturn::Minimal:
        response.status = status;
        break;
    case rest::PreferReturn::OperationOutcome:
        response = respond(context, status, rest::makeOutcome(core::IssueList{}));
        break;
    default:
        response = respond(context, status, write.resource);
        break;
    }
    response.headers.emplace_back("ETag", rest::formatETag(versionText(version)));
    response.headers.emplace_back("Last-Modified", rest::formatHttpDate(change.at));
    response.headers.emplace_back("Location", context.base + "/" + change.type + "/" + change.id +
                                                  "/_history/" + versionText(version));
    return response;
}

// --- shared steps ---

std::string Interactions::newId()
{
    // A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits from
    // getrandom() (Poco's generator opens /dev/urandom on every call, a tenth of a create's
    // time). Ids in time order make each new resource's rows land at the end of the (type, id)
    // and reference-target indexes instead of on a random page: with version 4 ids every
    // create dirtied a page of each, and the WAL wrote them whole.
    unsigned char bytes[16];
    std::size_t got = 6;
    while (got < sizeof bytes) {
        const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::runtime_error("getrandom failed");
        }
        got += static_cast<std::size_t>(n);
    }
    const auto millis =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    for (int i = 0; i < 6; ++i) {
        bytes[i] = static_cast<unsigned char>(millis >> (8 * (5 - i)));
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x70);
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    std::string id;
    id.reserve(36);
    for (std::size_t i = 0; i < sizeof bytes; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            id += '-';
        }
        id += hex[bytes[i] >> 4];
        id += hex[bytes[i] & 0x0f];
    }
    return id;
}

bool Interactions::decodeBody(Context& context, rapidjson::Document& resource, FhirResponse& failed)
{
    if (context.request.body.size() > config_.maxBodyBytes) {
        failed =
            failure(context, 413, "too-costly",
                    "the body is larger than " + std::to_string(config_.maxBodyBytes) + " bytes");
        return false;
    }
    const auto format = rest::requestFormat(context.request.header("content-type"));
    if (!format.ok()) {
        failed = failure(context, format.status, "not-supported", format.reason);
        return false;
    }
    if (format.value != rest::BodyFormat::Json && format.value != rest::BodyFormat::Xml) {
        failed = failure(context, 415, "not-supported", "the body must be FHIR JSON or XML");
        return false;
    }
    core::IssueList issues;
    const rest::Format bodyFormat =
        format.value == rest::BodyFormat::Xml ? rest::Format::Xml : rest::Format::Json;
    if (!decodeResource(context.request.body, bodyFormat, resource, issues)) {
        failed = failure(context, issues, 400);
        return false;
    }
    return true;
}

bool Interactions::prepare(Context& context, rapidjson::Document& resource, const std::string& type,
                           const std::string& id, std::int64_t expectedVersion, const char* method,
                           PreparedWrite& write, core::IssueList& issues)
{
    if (stringMember(resource, "resourceType") != type) {
        issues.add(core::Severity::Error, "invalid", {},
                   "the body is a " + std::string(stringMember(resource, "resourceType")) +
                       " resource where the URL names " + type);
        return false;
    }
    auto& allocator = resource.GetAllocator();
    setMember(resource, "id", id, allocator);
    // Server-kept: versionId and lastUpdated in the request are ignored (STANDARDS.md §3.4);
    // profiles, tags and security labels stay.
    auto meta = resource.FindMember("meta");
    if (meta == resource.MemberEnd() || !meta->value.IsObject()) {
        setMember(resource, "meta", rapidjson::Value(rapidjson::kObjectType), allocator);
        meta = resource.FindMember("meta");
    }
    setMember(meta->value, "versionId", versionText(expectedVersion + 1), allocator);
    setMember(meta->value, "lastUpdated", fhirInstant(context.now), allocator);
    meta->value.RemoveMember("_versionId");
    meta->value.RemoveMember("_lastUpdated");
    validateResource(resource, issues);
    if (issues.hasErrors()) {
        return false;
    }
    search::ExtractOptions options;
    options.offsetMinutes = config_.offsetMinutes;
    options.baseUrl = context.base;
    write.change.action = store::ResourceChange::Action::Put;
    write.change.type = type;
    write.change.id = id;
    write.change.expectedVersion = expectedVersion;
    write.change.at = context.now;
    write.change.method = method;
    write.change.body = writeJson(resource);
    write.change.indexes = runner_.indexRows(resource, options);
    if (auto holds = slot_holds::rows(resource, context.base)) {
        write.change.indexes.push_back(std::move(*holds));
    }
    write.resource.Swap(resource);
    return true;
}

search::SearchQuery Interactions::parseQuery(Context& context, const std::string& type,
                                             const rest::QueryParams& params,
                                             core::IssueList& issues)
{
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.reserve(params.size());
    for (const auto& param : params) {
        // Our own request parameters, not search ones.
        if (param.name == "_format" || param.name == "_pretty") {
            continue;
        }
        pairs.emplace_back(param.name, param.value);
    }
    search::ParseOptions options;
    options.offsetMinutes = config_.offsetMinutes;
    options.baseUrl = context.base;
    options.nowMicros = context.now;
    options.defaultCount = config_.defaultCount;
    options.maxCount = config_.maxCount;
    return search::parseSearch(type, pairs, options, issues);
}

bool Interactions::conditionalMatches(Context& context, const std::string& type,
                                      const rest::QueryParams& params,
                                      std::vector<store::StoredResource>& matches,
                                      FhirResponse& failed)
{
    core::IssueList issues;
    search::SearchQuery query = parseQuery(context, type, params, issues);
    if (issues.hasErrors()) {
        failed = failure(context, issues, 400);
        return false;
    }
    if (!query.unknown.empty()) {
        // Ignoring an unknown criterion would widen the match: refuse instead.
        failed = failure(context, 400, "not-supported",
                         "unknown search parameter '" + query.unknown.front().first +
                             "' in a conditional interaction");
        return false;
    }
    if (query.criteria.empty()) {
        failed = failure(context, 400, "invalid", "a conditional interaction needs criteria");
        return false;
    }
    matches = runner_.match(query, 2);
    return true;
}

// --- interactions ---

FhirResponse Interactions::read(Context& context)
{
    const auto stored = store_.current(context.path.type, context.path.id);
    if (!stored) {
        return failure(context, 404, "not-found",
                       context.path.type + "/" + context.path.id + " is not known");
    }
    if (stored->deleted) {
        FhirResponse gone = failure(context, 410, "deleted",
                                    context.path.type + "/" + context.path.id + " was deleted");
        gone.headers.emplace_back("ETag", rest::formatETag(versionText(stored->version)));
        return gone;
    }
    const auto ifNoneMatch = rest::parseEntityTags(context.request.header("if-none-match"));
    const std::string_view modifiedSinceHeader = context.request.header("if-modified-since");
    const auto modifiedSince = rest::parseHttpDate(modifiedSinceHeader);
    if ((ifNoneMatch && ifNoneMatch->matches(versionText(stored->version))) ||
        (!ifNoneMatch && modifiedSince &&
         !rest::modifiedSince(stored->lastUpdated, *modifiedSince))) {
        FhirResponse notModified;
        notModified.status = 304;
        notModified.headers.emplace_back("ETag", rest::formatETag(versionText(stored->version)));
        return notModified;
    }
    FhirResponse response = resourceResponse(context, 200, *stored, context.path.query);
    if (context.request.method == "HEAD") {
        response.body.clear();
    }
    return response;
}

FhirResponse Interactions::vread(Context& context)
{
    std::int64_t version = 0;
    try {
        version = std::stoll(context.path.versionId);
    } catch (const std::exception&) {
        version = 0;
    }
    const auto stored =
        version > 0 ? store_.version(context.path.type, context.path.id, version) : std::nullopt;
    if (!stored) {
        return failure(context, 404, "not-found",
                       context.path.type + "/" + context.path.id + " has no version " +
                           context.path.versionId);
    }
    if (stored->deleted) {
        return failure(context, 410, "deleted",
                       "version " + context.path.versionId + " of " + context.path.type + "/" +
                           context.path.id + " is its deletion");
    }
    return resourceResponse(context, 200, *stored, context.path.query);
}

std::string conditionalKey(const std::string& type, std::string_view query)
{
    std::string key = type + "?";
    std::size_t start = 0;
    while (start <= query.size()) {
        std::size_t end = query.find('&', start);
        if (end == std::string_view::npos) {
            end = query.size();
        }
        std::string part;
        Poco::URI::decode(std::string(query.substr(start, end - start)), part);
        if (!part.empty() && part.rfind("_format=", 0) != 0 && part.rfind("_pretty=", 0) != 0) {
            key += part + "&";
        }
        start = end + 1;
    }
    return key;
}

std::vector<std::unique_lock<std::mutex>>
Interactions::ConditionalLocks::lock(const std::vector<std::string>& criteria)
{
    std::vector<std::size_t> indexes;
    for (const std::string& c : criteria) {
        indexes.push_back(std::hash<std::string>{}(c) % Stripes);
    }
    std::sort(indexes.begin(), indexes.end());
    indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
    std::vector<std::unique_lock<std::mutex>> held;
    for (std::size_t i : indexes) {
        held.emplace_back(stripes_[i]);
    }
    return held;
}

void Interactions::addOperation(const std::string& type, const std::string& name,
                                Operation operation)
{
    operations_[{type, name}] = std::move(operation);
}

std::vector<std::pair<std::string, std::string>> Interactions::operationNames() const
{
    std::vector<std::pair<std::string, std::string>> names;
    for (const auto& [key, operation] : operations_) {
        names.push_back(key);
    }
    return names;
}

FhirResponse Interactions::operation(Context& context)
{
    if (context.request.method != "POST" && context.request.method != "GET") {
        return failure(context, 405, "not-supported",
                       "$" + context.path.operation + " is called with POST (or GET)");
    }
    OperationCall call{context.request,        context.path.type,     context.path.id,
                       context.path.operation, rapidjson::Document(), context.base};
    if (context.request.method == "GET") {
        // FHIR lets an operation that changes nothing take its parameters from the query:
        // each becomes a valueString parameter, what the operation would read from a body.
        auto& a = call.parameters.GetAllocator();
        call.parameters.SetObject();
        setMember(call.parameters, "resourceType", "Parameters", a);
        rapidjson::Value list(rapidjson::kArrayType);
        for (const auto& param : context.path.query) {
            if (param.name == "_format" || param.name == "_pretty") {
                continue;
            }
            rapidjson::Value one(rapidjson::kObjectType);
            setMember(one, "name", param.name, a);
            setMember(one, "valueString", param.value, a);
            list.PushBack(one, a);
        }
        call.parameters.AddMember("parameter", list, a);
    } else if (!context.request.body.empty()) {
        FhirResponse failed;
        if (!decodeBody(context, call.parameters, failed)) {
            return failed;
        }
    }
    OperationResult result = operations_.at({context.path.type, context.path.operation})(call);
    return respond(context, result.status, result.body);
}

FhirResponse Interactions::create(Context& context)
{
    rapidjson::Document resource;
    FhirResponse failed;
    if (!decodeBody(context, resource, failed)) {
        return failed;
    }
    const std::string_view ifNoneExist = context.request.header("if-none-exist");
    std::vector<std::unique_lock<std::mutex>> held;
    if (!ifNoneExist.empty()) {
        held = conditionalLocks_.lock({conditionalKey(context.path.type, ifNoneExist)});
        rest::QueryParams criteria;
        core::Issue issue;
        if (!rest::parseIfNoneExist(ifNoneExist, criteria, issue)) {
            core::IssueList issues;
            issues.add(issue);
            return failure(context, issues, 400);
        }
        std::vector<store::StoredResource> matches;
        if (!conditionalMatches(context, context.path.type, criteria, matches, failed)) {
            return failed;
        }
        if (matches.size() > 1) {
            return failure(context, 412, "multiple-matches",
                           "If-None-Exist matches more than one " + context.path.type);
        }
        if (matches.size() == 1) {
            FhirResponse existing = resourceResponse(context, 200, matches.front(), {});
            existing.headers.emplace_back("Location", context.base + "/" + matches.front().type +
                                                          "/" + matches.front().id + "/_history/" +
                                                          versionText(matches.front().version));
            if (context.prefer.returnPreference == rest::PreferReturn::Minimal) {
                existing.body.clear();
            }
            return existing;
        }
    }
    PreparedWrite write;
    core::IssueList issues;
    if (!prepare(context, resource, context.path.type, newId(), 0, "POST", write, issues)) {
        return failure(context, issues);
    }
    const auto outcome = commit({&write});
    if (outcome.status != store::ChangeOutcome::Status::Applied) {
        return failure(context, 409, "conflict", outcome.error);
    }
    return writeResponse(context, 201, write);
}

bool sameContent(const rapidjson::Value& prepared, const store::StoredResource& stored)
{
    if (stored.deleted || stored.body.empty()) {
        return false;
    }
    rapidjson::Document current;
    core::Issue issue;
    if (!parseJson(stored.body, current, issue) || !current.IsObject()) {
        return false;
    }
    const auto mine = prepared.FindMember("meta");
    auto theirs = current.FindMember("meta");
    if (mine == prepared.MemberEnd() || theirs == current.MemberEnd() || !mine->value.IsObject() ||
        !theirs->value.IsObject()) {
        return false;
    }
    // The server-kept members take the new values; everything else must be equal
    // (rapidjson compares objects member by member, in any order).
    for (const char* kept : {"versionId", "lastUpdated"}) {
        const auto value = mine->value.FindMember(kept);
        if (value == mine->value.MemberEnd()) {
            return false;
        }
        theirs->value.RemoveMember(kept);
        theirs->value.AddMember(rapidjson::StringRef(kept),
                                rapidjson::Value(value->value, current.GetAllocator()),
                                current.GetAllocator());
    }
    return current == prepared;
}

FhirResponse Interactions::update(Context& context)
{
    rapidjson::Document resource;
    FhirResponse failed;
    if (!decodeBody(context, resource, failed)) {
        return failed;
    }
    const std::string& type = context.path.type;
    const std::string& id = context.path.id;
    const std::string_view bodyId = stringMember(resource, "id");
    if (bodyId.empty()) {
        return failure(context, 400, "invalid", "the resource has no id; PUT needs the URL's id",
                       type + ".id");
    }
    if (bodyId != id) {
        return failure(context, 400, "invalid", "the resource's id is not the id in the URL",
                       type + ".id");
    }
    const std::string_view ifMatchHeader = context.request.header("if-match");
    std::optional<rest::EntityTags> ifMatch;
    if (!ifMatchHeader.empty()) {
        ifMatch = rest::parseEntityTags(ifMatchHeader);
        if (!ifMatch) {
            return failure(context, 400, "invalid", "If-Match is not an entity tag like W/\"3\"");
        }
    } else if (requiresIfMatch(config_, type)) {
        return failure(context, 428, "conflict",
                       "updates of " + type + " need If-Match with the version you read");
    }
    rapidjson::Document original;
    original.CopyFrom(resource, original.GetAllocator());
    for (int attempt = 0; attempt < UpdateAttempts; ++attempt) {
        const auto stored = store_.current(type, id);
        const std::int64_t seen = stored ? stored->version : 0;
        if (ifMatch && (!stored || stored->deleted || !ifMatch->matches(versionText(seen)))) {
            return failure(context, 412, "conflict",
                           stored ? type + "/" + id + " is at version " + versionText(seen)
                                  : type + "/" + id + " does not exist");
        }
        if (attempt > 0) {
            resource.CopyFrom(original, resource.GetAllocator());
        }
        PreparedWrite write;
        core::IssueList issues;
        if (!prepare(context, resource, type, id, seen, "PUT", write, issues)) {
            return failure(context, issues);
        }
        if (stored && sameContent(write.resource, *stored)) {
            FhirResponse unchanged = resourceResponse(context, 200, *stored, {});
            if (context.prefer.returnPreference == rest::PreferReturn::Minimal) {
                unchanged.body.clear();
            }
            return unchanged;
        }
        const auto outcome = commit({&write});
        if (outcome.status == store::ChangeOutcome::Status::Applied) {
            return writeResponse(context, seen == 0 || (stored && stored->deleted) ? 201 : 200,
                                 write);
        }
        if (outcome.status == store::ChangeOutcome::Status::Failed) {
            return failure(context, 409, "conflict", outcome.error);
        }
        if (ifMatch) {
            return failure(context, 412, "conflict", outcome.error);
        }
    }
    return failure(context, 409, "conflict",
                   type + "/" + id + " kept changing while we wrote it; try again");
}

FhirResponse Interactions::conditionalUpdate(Context& context)
{
    rest::QueryParams criteria;
    std::string key = context.path.type + "?";
    for (const auto& param : context.path.query) {
        if (param.name != "_format" && param.name != "_pretty") {
            criteria.push_back(param);
            key += param.name + "=" + param.value + "&";
        }
    }
    // The same key conditionalKey() makes from the query text: decoded name=value pairs.
    const auto held = conditionalLocks_.lock({key});
    std::vector<store::StoredResource> matches;
    FhirResponse failed;
    if (!conditionalMatches(context, context.path.type, criteria, matches, failed)) {
        return failed;
    }
    if (matches.size() > 1) {
        return failure(context, 412, "multiple-matches",
                       "the criteria match more than one " + context.path.type);
    }
    rapidjson::Document resource;
    if (!decodeBody(context, resource, failed)) {
        return failed;
    }
    const std::string_view bodyId = stringMember(resource, "id");
    if (matches.empty()) {
        PreparedWrite write;
        core::IssueList issues;
        if (!prepare(context, resource, context.path.type, newId(), 0, "PUT", write, issues)) {
            return failure(context, issues);
        }
        const auto outcome = commit({&write});
        if (outcome.status != store::ChangeOutcome::Status::Applied) {
            return failure(context, 409, "conflict", outcome.error);
        }
        return writeResponse(context, 201, write);
    }
    const store::StoredResource& match = matches.front();
    if (!bodyId.empty() && bodyId != match.id) {
        return failure(context, 400, "invalid",
                       "the resource's id is not the id of the resource the criteria match",
                       context.path.type + ".id");
    }
    if (requiresIfMatch(config_, context.path.type) &&
        !(context.request.ifMatchImplied && context.request.header("if-match").empty())) {
        const auto ifMatch = rest::parseEntityTags(context.request.header("if-match"));
        if (!ifMatch) {
            return failure(context, 428, "conflict",
                           "updates of " + context.path.type +
                               " need If-Match with the version you read");
        }
        if (!ifMatch->matches(versionText(match.version))) {
            return failure(context, 412, "conflict",
                           context.path.type + "/" + match.id + " is at version " +
                               versionText(match.version));
        }
    }
    PreparedWrite write;
    core::IssueList issues;
    if (!prepare(context, resource, context.path.type, match.id, match.version, "PUT", write,
                 issues)) {
        return failure(context, issues);
    }
    if (sameContent(write.resource, match)) {
        FhirResponse unchanged = resourceResponse(context, 200, match, {});
        if (context.prefer.returnPreference == rest::PreferReturn::Minimal) {
            unchanged.body.clear();
        }
        return unchanged;
    }
    const auto outcome = commit({&write});
    if (outcome.status != store::ChangeOutcome::Status::Applied) {
        return failure(context,
                       outcome.status == store::ChangeOutcome::Status::VersionConflict ? 412 : 409,
                       "conflict", outcome.error);
    }
    return writeResponse(context, 200, write);
}

FhirResponse Interactions::patch(Context& context)
{
    const std::string& type = context.path.type;
    const std::string& id = context.path.id;
    const auto format = rest::requestFormat(context.request.header("content-type"));
    if (!format.ok() || format.value != rest::BodyFormat::JsonPatch) {
        return failure(context, 415, "not-supported", "PATCH takes application/json-patch+json");
    }
    rapidjson::Document patchDocument;
    core::Issue parseIssue;
    if (!parseJson(context.request.body, patchDocument, parseIssue)) {
        core::IssueList issues;
        issues.add(parseIssue);
        return failure(context, issues, 400);
    }
    const auto ifMatch = rest::parseEntityTags(context.request.header("if-match"));
    if (!ifMatch && requiresIfMatch(config_, type)) {
        return failure(context, 428, "conflict",
                       "updates of " + type + " need If-Match with the version you read");
    }
    const auto stored = store_.current(type, id);
    if (!stored) {
        return failure(context, 404, "not-found", type + "/" + id + " is not known");
    }
    if (stored->deleted) {
        return failure(context, 410, "deleted", type + "/" + id + " was deleted");
    }
    if (ifMatch && !ifMatch->matches(versionText(stored->version))) {
        return failure(context, 412, "conflict",
                       type + "/" + id + " is at version " + versionText(stored->version));
    }
    rapidjson::Document resource;
    core::Issue issue;
    if (!parseJson(stored->body, resource, issue)) {
        throw std::runtime_error("stored resource " + type + "/" + id + " is not JSON");
    }
    core::IssueList issues;
    core::Issue patchIssue;
    if (!rest::applyJsonPatch(patchDocument, resource, patchIssue)) {
        issues.add(patchIssue);
        // A failed `test` op is the client's precondition, not a malformed request.
        return failure(context, issues, rest::statusFor(issues) == 422 ? 422 : 400);
    }
    if (stringMember(resource, "id") != id || stringMember(resource, "resourceType") != type) {
        return failure(context, 400, "invalid", "a patch may not change id or resourceType");
    }
    PreparedWrite write;
    if (!prepare(context, resource, type, id, stored->version, "PATCH", write, issues)) {
        return failure(context, issues);
    }
    const auto outcome = commit({&write});
    if (outcome.status != store::ChangeOutcome::Status::Applied) {
        return failure(context, 412, "conflict", outcome.error);
    }
    return writeResponse(context, 200, write);
}

FhirResponse Interactions::remove(Context& context)
{
    const std::string& type = context.path.type;
    const std::string& id = context.path.id;
    const auto stored = store_.current(type, id);
    if (!stored) {
        return failure(context, 404, "not-found", type + "/" + id + " is not known");
    }
    FhirResponse done;
    done.status = 204;
    if (stored->deleted) {
        done.headers.emplace_back("ETag", rest::formatETag(versionText(stored->version)));
        return done;
    }
    const std::string_view ifMatchHeader = context.request.header("if-match");
    if (!ifMatchHeader.empty()) {
        const auto ifMatch = rest::parseEntityTags(ifMatchHeader);
        if (!ifMatch || !ifMatch->matches(versionText(stored->version))) {
            return failure(context, 412, "conflict",
                           type + "/" + id + " is at version " + versionText(stored->version));
        }
    }
    if (runner_.isReferenced(type, id)) {
        return failure(context, 409, "conflict",
                       type + "/" + id + " is still referenced by other resources");
    }
    PreparedWrite write;
    store::ResourceChange& change = write.change;
    change.action = store::ResourceChange::Action::Delete;
    change.type = type;
    change.id = id;
    change.expectedVersion = stored->version;
    change.at = context.now;
    change.method = "DELETE";
    const auto outcome = commit({&write});
    if (outcome.status != store::ChangeOutcome::Status::Applied) {
        return failure(context, 409, "conflict", outcome.error);
    }
    done.headers.emplace_back("ETag", rest::formatETag(versionText(outcome.version)));
    return done;
}

FhirResponse Interactions::history(Context& context)
{
    store::HistoryQuery query;
    if (!context.path.type.empty()) {
        query.type = context.path.type;
    }
    if (!context.path.id.empty()) {
        query.id = context.path.id;
    }
    query.limit = config_.defaultCount;
    for (const auto& param : context.path.query) {
        if (param.name == "_since") {
            if (!core::parseIsoTime(param.value, query.since)) {
                return failure(context, 400, "value", "_since must be an instant", "_since");
            }
        } else if (param.name == "_count") {
            try {
                query.limit = std::clamp<std::size_t>(std::stoul(param.value), 1, config_.maxCount);
            } catch (const std::exception&) {
                return failure(context, 400, "value", "_count must be a number", "_count");
            }
        } else if (param.name == "_cursor") {
            try {
                query.beforeSeq = std::stoll(param.value);
            } catch (const std::exception&) {
                return failure(context, 400, "value", "_cursor is not one of ours", "_cursor");
            }
        }
    }
    if (query.id && !store_.current(*query.type, *query.id)) {
        return failure(context, 404, "not-found", *query.type + "/" + *query.id + " is not known");
    }
    const std::size_t pageSize = query.limit;
    query.limit = pageSize + 1;
    auto entries = store_.history(query);
    const bool more = entries.size() > pageSize;
    if (more) {
        entries.resize(pageSize);
    }
    rapidjson::Document bundle(rapidjson::kObjectType);
    auto& allocator = bundle.GetAllocator();
    setMember(bundle, "resourceType", "Bundle", allocator);
    setMember(bundle, "type", "history", allocator);
    std::string self = context.base;
    if (query.type) {
        self += "/" + *query.type;
    }
    if (query.id) {
        self += "/" + *query.id;
    }
    self += "/_history";
    rapidjson::Value links(rapidjson::kArrayType);
    auto addLink = [&](const char* relation, const std::string& url) {
        rapidjson::Value link(rapidjson::kObjectType);
        setMember(link, "relation", relation, allocator);
        setMember(link, "url", url, allocator);
        links.PushBack(link, allocator);
    };
    addLink("self", self);
    if (more) {
        std::string next = self + "?_count=" + std::to_string(pageSize) +
                           "&_cursor=" + std::to_string(entries.back().seq);
        if (query.since > 0) {
            next += "&_since=" + fhirInstant(query.since);
        }
        addLink("next", next);
    }
    setMember(bundle, "link", std::move(links), allocator);
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& entry : entries) {
        const store::StoredResource& r = entry.resource;
        rapidjson::Value item(rapidjson::kObjectType);
        setMember(item, "fullUrl", context.base + "/" + r.type + "/" + r.id, allocator);
        if (!r.deleted) {
            rapidjson::Document body(&allocator);
            core::Issue issue;
            if (parseJson(r.body, body, issue)) {
                item.AddMember("resource", rapidjson::Value(body, allocator), allocator);
            }
        }
        rapidjson::Value request(rapidjson::kObjectType);
        setMember(request, "method", entry.method, allocator);
        setMember(request, "url", entry.method == "POST" ? r.type : r.type + "/" + r.id, allocator);
        item.AddMember("request", request, allocator);
        rapidjson::Value response(rapidjson::kObjectType);
        setMember(response, "status", r.deleted ? "204" : (r.version == 1 ? "201" : "200"),
                  allocator);
        setMember(response, "etag", rest::formatETag(versionText(r.version)), allocator);
        setMember(response, "lastModified", fhirInstant(r.lastUpdated), allocator);
        item.AddMember("response", response, allocator);
        list.PushBack(item, allocator);
    }
    setMember(bundle, "entry", std::move(list), allocator);
    return respond(context, 200, bundle);
}

FhirResponse Interactions::search(Context& context, const rest::QueryParams& params)
{
    core::IssueList issues;
    search::SearchQuery query = parseQuery(context, context.path.type, params, issues);
    if (issues.hasErrors()) {
        return failure(context, issues, 400);
    }
    if (!query.unknown.empty() && context.prefer.handling == rest::PreferHandling::Strict) {
        return failure(context, 400, "not-supported",
                       "unknown search parameter '" + query.unknown.front().first + "'",
                       query.unknown.front().first);
    }
    const SearchPage page = runner_.run(query);
    rapidjson::Document bundle(rapidjson::kObjectType);
    auto& allocator = bundle.GetAllocator();
    setMember(bundle, "resourceType", "Bundle", allocator);
    setMember(bundle, "type", "searchset", allocator);
    if (page.total) {
        setMember(bundle, "total", makeNumber(*page.total, allocator), allocator);
    }
    std::string self = context.base + "/" + context.path.type;
    std::string used;
    for (const auto& [name, value] : query.used) {
        if (name == "_cursor") {
            continue;
        }
        used += (used.empty() ? "" : "&") + queryEncode(name) + "=" + queryEncode(value);
    }
    rapidjson::Value links(rapidjson::kArrayType);
    auto addLink = [&](const char* relation, const std::string& url) {
        rapidjson::Value link(rapidjson::kObjectType);
        setMember(link, "relation", relation, allocator);
        setMember(link, "url", url, allocator);
        links.PushBack(link, allocator);
    };
    addLink("self", used.empty() ? self : self + "?" + used);
    if (page.nextCursor) {
        addLink("next",
                self + "?" + (used.empty() ? "" : used + "&") + "_cursor=" + *page.nextCursor);
    }
    setMember(bundle, "link", std::move(links), allocator);
    const bool shaped = !query.elements.empty() || query.summary == search::Summary::True ||
                        query.summary == search::Summary::Text ||
                        query.summary == search::Summary::Data;
    if (query.summary != search::Summary::Count && !shaped &&
        context.format == rest::Format::Json && !context.pretty) {
        // The stored bodies are compact JSON already, as for a read: spliced in as they are,
        // instead of parsed into the Bundle and written out again (a third of a search's
        // time went to that).
        rapidjson::StringBuffer entries;
        rapidjson::Writer<rapidjson::StringBuffer> writer(entries);
        writer.StartArray();
        auto add = [&](const store::StoredResource& r, const char* mode) {
            const std::string fullUrl = context.base + "/" + r.type + "/" + r.id;
            writer.StartObject();
            writer.Key("fullUrl");
            writer.String(fullUrl.data(), static_cast<rapidjson::SizeType>(fullUrl.size()));
            writer.Key("resource");
            writer.RawValue(r.body.data(), r.body.size(), rapidjson::kObjectType);
            writer.Key("search");
            writer.StartObject();
            writer.Key("mode");
            writer.String(mode);
            writer.EndObject();
            writer.EndObject();
        };
        for (const auto& r : page.matches) {
            add(r, "match");
        }
        for (const auto& r : page.included) {
            add(r, "include");
        }
        writer.EndArray();
        FhirResponse response = respond(context, 200, bundle);
        if (page.matches.empty() && page.included.empty()) {
            return response; // FHIR JSON has no empty arrays
        }
        // respond() wrote the rest compactly: an object, so it ends in '}'.
        response.body.pop_back();
        response.body.append(",\"entry\":");
        response.body.append(entries.GetString(), entries.GetSize());
        response.body.push_back('}');
        return response;
    }
    if (query.summary != search::Summary::Count) {
        rapidjson::Value entries(rapidjson::kArrayType);
        auto add = [&](const store::StoredResource& r, const char* mode) {
            rapidjson::Document body(&allocator);
            core::Issue issue;
            if (!parseJson(r.body, body, issue)) {
                return;
            }
            if (!query.elements.empty()) {
                rest::applyElements(body, query.elements, allocator);
            } else if (query.summary == search::Summary::True ||
                       query.summary == search::Summary::Text ||
                       query.summary == search::Summary::Data) {
                rest::SummaryMode mode{};
                rest::parseSummaryMode(query.summary == search::Summary::True   ? "true"
                                       : query.summary == search::Summary::Text ? "text"
                                                                                : "data",
                                       mode);
                rest::applySummary(body, mode, allocator);
            }
            rapidjson::Value item(rapidjson::kObjectType);
            setMember(item, "fullUrl", context.base + "/" + r.type + "/" + r.id, allocator);
            item.AddMember("resource", rapidjson::Value(body, allocator), allocator);
            rapidjson::Value searchMode(rapidjson::kObjectType);
            setMember(searchMode, "mode", mode, allocator);
            item.AddMember("search", searchMode, allocator);
            entries.PushBack(item, allocator);
        };
        for (const auto& r : page.matches) {
            add(r, "match");
        }
        for (const auto& r : page.included) {
            add(r, "include");
        }
        if (!entries.Empty()) { // FHIR JSON has no empty arrays
            setMember(bundle, "entry", std::move(entries), allocator);
        }
    }
    return respond(context, 200, bundle);
}

FhirResponse Interactions::bundle(Context& context)
{
    rapidjson::Document bundle;
    FhirResponse failed;
    if (!decodeBody(context, bundle, failed)) {
        return failed;
    }
    if (stringMember(bundle, "resourceType") != "Bundle") {
        return failure(context, 400, "invalid", "POST to the base takes a Bundle");
    }
    const std::string_view type = stringMember(bundle, "type");
    auto entries = bundle.FindMember("entry");
    const std::size_t count =
        entries != bundle.MemberEnd() && entries->value.IsArray() ? entries->value.Size() : 0;
    if (count > config_.maxBundleEntries) {
        return failure(context, 413, "too-costly",
                       "the Bundle has more than " + std::to_string(config_.maxBundleEntries) +
                           " entries");
    }
    if (type == "batch") {
        return batch(context, bundle);
    }
    if (type == "transaction") {
        return transaction(context, bundle);
    }
    return failure(context, 400, "invalid",
                   "POST to the base takes a Bundle of type batch or transaction", "Bundle.type");
}

FhirResponse Interactions::metadata(Context& context)
{
    const rapidjson::Document statement =
        capabilityStatement(context.base, context.now, operationNames());
    return respond(context, 200, statement);
}

} // namespace hl7gw::fhir::server
