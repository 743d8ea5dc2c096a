#include "gateway/store/detail/resource_changes.h"

#include "gateway/store/detail/columns.h"
#include "gateway/store/detail/group_commit.h"
#include "gateway/store/detail/schema.h"
#include "gateway/store/detail/writer.h"

#include <algorithm>
#include <map>

namespace hl7gw::store::detail {

namespace {

// Most index rows per INSERT statement (a power of two); with at most seven values a row,
// far below the parameter limits of both backends (SQLite 32766, libpq 65535).
constexpr std::size_t RowsPerInsert = 32;

// A refusal that belongs to this call (the caller answers 409/412), as opposed to a failure
// of the database that the batch retries or reports. SQLite says "constraint failed";
// PostgreSQL's class 23 is integrity constraint violation.
bool isConstraintViolation(const StoreError& error)
{
    const std::string& text = error.message();
    return text.find("constraint failed") != std::string::npos ||
           text.find("(State: 23") != std::string::npos;
}

std::int64_t toInt(const std::optional<std::string>& text)
{
    return text ? std::stoll(*text) : 0;
}

// What fhir_current holds for a change's resource before the change (0, 0: nothing).
struct Stored {
    std::int64_t rid = 0;
    std::int64_t version = 0;
};

class Applier {
  public:
    Applier(SqlConnection& sql, Backend backend, const std::vector<std::string>& indexTables,
            Micros now)
        : sql_(sql), backend_(backend), indexTables_(indexTables), now_(now),
          // OR FAIL: a refused row ends the statement without undoing its earlier rows, so
          // SQLite keeps no statement journal (a copy of every page each statement touches,
          // a third of the writer's time). Nothing half done stays: a refusal throws, and the
          // batch or the savepoint is rolled back.
          insert_(backend == Backend::Sqlite ? "INSERT OR FAIL INTO" : "INSERT INTO"),
          update_(backend == Backend::Sqlite ? "UPDATE OR FAIL" : "UPDATE")
    {
    }

    /// The change's row and stored version; false (the outcome says why) when the stored
    /// version is not the one the caller saw. Writes nothing.
    bool check(const ResourceChange& change, Stored& stored, ChangeOutcome& outcome)
    {
        const bool pg = backend_ == Backend::Postgresql;
        // FOR UPDATE: another node's writer waits here until this transaction ends, then
        // sees the version this one wrote and reports a conflict instead of overwriting it.
        const SqlRows found = sql_.query(
            std::string("SELECT rid, version FROM fhir_current WHERE type = $1 AND id = $2") +
                (pg ? " FOR UPDATE" : ""),
            {change.type, change.id});
        stored.version = found.empty() ? 0 : toInt(found[0][1]);
        stored.rid = found.empty() ? 0 : toInt(found[0][0]);
        if (stored.version == change.expectedVersion) {
            return true;
        }
        outcome.status = ChangeOutcome::Status::VersionConflict;
        outcome.version = stored.version;
        outcome.error = change.type + "/" + change.id + " is at version " +
                        std::to_string(stored.version) + ", not " +
                        std::to_string(change.expectedVersion);
        return false;
    }

