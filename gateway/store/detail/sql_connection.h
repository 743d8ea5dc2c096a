#pragma once

#include "gateway/store/sql_rows.h"

#include <memory>
#include <string>

struct sqlite3;
struct pg_conn;

namespace hl7gw::store::detail {

/// Statements whose text is built at run time (the FHIR layer's), on a connection the store
/// already holds: the writer's, inside its transaction, or a reader's. SQLite statements are
/// prepared once per text and kept (a small cache per connection); PostgreSQL ones go through
/// PQexecParams, which survives a reconnect (PQreset) without stale prepared names.
/// Errors are StoreError with the database's message. Not thread-safe: one per connection.
class SqlConnection {
  public:
    virtual ~SqlConnection() = default;
    /// Runs `sql` ($N placeholders, already in the connection's dialect) and returns its rows.
    virtual SqlRows query(const std::string& sql, const std::vector<SqlValue>& params) = 0;
    /// Runs a statement without rows; returns the rows it changed.
    virtual std::int64_t execute(const std::string& sql, const std::vector<SqlValue>& params) = 0;
};

std::unique_ptr<SqlConnection> makeSqliteConnection(sqlite3* db);
std::unique_ptr<SqlConnection> makePostgresqlConnection(pg_conn* conn);

} // namespace hl7gw::store::detail
