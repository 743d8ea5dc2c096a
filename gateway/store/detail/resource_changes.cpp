#include "gateway/store/detail/resource_changes.h"

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

class Applier {
  public:
    Applier(SqlConnection& sql, Backend backend, const std::vector<std::string>& indexTables,
            Micros now)
        : sql_(sql), backend_(backend), indexTables_(indexTables), now_(now)
    {
    }

    /// False (with the stored version in `outcome`) when the change's precondition failed.
    bool apply(const ResourceChange& change, ChangeOutcome& outcome)
    {
        const bool pg = backend_ == Backend::Postgresql;
        // FOR UPDATE: another node's writer waits here until this transaction ends, then
        // sees the version this one wrote and reports a conflict instead of overwriting it.
        const SqlRows found = sql_.query(
            std::string("SELECT rid, version FROM fhir_current WHERE type = $1 AND id = $2") +
                (pg ? " FOR UPDATE" : ""),
            {change.type, change.id});
        const std::int64_t stored = found.empty() ? 0 : toInt(found[0][1]);
        std::int64_t rid = found.empty() ? 0 : toInt(found[0][0]);
        if (stored != change.expectedVersion) {
            outcome.status = ChangeOutcome::Status::VersionConflict;
            outcome.version = stored;
            outcome.error = change.type + "/" + change.id + " is at version " +
                            std::to_string(stored) + ", not " +
                            std::to_string(change.expectedVersion);
            return false;
        }
        const bool deleted = change.action == ResourceChange::Action::Delete;
        const std::int64_t version = stored + 1;
        if (rid == 0) {
            const SqlRows inserted = sql_.query(
                "INSERT INTO fhir_current (type, id, version, last_updated, deleted, "
                "seq) VALUES ($1, $2, $3, $4, $5, 0) RETURNING rid",
                {change.type, change.id, version, change.at, std::int64_t{deleted ? 1 : 0}});
            rid = toInt(inserted.at(0).at(0));
        }
        const SqlRows seqRow = sql_.query(
            "INSERT INTO fhir_versions (rid, type, id, version, last_updated, deleted, method, "
            "body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
            {rid, change.type, change.id, version, change.at, std::int64_t{deleted ? 1 : 0},
             change.method, change.body});
        const std::int64_t seq = toInt(seqRow.at(0).at(0));
        sql_.execute("UPDATE fhir_current SET version = $1, last_updated = $2, deleted = $3, "
                     "seq = $4 WHERE rid = $5",
                     {version, change.at, std::int64_t{deleted ? 1 : 0}, seq, rid});
        if (stored != 0) {
            for (const std::string& table : indexTables_) {
                sql_.execute("DELETE FROM " + table + " WHERE rid = $1", {rid});
            }
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
                std::vector<SqlValue> values;
                for (std::size_t r = start; r < end; ++r) {
                    values.emplace_back(rid);
                    values.insert(values.end(), rows.rows[r].begin(), rows.rows[r].end());
                }
                sql_.execute(
                    insertInto(rows.table, rows.columns, rows.rows[start].size() + 1, chunk),
                    values);
                start = end;
            }
        }
        outcome.rid = rid;
        outcome.version = version;
        return true;
    }

    // An inbound row stands for the change (state Processed, type "FHIR"), so the entries
    // hang off a parent as every queue entry does, and `hl7gw messages` shows where they
    // came from.
    void queue(const OutboxMessage& message, const std::string& origin)
    {
        const SqlRows parent = sql_.query(
            adaptSql(backend_,
                     "INSERT INTO messages (direction, state, received_at, updated_at, channel, "
                     "type, raw) VALUES (0, 1, $1, $1, $2, 'FHIR', $3) RETURNING id"),
            {now_, message.channel, SqlBlob{origin}});
        sql_.execute(adaptSql(backend_, sql::InsertEntry),
                     {now_, SqlBlob{message.controlId}, message.type, message.destination,
                      SqlBlob{message.orderKey}, SqlBlob{message.payload},
                      toInt(parent.at(0).at(0))});
    }

  private:
    // INSERT of `rows` rows of `width` values each (rid first), placeholders in order.
    const std::string& insertInto(const std::string& table, const std::string& columns,
                                  std::size_t width, std::size_t rows)
    {
        std::string& text = inserts_[table + "(" + columns + ")" + std::to_string(rows)];
        if (text.empty()) {
            text = "INSERT INTO " + table + " (rid" + (columns.empty() ? "" : ", ") + columns +
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

    SqlConnection& sql_;
    const Backend backend_;
    const std::vector<std::string>& indexTables_;
    const Micros now_;
    std::map<std::string, std::string> inserts_;
};

} // namespace

ChangeOutcome applyResourceChanges(SqlConnection& sql, Backend backend,
                                   const std::vector<ResourceChange>& changes,
                                   const std::vector<OutboxMessage>& outbox,
                                   const std::vector<std::string>& indexTables, Micros now)
{
    ChangeOutcome outcome;
    sql.execute("SAVEPOINT hl7gw_resources", {});
    Applier applier(sql, backend, indexTables, now);
    std::size_t i = 0;
    try {
        for (; i < changes.size(); ++i) {
            ChangeOutcome one;
            if (!applier.apply(changes[i], one)) {
                one.failedChange = i;
                sql.execute("ROLLBACK TO SAVEPOINT hl7gw_resources", {});
                sql.execute("RELEASE SAVEPOINT hl7gw_resources", {});
                return one;
            }
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
        sql.execute("ROLLBACK TO SAVEPOINT hl7gw_resources", {});
        sql.execute("RELEASE SAVEPOINT hl7gw_resources", {});
        ChangeOutcome refused;
        refused.status = ChangeOutcome::Status::Failed;
        refused.failedChange = i;
        refused.error = e.message();
        return refused;
    }
    sql.execute("RELEASE SAVEPOINT hl7gw_resources", {});
    return outcome;
}

} // namespace hl7gw::store::detail
