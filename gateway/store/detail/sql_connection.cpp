#include "gateway/store/detail/sql_connection.h"

#include "gateway/store/message_store.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <charconv>
#include <list>
#include <unordered_map>

namespace hl7gw::store::detail {

namespace {

// Enough for every distinct search shape a busy server sees at once; older ones are
// finalized when it is full.
constexpr std::size_t SqliteCacheSize = 128;
constexpr std::size_t PostgresqlCacheSize = 256;

class SqliteConnection final : public SqlConnection {
  public:
    explicit SqliteConnection(sqlite3* db) : db_(db) {}
    ~SqliteConnection() override
    {
        for (auto& [text, entry] : cache_) {
            sqlite3_finalize(entry.statement);
        }
    }

    SqlRows query(const std::string& sql, const std::vector<SqlValue>& params) override
    {
        SqlRows rows;
        run(sql, params, &rows);
        return rows;
    }

    std::int64_t execute(const std::string& sql, const std::vector<SqlValue>& params) override
    {
        run(sql, params, nullptr);
        return sqlite3_changes64(db_);
    }

  private:
    struct Entry {
        sqlite3_stmt* statement = nullptr;
        std::list<std::string>::iterator age;
    };

    sqlite3_stmt* prepare(const std::string& sql)
    {
        auto found = cache_.find(sql);
        if (found != cache_.end()) {
            ages_.splice(ages_.begin(), ages_, found->second.age);
            return found->second.statement;
        }
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1),
                               SQLITE_PREPARE_PERSISTENT, &statement, nullptr) != SQLITE_OK) {
            throw StoreError(std::string("SQLite: cannot prepare a statement: ") +
                             sqlite3_errmsg(db_));
        }
        if (cache_.size() >= SqliteCacheSize) {
            auto oldest = cache_.find(ages_.back());
            sqlite3_finalize(oldest->second.statement);
            cache_.erase(oldest);
            ages_.pop_back();
        }
        ages_.push_front(sql);
        cache_.emplace(sql, Entry{statement, ages_.begin()});
        return statement;
    }

    void bind(sqlite3_stmt* statement, const std::vector<SqlValue>& params)
    {
        for (std::size_t i = 0; i < params.size(); ++i) {
            const int index = static_cast<int>(i + 1);
            int rc = SQLITE_OK;
            if (std::holds_alternative<std::monostate>(params[i])) {
                rc = sqlite3_bind_null(statement, index);
            } else if (const auto* integer = std::get_if<std::int64_t>(&params[i])) {
                rc = sqlite3_bind_int64(statement, index, *integer);
            } else if (const auto* real = std::get_if<double>(&params[i])) {
                rc = sqlite3_bind_double(statement, index, *real);
            } else if (const auto* blob = std::get_if<SqlBlob>(&params[i])) {
                rc = sqlite3_bind_blob(statement, index, blob->bytes.data(),
                                       static_cast<int>(blob->bytes.size()), SQLITE_STATIC);
            } else {
                const auto& text = std::get<std::string>(params[i]);
                rc = sqlite3_bind_text(statement, index, text.c_str(),
                                       static_cast<int>(text.size()), SQLITE_STATIC);
            }
            if (rc != SQLITE_OK) {
                throw StoreError(std::string("SQLite: cannot bind: ") + sqlite3_errmsg(db_));
            }
        }
    }

    void run(const std::string& sql, const std::vector<SqlValue>& params, SqlRows* rows)
    {
        sqlite3_stmt* statement = prepare(sql);
        struct Reset {
            sqlite3_stmt* statement;
            ~Reset()
            {
                sqlite3_reset(statement);
                sqlite3_clear_bindings(statement);
            }
        } reset{statement};
        bind(statement, params);
        int rc = 0;
        const int columns = sqlite3_column_count(statement);
        while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
            if (rows == nullptr) {
                continue;
            }
            SqlRow& row = rows->emplace_back();
            row.reserve(static_cast<std::size_t>(columns));
            for (int c = 0; c < columns; ++c) {
                if (sqlite3_column_type(statement, c) == SQLITE_NULL) {
                    row.emplace_back();
                    continue;
                }
                const auto* data = sqlite3_column_text(statement, c);
                const int size = sqlite3_column_bytes(statement, c);
                row.emplace_back(std::string(reinterpret_cast<const char*>(data),
                                             static_cast<std::size_t>(size)));
            }
        }
        if (rc != SQLITE_DONE) {
            throw StoreError(std::string("SQLite: ") + sqlite3_errstr(rc) + ": " +
                             sqlite3_errmsg(db_));
        }
    }

    sqlite3* db_;
    std::unordered_map<std::string, Entry> cache_;
    std::list<std::string> ages_; // most recently used first
};

class PostgresqlConnection final : public SqlConnection {
  public:
    explicit PostgresqlConnection(PGconn* conn) : conn_(conn) {}

