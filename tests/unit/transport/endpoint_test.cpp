#include "gateway/transport/endpoint.h"

#include "gateway/core/errors.h"

#include <boost/test/unit_test.hpp>

#include <string>

using hl7gw::core::ConfigError;
using hl7gw::transport::Endpoint;

BOOST_AUTO_TEST_SUITE(endpoint)

BOOST_AUTO_TEST_CASE(parses_host_and_port)
{
    const Endpoint endpoint = Endpoint::parse("his.example.org:2575");
    BOOST_TEST(endpoint.host == "his.example.org");
    BOOST_TEST(endpoint.port == 2575);
    BOOST_TEST(Endpoint::parse("127.0.0.1:0").port == 0);
    BOOST_TEST(Endpoint::parse("lis_1:65535").port == 65535);
}

BOOST_AUTO_TEST_CASE(parses_an_ipv6_address_in_brackets)
{
    const Endpoint endpoint = Endpoint::parse("[::1]:2575");
    BOOST_TEST(endpoint.host == "::1");
    BOOST_TEST(endpoint.port == 2575);
    BOOST_TEST(Endpoint::parse("[fe80::1:2]:1").host == "fe80::1:2");
}

BOOST_AUTO_TEST_CASE(writes_what_it_reads)
{
    for (const std::string text : {"127.0.0.1:2575", "[::1]:2575", "host-a:1"}) {
        BOOST_TEST(Endpoint::parse(text).toString() == text);
    }
}

BOOST_AUTO_TEST_CASE(rejects_malformed_text_naming_it)
{
    for (const std::string text :
         {"", "host", "host:", ":2575", "host:port", "host:65536", "host:-1", "host:+1",
          "host:123456", "::1:2575", "[::1]2575", "[::1:2575", "[127.0.0.1]:1", "[]:1", "ho st:1",
          "host/x:1", "host:25 75"}) {
        BOOST_TEST_CONTEXT("text \"" << text << "\"")
        {
            try {
                Endpoint::parse(text);
                BOOST_ERROR("accepted");
            } catch (const ConfigError& error) {
                BOOST_TEST(error.message().find("\"" + text + "\"") != std::string::npos);
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
