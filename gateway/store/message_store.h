#pragma once

#include "gateway/core/errors.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::store {

class ResourceStore;

/// Our internal message id (never the control id, which is MSH-10).
using MessageId = std::int64_t;
/// Microseconds since 1970-01-01T00:00:00Z. The store never reads the clock: callers pass
/// the times, so tests are deterministic.
using Micros = std::int64_t;

/// The store could not do what was asked (database down, disk full, lost connection).
/// Thrown, never returned: the caller answers AR/CE 207 or retries later.
POCO_DECLARE_EXCEPTION(, StoreError, core::Error)

enum class Direction { In, Out };
std::string_view toString(Direction direction);

/// The fate of a message. Inbound messages are Received (stored, not yet routed), then
/// Processed (routed: one Out entry per destination was queued), Filtered (no destination
/// wanted it), Rejected (answered AE/AR) or Error (routing or transform failed; see error).
/// Outbound entries (the queue) are Queued, then Delivered or Dead (gave up after the
/// retries; replay puts them back to Queued).
enum class MessageState { Received, Processed, Filtered, Rejected, Error, Queued, Delivered, Dead };
std::string_view toString(MessageState state);
std::optional<MessageState> parseMessageState(std::string_view text);

/// One queue entry that routing creates for one destination.
struct OutboundEntry {
    std::string destination; // destination name, unique across channels
    std::string orderKey;    // entries with the same destination and key go out in id order
    std::string type;        // message type of the payload, e.g. "ADT^A01"
    std::string controlId;   // MSH-10 of the payload
    std::string payload;     // the bytes to deliver
    /// Already delivered on arrival (a destination applied at receipt, routing/README.md
    /// `at_receipt`): stored Delivered with `response`, never claimed. Receipt only.
    bool delivered = false;
    std::string response;
};

/// A message as it arrived, with the ACK that answers it when the insert commits.
struct InboundMessage {
    std::string channel;
    std::string peer;      // "127.0.0.1:51234", "file:/path", "http:..."
    std::string sender;    // MSH-3 and MSH-4 as "APP|FACILITY", decoded to UTF-8; may be empty
    std::string controlId; // MSH-10; empty means the message cannot be de-duplicated
    std::string type;      // "ADT^A01" (MSH-9.1^MSH-9.2), may be empty when unreadable
    MessageState state = MessageState::Received; // Received or Rejected
    std::string error;                           // for Rejected: what and where, never patient data
    std::string raw;                             // the message bytes as received (own charset)
    std::string ack; // the ACK bytes to send (and to resend to duplicates)
    Micros receivedAt = 0;
    /// Routing decided on arrival (the receiver routes before storing): when `routed`, a
    /// Received message is stored as `routedState` (Processed, Filtered or Error) with
    /// `routedError` and these queue entries, all in the same transaction as the message.
    /// Not applied to a duplicate.
    bool routed = false;
    MessageState routedState = MessageState::Processed;
    std::string routedError;
    /// With `routed`, the routing's entries; on a Rejected message, the entries it still
    /// queues (its application ACK in enhanced mode), stored with it likewise.
    std::vector<OutboundEntry> entries;
};

struct ReceiveOutcome {
    MessageId id = 0;
    /// An inbound message with the same sender and control id was stored before; nothing
    /// was written and `ack` is the original ACK, byte for byte.
    bool duplicate = false;
    std::string ack;
};

/// The result of routing one Received message, committed with its queue entries in one
/// transaction (outbox).
struct RoutingResult {
    MessageId messageId = 0;
    MessageState state = MessageState::Processed; // Processed, Filtered or Error
    std::string error;
    std::vector<OutboundEntry> entries;
};

/// A stored message or queue entry. For Out rows, `parentId` is the inbound message,
/// `sender` is empty, `channel` is the inbound channel, and the delivery fields are set.
struct MessageRecord {
    MessageId id = 0;
    MessageId parentId = 0; // 0 for In
    Direction direction = Direction::In;
    Micros receivedAt = 0; // In: arrival; Out: when queued
    Micros updatedAt = 0;
    std::string channel;
    std::string peer;
    std::string sender;
    std::string controlId;
    std::string type;
    MessageState state = MessageState::Received;
    std::string error; // Rejected/Error: why; Out: the last delivery error
    std::string raw;   // In: as received; Out: the payload
    std::string ack;   // In: the ACK we sent; Out: the peer's last answer
    // Out only:
    std::string destination;
    std::string orderKey;
    int attempts = 0;
    Micros nextAttemptAt = 0;
};

/// Filters for list and count; unset fields do not filter. Results are newest first.
struct MessageQuery {
    std::optional<MessageState> state;
    std::optional<Direction> direction;
    std::optional<std::string> type; // exact "ADT^A01", or "ADT" matches every ADT trigger
    std::optional<std::string> channel;
    std::optional<Micros> since; // receivedAt >= since
    std::size_t limit = 100;     // list only; 0 = no limit
    bool withBodies = false;     // list only: also load raw and ack
};

/// A claimed queue entry: leased to `owner` until `leaseUntil`; if the owner neither marks
/// it delivered nor failed by then, it becomes claimable again (a node that died).
struct ClaimedEntry {
    MessageId id = 0;
    MessageId parentId = 0;
    std::string destination;
    std::string orderKey;
    std::string payload;
    int attempts = 0; // failed attempts so far
};

