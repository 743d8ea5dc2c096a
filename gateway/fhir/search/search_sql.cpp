#include "gateway/fhir/search/search_sql.h"

#include "gateway/fhir/search/detail/cursor.h"
#include "gateway/fhir/search/detail/search_values.h"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>

namespace hl7gw::fhir::search {

namespace {

/// A string greater than every normalized value that starts with a given prefix: the prefix
/// followed by U+10FFFF, the last code point.
constexpr std::string_view MaxCodePoint = "\xF4\x8F\xBF\xBF";

constexpr char MarkStart = '\x01';
constexpr char MarkEnd = '\x02';

/// Builds SQL with placeholders that are renumbered by first appearance at the end, so
/// fragments can be made in any order.
class Sql {
  public:
    explicit Sql(Dialect dialect) : dialect_(dialect) {}

    std::string bind(SqlValue value)
    {
        values_.push_back(std::move(value));
        return std::string(1, MarkStart) + std::to_string(values_.size() - 1) + MarkEnd;
    }
    std::string alias(std::string_view prefix)
    {
        return std::string(prefix) + std::to_string(next_++);
    }
    Dialect dialect() const { return dialect_; }

    SqlStatement finish(const std::string& text) const
    {
        SqlStatement statement;
        std::vector<int> numbers(values_.size(), 0);
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] != MarkStart) {
                statement.text += text[i];
                continue;
            }
            const std::size_t end = text.find(MarkEnd, i);
            std::size_t index = 0;
            std::from_chars(text.data() + i + 1, text.data() + end, index);
            if (numbers[index] == 0) {
                statement.params.push_back(values_[index]);
                numbers[index] = static_cast<int>(statement.params.size());
            }
            statement.text += '$' + std::to_string(numbers[index]);
            i = end;
        }
        return statement;
    }

  private:
    Dialect dialect_;
    std::vector<SqlValue> values_;
    int next_ = 0;
};

const char* tableOf(ParamType type)
{
    switch (type) {
    case ParamType::Token:
        return "fhir_idx_token";
    case ParamType::String:
        return "fhir_idx_string";
    case ParamType::Date:
        return "fhir_idx_date";
    case ParamType::Reference:
        return "fhir_idx_reference";
    case ParamType::Quantity:
        return "fhir_idx_quantity";
    case ParamType::Number:
        return "fhir_idx_number";
    case ParamType::Uri:
        return "fhir_idx_uri";
    }
    return "";
}

const char* const AllTables[] = {"fhir_idx_token",     "fhir_idx_string",   "fhir_idx_date",
                                 "fhir_idx_reference", "fhir_idx_quantity", "fhir_idx_number",
                                 "fhir_idx_uri"};

std::string prefixMatch(Sql& sql, const std::string& column, const std::string& prefix)
{
    return "(" + column + " >= " + sql.bind(prefix) + " AND " + column + " < " +
           sql.bind(prefix + std::string(MaxCodePoint)) + ")";
}

/// R4 search.html "date": the target range [lo, hi] against the search range [ql, qh].
std::string dateCondition(Sql& sql, const std::string& lo, const std::string& hi,
                          const SearchValue& value)
{
    const std::string ql = sql.bind(value.low);
    const std::string qh = sql.bind(value.high);
    const std::string contained = "(" + lo + " >= " + ql + " AND " + hi + " <= " + qh + ")";
    switch (value.prefix) {
    case Prefix::Eq:
        return contained;
    case Prefix::Ne:
        return "NOT " + contained;
    case Prefix::Gt:
        return hi + " > " + qh;
    case Prefix::Lt:
        return lo + " < " + ql;
    case Prefix::Ge:
        return "(" + hi + " > " + qh + " OR " + contained + ")";
    case Prefix::Le:
        return "(" + lo + " < " + ql + " OR " + contained + ")";
    case Prefix::Sa:
        return lo + " > " + qh;
    case Prefix::Eb:
        return hi + " < " + ql;
    case Prefix::Ap: // the range was widened when parsed: any overlap
        return "(" + lo + " <= " + qh + " AND " + hi + " >= " + ql + ")";
    }
    return contained;
}

