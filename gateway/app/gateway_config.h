#pragma once

#include "gateway/booking/booking_config.h"
#include "gateway/console/http_server.h"
#include "gateway/routing/channel_set.h"
#include "gateway/routing/fhir_store_destination.h"
#include "gateway/store/message_store.h"
#include "gateway/transport/mllp.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hl7gw::app {

/// One MLLP listener and the channel its messages go to.
struct ListenerConfig {
    transport::MllpListenerConfig mllp;
    std::string channel;
};

struct RetentionConfig {
    /// Delivered (and filtered or rejected) messages older than this are pruned; 0 = never.
    std::int64_t days = 30;
    std::int64_t intervalSeconds = 3600;
};

/// The whole of conf/gateway.json, validated (README "Configuration" lists every key).
struct GatewayConfig {
    std::string file;
    store::StoreConfig store;
    RetentionConfig retention;
    std::vector<ListenerConfig> mllp;
    console::HttpServerConfig http;
    bool fhirEnabled = true;
    fhir::FhirServerConfig fhir;
    booking::BookingConfig booking; // the scheduling operations' rules (needs the FHIR server)
    routing::ChannelSetPtr channels;
    /// What this load's `fhir_store` destinations write to; `serve` binds its FHIR server.
    /// Null when the FHIR server is disabled.
    std::shared_ptr<routing::FhirStoreLink> fhirStore;
    std::string nodeId; // names this node's queue claims; default host:pid
    std::string logLevel = "information";
};

/// Reads the configuration file, applies the `--set PATH=VALUE` overrides in order, reads
/// the channel files it names, and validates everything. Any problem is a core::ConfigError
/// naming the file, the dotted path and what is wrong (the caller exits with 2).
GatewayConfig loadGatewayConfig(const std::string& file, const std::vector<std::string>& sets);

/// Only the store part (for `hl7gw messages`, which must not need the listeners to be
/// valid for this machine, but still rejects unknown keys).
store::StoreConfig loadStoreConfig(const std::string& file, const std::vector<std::string>& sets);

} // namespace hl7gw::app
