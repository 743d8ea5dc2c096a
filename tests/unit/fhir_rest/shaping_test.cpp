#include "gateway/fhir/rest/shaping.h"

#include "gateway/fhir/model/json_io.h"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using hl7gw::core::Issue;
using hl7gw::fhir::parseJson;
using namespace hl7gw::fhir::rest;

namespace {

const char* const PatientJson = R"({
  "resourceType": "Patient",
  "id": "p1",
  "meta": {"versionId": "2", "tag": [{"system": "urn:x", "code": "keep"}]},
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">张三</div>"},
  "identifier": [{"system": "urn:oid:2.16.156.10011.1.3", "value": "110101"}],
  "active": true,
  "name": [{"text": "张三"}],
  "telecom": [{"system": "phone", "value": "13800000000"}],
  "gender": "male",
  "birthDate": "1980-01-01",
  "_birthDate": {"extension": [{"url": "urn:time", "valueDateTime": "1980-01-01T08:00:00+08:00"}]},
  "deceasedBoolean": false,
  "address": [{"city": "北京"}],
  "maritalStatus": {"text": "married"},
  "contact": [{"name": {"text": "李四"}}],
  "communication": [{"language": {"text": "zh"}}],
  "generalPractitioner": [{"reference": "Practitioner/d1"}],
  "managingOrganization": {"reference": "Organization/o1"},
  "link": [{"other": {"reference": "Patient/p0"}, "type": "replaces"}]
})";

const char* const AppointmentJson = R"({
  "resourceType": "Appointment",
  "id": "a1",
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
  "identifier": [{"value": "PLAC-1"}],
  "status": "booked",
  "serviceType": [{"text": "内科"}],
  "specialty": [{"text": "cardiology"}],
  "description": "follow-up",
  "start": "2024-05-06T08:00:00+08:00",
  "end": "2024-05-06T08:15:00+08:00",
  "minutesDuration": 15,
  "slot": [{"reference": "Slot/s1"}],
  "comment": "bring old films",
  "patientInstruction": "fasting",
  "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}]
})";

rapidjson::Document parse(const char* text)
{
    rapidjson::Document document;
    Issue issue;
    BOOST_REQUIRE_MESSAGE(parseJson(text, document, issue), issue.text);
    return document;
}

std::vector<std::string> keys(const rapidjson::Value& resource)
{
    std::vector<std::string> names;
    for (const auto& member : resource.GetObject()) {
        names.emplace_back(member.name.GetString(), member.name.GetStringLength());
    }
    return names;
}

bool subsetted(const rapidjson::Value& resource)
{
    if (!resource.HasMember("meta") || !resource["meta"].HasMember("tag")) {
        return false;
    }
    for (const auto& tag : resource["meta"]["tag"].GetArray()) {
        if (std::string(tag["code"].GetString()) == "SUBSETTED" &&
            std::string(tag["system"].GetString()) ==
                "http://terminology.hl7.org/CodeSystem/v3-ObservationValue") {
            return true;
        }
    }
    return false;
}

using Keys = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(shaping)

BOOST_AUTO_TEST_CASE(patient_summary_true)
{
    rapidjson::Document patient = parse(PatientJson);
    applySummary(patient, SummaryMode::True, patient.GetAllocator());
    BOOST_TEST(keys(patient) ==
                   (Keys{"resourceType", "id", "meta", "identifier", "active", "name", "telecom",
                         "gender", "birthDate", "_birthDate", "deceasedBoolean", "address",
                         "managingOrganization", "link"}),
               boost::test_tools::per_element());
    BOOST_TEST(subsetted(patient));
    BOOST_TEST(patient["meta"]["tag"].Size() == 2u); // the existing tag stays
}

BOOST_AUTO_TEST_CASE(patient_summary_text_data_false)
{
    rapidjson::Document text = parse(PatientJson);
    applySummary(text, SummaryMode::Text, text.GetAllocator());
    BOOST_TEST(keys(text) == (Keys{"resourceType", "id", "meta", "text"}),
               boost::test_tools::per_element());
    BOOST_TEST(subsetted(text));

    rapidjson::Document data = parse(PatientJson);
    const std::size_t before = data.MemberCount();
    applySummary(data, SummaryMode::Data, data.GetAllocator());
    BOOST_TEST(!data.HasMember("text"));
    BOOST_TEST(data.MemberCount() == before - 1);
    BOOST_TEST(subsetted(data));

    rapidjson::Document all = parse(PatientJson);
    applySummary(all, SummaryMode::False, all.GetAllocator());
    BOOST_TEST(all.MemberCount() == before);
    BOOST_TEST(!subsetted(all));
}