std::string numberCondition(Sql& sql, const std::string& column, const SearchValue& value)
{
    const std::string inRange = "(" + column + " >= " + sql.bind(value.numberLow) + " AND " +
                                column + " < " + sql.bind(value.numberHigh) + ")";
    switch (value.prefix) {
    case Prefix::Eq:
        return inRange;
    case Prefix::Ne:
        return "NOT " + inRange;
    case Prefix::Gt:
    case Prefix::Sa:
        return column + " > " + sql.bind(value.number);
    case Prefix::Lt:
    case Prefix::Eb:
        return column + " < " + sql.bind(value.number);
    case Prefix::Ge:
        return column + " >= " + sql.bind(value.number);
    case Prefix::Le:
        return column + " <= " + sql.bind(value.number);
    case Prefix::Ap: {
        const double margin = std::fabs(value.number) * 0.1;
        return "(" + column + " >= " + sql.bind(value.number - margin) + " AND " + column +
               " <= " + sql.bind(value.number + margin) + ")";
    }
    }
    return inRange;
}

std::string tokenCondition(Sql& sql, const std::string& x, const SearchValue& value)
{
    std::string condition;
    if (value.system) {
        condition = x + ".system = " + sql.bind(*value.system);
    }
    if (!value.code.empty()) {
        condition += (condition.empty() ? "" : " AND ") + x + ".code = " + sql.bind(value.code);
    }
    return "(" + condition + ")";
}

std::string valueCondition(Sql& sql, const Criterion& criterion, const std::string& x,
                           const SearchValue& value)
{
    const ParamType type = criterion.parameter->type;
    switch (criterion.modifier) {
    case Modifier::Text:
        return prefixMatch(sql, x + ".display", value.text);
    case Modifier::OfType:
        return "(" + x + ".system = " + sql.bind(*value.system) + " AND " + x +
               ".code = " + sql.bind(value.code) + " AND " + x +
               ".display = " + sql.bind(value.ofTypeValue) + ")";
    case Modifier::Identifier:
        return tokenCondition(sql, x, value);
    case Modifier::Exact:
        return x + ".exact = " + sql.bind(value.text);
    case Modifier::Contains:
        return std::string(sql.dialect() == Dialect::Sqlite ? "instr(" : "strpos(") + x +
               ".normalized, " + sql.bind(value.text) + ") > 0";
    case Modifier::Below:
        return prefixMatch(sql, x + ".uri", value.raw);
    case Modifier::Above: {
        const std::string v = sql.bind(value.raw);
        return "substr(" + v + ", 1, length(" + x + ".uri)) = " + x + ".uri";
    }
    default:
        break;
    }
    switch (type) {
    case ParamType::Token:
        return tokenCondition(sql, x, value);
    case ParamType::String:
        return prefixMatch(sql, x + ".normalized", value.text);
    case ParamType::Date:
        return dateCondition(sql, x + ".low", x + ".high", value);
    case ParamType::Reference:
        if (!value.url.empty()) {
            // The second condition lets both databases use the partial index (a bound value
            // does not prove it by itself).
            return "(" + x + ".url = " + sql.bind(value.url) + " AND " + x + ".url <> '')";
        }
        if (!value.targetType.empty()) {
            return "(" + x + ".target_type = " + sql.bind(value.targetType) + " AND " + x +
                   ".target_id = " + sql.bind(value.targetId) + ")";
        }
        return x + ".target_id = " + sql.bind(value.targetId);
    case ParamType::Quantity: {
        std::string condition = numberCondition(sql, x + ".value", value);
        if (value.system) {
            condition += " AND " + x + ".system = " + sql.bind(*value.system);
        }
        if (!value.code.empty()) {
            const std::string code = sql.bind(value.code);
            condition += " AND (" + x + ".code = " + code + " OR " + x + ".unit = " + code + ")";
        }
        return "(" + condition + ")";
    }
    case ParamType::Number:
        return numberCondition(sql, x + ".value", value);
    case ParamType::Uri:
        return x + ".uri = " + sql.bind(value.raw);
    }
    return "1 = 0";
}

