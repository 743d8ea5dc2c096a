#include "gateway/routing/fhir_feed.h"

#include "gateway/fhir/model/json_io.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/mapping/dialect.h"
#include "gateway/mapping/fhir_to_v2.h"
#include "gateway/mapping/map_set.h"
#include "gateway/routing/mapping_transform.h"
#include "gateway/routing/router.h"

#include <algorithm>
#include <deque>
#include <utility>

namespace hl7gw::routing {

namespace {

thread_local std::string currentOrigin;

std::string firstError(const core::IssueList& issues, const char* fallback)
{
    for (const core::Issue& issue : issues) {
        if (issue.severity == core::Severity::Error || issue.severity == core::Severity::Fatal) {
            const std::string where = issue.location.toString();
            return (where.empty() ? std::string() : where + ": ") + issue.text;
        }
    }
    return fallback;
}

// "Patient/12", "http://host/fhir/Patient/12", "Patient/12/_history/3" -> ("Patient", "12").
bool splitReference(std::string_view reference, std::string& type, std::string& id)
{
    if (const auto history = reference.find("/_history/"); history != std::string_view::npos) {
        reference = reference.substr(0, history);
    }
    const auto slash = reference.rfind('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == reference.size()) {
        return false;
    }
    const auto before = reference.rfind('/', slash - 1);
    type =
        std::string(reference.substr(before == std::string_view::npos ? 0 : before + 1,
                                     slash - (before == std::string_view::npos ? 0 : before + 1)));
    id = std::string(reference.substr(slash + 1));
    return !type.empty() && type.find(':') == std::string::npos;
}

} // namespace

FhirFeed::FhirFeed(std::vector<std::string> resources, std::shared_ptr<const mapping::MapSet> maps,
                   std::shared_ptr<const mapping::Dialect> dialect,
                   const mapping::detail::OutboundMap* forced, std::vector<std::string> ignoreFrom,
                   Payload payload, std::vector<std::string> statuses,
                   std::vector<std::string> tags)
    : resources_(std::move(resources)), maps_(std::move(maps)), dialect_(std::move(dialect)),
      forced_(forced), ignoreFrom_(std::move(ignoreFrom)), payload_(payload),
      statuses_(std::move(statuses)), tags_(std::move(tags))
{
}

FhirFeed::~FhirFeed() = default;

bool FhirFeed::wants(std::string_view resourceType, std::string_view origin) const
{
    return std::find(resources_.begin(), resources_.end(), resourceType) != resources_.end() &&
           (origin.empty() ||
            std::find(ignoreFrom_.begin(), ignoreFrom_.end(), origin) == ignoreFrom_.end());
}

bool FhirFeed::wantsStatus(const rapidjson::Value& resource) const
{
    if (statuses_.empty()) {
        return true;
    }
    const auto status = resource.IsObject() ? resource.FindMember("status") : resource.MemberEnd();
    if (!resource.IsObject() || status == resource.MemberEnd() || !status->value.IsString()) {
        return false;
    }
    const std::string_view value(status->value.GetString(), status->value.GetStringLength());
    return std::find(statuses_.begin(), statuses_.end(), value) != statuses_.end();
}

bool FhirFeed::wantsTags(const rapidjson::Value& resource) const
{
    if (tags_.empty()) {
        return true;
    }
    const auto meta = resource.IsObject() ? resource.FindMember("meta") : resource.MemberEnd();
    if (!resource.IsObject() || meta == resource.MemberEnd() || !meta->value.IsObject()) {
        return false;
    }
    const auto tags = meta->value.FindMember("tag");
    if (tags == meta->value.MemberEnd() || !tags->value.IsArray()) {
        return false;
    }
    auto text = [](const rapidjson::Value& tag, const char* name) {
        const auto it = tag.IsObject() ? tag.FindMember(name) : tag.MemberEnd();
        return tag.IsObject() && it != tag.MemberEnd() && it->value.IsString()
                   ? std::string(it->value.GetString(), it->value.GetStringLength())
                   : std::string();
    };
    for (const rapidjson::Value& tag : tags->value.GetArray()) {
        const std::string key = text(tag, "system") + "|" + text(tag, "code");
        if (std::find(tags_.begin(), tags_.end(), key) != tags_.end()) {
            return true;
        }
    }
    return false;
}

bool FhirFeed::map(const rapidjson::Value& resource,
                   const std::function<const rapidjson::Value*(std::string_view)>& resolve,
                   std::string& er7, core::IssueList& issues) const
{
    mapping::FhirToV2::Options options;
    options.forced = forced_;
    if (options.forced == nullptr && resource.IsObject() && resource.HasMember("resourceType") &&
        resource["resourceType"].IsString()) {
        const auto chosen = dialect_->outbound.find(resource["resourceType"].GetString());
        if (chosen != dialect_->outbound.end()) {
            options.forced = maps_->outboundMap(chosen->second);
        }
    }
    options.resolver = resolve;
    // Cheap to make (the maps are shared); one per call keeps the feed free of thread state.
    mapping::FhirToV2 engine(maps_, *dialect_);
    return engine.map(resource, er7, issues, options);
}

FhirFeedPtr makeFhirFeed(core::ConfigReader& config, const std::string& baseDirectory,
                         MapSetCache* cache)
{
    std::vector<std::string> resources = config.strings("resources");
    if (resources.empty()) {
        config.fail("resources", "name the resource types to send, e.g. [\"Appointment\"]");
    }
    std::vector<std::string> statuses = config.strings("statuses");
    std::vector<std::string> tags = config.strings("tags");
    for (const std::string& tag : tags) {
        if (tag.find('|') == std::string::npos || tag.back() == '|') {
            config.fail("tags", "expected \"system|code\" codings, found '" + tag + "'");
        }
    }
    const std::string payload = config.string("payload", "v2");
    if (payload == "json") {
        for (const char* key : {"mapping", "dialect", "mappings_dir", "adapters_dir"}) {
            if (config.has(key)) {
                config.fail(key, "a json payload is the resource itself: no map applies (remove "
                                 "the key, or use payload v2)");
            }
        }
        return std::make_shared<const FhirFeed>(
            std::move(resources), nullptr, nullptr, nullptr, config.strings("ignore_from"),
            FhirFeed::Payload::Json, std::move(statuses), std::move(tags));
    }
    if (payload != "v2") {
        config.fail("payload", "expected v2 or json, found '" + payload + "'");
    }
    const std::string mappingName = config.string("mapping", {});
    std::vector<std::string> ignoreFrom = config.strings("ignore_from");
    LoadedMaps loaded = loadMaps(config, baseDirectory, cache);
    const mapping::detail::OutboundMap* forced = nullptr;
    if (!mappingName.empty()) {
        forced = loaded.maps->outboundMap(mappingName);
        if (forced == nullptr) {
            config.fail("mapping", "no outbound map '" + mappingName + "' in " +
                                       loaded.mappingsDir + " (mappings/fhir-to-v2/*.map)");
        }
    }
    for (const std::string& type : resources) {
        const bool chosen = forced != nullptr || loaded.dialect->outbound.count(type) > 0 ||
                            loaded.maps->outboundMapFor(type) != nullptr;
        if (!chosen) {
            config.fail("resources", "no outbound map for " + type + " in " + loaded.mappingsDir);
        }
    }
    return std::make_shared<const FhirFeed>(
        std::move(resources), std::move(loaded.maps), std::move(loaded.dialect), forced,
        std::move(ignoreFrom), FhirFeed::Payload::V2, std::move(statuses), std::move(tags));
}

fhir::OutboxHook makeFhirOutboxHook(std::function<ChannelSetPtr()> snapshot,
                                    store::ResourceStore& store)
{
    return [snapshot = std::move(snapshot),
            &store](const store::ResourceChange& change, const rapidjson::Value& resource,
                    const fhir::CommitView& commit, std::vector<store::OutboxMessage>& outbox) {
        if (change.action != store::ResourceChange::Action::Put || !resource.IsObject()) {
            return; // deletions have no v2 event of their own yet
        }
        const ChannelSetPtr channels = snapshot();
        if (!channels) {
            return;
        }
        const std::string_view origin = FhirWriteOrigin::current();
        // Referenced resources read from the store live as long as this write's hook call.
        std::deque<rapidjson::Document> loaded;
        auto resolve = [&](std::string_view reference) -> const rapidjson::Value* {
            if (const rapidjson::Value* same = commit.find(reference)) {
                return same;
            }
            std::string type;
            std::string id;
            if (!splitReference(reference, type, id)) {
                return nullptr;
            }
            const auto stored = store.current(type, id);
            if (!stored || stored->deleted) {
                return nullptr;
            }
            rapidjson::Document& document = loaded.emplace_back();
            core::Issue issue;
            return fhir::parseJson(stored->body, document, issue) ? &document : nullptr;
        };
        const std::string what = change.type + "/" + change.id;
        for (const ChannelPtr& channel : channels->channels()) {
            if (!channel->fhirFeed || !channel->fhirFeed->wants(change.type, origin) ||
                !channel->fhirFeed->wantsStatus(resource) ||
                !channel->fhirFeed->wantsTags(resource)) {
                continue;
            }
            if (channel->fhirFeed->payload() == FhirFeed::Payload::Json) {
                // The resource itself to every destination; the version in the control id
                // lets a receiver recognise a resend.
                const std::string payload = fhir::writeJson(resource);
                for (const DestinationConfig& destination : channel->destinations) {
                    store::OutboxMessage queued;
                    queued.channel = channel->name;
                    queued.destination = destination.name;
                    queued.type = change.type;
                    queued.orderKey = what;
                    queued.controlId =
                        what + "/_history/" + std::to_string(change.expectedVersion + 1);
                    queued.payload = payload;
                    outbox.push_back(std::move(queued));
                }
                continue;
            }
            std::string er7;
            core::IssueList issues;
            if (!channel->fhirFeed->map(resource, resolve, er7, issues)) {
                store::OutboxMessage failed;
                failed.channel = channel->name;
                failed.error = what + ": " + firstError(issues, "the outbound map failed");
                outbox.push_back(std::move(failed));
                continue;
            }
            hl7v2::Message message;
            core::IssueList parseIssues;
            const hl7v2::Er7Parser parser(hl7v2::ParseOptions{channel->defaultCharset});
            if (!parser.parse(er7, message, parseIssues)) {
                store::OutboxMessage failed;
                failed.channel = channel->name;
                failed.error = what + ": the mapped message does not parse: " +
                               firstError(parseIssues, "unknown error");
                outbox.push_back(std::move(failed));
                continue;
            }
            const store::RoutingResult routed = Router::route(message, er7, *channel);
            if (routed.state == store::MessageState::Error) {
                store::OutboxMessage failed;
                failed.channel = channel->name;
                failed.error = what + ": " + routed.error;
                outbox.push_back(std::move(failed));
                continue;
            }
            for (const store::OutboundEntry& entry : routed.entries) {
                store::OutboxMessage queued;
                queued.channel = channel->name;
                queued.destination = entry.destination;
                queued.type = entry.type;
                // No PID-3 (a Slot, a Schedule): keep the resource's own changes in order.
                queued.orderKey = entry.orderKey.empty() ? what : entry.orderKey;
                queued.controlId = entry.controlId;
                queued.payload = entry.payload;
                outbox.push_back(std::move(queued));
            }
        }
    };
}

FhirWriteOrigin::FhirWriteOrigin(std::string destination)
    : previous_(std::exchange(currentOrigin, std::move(destination)))
{
}

FhirWriteOrigin::~FhirWriteOrigin()
{
    currentOrigin = std::move(previous_);
}

std::string_view FhirWriteOrigin::current()
{
    return currentOrigin;
}

} // namespace hl7gw::routing
