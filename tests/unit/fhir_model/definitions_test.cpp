#include "gateway/fhir/model/definitions.h"

#include "gateway/fhir/model/detail/definitions_generator.h"
#include "tests/unit/fhir_model/test_corpus.h"

#include <boost/test/unit_test.hpp>

using hl7gw::fhir::Definitions;
using hl7gw::fhir::JsonKind;
using hl7gw::fhir::TypeKind;
namespace test = hl7gw::fhir::test;

BOOST_AUTO_TEST_SUITE(definitions)

BOOST_AUTO_TEST_CASE(regenerating_from_the_corpus_gives_the_committed_table)
{
    const std::string schema = test::readFile(test::fhirCorpus() / "schema/fhir.schema.json");
    const std::string xsd = test::readFile(test::fhirCorpus() / "schema/xsd/fhir-single.xsd");
    std::string table;
    std::string error;
    BOOST_TEST_REQUIRE(hl7gw::fhir::detail::generateDefinitionsTable(schema, xsd, table, error),
                       error);
    const std::string committed =
        test::readFile(std::filesystem::path(HL7GW_TEST_DATA_DIR) / "../.." /
                       "gateway/fhir/model/data/r4_definitions.txt");
    BOOST_TEST((table == committed));
}

BOOST_AUTO_TEST_CASE(knows_resources_datatypes_primitives_and_backbones)
{
    const Definitions& r4 = Definitions::r4();
    BOOST_TEST(r4.resourceTypes().size() == 146u);
    BOOST_TEST(r4.isResourceType("Appointment"));
    BOOST_TEST(r4.isResourceType("Bundle"));
    BOOST_TEST(!r4.isResourceType("DomainResource"));
    BOOST_TEST(!r4.isResourceType("HumanName"));
    BOOST_TEST(!r4.isResourceType("Appointment.participant"));
    BOOST_TEST((r4.type("Bundle")->kind() == TypeKind::Resource));
    BOOST_TEST(r4.type("Patient")->isDomainResource());
    BOOST_TEST(r4.type("dateTime")->isPrimitive());
    BOOST_TEST(!r4.type("dateTime")->pattern().empty());
    BOOST_TEST((r4.type("decimal")->jsonKind() == JsonKind::Number));
    BOOST_TEST((r4.type("boolean")->jsonKind() == JsonKind::Boolean));
    BOOST_TEST(r4.type("Bundle.entry.request") != nullptr);
    BOOST_TEST(r4.type("nonsense") == nullptr);

    const auto* participant = r4.type("Appointment")->element("participant");
    BOOST_TEST_REQUIRE(participant != nullptr);
    BOOST_TEST(participant->min == 1u);
    BOOST_TEST(participant->many);
    BOOST_TEST(participant->types.front()->name() == "Appointment.participant");
    const auto* status = r4.type("Appointment.participant")->element("status");
    BOOST_TEST(status->allowsCode("accepted"));
    BOOST_TEST(!status->allowsCode("maybe"));
    // Element order is the XSD's.
    const auto& elements = r4.type("Appointment")->elements();
    BOOST_TEST(elements.front().name == "id");
    BOOST_TEST(elements.back().name == "requestedPeriod");
    // Questionnaire.item.item reuses Questionnaire.item.
    BOOST_TEST(r4.type("Questionnaire.item")->element("item")->types.front()->name() ==
               "Questionnaire.item");
}

BOOST_AUTO_TEST_CASE(find_resolves_choice_names)
{
    const auto* observation = Definitions::r4().type("Observation");
    const auto match = observation->find("effectiveDateTime");
    BOOST_TEST_REQUIRE(static_cast<bool>(match));
    BOOST_TEST(match.element->name == "effective[x]");
    BOOST_TEST(match.type->name() == "dateTime");
    BOOST_TEST(observation->find("valueQuantity").type->name() == "Quantity");
    BOOST_TEST(observation->find("valueCodeableConcept").type->name() == "CodeableConcept");
    BOOST_TEST(!observation->find("effective"));
    BOOST_TEST(!observation->find("effectiveString"));
    BOOST_TEST(observation->find("status").element->name == "status");
    const auto* extension = Definitions::r4().type("Extension");
    BOOST_TEST(extension->element("url")->xmlAttribute);
    BOOST_TEST(extension->find("valueBase64Binary").type->name() == "base64Binary");
}

BOOST_AUTO_TEST_CASE(malformed_tables_are_reported_with_their_line)
{
    std::string error;
    BOOST_TEST(!Definitions::parse("datatype A\n  x Nope 0..1\n", error));
    BOOST_TEST(error.find("Nope") != std::string::npos);
    BOOST_TEST(!Definitions::parse("datatype A\n  x A 0..5\n", error));
    BOOST_TEST(error == "line 2: bad cardinality");
}

BOOST_AUTO_TEST_SUITE_END()