std::string joinOr(const std::vector<std::string>& parts)
{
    if (parts.size() == 1) {
        return parts.front();
    }
    std::string out = "(";
    for (std::size_t i = 0; i < parts.size(); ++i) {
        out += (i == 0 ? "" : " OR ") + parts[i];
    }
    return out + ")";
}

std::string criterionCondition(Sql& sql, const Criterion& criterion, const std::string& row);

/// Ends an EXISTS subquery. PostgreSQL turns EXISTS into a semi-join once it has statistics,
/// which for a page means hashing every row of the criterion (25 ms instead of 1 ms for the
/// Slot search); OFFSET 0 keeps it a per-row probe, which is what the page walk wants and
/// what SQLite does anyway.
std::string existsEnd(const Sql& sql)
{
    return sql.dialect() == Dialect::Postgres ? " OFFSET 0)" : ")";
}

/// True for a criterion that usually matches few resources of many, so that the query should
/// start from its index rows instead of checking it row by row: business identifiers (the
/// key of every conditional create and update from v2) and the patient a resource is about.
/// Without statistics of our own this is a rule of thumb; the rest are checked per row, in
/// rid order, which stops as soon as a page is full when matches are dense.
bool drivesQuery(const Criterion& criterion)
{
    if (criterion.kind != Criterion::Kind::Parameter || criterion.parameter == nullptr ||
        criterion.modifier != Modifier::None) {
        return false;
    }
    const SearchParameter& parameter = *criterion.parameter;
    if (parameter.type == ParamType::Token) {
        return parameter.name == "identifier";
    }
    if (parameter.type == ParamType::Reference) {
        return (parameter.name == "patient" || parameter.name == "subject") &&
               std::all_of(criterion.values.begin(), criterion.values.end(),
                           [](const SearchValue& v) { return !v.targetId.empty(); });
    }
    return false;
}

std::string parameterCondition(Sql& sql, const Criterion& criterion, const std::string& row,
                               bool driver = false)
{
    const SearchParameter& parameter = *criterion.parameter;
    const std::string x = sql.alias("x");
    std::string table = tableOf(parameter.type);
    std::string paramName = parameter.name;
    if (criterion.modifier == Modifier::Identifier) {
        table = "fhir_idx_token";
        paramName += ":identifier";
    } else if (criterion.modifier == Modifier::OfType) {
        paramName += ":of-type";
    }
    const std::string rows = "SELECT 1 FROM " + table + " " + x + " WHERE " + x + ".rid = " + row +
                             ".rid AND " + x + ".param = " + sql.bind(paramName);
    if (criterion.modifier == Modifier::Missing) {
        return std::string(criterion.values.front().missing ? "NOT EXISTS (" : "EXISTS (") + rows +
               existsEnd(sql);
    }
    std::vector<std::string> alternatives;
    for (const SearchValue& value : criterion.values) {
        alternatives.push_back(valueCondition(sql, criterion, x, value));
    }
    if (driver) {
        // The same rows, as the set the query starts from (drivesQuery()).
        return row + ".rid IN (SELECT " + x + ".rid FROM " + table + " " + x + " WHERE " + x +
               ".param = " + sql.bind(paramName) + " AND " + joinOr(alternatives) + ")";
    }
    // :not matches resources with no value too (R4 search.html, "token").
    return std::string(criterion.modifier == Modifier::Not ? "NOT EXISTS (" : "EXISTS (") + rows +
           " AND " + joinOr(alternatives) + existsEnd(sql);
}

