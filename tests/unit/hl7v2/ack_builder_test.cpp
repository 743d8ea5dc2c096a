#include "gateway/hl7v2/ack_builder.h"

#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/path.h"
#include "gateway/hl7v2/text_decoder.h"
#include "tests/unit/test_support.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw::hl7v2;
using hl7gw::core::IssueList;
using hl7gw::core::Location;
using hl7gw::core::Severity;

namespace {

struct Parsed {
    std::string bytes;
    Message message;
};

void parseInto(Parsed& p, std::string bytes)
{
    p.bytes = std::move(bytes);
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(p.bytes, p.message, issues));
    BOOST_REQUIRE(!issues.hasErrors());
}

std::string at(const Message& m, const char* path)
{
    TextDecoder decoder;
    return std::string(decoder.decode(Path::parse(path)->resolve(m)));
}

AckRequest request(AckCode code)
{
    AckRequest r;
    r.code = code;
    r.controlId = "ACK0001";
    r.timestamp = "20261123143000+0800";
    return r;
}

const char* Adt251 = "MSH|^~\\&|HIS|HOSP|GW|ALLIANCE|20261123142959||ADT^A01^ADT_A01|MSG42|P|"
                     "2.5.1|||||CHN|UNICODE UTF-8\rEVN|A01|20261123\rPID|1||X\r";

} // namespace

BOOST_AUTO_TEST_SUITE(ack_builder)

