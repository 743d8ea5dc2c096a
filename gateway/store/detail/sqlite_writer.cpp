// The SQLite writer uses sqlite3 prepared statements directly, on the handle of a POCO
// session. POCO 1.11's SQLite connector prepares a statement again on every execute()
// (SQLiteStatementImpl::compileImpl runs sqlite3_prepare_v2 after each reset), which made an
// insert cost 47 us instead of 9 us and kept a batch of 8 from reaching the throughput target.
// Connections, pragmas, the schema and all reads stay on POCO.

#include "gateway/store/detail/ack_codec.h"
#include "gateway/store/detail/columns.h"
#include "gateway/store/detail/schema.h"
#include "gateway/store/detail/writer.h"

#include <Poco/Data/SQLite/Utility.h>

#include <sqlite3.h>

#include <algorithm>
#include <string_view>

namespace hl7gw::store::detail {

namespace {

/// One prepared statement, reset after every use. Values are bound SQLITE_STATIC: the
/// caller's strings stay alive until the statement is reset, which run() does before it
/// returns.
class Prepared {
  public:
    Prepared(sqlite3* db, const char* sql) : db_(db)
    {
        const std::string text = adaptSql(Backend::Sqlite, sql);
        if (sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size() + 1),
                               SQLITE_PREPARE_PERSISTENT, &statement_, nullptr) != SQLITE_OK) {
            throw StoreError(std::string("cannot prepare a statement: ") + sqlite3_errmsg(db_));
        }
    }
    ~Prepared() { sqlite3_finalize(statement_); }
    Prepared(const Prepared&) = delete;
    Prepared& operator=(const Prepared&) = delete;

    Prepared& bind(int index, std::int64_t value)
    {
        check(sqlite3_bind_int64(statement_, index, value));
        return *this;
    }
    Prepared& bindText(int index, std::string_view text)
    {
        check(sqlite3_bind_text(statement_, index, text.empty() ? "" : text.data(),
                                static_cast<int>(text.size()), SQLITE_STATIC));
        return *this;
    }
    // A null pointer would bind NULL, not an empty BLOB.
    Prepared& bindBlob(int index, std::string_view bytes)
    {
        check(sqlite3_bind_blob(statement_, index, bytes.empty() ? "" : bytes.data(),
                                static_cast<int>(bytes.size()), SQLITE_STATIC));
        return *this;
    }

    /// Steps through every row, handing each to `row`; returns the rows seen. Resets the
    /// statement (and its bindings) whatever happens.
    template <typename Fn> int run(Fn&& row)
    {
        int rows = 0;
        int rc = 0;
        while ((rc = sqlite3_step(statement_)) == SQLITE_ROW) {
            ++rows;
            try {
                row(*this);
            } catch (...) {
                reset();
                throw;
            }
        }
        reset();
        if (rc != SQLITE_DONE) {
            throw StoreError(std::string("SQLite: ") + sqlite3_errstr(rc) + ": " +
                             sqlite3_errmsg(db_));
        }
        return rows;
    }
    /// Runs a statement without result rows; returns the rows it changed.
    int execute()
    {
        run([](Prepared&) {});
        return sqlite3_changes(db_);
    }

    std::int64_t int64(int column) { return sqlite3_column_int64(statement_, column); }
    std::string bytes(int column)
    {
        const void* data = sqlite3_column_blob(statement_, column);
        const int size = sqlite3_column_bytes(statement_, column);
        return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
    }
    std::string text(int column)
    {
        const unsigned char* data = sqlite3_column_text(statement_, column);
        const int size = sqlite3_column_bytes(statement_, column);
        return data == nullptr ? std::string()
                               : std::string(reinterpret_cast<const char*>(data), size);
    }

  private:
    void check(int rc)
    {
        if (rc != SQLITE_OK) {
            throw StoreError(std::string("SQLite: cannot bind: ") + sqlite3_errmsg(db_));
        }
    }
    void reset()
    {
        sqlite3_reset(statement_);
        sqlite3_clear_bindings(statement_);
    }

    sqlite3* db_;
    sqlite3_stmt* statement_ = nullptr;
};

class SqliteWriter final : public Writer {
  public:
    explicit SqliteWriter(Poco::Data::Session session)
        : session_(std::move(session)), db_(Poco::Data::SQLite::Utility::dbHandle(session_)),
          // IMMEDIATE takes the write lock at BEGIN: a batch that reads before it writes
          // (claim, prune) cannot fail to upgrade its lock while another process writes
          // (hl7gw messages replay on the same file).
          begin_(db_, "BEGIN IMMEDIATE"), commit_(db_, "COMMIT"), rollback_(db_, "ROLLBACK"),
          insertInbound_(db_, sql::InsertInbound), findOriginal_(db_, sql::FindOriginal),
          updateRouted_(db_, sql::UpdateRouted), insertEntry_(db_, sql::InsertEntry),
          claim_(db_, sql::Claim), markDelivered_(db_, sql::MarkDelivered),
          markFailed_(db_, sql::MarkFailed), replay_(db_, sql::Replay),
          prunable_(db_, sql::Prunable), sql_(makeSqliteConnection(db_))
    {
    }

    SqlConnection& sql() override { return *sql_; }

