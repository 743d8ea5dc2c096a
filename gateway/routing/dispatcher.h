#pragma once

#include "gateway/core/clock.h"
#include "gateway/core/metrics.h"
#include "gateway/routing/channel_set.h"
#include "gateway/store/message_store.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hl7gw::routing {

/// Delivers the queue of one destination. A claimer takes due entries from the store (at
/// most one per order key, the oldest, so each key's entries go out in order while keys run
/// in parallel) and hands them to `workers` threads, each with its own Sender (connection).
/// A failed attempt is retried after an exponential backoff; an entry that keeps failing, or
/// that the peer rejects as content, is parked as Dead with the last error.
/// Claims are leases: if this process dies, another node (or the next start) takes the
/// entries over once the lease runs out.
class Dispatcher {
  public:
    Dispatcher(const DestinationConfig& config, store::MessageStore& store,
               core::MetricsRegistry& metrics, const core::Clock& clock, std::string owner);
    ~Dispatcher();

    void start();
    /// Stops claiming, lets the workers finish the entries in hand, and joins.
    void stop();
    /// New entries may be due.
    void notify();

    /// The delay before attempt `failures + 1`, as the retry policy says.
    static std::int64_t backoffMs(const RetryPolicy& policy, int failures);

  private:
    void claimLoop();
    void workLoop();

    const DestinationConfig& config_;
    store::MessageStore& store_;
    const core::Clock& clock_;
    std::string owner_;
    core::Counter& delivered_;
    core::Counter& retried_;
    core::Counter& dead_;
    core::Counter& attempts_;

    std::mutex mutex_;
    std::condition_variable claimWake_;
    std::condition_variable workWake_;
    std::deque<store::ClaimedEntry> work_;
    int idle_ = 0;
    bool pending_ = true;
    bool stopping_ = false;
    std::thread claimer_;
    std::vector<std::thread> workers_;
};

} // namespace hl7gw::routing