std::string criterionCondition(Sql& sql, const Criterion& criterion, const std::string& row)
{
    switch (criterion.kind) {
    case Criterion::Kind::Id: {
        std::string list;
        for (const SearchValue& value : criterion.values) {
            list += (list.empty() ? "" : ", ") + sql.bind(value.code);
        }
        return row + ".id " + (criterion.modifier == Modifier::Not ? "NOT IN (" : "IN (") + list +
               ")";
    }
    case Criterion::Kind::LastUpdated: {
        std::vector<std::string> alternatives;
        for (const SearchValue& value : criterion.values) {
            alternatives.push_back(
                dateCondition(sql, row + ".last_updated", row + ".last_updated", value));
        }
        return joinOr(alternatives);
    }
    case Criterion::Kind::Chain: {
        const std::string r = sql.alias("r");
        const std::string t = sql.alias("t");
        std::vector<std::string> alternatives;
        for (const Criterion& next : criterion.next) {
            alternatives.push_back("(" + t + ".type = " + sql.bind(next.resourceType) + " AND " +
                                   criterionCondition(sql, next, t) + ")");
        }
        return "EXISTS (SELECT 1 FROM fhir_idx_reference " + r + " JOIN fhir_current " + t +
               " ON " + t + ".type = " + r + ".target_type AND " + t + ".id = " + r +
               ".target_id WHERE " + r + ".rid = " + row + ".rid AND " + r +
               ".param = " + sql.bind(criterion.parameter->name) + " AND " + t +
               ".deleted = 0 AND " + joinOr(alternatives) + existsEnd(sql);
    }
    case Criterion::Kind::Has: {
        const Criterion& next = criterion.next.front();
        const std::string r = sql.alias("r");
        const std::string s = sql.alias("s");
        return "EXISTS (SELECT 1 FROM fhir_idx_reference " + r + " JOIN fhir_current " + s +
               " ON " + s + ".rid = " + r + ".rid WHERE " + r + ".target_type = " + row +
               ".type AND " + r + ".target_id = " + row + ".id AND " + r +
               ".param = " + sql.bind(criterion.parameter->name) + " AND " + s +
               ".type = " + sql.bind(next.resourceType) + " AND " + s + ".deleted = 0 AND " +
               criterionCondition(sql, next, s) + existsEnd(sql);
    }
    case Criterion::Kind::Parameter:
        break;
    }
    return parameterCondition(sql, criterion, "" + row);
}

/// `skip`: a criterion the caller has already applied (the date a page walks).
std::string whereClause(Sql& sql, const SearchQuery& query, const Criterion* skip = nullptr)
{
    std::string where = "c.type = " + sql.bind(query.resourceType) + " AND c.deleted = 0";
    const auto driver =
        skip != nullptr ? query.criteria.end()
                        : std::find_if(query.criteria.begin(), query.criteria.end(), drivesQuery);
    for (auto it = query.criteria.begin(); it != query.criteria.end(); ++it) {
        if (&*it == skip) {
            continue;
        }
        where += " AND " + (it == driver ? parameterCondition(sql, *it, "c", true)
                                         : criterionCondition(sql, *it, "c"));
    }
    return where;
}

SortValueType sortTypeOf(const SortKey& key)
{
    if (key.name == "_lastUpdated") {
        return SortValueType::Integer;
    }
    if (key.name == "_id") {
        return SortValueType::Text;
    }
    switch (key.parameter->type) {
    case ParamType::Date:
        return SortValueType::Integer;
    case ParamType::Number:
    case ParamType::Quantity:
        return SortValueType::Real;
    default:
        return SortValueType::Text;
    }
}

/// The sort column of one key. Resources without a value get a value past every real one
/// in the key's direction, so they come last and the keyset comparison needs no NULLs.
std::string sortExpression(Sql& sql, const SortKey& key)
{
    const std::string byteOrder = sql.dialect() == Dialect::Postgres ? " COLLATE \"C\"" : "";
    if (key.name == "_id") {
        return "c.id" + byteOrder;
    }
    if (key.name == "_lastUpdated") {
        return "c.last_updated";
    }
    const ParamType type = key.parameter->type;
    const char* aggregate = key.descending ? "MAX" : "MIN";
    std::string column;
    SqlValue missing;
    switch (type) {
    case ParamType::Date:
        column = key.descending ? "x.high" : "x.low";
        missing = key.descending ? detail::MinMicros : detail::MaxMicros;
        break;
    case ParamType::Number:
    case ParamType::Quantity:
        column = "x.value";
        missing = key.descending ? -DBL_MAX : DBL_MAX;
        break;
    case ParamType::Token:
        column = "NULLIF(x.code, '')";
        break;
    case ParamType::String:
        column = "x.normalized";
        break;
    case ParamType::Reference:
        column = "CASE WHEN x.url <> '' THEN x.url ELSE x.target_type || '/' || x.target_id END";
        break;
    case ParamType::Uri:
        column = "x.uri";
        break;
    }
    if (sortTypeOf(key) == SortValueType::Text) {
        missing = key.descending ? std::string() : std::string(MaxCodePoint);
    }
    const bool text = sortTypeOf(key) == SortValueType::Text;
    return "COALESCE((SELECT " + std::string(aggregate) + "(" + column + ") FROM " + tableOf(type) +
           " x WHERE x.rid = c.rid AND x.param = " + sql.bind(key.parameter->name) + "), " +
           sql.bind(missing) + ")" + (text ? byteOrder : "");
}