    /// Writes the change whose check() passed.
    void write(const ResourceChange& change, const Stored& stored, ChangeOutcome& outcome)
    {
        const bool pg = backend_ == Backend::Postgresql;
        const bool deleted = change.action == ResourceChange::Action::Delete;
        const std::int64_t version = stored.version + 1;
        std::int64_t rid = stored.rid;
        if (rid == 0) {
            const SqlRows inserted = sql_.query(
                insert_ + " fhir_current (type, id, version, last_updated, deleted, "
                          "seq) VALUES ($1, $2, $3, $4, $5, 0) RETURNING rid",
                {change.type, change.id, version, change.at, std::int64_t{deleted ? 1 : 0}});
            rid = toInt(inserted.at(0).at(0));
        }
        const std::vector<SqlValue> versionRow{rid,           change.type,
                                               change.id,     version,
                                               change.at,     std::int64_t{deleted ? 1 : 0},
                                               change.method, change.body};
        if (pg) {
            // One statement where SQLite takes two: on PostgreSQL every statement is a round
            // trip, and the writer waits for each (idle in transaction) while the pool waits
            // for the writer.
            sql_.execute("WITH v AS (INSERT INTO fhir_versions (rid, type, id, version, "
                         "last_updated, deleted, method, body) VALUES ($1, $2, $3, $4, $5, $6, "
                         "$7, $8) RETURNING seq) UPDATE fhir_current SET version = $4, "
                         "last_updated = $5, deleted = $6, seq = (SELECT seq FROM v) "
                         "WHERE rid = $1",
                         versionRow);
        } else {
            const SqlRows seqRow = sql_.query(
                insert_ + " fhir_versions (rid, type, id, version, last_updated, deleted, "
                          "method, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
                versionRow);
            const std::int64_t seq = toInt(seqRow.at(0).at(0));
            sql_.execute(update_ + " fhir_current SET version = $1, last_updated = $2, "
                                   "deleted = $3, seq = $4 WHERE rid = $5",
                         {version, change.at, std::int64_t{deleted ? 1 : 0}, seq, rid});
        }
        if (stored.version != 0 && pg && indexTables_.size() > 1) {
            // All index tables in one statement, for the same reason.
            std::string sql = "WITH ";
            for (std::size_t t = 0; t + 1 < indexTables_.size(); ++t) {
                sql += (t == 0 ? "d" : ", d") + std::to_string(t) + " AS (DELETE FROM " +
                       indexTables_[t] + " WHERE rid = $1)";
            }
            sql_.execute(sql + " DELETE FROM " + indexTables_.back() + " WHERE rid = $1", {rid});
        } else if (stored.version != 0) {
            for (const std::string& table : indexTables_) {
                sql_.execute("DELETE FROM " + table + " WHERE rid = $1", {rid});
            }
        }
        if (pg) {
            insertIndexRowsAtOnce(change, rid);
            outcome.rid = rid;
            outcome.version = version;
            return;
        }
        for (const IndexRows& rows : change.indexes) {
            // Several rows per statement: a resource has ten to thirty index rows, and each
            // statement costs more than the rows it carries. Chunks of 32, 16, ... 1 rows keep
            // the statement shapes few, so they stay prepared in the connection's cache.
            for (std::size_t start = 0; start < rows.rows.size();) {
                std::size_t chunk = RowsPerInsert;
                while (chunk > rows.rows.size() - start) {
                    chunk /= 2;
                }
                const std::size_t end = start + chunk;
                values_.clear();
                for (std::size_t r = start; r < end; ++r) {
                    values_.emplace_back(rid);
                    values_.insert(values_.end(), rows.rows[r].begin(), rows.rows[r].end());
                }
                sql_.execute(
                    insertInto(rows.table, rows.columns, rows.rows[start].size() + 1, chunk),
                    values_);
                start = end;
            }
        }
        outcome.rid = rid;
        outcome.version = version;
    }

    // An inbound row stands for the change (state Processed, type "FHIR"), so the entries
    // hang off a parent as every queue entry does, and `hl7gw messages` shows where they
    // came from.
    void queue(const OutboxMessage& message, const std::string& origin)
    {
        if (!message.error.empty()) {
            sql_.execute(adaptSql(backend_, "INSERT INTO messages (direction, state, received_at, "
                                            "updated_at, channel, type, raw, error) VALUES (0, "
                                            "$1, $2, $2, $3, 'FHIR', $4, $5)"),
                         {std::int64_t{stateCode(MessageState::Error)}, now_, message.channel,
                          SqlBlob{origin}, message.error});
            return;
        }
        const SqlRows parent = sql_.query(
            adaptSql(backend_,
                     "INSERT INTO messages (direction, state, received_at, updated_at, channel, "
                     "type, raw) VALUES (0, 1, $1, $1, $2, 'FHIR', $3) RETURNING id"),
            {now_, message.channel, SqlBlob{origin}});
        sql_.execute(adaptSql(backend_, sql::InsertEntry),
                     {now_, SqlBlob{message.controlId}, message.type, message.destination,
                      SqlBlob{message.orderKey}, SqlBlob{message.payload},
                      std::int64_t{stateCode(MessageState::Queued)}, SqlBlob{},
                      toInt(parent.at(0).at(0))});
    }

  private:
    // INSERT of `rows` rows of `width` values each (rid first), placeholders in order.
    const std::string& insertInto(const std::string& table, const std::string& columns,
                                  std::size_t width, std::size_t rows)
    {
        std::string& text = inserts_[table + "(" + columns + ")" + std::to_string(rows)];
        if (text.empty()) {
            text = insert_ + " " + table + " (rid" + (columns.empty() ? "" : ", ") + columns +
                   ") VALUES ";
            std::size_t n = 0;
            for (std::size_t r = 0; r < rows; ++r) {
                text += r > 0 ? ", (" : "(";
                for (std::size_t i = 0; i < width; ++i) {
                    text += (i > 0 ? ", $" : "$") + std::to_string(++n);
                }
                text += ")";
            }
        }
        return text;
    }

