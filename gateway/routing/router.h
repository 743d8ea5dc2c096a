#pragma once

#include "gateway/core/clock.h"
#include "gateway/core/metrics.h"
#include "gateway/hl7v2/message.h"
#include "gateway/routing/channel_set.h"
#include "gateway/store/message_store.h"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hl7gw::routing {

/// Runs each stored (Received) message through its channel: filters, transforms, then one
/// queue entry per destination that wants it, committed with the message's new state in one
/// transaction (outbox). Works from the store, not from memory, so that messages left
/// Received by a crash or put back by replay are routed the same way.
/// One thread; notify() wakes it. route() is also callable directly (tests, CLI).
class Router {
  public:
    using SnapshotFn = std::function<ChannelSetPtr()>;
    /// Called after a commit with the destinations that got new entries.
    using QueuedFn = std::function<void(const std::vector<std::string>& destinations)>;

    Router(store::MessageStore& store, core::MetricsRegistry& metrics, const core::Clock& clock,
           SnapshotFn snapshot, QueuedFn onQueued);
    ~Router();

    void start();
    /// Finishes the batch in hand, then stops.
    void stop();
    void notify();

    /// Routes one batch of pending messages; returns how many were routed.
    std::size_t routeBatch(std::size_t limit = 512);

    /// The routing of one stored message under `channels` (pure: no store access).
    static store::RoutingResult routeOne(const store::MessageRecord& record,
                                         const ChannelSet& channels);
    /// The routing of a parsed message through `channel`: its state (Processed, Filtered or
    /// Error) and one entry per destination that takes it. `raw` is what `message` indexes.
    /// The receiver calls this before storing, so that message, state and queue entries go
    /// into one transaction. Pure; thread-safe.
    static store::RoutingResult route(const hl7v2::Message& message, std::string_view raw,
                                      const Channel& channel);

  private:
    void run();

    store::MessageStore& store_;
    core::MetricsRegistry& metrics_;
    const core::Clock& clock_;
    SnapshotFn snapshot_;
    QueuedFn onQueued_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool pending_ = true;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace hl7gw::routing
