#include "gateway/fhir/model/validator.h"

#include "gateway/fhir/model/json_io.h"
#include "tests/unit/fhir_model/test_corpus.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <iostream>
#include <sstream>

using hl7gw::core::IssueList;
using hl7gw::fhir::isValidPrimitive;
using hl7gw::fhir::parseJson;
using hl7gw::fhir::validateResource;
namespace test = hl7gw::fhir::test;

namespace {

std::string describe(const IssueList& issues)
{
    std::ostringstream out;
    for (const auto& issue : issues) {
        out << issue.code << " at " << issue.location.path << ": " << issue.text << "; ";
    }
    return out.str();
}

IssueList validate(const std::string& json)
{
    rapidjson::Document doc;
    hl7gw::core::Issue parseIssue;
    IssueList issues;
    if (!parseJson(json, doc, parseIssue)) {
        issues.add(parseIssue);
        return issues;
    }
    validateResource(doc, issues);
    return issues;
}

/// True when `issues` holds exactly one issue, with this code at this path.
bool onlyIssue(const IssueList& issues, const std::string& code, const std::string& path)
{
    return issues.size() == 1 && issues[0].code == code && issues[0].location.path == path;
}

const char* const MinimalAppointment =
    R"({"resourceType":"Appointment","status":"booked","start":"2024-05-01T09:00:00+08:00",)"
    R"("end":"2024-05-01T09:15:00+08:00","participant":[{"actor":{"reference":"Patient/1"},)"
    R"("status":"accepted"}]})";

} // namespace

BOOST_AUTO_TEST_SUITE(validator)

BOOST_AUTO_TEST_CASE(every_official_json_example_is_valid)
{
    std::size_t files = 0;
    std::size_t bytes = 0;
    double seconds = 0;
    for (const auto& path : test::jsonExamples()) {
        const std::string text = test::readFile(path);
        rapidjson::Document doc;
        hl7gw::core::Issue parseIssue;
        BOOST_TEST_REQUIRE(parseJson(text, doc, parseIssue), path.filename());
        IssueList issues;
        const auto started = std::chrono::steady_clock::now();
        validateResource(doc, issues);
        seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        BOOST_TEST(issues.empty(), path.filename().string() << ": " << describe(issues));
        ++files;
        bytes += text.size();
    }
    BOOST_TEST(files == 178u);
    BOOST_TEST_MESSAGE("validated " << files << " examples, " << bytes << " bytes, "
                                    << bytes / seconds / 1e6 << " MB/s");
}

BOOST_AUTO_TEST_CASE(minimal_appointment_is_valid)
{
    const IssueList issues = validate(MinimalAppointment);
    BOOST_TEST(issues.empty(), describe(issues));
}

