// Batch and transaction Bundles (STANDARDS.md §3.4 "Transactions"): members of Interactions.

#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/model/partial_update.h"
#include "gateway/fhir/rest/outcome.h"
#include "gateway/fhir/server/detail/interactions.h"
#include "gateway/fhir/server/detail/resource_format.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace hl7gw::fhir::server {

namespace {

using Allocator = rapidjson::Document::AllocatorType;

const char* reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 412:
        return "Precondition Failed";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 428:
        return "Precondition Required";
    default:
        return status >= 500 ? "Server Error" : "";
    }
}

std::string headerOf(const FhirResponse& response, std::string_view name)
{
    for (const auto& [key, value] : response.headers) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

std::string entryPath(std::size_t index)
{
    return "Bundle.entry[" + std::to_string(index) + "]";
}

// Validation paths start with the resource type ("Patient.name[0]"); in a Bundle they are
// under the entry.
void relocate(core::IssueList& issues, std::size_t index, core::IssueList& into)
{
    for (core::Issue issue : issues) {
        const std::string& path = issue.location.path;
        const std::size_t dot = path.find_first_of(".[");
        issue.location.path = entryPath(index) + ".resource" +
                              (dot == std::string::npos ? std::string() : path.substr(dot));
        into.add(std::move(issue));
    }
}

/// Every Reference.reference string in `value`, for rewriting.
template <typename Fn> void forEachReference(rapidjson::Value& value, Fn&& fn)
{
    if (value.IsObject()) {
        for (auto& member : value.GetObject()) {
            if (member.name == "reference" && member.value.IsString() && !isNumber(member.value)) {
                fn(member.value);
            } else {
                forEachReference(member.value, fn);
            }
        }
    } else if (value.IsArray()) {
        for (auto& element : value.GetArray()) {
            forEachReference(element, fn);
        }
    }
}

// The entry's request extensions of a partial update (mappings/README.md "Updates keep what
// the message leaves empty"): `urn:hl7gw:merge` true, and one `urn:hl7gw:remove` per element
// the sender cleared (HL7 v2 `""`).
struct MergeRequest {
    bool merge = false;
    std::set<std::string, std::less<>> removed;
};

MergeRequest mergeRequestOf(const rapidjson::Value& request)
{
    MergeRequest out;
    const auto list = request.FindMember("extension");
    if (list == request.MemberEnd() || !list->value.IsArray()) {
        return out;
    }
    for (const rapidjson::Value& extension : list->value.GetArray()) {
        const std::string_view url = stringMember(extension, "url");
        if (url == MergeExtension) {
            const auto value = extension.FindMember("valueBoolean");
            out.merge =
                value != extension.MemberEnd() && value->value.IsBool() && value->value.GetBool();
        } else if (url == RemoveExtension) {
            out.removed.emplace(stringMember(extension, "valueString"));
        }
    }
    return out;
}

// Carries over from the stored version every top-level element the new one leaves out and
// does not name as removed. A primitive and its `_x` sibling (id, extensions) travel together.
// The narrative is not carried: it would describe the old content.
void keepUntouched(rapidjson::Value& incoming, const store::StoredResource& stored,
                   const MergeRequest& merge, Allocator& allocator)
{
    rapidjson::Document current;
    core::Issue issue;
    if (stored.body.empty() || !parseJson(stored.body, current, issue) || !current.IsObject()) {
        return;
    }
    auto base = [](std::string_view name) {
        return name.size() > 1 && name.front() == '_' ? name.substr(1) : name;
    };
    for (auto& member : current.GetObject()) {
        const std::string_view name(member.name.GetString(), member.name.GetStringLength());
        const std::string_view element = base(name);
        if (element == "resourceType" || element == "id" || element == "text" ||
            merge.removed.count(element) != 0) {
            continue;
        }
        const std::string plain(element);
        if (incoming.HasMember(plain.c_str()) || incoming.HasMember(("_" + plain).c_str())) {
            continue;
        }
        incoming.AddMember(rapidjson::Value(member.name, allocator),
                           rapidjson::Value(member.value, allocator), allocator);
    }
}

rapidjson::Value responseEntry(const FhirResponse& response, Allocator& a)
{
    rapidjson::Value item(rapidjson::kObjectType);
    rapidjson::Value answer(rapidjson::kObjectType);
    setMember(answer, "status",
              std::to_string(response.status) + " " + reasonPhrase(response.status), a);
    for (const auto& [header, field] :
         {std::pair{"Location", "location"}, std::pair{"ETag", "etag"}}) {
        const std::string value = headerOf(response, header);
        if (!value.empty()) {
            setMember(answer, field, value, a);
        }
    }
    // An HTTP-date in the header, an instant in the Bundle.
    if (const auto modified = rest::parseHttpDate(headerOf(response, "Last-Modified"))) {
        setMember(answer, "lastModified", fhirInstant(*modified), a);
    }
    rapidjson::Document body(&a);
    core::Issue issue;
    if (!response.body.empty() && parseJson(response.body, body, issue) && body.IsObject()) {
        if (response.status >= 400) {
            answer.AddMember("outcome", rapidjson::Value(body, a), a);
        } else {
            item.AddMember("resource", rapidjson::Value(body, a), a);
        }
    }
    item.AddMember("response", answer, a);
    return item;
}

} // namespace

