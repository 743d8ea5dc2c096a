#include "gateway/hl7v2/structure_validator.h"

#include "gateway/hl7v2/conformance_profile.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/message_splitter.h"
#include "tests/unit/test_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace hl7gw::hl7v2;
using hl7gw::core::IssueList;
using hl7gw::core::Severity;
namespace fs = std::filesystem;
namespace bdata = boost::unit_test::data;

namespace {

// `CODE LOCATION severity` per issue: what the rule tests assert exactly.
std::vector<std::string> brief(const IssueList& issues)
{
    std::vector<std::string> out;
    for (const auto& issue : issues) {
        out.push_back(issue.code + " " + issue.location.toString() + " " +
                      std::string(hl7gw::core::toString(issue.severity)));
    }
    return out;
}

// The whole line the .expected files hold: `LOCATION: severity: text`.
std::vector<std::string> lines(const IssueList& issues)
{
    std::vector<std::string> out;
    for (const auto& issue : issues) {
        out.push_back(issue.location.toString() + ": " +
                      std::string(hl7gw::core::toString(issue.severity)) + ": " + issue.text);
    }
    return out;
}

std::string er7(std::initializer_list<std::string_view> segments)
{
    std::string out;
    for (std::string_view s : segments) {
        out += s;
        out += '\r';
    }
    return out;
}

// Parse + validate; parse issues first, as the CLI prints them.
IssueList check(const std::string& bytes, const ConformanceProfile* profile = nullptr)
{
    IssueList issues;
    Message message;
    if (Er7Parser().parse(bytes, message, issues)) {
        StructureValidator().validate(message, issues, profile);
    }
    return issues;
}

std::vector<std::string> briefOf(const std::string& bytes,
                                 const ConformanceProfile* profile = nullptr)
{
    return brief(check(bytes, profile));
}

const std::vector<std::string> None;

const char* const Msh251 = "MSH|^~\\&|HIS|HOSP|GW|HOSP|20240506143015+0800||ADT^A01^ADT_A01|"
                           "MSG0001|P|2.5.1";

std::string adt(std::initializer_list<std::string_view> afterMsh)
{
    std::string out = std::string(Msh251) + '\r';
    for (std::string_view s : afterMsh) {
        out += s;
        out += '\r';
    }
    return out;
}

const std::string ValidAdt =
    adt({"EVN||20240506143015", "PID|1||12345^^^HOSP^MR||DOE^JANE||19800101|F", "PV1|1|I"});

std::string oru(std::initializer_list<std::string_view> afterMsh)
{
    std::string out =
        "MSH|^~\\&|LIS|LAB|HIS|HOSP|20240506143015||ORU^R01^ORU_R01|MSG0002|P|2.5.1\r";
    for (std::string_view s : afterMsh) {
        out += s;
        out += '\r';
    }
    return out;
}

ConformanceProfile profileOf(const std::string& text)
{
    IssueList problems;
    std::optional<ConformanceProfile> profile =
        ConformanceProfile::parse(text, "test.profile", problems);
    BOOST_REQUIRE_MESSAGE(profile.has_value(), (problems.empty() ? "" : problems[0].text));
    return *profile;
}

ConformanceProfile phlipProfile()
{
    const fs::path path = hl7gw::test::dataDir() / "hl7v2/profiles/phlip-elr.profile";
    IssueList problems;
    std::optional<ConformanceProfile> profile =
        ConformanceProfile::parse(hl7gw::test::readFile(path), path.string(), problems);
    BOOST_REQUIRE(profile.has_value());
    return *profile;
}

} // namespace

BOOST_AUTO_TEST_SUITE(StructureValidatorTest)

BOOST_AUTO_TEST_CASE(accepts_a_valid_message_without_issues)
{
    BOOST_TEST(briefOf(ValidAdt) == None, boost::test_tools::per_element());
    IssueList issues;
    Message message;
    BOOST_REQUIRE(Er7Parser().parse(ValidAdt, message, issues));
    BOOST_TEST(StructureValidator().validate(message, issues));
}

// ---- MSH ----

