#pragma once

#include "gateway/fhir/search/index_extractor.h"
#include "gateway/fhir/search/search_query.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hl7gw::fhir::search {

enum class Dialect : std::uint8_t { Sqlite, Postgres };

/// SQL text with placeholders $1..$n, numbered in the order they first appear (so SQLite,
/// which numbers named parameters that way, binds params[i] to "$<i+1>" by position), and
/// one value per placeholder. Bind int64 as int8/sqlite3_bind_int64, double as
/// float8/sqlite3_bind_double and text as text (PostgreSQL: give the parameter types, OIDs
/// 20, 701, 25, so nothing depends on type inference).
struct SqlStatement {
    std::string text;
    std::vector<SqlValue> params;
};

/// The index tables and their indexes (CREATE ... IF NOT EXISTS, so running them again is
/// harmless). They need `fhir_current(rid, type, id, version, last_updated, deleted)` and
/// hold rows for current versions only:
///   fhir_idx_token(rid, param, system, code, display)   code '' for text-only rows
///   fhir_idx_string(rid, param, normalized, exact)
///   fhir_idx_date(rid, param, low, high)               microseconds UTC, inclusive
///   fhir_idx_reference(rid, param, target_type, target_id, url)
///   fhir_idx_quantity(rid, param, value, system, code, unit)
///   fhir_idx_number(rid, param, value)
///   fhir_idx_uri(rid, param, uri)
/// Text columns are NOT NULL ('' = none). On PostgreSQL the ones searched by prefix
/// (display, normalized, uri) are COLLATE "C" (byte order, as SQLite's BINARY), and the sort
/// columns of pageQuery() are compared in "C" too, so both backends order alike.
std::vector<std::string> indexSchema(Dialect dialect);

/// The statements that replace the index rows of `rid`: one DELETE per table, then
/// multi-row INSERTs. Run them in the transaction that writes the resource.
std::vector<SqlStatement> indexWriteStatements(std::int64_t rid, const IndexRows& rows,
                                               Dialect dialect);
/// The index rows of a resource per table: the columns after rid (in the DDL's names) and
/// the values of each row in that order. What indexWriteStatements() inserts, for a store
/// that inserts by itself once it knows the rid.
struct IndexTableRows {
    const char* table;
    const char* columns; // "param, system, code, display"
    std::vector<std::vector<SqlValue>> rows;
};
std::vector<IndexTableRows> indexTableRows(const IndexRows& rows);
/// The DELETEs alone (a deleted resource keeps no index rows).
std::vector<SqlStatement> indexDeleteStatements(std::int64_t rid);

/// The kind of value in each sort column of pageQuery(), in `_sort` order.
enum class SortValueType : std::uint8_t { Integer, Real, Text };
std::vector<SortValueType> sortValueTypes(const SearchQuery& query);

/// One page of matches. Columns: rid, type, id, then one column per `_sort` key (s0, s1 ...
/// of sortValueTypes()). Rows are in `_sort` order, ties and the default (no `_sort`) by
/// rid ascending, i.e. insertion order. A resource without a value for a sort key comes
/// last in either direction. LIMIT is query.count + 1: when count + 1 rows come back there
/// is a next page; give its first `count` rows to the client and make the next link's
/// `_cursor` with makeCursor() from the last of them. A query.cursor restarts after that
/// row (keyset paging: rows inserted meanwhile never shift a page or repeat a row).
SqlStatement pageQuery(const SearchQuery& query, Dialect dialect);

/// The `_cursor` value for the page after the row with `rid` and sort column values
/// `sortValues` (columns s0... of pageQuery(), in order; values of another kind are
/// converted to sortValueTypes()). Opaque to clients: base64url of the values, the rid
/// and the `_sort` signature (detail/cursor.h has the layout).
std::string makeCursor(const SearchQuery& query, const std::vector<SqlValue>& sortValues,
                       std::int64_t rid);

/// SELECT COUNT(*) of all matches, for `_total=accurate` and `_summary=count`.
SqlStatement countQuery(const SearchQuery& query, Dialect dialect);

/// Matches for conditional create/update/delete and conditional references: columns rid,
/// type, id by rid, at most `limit` rows (2 is enough to tell 0, 1 and many apart). The
/// query's paging, sort and include parts are not used.
SqlStatement matchQuery(const SearchQuery& query, Dialect dialect, std::size_t limit);

/// Resources `_include`d by the resources with `rids`: columns rid, type, id (distinct,
/// not deleted), each a target of one of `specs` (a wildcard spec: any reference of its
/// source type). For `:iterate`, run it again on the rids it found with the iterate specs
/// only, until no new rid comes back (bound the rounds). Empty text when there is nothing
/// to ask (no rids or no specs).
SqlStatement includeQuery(const std::vector<std::int64_t>& rids,
                          const std::vector<IncludeSpec>& specs, Dialect dialect);
/// Resources that refer to the resources with `rids` through one of `specs`
/// (`_revinclude`); columns and iteration as includeQuery().
SqlStatement revIncludeQuery(const std::vector<std::int64_t>& rids,
                             const std::vector<IncludeSpec>& specs, Dialect dialect);

} // namespace hl7gw::fhir::search