BOOST_AUTO_TEST_CASE(each_rule_reports_its_code_and_path)
{
    struct Case {
        const char* json;
        const char* code;
        const char* path;
    };
    const Case cases[] = {
        // resourceType
        {R"({"resourceType":"Nope"})", "structure", "resourceType"},
        {R"({"id":"1"})", "structure", ""},
        // unknown element
        {R"({"resourceType":"Patient","colour":"red"})", "structure", "Patient.colour"},
        {R"({"resourceType":"Patient","name":[{"famly":"x"}]})", "structure",
         "Patient.name[0].famly"},
        // JSON kinds
        {R"({"resourceType":"Patient","active":"true"})", "structure", "Patient.active"},
        {R"({"resourceType":"Patient","gender":1})", "structure", "Patient.gender"},
        {R"({"resourceType":"Patient","multipleBirthInteger":"2"})", "structure",
         "Patient.multipleBirthInteger"},
        {R"({"resourceType":"Patient","maritalStatus":"M"})", "structure", "Patient.maritalStatus"},
        // arrays exactly where max is *
        {R"({"resourceType":"Patient","name":{"family":"x"}})", "structure", "Patient.name"},
        {R"({"resourceType":"Patient","gender":["male"]})", "structure", "Patient.gender"},
        {R"({"resourceType":"Patient","name":[]})", "structure", "Patient.name"},
        {R"({"resourceType":"Patient","name":[{"given":"x"}]})", "structure",
         "Patient.name[0].given"},
        // min cardinality
        {R"({"resourceType":"Slot","schedule":{"reference":"Schedule/1"},"start":"2024-01-01T00:00:00Z","end":"2024-01-01T01:00:00Z"})",
         "required", "Slot.status"},
        {R"({"resourceType":"Schedule","active":true})", "required", "Schedule.actor"},
        // primitive formats
        {R"({"resourceType":"Patient","birthDate":"2024-02-30"})", "value", "Patient.birthDate"},
        {R"({"resourceType":"Patient","birthDate":"24-01-01"})", "value", "Patient.birthDate"},
        {R"({"resourceType":"Patient","deceasedDateTime":"2024-01-01T10:00"})", "value",
         "Patient.deceasedDateTime"},
        {R"({"resourceType":"Patient","id":"a b"})", "value", "Patient.id"},
        {R"({"resourceType":"Patient","multipleBirthInteger":2147483648})", "value",
         "Patient.multipleBirthInteger"},
        {R"({"resourceType":"Patient","multipleBirthInteger":1.5})", "value",
         "Patient.multipleBirthInteger"},
        {R"({"resourceType":"Patient","implicitRules":"a b"})", "value", "Patient.implicitRules"},
        {R"({"resourceType":"Patient","language":""})", "value", "Patient.language"},
        {R"({"resourceType":"Patient","photo":[{"data":"abc"}]})", "value",
         "Patient.photo[0].data"},
        {R"({"resourceType":"Patient","photo":[{"size":-1}]})", "value", "Patient.photo[0].size"},
        {R"({"resourceType":"Patient","meta":{"lastUpdated":"2024-01-01"}})", "value",
         "Patient.meta.lastUpdated"},
        {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueTime":"25:00:00"})",
         "value", "Observation.valueTime"},
        {R"({"resourceType":"Patient","name":[{"text":"a\u0001b"}]})", "value",
         "Patient.name[0].text"},
        // _element siblings
        {R"({"resourceType":"Patient","_birthDate":{"colour":1}})", "structure",
         "Patient.birthDate.colour"},
        {R"({"resourceType":"Patient","_name":{}})", "structure", "Patient._name"},
        {R"({"resourceType":"Patient","name":[{"given":["a",null]}]})", "structure",
         "Patient.name[0].given[1]"},
        {R"({"resourceType":"Patient","name":[{"given":["a",null],"_given":[null]}]})", "structure",
         "Patient.name[0].given"},
        {R"({"resourceType":"Patient","name":[{"given":[null],"_given":[{"id":"a b","extension":[{"url":"u"}]}]}]})",
         "invariant", "Patient.name[0].given[0].extension[0]"},
        // required bindings
        {R"({"resourceType":"Patient","gender":"man"})", "code-invalid", "Patient.gender"},
        {R"({"resourceType":"Slot","schedule":{"reference":"Schedule/1"},"status":"open","start":"2024-01-01T00:00:00Z","end":"2024-01-01T01:00:00Z"})",
         "code-invalid", "Slot.status"},
        // contained and Bundle.entry.resource are resources
        {R"({"resourceType":"Patient","contained":[{"resourceType":"Organization","name":"x","foo":1}]})",
         "structure", "Patient.contained[0].foo"},
        {R"({"resourceType":"Patient","contained":[{"name":"x"}]})", "structure",
         "Patient.contained[0]"},
        {R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","gender":"x"}}]})",
         "code-invalid", "Bundle.entry[0].resource.gender"},
        // extensions
        {R"({"resourceType":"Patient","extension":[{"valueString":"x"}]})", "required",
         "Patient.extension[0].url"},
        {R"({"resourceType":"Patient","extension":[{"url":"u","valueString":"x","valueCode":"y"}]})",
         "structure", "Patient.extension[0].valueCode"},
        {R"({"resourceType":"Patient","extension":[{"url":"u","valueString":"x","extension":[{"url":"v","valueCode":"y"}]}]})",
         "invariant", "Patient.extension[0]"},
        {R"({"resourceType":"Patient","extension":[{"url":"u","valueFoo":"x"}]})", "structure",
         "Patient.extension[0].valueFoo"},
        // narrative
        {R"({"resourceType":"Patient","text":{"status":"generated","div":"<p>x</p>"}})", "value",
         "Patient.text.div"},
        {R"({"resourceType":"Patient","text":{"status":"generated"}})", "required",
         "Patient.text.div"},
        // invariants
        {R"({"resourceType":"Appointment","status":"booked","start":"2024-05-01T09:00:00Z","participant":[{"type":[{"text":"x"}],"status":"accepted"}]})",
         "invariant", "Appointment"},
        {R"({"resourceType":"Appointment","status":"booked","participant":[{"type":[{"text":"x"}],"status":"accepted"}]})",
         "invariant", "Appointment"},
        {R"({"resourceType":"Appointment","status":"booked","cancelationReason":{"text":"x"},"start":"2024-05-01T09:00:00Z","end":"2024-05-01T09:15:00Z","participant":[{"type":[{"text":"x"}],"status":"accepted"}]})",
         "invariant", "Appointment.cancelationReason"},
        {R"({"resourceType":"Appointment","status":"proposed","participant":[{"status":"accepted"}]})",
         "invariant", "Appointment.participant[0]"},
        {R"({"resourceType":"Slot","schedule":{"reference":"Schedule/1"},"status":"free","start":"2024-01-01T02:00:00+01:00","end":"2024-01-01T00:59:59Z"})",
         "invariant", "Slot.end"},
        {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"x","dataAbsentReason":{"text":"y"}})",
         "invariant", "Observation.dataAbsentReason"},
        {R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1"}]},"valueString":"x","component":[{"code":{"coding":[{"system":"http://loinc.org","code":"1"}]},"valueString":"y"}]})",
         "invariant", "Observation.component[0]"},
        {R"({"resourceType":"Task","status":"draft","intent":"order","authoredOn":"2024-01-02","lastModified":"2024-01-01T23:00:00Z"})",
         "invariant", "Task.lastModified"},
        {R"({"resourceType":"Organization","active":true})", "invariant", "Organization"},
    };
    for (const Case& c : cases) {
        const IssueList issues = validate(c.json);
        BOOST_TEST(onlyIssue(issues, c.code, c.path), c.json << " -> " << describe(issues));
    }
}

