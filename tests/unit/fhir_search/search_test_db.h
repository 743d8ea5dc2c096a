#pragma once

// Real databases for the search tests: a SQLite file in a temp directory, and PostgreSQL
// when HL7GW_TEST_PG_URL is set (each database gets its own schema, dropped at the end).
// Holds the minimal fhir_current the store creates plus the search index tables, and loads
// resources by extracting their index rows.

#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/search/index_extractor.h"
#include "gateway/fhir/search/search_sql.h"

#include <boost/test/unit_test.hpp>

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace hl7gw::fhir::search::test {

using Row = std::vector<SqlValue>;

inline std::string readFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline rapidjson::Document parse(std::string_view text)
{
    rapidjson::Document document;
    core::Issue issue;
    if (!parseJson(text, document, issue)) {
        throw std::runtime_error("test JSON does not parse: " + issue.text);
    }
    return document;
}

class TestDb {
  public:
    virtual ~TestDb() = default;
    virtual Dialect dialect() const = 0;
    virtual std::string name() const = 0;
    virtual void exec(const std::string& sql) = 0;
    virtual std::vector<Row> query(const SqlStatement& statement) = 0;

    void createSchema()
    {
        const bool pg = dialect() == Dialect::Postgres;
        exec(std::string("CREATE TABLE fhir_current (rid ") + (pg ? "BIGINT" : "INTEGER") +
             " PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL, "
             "last_updated BIGINT NOT NULL, deleted INTEGER NOT NULL, UNIQUE (type, id))");
        for (const std::string& statement : indexSchema(dialect())) {
            exec(statement);
        }
        for (const std::string& statement : indexSchema(dialect())) {
            exec(statement); // IF NOT EXISTS: running the DDL twice is harmless
        }
    }

    /// Inserts (or replaces) the resource as the store would; returns its rid.
    std::int64_t put(const rapidjson::Value& resource, std::int64_t lastUpdated)
    {
        const std::string type = resource["resourceType"].GetString();
        const std::string id = resource["id"].GetString();
        const std::vector<Row> existing = query(
            SqlStatement{"SELECT rid FROM fhir_current WHERE type = $1 AND id = $2", {type, id}});
        std::int64_t rid = 0;
        exec("BEGIN");
        if (existing.empty()) {
            rid = ++lastRid_;
            query(SqlStatement{"INSERT INTO fhir_current (rid, type, id, version, last_updated, "
                               "deleted) VALUES ($1, $2, $3, 1, $4, 0)",
                               {rid, type, id, lastUpdated}});
        } else {
            rid = std::get<std::int64_t>(existing[0][0]);
            query(SqlStatement{"UPDATE fhir_current SET version = version + 1, last_updated = $1 "
                               "WHERE rid = $2",
                               {lastUpdated, rid}});
        }
        ExtractOptions options;
        options.baseUrl = "https://gw.example.org/fhir";
        for (const SqlStatement& statement : indexWriteStatements(
                 rid, extractIndexRows(resource, SearchParameterRegistry::standard(), options),
                 dialect())) {
            query(statement);
        }
        exec("COMMIT");
        return rid;
    }

    void remove(std::string_view type, std::string_view id)
    {
        const std::vector<Row> existing =
            query(SqlStatement{"SELECT rid FROM fhir_current WHERE type = $1 AND id = $2",
                               {std::string(type), std::string(id)}});
        const std::int64_t rid = std::get<std::int64_t>(existing.at(0)[0]);
        query(SqlStatement{"UPDATE fhir_current SET deleted = 1 WHERE rid = $1", {rid}});
        for (const SqlStatement& statement : indexDeleteStatements(rid)) {
            query(statement);
        }
    }

  private:
    std::int64_t lastRid_ = 0;
};

class SqliteDb : public TestDb {
  public:
    SqliteDb()
    {
        path_ = std::filesystem::temp_directory_path() /
                ("hl7gw-fhir-search-" + std::to_string(::getpid()) + "-" +
                 std::to_string(counter()++) + ".db");
        std::filesystem::remove(path_);
        if (sqlite3_open(path_.c_str(), &db_) != SQLITE_OK) {
            throw std::runtime_error("cannot open " + path_.string());
        }
        createSchema();
    }
    ~SqliteDb() override
    {
        sqlite3_close(db_);
        std::filesystem::remove(path_);
    }
    Dialect dialect() const override { return Dialect::Sqlite; }
    std::string name() const override { return "sqlite"; }

    void exec(const std::string& sql) override
    {
        char* error = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
            const std::string message = error ? error : "?";
            sqlite3_free(error);
            throw std::runtime_error("sqlite: " + message + " in " + sql);
        }
    }

    std::vector<Row> query(const SqlStatement& statement) override
    {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, statement.text.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
            throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db_) +
                                     " in " + statement.text);
        }
        std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
        if (sqlite3_bind_parameter_count(stmt) != static_cast<int>(statement.params.size())) {
            throw std::runtime_error("placeholder count differs from params in " + statement.text);
        }
        for (std::size_t i = 0; i < statement.params.size(); ++i) {
            const int index = static_cast<int>(i + 1);
            // $n must be the n-th parameter SQLite numbered (first appearance order).
            const std::string name = "$" + std::to_string(index);
            if (sqlite3_bind_parameter_index(stmt, name.c_str()) != index) {
                throw std::runtime_error("placeholder " + name + " out of order in " +
                                         statement.text);
            }
            const SqlValue& value = statement.params[i];
            if (const auto* integer = std::get_if<std::int64_t>(&value)) {
                sqlite3_bind_int64(stmt, index, *integer);
            } else if (const auto* real = std::get_if<double>(&value)) {
                sqlite3_bind_double(stmt, index, *real);
            } else {
                const std::string& text = std::get<std::string>(value);
                sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()),
                                  SQLITE_TRANSIENT);
            }
        }
        std::vector<Row> rows;
        int rc = 0;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            Row row;
            for (int column = 0; column < sqlite3_column_count(stmt); ++column) {
                switch (sqlite3_column_type(stmt, column)) {
                case SQLITE_INTEGER:
                    row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, column)));
                    break;
                case SQLITE_FLOAT:
                    row.emplace_back(sqlite3_column_double(stmt, column));
                    break;
                default: {
                    const auto* text =
                        reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
                    row.emplace_back(
                        std::string(text ? text : "",
                                    static_cast<std::size_t>(sqlite3_column_bytes(stmt, column))));
                }
                }
            }
            rows.push_back(std::move(row));
        }
        if (rc != SQLITE_DONE) {
            throw std::runtime_error(std::string("sqlite step: ") + sqlite3_errmsg(db_) + " in " +
                                     statement.text);
        }
        return rows;
    }

  private:
    static int& counter()
    {
        static int value = 0;
        return value;
    }
    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
};

