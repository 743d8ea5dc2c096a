#include "gateway/hl7v2/er7_writer.h"

#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/path.h"
#include "gateway/hl7v2/text_decoder.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw::hl7v2;
using hl7gw::core::IssueList;

BOOST_AUTO_TEST_SUITE(er7_writer)

BOOST_AUTO_TEST_CASE(escapes_every_delimiter_line_breaks_and_controls)
{
    CharsetConverter converter;
    IssueList issues;
    std::string out;
    BOOST_REQUIRE(escapeValue("a|b^c~d\\e&f\ng\r\nh\x01", Delimiters{}, Charset::utf8(), converter,
                              out, issues));
    BOOST_TEST(out == "a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f\\.br\\g\\.br\\h\\X01\\");
}

BOOST_AUTO_TEST_CASE(escaped_values_decode_back_to_the_same_text)
{
    const std::string text = "张三|x^y&z~w\\v\nline2";
    CharsetConverter converter;
    IssueList issues;
    std::string value;
    BOOST_REQUIRE(escapeValue(text, Delimiters{}, Charset::utf8(), converter, value, issues));
    const std::string message = "MSH|^~\\&|A\rNTE|1||" + value + "\r";
    Message m;
    BOOST_REQUIRE(Er7Parser().parse(message, m, issues));
    TextDecoder decoder;
    BOOST_TEST(decoder.decode(Path::parse("NTE-3")->resolve(m)) == text);
}

BOOST_AUTO_TEST_CASE(writes_gb18030_and_refuses_what_latin1_cannot_hold)
{
    CharsetConverter converter;
    IssueList issues;
    std::string gb;
    BOOST_REQUIRE(escapeValue("東城區", Delimiters{}, Charset::gb18030(), converter, gb, issues));
    BOOST_TEST(gb == "\x96\x7C\xB3\xC7\x85^");
    std::string latin;
    hl7gw::core::Location where;
    where.segment = "PID";
    where.field = 5;
    BOOST_TEST(!escapeValue("王", Delimiters{}, Charset::latin1(), converter, latin, issues, where));
    BOOST_REQUIRE(issues.size() == 1u);
    BOOST_TEST(issues[0].location.toString() == "PID-5");
}

BOOST_AUTO_TEST_CASE(unmodified_segment_writes_back_byte_for_byte)
{
    const std::string text =
        "MSH|^~\\&|A|B|||20260101||ADT^A01^ADT_A01|1|P|2.5\rPID|1||a^^^b&c&d~e||n^m^^^^^L|||\r";
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    for (std::size_t i = 0; i < m.segmentCount(); ++i) {
        SegmentBuilder builder(m.segment(i));
        std::string out;
        BOOST_REQUIRE(builder.write(out, issues));
        // Trailing empty fields are omitted by writers; everything else is unchanged.
        std::string_view expected = m.segment(i).raw();
        while (!expected.empty() && expected.back() == '|') {
            expected.remove_suffix(1);
        }
        BOOST_TEST(out == expected);
    }
}

BOOST_AUTO_TEST_CASE(modifies_one_position_and_keeps_its_siblings)
{
    const std::string text = "MSH|^~\\&|A\rPID|1||a^^^b&c&d~e||n^m\r";
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    SegmentBuilder pid(m.segment(1));
    pid.set(3, 1, 4, 2, "X&Y");
    pid.set(5, 1, 2, 0, "新名");
    pid.set(8, "F");
    std::string out;
    BOOST_REQUIRE(pid.write(out, issues));
    BOOST_TEST(out == "PID|1||a^^^b&X\\T\\Y&d~e||n^新名|||F");
}

BOOST_AUTO_TEST_CASE(builds_new_segments_without_trailing_empties)
{
    SegmentBuilder msh("MSH", Delimiters{}, Charset::utf8());
    msh.set(3, "GW");
    msh.setComponents(9, {"ACK", "A01", ""});
    std::string out;
    IssueList issues;
    BOOST_REQUIRE(msh.write(out, issues));
    BOOST_TEST(out == "MSH|^~\\&|GW||||||ACK^A01");
}

BOOST_AUTO_TEST_CASE(message_without_escape_character_cannot_carry_delimiters)
{
    Delimiters d;
    d.escape = '\0';
    CharsetConverter converter;
    IssueList issues;
    std::string out;
    BOOST_TEST(!escapeValue("a|b", d, Charset::utf8(), converter, out, issues));
    BOOST_TEST(issues.hasErrors());
}

BOOST_AUTO_TEST_SUITE_END()
