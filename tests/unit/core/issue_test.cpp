#include "gateway/core/issue.h"

#include <boost/test/unit_test.hpp>

using hl7gw::core::IssueList;
using hl7gw::core::Location;
using hl7gw::core::Severity;

BOOST_AUTO_TEST_SUITE(issue_list)

BOOST_AUTO_TEST_CASE(formats_v2_location_with_only_known_parts)
{
    Location loc;
    loc.segment = "PID";
    loc.segmentOccurrence = 1;
    loc.field = 3;
    loc.repetition = 2;
    loc.component = 1;
    BOOST_TEST(loc.toString() == "PID[1]-3[2].1");
    loc.component = 0;
    BOOST_TEST(loc.toString() == "PID[1]-3[2]");
    Location byLine;
    byLine.line = 7;
    BOOST_TEST(byLine.toString() == "line 7");
    Location byOffset;
    byOffset.offset = 12;
    BOOST_TEST(byOffset.toString() == "offset 12");
}

BOOST_AUTO_TEST_CASE(warnings_do_not_count_as_errors)
{
    IssueList issues;
    issues.add(Severity::Warning, "102", {}, "w");
    BOOST_TEST(!issues.hasErrors());
    issues.add(Severity::Error, "101", {}, "e");
    BOOST_TEST(issues.hasErrors());
    BOOST_TEST(!issues.hasFatal());
    issues.add(Severity::Fatal, "100", {}, "f");
    BOOST_TEST(issues.hasFatal());
    BOOST_TEST(issues.size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
