// The PostgreSQL writer calls libpq itself, on the connection of a POCO session. POCO 1.11's
// PostgreSQL statements cannot be reused safely: StatementExecutor::clearResults() frees the
// previous PGresult but keeps the pointer, so once a re-executed statement fails (a deadlock,
// a lost connection) the next execute or the destructor frees it again and corrupts the heap
// (AddressSanitizer: double-free in PQclear). One-shot POCO statements, which the readers use,
// never hold a previous result and are safe. Connections, settings and the schema stay on POCO.
//
// POCO 1.11 also never frees a PGconn whose connection failed or broke (SessionHandle::
// disconnect() only calls PQfinish on a healthy connection), so a session is never dropped for
// a lost connection: revivePostgresql() reconnects it in place with PQreset, and connections
// are tried with probePostgresql() before POCO sees them.

#include "gateway/store/detail/ack_codec.h"
#include "gateway/store/detail/columns.h"
#include "gateway/store/detail/schema.h"
#include "gateway/store/detail/writer.h"

#include <Poco/Bugcheck.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Logger.h>

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace hl7gw::store::detail {

namespace {

struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

/// SQLSTATE in the text, where SqlMessageStore::retryable() looks for it.
[[noreturn]] void fail(PGconn* conn, const PGresult* result, const char* what)
{
    std::string text = std::string("PostgreSQL: ") + what + ": ";
    text += result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    if (state != nullptr) {
        text += std::string(" (State: ") + state + ")";
    }
    throw StoreError(text);
}

/// One statement prepared on the connection once (PQprepare) and executed with
/// PQexecPrepared: text parameters for numbers and text, binary for byte strings, binary
/// results (bytes as they are, integers in network order).
class Prepared {
  public:
    static constexpr int MaxParams = 12;

    Prepared(PGconn* conn, std::string name, const char* sql) : conn_(conn), name_(std::move(name))
    {
        const std::string text = adaptSql(Backend::Postgresql, sql);
        Result result(PQprepare(conn_, name_.c_str(), text.c_str(), 0, nullptr));
        if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
            fail(conn_, result.get(), "cannot prepare a statement");
        }
    }

    Prepared& bind(int index, std::int64_t value)
    {
        numbers_[index - 1] = std::to_string(value);
        set(index, numbers_[index - 1], 0);
        return *this;
    }
    Prepared& bindText(int index, std::string_view text)
    {
        set(index, text, 0);
        return *this;
    }
    Prepared& bindBlob(int index, std::string_view bytes)
    {
        set(index, bytes, 1);
        return *this;
    }

    /// Executes with the bound values and returns the result (rows or none); the bindings
    /// are cleared whatever happens.
    Result run()
    {
        Result result(PQexecPrepared(conn_, name_.c_str(), count_, values_.data(), lengths_.data(),
                                     formats_.data(), 1));
        count_ = 0;
        const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            fail(conn_, result.get(), "statement failed");
        }
        return result;
    }
    /// Executes a statement without result rows; returns the rows it changed.
    int execute()
    {
        const Result result = run();
        const char* changed = PQcmdTuples(result.get());
        return changed != nullptr && *changed != '\0' ? std::atoi(changed) : 0;
    }

  private:
    void set(int index, std::string_view value, int format)
    {
        const auto i = static_cast<std::size_t>(index - 1);
        // libpq reads a null pointer as SQL NULL, and text parameters up to their NUL.
        values_[i] = value.empty() ? "" : value.data();
        lengths_[i] = static_cast<int>(value.size());
        formats_[i] = format;
        count_ = std::max(count_, index);
    }

    PGconn* conn_;
    std::string name_;
    int count_ = 0;
    std::array<const char*, MaxParams> values_{};
    std::array<int, MaxParams> lengths_{};
    std::array<int, MaxParams> formats_{};
    std::array<std::string, MaxParams> numbers_;
};

std::int64_t int64At(const PGresult* result, int row, int column)
{
    if (PQgetisnull(result, row, column) != 0) {
        return 0;
    }
    const auto* data = reinterpret_cast<const unsigned char*>(PQgetvalue(result, row, column));
    const int length = PQgetlength(result, row, column);
    std::uint64_t value = 0;
    for (int i = 0; i < length; ++i) {
        value = (value << 8) | data[i];
    }
    // Sign-extend int2 and int4.
    if (length > 0 && length < 8 && (data[0] & 0x80) != 0) {
        value |= ~std::uint64_t{0} << (8 * length);
    }
    return static_cast<std::int64_t>(value);
}

std::string bytesAt(const PGresult* result, int row, int column)
{
    return std::string(PQgetvalue(result, row, column),
                       static_cast<std::size_t>(PQgetlength(result, row, column)));
}

