#pragma once

#include "gateway/core/clock.h"
#include "gateway/core/metrics.h"
#include "gateway/routing/channel_set.h"
#include "gateway/routing/directory_source.h"
#include "gateway/routing/dispatcher.h"
#include "gateway/routing/receiver.h"
#include "gateway/routing/router.h"
#include "gateway/store/message_store.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace hl7gw::routing {

/// The running channels of one process: the current ChannelSet snapshot, the receiver every
/// source hands messages to, the router, one dispatcher per destination and the directory
/// sources. reload() swaps in a new snapshot: sources and dispatchers of the old one finish
/// what they hold and are replaced; MLLP connections are not touched (they live in
/// transport/ and only name their channel).
class Engine {
  public:
    Engine(store::MessageStore& store, core::MetricsRegistry& metrics, const core::Clock& clock,
           ChannelSetPtr channels, std::string nodeId);
    ~Engine();

    /// Starts routing (first whatever a previous run left Received), dispatching and the
    /// directory sources.
    void start();
    /// Stops sources, routing and dispatching (each finishes the work in hand).
    void stop();
    void reload(ChannelSetPtr channels);

    Receiver& receiver() { return *receiver_; }
    Router& router() { return *router_; }
    ChannelSetPtr snapshot() const;

  private:
    void startWorkers();
    void stopWorkers();

    store::MessageStore& store_;
    core::MetricsRegistry& metrics_;
    const core::Clock& clock_;
    std::string nodeId_;
    mutable std::mutex snapshotMutex_;
    ChannelSetPtr channels_;
    std::unique_ptr<Receiver> receiver_;
    std::unique_ptr<Router> router_;

    std::mutex workersMutex_;
    ChannelSetPtr running_; // the snapshot the dispatchers and sources below belong to
    std::map<std::string, std::unique_ptr<Dispatcher>> dispatchers_;
    std::vector<std::unique_ptr<DirectorySource>> directories_;
    bool started_ = false;
};

} // namespace hl7gw::routing