struct DestinationDepth {
    std::string destination;
    std::int64_t queued = 0;   // entries in state Queued
    Micros oldestQueuedAt = 0; // receivedAt of the oldest Queued entry; 0 when none
    std::int64_t dead = 0;
};

/// The one storage interface for messages, their fate and the outbound queue, behind
/// which SQLite (WAL, one process) and PostgreSQL (several nodes) sit.
///
/// Durability: every write method returns only after its transaction is committed and
/// fsync'd. Concurrent writes are group-committed: many callers share one transaction and
/// one fsync, and each returns when that commit is done; none returns before.
/// All methods are thread-safe and throw StoreError when the database cannot do the work.
class MessageStore {
  public:
    virtual ~MessageStore() = default;

    /// Stores an inbound message. A duplicate (same sender and non-empty control id as an
    /// earlier inbound message) is not stored again: the outcome carries the original ACK.
    /// That holds for a Rejected original too (the resend gets the same AR), and across
    /// gateway nodes on one PostgreSQL database.
    virtual ReceiveOutcome receive(const InboundMessage& message) = 0;

    /// The inbound message stored with this sender and control id (the one receive() would
    /// call this a duplicate of) and its original ACK; nullopt when there is none or
    /// `controlId` is empty. For work that must not run twice before receive() (a write
    /// applied at receipt).
    virtual std::optional<ReceiveOutcome> original(std::string_view sender,
                                                   std::string_view controlId) = 0;

    /// Inbound messages in state Received, oldest first: what routing still has to do
    /// (after a crash, or after replay).
    virtual std::vector<MessageRecord> pendingRouting(std::size_t limit) = 0;
    /// Each message's new state and its queue entries (state Queued), in one transaction.
    /// A message that is no longer Received (another node routed it first) is left as it is,
    /// and its result's entries are not queued.
    virtual void commitRouting(const std::vector<RoutingResult>& results, Micros now) = 0;

    /// Claims up to `limit` due entries of `destination` (state Queued, nextAttemptAt <= now,
    /// not leased), at most one per order key and only the oldest Queued entry of its key, so
    /// that a key's entries go out in order while keys run in parallel. Safe across nodes.
    /// Returned oldest first. A Dead entry no longer holds its key up.
    virtual std::vector<ClaimedEntry> claim(std::string_view destination, std::string_view owner,
                                            std::size_t limit, Micros now, Micros leaseUntil) = 0;
    /// The entry was delivered; `response` is the peer's answer (e.g. its ACK).
    virtual void markDelivered(MessageId entry, std::string_view response, Micros now) = 0;
    /// The attempt failed: attempts + 1, last error kept; Queued again at `nextAttemptAt`, or
    /// Dead when `dead`. Ignored for an entry that is no longer Queued.
    virtual void markFailed(MessageId entry, std::string_view error, Micros now,
                            Micros nextAttemptAt, bool dead) = 0;

    virtual std::optional<MessageRecord> find(MessageId id) = 0;
    virtual std::vector<MessageRecord> list(const MessageQuery& query) = 0;
    virtual std::int64_t count(const MessageQuery& query) = 0;
    /// The queue entries made from an inbound message, oldest first.
    virtual std::vector<MessageRecord> deliveriesOf(MessageId parent) = 0;

    /// In: back to Received, so routing runs again (new queue entries). Out: back to
    /// Queued, due now, attempts 0. Returns false when there is no such message.
    virtual bool replay(MessageId id, Micros now) = 0;

    /// One element per destination that has Queued or Dead entries, by destination name;
    /// a destination with neither is not listed (its depth is 0).
    virtual std::vector<DestinationDepth> queueDepths() = 0;

    /// Deletes, in bounded batches, inbound messages received before `before` whose entries
    /// are all Delivered (or that were Filtered or Rejected), with their entries. Returns the
    /// number of rows deleted. Dead and Queued work is never pruned.
    virtual std::int64_t prune(Micros before) = 0;

    /// Throws StoreError when the database does not answer (for /healthz).
    virtual void ping() = 0;
    /// "sqlite:/path" or "postgresql://user@host:port/db", without a password.
    virtual std::string describe() const = 0;

    /// The FHIR resources kept in the same database (resource_store.h).
    virtual ResourceStore& resources() = 0;
};

using MessageStorePtr = std::unique_ptr<MessageStore>;

struct StoreConfig {
    std::string url = "sqlite:var/hl7gw.db"; // sqlite:PATH or postgresql://user@host:port/db
    /// Upper bound on messages per group commit.
    std::size_t maxBatch = 512;
    /// SQLite's page size, used only when SQLite creates the file. The WAL logs whole pages,
    /// and a FHIR write dirties one page of each index it inserts into at a random place
    /// (identifiers, names, phones): 4 KiB pages write about 40% fewer bytes per mapped
    /// message than 8 KiB ones (470 KB against 770 KB, bench/run_mapping_channel.sh). A page
    /// holds whole rows, though: 850-byte ADT messages pack four to a 4 KiB page (1.64 times
    /// the message bytes on disk) and nine to an 8 KiB one (about 1.5 times), so a gateway that
    /// only stores and forwards v2 may prefer 8192.
    int sqlitePageSize = 4096;
};

/// Opens (creating the schema when missing) the store the URL names. A URL of another
/// scheme is a core::ConfigError; a database that cannot be opened is a StoreError.
MessageStorePtr openStore(const StoreConfig& config);

} // namespace hl7gw::store