FhirResponse Interactions::batch(Context& context, const rapidjson::Value& bundle)
{
    rapidjson::Document result(rapidjson::kObjectType);
    auto& a = result.GetAllocator();
    setMember(result, "resourceType", "Bundle", a);
    setMember(result, "type", "batch-response", a);
    rapidjson::Value entries(rapidjson::kArrayType);
    auto list = bundle.FindMember("entry");
    if (list != bundle.MemberEnd() && list->value.IsArray()) {
        for (const auto& entry : list->value.GetArray()) {
            // Each entry is a request of its own, answered as if it had come alone.
            FhirRequest request;
            request.host = context.request.host;
            static const rapidjson::Value none(rapidjson::kObjectType);
            const rapidjson::Value& r =
                entry.IsObject() && entry.HasMember("request") ? entry["request"] : none;
            request.method = std::string(stringMember(r, "method"));
            request.target = config_.base + "/" + std::string(stringMember(r, "url"));
            for (const auto& [field, header] :
                 {std::pair{"ifMatch", "if-match"}, std::pair{"ifNoneMatch", "if-none-match"},
                  std::pair{"ifNoneExist", "if-none-exist"},
                  std::pair{"ifModifiedSince", "if-modified-since"}}) {
                const std::string_view value = stringMember(r, field);
                if (!value.empty()) {
                    request.headers.emplace_back(header, std::string(value));
                }
            }
            if (entry.IsObject() && entry.HasMember("resource")) {
                request.body = writeJson(entry["resource"]);
                request.headers.emplace_back("content-type", "application/fhir+json");
            }
            FhirResponse response;
            if (request.method.empty() || stringMember(r, "url").empty()) {
                response = failure(context, 400, "invalid", "the entry has no request.method/url");
            } else {
                response = handle(request);
            }
            entries.PushBack(responseEntry(response, a), a);
        }
    }
    setMember(result, "entry", std::move(entries), a);
    return respond(context, 200, result);
}

