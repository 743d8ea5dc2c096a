#include "gateway/fhir/server/detail/search_runner.h"

#include "gateway/fhir/search/search_sql.h"

#include <algorithm>
#include <set>

namespace hl7gw::fhir::server {

namespace {

// `_include=...:iterate` follows references this many rounds at most.
constexpr int IncludeRounds = 4;

store::SqlQuery toStore(const search::SqlStatement& statement)
{
    store::SqlQuery query;
    query.text = statement.text;
    query.params.reserve(statement.params.size());
    for (const auto& value : statement.params) {
        std::visit([&](const auto& v) { query.params.emplace_back(v); }, value);
    }
    return query;
}

std::int64_t integerAt(const store::SqlRow& row, std::size_t column)
{
    return row.at(column) ? std::stoll(*row[column]) : 0;
}

} // namespace

SearchRunner::SearchRunner(store::ResourceStore& store) : store_(store) {}

void SearchRunner::ensureSchema()
{
    const auto dialect =
        store_.isPostgresql() ? search::Dialect::Postgres : search::Dialect::Sqlite;
    store_.ensureIndexSchema(search::indexSchema(dialect),
                             {"fhir_idx_token", "fhir_idx_string", "fhir_idx_date",
                              "fhir_idx_reference", "fhir_idx_quantity", "fhir_idx_number",
                              "fhir_idx_uri"});
}

std::vector<store::IndexRows> SearchRunner::indexRows(const rapidjson::Value& resource,
                                                      const search::ExtractOptions& options) const
{
    const search::IndexRows rows =
        search::extractIndexRows(resource, search::SearchParameterRegistry::standard(), options);
    std::vector<store::IndexRows> tables;
    for (auto& table : search::indexTableRows(rows)) {
        if (table.rows.empty()) {
            continue;
        }
        store::IndexRows out{table.table, table.columns, {}};
        out.rows.reserve(table.rows.size());
        for (const auto& row : table.rows) {
            std::vector<store::SqlValue> values;
            values.reserve(row.size());
            for (const auto& value : row) {
                std::visit([&](const auto& v) { values.emplace_back(v); }, value);
            }
            out.rows.push_back(std::move(values));
        }
        tables.push_back(std::move(out));
    }
    return tables;
}

SearchPage SearchRunner::run(const search::SearchQuery& query)
{
    const auto dialect =
        store_.isPostgresql() ? search::Dialect::Postgres : search::Dialect::Sqlite;
    SearchPage page;
    if (query.summary == search::Summary::Count) {
        const auto rows = store_.query(toStore(search::countQuery(query, dialect)));
        page.total = rows.empty() ? 0 : integerAt(rows.front(), 0);
        return page;
    }
    auto rows = store_.query(toStore(search::pageQuery(query, dialect)));
    const bool more = rows.size() > query.count;
    if (more) {
        rows.resize(query.count);
    }
    std::vector<std::int64_t> rids;
    rids.reserve(rows.size());
    for (const auto& row : rows) {
        rids.push_back(integerAt(row, 0));
    }
    if (more && !rows.empty()) {
        const auto types = search::sortValueTypes(query);
        std::vector<search::SqlValue> sortValues;
        const auto& last = rows.back();
        for (std::size_t i = 0; i < types.size(); ++i) {
            const auto& cell = last.at(3 + i);
            // A row without a value for the key: the cursor takes it as the empty text.
            if (!cell) {
                sortValues.emplace_back(std::string());
            } else if (types[i] == search::SortValueType::Integer) {
                sortValues.emplace_back(std::int64_t{std::stoll(*cell)});
            } else if (types[i] == search::SortValueType::Real) {
                sortValues.emplace_back(std::stod(*cell));
            } else {
                sortValues.emplace_back(*cell);
            }
        }
        page.nextCursor = search::makeCursor(query, sortValues, rids.back());
    }
    page.matches = store_.byRid(rids);
    if (query.total == search::Total::Accurate) {
        const auto count = store_.query(toStore(search::countQuery(query, dialect)));
        page.total = count.empty() ? 0 : integerAt(count.front(), 0);
    } else if (!query.cursor && !more && query.total != search::Total::None) {
        page.total = static_cast<std::int64_t>(page.matches.size());
    }

    std::set<std::int64_t> seen(rids.begin(), rids.end());
    std::vector<std::int64_t> included;
    auto follow = [&](bool reverse, const std::vector<search::IncludeSpec>& specs) {
        if (specs.empty()) {
            return;
        }
        std::vector<search::IncludeSpec> iterate;
        std::copy_if(specs.begin(), specs.end(), std::back_inserter(iterate),
                     [](const search::IncludeSpec& s) { return s.iterate; });
        std::vector<std::int64_t> from = rids;
        const std::vector<search::IncludeSpec>* round = &specs;
        for (int i = 0; i < IncludeRounds && !from.empty() && !round->empty(); ++i) {
            const auto statement = reverse ? search::revIncludeQuery(from, *round, dialect)
                                           : search::includeQuery(from, *round, dialect);
            if (statement.text.empty()) {
                break;
            }
            std::vector<std::int64_t> found;
            for (const auto& row : store_.query(toStore(statement))) {
                const std::int64_t rid = integerAt(row, 0);
                if (seen.insert(rid).second) {
                    found.push_back(rid);
                    included.push_back(rid);
                }
            }
            from = std::move(found);
            round = &iterate;
        }
    };
    follow(false, query.includes);
    follow(true, query.revIncludes);
    page.included = store_.byRid(included);
    return page;
}

std::vector<store::StoredResource> SearchRunner::match(const search::SearchQuery& query,
                                                       std::size_t limit)
{
    const auto dialect =
        store_.isPostgresql() ? search::Dialect::Postgres : search::Dialect::Sqlite;
    std::vector<std::int64_t> rids;
    for (const auto& row : store_.query(toStore(search::matchQuery(query, dialect, limit)))) {
        rids.push_back(integerAt(row, 0));
    }
    return store_.byRid(rids);
}

bool SearchRunner::isReferenced(const std::string& type, const std::string& id)
{
    const auto rows =
        store_.query({"SELECT 1 FROM fhir_idx_reference r JOIN fhir_current c ON c.rid = r.rid "
                      "WHERE r.target_type = $1 AND r.target_id = $2 AND c.deleted = 0 LIMIT 1",
                      {type, id}});
    return !rows.empty();
}

} // namespace hl7gw::fhir::server