SqlValue coerce(const SqlValue& value, SortValueType type)
{
    switch (type) {
    case SortValueType::Integer:
        if (const auto* real = std::get_if<double>(&value)) {
            return static_cast<std::int64_t>(*real);
        }
        if (const auto* text = std::get_if<std::string>(&value)) {
            std::int64_t integer = 0;
            std::from_chars(text->data(), text->data() + text->size(), integer);
            return integer;
        }
        return value;
    case SortValueType::Real:
        if (const auto* integer = std::get_if<std::int64_t>(&value)) {
            return static_cast<double>(*integer);
        }
        if (const auto* text = std::get_if<std::string>(&value)) {
            return std::strtod(text->c_str(), nullptr);
        }
        return value;
    case SortValueType::Text:
        if (const auto* integer = std::get_if<std::int64_t>(&value)) {
            return std::to_string(*integer);
        }
        return value;
    }
    return value;
}

std::string ridList(Sql& sql, const std::vector<std::int64_t>& rids)
{
    std::string list;
    for (const std::int64_t rid : rids) {
        list += (list.empty() ? "" : ", ") + sql.bind(rid);
    }
    return list;
}

std::string includeFilter(Sql& sql, const std::vector<IncludeSpec>& specs)
{
    std::vector<std::string> alternatives;
    for (const IncludeSpec& spec : specs) {
        std::string condition = "s.type = " + sql.bind(spec.sourceType);
        if (!spec.wildcard) {
            condition += " AND r.param = " + sql.bind(spec.parameterName);
        }
        if (!spec.targetType.empty()) {
            condition += " AND t.type = " + sql.bind(spec.targetType);
        }
        alternatives.push_back("(" + condition + ")");
    }
    return joinOr(alternatives);
}

std::string placeholdersRow(Sql& sql, std::int64_t rid, std::vector<SqlValue> values)
{
    std::string row = "(" + sql.bind(rid);
    for (SqlValue& value : values) {
        row += ", " + sql.bind(std::move(value));
    }
    return row + ")";
}

void addInserts(std::vector<SqlStatement>& out, Dialect dialect, std::int64_t rid,
                const char* table, const char* columns,
                const std::vector<std::vector<SqlValue>>& rows)
{
    // Chunks keep every statement well below SQLite's and libpq's parameter limits.
    constexpr std::size_t RowsPerStatement = 100;
    for (std::size_t start = 0; start < rows.size(); start += RowsPerStatement) {
        Sql sql(dialect);
        std::string text = std::string("INSERT INTO ") + table + " (rid, " + columns + ") VALUES ";
        const std::size_t end = std::min(rows.size(), start + RowsPerStatement);
        for (std::size_t i = start; i < end; ++i) {
            text += (i == start ? "" : ", ") + placeholdersRow(sql, rid, rows[i]);
        }
        out.push_back(sql.finish(text));
    }
}

} // namespace