    // PostgreSQL: every index row of the change in one statement (a data-modifying WITH per
    // table), since each statement is a round trip the writer waits for. The text is not
    // prepared (PQexecParams), so its many shapes cost a parse each and no cache.
    void insertIndexRowsAtOnce(const ResourceChange& change, std::int64_t rid)
    {
        // Far below libpq's 65535 parameters; a very large resource takes several statements.
        constexpr std::size_t MaxParameters = 16384;
        std::vector<std::string> inserts;
        values_.clear();
        const auto flush = [&] {
            if (inserts.empty()) {
                return;
            }
            std::string sql;
            for (std::size_t i = 0; i + 1 < inserts.size(); ++i) {
                sql += (i == 0 ? "WITH i" : ", i") + std::to_string(i) + " AS (" + inserts[i] + ")";
            }
            sql_.execute(sql + (inserts.size() > 1 ? " " : "") + inserts.back(), values_);
            inserts.clear();
            values_.clear();
        };
        for (const IndexRows& rows : change.indexes) {
            std::string* text = nullptr;
            for (const std::vector<SqlValue>& row : rows.rows) {
                if (values_.size() + row.size() + 1 > MaxParameters) {
                    flush();
                    text = nullptr;
                }
                if (text == nullptr) {
                    inserts.push_back("INSERT INTO " + rows.table + " (rid" +
                                      (rows.columns.empty() ? "" : ", ") + rows.columns +
                                      ") VALUES (");
                    text = &inserts.back();
                } else {
                    *text += ", (";
                }
                values_.emplace_back(rid);
                *text += "$" + std::to_string(values_.size());
                for (const SqlValue& value : row) {
                    values_.push_back(value);
                    *text += ", $" + std::to_string(values_.size());
                }
                *text += ")";
            }
        }
        flush();
    }

    SqlConnection& sql_;
    const Backend backend_;
    const std::vector<std::string>& indexTables_;
    const Micros now_;
    const std::string insert_;
    const std::string update_;
    std::map<std::string, std::string> inserts_;
    std::vector<SqlValue> values_; // one INSERT's parameters, reused
};

} // namespace

ChangeOutcome applyResourceChanges(SqlConnection& sql, Backend backend,
                                   const std::vector<ResourceChange>& changes,
                                   const std::vector<OutboxMessage>& outbox,
                                   const std::vector<std::string>& indexTables, Micros now,
                                   bool isolated)
{
    Applier applier(sql, backend, indexTables, now);
    // Every version is checked before anything is written, so a conflict, the common
    // refusal, needs nothing undone.
    std::vector<Stored> stored(changes.size());
    for (std::size_t i = 0; i < changes.size(); ++i) {
        ChangeOutcome conflict;
        if (!applier.check(changes[i], stored[i], conflict)) {
            conflict.failedChange = i;
            return conflict;
        }
    }
    // A savepoint makes SQLite copy every page the call touches before its first change
    // (8 KiB each, twenty-odd B-trees a resource): most of the writer's time when every write
    // has one. So a write goes without, and a refused row, which would leave the call half
    // applied, asks for the batch to be run again with a savepoint around each call.
    if (isolated) {
        sql.execute("SAVEPOINT hl7gw_resources", {});
    }
    ChangeOutcome outcome;
    std::size_t i = 0;
    try {
        for (; i < changes.size(); ++i) {
            ChangeOutcome one;
            applier.write(changes[i], stored[i], one);
            if (i == 0) {
                outcome = one;
            }
        }
        std::string origin;
        for (const ResourceChange& change : changes) {
            origin +=
                (origin.empty() ? "" : " ") + change.method + " " + change.type + "/" + change.id;
        }
        for (const OutboxMessage& message : outbox) {
            applier.queue(message, origin);
        }
    } catch (const StoreError& e) {
        if (!isConstraintViolation(e)) {
            throw;
        }
        if (!isolated) {
            throw IsolationNeeded(e.message());
        }
        sql.execute("ROLLBACK TO SAVEPOINT hl7gw_resources", {});
        sql.execute("RELEASE SAVEPOINT hl7gw_resources", {});
        ChangeOutcome refused;
        refused.status = ChangeOutcome::Status::Failed;
        refused.failedChange = i;
        refused.error = e.message();
        return refused;
    }
    if (isolated) {
        sql.execute("RELEASE SAVEPOINT hl7gw_resources", {});
    }
    return outcome;
}

} // namespace hl7gw::store::detail
