#pragma once

#include "gateway/store/detail/sql_connection.h"
#include "gateway/store/detail/store_url.h"
#include "gateway/store/message_store.h"

#include <Poco/Data/Session.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hl7gw::store::detail {

/// An inbound message as the writer stores it: text columns already made valid UTF-8
/// (toText), codes already mapped, so the writer thread only executes.
struct InboundRow {
    std::int64_t state = 0;
    std::int64_t receivedAt = 0;
    std::string channel;
    std::string peer;
    std::string type;
    std::string error;
    std::string sender;
    std::string controlId;
    std::int64_t ackFormat = 0; // detail::AckFormat
    std::string ack;            // encoded as ackFormat says
    std::string raw;
};

struct EntryRow {
    std::string destination;
    std::string type;
    std::string orderKey;
    std::string controlId;
    std::string payload;
    std::int64_t state = 0; // stateCode: Queued, or Delivered when applied at receipt
    std::string response;   // Delivered: the destination's answer
};

struct RoutingRow {
    std::int64_t messageId = 0;
    std::int64_t state = 0;
    std::string error;
    std::vector<EntryRow> entries;
};

struct PruneBatch {
    std::int64_t rows = 0;     // rows deleted, entries included
    std::size_t messages = 0;  // inbound messages deleted
    MessageId lastMessage = 0; // the highest of them
};

/// Inbound messages deleted per prune statement.
constexpr std::size_t PruneBatchRows = 1000;

/// The writer connection and its prepared statements, one per store, used by the
/// GroupCommitter's thread only. Every operation runs inside begin()/commit(); none commits on
/// its own. Errors are Poco::Exception or StoreError; the caller rolls back.
class Writer {
  public:
    virtual ~Writer() = default;

    virtual void begin() = 0;
    virtual void commit() = 0;
    /// False when even ROLLBACK failed: the connection is gone and the writer must be replaced.
    virtual bool tryRollback() noexcept = 0;

    /// Inserts the message unless it is a duplicate; then the outcome names the original and
    /// carries its ACK (decoded). For a new message the outcome's ack is left empty.
    virtual ReceiveOutcome receive(const InboundRow& row) = 0;
    /// Sets the routing state and queues the entries, when the message is still Received.
    virtual void route(const RoutingRow& row, Micros now) = 0;
    /// Queues the entries whatever the message's state (a Rejected message's application
    /// ACK); row.state and row.error are not used.
    virtual void queue(const RoutingRow& row, Micros now) = 0;
    virtual std::vector<ClaimedEntry> claim(const std::string& destination,
                                            const std::string& owner, std::size_t limit, Micros now,
                                            Micros leaseUntil) = 0;
    virtual void markDelivered(MessageId entry, const std::string& response, Micros now) = 0;
    virtual void markFailed(MessageId entry, const std::string& error, Micros now,
                            Micros nextAttemptAt, bool dead) = 0;
    virtual bool replay(MessageId id, Micros now) = 0;
    /// Deletes up to PruneBatchRows prunable messages with ids in (after, upTo], and their
    /// entries.
    virtual PruneBatch pruneBatch(MessageId after, MessageId upTo, Micros before) = 0;
    /// The writer's connection for statements built at run time (resource changes), inside
    /// the same transaction as everything else.
    virtual SqlConnection& sql() = 0;
};

using WriterPtr = std::unique_ptr<Writer>;

/// Takes over a configured, schema-ready session.
WriterPtr makeSqliteWriter(Poco::Data::Session session);
WriterPtr makePostgresqlWriter(Poco::Data::Session session);

/// PostgreSQL connection care around two POCO 1.11 leaks (postgresql_writer.cpp says more):
/// probePostgresql() connects and disconnects with libpq, throwing StoreError with libpq's
/// message, so that POCO only ever opens connections that work; revivePostgresql()
/// reconnects a session whose connection broke (PQreset), or throws StoreError.
void probePostgresql(const std::string& connectString);
void revivePostgresql(Poco::Data::Session& session);
/// Sends the connection's server notices to the hl7gw.store logger (debug) instead of stderr.
void routePostgresqlNotices(Poco::Data::Session& session);

/// The writers' SQL, shared by both backends (run through adaptSql). Placeholders are
/// introduced in increasing order (SQLite numbers $N by first appearance). Every byte-string
/// parameter goes through COALESCE($n, {EMPTY_BLOB}): POCO binds an empty BLOB as NULL.
namespace sql {

extern const char* const InsertInbound; // $1 state .. $10 raw, $11 ack format; RETURNING id
extern const char* const FindOriginal;  // $1 sender, $2 control id; id, ack, ack format,
                                        // the raw prefix decodeAck needs
extern const char* const UpdateRouted;  // $1 state, $2 error, $3 now, $4 id
extern const char* const InsertEntry;   // $1 now, $2 control id, $3 type, $4 destination,
                                        // $5 order key, $6 payload, $7 state (Queued or
                                        // Delivered), $8 response, $9 parent id
extern const char* const Claim;         // $1 owner, $2 lease until, $3 destination, $4 now,
                                        // $5 limit; RETURNING the ClaimedEntry columns
extern const char* const MarkDelivered; // $1 response, $2 now, $3 id
extern const char* const MarkFailed;    // $1 state, $2 error, $3 now, $4 next, $5 id
extern const char* const Replay;        // $1 now, $2 id
extern const char* const Prunable;      // $1 after, $2 up to, $3 before; ids
std::string deleteEntriesOf(const std::vector<std::int64_t>& messages);
std::string deleteMessages(const std::vector<std::int64_t>& messages);

} // namespace sql

} // namespace hl7gw::store::detail
