#include "gateway/hl7v2/structure_table.h"

#include <boost/test/unit_test.hpp>

#include <set>

using namespace hl7gw::hl7v2;
using hl7gw::core::IssueList;

namespace {

const StructureTable& table()
{
    return StructureTable::builtin();
}

void collectSegments(const std::vector<StructureNode>& nodes, std::set<std::string>& out)
{
    for (const StructureNode& node : nodes) {
        if (node.kind == StructureNode::Kind::Segment) {
            out.insert(node.name);
        } else {
            collectSegments(node.children, out);
        }
    }
}

const StructureNode* child(const std::vector<StructureNode>& nodes, const std::string& name)
{
    for (const StructureNode& node : nodes) {
        if (node.name == name) {
            return &node;
        }
    }
    return nullptr;
}

} // namespace

BOOST_AUTO_TEST_SUITE(StructureTableTest)

BOOST_AUTO_TEST_CASE(knows_every_structure_of_the_catalogue)
{
    for (const char* name :
         {"ADT_A01", "ADT_A02", "ADT_A03", "ADT_A05", "ADT_A06", "ADT_A09", "ADT_A12", "ADT_A39",
          "SIU_S12", "SRM_S01", "SRR_S01", "ORM_O01", "ORR_O02", "OML_O21", "ORL_O22", "OMG_O19",
          "ORG_O20", "ORU_R01", "REF_I12", "RRI_I12", "DFT_P03", "DFT_P11", "MDM_T01", "MDM_T02",
          "ACK", "QBP_Q21", "RSP_K21", "RSP_K23"}) {
        BOOST_TEST_CONTEXT(name)
        {
            const MessageStructure* s = table().structure(name);
            BOOST_REQUIRE(s != nullptr);
            BOOST_TEST(s->name == name);
            BOOST_REQUIRE(!s->children.empty());
            BOOST_TEST(s->children.front().name == "MSH");
            BOOST_TEST(s->children.front().required);
        }
    }
    BOOST_TEST(table().structure("XYZ_Z99") == nullptr);
}

BOOST_AUTO_TEST_CASE(derives_the_structure_from_the_event_when_msh_9_3_is_empty)
{
    BOOST_TEST(table().structureFor("ADT", "A04", "") == "ADT_A01");
    BOOST_TEST(table().structureFor("ADT", "A08", "") == "ADT_A01");
    BOOST_TEST(table().structureFor("ADT", "A31", "") == "ADT_A05");
    BOOST_TEST(table().structureFor("ADT", "A07", "") == "ADT_A06");
    BOOST_TEST(table().structureFor("ADT", "A40", "") == "ADT_A39");
    BOOST_TEST(table().structureFor("SIU", "S15", "") == "SIU_S12");
    BOOST_TEST(table().structureFor("SIU", "S26", "") == "SIU_S12");
    BOOST_TEST(table().structureFor("SRM", "S03", "") == "SRM_S01");
    BOOST_TEST(table().structureFor("REF", "I14", "") == "REF_I12");
    BOOST_TEST(table().structureFor("QBP", "Q22", "") == "QBP_Q21");
    BOOST_TEST(table().structureFor("RSP", "K22", "") == "RSP_K21");
    BOOST_TEST(table().structureFor("RSP", "K23", "") == "RSP_K23");
    for (const char* t : {"T01", "T03", "T05", "T07", "T09", "T11"}) {
        BOOST_TEST(table().structureFor("MDM", t, "") == "MDM_T01", t);
    }
    for (const char* t : {"T02", "T04", "T06", "T08", "T10"}) {
        BOOST_TEST(table().structureFor("MDM", t, "") == "MDM_T02", t);
    }
    BOOST_TEST(table().structureFor("ACK", "A01", "") == "ACK");
    BOOST_TEST(table().structureFor("ACK", "", "") == "ACK");
    BOOST_TEST(table().structureFor("ADT", "A04", "ADT_A04") == "ADT_A04");
    BOOST_TEST(table().structureFor("ABC", "XYZ", "").empty());
}

