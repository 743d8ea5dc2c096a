#pragma once

#include "gateway/core/config_reader.h"
#include "gateway/fhir/server/fhir_server.h"
#include "gateway/routing/channel_set.h"
#include "gateway/store/resource_store.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::mapping {
class MapSet;
struct Dialect;
namespace detail {
struct OutboundMap;
}
} // namespace hl7gw::mapping

namespace hl7gw::routing {

class MapSetCache;

/// A channel's `fhir` source: writes to the gateway's FHIR server of the named resource
/// types become HL7 v2 messages (an outbound map, mappings/README.md) that run through the
/// channel's filters and destinations like any message, and are queued in the same store
/// transaction as the write (the outbox). Immutable; thread-safe.
///
///   {"type": "fhir", "resources": ["Appointment"], "mapping": "appointment-siu",
///    "dialect": "his", "mappings_dir": "../mappings", "adapters_dir": "../adapters",
///    "ignore_from": ["his-siu-fhir"], "statuses": ["booked", "cancelled"]}
///   {"type": "fhir", "resources": ["Provenance"], "mapping": "slots-siu",
///    "tags": ["urn:hl7gw:slot-change|suspend", "urn:hl7gw:slot-change|resume"]}
///   {"type": "fhir", "resources": ["Communication"], "payload": "json",
///    "statuses": ["preparation"]}
///
/// `mapping` forces one outbound map (default: the dialect's `outbound` choice for the
/// type, else the map for the type); `ignore_from` names `fhir_store` destinations whose
/// writes are not sent on, so that what the HIS told us is never echoed back to it;
/// `statuses` (default: any) sends only the versions whose `status` is listed; `tags`
/// (default: any) only those carrying one of these `meta.tag` codings, "system|code" (an
/// outbound map cannot decline a resource, so this is how one kind of Provenance is sent and
/// the others not). `payload`
/// `json` (default `v2`) sends the resource itself, its FHIR JSON as written, to every
/// destination, with no map (so none of `mapping`, `dialect`, `mappings_dir`,
/// `adapters_dir`), for services that speak FHIR, such as the hospital's notification push
/// gateway; such a channel has no filters or transforms (they read v2 messages).
class FhirFeed {
  public:
    enum class Payload { V2, Json };

    FhirFeed(std::vector<std::string> resources, std::shared_ptr<const mapping::MapSet> maps,
             std::shared_ptr<const mapping::Dialect> dialect,
             const mapping::detail::OutboundMap* forced, std::vector<std::string> ignoreFrom,
             Payload payload = Payload::V2, std::vector<std::string> statuses = {},
             std::vector<std::string> tags = {});
    ~FhirFeed();

    bool wants(std::string_view resourceType, std::string_view origin) const;
    /// The version's `status` is one of `statuses` (always true without them).
    bool wantsStatus(const rapidjson::Value& resource) const;
    /// The version carries one of `tags` in meta.tag (always true without them).
    bool wantsTags(const rapidjson::Value& resource) const;
    Payload payload() const { return payload_; }
    /// The resource as ER7 in the dialect's version and charset; false with the map's issues.
    bool map(const rapidjson::Value& resource,
             const std::function<const rapidjson::Value*(std::string_view)>& resolve,
             std::string& er7, core::IssueList& issues) const;

  private:
    const std::vector<std::string> resources_;
    const std::shared_ptr<const mapping::MapSet> maps_;
    const std::shared_ptr<const mapping::Dialect> dialect_;
    const mapping::detail::OutboundMap* const forced_;
    const std::vector<std::string> ignoreFrom_;
    const Payload payload_;
    const std::vector<std::string> statuses_;
    const std::vector<std::string> tags_;
};
using FhirFeedPtr = std::shared_ptr<const FhirFeed>;

/// Reads a `fhir` source object (the keys above); throws core::ConfigError naming the path.
FhirFeedPtr makeFhirFeed(core::ConfigReader& config, const std::string& baseDirectory,
                         MapSetCache* cache);

/// The FHIR server's outbox hook for every channel with a `fhir` source in the current
/// snapshot: each wanted write is mapped, routed through its channel, and each destination
/// entry becomes an outbox message. A `json` source's entry is the resource's JSON, type the
/// resource type, control id and order key "Type/id/_history/N" and "Type/id". A write whose
/// message cannot be made is kept as an error row (`hl7gw messages list --state error`) rather than
/// failing the write or vanishing. References are followed into the same commit first, then the
/// store.
fhir::OutboxHook makeFhirOutboxHook(std::function<ChannelSetPtr()> snapshot,
                                    store::ResourceStore& store);

/// Marks the FHIR writes this thread makes as coming from a `fhir_store` destination (for
/// `ignore_from`), for the scope's lifetime.
class FhirWriteOrigin {
  public:
    explicit FhirWriteOrigin(std::string destination);
    ~FhirWriteOrigin();
    FhirWriteOrigin(const FhirWriteOrigin&) = delete;
    FhirWriteOrigin& operator=(const FhirWriteOrigin&) = delete;
    /// The destination whose write this thread is making; empty for an HTTP client's.
    static std::string_view current();

  private:
    std::string previous_;
};

} // namespace hl7gw::routing
