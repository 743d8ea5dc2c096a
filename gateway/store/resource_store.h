#pragma once

#include "gateway/store/message_store.h"
#include "gateway/store/sql_rows.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hl7gw::store {

/// One version of a FHIR resource as stored. `body` is the resource's JSON exactly as the
/// FHIR layer wrote it (with id and meta.versionId/lastUpdated already set); empty for a
/// deletion.
struct StoredResource {
    std::int64_t rid = 0; // the resource's row, the same for all its versions
    std::string type;
    std::string id;
    std::int64_t version = 0;
    Micros lastUpdated = 0;
    bool deleted = false;
    std::string body;
};

/// Search index rows for one table of the FHIR layer's (created by ensureIndexSchema): the
/// values of each row for `columns`; the store adds the resource's rid, which it alone knows
/// before the commit.
struct IndexRows {
    std::string table;
    std::string columns; // "param, system, code, display"
    std::vector<std::vector<SqlValue>> rows;
};

/// One resource write. Versions are decided by the caller, which read the current version
/// first: the change applies only when the stored version is still `expectedVersion` (0 =
/// the resource must not exist, or exist deleted), so a concurrent writer makes it fail
/// instead of losing an update.
struct ResourceChange {
    enum class Action { Put, Delete };
    Action action = Action::Put;
    std::string type;
    std::string id;
    std::int64_t expectedVersion = 0; // the version the caller saw; the new one is +1
    Micros at = 0;                    // becomes lastUpdated
    std::string method;               // POST, PUT, PATCH or DELETE, for history entries
    std::string body;                 // Put: the new version's JSON
    std::vector<IndexRows> indexes;   // Put: the new version's index rows
};

/// A message for a channel destination, queued in the same transaction as the resource
/// changes (the outbox), e.g. an SIU^S12 made from a booked Appointment.
struct OutboxMessage {
    std::string channel;
    std::string destination;
    std::string type;     // "SIU^S12"
    std::string orderKey; // per-key order, e.g. the patient
    std::string controlId;
    std::string payload;
    /// Set when the message could not be made (the map failed): nothing is queued, and the
    /// write's row is kept as an error with this text, so that `hl7gw messages list --state
    /// error` shows what the destination never got.
    std::string error;
};

/// A queue entry marked Delivered in the same transaction as the resource changes its
/// delivery made (a channel's `fhir_store` destination): the write and its record commit
/// together, so a crash between them cannot apply the entry twice.
struct Settlement {
    std::int64_t entry = 0; // the queue entry (MessageId)
    std::string response;   // kept with the entry, as MessageStore::markDelivered keeps it
    bool applied = false;   // set by whoever committed it with the changes
};

struct ChangeOutcome {
    enum class Status {
        Applied,
        VersionConflict, // the stored version was not expectedVersion
        Failed,          // the database refused (e.g. a unique constraint)
    };
    Status status = Status::Applied;
    std::int64_t rid = 0;
    std::int64_t version = 0;     // the new version (Applied) or the stored one (conflict)
    std::size_t failedChange = 0; // the change that failed (not Applied)
    std::string error;            // not Applied: the database's or our reason
};

struct HistoryQuery {
    std::optional<std::string> type; // none: the whole system
    std::optional<std::string> id;   // with type: one resource
    Micros since = 0;                // lastUpdated >= since
    std::int64_t beforeSeq = 0;      // paging: versions older than this change (0: newest)
    std::size_t limit = 50;
};

struct HistoryEntry {
    std::int64_t seq = 0; // the change's position, for paging
    std::string method;
    StoredResource resource;
};

/// The FHIR resources beside the messages, in the same database and written through the same
/// group commit, so that a resource change and the messages it queues commit together.
/// Thread-safe; throws StoreError when the database cannot do the work.
class ResourceStore {
  public:
    virtual ~ResourceStore() = default;

    /// Creates the FHIR layer's index tables when missing (statements in the store's
    /// dialect, each idempotent) and remembers their names, so that a write replaces a
    /// resource's rows in all of them. Call once before writing.
    virtual void ensureIndexSchema(const std::vector<std::string>& statements,
                                   const std::vector<std::string>& tables) = 0;

    /// Applies every change and queues every message in one transaction, or nothing: the
    /// outcome names the first change that could not apply. Durable when it returns. With
    /// `settles`, its entry is marked Delivered in the same transaction (at the changes'
    /// time) when they apply, and settles->applied set.
    virtual ChangeOutcome apply(const std::vector<ResourceChange>& changes,
                                const std::vector<OutboxMessage>& outbox = {},
                                Settlement* settles = nullptr) = 0;

    /// The current version (deleted included); nullopt when the resource never existed.
    virtual std::optional<StoredResource> current(const std::string& type,
                                                  const std::string& id) = 0;
    virtual std::optional<StoredResource> version(const std::string& type, const std::string& id,
                                                  std::int64_t version) = 0;
    /// The current versions of these rows (deleted ones left out), in the order given.
    virtual std::vector<StoredResource> byRid(const std::vector<std::int64_t>& rids) = 0;
    /// Newest first.
    virtual std::vector<HistoryEntry> history(const HistoryQuery& query) = 0;
    /// Runs a read-only statement of the FHIR layer (search, count, includes).
    virtual SqlRows query(const SqlQuery& query) = 0;
    /// "sqlite" or "postgresql": the dialect query() and ensureIndexSchema() speak.
    virtual bool isPostgresql() const = 0;
};

} // namespace hl7gw::store