PGconn* connectionOf(Poco::Data::Session& session)
{
    auto* impl = dynamic_cast<Poco::Data::PostgreSQL::SessionImpl*>(session.impl());
    poco_assert_msg(impl != nullptr, "not a PostgreSQL session");
    return impl->handle();
}

/// The writer's statements, prepared on one connection; prepared again after a reconnect.
struct Statements {
    explicit Statements(PGconn* conn)
        : begin(conn, "hl7gw_begin", "BEGIN"), commit(conn, "hl7gw_commit", "COMMIT"),
          rollback(conn, "hl7gw_rollback", "ROLLBACK"),
          insertInbound(conn, "hl7gw_insert_inbound", sql::InsertInbound),
          findOriginal(conn, "hl7gw_find_original", sql::FindOriginal),
          updateRouted(conn, "hl7gw_update_routed", sql::UpdateRouted),
          insertEntry(conn, "hl7gw_insert_entry", sql::InsertEntry),
          claim(conn, "hl7gw_claim", sql::Claim),
          markDelivered(conn, "hl7gw_mark_delivered", sql::MarkDelivered),
          markFailed(conn, "hl7gw_mark_failed", sql::MarkFailed),
          replay(conn, "hl7gw_replay", sql::Replay), prunable(conn, "hl7gw_prunable", sql::Prunable)
    {
    }

    Prepared begin;
    Prepared commit;
    Prepared rollback;
    Prepared insertInbound;
    Prepared findOriginal;
    Prepared updateRouted;
    Prepared insertEntry;
    Prepared claim;
    Prepared markDelivered;
    Prepared markFailed;
    Prepared replay;
    Prepared prunable;
};

class PostgresqlWriter final : public Writer {
  public:
    explicit PostgresqlWriter(Poco::Data::Session session)
        : session_(std::move(session)), conn_(connectionOf(session_)),
          statements_(std::make_unique<Statements>(conn_)), sql_(makePostgresqlConnection(conn_))
    {
    }

    SqlConnection& sql() override { return *sql_; }

    void begin() override
    {
        // After a lost connection: reconnect in place, then prepare again (prepared statements
        // die with the server session).
        if (PQstatus(conn_) != CONNECTION_OK) {
            statements_.reset();
            revivePostgresql(session_);
        }
        if (!statements_) {
            // A reconnect, or a preparation that failed half-way: start from no statements.
            const Result cleared(PQexec(conn_, "DEALLOCATE ALL"));
            statements_ = std::make_unique<Statements>(conn_);
        }
        statements_->begin.execute();
    }
    void commit() override { statements_->commit.execute(); }
    bool tryRollback() noexcept override
    {
        try {
            if (statements_ && PQstatus(conn_) == CONNECTION_OK) {
                statements_->rollback.execute();
            }
        } catch (...) {
            // begin() reconnects; the server rolled back when the connection went.
        }
        return true; // never replaced: see revivePostgresql()
    }

    ReceiveOutcome receive(const InboundRow& row) override
    {
        ReceiveOutcome outcome;
        statements_->insertInbound.bind(1, row.state)
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
        const Result inserted = statements_->insertInbound.run();
        if (PQntuples(inserted.get()) == 1) {
            outcome.id = int64At(inserted.get(), 0, 0);
            return outcome;
        }
        statements_->findOriginal.bindBlob(1, row.sender).bindBlob(2, row.controlId);
        const Result original = statements_->findOriginal.run();
        if (PQntuples(original.get()) != 1) {
            throw StoreError("an inbound insert did nothing, yet there is no earlier message "
                             "with its sender and control id");
        }
        outcome.id = int64At(original.get(), 0, 0);
        outcome.duplicate = true;
        outcome.ack = decodeAck(static_cast<AckFormat>(int64At(original.get(), 0, 2)),
                                bytesAt(original.get(), 0, 1), bytesAt(original.get(), 0, 3));
        return outcome;
    }

    void route(const RoutingRow& row, Micros now) override
    {
        statements_->updateRouted.bind(1, row.state)
            .bindText(2, row.error)
            .bind(3, now)
            .bind(4, row.messageId);
        if (statements_->updateRouted.execute() != 1) {
            return; // unknown, or no longer Received (routed elsewhere, or replayed meanwhile)
        }
        queue(row, now);
    }

    void queue(const RoutingRow& row, Micros now) override
    {
        for (const EntryRow& entry : row.entries) {
            statements_->insertEntry.bind(1, now)
                .bindBlob(2, entry.controlId)
                .bindText(3, entry.type)
                .bindText(4, entry.destination)
                .bindBlob(5, entry.orderKey)
                .bindBlob(6, entry.payload)
                .bind(7, entry.state)
                .bindBlob(8, entry.response)
                .bind(9, row.messageId);
            statements_->insertEntry.execute();
        }
    }