BOOST_AUTO_TEST_CASE(names_groups_as_the_xml_schemas_do)
{
    const MessageStructure* oru = table().structure("ORU_R01");
    BOOST_REQUIRE(oru != nullptr);
    const StructureNode* result = child(oru->children, "PATIENT_RESULT");
    BOOST_REQUIRE(result != nullptr);
    BOOST_TEST((result->kind == StructureNode::Kind::Group));
    BOOST_TEST(result->required);
    BOOST_TEST(result->repeating);
    const StructureNode* patient = child(result->children, "PATIENT");
    BOOST_REQUIRE(patient != nullptr);
    BOOST_TEST(!patient->required);
    BOOST_TEST(!patient->repeating);
    const StructureNode* order = child(result->children, "ORDER_OBSERVATION");
    BOOST_REQUIRE(order != nullptr);
    const StructureNode* obr = child(order->children, "OBR");
    BOOST_REQUIRE(obr != nullptr);
    BOOST_TEST((obr->kind == StructureNode::Kind::Segment));
    BOOST_TEST(obr->required);
    const StructureNode* observation = child(order->children, "OBSERVATION");
    BOOST_REQUIRE(observation != nullptr);
    BOOST_TEST(!observation->required);
    BOOST_TEST(observation->repeating);
    BOOST_TEST(observation->children.front().name == "OBX");
    const StructureNode* sft = child(oru->children, "SFT");
    BOOST_REQUIRE(sft != nullptr);
    BOOST_TEST(!sft->required);
    BOOST_TEST(sft->repeating);
}

