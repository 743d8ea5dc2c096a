#include "gateway/fhir/rest/outcome.h"

#include "gateway/fhir/model/json_io.h"

#include <boost/test/unit_test.hpp>

#include <string>

using hl7gw::core::Issue;
using hl7gw::core::IssueList;
using hl7gw::core::Location;
using hl7gw::core::Severity;
using namespace hl7gw::fhir::rest;

namespace {

std::string str(const rapidjson::Value& value)
{
    return std::string(value.GetString(), value.GetStringLength());
}

} // namespace

BOOST_AUTO_TEST_SUITE(outcome)

BOOST_AUTO_TEST_CASE(status_per_issue_code)
{
    BOOST_TEST(statusFor("invalid") == 400);
    BOOST_TEST(statusFor("structure") == 400);
    BOOST_TEST(statusFor("value") == 400);
    BOOST_TEST(statusFor("login") == 401);
    BOOST_TEST(statusFor("forbidden") == 403);
    BOOST_TEST(statusFor("not-found") == 404);
    BOOST_TEST(statusFor("not-supported") == 405);
    BOOST_TEST(statusFor("conflict") == 409);
    BOOST_TEST(statusFor("lock-error") == 409);
    BOOST_TEST(statusFor("deleted") == 410);
    BOOST_TEST(statusFor("multiple-matches") == 412);
    BOOST_TEST(statusFor("business-rule") == 422);
    BOOST_TEST(statusFor("invariant") == 422);
    BOOST_TEST(statusFor("required") == 422);
    BOOST_TEST(statusFor("code-invalid") == 422);
    BOOST_TEST(statusFor("exception") == 500);
    BOOST_TEST(statusFor("transient") == 503);
    BOOST_TEST(statusFor("informational") == 200);
    BOOST_TEST(statusFor("no-such-code") == 500);
    BOOST_TEST(statusFor("") == 500);
}

BOOST_AUTO_TEST_CASE(status_of_a_list_is_its_first_error)
{
    IssueList issues;
    BOOST_TEST(statusFor(issues) == 200);
    issues.add(Severity::Warning, "not-found", {}, "only a warning");
    BOOST_TEST(statusFor(issues) == 200);
    issues.add(Severity::Error, "invariant", {}, "app-1");
    issues.add(Severity::Fatal, "structure", {}, "later");
    BOOST_TEST(statusFor(issues) == 422);
}

BOOST_AUTO_TEST_CASE(builds_issues_with_expression_and_details)
{
    IssueList issues;
    Location location;
    location.path = "Appointment.participant[0].status";
    issues.add(Severity::Error, "required", location, "participant status is required");
    issues.add(Severity::Warning, "value", {}, "unknown code");

    const rapidjson::Document outcome = makeOutcome(issues);
    BOOST_TEST(str(outcome["resourceType"]) == "OperationOutcome");
    const rapidjson::Value& list = outcome["issue"];
    BOOST_TEST_REQUIRE(list.Size() == 2u);
    const rapidjson::Value& first = list[0];
    BOOST_TEST(str(first["severity"]) == "error");
    BOOST_TEST(str(first["code"]) == "required");
    BOOST_TEST(str(first["diagnostics"]) == "participant status is required");
    BOOST_TEST(str(first["details"]["text"]).find("required element") != std::string::npos);
    BOOST_TEST(str(first["details"]["text"]).find("缺少必填元素") != std::string::npos);
    BOOST_TEST_REQUIRE(first["expression"].Size() == 1u);
    BOOST_TEST(str(first["expression"][0]) == "Appointment.participant[0].status");
    BOOST_TEST(str(list[1]["severity"]) == "warning");
    BOOST_TEST(!list[1].HasMember("expression"));
}

BOOST_AUTO_TEST_CASE(puts_other_locations_into_diagnostics)
{
    Issue issue;
    issue.severity = Severity::Fatal;
    issue.code = "structure";
    issue.text = "unexpected character";
    issue.location.path = "line 3, column 17";
    const rapidjson::Document outcome = makeOutcome(issue);
    const rapidjson::Value& first = outcome["issue"][0];
    BOOST_TEST(str(first["severity"]) == "fatal");
    BOOST_TEST(str(first["diagnostics"]) == "unexpected character (at line 3, column 17)");
    BOOST_TEST(!first.HasMember("expression"));
}

BOOST_AUTO_TEST_CASE(empty_list_gives_all_ok)
{
    const rapidjson::Document outcome = makeOutcome(IssueList{});
    BOOST_TEST_REQUIRE(outcome["issue"].Size() == 1u);
    BOOST_TEST(str(outcome["issue"][0]["severity"]) == "information");
    BOOST_TEST(str(outcome["issue"][0]["code"]) == "informational");
}

BOOST_AUTO_TEST_CASE(writes_valid_json)
{
    Issue issue;
    issue.code = "not-found";
    issue.text = "Patient/1 is not known";
    const std::string json = hl7gw::fhir::writeJson(makeOutcome(issue));
    BOOST_TEST(json.find(R"("resourceType":"OperationOutcome")") != std::string::npos, json);
    BOOST_TEST(json.find(R"("code":"not-found")") != std::string::npos, json);
}

BOOST_AUTO_TEST_CASE(recognises_fhirpath_expressions)
{
    BOOST_TEST(isFhirPathExpression("Patient"));
    BOOST_TEST(isFhirPathExpression("Bundle.entry[2].resource.status"));
    BOOST_TEST(!isFhirPathExpression(""));
    BOOST_TEST(!isFhirPathExpression("/a/b"));
    BOOST_TEST(!isFhirPathExpression("line 3"));
    BOOST_TEST(!isFhirPathExpression("Patient."));
    BOOST_TEST(!isFhirPathExpression("Patient.name[]"));
    BOOST_TEST(!isFhirPathExpression("PID[1]-3"));
}

BOOST_AUTO_TEST_SUITE_END()