    SqlRows query(const std::string& sql, const std::vector<SqlValue>& params) override
    {
        PGresult* result = run(sql, params);
        SqlRows rows;
        const int count = PQntuples(result);
        const int columns = PQnfields(result);
        rows.reserve(static_cast<std::size_t>(count));
        for (int r = 0; r < count; ++r) {
            SqlRow& row = rows.emplace_back();
            row.reserve(static_cast<std::size_t>(columns));
            for (int c = 0; c < columns; ++c) {
                if (PQgetisnull(result, r, c) != 0) {
                    row.emplace_back();
                } else {
                    row.emplace_back(
                        std::string(PQgetvalue(result, r, c),
                                    static_cast<std::size_t>(PQgetlength(result, r, c))));
                }
            }
        }
        PQclear(result);
        return rows;
    }

    std::int64_t execute(const std::string& sql, const std::vector<SqlValue>& params) override
    {
        PGresult* result = run(sql, params);
        const char* changed = PQcmdTuples(result);
        std::int64_t count = 0;
        if (changed != nullptr) {
            std::from_chars(changed, changed + std::char_traits<char>::length(changed), count);
        }
        PQclear(result);
        return count;
    }

  private:
    PGresult* run(const std::string& sql, const std::vector<SqlValue>& params)
    {
        // Types given, not inferred: "$1 <= s0" must compare as the value's type whatever
        // the statement around it says (int8, float8, text; NULL left to the server).
        std::vector<std::string> texts(params.size());
        std::vector<const char*> values(params.size());
        std::vector<Oid> types(params.size(), 0);
        std::vector<int> lengths(params.size(), 0);
        std::vector<int> formats(params.size(), 0);
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (std::holds_alternative<std::monostate>(params[i])) {
                values[i] = nullptr;
                continue;
            }
            if (const auto* integer = std::get_if<std::int64_t>(&params[i])) {
                texts[i] = std::to_string(*integer);
                types[i] = 20;
            } else if (const auto* real = std::get_if<double>(&params[i])) {
                types[i] = 701;
                char buffer[32];
                auto end = std::to_chars(buffer, buffer + sizeof buffer, *real).ptr;
                texts[i].assign(buffer, end);
            } else if (const auto* blob = std::get_if<SqlBlob>(&params[i])) {
                texts[i] = blob->bytes;
                types[i] = 17; // bytea, sent binary: the bytes as they are
                formats[i] = 1;
            } else {
                texts[i] = std::get<std::string>(params[i]);
                types[i] = 25;
            }
            values[i] = texts[i].c_str();
            lengths[i] = static_cast<int>(texts[i].size());
        }
        PGresult* result = nullptr;
        if (params.empty()) {
            // SAVEPOINT, ROLLBACK TO and friends: they must work in an aborted transaction,
            // where the server refuses to prepare anything.
            result = PQexecParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
        } else {
            const std::string* name = prepared(sql, types);
            result =
                name != nullptr
                    ? PQexecPrepared(conn_, name->c_str(), static_cast<int>(params.size()),
                                     values.data(), lengths.data(), formats.data(), 0)
                    : PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()),
                                   types.data(), values.data(), lengths.data(), formats.data(), 0);
        }
        const ExecStatusType status =
            result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            return result;
        }
        std::string text = "PostgreSQL: ";
        text += result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
            text.pop_back();
        }
        const char* state =
            result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
        if (state != nullptr) {
            // Where SqlMessageStore::retryable() looks for it.
            text += std::string(" (State: ") + state + ")";
        }
        PQclear(result);
        throw StoreError(text);
    }

    /// The name the statement is prepared under on this server session (prepared now when
    /// new), or null when it could not be prepared (the caller sends it unprepared, which
    /// reports the error). Parsing and planning is most of a short read's cost on the server.
    const std::string* prepared(const std::string& sql, const std::vector<Oid>& types)
    {
        // Prepared statements live in the server session: a reconnect (PQreset) drops them.
        const int backend = PQbackendPID(conn_);
        if (backend != backend_) {
            statements_.clear();
            backend_ = backend;
        }
        std::string key = sql;
        key += '\0';
        for (Oid type : types) {
            key += std::to_string(type) + ',';
        }
        auto found = statements_.find(key);
        if (found != statements_.end()) {
            return &found->second;
        }
        if (statements_.size() >= PostgresqlCacheSize) {
            PQclear(PQexec(conn_, "DEALLOCATE ALL"));
            statements_.clear();
        }
        std::string name = "hl7gw_q" + std::to_string(++counter_);
        PGresult* result = PQprepare(conn_, name.c_str(), sql.c_str(),
                                     static_cast<int>(types.size()), types.data());
        const bool ok = result != nullptr && PQresultStatus(result) == PGRES_COMMAND_OK;
        PQclear(result);
        if (!ok) {
            return nullptr;
        }
        return &statements_.emplace(std::move(key), std::move(name)).first->second;
    }

    PGconn* conn_;
    int backend_ = 0;
    std::uint64_t counter_ = 0;
    std::unordered_map<std::string, std::string> statements_; // SQL + types -> name
};

} // namespace

std::unique_ptr<SqlConnection> makeSqliteConnection(sqlite3* db)
{
    return std::make_unique<SqliteConnection>(db);
}

std::unique_ptr<SqlConnection> makePostgresqlConnection(pg_conn* conn)
{
    return std::make_unique<PostgresqlConnection>(conn);
}

} // namespace hl7gw::store::detail