BOOST_AUTO_TEST_CASE(does_not_repeat_msh_2_problems_the_parser_reported)
{
    const std::string bytes =
        "MSH|^~\\|HIS|HOSP|GW|HOSP|20240506143015||ADT^A01^ADT_A01|1|P|2.5.1\r"
        "EVN||20240506143015\rPID|1||1^^^H^MR||DOE\rPV1|1|I\r";
    const std::vector<std::string> got = briefOf(bytes);
    BOOST_TEST(got == (std::vector<std::string>{"100 MSH[1]-2 error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(requires_msh_7_from_version_2_5_only)
{
    const std::string v25 = er7({"MSH|^~\\&|A|B|C|D|||ADT^A01^ADT_A01|1|P|2.5", "EVN||20240506",
                                 "PID|1||1^^^H^MR||DOE", "PV1|1|I"});
    BOOST_TEST(briefOf(v25) == (std::vector<std::string>{"101 MSH[1]-7 error"}),
               boost::test_tools::per_element());
    const std::string v231 = er7({"MSH|^~\\&|A|B|C|D|||ADT^A01|1|P|2.3.1", "EVN|A01|20240506",
                                  "PID|1||1^^^H^MR||DOE", "PV1|1|I"});
    BOOST_TEST(briefOf(v231) == None, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(requires_msh_9_10_11_and_12)
{
    const std::string bytes = er7(
        {"MSH|^~\\&|A|B|C|D|20240506||||||", "EVN||20240506", "PID|1||1^^^H^MR||DOE", "PV1|1|I"});
    BOOST_TEST(briefOf(bytes) ==
                   (std::vector<std::string>{"101 MSH[1]-9 error", "101 MSH[1]-10 error",
                                             "101 MSH[1]-11 error", "101 MSH[1]-12 error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(reports_unknown_message_type_event_and_version)
{
    BOOST_TEST(briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||XYZ^A01|1|P|2.5.1"})) ==
                   (std::vector<std::string>{"200 MSH[1]-9.1 error", "200 MSH[1]-9 warning"}),
               boost::test_tools::per_element());
    const std::vector<std::string> badEvent =
        briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||ADT^B99|1|P|2.5.1"}));
    BOOST_REQUIRE(!badEvent.empty());
    BOOST_TEST(badEvent.front() == "201 MSH[1]-9.2 error");
    BOOST_TEST(briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||ADT|1|P|2.5.1"})).front() ==
               "101 MSH[1]-9.2 error");
    BOOST_TEST(briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||ACK^Z42|1|P|2.5.1", "MSA|AA|9"})) == None,
               boost::test_tools::per_element());
    BOOST_TEST(briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||ACK|1|P|3.0", "MSA|AA|9"})) ==
                   (std::vector<std::string>{"203 MSH[1]-12.1 error"}),
               boost::test_tools::per_element());
    BOOST_TEST(briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||ACK|1|X|2.5.1", "MSA|AA|9"})) ==
                   (std::vector<std::string>{"103 MSH[1]-11.1 error"}),
               boost::test_tools::per_element());
}

// ---- structure ----

BOOST_AUTO_TEST_CASE(reports_a_missing_required_segment)
{
    BOOST_TEST(briefOf(adt({"EVN||20240506", "PID|1||1^^^H^MR||DOE"})) ==
                   (std::vector<std::string>{"100 PV1 error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(derives_the_structure_of_a_2_3_1_message_from_its_event)
{
    const IssueList issues = check(
        er7({"MSH|^~\\&|A|B|C|D|20240506||ADT^A04|1|P|2.3.1", "PID|1||1^^^H^MR||DOE", "PV1|1|O"}));
    BOOST_TEST(lines(issues) ==
                   (std::vector<std::string>{"EVN: error: required segment EVN missing (ADT_A01)"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(reports_a_segment_out_of_order_at_its_occurrence)
{
    BOOST_TEST(briefOf(adt({"EVN||20240506", "PID|1||1^^^H^MR||DOE", "PV1|1|I", "GT1|1||DOE^JOHN",
                            "AL1|1||PEANUT"})) == (std::vector<std::string>{"100 AL1[1] error"}),
               boost::test_tools::per_element());
    BOOST_TEST(briefOf(adt({"EVN||20240506", "PID|1||1^^^H^MR||DOE", "PV1|1|I", "PV1|2|I"})) ==
                   (std::vector<std::string>{"100 PV1[2] error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(accepts_z_segments_anywhere_and_warns_on_unknown_segments)
{
    BOOST_TEST(briefOf(adt({"ZXA|1", "EVN||20240506", "PID|1||1^^^H^MR||DOE", "ZPI|x", "PV1|1|I",
                            "ZZZ|2"})) == None,
               boost::test_tools::per_element());
    BOOST_TEST(briefOf(adt({"EVN||20240506", "PID|1||1^^^H^MR||DOE", "ARV|1|A", "PV1|1|I"})) ==
                   (std::vector<std::string>{"100 ARV[1] warning"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(warns_when_the_structure_is_not_in_the_tables)
{
    const std::string ppr = er7({"MSH|^~\\&|A|B|C|D|20240506||PPR^PC1^PPR_PC1|1|P|2.5.1",
                                 "PID|1||1^^^H^MR||DOE", "PV1|1|I"});
    BOOST_TEST(briefOf(ppr) == (std::vector<std::string>{"200 MSH[1]-9 warning"}),
               boost::test_tools::per_element());
    const std::string declared = er7({"MSH|^~\\&|A|B|C|D|20240506||ADT^A04^ADT_A04|1|P|2.5.1",
                                      "EVN||20240506", "PID|1||1^^^H^MR||DOE", "PV1|1|O"});
    BOOST_TEST(briefOf(declared) == (std::vector<std::string>{"200 MSH[1]-9.3 warning"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(checks_vxu_v04_orders_with_their_rxa_and_rxr)
{
    const char* const msh = "MSH|^~\\&|EHR|CLINIC|IIS|STATE|20240506||VXU^V04^VXU_V04|1|P|2.5.1";
    BOOST_TEST(
        briefOf(er7(
            {msh, "PID|1||1^^^H^MR||DOE", "ORC|RE||F1",
             "RXA|0|1|20240506|20240506|08^HepB^CVX|0.5|mL^mL^UCUM||||||||L1||MSD^Merck^MVX|||CP",
             "RXR|C28161^IM^NCIT|LA^Left Arm^HL70163",
             "OBX|1|CE|64994-7^Eligibility^LN|1|V02^VFC^HL70064||||||F", "ORC|RE||F2",
             "RXA|0|1|20230101|20230101|998^No vaccine^CVX|999"})) == None,
        boost::test_tools::per_element());
    // RXA is required in each ORDER; RXR belongs after its RXA.
    BOOST_TEST(briefOf(er7({msh, "PID|1||1^^^H^MR||DOE", "ORC|RE||F1", "RXR|C28161^IM^NCIT"})) ==
                   (std::vector<std::string>({"100 RXA error"})),
               boost::test_tools::per_element());
    // RXA-20 is checked against table 0322 when the table is known; RXA-6 is an NM.
    BOOST_TEST(briefOf(er7({msh, "PID|1||1^^^H^MR||DOE", "ORC|RE||F1",
                            "RXA|0|1|20240506|20240506|08^HepB^CVX|half"})) ==
                   (std::vector<std::string>({"102 RXA[1]-6 error"})),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(checks_pharmacy_and_allergy_structures_from_the_event_table)
{
    // RDE^O25 has no structure of its own in v2.5.1: the event table gives RDE_O11.
    BOOST_TEST(briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||RDE^O25|1|P|2.5.1", "PID|1||1^^^H^MR||DOE",
                            "ORC|RF|P1", "RXE||AMP^Ampicillin^L|250||mg^mg^UCUM",
                            "RXR|PO^Oral^HL70162"})) == None,
               boost::test_tools::per_element());
    BOOST_TEST(briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||RDS^O13^RDS_O13|1|P|2.5.1",
                            "PID|1||1^^^H^MR||DOE", "ORC|RE|P1",
                            "RXD|1|AMP^Ampicillin^L|20240506|10"
                            "|cap^capsule^L||RX1"})) ==
                   (std::vector<std::string>({"100 RXR error"})),
               boost::test_tools::per_element());
    BOOST_TEST(briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||ADT^A60^ADT_A60|1|P|2.5.1",
                            "EVN||20240506", "PID|1||1^^^H^MR||DOE",
                            "IAM|1|FA^Food allergy^HL70127|P1^Peanut^L|||A^Add^HL70323",
                            "IAM|2|DA^Drug allergy^HL70127|PCN^Penicillin^L|||A^Add^HL70323"})) ==
                   None,
               boost::test_tools::per_element());
    BOOST_TEST(briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||ADT^A60^ADT_A60|1|P|2.5.1",
                            "EVN||20240506", "PID|1||1^^^H^MR||DOE", "IAM|1||P1^Peanut^L"})) ==
                   (std::vector<std::string>({"101 IAM[1]-6 error"})),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(checks_nested_groups_of_oru_r01)
{
    BOOST_TEST(briefOf(oru({"PID|1||1^^^H^MR||DOE", "OBR|1||F1|GLU^Glucose^L",
                            "OBX|1|NM|GLU^Glucose^L||5.4|mmol/L|||||F", "NTE|1||fasting",
                            "SPM|1|||BLD^Blood^L", "OBX|1|NM|TMP^Temp^L||4||||||F",
                            "OBR|2||F2|NA^Sodium^L", "OBX|1|NM|NA^Sodium^L||140||||||F"})) == None,
               boost::test_tools::per_element());
    BOOST_TEST(
        briefOf(oru({"PID|1||1^^^H^MR||DOE", "ORC|RE", "OBX|1|NM|GLU^Glucose^L||5.4||||||F"})) ==
            (std::vector<std::string>{"100 OBR error"}),
        boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(starts_a_new_order_rather_than_a_prior_result_when_that_fits)
{
    const std::string oml =
        er7({"MSH|^~\\&|HIS|H|LIS|L|20240506||OML^O21^OML_O21|1|P|2.5.1", "PID|1||1^^^H^MR||DOE",
             "ORC|NW|P1", "TQ1|1", "OBR|1|P1||GLU^Glu^L", "SPM|1|||BLD^Blood^L", "ORC|NW|P2",
             "TQ1|1", "OBR|2|P2||NA^Na^L", "SPM|2|||BLD^Blood^L"});
    BOOST_TEST(briefOf(oml) == None, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(downgrades_structure_findings_for_versions_after_2_5_1)
{
    const std::string v28 = er7(
        {"MSH|^~\\&|A|B|C|D|20240506||ADT^A01^ADT_A01|1|P|2.8", "PID|1||1^^^H^MR||DOE", "PV1|1|I"});
    BOOST_TEST(briefOf(v28) == (std::vector<std::string>{"100 EVN warning"}),
               boost::test_tools::per_element());
}

// ---- fields ----

BOOST_AUTO_TEST_CASE(reports_required_fields_by_position)
{
    BOOST_TEST(briefOf(adt({"EVN|A01", "PID|1||||DOE", "PV1|1|"})) ==
                   (std::vector<std::string>{"101 EVN[1]-2 error", "101 PID[1]-3 error",
                                             "101 PV1[1]-2 error"}),
               boost::test_tools::per_element());
    // A later repetition carrying the value is enough: ~^^^^^^U is how ELR sends no name.
    BOOST_TEST(briefOf(adt({"EVN||20240506", "PID|1||1^^^H^MR||~^^^^^^U", "PV1|1|I"})) == None,
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(checks_primitive_formats_in_every_component)
{
    BOOST_TEST(
        briefOf(adt({"EVN||2024-05-06", "PID|1||1^^^H^MR||DOE||19801301|F|||||^PRN^PH^^^555^12a4",
                     "PV1|x|I"})) ==
            (std::vector<std::string>{"102 EVN[1]-2.1 error", "102 PID[1]-7.1 error",
                                      "102 PID[1]-13[1].7 error", "102 PV1[1]-1 error"}),
        boost::test_tools::per_element());
    BOOST_TEST(briefOf(adt({"EVN||20240506143015.1234-0500", "PID|1||1^^^H^MR||DOE||1980|F",
                            "PV1|1|I|||||||||||||||||||||||||+12.50"})) == None,
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(checks_values_of_coded_fields_against_the_tables)
{
    BOOST_TEST(briefOf(adt({"EVN||20240506", "PID|1||1^^^H^MR||DOE|||Q||||||||||||||||||||||X",
                            "PV1|1|I"})) ==
                   (std::vector<std::string>{"103 PID[1]-8 warning", "103 PID[1]-30 error"}),
               boost::test_tools::per_element());
    BOOST_TEST(
        briefOf(er7({"MSH|^~\\&|A|B|C|D|20240506||ACK^A01^ACK|1|P|2.5.1|||XX", "MSA|ZZ|9"})) ==
            (std::vector<std::string>{"103 MSH[1]-15 error", "103 MSA[1]-1 error"}),
        boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(reports_too_many_repetitions)
{
    BOOST_TEST(briefOf(adt({"EVN||20240506", "PID|1||1^^^H^MR||DOE|||F~M", "PV1|1|I"})) ==
                   (std::vector<std::string>{"102 PID[1]-8 error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(surfaces_bytes_invalid_in_the_declared_charset_as_located_102)
{
    const std::string bytes = er7({"MSH|^~\\&|A|B|C|D|20240506||ADT^A01^ADT_A01|1|P|2.5.1||||||"
                                   "UNICODE UTF-8",
                                   "EVN||20240506", "PID|1||1^^^H^MR||DO\xFF\xFE^JANE", "PV1|1|I"});
    const IssueList issues = check(bytes);
    BOOST_TEST(brief(issues) == (std::vector<std::string>{"102 PID[1]-5[1].1.1 error"}),
               boost::test_tools::per_element());
    BOOST_REQUIRE(issues.size() == 1u);
    BOOST_TEST(issues[0].location.offset != hl7gw::core::Location::NoOffset);
}

BOOST_AUTO_TEST_CASE(never_puts_values_into_issue_texts)
{
    const std::string bytes = adt({"EVN||SECRET1", "PID|SECRET2||^^^H||SECRET3^X||SECRET4|SECRET5",
                                   "PV1|1|I", "OBX|1|NM|X^Y^L||SECRET6||||||SECRET7"});
    const IssueList issues = check(bytes);
    BOOST_TEST(issues.size() >= 6u);
    for (const auto& issue : issues) {
        BOOST_TEST(issue.text.find("SECRET") == std::string::npos, issue.text);
    }
}

// ---- OBX ----

BOOST_AUTO_TEST_CASE(requires_obx_2_when_obx_5_is_valued)
{
    BOOST_TEST(briefOf(oru({"OBR|1||F1|GLU^Glucose^L", "OBX|1||GLU^Glucose^L||5.4||||||F"})) ==
                   (std::vector<std::string>{"101 OBX[1]-2 error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(checks_obx_5_against_the_type_obx_2_names)
{
    BOOST_TEST(briefOf(oru({"OBR|1||F1|P^Panel^L", "OBX|1|NM|A^A^L||high||||||F",
                            "OBX|2|CWE|B^B^L||^Positive||||||F", "OBX|3|ST|C^C^L||a^b||||||F",
                            "OBX|4|SN|D^D^L||~^10||||||F", "OBX|5|SN|E^E^L||<0.1||||||F",
                            "OBX|6|DT|F^F^L||20241399||||||F", "OBX|7|XX|G^G^L||1||||||F",
                            "OBX|8|CWE|H^H^L||POS^Positive^L~NEG||||||F",
                            "OBX|9|SN|I^I^L||>=^10^-^20||||||F"})) ==
                   (std::vector<std::string>{"102 OBX[1]-5[1] error", "102 OBX[2]-5[1] error",
                                             "102 OBX[3]-5[1] error", "102 OBX[5]-5[1].1 error",
                                             "102 OBX[6]-5[1] error", "103 OBX[7]-2 error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(requires_obx_1_unique_within_its_obr_group)
{
    BOOST_TEST(
        briefOf(oru({"OBR|1||F1|P^Panel^L", "OBX|1|NM|A^A^L||1||||||F", "OBX|2|NM|B^B^L||1||||||F",
                     "OBX|1|NM|C^C^L||1||||||F", "OBR|2||F2|Q^Panel^L", "OBX|1|NM|A^A^L||1||||||F",
                     "SPM|1|||BLD^Blood^L", "OBX|1|NM|T^T^L||1||||||F"})) ==
            (std::vector<std::string>{"100 OBX[3]-1 error"}),
        boost::test_tools::per_element());
}

// ---- conformance profiles ----

BOOST_AUTO_TEST_CASE(profile_requires_fields_and_components_in_every_repetition)
{
    const ConformanceProfile profile = profileOf("profile P\nrequire MSH-21 PID-11.5\n");
    const std::string bytes =
        adt({"EVN||20240506", "PID|1||1^^^H^MR||DOE|||F|||^^City^^12345~^^Town", "PV1|1|I"});
    BOOST_TEST(lines(check(bytes, &profile)) ==
                   (std::vector<std::string>{
                       "MSH[1]-21: error: MSH-21: required field missing (profile P)",
                       "PID[1]-11[2].5: error: PID-11.5: required component missing (profile P)"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(profile_conditions_apply_per_repetition_or_per_segment)
{
    const ConformanceProfile profile =
        profileOf("profile P\nrequire PID-22.3 when PID-22.1\nrequire PID-7 when PID-8 = F,M\n");
    const std::string bytes = adt(
        {"EVN||20240506", "PID|1||1^^^H^MR||DOE|||F||||||||||||||N^No^HL70189~H^Hisp", "PV1|1|I"});
    BOOST_TEST(briefOf(bytes, &profile) ==
                   (std::vector<std::string>{"101 PID[1]-22[2].3 error", "101 PID[1]-7 error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(profile_forbids_values_and_checks_value_sets)
{
    const ConformanceProfile profile =
        profileOf("profile P\nforbid PID-5.1\nvalues R POS NEG\nin OBX-5.1 R when OBX-2 = CWE\n");
    const std::string bytes =
        oru({"PID|1||1^^^H^MR||~^^^^^^U~DOE", "OBR|1||F1|P^Panel^L",
             "OBX|1|CWE|A^A^L||POS^Pos^L||||||F", "OBX|2|CWE|B^B^L||MAYBE^Maybe^L||||||F",
             "OBX|3|NM|C^C^L||5||||||F"});
    BOOST_TEST(briefOf(bytes, &profile) ==
                   (std::vector<std::string>{"102 PID[1]-5[3].1 error", "103 OBX[2]-5[1].1 error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(profile_unique_and_distinguish_work_per_group)
{
    const ConformanceProfile unique = profileOf("profile P\nunique OBX-3.1 OBX-4\n");
    const ConformanceProfile distinguish = profileOf("profile P\ndistinguish OBX-3.1 by OBX-4\n");
    const std::string bytes =
        oru({"OBR|1||F1|P^Panel^L", "OBX|1|NM|A^A^L|1|1||||||F", "OBX|2|NM|A^A^L|1|2||||||F",
             "OBX|3|NM|B^B^L||3||||||F", "OBX|4|NM|B^B^L||4||||||F", "OBR|2||F2|Q^Panel^L",
             "OBX|1|NM|A^A^L|1|1||||||F"});
    BOOST_TEST(briefOf(bytes, &unique) ==
                   (std::vector<std::string>{"100 OBX[2]-3.1 error", "100 OBX[4]-3.1 error"}),
               boost::test_tools::per_element());
    BOOST_TEST(briefOf(bytes, &distinguish) ==
                   (std::vector<std::string>{"100 OBX[2]-4 error", "101 OBX[3]-4 error",
                                             "101 OBX[4]-4 error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(profile_problems_name_file_and_line)
{
    IssueList problems;
    const std::string text = "profile P\nrequire PID-3\nrequre PID-5\nin OBX-5 NOSET\n"
                             "require PID[2]-3\nunique OBX-3 PID-3\nrequire PID-5 when\n"
                             "require PID-5 when PV1-2\n";
    BOOST_TEST(!ConformanceProfile::parse(text, "x.profile", problems).has_value());
    std::vector<std::string> where;
    for (const auto& p : problems) {
        where.push_back(p.location.toString());
    }
    BOOST_TEST(where == (std::vector<std::string>{"x.profile:3", "x.profile:4", "x.profile:5",
                                                  "x.profile:6", "x.profile:7", "x.profile:8"}),
               boost::test_tools::per_element());
    problems.clear();
    BOOST_TEST(!ConformanceProfile::parse("require PID-3\n", "y.profile", problems).has_value());
    BOOST_TEST(problems.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the shared corpus ----

namespace {

std::vector<fs::path> phlipNegatives()
{
    return hl7gw::test::filesUnder(
        hl7gw::test::corpusDir() / "hl7v2/_malformed/cdc-phlip-flu-negative", {".hl7"});
}

std::vector<fs::path> allMalformed()
{
    return hl7gw::test::filesUnder(hl7gw::test::corpusDir() / "hl7v2/_malformed", {".hl7", ".txt"});
}

// Well-formed samples whose structure must match our tables (data-type slips inside them
// are the senders', see each file).
std::vector<fs::path> wellFormedSamples()
{
    std::vector<fs::path> out;
    for (const fs::path& p :
         hl7gw::test::filesUnder(hl7gw::test::corpusDir() / "hl7v2", {".hl7"})) {
        const std::string name = p.filename().string();
        const std::string dir = p.parent_path().filename().string();
        const bool ig = dir == "hl7-v2-to-fhir-ig" && name.rfind("test_conversions-", 0) == 0;
        const bool ipfAdt = dir == "ipf" && name.find("ADT") != std::string::npos;
        if (ig || ipfAdt) {
            out.push_back(p);
        }
    }
    return out;
}

// Every message of a file, parsed and validated; a file without any message is parsed whole.
IssueList checkFile(const std::string& bytes, const ConformanceProfile* profile)
{
    IssueList all;
    MessageSplitter splitter(bytes);
    Chunk chunk;
    bool any = false;
    Message message;
    StructureValidator validator;
    while (splitter.next(chunk, all)) {
        if (chunk.kind != Chunk::Kind::Message) {
            continue;
        }
        any = true;
        IssueList issues;
        if (Er7Parser().parse(chunk.bytes, message, issues)) {
            validator.validate(message, issues, profile);
        }
        for (const auto& issue : issues) {
            all.add(issue);
        }
    }
    splitter.finish(all);
    if (!any) {
        IssueList issues;
        if (Er7Parser().parse(bytes, message, issues)) {
            validator.validate(message, issues, profile);
        }
        for (const auto& issue : issues) {
            all.add(issue);
        }
    }
    return all;
}

} // namespace

BOOST_AUTO_TEST_SUITE(StructureValidatorCorpusTest)

BOOST_DATA_TEST_CASE(phlip_negative_files_yield_exactly_the_expected_issues,
                     bdata::make(phlipNegatives()), path)
{
    const ConformanceProfile profile = phlipProfile();
    const fs::path expectedPath =
        hl7gw::test::dataDir() / "hl7v2/malformed-expected" / (path.stem().string() + ".expected");
    BOOST_REQUIRE_MESSAGE(fs::exists(expectedPath), expectedPath.string());
    std::vector<std::string> expected;
    std::istringstream in(hl7gw::test::readFile(expectedPath));
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
            expected.push_back(line);
        }
    }
    BOOST_TEST(!expected.empty());
    const std::vector<std::string> got = lines(check(hl7gw::test::readFile(path), &profile));
    BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_valid_phlip_twin_is_clean_with_the_profile)
{
    const ConformanceProfile profile = phlipProfile();
    const fs::path path =
        hl7gw::test::corpusDir() / "hl7v2/cdc-data-exchange-hl7/PHLIP_FLU_2.5.1_VALID_MESSAGE.hl7";
    BOOST_TEST(lines(check(hl7gw::test::readFile(path), &profile)) == None,
               boost::test_tools::per_element());
}

BOOST_DATA_TEST_CASE(every_malformed_file_gets_a_located_error, bdata::make(allMalformed()), path)
{
    // The PHLIP negatives break profile rules, not the base standard.
    const bool phlip = path.parent_path().filename() == "cdc-phlip-flu-negative";
    const ConformanceProfile profile = phlipProfile();
    const IssueList issues = checkFile(hl7gw::test::readFile(path), phlip ? &profile : nullptr);
    const bool located = std::any_of(issues.begin(), issues.end(), [](const auto& issue) {
        return (issue.severity == Severity::Error || issue.severity == Severity::Fatal) &&
               !issue.location.toString().empty();
    });
    BOOST_TEST(located);
}

BOOST_DATA_TEST_CASE(well_formed_samples_match_their_structure, bdata::make(wellFormedSamples()),
                     path)
{
    const std::string name = path.filename().string();
    if (name.find("incomplete") != std::string::npos) {
        // ipf's deliberately truncated A01: its missing PID is the point of that file.
        BOOST_TEST(brief(checkFile(hl7gw::test::readFile(path), nullptr)) ==
                       (std::vector<std::string>{"100 PID error"}),
                   boost::test_tools::per_element());
        return;
    }
    const IssueList issues = checkFile(hl7gw::test::readFile(path), nullptr);
    for (const auto& issue : issues) {
        const bool structural = issue.code == "100" || issue.severity == Severity::Fatal;
        BOOST_TEST(!(structural && issue.severity != Severity::Warning), issue.location.toString()
                                                                             << ": " << issue.text);
    }
}

BOOST_AUTO_TEST_SUITE_END()
