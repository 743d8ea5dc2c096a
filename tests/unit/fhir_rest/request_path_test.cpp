#include "gateway/fhir/rest/request_path.h"

#include <boost/test/unit_test.hpp>

#include <string>

using hl7gw::core::Issue;
using hl7gw::fhir::rest::Endpoint;
using hl7gw::fhir::rest::isValidId;
using hl7gw::fhir::rest::isValidTypeName;
using hl7gw::fhir::rest::parseEntryUrl;
using hl7gw::fhir::rest::parseQuery;
using hl7gw::fhir::rest::parseRequestTarget;
using hl7gw::fhir::rest::QueryParam;
using hl7gw::fhir::rest::QueryParams;
using hl7gw::fhir::rest::RequestPath;

BOOST_TEST_DONT_PRINT_LOG_VALUE(hl7gw::fhir::rest::Endpoint)

namespace {

RequestPath parsed(const std::string& target)
{
    RequestPath path;
    Issue issue;
    BOOST_TEST_REQUIRE(parseRequestTarget(target, path, issue), target + ": " + issue.text);
    return path;
}

/// The issue code parseRequestTarget gives for `target` ("" when it parses).
std::string failure(const std::string& target)
{
    RequestPath path;
    Issue issue;
    if (parseRequestTarget(target, path, issue)) {
        return "";
    }
    BOOST_TEST(!issue.text.empty());
    return issue.code;
}

} // namespace

BOOST_AUTO_TEST_SUITE(request_path)

BOOST_AUTO_TEST_CASE(parses_every_endpoint)
{
    BOOST_TEST(parsed("/fhir").endpoint == Endpoint::System);
    BOOST_TEST(parsed("/fhir/").endpoint == Endpoint::System);
    BOOST_TEST(parsed("/fhir/metadata").endpoint == Endpoint::Metadata);
    BOOST_TEST(parsed("/fhir/_history").endpoint == Endpoint::SystemHistory);
    BOOST_TEST(parsed("/fhir/_search").endpoint == Endpoint::SystemSearch);

    const RequestPath system = parsed("/fhir/$export");
    BOOST_TEST(system.endpoint == Endpoint::SystemOperation);
    BOOST_TEST(system.operation == "export");

    const RequestPath type = parsed("/fhir/Patient");
    BOOST_TEST(type.endpoint == Endpoint::Type);
    BOOST_TEST(type.type == "Patient");
    BOOST_TEST(type.id.empty());
    BOOST_TEST(parsed("/fhir/Patient/").endpoint == Endpoint::Type);
    BOOST_TEST(parsed("/fhir/Slot/_search").endpoint == Endpoint::TypeSearch);
    BOOST_TEST(parsed("/fhir/Slot/_history").endpoint == Endpoint::TypeHistory);

    const RequestPath typeOperation = parsed("/fhir/Appointment/$find");
    BOOST_TEST(typeOperation.endpoint == Endpoint::TypeOperation);
    BOOST_TEST(typeOperation.type == "Appointment");
    BOOST_TEST(typeOperation.operation == "find");

    const RequestPath instance = parsed("/fhir/Patient/a-1.2");
    BOOST_TEST(instance.endpoint == Endpoint::Instance);
    BOOST_TEST(instance.id == "a-1.2");

    const RequestPath history = parsed("/fhir/Patient/7/_history");
    BOOST_TEST(history.endpoint == Endpoint::InstanceHistory);
    BOOST_TEST(history.id == "7");

    const RequestPath version = parsed("/fhir/Patient/7/_history/3");
    BOOST_TEST(version.endpoint == Endpoint::InstanceVersion);
    BOOST_TEST(version.type == "Patient");
    BOOST_TEST(version.id == "7");
    BOOST_TEST(version.versionId == "3");

    const RequestPath instanceOperation = parsed("/fhir/Patient/7/$everything");
    BOOST_TEST(instanceOperation.endpoint == Endpoint::InstanceOperation);
    BOOST_TEST(instanceOperation.id == "7");
    BOOST_TEST(instanceOperation.operation == "everything");
}

BOOST_AUTO_TEST_CASE(reads_the_query_in_order_with_repeats)
{
    const RequestPath path =
        parsed("/fhir/Appointment?date=ge2024-05-06&date=lt2024-05-07&patient=Patient%2F1"
               "&identifier=urn:oid:1.2%7C9&_summary#fragment");
    BOOST_TEST(path.endpoint == Endpoint::Type);
    const QueryParams expected{{"date", "ge2024-05-06"},
                               {"date", "lt2024-05-07"},
                               {"patient", "Patient/1"},
                               {"identifier", "urn:oid:1.2|9"},
                               {"_summary", ""}};
    BOOST_TEST_REQUIRE(path.query.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        BOOST_TEST(path.query[i].name == expected[i].name);
        BOOST_TEST(path.query[i].value == expected[i].value);
    }
}

