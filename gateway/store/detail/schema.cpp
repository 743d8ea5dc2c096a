#include "gateway/store/detail/schema.h"

#include "gateway/store/message_store.h"

#include <Poco/Data/Statement.h>

namespace hl7gw::store::detail {

namespace {

using namespace Poco::Data::Keywords;

void replaceAll(std::string& text, const std::string& from, const std::string& to)
{
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
}

// One table holds inbound messages (direction 0) and their outbound queue entries
// (direction 1, parent_id = the inbound message), so list/count/find see both with one query
// and an entry needs no copy of the inbound columns. Small columns come first and the bodies
// last: a row read without bodies then never touches SQLite overflow pages. Columns that one
// direction does not use hold 0 or '' (SQLite stores a 0 in no bytes at all).
//
// raw of an entry is NULL when its payload is byte-for-byte the inbound message (a
// pass-through destination): the bytes are stored once, and readers take the parent's.
// ack of an inbound row is usually deflated against the message's MSH (ack_format 1,
// detail/ack_codec.h): it repeats most of it, and is a fifth of a small message's size.
//
// Indexes, each for one access path:
//   messages_dedupe   duplicates: unique (sender, control id) of inbound rows that have one
//   messages_state    pendingRouting (state Received), list/count by state, queue depths
//   messages_type     list/count by type and type prefix ("ADT" = ADT and ADT^*)
//   messages_received list/count since a time; prune
//   messages_queue    claim: the Queued entries of a destination by order key, oldest first
//                     (partial: only Queued rows, so it stays as small as the backlog)
//   messages_parent   deliveriesOf, prune (partial: entries only)
const char* const SchemaV1[] = {
    R"(CREATE TABLE messages (
        id {ID},
        parent_id {INT} NOT NULL DEFAULT 0,
        direction {SMALL} NOT NULL,
        state {SMALL} NOT NULL,
        received_at {INT} NOT NULL,
        updated_at {INT} NOT NULL,
        attempts {SMALL} NOT NULL DEFAULT 0,
        next_attempt_at {INT} NOT NULL DEFAULT 0,
        lease_until {INT} NOT NULL DEFAULT 0,
        channel TEXT NOT NULL DEFAULT '',
        peer TEXT NOT NULL DEFAULT '',
        sender {BLOB} NOT NULL DEFAULT {EMPTY_BLOB},
        control_id {BLOB} NOT NULL DEFAULT {EMPTY_BLOB},
        type {TEXT_C} NOT NULL DEFAULT '',
        destination TEXT NOT NULL DEFAULT '',
        order_key {BLOB} NOT NULL DEFAULT {EMPTY_BLOB},
        lease_owner TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        ack_format {SMALL} NOT NULL DEFAULT 0,
        ack {BLOB} NOT NULL DEFAULT {EMPTY_BLOB},
        raw {BLOB}))",
    "CREATE UNIQUE INDEX messages_dedupe ON messages (sender, control_id) "
    "WHERE direction = 0 AND length(control_id) > 0",
    "CREATE INDEX messages_state ON messages (state, id)",
    "CREATE INDEX messages_type ON messages (type, id)",
    "CREATE INDEX messages_received ON messages (received_at)",
    "CREATE INDEX messages_queue ON messages (destination, order_key, id) WHERE state = 5",
    "CREATE INDEX messages_parent ON messages (parent_id) WHERE direction = 1",
};

// FHIR resources (version 2). fhir_current holds one row per resource, its current version
// and the change (seq) that made it; fhir_versions every version, bodies included, so history
// and vread need nothing else. Search index tables (the FHIR layer's, created through
// ResourceStore::ensureIndexSchema) hang off fhir_current.rid and hold the current version's
// values only.
//   fhir_current_key     read, update: a resource by type and id
//   fhir_current_type    searches: a type's resources in rid order, so a page of dense
//                        matches stops after its rows instead of sorting every match
//   fhir_current_updated _lastUpdated
//   fhir_versions_key    vread; one row per (resource, version), which also stops two nodes
//                        from both writing version N+1
//   fhir_versions_type   history of a type, newest first
const char* const SchemaV2[] = {
    R"(CREATE TABLE fhir_current (
        rid {ID},
        type TEXT NOT NULL,
        id TEXT NOT NULL,
        version {INT} NOT NULL,
        last_updated {INT} NOT NULL,
        deleted {SMALL} NOT NULL,
        seq {INT} NOT NULL))",
    "CREATE UNIQUE INDEX fhir_current_key ON fhir_current (type, id)",
    "CREATE INDEX fhir_current_type ON fhir_current (type, deleted, rid)",
    "CREATE INDEX fhir_current_updated ON fhir_current (type, last_updated)",
    R"(CREATE TABLE fhir_versions (
        seq {ID},
        rid {INT} NOT NULL,
        type TEXT NOT NULL,
        id TEXT NOT NULL,
        version {INT} NOT NULL,
        last_updated {INT} NOT NULL,
        deleted {SMALL} NOT NULL,
        method TEXT NOT NULL,
        body TEXT NOT NULL))",
    "CREATE UNIQUE INDEX fhir_versions_key ON fhir_versions (rid, version)",
    "CREATE INDEX fhir_versions_type ON fhir_versions (type, seq)",
};