std::vector<std::string> indexSchema(Dialect dialect)
{
    // PostgreSQL: the columns searched by prefix or range are COLLATE "C" (byte order, like
    // SQLite's BINARY); the ones only compared for equality keep the default collation, so
    // joins with fhir_current(type, id) can use its index.
    const bool pg = dialect == Dialect::Postgres;
    const std::string id = pg ? "BIGINT NOT NULL" : "INTEGER NOT NULL";
    const std::string text = "TEXT NOT NULL";
    const std::string byteText = pg ? "TEXT COLLATE \"C\" NOT NULL" : "TEXT NOT NULL";
    const std::string integer = pg ? "BIGINT NOT NULL" : "INTEGER NOT NULL";
    const std::string real = pg ? "DOUBLE PRECISION NOT NULL" : "REAL NOT NULL";
    auto table = [&](const std::string& name, const std::string& columns) {
        return "CREATE TABLE IF NOT EXISTS " + name + " (rid " + id + ", param " + text + ", " +
               columns + ")";
    };
    auto index = [](const std::string& name, const std::string& table, const std::string& columns) {
        return "CREATE INDEX IF NOT EXISTS " + name + " ON " + table + " (" + columns + ")";
    };
    return {
        table("fhir_idx_token", "system " + text + ", code " + text + ", display " + byteText),
        index("fhir_idx_token_code", "fhir_idx_token", "param, code, system"),
        index("fhir_idx_token_rid", "fhir_idx_token", "rid, param"),
        table("fhir_idx_string", "normalized " + byteText + ", exact " + text),
        index("fhir_idx_string_normalized", "fhir_idx_string", "param, normalized"),
        index("fhir_idx_string_rid", "fhir_idx_string", "rid, param"),
        table("fhir_idx_date", "low " + integer + ", high " + integer),
        index("fhir_idx_date_low", "fhir_idx_date", "param, low, high"),
        // The server's date order (datePageQuery) walks the ends of a parameter's ranges.
        index("fhir_idx_date_high", "fhir_idx_date", "param, high, rid"),
        index("fhir_idx_date_rid", "fhir_idx_date", "rid, param"),
        table("fhir_idx_reference",
              "target_type " + text + ", target_id " + text + ", url " + text),
        index("fhir_idx_reference_target", "fhir_idx_reference", "target_type, target_id, param"),
        // Only canonical and absolute references have a url; the relative ones (nearly all)
        // left out keep each write from dirtying the index's page of '' for every reference.
        // The first form of the index held them all.
        "DROP INDEX IF EXISTS fhir_idx_reference_url",
        index("fhir_idx_reference_url_set", "fhir_idx_reference", "url, param") +
            " WHERE url <> ''",
        index("fhir_idx_reference_rid", "fhir_idx_reference", "rid, param"),
        table("fhir_idx_quantity",
              "value " + real + ", system " + text + ", code " + text + ", unit " + text),
        index("fhir_idx_quantity_value", "fhir_idx_quantity", "param, value"),
        index("fhir_idx_quantity_rid", "fhir_idx_quantity", "rid, param"),
        table("fhir_idx_number", "value " + real),
        index("fhir_idx_number_value", "fhir_idx_number", "param, value"),
        index("fhir_idx_number_rid", "fhir_idx_number", "rid, param"),
        table("fhir_idx_uri", "uri " + byteText),
        index("fhir_idx_uri_uri", "fhir_idx_uri", "param, uri"),
        index("fhir_idx_uri_rid", "fhir_idx_uri", "rid, param"),
    };
}

std::vector<SqlStatement> indexDeleteStatements(std::int64_t rid)
{
    std::vector<SqlStatement> statements;
    for (const char* table : AllTables) {
        statements.push_back(
            SqlStatement{std::string("DELETE FROM ") + table + " WHERE rid = $1", {rid}});
    }
    return statements;
}

