#include "gateway/hl7v2/text_decoder.h"

#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/path.h"
#include "tests/unit/test_support.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw::hl7v2;
using hl7gw::core::IssueList;
using hl7gw::core::Severity;

namespace {

// Parses `MSH|^~\&|...` + `\rOBX|1|` + value, and decodes OBX-2 (whole field).
struct Decoded {
    std::string text;
    IssueList issues;
    std::size_t valueOffset = 0; // where the value starts in the message
};

Decoded decodeValue(const std::string& value, DecodeOptions options = {},
                    const std::string& msh = "MSH|^~\\&|A")
{
    static std::string buffer;
    buffer = msh + "\rOBX|1|" + value + "\r";
    Message m;
    IssueList parseIssues;
    BOOST_REQUIRE(Er7Parser().parse(buffer, m, parseIssues));
    Decoded d;
    d.valueOffset = buffer.size() - value.size() - 1;
    TextDecoder decoder(options);
    d.text = std::string(decoder.decode(m.segment(1).field(2), &d.issues));
    return d;
}

} // namespace

BOOST_AUTO_TEST_SUITE(text_decoder)

BOOST_AUTO_TEST_CASE(decodes_delimiter_escapes)
{
    BOOST_TEST(decodeValue("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f").text == "a|b^c&d~e\\f");
}

BOOST_AUTO_TEST_CASE(decodes_escapes_with_custom_delimiters)
{
    const Decoded d = decodeValue("x!F!y!S!z!E!", {}, "MSH|$%!#|A");
    BOOST_TEST(d.text == "x|y$z!");
}

BOOST_AUTO_TEST_CASE(line_break_is_always_a_newline)
{
    BOOST_TEST(decodeValue("one\\.br\\two").text == "one\ntwo");
    BOOST_TEST(decodeValue("one\\.br\\two", DecodeOptions{false}).text == "one\ntwo");
}

BOOST_AUTO_TEST_CASE(formatting_escapes_are_kept_or_rendered)
{
    const std::string value = "a\\.sp 2\\b\\.in 4\\c\\.sk 3\\d\\.fi\\\\.nf\\\\.ce\\\\.ti 2\\e";
    BOOST_TEST(decodeValue(value).text == value);
    BOOST_TEST(decodeValue(value, DecodeOptions{false}).text == "a\n\nbc   de");
}

BOOST_AUTO_TEST_CASE(highlighting_is_kept_for_v2_and_dropped_for_text)
{
    BOOST_TEST(decodeValue("\\H\\Bold\\N\\ plain").text == "\\H\\Bold\\N\\ plain");
    BOOST_TEST(decodeValue("\\H\\Bold\\N\\ plain", DecodeOptions{false}).text == "Bold plain");
}

BOOST_AUTO_TEST_CASE(hex_escape_gives_raw_bytes_in_the_message_charset)
{
    BOOST_TEST(decodeValue("a\\X0D0A\\b").text == "a\r\nb");
    // E4B8AD is 中 in UTF-8: the bytes join into one character.
    BOOST_TEST(decodeValue("\\XE4B8AD\\").text == "中");
    // D6D0 is 中 in GB18030.
    const Decoded gb = decodeValue("\\XD6D0\\", {}, "MSH|^~\\&|A|||||||||||||||GB18030");
    BOOST_TEST(gb.text == "中");
    BOOST_TEST(gb.issues.empty());
}

BOOST_AUTO_TEST_CASE(malformed_hex_is_kept_with_a_warning)
{
    const Decoded d = decodeValue("a\\XZZ1\\b");
    BOOST_TEST(d.text == "a\\XZZ1\\b");
    BOOST_REQUIRE(d.issues.size() == 1u);
    BOOST_TEST(d.issues[0].severity == Severity::Warning);
}

BOOST_AUTO_TEST_CASE(unknown_and_unterminated_escapes_pass_through_with_warnings)
{
    const Decoded unknown = decodeValue("a\\Q\\b");
    BOOST_TEST(unknown.text == "a\\Q\\b");
    BOOST_REQUIRE(unknown.issues.size() == 1u);
    BOOST_TEST(unknown.issues[0].severity == Severity::Warning);
    BOOST_TEST(unknown.issues[0].location.offset == unknown.valueOffset + 1);

    const Decoded open = decodeValue("a\\F");
    BOOST_TEST(open.text == "a\\F");
    BOOST_TEST(open.issues.size() == 1u);
}

BOOST_AUTO_TEST_CASE(local_escapes_pass_through_untouched)
{
    const Decoded d = decodeValue("\\Zabc\\");
    BOOST_TEST(d.text == "\\Zabc\\");
    BOOST_TEST(d.issues.empty());
}

