#include "gateway/hl7v2/json_writer.h"

#include "gateway/hl7v2/er7_parser.h"

#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

using namespace hl7gw::hl7v2;

BOOST_AUTO_TEST_SUITE(json_writer)

BOOST_AUTO_TEST_CASE(renders_the_documented_shape)
{
    const std::string text = "MSH|^~\\&|A||||||ADT^A01|C1|P|2.5\r"
                             "PID|1|\"\"||a^b&c~d||x\\F\\y||\"\"^z\r";
    Message m;
    hl7gw::core::IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    TextDecoder decoder;
    std::string json;
    writeJson(m, 3, decoder, json, &issues);
    BOOST_TEST(json ==
               "{\"index\":3,\"type\":\"ADT^A01\",\"controlId\":\"C1\",\"version\":\"2.5\","
               "\"charset\":\"UNICODE UTF-8\",\"segments\":["
               "[\"MSH\",[\"|\"],[\"^~\\\\&\"],[\"A\"],[],[],[],[],[],[[\"ADT\",\"A01\"]],[\"C1\"],"
               "[\"P\"],[\"2.5\"]],"
               "[\"PID\",[\"1\"],[null],[],[[\"a\",[\"b\",\"c\"]],\"d\"],[],[\"x|y\"],[],"
               "[[null,\"z\"]]]]}");
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    BOOST_TEST(!doc.HasParseError());
}

BOOST_AUTO_TEST_SUITE_END()