class PostgresDb : public TestDb {
  public:
    explicit PostgresDb(const std::string& url)
    {
        connection_ = PQconnectdb(url.c_str());
        if (PQstatus(connection_) != CONNECTION_OK) {
            const std::string message = PQerrorMessage(connection_);
            PQfinish(connection_);
            throw std::runtime_error("postgres: " + message);
        }
        schema_ =
            "fhir_search_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++);
        exec("SET client_min_messages = warning");
        exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
        exec("CREATE SCHEMA " + schema_);
        exec("SET search_path TO " + schema_);
        createSchema();
    }
    ~PostgresDb() override
    {
        PQclear(PQexec(connection_, ("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE").c_str()));
        PQfinish(connection_);
    }
    Dialect dialect() const override { return Dialect::Postgres; }
    std::string name() const override { return "postgresql"; }

    void exec(const std::string& sql) override { query(SqlStatement{sql, {}}); }

    std::vector<Row> query(const SqlStatement& statement) override
    {
        std::vector<std::string> texts;
        std::vector<Oid> types;
        for (const SqlValue& value : statement.params) {
            if (const auto* integer = std::get_if<std::int64_t>(&value)) {
                texts.push_back(std::to_string(*integer));
                types.push_back(20);
            } else if (const auto* real = std::get_if<double>(&value)) {
                char buffer[64];
                std::snprintf(buffer, sizeof buffer, "%.17g", *real);
                texts.push_back(buffer);
                types.push_back(701);
            } else {
                texts.push_back(std::get<std::string>(value));
                types.push_back(25);
            }
        }
        std::vector<const char*> values;
        for (const std::string& text : texts) {
            values.push_back(text.c_str());
        }
        PGresult* result =
            PQexecParams(connection_, statement.text.c_str(), static_cast<int>(values.size()),
                         types.data(), values.data(), nullptr, nullptr, 0);
        std::unique_ptr<PGresult, void (*)(PGresult*)> guard(result, PQclear);
        const ExecStatusType status = PQresultStatus(result);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            throw std::runtime_error(std::string("postgres: ") + PQresultErrorMessage(result) +
                                     " in " + statement.text);
        }
        std::vector<Row> rows;
        for (int r = 0; r < PQntuples(result); ++r) {
            Row row;
            for (int column = 0; column < PQnfields(result); ++column) {
                const std::string text = PQgetvalue(result, r, column);
                switch (PQftype(result, column)) {
                case 20:
                case 21:
                case 23:
                    row.emplace_back(static_cast<std::int64_t>(std::stoll(text)));
                    break;
                case 700:
                case 701:
                    row.emplace_back(std::strtod(text.c_str(), nullptr));
                    break;
                default:
                    row.emplace_back(text);
                }
            }
            rows.push_back(std::move(row));
        }
        return rows;
    }

  private:
    static int& counter()
    {
        static int value = 0;
        return value;
    }
    PGconn* connection_ = nullptr;
    std::string schema_;
};

/// A fresh database of every available backend.
inline std::vector<std::unique_ptr<TestDb>> freshDatabases()
{
    std::vector<std::unique_ptr<TestDb>> databases;
    databases.push_back(std::make_unique<SqliteDb>());
    const char* url = std::getenv("HL7GW_TEST_PG_URL");
    if (url != nullptr && *url != '\0') {
        databases.push_back(std::make_unique<PostgresDb>(url));
    } else {
        static bool told = false;
        if (!told) {
            BOOST_TEST_MESSAGE("HL7GW_TEST_PG_URL is not set: the FHIR search tests run on "
                               "SQLite only, PostgreSQL is SKIPPED");
            told = true;
        }
    }
    return databases;
}

} // namespace hl7gw::fhir::search::test