BOOST_AUTO_TEST_CASE(reads_a_choice_as_optional_alternatives)
{
    const MessageStructure* orm = table().structure("ORM_O01");
    BOOST_REQUIRE(orm != nullptr);
    const StructureNode* order = child(orm->children, "ORDER");
    BOOST_REQUIRE(order != nullptr);
    const StructureNode* detail = child(order->children, "ORDER_DETAIL");
    BOOST_REQUIRE(detail != nullptr);
    std::vector<std::string> first;
    for (std::size_t i = 0; i < 6; ++i) {
        first.push_back(detail->children[i].name);
        BOOST_TEST(!detail->children[i].required);
    }
    BOOST_TEST(first == (std::vector<std::string>{"OBR", "RQD", "RQ1", "RXO", "ODS", "ODT"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(defines_every_segment_the_structures_use)
{
    std::set<std::string> used;
    for (const std::string& name : table().structureNames()) {
        collectSegments(table().structure(name)->children, used);
    }
    BOOST_TEST(used.size() >= 55u);
    for (const std::string& id : used) {
        BOOST_TEST(table().segment(id) != nullptr, "segment " << id << " has no definition");
    }
}

BOOST_AUTO_TEST_CASE(defines_every_data_type_the_segments_and_composites_use)
{
    for (const std::string& id : table().segmentIds()) {
        const SegmentDefinition* seg = table().segment(id);
        BOOST_TEST(!seg->fields.empty(), id);
        for (std::size_t f = 0; f < seg->fields.size(); ++f) {
            BOOST_TEST(table().dataType(seg->fields[f].dataType) != nullptr,
                       id << "-" << f + 1 << " type " << seg->fields[f].dataType);
        }
    }
    for (const std::string& name : table().dataTypeNames()) {
        for (const std::string& component : table().dataType(name)->components) {
            BOOST_TEST(table().dataType(component) != nullptr, name << " uses " << component);
        }
    }
}

BOOST_AUTO_TEST_CASE(describes_fields_with_type_optionality_repetition_and_table)
{
    const SegmentDefinition* pid = table().segment("PID");
    BOOST_REQUIRE(pid != nullptr);
    BOOST_TEST(pid->name == "Patient Identification");
    BOOST_REQUIRE(pid->fields.size() == 39u);
    const FieldDefinition& pid3 = pid->fields[2];
    BOOST_TEST(pid3.name == "Patient Identifier List");
    BOOST_TEST(pid3.dataType == "CX");
    BOOST_TEST(pid3.required);
    BOOST_TEST(pid3.repeating);
    BOOST_TEST(pid3.maxRepetitions == 0u);
    BOOST_TEST(pid3.table.empty());
    const FieldDefinition& pid8 = pid->fields[7];
    BOOST_TEST(pid8.dataType == "IS");
    BOOST_TEST(!pid8.required);
    BOOST_TEST(!pid8.repeating);
    BOOST_TEST(pid8.maxRepetitions == 1u);
    BOOST_TEST(pid8.table == "0001");

    const SegmentDefinition* msh = table().segment("MSH");
    BOOST_REQUIRE(msh != nullptr);
    BOOST_TEST(msh->fields[6].required);
    BOOST_TEST(msh->fields[6].requiredSince == "2.5");
    BOOST_TEST(msh->fields[8].dataType == "MSG");
    BOOST_TEST(msh->fields[9].requiredSince.empty());

    const SegmentDefinition* obx = table().segment("OBX");
    BOOST_REQUIRE(obx != nullptr);
    BOOST_TEST(obx->fields[4].dataType == "varies");
    BOOST_TEST(obx->fields[10].table == "0085");
    BOOST_TEST(table().segment("OBR")->fields[16].maxRepetitions == 2u);
}

BOOST_AUTO_TEST_CASE(lists_component_types_of_composites)
{
    const DataTypeDefinition* cx = table().dataType("CX");
    BOOST_REQUIRE(cx != nullptr);
    BOOST_TEST(cx->components.size() == 10u);
    BOOST_TEST(cx->components[0] == "ST");
    BOOST_TEST(cx->components[3] == "HD");
    BOOST_TEST(table().dataType("HD")->components ==
                   (std::vector<std::string>{"IS", "ST", "ID"}),
               boost::test_tools::per_element());
    BOOST_TEST(table().dataType("TS")->components ==
                   (std::vector<std::string>{"DTM", "ID"}),
               boost::test_tools::per_element());
    BOOST_TEST(table().dataType("XTN")->components[6] == "NM");
    BOOST_REQUIRE(table().dataType("ST") != nullptr);
    BOOST_TEST(table().dataType("ST")->components.empty());
    BOOST_TEST(table().dataType("XYZ") == nullptr);
}

BOOST_AUTO_TEST_CASE(carries_code_tables_with_ranges_and_quoted_values)
{
    const CodeTable* sex = table().codeTable("0001");
    BOOST_REQUIRE(sex != nullptr);
    BOOST_TEST(!sex->hl7Defined);
    BOOST_TEST(sex->contains("F"));
    BOOST_TEST(!sex->contains("Q"));
    const CodeTable* events = table().codeTable("0003");
    BOOST_REQUIRE(events != nullptr);
    BOOST_TEST(events->hl7Defined);
    BOOST_TEST(events->contains("A40"));
    BOOST_TEST(events->contains("A62"));
    BOOST_TEST(!events->contains("A63"));
    BOOST_TEST(events->contains("PCF"));
    const CodeTable* charsets = table().codeTable("0211");
    BOOST_REQUIRE(charsets != nullptr);
    BOOST_TEST(charsets->contains("UNICODE UTF-8"));
    BOOST_TEST(charsets->contains("GB 18030-2000"));
    for (const char* number : {"0008", "0076", "0085", "0103", "0104", "0123", "0125", "0155"}) {
        BOOST_TEST(table().codeTable(number) != nullptr, number);
    }
    BOOST_TEST(table().codeTable("9999") == nullptr);
}

BOOST_AUTO_TEST_CASE(reports_unreadable_data_lines_with_file_and_line)
{
    StructureTableSources sources;
    sources.structures = "GOOD = MSH PID\nBAD = MSH [PID PV1]\n";
    sources.segments = "PID Patient\n  1 SI O 1 - Set ID\n  3 CX R * - skipped a field\n"
                       "  2 CX Q 1 - bad optionality\n";
    sources.dataTypes = "HD = IS ST ID\nnonsense\n";
    sources.events = "GOOD ADT A01\nBAD\n";
    sources.tables = "table 0001 user Sex\n  F M\n  A01..B02\n";
    IssueList problems;
    const StructureTable t(sources, &problems);
    std::vector<std::string> where;
    for (const auto& issue : problems) {
        where.push_back(issue.location.toString());
    }
    BOOST_TEST(where == (std::vector<std::string>{"structures.txt:2", "segments.txt:3",
                                                   "segments.txt:4", "datatypes.txt:2",
                                                   "events.txt:2", "tables.txt:3"}),
               boost::test_tools::per_element());
    BOOST_TEST(t.structure("GOOD") != nullptr);
    BOOST_TEST(t.structure("BAD") == nullptr);
    BOOST_TEST(t.structureFor("ADT", "A01", "") == "GOOD");
    BOOST_TEST(t.segment("PID")->fields.size() == 1u);
    BOOST_TEST(t.codeTable("0001")->values == (std::vector<std::string>{"F", "M"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
