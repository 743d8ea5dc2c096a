#include "gateway/store/detail/store_url.h"

#include "gateway/core/errors.h"

#include <boost/test/unit_test.hpp>

using hl7gw::store::detail::Backend;
using hl7gw::store::detail::parseStoreUrl;

BOOST_AUTO_TEST_SUITE(store_url)

BOOST_AUTO_TEST_CASE(sqlite_urls_name_a_file)
{
    BOOST_TEST(parseStoreUrl("sqlite:var/hl7gw.db").sqlitePath == "var/hl7gw.db");
    BOOST_TEST(parseStoreUrl("sqlite:var/hl7gw.db").description == "sqlite:var/hl7gw.db");
    BOOST_TEST(parseStoreUrl("sqlite:///var/lib/hl7gw.db").sqlitePath == "/var/lib/hl7gw.db");
    BOOST_TEST((parseStoreUrl("sqlite:/a.db").backend == Backend::Sqlite));
    BOOST_CHECK_THROW(parseStoreUrl("sqlite:"), hl7gw::core::ConfigError);
    BOOST_CHECK_THROW(parseStoreUrl("sqlite::memory:"), hl7gw::core::ConfigError);
}

BOOST_AUTO_TEST_CASE(postgresql_urls_become_libpq_keywords_without_leaking_the_password)
{
    const auto full = parseStoreUrl("postgresql://gw:p%40ss@db.example:5433/hl7?sslmode=require");
    BOOST_TEST((full.backend == Backend::Postgresql));
    BOOST_TEST(full.description == "postgresql://gw@db.example:5433/hl7");
    BOOST_TEST(full.connectString.find("password=p@ss") != std::string::npos);
    BOOST_TEST(full.connectString.find("sslmode=require") != std::string::npos);
    BOOST_TEST(full.connectString.find("dbname=hl7") != std::string::npos);
    BOOST_TEST(full.connectString.find("connect_timeout=10") != std::string::npos);
    BOOST_TEST(parseStoreUrl("postgresql://u:it's@h/d").connectString.find("password=it\\'s") !=
               std::string::npos);
    BOOST_TEST(parseStoreUrl("postgres://[::1]:5432/x").description == "postgresql://[::1]:5432/x");
    BOOST_TEST(parseStoreUrl("postgresql://h/x?connect_timeout=2")
                   .connectString.find("connect_timeout=2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(libpq_keyword_strings_are_accepted)
{
    const auto keywords = parseStoreUrl("postgresql:host=10.0.0.5 port=5432 dbname=gw "
                                        "user=gw password='it\\'s'");
    BOOST_TEST(keywords.description == "postgresql://gw@10.0.0.5:5432/gw");
    BOOST_TEST(keywords.description.find("it") == std::string::npos);
    BOOST_TEST(keywords.connectString.find("password=it\\'s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_urls_are_config_errors_that_hide_the_password)
{
    for (const char* url :
         {"mysql://root:pw@localhost/db", "var/hl7gw.db", "", "postgresql://u@h:port/db",
          "postgresql://u@[::1/db", "postgresql://u@h/d?novalue", "postgresql:host",
          "postgresql://u@h/%zz"}) {
        BOOST_CHECK_THROW(parseStoreUrl(url), hl7gw::core::ConfigError);
    }
    // POCO's connector splits its connection string at spaces, so a space cannot be passed.
    try {
        parseStoreUrl("postgresql://u:a%20secret@h/d");
        BOOST_FAIL("a password with a space was accepted");
    } catch (const hl7gw::core::ConfigError& e) {
        BOOST_TEST(e.displayText().find("secret") == std::string::npos);
    }
    try {
        parseStoreUrl("mysql://root:hunter2@localhost/db");
    } catch (const hl7gw::core::ConfigError& e) {
        BOOST_TEST(e.displayText().find("hunter2") == std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()