BOOST_AUTO_TEST_CASE(original_mode_accept_swaps_parties_and_echoes_header)
{
    Parsed in;
    parseInto(in, Adt251);
    BOOST_TEST(static_cast<int>(ackModeOf(in.message)) == static_cast<int>(AckMode::Original));
    std::string ack;
    IssueList issues;
    BOOST_REQUIRE(AckBuilder().build(&in.message, request(AckCode::ApplicationAccept), ack, issues));
    Parsed out;
    parseInto(out, ack);
    BOOST_TEST(at(out.message, "MSH-3") == "GW");
    BOOST_TEST(at(out.message, "MSH-4") == "ALLIANCE");
    BOOST_TEST(at(out.message, "MSH-5") == "HIS");
    BOOST_TEST(at(out.message, "MSH-6") == "HOSP");
    BOOST_TEST(at(out.message, "MSH-7") == "20261123143000+0800");
    BOOST_TEST(at(out.message, "MSH-9") == "ACK^A01^ACK");
    BOOST_TEST(at(out.message, "MSH-10") == "ACK0001");
    BOOST_TEST(at(out.message, "MSH-11") == "P");
    BOOST_TEST(at(out.message, "MSH-12") == "2.5.1");
    BOOST_TEST(at(out.message, "MSH-17") == "CHN");
    BOOST_TEST(at(out.message, "MSH-18") == "UNICODE UTF-8");
    BOOST_TEST(at(out.message, "MSA-1") == "AA");
    BOOST_TEST(at(out.message, "MSA-2") == "MSG42");
    BOOST_TEST(!out.message.findSegment("ERR"));
    BOOST_TEST(ack.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(enhanced_mode_is_read_from_msh15_and_msh16)
{
    Parsed in;
    parseInto(in, "MSH|^~\\&|A|B|C|D|20260101||ORU^R01|9|P|2.5|||AL|NE\r");
    BOOST_TEST(static_cast<int>(ackModeOf(in.message)) == static_cast<int>(AckMode::Enhanced));
    std::string ack;
    IssueList issues;
    BOOST_REQUIRE(AckBuilder().build(&in.message, request(AckCode::CommitAccept), ack, issues));
    Parsed out;
    parseInto(out, ack);
    BOOST_TEST(at(out.message, "MSA-1") == "CA");
    BOOST_TEST(at(out.message, "MSH-15").empty());
    BOOST_TEST(at(out.message, "MSH-16").empty());
}

BOOST_AUTO_TEST_CASE(v25_error_carries_location_code_and_severity)
{
    Parsed in;
    parseInto(in, Adt251);
    IssueList problems;
    Location where;
    where.segment = "PID";
    where.segmentOccurrence = 1;
    where.field = 3;
    where.repetition = 1;
    where.component = 1;
    problems.add(Severity::Error, "101", where, "Required field missing");
    problems.add(Severity::Warning, "102", Location{}, "unknown escape sequence");
    AckRequest r = request(AckCode::ApplicationError);
    r.problems = &problems;
    r.applicationCode = "PATIENT_ID_MISSING";
    r.userMessage = "患者标识缺失";
    std::string ack;
    IssueList issues;
    BOOST_REQUIRE(AckBuilder().build(&in.message, r, ack, issues));
    Parsed out;
    parseInto(out, ack);
    BOOST_TEST(at(out.message, "MSA-1") == "AE");
    BOOST_TEST(at(out.message, "ERR-2") == "PID^1^3^1^1");
    BOOST_TEST(at(out.message, "ERR-3") == "101^Required field missing^HL70357");
    BOOST_TEST(at(out.message, "ERR-4") == "E");
    BOOST_TEST(at(out.message, "ERR-5") == "PATIENT_ID_MISSING");
    BOOST_TEST(at(out.message, "ERR-8") == "患者标识缺失");
    BOOST_TEST(at(out.message, "ERR[2]-4") == "W");
    BOOST_TEST(at(out.message, "ERR[2]-3.1") == "102");
}

BOOST_AUTO_TEST_CASE(v231_error_uses_err1_with_subcomponents)
{
    Parsed in;
    parseInto(in, "MSH|^~\\&|A|B|C|D|20260101||ADT^A04|77|P|2.3.1\rPID|1\r");
    IssueList problems;
    Location where;
    where.segment = "PID";
    where.segmentOccurrence = 1;
    where.field = 3;
    problems.add(Severity::Error, "101", where, "Required field missing");
    AckRequest r = request(AckCode::ApplicationError);
    r.problems = &problems;
    std::string ack;
    IssueList issues;
    BOOST_REQUIRE(AckBuilder().build(&in.message, r, ack, issues));
    BOOST_TEST(ack.find("\rERR|PID^1^3^101&Required field missing&HL70357\r") != std::string::npos);
    Parsed out;
    parseInto(out, ack);
    BOOST_TEST(at(out.message, "MSH-9") == "ACK^A04");
}

BOOST_AUTO_TEST_CASE(answers_in_the_senders_charset_and_delimiters)
{
    Parsed in;
    parseInto(in, hl7gw::test::readFile(hl7gw::test::dataDir() / "hl7v2/gb18030-adt-a01.hl7"));
    IssueList problems;
    problems.add(Severity::Error, "204", Location{}, "unknown key");
    AckRequest r = request(AckCode::ApplicationError);
    r.problems = &problems;
    r.userMessage = "號源已被預約";
    std::string ack;
    IssueList issues;
    BOOST_REQUIRE(AckBuilder().build(&in.message, r, ack, issues));
    BOOST_TEST(ack.find("號") == std::string::npos); // written in GB18030, not UTF-8
    Parsed out;
    parseInto(out, ack);
    BOOST_TEST(out.message.charset().id == Charset::Id::Gb18030);
    BOOST_TEST(at(out.message, "MSH-5") == "HIS");
    BOOST_TEST(at(out.message, "MSH-6") == "北京東城區醫院");
    BOOST_TEST(at(out.message, "ERR-8") == "號源已被預約");
}

BOOST_AUTO_TEST_CASE(echoes_msh2_exactly_even_when_it_repeats_a_delimiter)
{
    const std::string received = "MSH|^~\\\\&|A|B|C|D|20260101||ADT^A01|5|P|2.6\r";
    Message m;
    IssueList parseIssues;
    BOOST_REQUIRE(Er7Parser().parse(received, m, parseIssues));
    std::string ack;
    IssueList issues;
    BOOST_REQUIRE(AckBuilder().build(&m, request(AckCode::ApplicationAccept), ack, issues));
    BOOST_TEST(ack.rfind("MSH|^~\\\\&|C|D|A|B|", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(best_effort_reject_when_msh_is_unreadable)
{
    IssueList problems;
    problems.add(Severity::Fatal, "100", Location{}, "message does not start with MSH");
    AckRequest r = request(AckCode::ApplicationReject);
    r.problems = &problems;
    std::string ack;
    IssueList issues;
    BOOST_REQUIRE(AckBuilder().build(nullptr, r, ack, issues));
    Parsed out;
    parseInto(out, ack);
    BOOST_TEST(at(out.message, "MSA-1") == "AR");
    BOOST_TEST(at(out.message, "MSA-2").empty());
    BOOST_TEST(at(out.message, "ERR-3.1") == "100");
}

BOOST_AUTO_TEST_CASE(unknown_ack_code_is_never_read_as_accept)
{
    BOOST_TEST(!parseAckCode("OK").has_value());
    BOOST_TEST(!parseAckCode("").has_value());
    BOOST_TEST(static_cast<int>(*parseAckCode("CR")) == static_cast<int>(AckCode::CommitReject));
    BOOST_TEST(toString(AckCode::ApplicationError) == "AE");
}

BOOST_AUTO_TEST_SUITE_END()