FhirResponse Interactions::transaction(Context& context, rapidjson::Document& bundle)
{
    struct Planned {
        std::size_t index = 0;
        std::string method;
        std::string type;
        std::string id;
        bool write = false;     // false: nothing to write (conditional create matched)
        int status = 200;       // for the response entry
        std::int64_t seen = 0;  // the version we saw
        rest::RequestPath path; // GET entries
        std::optional<rest::EntityTags> ifMatch;
        std::optional<store::StoredResource> existingCopy;
    };
    auto list = bundle.FindMember("entry");
    std::vector<Planned> plan;
    std::map<std::string, std::string> fullUrls; // fullUrl -> "Type/id"
    std::set<std::string> targets;               // "Type/id" written by some entry
    FhirResponse failed;
    const std::size_t count =
        list != bundle.MemberEnd() && list->value.IsArray() ? list->value.Size() : 0;
    // The conditional entries' criteria, locked before any of them is searched and held to
    // the commit (ConditionalLocks): a concurrent Bundle naming the same doctor waits. A
    // conditional create whose resource exists already writes nothing and needs no lock:
    // the sending facility named by every message would otherwise let one Bundle through
    // at a time.
    std::vector<std::string> criteria;
    std::map<std::size_t, std::vector<store::StoredResource>> found; // entry -> its one match
    for (std::size_t i = 0; i < count; ++i) {
        const rapidjson::Value& entry = list->value[static_cast<rapidjson::SizeType>(i)];
        auto request = entry.IsObject() ? entry.FindMember("request") : entry.MemberEnd();
        if (!entry.IsObject() || request == entry.MemberEnd() || !request->value.IsObject()) {
            continue;
        }
        const std::string_view method = stringMember(request->value, "method");
        const std::string_view url = stringMember(request->value, "url");
        const std::string_view ifNoneExist = stringMember(request->value, "ifNoneExist");
        const std::size_t question = url.find('?');
        const std::string type(url.substr(0, std::min(question, url.find('/'))));
        if (method == "POST" && !ifNoneExist.empty()) {
            rest::QueryParams query;
            core::Issue ignored; // step 1 reports a malformed ifNoneExist
            std::vector<store::StoredResource> matches;
            FhirResponse unused;
            if (rest::parseIfNoneExist(ifNoneExist, query, ignored) &&
                conditionalMatches(context, type, query, matches, unused) && matches.size() == 1) {
                found.emplace(i, std::move(matches));
                continue;
            }
            criteria.push_back(conditionalKey(type, ifNoneExist));
        } else if ((method == "PUT" || method == "DELETE") && question != std::string_view::npos) {
            criteria.push_back(conditionalKey(type, url.substr(question + 1)));
        }
    }
    const auto held = conditionalLocks_.lock(criteria);
    auto fail = [&](int status, const char* code, const std::string& text, std::size_t index,
                    const std::string& tail = ".request") {
        return failure(context, status, code, text, entryPath(index) + tail);
    };

    // 1. What each entry does, and which resource it names.
    std::set<std::string> seenFullUrls;
    for (std::size_t i = 0; i < count; ++i) {
        rapidjson::Value& entry = list->value[static_cast<rapidjson::SizeType>(i)];
        if (!entry.IsObject() || !entry.HasMember("request") || !entry["request"].IsObject()) {
            return fail(400, "invalid", "every transaction entry needs a request", i, "");
        }
        const rapidjson::Value& request = entry["request"];
        Planned step;
        step.index = i;
        step.method = std::string(stringMember(request, "method"));
        core::Issue issue;
        if (!rest::parseEntryUrl(stringMember(request, "url"), step.path, issue, context.base)) {
            core::IssueList issues;
            issue.location.path = entryPath(i) + ".request.url";
            issues.add(issue);
            return failure(context, issues);
        }
        step.type = step.path.type;
        const std::string fullUrl(stringMember(entry, "fullUrl"));
        if (!fullUrl.empty() && !seenFullUrls.insert(fullUrl).second) {
            return fail(400, "invalid", "fullUrl " + fullUrl + " appears twice", i, ".fullUrl");
        }
        const bool hasResource = entry.HasMember("resource") && entry["resource"].IsObject();
        const std::string_view ifMatch = stringMember(request, "ifMatch");
        if (!ifMatch.empty()) {
            step.ifMatch = rest::parseEntityTags(ifMatch);
            if (!step.ifMatch) {
                return fail(400, "invalid", "ifMatch is not an entity tag", i, ".request.ifMatch");
            }
        }
        if (step.method == "GET") {
            plan.push_back(std::move(step));
            continue;
        }
        if (step.type.empty()) {
            return fail(400, "invalid", "the entry's url names no resource type", i,
                        ".request.url");
        }
        if ((step.method == "POST" || step.method == "PUT") && !hasResource) {
            return fail(400, "invalid", step.method + " entries carry a resource", i, "");
        }
        if (step.method == "POST") {
            step.write = true;
            step.status = 201;
            const std::string_view ifNoneExist = stringMember(request, "ifNoneExist");
            if (!ifNoneExist.empty()) {
                rest::QueryParams criteria;
                if (!rest::parseIfNoneExist(ifNoneExist, criteria, issue)) {
                    return fail(400, "invalid", issue.text, i, ".request.ifNoneExist");
                }
                std::vector<store::StoredResource> matches;
                if (auto known = found.find(i); known != found.end()) {
                    matches = std::move(known->second);
                } else if (!conditionalMatches(context, step.type, criteria, matches, failed)) {
                    return failed;
                }
                if (matches.size() > 1) {
                    return fail(412, "multiple-matches", "ifNoneExist matches more than one", i,
                                ".request.ifNoneExist");
                }
                if (matches.size() == 1) {
                    step.write = false;
                    step.status = 200;
                    step.id = matches.front().id;
                    step.seen = matches.front().version;
                    step.existingCopy = matches.front();
                }
            }
            if (step.write) {
                step.id = newId();
            }
        } else if (step.method == "PUT" || step.method == "DELETE") {
            step.write = true;
            if (step.path.endpoint == rest::Endpoint::Type) {
                std::vector<store::StoredResource> matches;
                if (!conditionalMatches(context, step.type, step.path.query, matches, failed)) {
                    return failed;
                }
                if (matches.size() > 1) {
                    return fail(412, "multiple-matches", "the criteria match more than one", i,
                                ".request.url");
                }
                if (matches.empty()) {
                    if (step.method == "DELETE") {
                        step.write = false;
                        step.status = 204;
                    } else {
                        step.id = newId();
                    }
                } else {
                    step.id = matches.front().id;
                }
            } else if (step.path.endpoint == rest::Endpoint::Instance) {
                step.id = step.path.id;
            } else {
                return fail(400, "invalid", step.method + " needs Type/id or Type?criteria", i,
                            ".request.url");
            }
        } else {
            return fail(400, "not-supported", "transaction entries may be GET, POST, PUT or DELETE",
                        i, ".request.method");
        }
        if (!step.id.empty()) {
            const std::string target = step.type + "/" + step.id;
            if (step.write && !targets.insert(target).second) {
                return fail(400, "invalid", "two entries change " + target, i, ".request");
            }
            if (!fullUrl.empty()) {
                fullUrls[fullUrl] = target;
            }
        }
        plan.push_back(std::move(step));
    }

    // 2. References to other entries (urn:uuid:..., or their fullUrl) and conditional ones.
    auto& allocator = bundle.GetAllocator();
    for (const Planned& step : plan) {
        if (step.method != "POST" && step.method != "PUT") {
            continue;
        }
        rapidjson::Value& resource =
            list->value[static_cast<rapidjson::SizeType>(step.index)]["resource"];
        std::optional<FhirResponse> broken;
        forEachReference(resource, [&](rapidjson::Value& reference) {
            if (broken) {
                return;
            }
            const std::string text(reference.GetString(), reference.GetStringLength());
            std::string target;
            auto mapped = fullUrls.find(text);
            if (mapped != fullUrls.end()) {
                target = mapped->second;
            } else if (text.rfind("urn:uuid:", 0) == 0 || text.rfind("urn:oid:", 0) == 0) {
                broken = fail(400, "invalid", "reference " + text + " names no entry", step.index,
                              ".resource");
                return;
            } else if (const auto query = text.find('?');
                       query != std::string::npos && text.find('/') == std::string::npos) {
                rest::RequestPath conditional;
                core::Issue issue;
                if (!rest::parseEntryUrl(text, conditional, issue, context.base)) {
                    broken = fail(400, "invalid", "conditional reference: " + issue.text,
                                  step.index, ".resource");
                    return;
                }
                std::vector<store::StoredResource> matches;
                FhirResponse refused;
                if (!conditionalMatches(context, conditional.type, conditional.query, matches,
                                        refused)) {
                    broken = refused;
                    return;
                }
                if (matches.size() != 1) {
                    broken = fail(matches.empty() ? 404 : 412,
                                  matches.empty() ? "not-found" : "multiple-matches",
                                  "the conditional reference " + text + " matches " +
                                      std::to_string(matches.size()) + " resources",
                                  step.index, ".resource");
                    return;
                }
                target = matches.front().type + "/" + matches.front().id;
            } else {
                return;
            }
            reference.SetString(target.c_str(), static_cast<rapidjson::SizeType>(target.size()),
                                allocator);
        });
        if (broken) {
            return *broken;
        }
    }

    // 3. Versions, validation and the changes: deletes, then creates, then updates.
    std::vector<PreparedWrite> writes(plan.size());
    std::vector<PreparedWrite*> changes;
    core::IssueList invalid;
    for (const char* phase : {"DELETE", "POST", "PUT"}) {
        for (std::size_t p = 0; p < plan.size(); ++p) {
            Planned& step = plan[p];
            if (step.method != phase || !step.write) {
                continue;
            }
            if (step.method == "POST") {
                rapidjson::Document resource(&allocator);
                resource.CopyFrom(
                    list->value[static_cast<rapidjson::SizeType>(step.index)]["resource"],
                    allocator);
                core::IssueList issues;
                if (!prepare(context, resource, step.type, step.id, 0, "POST", writes[p], issues)) {
                    relocate(issues, step.index, invalid);
                    continue;
                }
                changes.push_back(&writes[p]);
                continue;
            }
            const auto stored = store_.current(step.type, step.id);
            step.seen = stored ? stored->version : 0;
            const bool live = stored && !stored->deleted;
            if (step.ifMatch && (!live || !step.ifMatch->matches(std::to_string(step.seen)))) {
                return fail(412, "conflict",
                            step.type + "/" + step.id + " is not at the version ifMatch names",
                            step.index, ".request.ifMatch");
            }
            if (step.method == "DELETE") {
                if (!live) {
                    step.write = false;
                    step.status = 204;
                    continue;
                }
                store::ResourceChange change;
                change.action = store::ResourceChange::Action::Delete;
                change.type = step.type;
                change.id = step.id;
                change.expectedVersion = step.seen;
                change.at = context.now;
                change.method = "DELETE";
                writes[p].change = change;
                changes.push_back(&writes[p]);
                step.status = 204;
                continue;
            }
            if (!step.ifMatch && live && !context.request.ifMatchImplied &&
                std::find(config_.requireIfMatch.begin(), config_.requireIfMatch.end(),
                          step.type) != config_.requireIfMatch.end()) {
                return fail(428, "conflict",
                            "updates of " + step.type + " need ifMatch with the version read",
                            step.index, ".request");
            }
            rapidjson::Document resource(&allocator);
            const rapidjson::Value& entry =
                list->value[static_cast<rapidjson::SizeType>(step.index)];
            resource.CopyFrom(entry["resource"], allocator);
            if (live) {
                const MergeRequest merge = mergeRequestOf(entry["request"]);
                if (merge.merge) {
                    keepUntouched(resource, *stored, merge, allocator);
                }
            }
            const std::string_view bodyId = stringMember(resource, "id");
            if (step.path.endpoint == rest::Endpoint::Instance && bodyId != step.id) {
                return fail(400, "invalid", "the resource's id is not the id in request.url",
                            step.index, ".resource.id");
            }
            core::IssueList issues;
            if (!prepare(context, resource, step.type, step.id, step.seen, "PUT", writes[p],
                         issues)) {
                relocate(issues, step.index, invalid);
                continue;
            }
            step.status = live ? 200 : 201;
            if (live && sameContent(writes[p].resource, *stored)) {
                step.write = false;
                step.existingCopy = *stored;
                continue;
            }
            changes.push_back(&writes[p]);
        }
    }
    if (invalid.hasErrors()) {
        return failure(context, invalid);
    }

    // 4. All or nothing.
    if (!changes.empty()) {
        const auto outcome = commit(changes, context.request.settles);
        if (outcome.status != store::ChangeOutcome::Status::Applied) {
            const auto& change = changes.at(outcome.failedChange)->change;
            return failure(context, 409, "conflict",
                           outcome.status == store::ChangeOutcome::Status::VersionConflict
                               ? change.type + "/" + change.id +
                                     " changed meanwhile: " + outcome.error
                               : outcome.error,
                           "Bundle.entry");
        }
    }

    // 5. The answer, in entry order; reads run after the writes, as the spec orders them.
    rapidjson::Document result(rapidjson::kObjectType);
    auto& a = result.GetAllocator();
    setMember(result, "resourceType", "Bundle", a);
    setMember(result, "type", "transaction-response", a);
    rapidjson::Value entries(rapidjson::kArrayType);
    for (std::size_t p = 0; p < plan.size(); ++p) {
        const Planned& step = plan[p];
        if (step.method == "GET") {
            FhirRequest read;
            read.method = "GET";
            read.host = context.request.host;
            read.target =
                config_.base + "/" +
                std::string(stringMember(
                    list->value[static_cast<rapidjson::SizeType>(step.index)]["request"], "url"));
            entries.PushBack(responseEntry(handle(read), a), a);
            continue;
        }
        rapidjson::Value item(rapidjson::kObjectType);
        rapidjson::Value answer(rapidjson::kObjectType);
        setMember(answer, "status", std::to_string(step.status) + " " + reasonPhrase(step.status),
                  a);
        const store::ResourceChange& change = writes[p].change;
        if (step.write) {
            const std::string version = std::to_string(change.expectedVersion + 1);
            if (step.method != "DELETE") {
                setMember(answer, "location",
                          context.base + "/" + step.type + "/" + step.id + "/_history/" + version,
                          a);
            }
            setMember(answer, "etag", "W/\"" + version + "\"", a);
            setMember(answer, "lastModified", fhirInstant(change.at), a);
            if (step.method != "DELETE" &&
                context.prefer.returnPreference != rest::PreferReturn::Minimal) {
                item.AddMember("resource", rapidjson::Value(writes[p].resource, a), a);
            }
        } else if (step.existingCopy) {
            setMember(answer, "location",
                      context.base + "/" + step.type + "/" + step.id + "/_history/" +
                          std::to_string(step.seen),
                      a);
            setMember(answer, "etag", "W/\"" + std::to_string(step.seen) + "\"", a);
        }
        item.AddMember("response", answer, a);
        entries.PushBack(item, a);
    }
    setMember(result, "entry", std::move(entries), a);
    return respond(context, 200, result);
}

} // namespace hl7gw::fhir::server