std::vector<IndexTableRows> indexTableRows(const IndexRows& rows)
{
    std::vector<IndexTableRows> tables;
    auto add = [&](const char* table, const char* columns, const auto& source, auto toValues) {
        IndexTableRows out{table, columns, {}};
        out.rows.reserve(source.size());
        for (const auto& row : source) {
            out.rows.push_back(toValues(row));
        }
        tables.push_back(std::move(out));
    };
    add("fhir_idx_token", "param, system, code, display", rows.tokens, [](const TokenRow& row) {
        // A text-only row has code '' (no code search asks for '').
        std::vector<SqlValue> values{row.param, row.system};
        values.emplace_back(row.code ? *row.code : std::string());
        values.emplace_back(row.text);
        return values;
    });
    add("fhir_idx_string", "param, normalized, exact", rows.strings, [](const StringRow& row) {
        return std::vector<SqlValue>{row.param, row.normalized, row.exact};
    });
    add("fhir_idx_date", "param, low, high", rows.dates, [](const DateRow& row) {
        return std::vector<SqlValue>{row.param, row.low, row.high};
    });
    add("fhir_idx_reference", "param, target_type, target_id, url", rows.references,
        [](const ReferenceRow& row) {
            return std::vector<SqlValue>{row.param, row.targetType, row.targetId, row.url};
        });
    add("fhir_idx_quantity", "param, value, system, code, unit", rows.quantities,
        [](const QuantityRow& row) {
            return std::vector<SqlValue>{row.param, row.value, row.system, row.code, row.unit};
        });
    add("fhir_idx_number", "param, value", rows.numbers, [](const NumberRow& row) {
        return std::vector<SqlValue>{row.param, row.value};
    });
    add("fhir_idx_uri", "param, uri", rows.uris, [](const UriRow& row) {
        return std::vector<SqlValue>{row.param, row.uri};
    });
    return tables;
}

std::vector<SqlStatement> indexWriteStatements(std::int64_t rid, const IndexRows& rows,
                                               Dialect dialect)
{
    std::vector<SqlStatement> out = indexDeleteStatements(rid);
    for (const IndexTableRows& table : indexTableRows(rows)) {
        addInserts(out, dialect, rid, table.table, table.columns, table.rows);
    }
    return out;
}

std::vector<SortValueType> sortValueTypes(const SearchQuery& query)
{
    std::vector<SortValueType> types;
    for (const SortKey& key : query.sort) {
        types.push_back(sortTypeOf(key));
    }
    return types;
}

/// The page of a search in the server's date order (SortKey::byMatchedEnd): walks the date
/// index from the start of the driving criterion's range, in the order of the matching
/// row's end, checking the other criteria per row, and stops when the page is full. Every
/// match of the driver ends at or after the range's start (driverOf()), so `high >= start`
/// loses none. A resource with several matching rows counts once, by its earliest-ending one.
SqlStatement datePageQuery(const SearchQuery& query, const Criterion& driver, Dialect dialect)
{
    Sql sql(dialect);
    const SearchValue& value = driver.values.front();
    const std::string param = sql.bind(driver.parameter->name);
    std::string text = "SELECT x.rid, c.type, c.id, x.high FROM fhir_idx_date x JOIN "
                       "fhir_current c ON c.rid = x.rid WHERE x.param = " +
                       param + " AND x.high >= " + sql.bind(value.low) + " AND " +
                       dateCondition(sql, "x.low", "x.high", value) +
                       " AND NOT EXISTS (SELECT 1 FROM fhir_idx_date y WHERE y.rid = x.rid AND "
                       "y.param = " +
                       // Unary +: y is found by (rid, param); its dates must not drive.
                       param + " AND " + dateCondition(sql, "+y.low", "+y.high", value) +
                       " AND (+y.high < x.high OR (+y.high = x.high AND +y.low < x.low))" +
                       existsEnd(sql) + " AND " + whereClause(sql, query, &driver);
    if (query.cursor) {
        const std::string high =
            sql.bind(coerce(query.cursor->values.front(), SortValueType::Integer));
        text += " AND (x.high > " + high + " OR (x.high = " + high + " AND x.rid > " +
                sql.bind(query.cursor->rid) + "))";
    }
    // x's columns, not c's: (param, high, rid) is the order of fhir_idx_date_high.
    text += " ORDER BY x.high ASC, x.rid ASC LIMIT " +
            sql.bind(static_cast<std::int64_t>(query.count) + 1);
    return sql.finish(text);
}

