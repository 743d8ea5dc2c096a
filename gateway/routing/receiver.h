#pragma once

#include "gateway/core/clock.h"
#include "gateway/core/metrics.h"
#include "gateway/routing/channel_set.h"
#include "gateway/store/message_store.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::routing {

/// The inbound half of the path of a message (ARCHITECTURE.md): parse the header, decide
/// the answer by the channel's acceptance rules and structure validation, route an accepted
/// message through the channel (Router::route: filters, transforms, one queue entry per
/// destination), store message, ACK, state and queue entries in one durable transaction
/// (group-committed), and only then return the ACK. Every source (MLLP listener, HTTP
/// endpoint, directory) hands its messages here.
///
/// Answers (STANDARDS.md §1.6): AA/CA stored as Received; AR/CR (unreadable MSH 100, type
/// 200/201, processing id 202, version 203) and AE (structure errors 100-103) stored as
/// Rejected with the reason; a duplicate (sender + control id) gets the original ACK byte
/// for byte and is not stored again; when the store fails nothing is stored and the answer
/// is AR/CE 207, so the sender keeps the message and resends it. A channel destination with
/// `at_receipt` is applied here, before the store (routing/README.md): its outcome decides
/// the answer (AA; AE with the destination's ERR, stored Rejected; AR, stored Rejected without
/// its control id as dedupe key so the resend is taken), and a copy of a message already
/// stored is answered from the store without applying it again.
/// Thread-safe: each calling thread gets its own parser scratch and validator.
class Receiver {
  public:
    using SnapshotFn = std::function<ChannelSetPtr()>;

    /// Called after a commit with the destinations that got new queue entries.
    using QueuedFn = std::function<void(const std::vector<std::string>& destinations)>;

    Receiver(store::MessageStore& store, core::MetricsRegistry& metrics, const core::Clock& clock,
             SnapshotFn snapshot, QueuedFn onQueued);

    struct Reply {
        /// The ACK bytes; empty when no answer is due (the message was itself an ACK).
        std::string ack;
        /// The message is in the store (now, or from before: a duplicate). False only when
        /// the store failed: the sender must keep the message.
        bool stored = false;
    };

    /// Handles one message that arrived on `channel` from `peer`. Never throws for bad input.
    Reply receive(std::string_view bytes, const std::string& channel, const std::string& peer);

  private:
    std::string nextControlId();

    store::MessageStore& store_;
    core::MetricsRegistry& metrics_;
    const core::Clock& clock_;
    SnapshotFn snapshot_;
    QueuedFn onQueued_;
    core::Histogram& commitSeconds_;
    core::Counter& storeFailures_;
    core::Counter& duplicates_;
};

} // namespace hl7gw::routing
