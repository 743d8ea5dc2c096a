#include "gateway/routing/channel_set.h"

#include "tests/unit/routing/routing_support.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw;

namespace {

std::string errorOf(const std::string& json)
{
    try {
        test::channelsFrom(json);
    } catch (const core::ConfigError& e) {
        return e.message();
    }
    return "(no error)";
}

} // namespace

BOOST_AUTO_TEST_SUITE(channel_set)

BOOST_AUTO_TEST_CASE(builds_channels_with_their_stages)
{
    const routing::ChannelSetPtr set = test::channelsFrom(R"([{
        "name": "his-adt",
        "accept": {"types": ["ADT^*"], "processing_ids": ["P"]},
        "ack_mode": "original",
        "default_charset": "GBK",
        "filters": [{"type": "message_type", "types": ["ADT^A01"]}],
        "destinations": [
            {"name": "lis", "type": "mllp", "to": "127.0.0.1:6661", "workers": 2,
             "retry": {"max_attempts": 3, "initial_backoff_ms": 10}},
            {"name": "archive", "type": "file", "directory": "/tmp/x", "order_key": ""}
        ]}])");
    const routing::Channel* c = set->find("his-adt");
    BOOST_REQUIRE(c != nullptr);
    BOOST_TEST((c->ackPolicy == routing::AckPolicy::Original));
    BOOST_TEST(c->defaultCharset == &hl7v2::Charset::gb18030());
    BOOST_TEST(c->filters.size() == 1U);
    BOOST_REQUIRE(c->destinations.size() == 2U);
    BOOST_TEST(c->destinations[0].workers == 2);
    BOOST_TEST(c->destinations[0].retry.maxAttempts == 3);
    BOOST_TEST(c->destinations[0].kind->describe() == "mllp://127.0.0.1:6661");
    BOOST_TEST(c->destinations[0].orderKey->toString() == "PID-3.1");
    BOOST_TEST(!c->destinations[1].orderKey.has_value());
    BOOST_TEST(set->findDestination("archive") == &c->destinations[1]);
}

BOOST_AUTO_TEST_CASE(errors_name_file_and_path)
{
    BOOST_TEST(errorOf(R"([{"name": "a", "destinatons": []}])") ==
               "test.json: destinatons: unknown key");
    BOOST_TEST(errorOf(R"([{"name": "a", "destinations": [{"name": "d", "type": "ftp"}]}])")
                   .find("test.json: destinations.0.type: unknown destination type 'ftp'") == 0);
    BOOST_TEST(
        errorOf(
            R"([{"name": "a", "destinations": [{"name": "d", "type": "mllp", "to": "nohost"}]}])")
            .find("test.json: destinations.0.to:") == 0);
    BOOST_TEST(errorOf(R"([{"name": "a", "ack_mode": "loud"}])") ==
               "test.json: ack_mode: expected standard, original or enhanced, found 'loud'");
    BOOST_TEST(errorOf(R"([{"name": "a", "default_charset": "EBCDIC"}])")
                   .find("test.json: default_charset: unknown") == 0);
    BOOST_TEST(errorOf(R"([{"name": "a", "transforms": [{"type": "javascript"}]}])")
                   .find("unknown transform type 'javascript'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(names_must_be_unique)
{
    BOOST_TEST(errorOf(R"([{"name": "a"}, {"name": "a"}])").find("defined twice") !=
               std::string::npos);
    BOOST_TEST(
        errorOf(
            R"([{"name": "a", "destinations": [{"name": "d", "type": "file", "directory": "x"}]},
                           {"name": "b", "destinations": [{"name": "d", "type": "file", "directory": "y"}]}])")
            .find("already used by channel 'a'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