SqlStatement pageQuery(const SearchQuery& query, Dialect dialect)
{
    if (query.sort.size() == 1 && query.sort.front().byMatchedEnd) {
        if (const Criterion* driver = driverOf(query)) {
            return datePageQuery(query, *driver, dialect);
        }
    }
    Sql sql(dialect);
    std::string inner = "SELECT c.rid AS rid, c.type AS type, c.id AS id";
    std::string outer = "SELECT q.rid, q.type, q.id";
    std::string order;
    for (std::size_t i = 0; i < query.sort.size(); ++i) {
        const std::string column = "s" + std::to_string(i);
        inner += ", " + sortExpression(sql, query.sort[i]) + " AS " + column;
        outer += ", q." + column;
        order += "q." + column + (query.sort[i].descending ? " DESC, " : " ASC, ");
    }
    std::string text =
        outer + " FROM (" + inner + " FROM fhir_current c WHERE " + whereClause(sql, query) + ") q";
    if (query.cursor) {
        // Keyset: rows strictly after the cursor row in (s0, s1, ..., rid) order.
        std::string after = "q.rid > " + sql.bind(query.cursor->rid);
        const std::vector<SortValueType> types = sortValueTypes(query);
        for (std::size_t i = query.sort.size(); i-- > 0;) {
            const std::string column = "q.s" + std::to_string(i);
            const std::string value = sql.bind(coerce(query.cursor->values[i], types[i]));
            after = "(" + column + (query.sort[i].descending ? " < " : " > ") + value + " OR (" +
                    column + " = " + value + " AND " + after + "))";
        }
        text += " WHERE " + after;
    }
    text += " ORDER BY " + order + "q.rid ASC LIMIT " +
            sql.bind(static_cast<std::int64_t>(query.count) + 1);
    return sql.finish(text);
}

std::string makeCursor(const SearchQuery& query, const std::vector<SqlValue>& sortValues,
                       std::int64_t rid)
{
    Cursor cursor;
    cursor.rid = rid;
    const std::vector<SortValueType> types = sortValueTypes(query);
    for (std::size_t i = 0; i < types.size() && i < sortValues.size(); ++i) {
        cursor.values.push_back(coerce(sortValues[i], types[i]));
    }
    return detail::encodeCursor(sortSignature(query.sort), cursor);
}

SqlStatement countQuery(const SearchQuery& query, Dialect dialect)
{
    Sql sql(dialect);
    return sql.finish("SELECT COUNT(*) FROM fhir_current c WHERE " + whereClause(sql, query));
}

SqlStatement matchQuery(const SearchQuery& query, Dialect dialect, std::size_t limit)
{
    Sql sql(dialect);
    return sql.finish("SELECT c.rid, c.type, c.id FROM fhir_current c WHERE " +
                      whereClause(sql, query) + " ORDER BY c.rid LIMIT " +
                      sql.bind(static_cast<std::int64_t>(limit)));
}

SqlStatement includeQuery(const std::vector<std::int64_t>& rids,
                          const std::vector<IncludeSpec>& specs, Dialect dialect)
{
    if (rids.empty() || specs.empty()) {
        return {};
    }
    Sql sql(dialect);
    return sql.finish(
        "SELECT DISTINCT t.rid, t.type, t.id FROM fhir_idx_reference r JOIN fhir_current s ON "
        "s.rid = r.rid JOIN fhir_current t ON t.type = r.target_type AND t.id = r.target_id "
        "WHERE r.rid IN (" +
        ridList(sql, rids) + ") AND t.deleted = 0 AND " + includeFilter(sql, specs) +
        " ORDER BY t.rid");
}

SqlStatement revIncludeQuery(const std::vector<std::int64_t>& rids,
                             const std::vector<IncludeSpec>& specs, Dialect dialect)
{
    if (rids.empty() || specs.empty()) {
        return {};
    }
    Sql sql(dialect);
    return sql.finish(
        "SELECT DISTINCT s.rid, s.type, s.id FROM fhir_current t JOIN fhir_idx_reference r ON "
        "r.target_type = t.type AND r.target_id = t.id JOIN fhir_current s ON s.rid = r.rid "
        "WHERE t.rid IN (" +
        ridList(sql, rids) + ") AND s.deleted = 0 AND " + includeFilter(sql, specs) +
        " ORDER BY s.rid");
}

} // namespace hl7gw::fhir::search
