#include "gateway/fhir/search/search_parameters.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw::fhir::search;

BOOST_AUTO_TEST_SUITE(search_parameter_registry)

BOOST_AUTO_TEST_CASE(standard_table_covers_the_resources_we_serve)
{
    const SearchParameterRegistry& registry = SearchParameterRegistry::standard();
    BOOST_TEST(registry.resourceTypes().size() == 22u);
    for (const std::string& type : registry.resourceTypes()) {
        for (const char* common : {"_id", "_lastUpdated", "_tag", "_profile", "_security"}) {
            BOOST_TEST_CONTEXT(type << " " << common)
            {
                BOOST_TEST(registry.find(type, common) != nullptr);
            }
        }
    }
    // STANDARDS.md §3.5, every parameter listed there.
    const std::vector<std::pair<std::string, std::vector<std::string>>> required = {
        {"Appointment",
         {"identifier", "status", "date", "patient", "actor", "practitioner", "location", "slot",
          "service-type", "specialty", "appointment-type", "based-on", "part-status",
          "reason-code"}},
        {"Slot",
         {"identifier", "schedule", "status", "start", "service-type", "specialty",
          "appointment-type", "service-category"}},
        {"Schedule", {"identifier", "actor", "active", "date", "service-type", "specialty"}},
        {"Encounter",
         {"identifier", "patient", "subject", "status", "class", "date", "type", "practitioner",
          "participant", "location", "appointment", "based-on", "service-provider"}},
        {"DiagnosticReport",
         {"identifier", "patient", "subject", "status", "category", "code", "date", "issued",
          "based-on", "encounter", "performer", "result", "specimen"}},
        {"ServiceRequest",
         {"identifier", "patient", "status", "intent", "category", "code", "authored", "requester",
          "performer"}},
        {"Task",
         {"identifier", "status", "business-status", "focus", "based-on", "owner", "requester",
          "patient", "modified", "authored-on"}},
        {"Patient", {"identifier", "name", "birthdate", "gender", "telecom"}},
        {"Bundle", {"identifier", "type"}},
    };
    for (const auto& [type, names] : required) {
        for (const std::string& name : names) {
            BOOST_TEST_CONTEXT(type << "." << name)
            {
                BOOST_TEST(registry.find(type, name) != nullptr);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(reads_target_filters_choice_types_and_where)
{
    const SearchParameterRegistry& registry = SearchParameterRegistry::standard();
    const SearchParameter* patient = registry.find("Appointment", "patient");
    BOOST_REQUIRE(patient != nullptr);
    BOOST_TEST(patient->type == ParamType::Reference);
    BOOST_REQUIRE(patient->paths.size() == 1u);
    BOOST_TEST(patient->paths[0].targetFilter == "Patient");
    BOOST_TEST(patient->paths[0].steps.size() == 2u);
    BOOST_TEST(patient->paths[0].steps[1].name == "actor");

    const SearchParameter* valueString = registry.find("Observation", "value-string");
    BOOST_REQUIRE(valueString != nullptr);
    BOOST_REQUIRE(valueString->paths.size() == 2u);
    BOOST_TEST(valueString->paths[0].steps[0].choiceType == "string");
    BOOST_TEST(valueString->paths[1].steps.size() == 2u);
    BOOST_TEST(valueString->paths[1].steps[0].choiceType == "CodeableConcept");
    BOOST_TEST(valueString->paths[1].steps[1].name == "text");

    const SearchParameter* phone = registry.find("Patient", "phone");
    BOOST_REQUIRE(phone != nullptr);
    BOOST_TEST(phone->paths[0].steps[0].whereElement == "system");
    BOOST_TEST(phone->paths[0].steps[0].whereValue == "phone");

    BOOST_TEST(registry.find("Task", "focus")->targetsAny());
    BOOST_TEST(registry.find("Appointment", "slot")->allowsTarget("Slot"));
    BOOST_TEST(!registry.find("Appointment", "slot")->allowsTarget("Patient"));
    BOOST_TEST(registry.find("Patient", "nonsense") == nullptr);
}

BOOST_AUTO_TEST_CASE(reports_bad_table_lines_with_their_line)
{
    hl7gw::core::IssueList issues;
    const auto registry = SearchParameterRegistry::fromText(
        "# comment\nPatient name string Patient.name\nPatient x colour Patient.x\n"
        "Patient y reference Patient.y\nPatient z token Patient.z.exists()\n",
        issues);
    BOOST_REQUIRE(issues.size() == 3u);
    BOOST_TEST(issues[0].location.line == 3u);
    BOOST_TEST(issues[1].location.line == 4u);
    BOOST_TEST(issues[2].location.line == 5u);
    BOOST_TEST(registry->find("Patient", "name") != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
