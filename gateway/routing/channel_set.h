#pragma once

#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/path.h"
#include "gateway/routing/stage.h"

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hl7gw::routing {

class StageRegistry;
class FhirFeed;

/// How a channel answers (STANDARDS.md §1.6): `standard` follows MSH-15/MSH-16 (original mode
/// when both are empty, enhanced otherwise); `original` always answers AA/AE/AR (many Chinese
/// senders put AL|AL but expect one AA); `enhanced` always answers CA/CE/CR.
enum class AckPolicy { Standard, Original, Enhanced };

struct RetryPolicy {
    int maxAttempts = 10; // then Dead
    std::int64_t initialBackoffMs = 1'000;
    std::int64_t maxBackoffMs = 300'000; // the delay doubles per failure up to this
};

/// One destination of a channel: where, which messages, in what order, how persistently.
struct DestinationConfig {
    std::string name; // unique across all channels (the queue's key)
    DestinationKindPtr kind;
    std::vector<FilterPtr> filters; // run after the channel's filters and transforms
    /// The value that orders entries: same key, same order as received. Default PID-3 (the
    /// first identifier's ID number, PID-3.1), so each patient's messages stay in order.
    std::optional<hl7v2::Path> orderKey;
    int workers = 4; // parallel senders (connections)
    RetryPolicy retry;
    std::int64_t leaseMs = 300'000; // a claim older than this is taken over (a node died)
};

struct DirectorySourceConfig {
    std::string path;
    std::int64_t pollMs = 1'000;
    std::string doneDirectory; // where read files go; empty = <path>/done
};

/// One channel (a file in conf/channels/): what it accepts at receipt, how it answers, its
/// filters, transforms and destinations. Immutable once loaded.
struct Channel {
    std::string name;
    std::string file; // where it was defined, for messages
    // Acceptance at receipt (answered AR with 200/201/202/203 otherwise).
    std::vector<std::string> acceptTypes{"*"};
    std::vector<std::string> acceptProcessingIds; // empty = any
    std::vector<std::string> acceptVersions;      // empty = any
    // Structure validation at receipt (errors answered AE). Off by default: real senders
    // deviate in small ways, and refusing them loses more than it protects.
    bool validate = false;
    AckPolicy ackPolicy = AckPolicy::Standard;
    /// `application_ack`: the destination of this channel that carries its application ACKs
    /// (enhanced mode, MSH-16) back to the senders instead of the channel's messages; empty
    /// when the channel sends none (routing/README.md "Enhanced mode").
    std::string applicationAck;
    const hl7v2::Charset* defaultCharset = &hl7v2::Charset::utf8();
    int utcOffsetMinutes = 480; // for MSH-7 of the ACKs we write (China: +08:00)
    bool httpSource = false;    // POST /hl7/<name> accepted
    std::vector<DirectorySourceConfig> directories;
    /// A `fhir` source: FHIR writes of its types become messages of this channel.
    std::shared_ptr<const FhirFeed> fhirFeed;

    std::vector<FilterPtr> filters;
    std::vector<TransformPtr> transforms;
    std::vector<DestinationConfig> destinations;
};
using ChannelPtr = std::shared_ptr<const Channel>;

/// Every channel of one configuration snapshot. Reload builds a new ChannelSet and swaps
/// it in; messages in flight finish on the old one.
class ChannelSet {
  public:
    /// Builds the channels from their JSON objects; `where` names the file of each for
    /// errors. Throws core::ConfigError (file, dotted path, what) for anything wrong,
    /// including two channels or two destinations with the same name. Stages come from
    /// `registry` (default StageRegistry::builtin()).
    static std::shared_ptr<const ChannelSet>
    build(const std::vector<std::pair<std::string, const rapidjson::Value*>>& definitions);
    static std::shared_ptr<const ChannelSet>
    build(const std::vector<std::pair<std::string, const rapidjson::Value*>>& definitions,
          const StageRegistry& registry);

    const Channel* find(const std::string& name) const;
    const std::vector<ChannelPtr>& channels() const { return channels_; }
    /// Destination name -> (channel, destination).
    const DestinationConfig* findDestination(const std::string& name) const;

  private:
    std::vector<ChannelPtr> channels_;
    std::map<std::string, const Channel*> byName_;
    std::map<std::string, const DestinationConfig*> destinations_;
};
using ChannelSetPtr = std::shared_ptr<const ChannelSet>;

} // namespace hl7gw::routing