    void begin() override { begin_.execute(); }
    void commit() override { commit_.execute(); }
    bool tryRollback() noexcept override
    {
        try {
            rollback_.execute();
            return true;
        } catch (...) {
            // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR):
            // then there is no transaction left, and the connection is still good.
            return sqlite3_get_autocommit(db_) != 0;
        }
    }

    ReceiveOutcome receive(const InboundRow& row) override
    {
        ReceiveOutcome outcome;
        insertInbound_.bind(1, row.state)
            .bind(2, row.receivedAt)
            .bindText(3, row.channel)
            .bindText(4, row.peer)
            .bindBlob(5, row.sender)
            .bindBlob(6, row.controlId)
            .bindText(7, row.type)
            .bindText(8, row.error)
            .bindBlob(9, row.ack)
            .bindBlob(10, row.raw)
            .bind(11, row.ackFormat);
        if (insertInbound_.run([&](Prepared& r) { outcome.id = r.int64(0); }) == 1) {
            return outcome;
        }
        findOriginal_.bindBlob(1, row.sender).bindBlob(2, row.controlId);
        if (findOriginal_.run([&](Prepared& r) {
                outcome.id = r.int64(0);
                outcome.ack = decodeAck(static_cast<AckFormat>(r.int64(2)), r.bytes(1), r.bytes(3));
            }) != 1) {
            throw StoreError("an inbound insert did nothing, yet there is no earlier message "
                             "with its sender and control id");
        }
        outcome.duplicate = true;
        return outcome;
    }

    void route(const RoutingRow& row, Micros now) override
    {
        updateRouted_.bind(1, row.state).bindText(2, row.error).bind(3, now).bind(4, row.messageId);
        if (updateRouted_.execute() != 1) {
            return; // unknown, or no longer Received (routed elsewhere, or replayed meanwhile)
        }
        queue(row, now);
    }

    void queue(const RoutingRow& row, Micros now) override
    {
        for (const EntryRow& entry : row.entries) {
            insertEntry_.bind(1, now)
                .bindBlob(2, entry.controlId)
                .bindText(3, entry.type)
                .bindText(4, entry.destination)
                .bindBlob(5, entry.orderKey)
                .bindBlob(6, entry.payload)
                .bind(7, entry.state)
                .bindBlob(8, entry.response)
                .bind(9, row.messageId);
            insertEntry_.execute();
        }
    }

    std::vector<ClaimedEntry> claim(const std::string& destination, const std::string& owner,
                                    std::size_t limit, Micros now, Micros leaseUntil) override
    {
        std::vector<ClaimedEntry> entries;
        claim_.bindText(1, owner)
            .bind(2, leaseUntil)
            .bindText(3, destination)
            .bind(4, now)
            .bind(5, static_cast<std::int64_t>(limit));
        claim_.run([&](Prepared& r) {
            ClaimedEntry entry;
            entry.id = r.int64(0);
            entry.parentId = r.int64(1);
            entry.destination = r.text(2);
            entry.orderKey = r.bytes(3);
            entry.attempts = static_cast<int>(r.int64(4));
            entry.payload = r.bytes(5);
            entries.push_back(std::move(entry));
        });
        std::sort(entries.begin(), entries.end(),
                  [](const ClaimedEntry& a, const ClaimedEntry& b) { return a.id < b.id; });
        return entries;
    }

    void markDelivered(MessageId entry, const std::string& response, Micros now) override
    {
        markDelivered_.bindBlob(1, response).bind(2, now).bind(3, entry);
        markDelivered_.execute();
    }

    void markFailed(MessageId entry, const std::string& error, Micros now, Micros nextAttemptAt,
                    bool dead) override
    {
        markFailed_.bind(1, stateCode(dead ? MessageState::Dead : MessageState::Queued))
            .bindText(2, error)
            .bind(3, now)
            .bind(4, nextAttemptAt)
            .bind(5, entry);
        markFailed_.execute();
    }

    bool replay(MessageId id, Micros now) override
    {
        replay_.bind(1, now).bind(2, id);
        return replay_.execute() == 1;
    }

    PruneBatch pruneBatch(MessageId after, MessageId upTo, Micros before) override
    {
        std::vector<std::int64_t> ids;
        prunable_.bind(1, after).bind(2, upTo).bind(3, before);
        prunable_.run([&](Prepared& r) { ids.push_back(r.int64(0)); });
        PruneBatch batch;
        if (ids.empty()) {
            return batch;
        }
        for (const std::string& statement : {sql::deleteEntriesOf(ids), sql::deleteMessages(ids)}) {
            Prepared deletion(db_, statement.c_str());
            batch.rows += deletion.execute();
        }
        batch.messages = ids.size();
        batch.lastMessage = ids.back();
        return batch;
    }

  private:
    Poco::Data::Session session_; // owns the connection; first in, last out
    sqlite3* db_;
    Prepared begin_;
    Prepared commit_;
    Prepared rollback_;
    Prepared insertInbound_;
    Prepared findOriginal_;
    Prepared updateRouted_;
    Prepared insertEntry_;
    Prepared claim_;
    Prepared markDelivered_;
    Prepared markFailed_;
    Prepared replay_;
    Prepared prunable_;
    std::unique_ptr<SqlConnection> sql_;
};

} // namespace

WriterPtr makeSqliteWriter(Poco::Data::Session session)
{
    return std::make_unique<SqliteWriter>(std::move(session));
}

} // namespace hl7gw::store::detail
