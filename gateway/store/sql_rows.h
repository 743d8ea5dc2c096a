#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hl7gw::store {

/// Bytes for a BLOB (SQLite) or bytea (PostgreSQL) column, where text would not do.
struct SqlBlob {
    std::string bytes;
};

/// A parameter of a statement an upper layer builds (the FHIR search SQL); monostate is NULL.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string, SqlBlob>;

/// Statement text with placeholders $1..$n, introduced in increasing order (SQLite numbers
/// `$N` by first appearance), and their values.
struct SqlQuery {
    std::string text;
    std::vector<SqlValue> params;
};

/// Result rows as text (integers in decimal), NULL as nullopt: the callers of generic queries
/// read few columns of few rows, and text is what both backends give without a type map.
using SqlRow = std::vector<std::optional<std::string>>;
using SqlRows = std::vector<SqlRow>;

} // namespace hl7gw::store