    std::vector<ClaimedEntry> claim(const std::string& destination, const std::string& owner,
                                    std::size_t limit, Micros now, Micros leaseUntil) override
    {
        statements_->claim.bindText(1, owner)
            .bind(2, leaseUntil)
            .bindText(3, destination)
            .bind(4, now)
            .bind(5, static_cast<std::int64_t>(limit));
        const Result result = statements_->claim.run();
        std::vector<ClaimedEntry> entries;
        for (int row = 0; row < PQntuples(result.get()); ++row) {
            ClaimedEntry entry;
            entry.id = int64At(result.get(), row, 0);
            entry.parentId = int64At(result.get(), row, 1);
            entry.destination = bytesAt(result.get(), row, 2);
            entry.orderKey = bytesAt(result.get(), row, 3);
            entry.attempts = static_cast<int>(int64At(result.get(), row, 4));
            entry.payload = bytesAt(result.get(), row, 5);
            entries.push_back(std::move(entry));
        }
        std::sort(entries.begin(), entries.end(),
                  [](const ClaimedEntry& a, const ClaimedEntry& b) { return a.id < b.id; });
        return entries;
    }

    void markDelivered(MessageId entry, const std::string& response, Micros now) override
    {
        statements_->markDelivered.bindBlob(1, response).bind(2, now).bind(3, entry);
        statements_->markDelivered.execute();
    }

    void markFailed(MessageId entry, const std::string& error, Micros now, Micros nextAttemptAt,
                    bool dead) override
    {
        statements_->markFailed.bind(1, stateCode(dead ? MessageState::Dead : MessageState::Queued))
            .bindText(2, error)
            .bind(3, now)
            .bind(4, nextAttemptAt)
            .bind(5, entry);
        statements_->markFailed.execute();
    }

    bool replay(MessageId id, Micros now) override
    {
        statements_->replay.bind(1, now).bind(2, id);
        return statements_->replay.execute() == 1;
    }

    PruneBatch pruneBatch(MessageId after, MessageId upTo, Micros before) override
    {
        statements_->prunable.bind(1, after).bind(2, upTo).bind(3, before);
        const Result result = statements_->prunable.run();
        std::vector<std::int64_t> ids;
        for (int row = 0; row < PQntuples(result.get()); ++row) {
            ids.push_back(int64At(result.get(), row, 0));
        }
        PruneBatch batch;
        if (ids.empty()) {
            return batch;
        }
        for (const std::string& statement : {sql::deleteEntriesOf(ids), sql::deleteMessages(ids)}) {
            const Result deleted(PQexec(conn_, statement.c_str()));
            if (!deleted || PQresultStatus(deleted.get()) != PGRES_COMMAND_OK) {
                fail(conn_, deleted.get(), "prune failed");
            }
            batch.rows += std::atoi(PQcmdTuples(deleted.get()));
        }
        batch.messages = ids.size();
        batch.lastMessage = ids.back();
        return batch;
    }

  private:
    Poco::Data::Session session_; // owns the connection; first in, last out
    PGconn* conn_;
    std::unique_ptr<Statements> statements_; // null while the connection is down
    std::unique_ptr<SqlConnection> sql_;     // PQreset keeps the PGconn, so this stays valid
};

} // namespace

void probePostgresql(const std::string& connectString)
{
    PGconn* conn = PQconnectdb(connectString.c_str());
    const bool ok = conn != nullptr && PQstatus(conn) == CONNECTION_OK;
    std::string error = ok                ? std::string()
                        : conn != nullptr ? PQerrorMessage(conn)
                                          : "out of memory";
    PQfinish(conn);
    if (!ok) {
        while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) {
            error.pop_back();
        }
        throw StoreError(error);
    }
}

void routePostgresqlNotices(Poco::Data::Session& session)
{
    // libpq prints notices (a WARNING for a ROLLBACK after a failed COMMIT, say) to stderr by
    // default; only app/ writes there. They name statements, never data.
    PQsetNoticeProcessor(
        connectionOf(session),
        [](void*, const char* message) {
            Poco::Logger& logger = Poco::Logger::get("hl7gw.store");
            if (logger.debug()) {
                std::string text = message;
                while (!text.empty() && text.back() == '\n') {
                    text.pop_back();
                }
                logger.debug("PostgreSQL: %s", text);
            }
        },
        nullptr);
}

void revivePostgresql(Poco::Data::Session& session)
{
    PGconn* conn = connectionOf(session);
    if (PQstatus(conn) == CONNECTION_OK) {
        return;
    }
    PQreset(conn);
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string error = PQerrorMessage(conn);
        while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) {
            error.pop_back();
        }
        throw StoreError("reconnecting: " + error);
    }
}

WriterPtr makePostgresqlWriter(Poco::Data::Session session)
{
    return std::make_unique<PostgresqlWriter>(std::move(session));
}

} // namespace hl7gw::store::detail