BOOST_AUTO_TEST_CASE(allowed_edge_values_pass)
{
    const char* const valid[] = {
        R"({"resourceType":"Slot","schedule":{"reference":"Schedule/1"},"status":"free","start":"2024-01-01T01:00:00+01:00","end":"2024-01-01T00:00:00Z"})",
        R"({"resourceType":"Task","status":"draft","intent":"order","authoredOn":"2024-01-02","lastModified":"2024-01-02T00:00:00Z"})",
        R"({"resourceType":"Appointment","status":"cancelled","cancelationReason":{"text":"x"},"participant":[{"type":[{"text":"x"}],"status":"declined"}]})",
        R"({"resourceType":"Patient","birthDate":"2024-02-29","multipleBirthInteger":-2147483648,"name":[{"given":["a",null],"_given":[null,{"extension":[{"url":"u","valueCode":"x"}]}]}]})",
        R"({"resourceType":"Organization","name":"x"})",
    };
    for (const char* json : valid) {
        const IssueList issues = validate(json);
        BOOST_TEST(issues.empty(), json << " -> " << describe(issues));
    }
}

BOOST_AUTO_TEST_CASE(messages_do_not_repeat_values)
{
    const IssueList issues = validate(
        R"({"resourceType":"Patient","gender":"Zhang-San-Secret","birthDate":"Secret-1990"})");
    BOOST_TEST(issues.size() == 2u);
    for (const auto& issue : issues) {
        BOOST_TEST(issue.text.find("Secret") == std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(primitive_checks)
{
    BOOST_TEST(isValidPrimitive("decimal", "1.50"));
    BOOST_TEST(!isValidPrimitive("decimal", "1."));
    BOOST_TEST(isValidPrimitive("unsignedInt", "0"));
    BOOST_TEST(!isValidPrimitive("unsignedInt", "0abc"));
    BOOST_TEST(!isValidPrimitive("positiveInt", "0"));
    BOOST_TEST(isValidPrimitive("instant", "2015-02-07T13:28:17.239+02:00"));
    BOOST_TEST(!isValidPrimitive("instant", "2015-02-07"));
    BOOST_TEST(isValidPrimitive("oid", "urn:oid:1.2.3"));
    BOOST_TEST(isValidPrimitive("uuid", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520"));
    BOOST_TEST(!isValidPrimitive("uuid", "urn:uuid:C757873D-ec9a-4326-a141-556f43239520"));
    BOOST_TEST(isValidPrimitive("base64Binary", "aGVsbG8=\n"));
    BOOST_TEST(!isValidPrimitive("code", "a  b"));
    BOOST_TEST(isValidPrimitive("code", "a b"));
    BOOST_TEST(isValidPrimitive("boolean", "true"));
    BOOST_TEST(!isValidPrimitive("HumanName", "x"));
    // A long string never reaches the regex engine.
    BOOST_TEST(isValidPrimitive("string", std::string(1 << 20, 'x')));
    BOOST_TEST(isValidPrimitive("base64Binary", std::string(1 << 20, 'A')));
}

BOOST_AUTO_TEST_SUITE_END()
