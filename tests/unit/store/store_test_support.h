#pragma once

// The store tests' databases: every case runs on SQLite and on PostgreSQL.

#include "gateway/store/detail/store_url.h"
#include "gateway/store/message_store.h"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Process.h>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <string>

namespace hl7gw::test {

namespace store = hl7gw::store;
namespace data = boost::unit_test::data;

enum class Backend { Sqlite, Postgresql };

inline std::ostream& operator<<(std::ostream& out, Backend backend)
{
    return out << (backend == Backend::Sqlite ? "sqlite" : "postgresql");
}

inline const auto Backends = data::make({Backend::Sqlite, Backend::Postgresql});

inline std::string uniqueSuffix()
{
    static std::atomic<int> counter{0};
    return std::to_string(Poco::Process::id()) + "_" + std::to_string(++counter);
}

/// A fresh, empty database for one test: an SQLite file in a directory of its own, or a
/// PostgreSQL schema of its own in the database HL7GW_TEST_PG_URL names (scripts/pg.sh starts
/// one), dropped at the end. Several test runs can share the server.
class TestDatabase {
  public:
    explicit TestDatabase(Backend backend) : backend_(backend)
    {
        if (backend == Backend::Sqlite) {
            dir_ = std::filesystem::temp_directory_path() / ("hl7gw-store-test-" + uniqueSuffix());
            url_ = "sqlite:" + (dir_ / "sub" / "store.db").string();
            return;
        }
        const char* base = std::getenv("HL7GW_TEST_PG_URL");
        if (base == nullptr || *base == '\0') {
            BOOST_FAIL("HL7GW_TEST_PG_URL is not set: the PostgreSQL half of the store tests "
                       "needs a server; run eval \"$(scripts/pg.sh)\" first (scripts/test.sh "
                       "does)");
        }
        baseUrl_ = base;
        schema_ = "hl7gw_test_" + uniqueSuffix();
        Poco::Data::PostgreSQL::Connector::registerConnector();
        admin("CREATE SCHEMA " + schema_);
        url_ = baseUrl_ + (baseUrl_.find('?') == std::string::npos ? "?" : "&") +
               "options=-csearch_path%3D" + schema_ + "&application_name=" + schema_;
    }

    ~TestDatabase()
    {
        try {
            if (backend_ == Backend::Sqlite) {
                std::filesystem::remove_all(dir_);
            } else {
                admin("DROP SCHEMA " + schema_ + " CASCADE");
            }
        } catch (const std::exception&) {
            // Poco::Exception included. A leftover temp dir or schema fails no other test.
        }
    }

    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    const std::string& url() const { return url_; }
    /// PostgreSQL: ends every server session of this test's stores (their application_name is
    /// the schema's name), as a server restart would.
    void dropConnections() const
    {
        admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
              schema_ + "'");
    }

    store::MessageStorePtr open(std::size_t maxBatch = 512) const
    {
        store::StoreConfig config;
        config.url = url_;
        config.maxBatch = maxBatch;
        return store::openStore(config);
    }

  private:
    void admin(const std::string& sql) const
    {
        Poco::Data::Session session("PostgreSQL",
                                    hl7gw::store::detail::parseStoreUrl(baseUrl_).connectString);
        session << "SET client_min_messages TO warning", Poco::Data::Keywords::now;
        session << sql, Poco::Data::Keywords::now;
    }

    Backend backend_;
    std::filesystem::path dir_;
    std::string baseUrl_;
    std::string schema_;
    std::string url_;
};

} // namespace hl7gw::test