BOOST_AUTO_TEST_CASE(appointment_summary_true_and_text)
{
    rapidjson::Document summary = parse(AppointmentJson);
    applySummary(summary, SummaryMode::True, summary.GetAllocator());
    BOOST_TEST(keys(summary) == (Keys{"resourceType", "id", "identifier", "status", "serviceType",
                                      "specialty", "start", "end", "meta"}),
               boost::test_tools::per_element());
    BOOST_TEST(subsetted(summary));

    rapidjson::Document text = parse(AppointmentJson);
    applySummary(text, SummaryMode::Text, text.GetAllocator());
    BOOST_TEST(keys(text) == (Keys{"resourceType", "id", "text", "status", "participant", "meta"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(elements_keep_the_listed_and_mandatory_ones)
{
    rapidjson::Document appointment = parse(AppointmentJson);
    applyElements(appointment, parseElementsParam("start, Appointment.comment", "Appointment"),
                  appointment.GetAllocator());
    BOOST_TEST(keys(appointment) == (Keys{"resourceType", "id", "status", "start", "comment",
                                          "participant", "meta"}),
               boost::test_tools::per_element());
    BOOST_TEST(subsetted(appointment));

    rapidjson::Document patient = parse(PatientJson);
    applyElements(patient, parseElementsParam("deceased,birthDate,name.family", "Patient"),
                  patient.GetAllocator());
    BOOST_TEST(keys(patient) == (Keys{"resourceType", "id", "meta", "name", "birthDate",
                                      "_birthDate", "deceasedBoolean"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(parses_elements_values)
{
    BOOST_TEST(parseElementsParam(" identifier ,,Patient.deceased,value", "Patient") ==
                   (Keys{"identifier", "deceased[x]", "value"}),
               boost::test_tools::per_element());
    BOOST_TEST(parseElementsParam("value", "Observation") == (Keys{"value[x]"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(marks_subsetted_once)
{
    rapidjson::Document resource = parse(R"({"resourceType":"Basic"})");
    markSubsetted(resource, resource.GetAllocator());
    markSubsetted(resource, resource.GetAllocator());
    BOOST_TEST(resource["meta"]["tag"].Size() == 1u);
    BOOST_TEST(subsetted(resource));
}

BOOST_AUTO_TEST_CASE(table_and_fallback)
{
    BOOST_TEST(hasSummaryTable("Slot"));
    BOOST_TEST(mandatoryElements("Slot") == (Keys{"schedule", "status", "start", "end"}),
               boost::test_tools::per_element());
    BOOST_TEST(hasSummaryTable("Subscription"));
    BOOST_TEST(!hasSummaryTable("Basic"));
    BOOST_TEST(summaryElements("Basic") == (Keys{"identifier", "status"}),
               boost::test_tools::per_element());

    rapidjson::Document unknown = parse(
        R"({"resourceType":"Basic","id":"b","identifier":[{"value":"1"}],"code":{"text":"x"}})");
    applySummary(unknown, SummaryMode::True, unknown.GetAllocator());
    BOOST_TEST(keys(unknown) == (Keys{"resourceType", "id", "identifier", "meta"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(every_table_type_has_summary_elements)
{
    for (const char* type : {"Patient",           "Practitioner",
                             "PractitionerRole",  "Organization",
                             "Location",          "HealthcareService",
                             "Schedule",          "Slot",
                             "Appointment",       "Encounter",
                             "ServiceRequest",    "Task",
                             "DiagnosticReport",  "Observation",
                             "ImagingStudy",      "ChargeItem",
                             "DocumentReference", "Bundle",
                             "OperationOutcome",  "CapabilityStatement",
                             "AuditEvent",        "ConceptMap",
                             "Subscription"}) {
        BOOST_TEST(hasSummaryTable(type), type);
        BOOST_TEST(!summaryElements(type).empty(), type);
    }
}

BOOST_AUTO_TEST_CASE(key_matching)
{
    const Keys elements{"deceased[x]", "birthDate"};
    BOOST_TEST(keyInElements("deceasedDateTime", elements));
    BOOST_TEST(keyInElements("_birthDate", elements));
    BOOST_TEST(!keyInElements("deceased", elements));
    BOOST_TEST(!keyInElements("deceasedother", elements));
    BOOST_TEST(!keyInElements("birthDateX", elements));
}

BOOST_AUTO_TEST_SUITE_END()
