#include "gateway/hl7v2/path.h"

#include "gateway/hl7v2/er7_parser.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw::hl7v2;

BOOST_AUTO_TEST_SUITE(path)

BOOST_AUTO_TEST_CASE(parses_every_documented_form)
{
    const auto p1 = Path::parse("PID-5.1");
    BOOST_REQUIRE(p1);
    BOOST_TEST(p1->segment == "PID");
    BOOST_TEST(p1->field == 5u);
    BOOST_TEST(p1->component == 1u);
    const auto p2 = Path::parse("PID-3[2].1");
    BOOST_REQUIRE(p2);
    BOOST_TEST(p2->repetition == 2u);
    const auto p3 = Path::parse("OBX[3]-5");
    BOOST_REQUIRE(p3);
    BOOST_TEST(p3->occurrence == 3u);
    BOOST_TEST(p3->component == 0u);
    const auto p4 = Path::parse("OBR-15.1.2");
    BOOST_REQUIRE(p4);
    BOOST_TEST(p4->subcomponent == 2u);
    BOOST_TEST(p4->toString() == "OBR-15.1.2");
    BOOST_TEST(Path::parse("ZB1")->field == 0u);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_paths_with_the_position)
{
    std::string error;
    BOOST_TEST(!Path::parse("PID-0", &error));
    BOOST_TEST(error == "path 'PID-0': expected '-' and a field number (from 1) at character 5");
    BOOST_TEST(!Path::parse("pid-5", &error));
    BOOST_TEST(!Path::parse("PID-5[", &error));
    BOOST_TEST(!Path::parse("PID-5.x", &error));
    BOOST_TEST(!Path::parse("PID-5.1.2.3", &error));
    BOOST_TEST(error.find("unexpected character") != std::string::npos);
    BOOST_TEST(!Path::parse("OBX[0]-5", &error));
}

BOOST_AUTO_TEST_CASE(resolves_occurrences_repetitions_and_missing_positions)
{
    const std::string text = "MSH|^~\\&|A\rOBX|1||c1||v1\rOBX|2||c2||v2^u~w\rOBX|3||c3||v3&s2\r";
    Message m;
    hl7gw::core::IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    BOOST_TEST(Path::parse("OBX[3]-5")->resolve(m).raw() == "v3&s2");
    BOOST_TEST(Path::parse("OBX[3]-5.1.2")->resolve(m).raw() == "s2");
    BOOST_TEST(Path::parse("OBX[2]-5")->resolve(m).raw() == "v2^u"); // first repetition
    BOOST_TEST(Path::parse("OBX[2]-5[2]")->resolve(m).raw() == "w");
    BOOST_TEST(!Path::parse("OBX[4]-5")->resolve(m).present());
    BOOST_TEST(!Path::parse("OBX[2]-5[3]")->resolve(m).present());
    BOOST_TEST(!Path::parse("PID-5")->resolve(m).present());
}

BOOST_AUTO_TEST_SUITE_END()
