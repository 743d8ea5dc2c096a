#pragma once

#include "gateway/store/detail/store_url.h"

#include <Poco/Data/Session.h>

#include <string>

namespace hl7gw::store::detail {

/// The schema version this code reads and writes (table schema_version).
constexpr int SchemaVersion = 3;

/// Turns our SQL, written once for both backends, into the backend's: {BLOB} is BLOB or
/// BYTEA, {EMPTY_BLOB} the empty byte string, {SKIP_LOCKED} " FOR UPDATE SKIP LOCKED" on
/// PostgreSQL (rows other nodes hold are passed over) and nothing on SQLite (one writer).
/// Placeholders are $1, $2, ... on both; SQLite numbers them by first appearance, so each
/// statement must introduce them in increasing order.
std::string adaptSql(Backend backend, std::string sql);

/// Creates the tables and indexes when the database has none, in one transaction, and checks
/// the version of an existing schema. Safe when several nodes start at once (PostgreSQL: an
/// advisory lock; SQLite: BEGIN IMMEDIATE). Throws StoreError for a schema newer than
/// SchemaVersion, or when the database fails.
void ensureSchema(Poco::Data::Session& session, Backend backend);

} // namespace hl7gw::store::detail
