#include "gateway/hl7v2/er7_parser.h"

#include "gateway/hl7v2/er7_writer.h"
#include "gateway/hl7v2/path.h"
#include "tests/unit/test_support.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw::hl7v2;
using hl7gw::core::IssueList;
using hl7gw::core::Severity;

namespace {

std::string get(const Message& m, const char* path)
{
    return std::string(Path::parse(path)->resolve(m).raw());
}

} // namespace

BOOST_AUTO_TEST_SUITE(er7_parser)

BOOST_AUTO_TEST_CASE(indexes_segments_for_cr_lf_and_crlf_ends)
{
    for (const char* end : {"\r", "\n", "\r\n"}) {
        const std::string text = std::string("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.5") + end +
                                 "EVN|A01" + end + "PID|1||X" + end;
        Message m;
        IssueList issues;
        BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
        BOOST_TEST(issues.empty());
        BOOST_TEST(m.segmentCount() == 3u);
        BOOST_TEST(m.segment(2).id() == "PID");
        BOOST_TEST(m.segment(2).raw() == "PID|1||X");
    }
}

BOOST_AUTO_TEST_CASE(skips_bom_blank_lines_and_trailing_whitespace)
{
    const std::string text = "\xEF\xBB\xBF\r\nMSH|^~\\&|A\r\rPID|1\r\n  \r\n";
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    BOOST_TEST(issues.empty());
    BOOST_TEST(m.segmentCount() == 2u);
    BOOST_TEST(m.bytes().substr(0, 3) == "MSH");
    BOOST_TEST(writeEr7(m) == "MSH|^~\\&|A\rPID|1\r");
}

BOOST_AUTO_TEST_CASE(msh_fields_count_the_separator_as_field_one)
{
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse("MSH|^~\\&|SEND|FAC||||||CTRL9|P|2.5.1", m, issues));
    BOOST_TEST(get(m, "MSH-1") == "|");
    BOOST_TEST(get(m, "MSH-2") == "^~\\&");
    BOOST_TEST(get(m, "MSH-3") == "SEND");
    BOOST_TEST(m.controlId() == "CTRL9");
    BOOST_TEST(m.version() == "2.5.1");
    BOOST_TEST(m.header().fieldCount() == 12u);
}

BOOST_AUTO_TEST_CASE(reads_any_legal_delimiter_set)
{
    // Field |, component $, repetition %, escape \, sub-component #.
    const std::string text = "MSH|$%\\#|A\rPID|1||M1$$$H$MR%N2$$$NAT#X||Li$Na\r";
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    BOOST_TEST(issues.empty());
    BOOST_TEST(m.delimiters().component == '$');
    BOOST_TEST(m.delimiters().repetition == '%');
    BOOST_TEST(m.delimiters().subcomponent == '#');
    BOOST_TEST(get(m, "PID-5.2") == "Na");
    BOOST_TEST(get(m, "PID-3[2].1") == "N2");
    BOOST_TEST(get(m, "PID-3[2].4.2") == "X");
}

BOOST_AUTO_TEST_CASE(reads_hapi_segmentfinder_with_caret_as_field_separator)
{
    const std::string text =
        hl7gw::test::readFile(hl7gw::test::corpusDir() / "hl7v2/hapi-hl7v2/segmentfinder_a24.hl7");
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    BOOST_TEST(m.delimiters().field == '^');
    BOOST_TEST(m.delimiters().component == '~');
    BOOST_TEST(m.delimiters().repetition == '|');
    BOOST_TEST(m.messageCode() == "ADT");
    BOOST_TEST(m.triggerEvent() == "A24");
}

BOOST_AUTO_TEST_CASE(accepts_truncation_character_as_fifth_encoding_character)
{
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse("MSH|^~\\&#|A\rPID|1#x", m, issues));
    BOOST_TEST(issues.empty());
    BOOST_TEST(m.delimiters().truncation == '#');
    BOOST_TEST(get(m, "PID-1") == "1#x"); // truncation is never a separator
}

BOOST_AUTO_TEST_CASE(keeps_z_and_unknown_segments_verbatim)
{
    const std::string text = "MSH|^~\\&|A\rZBE|1|x^y~z\rQQQ|odd\r";
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    BOOST_TEST(issues.empty());
    BOOST_TEST(m.segmentCount() == 3u);
    BOOST_TEST(get(m, "ZBE-2[2]") == "z");
    BOOST_TEST(writeEr7(m) == text);
}

BOOST_AUTO_TEST_CASE(distinguishes_null_from_empty_and_missing)
{
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse("MSH|^~\\&|A\rPID|1|\"\"||x^^", m, issues));
    const Element null = Path::parse("PID-2")->resolve(m);
    const Element empty = Path::parse("PID-3")->resolve(m);
    const Element trailing = Path::parse("PID-4.3")->resolve(m);
    const Element missing = Path::parse("PID-9")->resolve(m);
    BOOST_TEST(null.isNull());
    BOOST_TEST(!empty.isNull());
    BOOST_TEST(empty.present());
    BOOST_TEST(empty.empty());
    BOOST_TEST(trailing.present());
    BOOST_TEST(!missing.present());
    BOOST_TEST(missing.empty());
}