BOOST_AUTO_TEST_CASE(keeps_plus_in_urls_and_decodes_it_in_forms)
{
    QueryParams params;
    Issue issue;
    BOOST_TEST(parseQuery("date=2024-05-06T08:00:00+08:00&name=a%2Bb", params, issue));
    BOOST_TEST(params[0].value == "2024-05-06T08:00:00+08:00");
    BOOST_TEST(params[1].value == "a+b");
    BOOST_TEST(parseQuery("name=Zhang+San&x=%E5%BC%A0&&flag", params, issue, true));
    BOOST_TEST_REQUIRE(params.size() == 3u);
    BOOST_TEST(params[0].value == "Zhang San");
    BOOST_TEST(params[1].value == "\xE5\xBC\xA0");
    BOOST_TEST(params[2].name == "flag");
    BOOST_TEST(params[2].value == "");
}

BOOST_AUTO_TEST_CASE(rejects_bad_encoding)
{
    QueryParams params{{"kept", "x"}};
    Issue issue;
    BOOST_TEST(!parseQuery("a=%zz", params, issue));
    BOOST_TEST(issue.code == "invalid");
    BOOST_TEST(params.size() == 1u);                 // untouched on failure
    BOOST_TEST(!parseQuery("a=%FF", params, issue)); // not UTF-8
    BOOST_TEST(!parseQuery("a=%", params, issue));
    BOOST_TEST(failure("/fhir/Patient?name=%G1") == "invalid");
}

BOOST_AUTO_TEST_CASE(rejects_bad_paths)
{
    BOOST_TEST(failure("/other/Patient") == "not-found");
    BOOST_TEST(failure("/fhirx/Patient") == "not-found");
    BOOST_TEST(failure("/fhir/patient") == "not-found");
    BOOST_TEST(failure("/fhir/Pa_tient") == "not-found");
    BOOST_TEST(failure("/fhir/Patient/1/foo") == "not-found");
    BOOST_TEST(failure("/fhir/Patient/1/_history/2/x") == "not-found");
    BOOST_TEST(failure("/fhir/Patient/_search/x") == "not-found");
    BOOST_TEST(failure("/fhir/$op/x") == "not-found");
    BOOST_TEST(failure("/fhir/Patient/a_b") == "invalid");
    BOOST_TEST(failure("/fhir/Patient/" + std::string(65, 'a')) == "invalid");
    BOOST_TEST(failure("/fhir/Patient/1/_history/v_1") == "invalid");
    BOOST_TEST(failure("/fhir/Patient//1") == "invalid");
    BOOST_TEST(failure("/fhir/Patient/a%2Fb") == "invalid");
    BOOST_TEST(failure("/fhir/Patient/$") == "invalid");
    BOOST_TEST(failure("/fhir/Patient/$1x") == "invalid");
    BOOST_TEST(failure("/fhir/Patient/" + std::string(64, 'a')) == "");
}

BOOST_AUTO_TEST_CASE(checks_id_and_type_syntax)
{
    BOOST_TEST(isValidId("A-z.09"));
    BOOST_TEST(!isValidId(""));
    BOOST_TEST(!isValidId("a b"));
    BOOST_TEST(!isValidId("\xE5\xBC\xA0"));
    BOOST_TEST(isValidTypeName("DiagnosticReport"));
    BOOST_TEST(!isValidTypeName("diagnosticReport"));
    BOOST_TEST(!isValidTypeName("Diagnostic1"));
    BOOST_TEST(!isValidTypeName(""));
}

BOOST_AUTO_TEST_CASE(honours_another_base)
{
    RequestPath path;
    Issue issue;
    BOOST_TEST(parseRequestTarget("/api/r4/Patient/1", path, issue, "/api/r4/"));
    BOOST_TEST(path.endpoint == Endpoint::Instance);
    BOOST_TEST(!parseRequestTarget("/fhir/Patient/1", path, issue, "/api/r4"));
}

BOOST_AUTO_TEST_CASE(parses_transaction_entry_urls)
{
    RequestPath path;
    Issue issue;
    BOOST_TEST(parseEntryUrl("Patient?identifier=urn:oid:2.16.156.10011.1.3%7C1101", path, issue));
    BOOST_TEST(path.endpoint == Endpoint::Type);
    BOOST_TEST_REQUIRE(path.query.size() == 1u);
    BOOST_TEST(path.query[0].value == "urn:oid:2.16.156.10011.1.3|1101");

    BOOST_TEST(parseEntryUrl("Patient/12/_history/3", path, issue));
    BOOST_TEST(path.endpoint == Endpoint::InstanceVersion);
    BOOST_TEST(path.query.empty());

    BOOST_TEST(parseEntryUrl("/Slot/5", path, issue));
    BOOST_TEST(path.endpoint == Endpoint::Instance);

    BOOST_TEST(parseEntryUrl("https://gw.example/fhir/Slot/5?_pretty=true", path, issue,
                             "https://gw.example/fhir"));
    BOOST_TEST(path.endpoint == Endpoint::Instance);
    BOOST_TEST(path.id == "5");
    BOOST_TEST(path.query.size() == 1u);

    BOOST_TEST(!parseEntryUrl("https://other.example/fhir/Slot/5", path, issue,
                              "https://gw.example/fhir"));
    BOOST_TEST(issue.code == "not-found");
    BOOST_TEST(!parseEntryUrl("Slot/5 6", path, issue));
    BOOST_TEST(issue.code == "invalid");
}

BOOST_AUTO_TEST_SUITE_END()
