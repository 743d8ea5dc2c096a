#include "gateway/routing/filters.h"

#include "gateway/hl7v2/er7_parser.h"
#include "tests/unit/routing/routing_support.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw;
using routing::StageStatus;

namespace {

StageStatus run(const std::string& filterJson, const std::string& message)
{
    rapidjson::Document d;
    core::parseConfigText(filterJson, "f.json", d);
    core::ConfigReader reader = core::ConfigReader::root(d, "f.json");
    const std::string type = reader.requiredString("type");
    routing::FilterPtr f = type == "message_type" ? routing::makeMessageTypeFilter(reader)
                           : type == "sender"     ? routing::makeSenderFilter(reader)
                                                  : routing::makePathFilter(reader);
    reader.finish();
    hl7v2::Message m;
    core::IssueList issues;
    BOOST_REQUIRE(hl7v2::Er7Parser().parse(message, m, issues));
    hl7v2::TextDecoder decoder;
    routing::StageContext context{m, decoder, message, {}};
    return f->apply(context);
}

} // namespace

BOOST_AUTO_TEST_SUITE(filters)

BOOST_AUTO_TEST_CASE(type_patterns)
{
    BOOST_TEST(routing::matchesType("ADT^A01", "ADT", "A01"));
    BOOST_TEST(!routing::matchesType("ADT^A01", "ADT", "A04"));
    BOOST_TEST(routing::matchesType("ADT^A0*", "ADT", "A04"));
    BOOST_TEST(!routing::matchesType("ADT^A0*", "ADT", "A13"));
    BOOST_TEST(routing::matchesType("ADT", "ADT", "A13"));
    BOOST_TEST(routing::matchesType("ADT^*", "ADT", "A13"));
    BOOST_TEST(!routing::matchesType("ADT", "ORU", "R01"));
    BOOST_TEST(routing::matchesType("*", "ORU", "R01"));
}

BOOST_AUTO_TEST_CASE(message_type_filter_passes_listed_types_only)
{
    const std::string a01 = test::adt("1");
    const std::string a08 = test::adt("2", "P1", "A08");
    const std::string f = R"({"type": "message_type", "types": ["ADT^A01", "ADT^A04"]})";
    BOOST_TEST((run(f, a01) == StageStatus::Continue));
    BOOST_TEST((run(f, a08) == StageStatus::Filtered));
}

BOOST_AUTO_TEST_CASE(sender_filter_compares_msh3_and_msh4)
{
    const std::string m = test::adt("1");
    BOOST_TEST((run(R"({"type": "sender", "senders": ["HIS^HOSP"]})", m) == StageStatus::Continue));
    BOOST_TEST((run(R"({"type": "sender", "senders": ["HIS"]})", m) == StageStatus::Continue));
    BOOST_TEST((run(R"({"type": "sender", "senders": ["HIS^OTHER", "LIS"]})", m) ==
                StageStatus::Filtered));
}

BOOST_AUTO_TEST_CASE(path_filter_equals_in_and_exists)
{
    const std::string m = test::adt("1");
    BOOST_TEST(
        (run(R"({"type": "path", "path": "PV1-2", "equals": "I"})", m) == StageStatus::Continue));
    BOOST_TEST((run(R"({"type": "path", "path": "PV1-2", "not_equals": "I"})", m) ==
                StageStatus::Filtered));
    BOOST_TEST((run(R"({"type": "path", "path": "PID-8", "in": ["F", "M"]})", m) ==
                StageStatus::Continue));
    BOOST_TEST(
        (run(R"({"type": "path", "path": "PID-19", "exists": true})", m) == StageStatus::Filtered));
    BOOST_TEST((run(R"({"type": "path", "path": "PID-3.4", "exists": true})", m) ==
                StageStatus::Continue));
}

BOOST_AUTO_TEST_CASE(path_filter_config_errors_name_the_key)
{
    BOOST_CHECK_EXCEPTION(run(R"({"type": "path", "path": "PID-", "equals": "x"})", test::adt("1")),
                          core::ConfigError, [](const core::ConfigError& e) {
                              return e.message().find("f.json: path: not a path") == 0;
                          });
    BOOST_CHECK_EXCEPTION(
        run(R"({"type": "path", "path": "PID-3", "equals": "x", "in": []})", test::adt("1")),
        core::ConfigError, [](const core::ConfigError& e) {
            return e.message().find("exactly one of") != std::string::npos;
        });
}

BOOST_AUTO_TEST_SUITE_END()