BOOST_AUTO_TEST_CASE(fatal_without_msh)
{
    Message m;
    IssueList issues;
    BOOST_TEST(!Er7Parser().parse("PID|1|x\r", m, issues));
    BOOST_REQUIRE(issues.size() == 1u);
    BOOST_TEST(issues[0].severity == Severity::Fatal);
    BOOST_TEST(issues[0].location.offset == 0u);
    BOOST_TEST(issues[0].text == "message does not start with MSH");
}

BOOST_AUTO_TEST_CASE(fatal_for_alphanumeric_delimiters_with_position)
{
    Message m;
    IssueList issues;
    BOOST_TEST(!Er7Parser().parse("MSH|^~A&|x", m, issues));
    BOOST_REQUIRE(!issues.empty());
    BOOST_TEST(issues[0].severity == Severity::Fatal);
    BOOST_TEST(issues[0].location.toString() == "MSH[1]-2");
    BOOST_TEST(issues[0].location.offset == 6u);

    issues.clear();
    BOOST_TEST(!Er7Parser().parse("MSHA^~\\&", m, issues));
    BOOST_TEST(issues[0].location.toString() == "MSH[1]-1");
}

BOOST_AUTO_TEST_CASE(duplicate_delimiters_are_errors_but_message_still_indexes)
{
    // LinuxForHealth's samples declare "^~\\&": escape and sub-component are both '\'.
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse("MSH|^~\\\\&|A\rPID|1||a^b", m, issues));
    BOOST_TEST(issues.hasErrors());
    BOOST_TEST(!issues.hasFatal());
    BOOST_TEST(m.delimiters().escape == '\\');
    BOOST_TEST(m.delimiters().subcomponent == '\0');
    BOOST_TEST(get(m, "PID-3.2") == "b");
}

BOOST_AUTO_TEST_CASE(unsupported_charset_is_an_error_with_location)
{
    Message m;
    IssueList issues;
    BOOST_TEST(Er7Parser().parse("MSH|^~\\&|A|||||||||||||||BIG-5\r", m, issues));
    BOOST_REQUIRE(issues.size() == 1u);
    BOOST_TEST(issues[0].severity == Severity::Error);
    BOOST_TEST(issues[0].code == "207");
    BOOST_TEST(issues[0].location.toString() == "MSH[1]-18");
}

BOOST_AUTO_TEST_CASE(reports_lines_that_are_not_segments)
{
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse("MSH|^~\\&|A\r// a comment\rPID|1\r", m, issues));
    BOOST_REQUIRE(issues.size() == 1u);
    BOOST_TEST(issues[0].severity == Severity::Error);
    BOOST_TEST(issues[0].location.line == 2u);
    BOOST_TEST(m.segmentCount() == 3u); // kept, never dropped
}

BOOST_AUTO_TEST_CASE(finds_delimiters_inside_gb18030_characters_correctly)
{
    // 東 is 0x96 0x7C in GBK/GB18030: its trail byte is '|'. A byte scan would split it.
    const std::string text = hl7gw::test::readFile(hl7gw::test::dataDir() /
                                                   "hl7v2/gb18030-adt-a01.hl7");
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    BOOST_TEST(issues.empty());
    BOOST_TEST(m.charset().id == Charset::Id::Gb18030);
    BOOST_TEST(m.charsetDeclared());
    BOOST_TEST(m.controlId() == "GB0001");
    BOOST_TEST(m.header().fieldCount() == 18u);
    BOOST_TEST(get(m, "PID-7") == "19900307");
    BOOST_TEST(get(m, "PV1-10") == "CAR");
    BOOST_TEST(writeEr7(m) == text); // byte round trip in the message's own charset
}

BOOST_AUTO_TEST_CASE(uses_the_channel_default_when_msh18_is_empty)
{
    const std::string text = hl7gw::test::readFile(hl7gw::test::dataDir() /
                                                   "hl7v2/gbk-no-msh18.hl7");
    ParseOptions options;
    options.defaultCharset = Charset::fromHl7Name("GBK");
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser(options).parse(text, m, issues));
    BOOST_TEST(!m.charsetDeclared());
    BOOST_TEST(m.charset().id == Charset::Id::Gb18030);
    BOOST_TEST(get(m, "OBX-5") == "6.5");
}

BOOST_AUTO_TEST_CASE(reuses_message_memory_across_parses)
{
    Message m;
    IssueList issues;
    Er7Parser parser;
    BOOST_REQUIRE(parser.parse("MSH|^~\\&|A\rPID|1\rPV1|1\r", m, issues));
    BOOST_REQUIRE(parser.parse("MSH|^~\\&|B\r", m, issues));
    BOOST_TEST(m.segmentCount() == 1u);
    BOOST_TEST(get(m, "MSH-3") == "B");
}

BOOST_AUTO_TEST_SUITE_END()