BOOST_AUTO_TEST_CASE(charset_switches_decode_named_sets)
{
    // \C2D41\ switches to ISO 8859-1 (ESC - A): E9 is é. \C2842\ returns to the default.
    BOOST_TEST(decodeValue("caf\\C2D41\\\xE9\\C2842\\!", {}, "MSH|^~\\&|A|||||||||||||||8859/1")
                   .text == "café!");
    // \M2441\ designates GB 2312 as 7-bit pairs: 0x56 0x50 is D6 D0 = 中.
    BOOST_TEST(decodeValue("\\M2441\\VP\\C2842\\x").text == "中x");
    // \M2442\ JIS X 0208: 0x46 0x7C is 日 (EUC-JP C6 FC).
    BOOST_TEST(decodeValue("\\M2442\\F|").text.empty() == false);
}

BOOST_AUTO_TEST_CASE(unknown_charset_switch_is_kept_and_reported)
{
    const Decoded d = decodeValue("a\\C9999\\b");
    BOOST_TEST(d.text == "a\\C9999\\b");
    BOOST_REQUIRE(d.issues.size() == 1u);
    BOOST_TEST(d.issues[0].severity == Severity::Warning);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_an_error_with_offset_never_silent)
{
    const Decoded d = decodeValue("ab\xFF" "cd", {}, "MSH|^~\\&|A|||||||||||||||UNICODE UTF-8");
    BOOST_TEST(d.text == "ab\xEF\xBF\xBD" "cd");
    BOOST_REQUIRE(d.issues.size() == 1u);
    BOOST_TEST(d.issues[0].severity == Severity::Error);
    BOOST_TEST(d.issues[0].code == "102");
    BOOST_TEST(d.issues[0].location.offset == d.valueOffset + 2);
}

BOOST_AUTO_TEST_CASE(invalid_gb18030_bytes_are_errors)
{
    // 0x80 is not a valid GB18030 lead byte.
    const Decoded d = decodeValue("x\x80y", {}, "MSH|^~\\&|A|||||||||||||||GB18030");
    BOOST_TEST(d.issues.hasErrors());
    BOOST_TEST(d.text == "x\xEF\xBF\xBDy");
}

BOOST_AUTO_TEST_CASE(latin1_is_converted_to_utf8)
{
    BOOST_TEST(decodeValue("M\xFCller", {}, "MSH|^~\\&|A|||||||||||||||8859/1").text ==
               "Müller");
}

BOOST_AUTO_TEST_CASE(plain_values_are_returned_without_copying)
{
    const std::string buffer = "MSH|^~\\&|A\rPID|1||张三^x\r";
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(buffer, m, issues));
    TextDecoder decoder;
    const Element e = Path::parse("PID-3.1")->resolve(m);
    const std::string_view text = decoder.decode(e);
    BOOST_TEST(text == "张三");
    BOOST_TEST(static_cast<const void*>(text.data()) == static_cast<const void*>(e.raw().data()));
}

BOOST_AUTO_TEST_CASE(decodes_gbk_fixture_names_and_addresses)
{
    const std::string text = hl7gw::test::readFile(hl7gw::test::dataDir() / "hl7v2/gbk-siu-s12.hl7");
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    TextDecoder decoder;
    auto value = [&](const char* path) {
        return std::string(decoder.decode(Path::parse(path)->resolve(m), &issues));
    };
    BOOST_TEST(value("MSH-4") == "社區衛生服務中心");
    BOOST_TEST(value("PID-5.1") == "張");
    BOOST_TEST(value("PID-5.2") == "偉");
    BOOST_TEST(value("PID-11.1") == "朝陽區望京街道10號");
    BOOST_TEST(value("AIP-3.2") == "李");
    BOOST_TEST(value("NTE-3") == "空腹\n請攜帶醫保卡");
    BOOST_TEST(issues.empty());
}

BOOST_AUTO_TEST_CASE(decodes_gb18030_four_byte_characters)
{
    const std::string text =
        hl7gw::test::readFile(hl7gw::test::dataDir() / "hl7v2/gb18030-adt-a01.hl7");
    Message m;
    IssueList issues;
    BOOST_REQUIRE(Er7Parser().parse(text, m, issues));
    TextDecoder decoder;
    BOOST_TEST(decoder.decode(Path::parse("OBX-5")->resolve(m), &issues) ==
               "住院說明\n第二行：姓名含𠮷字");
    BOOST_TEST(decoder.decode(Path::parse("PID-11.1")->resolve(m), &issues) ==
               "東城區建國門內大街1號&2單元");
    BOOST_TEST(decoder.decode(Path::parse("PID-5.2")->resolve(m), &issues) == "瑋");
    BOOST_TEST(issues.empty());
}

BOOST_AUTO_TEST_SUITE_END()