// Version 3: the queue in id order with what a claim tests, so that finding the first due
// heads reads the index only, however many order keys are waiting (one per patient).
const char* const SchemaV3[] = {
    "CREATE INDEX messages_due ON messages (destination, id, order_key, next_attempt_at, "
    "lease_until) WHERE state = 5",
};

// Any constant works; it only has to be the same on every node.
constexpr const char* SchemaLockKey = "7261836120541541";

void execute(Poco::Data::Session& session, const std::string& sql)
{
    Poco::Data::Statement statement(session);
    statement << sql;
    statement.execute();
}

} // namespace

std::string adaptSql(Backend backend, std::string sql)
{
    const bool pg = backend == Backend::Postgresql;
    // AUTOINCREMENT: ids are never reused, even after prune emptied the table, so an id in an
    // old log line or ACK never names another message.
    replaceAll(sql, "{ID}",
               pg ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                  : "INTEGER PRIMARY KEY AUTOINCREMENT");
    replaceAll(sql, "{INT}", pg ? "BIGINT" : "INTEGER");
    replaceAll(sql, "{SMALL}", pg ? "SMALLINT" : "INTEGER");
    replaceAll(sql, "{BLOB}", pg ? "BYTEA" : "BLOB");
    replaceAll(sql, "{EMPTY_BLOB}", pg ? "'\\x'::bytea" : "x''");
    // The type prefix filter is a range ('ADT^' <= type < 'ADT_'), which needs byte order,
    // not the database's locale.
    replaceAll(sql, "{TEXT_C}", pg ? "TEXT COLLATE \"C\"" : "TEXT");
    replaceAll(sql, "{SKIP_LOCKED}", pg ? " FOR UPDATE SKIP LOCKED" : "");
    return sql;
}

void ensureSchema(Poco::Data::Session& session, Backend backend)
{
    const bool pg = backend == Backend::Postgresql;
    execute(session, pg ? "BEGIN" : "BEGIN IMMEDIATE");
    try {
        if (pg) {
            Poco::Int64 one = 0;
            const std::string lock = std::string("SELECT 1 FROM (SELECT pg_advisory_xact_lock(") +
                                     SchemaLockKey + ")) AS l";
            session << lock, into(one), now;
        }
        execute(session, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        Poco::Int64 version = 0;
        session << "SELECT COALESCE(MAX(version), 0) FROM schema_version", into(version), now;
        if (version > SchemaVersion) {
            throw StoreError("the database schema is version " + std::to_string(version) +
                             ", newer than this gateway's (" + std::to_string(SchemaVersion) +
                             "); upgrade the gateway");
        }
        if (version < 1) {
            for (const char* ddl : SchemaV1) {
                execute(session, adaptSql(backend, ddl));
            }
            execute(session, "INSERT INTO schema_version (version) VALUES (1)");
        }
        if (version < 2) {
            for (const char* ddl : SchemaV2) {
                execute(session, adaptSql(backend, ddl));
            }
            execute(session, "INSERT INTO schema_version (version) VALUES (2)");
        }
        if (version < 3) {
            for (const char* ddl : SchemaV3) {
                execute(session, adaptSql(backend, ddl));
            }
            execute(session, "INSERT INTO schema_version (version) VALUES (3)");
        }
        execute(session, "COMMIT");
    } catch (...) {
        try {
            execute(session, "ROLLBACK");
        } catch (const Poco::Exception&) {
            // The connection is gone; the open fails with the first error.
        }
        throw;
    }
}

} // namespace hl7gw::store::detail
