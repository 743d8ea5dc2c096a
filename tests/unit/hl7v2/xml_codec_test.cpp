#include "gateway/hl7v2/xml_codec.h"

#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/message_splitter.h"
#include "gateway/hl7v2/text_decoder.h"
#include "tests/unit/test_support.h"

#include <xercesc/dom/DOM.hpp>
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/parsers/XercesDOMParser.hpp>
#include <xercesc/sax/HandlerBase.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace hl7v2 = hl7gw::hl7v2;
using hl7gw::core::IssueList;
using hl7gw::core::Severity;
namespace fs = std::filesystem;

namespace {

std::string describe(const IssueList& issues)
{
    std::string out;
    for (const auto& issue : issues) {
        out += std::string(hl7gw::core::toString(issue.severity)) + " " +
               issue.location.toString() + ": " + issue.text + "\n";
    }
    return out;
}

// Every non-empty leaf of a message as (position, decoded text), positions as in the
// standard; empty leaves are left out so that trailing-empty handling cannot matter.
using Leaves = std::vector<std::string>; // "PID[1]-3[1].1.1=value"

Leaves leaves(const hl7v2::Message& message)
{
    hl7v2::TextDecoder decoder;
    Leaves out;
    for (std::size_t i = 0; i < message.segmentCount(); ++i) {
        const hl7v2::SegmentView segment = message.segment(i);
        const std::string seg =
            std::string(segment.id()) + "[" + std::to_string(message.occurrenceOf(i)) + "]";
        segment.forEachField([&](std::size_t f, const hl7v2::Element& field) {
            if (field.isLiteral()) {
                out.push_back(seg + "-" + std::to_string(f) + "=" + std::string(field.raw()));
                return;
            }
            std::size_t r = 0;
            field.forEachChild([&](const hl7v2::Element& rep) {
                ++r;
                std::size_t c = 0;
                rep.forEachChild([&](const hl7v2::Element& comp) {
                    ++c;
                    std::size_t s = 0;
                    comp.forEachChild([&](const hl7v2::Element& sub) {
                        ++s;
                        if (!sub.empty()) {
                            out.push_back(seg + "-" + std::to_string(f) + "[" + std::to_string(r) +
                                          "]." + std::to_string(c) + "." + std::to_string(s) + "=" +
                                          std::string(decoder.decode(sub)));
                        }
                    });
                });
            });
        });
    }
    return out;
}

bool parse(const std::string& er7, hl7v2::Message& message, IssueList& issues)
{
    return hl7v2::Er7Parser().parse(er7, message, issues);
}

std::string er7FromXml(const std::string& xml)
{
    std::string er7;
    IssueList issues;
    BOOST_TEST(hl7v2::readXml(xml, er7, issues), describe(issues));
    return er7;
}

std::string xmlFromEr7(const std::string& er7)
{
    hl7v2::Message message;
    IssueList issues;
    BOOST_REQUIRE_MESSAGE(parse(er7, message, issues), describe(issues));
    hl7v2::TextDecoder decoder;
    std::string xml;
    BOOST_TEST(hl7v2::writeXml(message, decoder, xml, &issues), describe(issues));
    return xml;
}

// Splits ER7 into lines (CR, LF or CRLF ends), dropping blank ones.
std::vector<std::string> lines(std::string_view text)
{
    std::vector<std::string> out;
    std::string line;
    for (char c : text) {
        if (c == '\r' || c == '\n') {
            if (!line.empty()) {
                out.push_back(line);
            }
            line.clear();
        } else {
            line += c;
        }
    }
    if (!line.empty()) {
        out.push_back(line);
    }
    return out;
}

// Mirth writes every element it was given, trailing empties included (`Hanso^Alvar^^^^`,
// `PID|...|815-16-2342|`); STANDARDS.md §1.1 rule 6 has writers omit them, and so do we.
// This removes them from Mirth's expected text, level by level, for the default delimiters
// the OIE corpus uses; the values themselves stay untouched.
std::string withoutTrailingEmpties(std::string_view text, std::string_view separators)
{
    if (separators.empty()) {
        return std::string(text);
    }
    std::vector<std::string> parts;
    std::string part;
    for (char c : text) {
        if (c == separators[0]) {
            parts.push_back(part);
            part.clear();
        } else {
            part += c;
        }
    }
    parts.push_back(part);
    for (std::string& p : parts) {
        p = withoutTrailingEmpties(p, separators.substr(1));
    }
    while (parts.size() > 1 && parts.back().empty()) {
        parts.pop_back();
    }
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) {
            out += separators[0];
        }
        out += parts[i];
    }
    return out;
}

std::string normalisedSegment(const std::string& line)
{
    const std::string id = line.substr(0, 3);
    if (id != "MSH" && id != "FHS" && id != "BHS") {
        return withoutTrailingEmpties(line, "|~^&");
    }
    if (line.size() <= 9) {
        return line.substr(0, 8);
    }
    // MSH-1 and MSH-2 hold the delimiters themselves and are never split.
    const std::string rest = withoutTrailingEmpties(line.substr(9), "|~^&");
    return rest.empty() ? line.substr(0, 8) : line.substr(0, 9) + rest;
}

fs::path oieDir()
{
    return hl7gw::test::corpusDir() / "hl7v2-xml" / "oie-engine";
}

std::string pairedName(const fs::path& input, const std::string& from, const std::string& to)
{
    std::string name = input.filename().string();
    return name.replace(name.size() - from.size(), from.size(), to);
}

// Parses XML with Xerces' own DOM parser: proves well-formedness independently of readXml
// and exposes the namespaces.
class Dom {
public:
    explicit Dom(const std::string& xml)
    {
        parser_.setDoNamespaces(true);
        parser_.setErrorHandler(&errors_);
        const xercesc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(xml.data()),
                                                xml.size(), "test");
        try {
            parser_.parse(source);
            doc_ = parser_.getDocument();
        } catch (const xercesc::SAXParseException&) {
            doc_ = nullptr;
        }
    }

    xercesc::DOMElement* root() const { return doc_ ? doc_->getDocumentElement() : nullptr; }

private:
    hl7v2::XercesPlatform platform_;
    xercesc::XercesDOMParser parser_;
    xercesc::HandlerBase errors_;
    xercesc::DOMDocument* doc_ = nullptr;
};

std::string utf8(const XMLCh* text)
{
    char* s = xercesc::XMLString::transcode(text);
    std::string out(s);
    xercesc::XMLString::release(&s);
    return out;
}

// Names of all elements in document order, each with its namespace checked.
std::vector<std::string> elementNames(xercesc::DOMElement* root, bool& allInNamespace)
{
    std::vector<std::string> names;
    allInNamespace = true;
    auto walk = [&](const auto& self, xercesc::DOMElement* e) -> void {
        names.push_back(utf8(e->getLocalName()));
        if (e->getNamespaceURI() == nullptr ||
            utf8(e->getNamespaceURI()) != std::string(hl7v2::V2XmlNamespace)) {
            allInNamespace = false;
        }
        for (xercesc::DOMElement* c = e->getFirstElementChild(); c != nullptr;
             c = c->getNextElementSibling()) {
            self(self, c);
        }
    };
    walk(walk, root);
    return names;
}

std::vector<std::string> childNames(const xercesc::DOMElement* e)
{
    std::vector<std::string> names;
    for (const xercesc::DOMElement* c = e->getFirstElementChild(); c != nullptr;
         c = c->getNextElementSibling()) {
        names.push_back(utf8(c->getLocalName()));
    }
    return names;
}

// The first element below `e` (depth first) with this local name.
const xercesc::DOMElement* find(const xercesc::DOMElement* e, const std::string& name)
{
    for (const xercesc::DOMElement* c = e->getFirstElementChild(); c != nullptr;
         c = c->getNextElementSibling()) {
        if (utf8(c->getLocalName()) == name) {
            return c;
        }
        if (const xercesc::DOMElement* hit = find(c, name); hit != nullptr) {
            return hit;
        }
    }
    return nullptr;
}

} // namespace

BOOST_AUTO_TEST_SUITE(xml_codec)

BOOST_AUTO_TEST_CASE(oie_xml_inputs_give_the_expected_er7)
{
    const auto inputs = hl7gw::test::filesUnder(oieDir(), {"-input.xml"});
    BOOST_TEST_REQUIRE(inputs.size() == 6u);
    for (const fs::path& input : inputs) {
        BOOST_TEST_CONTEXT(input.filename().string())
        {
            const std::string expectedText = hl7gw::test::readFile(
                input.parent_path() / pairedName(input, "-input.xml", "-output.txt"));
            const std::string er7 = er7FromXml(hl7gw::test::readFile(input));
            if (input.filename() == "test-hl7-single-field-input.xml") {
                // A bare field: no segment, no terminator.
                BOOST_TEST(er7 == withoutTrailingEmpties(expectedText, "~^&"));
                continue;
            }
            BOOST_TEST(er7.back() == '\r');
            BOOST_TEST(er7.find('\n') == std::string::npos);
            std::vector<std::string> expected;
            for (const std::string& line : lines(expectedText)) {
                expected.push_back(normalisedSegment(line));
            }
            const std::vector<std::string> actual = lines(er7);
            BOOST_TEST(actual == expected, boost::test_tools::per_element());
            for (const std::string& line : actual) {
                BOOST_TEST(normalisedSegment(line) == line); // we write no trailing empties
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(oie_er7_inputs_through_our_xml_match_oie_xml)
{
    const auto inputs = hl7gw::test::filesUnder(oieDir(), {"-input.txt"});
    BOOST_TEST_REQUIRE(inputs.size() == 5u);
    for (const fs::path& input : inputs) {
        BOOST_TEST_CONTEXT(input.filename().string())
        {
            const std::string er7 = hl7gw::test::readFile(input);
            const std::string theirs = er7FromXml(hl7gw::test::readFile(
                input.parent_path() / pairedName(input, "-input.txt", "-output.xml")));

            // Both sides split the same way (the batch file has FHS/BHS envelopes, which
            // belong to no message and are compared as normalised text).
            hl7v2::MessageSplitter ourSplitter(er7);
            hl7v2::MessageSplitter theirSplitter(theirs);
            hl7v2::Chunk ours;
            hl7v2::Chunk their;
            IssueList ignored;
            std::size_t messages = 0;
            while (ourSplitter.next(ours, ignored)) {
                BOOST_TEST_REQUIRE(theirSplitter.next(their, ignored));
                BOOST_TEST_REQUIRE(static_cast<int>(ours.kind) == static_cast<int>(their.kind));
                if (ours.kind != hl7v2::Chunk::Kind::Message) {
                    BOOST_TEST(normalisedSegment(std::string(ours.bytes)) ==
                               normalisedSegment(std::string(their.bytes)));
                    continue;
                }
                ++messages;
                const std::string roundTripped = er7FromXml(xmlFromEr7(std::string(ours.bytes)));
                hl7v2::Message a;
                hl7v2::Message b;
                IssueList issues;
                BOOST_TEST_REQUIRE(parse(roundTripped, a, issues), describe(issues));
                const std::string theirMessage(their.bytes);
                BOOST_TEST_REQUIRE(parse(theirMessage, b, issues), describe(issues));
                BOOST_TEST(leaves(a) == leaves(b), boost::test_tools::per_element());
            }
            BOOST_TEST(!theirSplitter.next(their, ignored));
            BOOST_TEST(messages == 1u);
        }
    }
}

BOOST_AUTO_TEST_CASE(our_xml_is_well_formed_and_in_the_v2xml_namespace)
{
    const std::string xml = xmlFromEr7("MSH|^~\\&|SND|FAC|||20240506||ZZZ^Z99|1|P|2.5\r"
                                       "PID|1||123^^^HOSP^MR~456||Doe^John\r"
                                       "ZPI|a&b^c||\"\"\r");
    const Dom dom(xml);
    BOOST_TEST_REQUIRE(dom.root() != nullptr);
    bool inNamespace = false;
    const std::vector<std::string> names = elementNames(dom.root(), inNamespace);
    BOOST_TEST(inNamespace);
    BOOST_TEST(xml.rfind("<?xml", 0) == 0u);
    // No structure is known for ZZZ^Z99: the root is named code_trigger and the segments
    // are flat under it.
    BOOST_TEST(names.front() == "ZZZ_Z99");
    const std::vector<std::string> zpi = {"ZPI",       "ZPI.1",   "ZPI.1.1", "ZPI.1.1.1",
                                          "ZPI.1.1.2", "ZPI.1.2", "ZPI.3"};
    const auto at = std::find(names.begin(), names.end(), "ZPI");
    BOOST_TEST_REQUIRE((at != names.end()));
    BOOST_TEST(std::vector<std::string>(at, names.end()) == zpi, boost::test_tools::per_element());
    BOOST_TEST(std::count(names.begin(), names.end(), "PID.3") == 2);
}

BOOST_AUTO_TEST_CASE(official_names_follow_structure_and_data_types)
{
    const std::string er7 = "MSH|^~\\&|SND|FAC|||20240506||ADT^A04|1|P|2.5\r"
                            "EVN|A04\r"
                            "PID|1||123^^^HOSP&1.2.3&ISO^MR||张^三\r"
                            "ZPI|x\r"
                            "PV1|1|O\r"
                            "IN1|1|PLAN\r";
    const std::string xml = xmlFromEr7(er7);
    const Dom dom(xml);
    BOOST_TEST_REQUIRE(dom.root() != nullptr);
    // ADT^A04 has the structure ADT_A01; a Z-segment stays where it was, at its level.
    BOOST_TEST(utf8(dom.root()->getLocalName()) == "ADT_A01");
    const std::vector<std::string> top = {"MSH", "EVN", "PID", "ZPI", "PV1", "ADT_A01.INSURANCE"};
    BOOST_TEST(childNames(dom.root()) == top, boost::test_tools::per_element());
    const xercesc::DOMElement* pid3 = find(dom.root(), "PID.3");
    BOOST_TEST_REQUIRE(pid3 != nullptr);
    const std::vector<std::string> cx = {"CX.1", "CX.4", "CX.5"};
    BOOST_TEST(childNames(pid3) == cx, boost::test_tools::per_element());
    const std::vector<std::string> hd = {"HD.1", "HD.2", "HD.3"};
    BOOST_TEST(childNames(find(pid3, "CX.4")) == hd, boost::test_tools::per_element());
    const xercesc::DOMElement* pid5 = find(dom.root(), "PID.5");
    BOOST_TEST_REQUIRE(pid5 != nullptr);
    BOOST_TEST(childNames(pid5) == std::vector<std::string>({"XPN.1", "XPN.2"}),
               boost::test_tools::per_element());
    BOOST_TEST(utf8(find(pid5, "FN.1")->getTextContent()) == "张");
    BOOST_TEST(childNames(find(dom.root(), "ZPI")) == std::vector<std::string>({"ZPI.1"}));
    BOOST_TEST(er7FromXml(xml) == er7);
}

BOOST_AUTO_TEST_CASE(obx5_is_named_by_obx2_and_groups_nest)
{
    const std::string er7 = "MSH|^~\\&|LAB|FAC|||20240506||ORU^R01|1|P|2.5\r"
                            "PID|1||123\r"
                            "OBR|1||F1|GLU^Glucose^L\r"
                            "OBX|1|CE|C1^Code^L||POS^Positive^L\r"
                            "OBX|2|NM|C2^Num^L||5.4\r"
                            "PID|2||456\r"
                            "OBR|1||F2|GLU^Glucose^L\r";
    const std::string xml = xmlFromEr7(er7);
    const Dom dom(xml);
    BOOST_TEST_REQUIRE(dom.root() != nullptr);
    BOOST_TEST(childNames(dom.root()) == std::vector<std::string>({"MSH", "ORU_R01.PATIENT_RESULT",
                                                                   "ORU_R01.PATIENT_RESULT"}),
               boost::test_tools::per_element());
    const xercesc::DOMElement* result = find(dom.root(), "ORU_R01.PATIENT_RESULT");
    BOOST_TEST(childNames(result) ==
                   std::vector<std::string>({"ORU_R01.PATIENT", "ORU_R01.ORDER_OBSERVATION"}),
               boost::test_tools::per_element());
    const xercesc::DOMElement* order = find(result, "ORU_R01.ORDER_OBSERVATION");
    BOOST_TEST(childNames(order) ==
                   std::vector<std::string>({"OBR", "ORU_R01.OBSERVATION", "ORU_R01.OBSERVATION"}),
               boost::test_tools::per_element());
    const xercesc::DOMElement* obx5 = find(order, "OBX.5");
    BOOST_TEST(childNames(obx5) == std::vector<std::string>({"CE.1", "CE.2", "CE.3"}),
               boost::test_tools::per_element());
    BOOST_TEST(er7FromXml(xml) == er7);
}

BOOST_AUTO_TEST_CASE(escapes_round_trip_exactly)
{
    const std::string er7 =
        "MSH|^~\\&|SND|FAC|||20240506||ORU^R01^ORU_R01|1|P|2.5|||||CHN|UNICODE UTF-8\r"
        "OBX|1|FT|TEXT||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\next \\H\\bold\\N\\ "
        "crlf\\X0D0A\\end \\.sp 2\\ \\Zlocal\\|||||||F\r"
        "NTE|1||患者标识缺失 <\\T\\> \"quoted\"\r";
    const std::string xml = xmlFromEr7(er7);
    BOOST_TEST(xml.find("<escape V=\".br\"/>") != std::string::npos);
    BOOST_TEST(xml.find("<escape V=\"H\"/>") != std::string::npos);
    BOOST_TEST(xml.find("<escape V=\"N\"/>") != std::string::npos);
    BOOST_TEST(xml.find("<escape V=\"X0D0A\"/>") != std::string::npos);
    BOOST_TEST(xml.find("<escape V=\".sp 2\"/>") != std::string::npos);
    BOOST_TEST(xml.find("a|b^c&amp;d~e\\f") != std::string::npos);
    BOOST_TEST(xml.find("患者标识缺失 &lt;&amp;&gt; \"quoted\"") != std::string::npos);
    BOOST_TEST(er7FromXml(xml) == er7);
}

BOOST_AUTO_TEST_CASE(official_form_is_read_with_groups_and_escapes)
{
    const std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ORU_R01 xmlns=\"urn:hl7-org:v2xml\">\n"
        "  <MSH><MSH.1>|</MSH.1><MSH.2>^~\\&amp;</MSH.2>\n"
        "    <MSH.9><MSG.1>ORU</MSG.1><MSG.2>R01</MSG.2><MSG.3>ORU_R01</MSG.3></MSH.9>\n"
        "    <MSH.10>42</MSH.10><MSH.12><VID.1>2.5</VID.1></MSH.12></MSH>\n"
        "  <ORU_R01.PATIENT_RESULT><ORU_R01.PATIENT>\n"
        "    <PID><PID.3><CX.1>12|3</CX.1><CX.4><HD.1>A&amp;B</HD.1><HD.2>1.2</HD.2></CX.4>"
        "</PID.3><PID.3><CX.1>x^y</CX.1></PID.3><PID.5><XPN.1><FN.1>张</FN.1></XPN.1>"
        "<XPN.2>三</XPN.2></PID.5></PID>\n"
        "  </ORU_R01.PATIENT></ORU_R01.PATIENT_RESULT>\n"
        "  <NTE><NTE.3>line1<escape V=\".br\"/>line2 <escape V=\"H\"/>x<escape V=\"N\"/>"
        "</NTE.3></NTE>\n"
        "</ORU_R01>\n";
    BOOST_TEST(er7FromXml(xml) == "MSH|^~\\&|||||||ORU^R01^ORU_R01|42||2.5\r"
                                  "PID|||12\\F\\3^^^A\\T\\B&1.2~x\\S\\y||张^三\r"
                                  "NTE|||line1\\.br\\line2 \\H\\x\\N\\\r");
}

BOOST_AUTO_TEST_CASE(mirth_form_values_are_raw_er7)
{
    // Mirth copies ER7 text as it is: escape sequences stay, and so do lower-level
    // separators it was told not to split (`a&b`). Only a field separator or a line break,
    // which would end the field or segment, is escaped.
    const std::string xml = "<HL7Message><MSH><MSH.1>|</MSH.1><MSH.2>^~\\&amp;</MSH.2>"
                            "<MSH.9><MSH.9.1>ADT</MSH.9.1><MSH.9.2>A01</MSH.9.2></MSH.9></MSH>"
                            "<NTE><NTE.3><NTE.3.1>a\\.br\\b\\F\\c</NTE.3.1>"
                            "<NTE.3.2>d&amp;e|f\ng</NTE.3.2></NTE.3></NTE></HL7Message>";
    BOOST_TEST(er7FromXml(xml) == "MSH|^~\\&|||||||ADT^A01\r"
                                  "NTE|||a\\.br\\b\\F\\c^d&e\\F\\f\\.br\\g\r");
}

BOOST_AUTO_TEST_CASE(xml_encoding_replaces_msh18)
{
    // Latin-1 e-acute in PID-5; MSH-18 says 8859/1.
    const std::string er7 = "MSH|^~\\&|||||||ADT^A01|1|P|2.5|||||FRA|8859/1\r"
                            "PID|1||1||Ren\xE9\r";
    std::string back;
    IssueList issues;
    BOOST_TEST(hl7v2::readXml(xmlFromEr7(er7), back, issues), describe(issues));
    BOOST_TEST(back == "MSH|^~\\&|||||||ADT^A01|1|P|2.5|||||FRA|UNICODE UTF-8\r"
                       "PID|1||1||Ren\xC3\xA9\r");
    BOOST_TEST(std::any_of(issues.begin(), issues.end(),
                           [](const auto& i) { return i.severity == Severity::Information; }));
}

BOOST_AUTO_TEST_CASE(corpus_messages_round_trip_through_xml)
{
    const fs::path dir = hl7gw::test::corpusDir() / "hl7v2";
    std::size_t messages = 0;
    std::size_t files = 0;
    hl7v2::TextDecoder decoder;
    for (const fs::path& file : hl7gw::test::filesUnder(dir, {".hl7", ".txt"})) {
        const std::string relative = fs::relative(file, dir).string();
        if (relative.rfind("_malformed", 0) == 0 || relative.rfind("_batch_and_multi", 0) == 0) {
            continue;
        }
        ++files;
        const std::string bytes = hl7gw::test::readFile(file);
        hl7v2::MessageSplitter splitter(bytes);
        hl7v2::Chunk chunk;
        IssueList envelope;
        while (splitter.next(chunk, envelope)) {
            if (chunk.kind != hl7v2::Chunk::Kind::Message) {
                continue;
            }
            BOOST_TEST_CONTEXT(relative << " message " << chunk.number)
            {
                ++messages;
                hl7v2::Message original;
                IssueList issues;
                const std::string text(chunk.bytes);
                if (!parse(text, original, issues)) {
                    BOOST_ERROR("not parseable: " << describe(issues));
                    continue;
                }
                std::string xml;
                BOOST_TEST(hl7v2::writeXml(original, decoder, xml, &issues), describe(issues));
                std::string back;
                IssueList readIssues;
                if (!hl7v2::readXml(xml, back, readIssues)) {
                    // Allowed only for the problems the ER7 itself has (odd MSH-2): the XML
                    // carries the same delimiters and gets the same complaint.
                    for (const auto& issue : readIssues) {
                        const bool mirrored =
                            issue.severity != Severity::Error ||
                            std::any_of(issues.begin(), issues.end(), [&](const auto& i) {
                                return i.severity == Severity::Error && i.text == issue.text;
                            });
                        BOOST_TEST(mirrored, describe(readIssues));
                    }
                }
                hl7v2::Message copy;
                BOOST_TEST_REQUIRE(parse(back, copy, readIssues), describe(readIssues));
                Leaves expected = leaves(original);
                Leaves actual = leaves(copy);
                const std::string declared(
                    decoder.decode(original.header().field(18).repetition(1).component(1)));
                if (!declared.empty() &&
                    hl7v2::Charset::fromHl7Name(declared) != &hl7v2::Charset::utf8()) {
                    // The ER7 from XML is UTF-8 and says so (unless it is plain ASCII).
                    auto msh18 = [](Leaves& l) {
                        std::string value;
                        const std::string first = "MSH[1]-18[1].1.1=";
                        std::erase_if(l, [&](const std::string& leaf) {
                            if (leaf.rfind(first, 0) == 0) {
                                value = leaf.substr(first.size());
                            }
                            return leaf.rfind("MSH[1]-18[", 0) == 0;
                        });
                        return value;
                    };
                    const std::string before = msh18(expected);
                    const std::string after = msh18(actual);
                    BOOST_TEST((after == "UNICODE UTF-8" || after == before));
                }
                BOOST_TEST(actual == expected, boost::test_tools::per_element());
            }
        }
    }
    BOOST_TEST_MESSAGE("round-tripped " << messages << " messages from " << files << " files");
    BOOST_TEST(files > 300u);
}

BOOST_AUTO_TEST_CASE(malformed_xml_gives_located_issues)
{
    auto nested = [](int depth) {
        std::string s;
        for (int i = 0; i < depth; ++i) {
            s = "<a>" + s + "</a>";
        }
        return s;
    };
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"empty", ""},
        {"not xml", "MSH|^~\\&|"},
        {"unclosed", "<HL7Message>\n<MSH>\n</HL7Message>"},
        {"mismatched", "<a></b>"},
        {"no MSH", "<HL7Message><PID><PID.1>1</PID.1></PID></HL7Message>"},
        {"bad separator", "<HL7Message><MSH><MSH.1>||</MSH.1><MSH.2>^~\\&amp;</MSH.2></MSH>"
                          "</HL7Message>"},
        {"letter delimiter", "<HL7Message><MSH><MSH.1>|</MSH.1><MSH.2>A~\\&amp;</MSH.2></MSH>"
                             "</HL7Message>"},
        {"external entity",
         "<!DOCTYPE HL7Message [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
         "<HL7Message><MSH><MSH.1>|</MSH.1><MSH.2>^~\\&amp;</MSH.2><MSH.3>&x;</MSH.3></MSH>"
         "</HL7Message>"},
        {"entity bomb",
         "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
         "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;"
         "&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">]><r>&e;&e;&e;&e;&e;</r>"},
        {"too deep", nested(200)},
    };
    for (const auto& [name, xml] : cases) {
        BOOST_TEST_CONTEXT(name)
        {
            std::string er7 = "kept";
            IssueList issues;
            BOOST_TEST(!hl7v2::readXml(xml, er7, issues));
            BOOST_TEST(issues.hasFatal(), describe(issues));
            BOOST_TEST(er7 == "kept");
        }
    }

    std::string er7;
    IssueList issues;
    BOOST_TEST(!hl7v2::readXml("<HL7Message>\n<MSH>\n</HL7Message>", er7, issues));
    BOOST_TEST_REQUIRE(!issues.empty());
    BOOST_TEST(issues[0].location.line == 3u);
    BOOST_TEST(issues[0].location.path.rfind("line 3, column", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_element_shapes_are_located_errors)
{
    const std::string xml = "<HL7Message>\n"
                            "<MSH><MSH.1>|</MSH.1><MSH.2>^~\\&amp;</MSH.2></MSH>\n"
                            "<PID><PID.3><PID.3.1>1</PID.3.1></PID.3>\n"
                            "  <OBX.4>x</OBX.4></PID>\n"
                            "<foo/>\n"
                            "<ZZZ><ZZZ.99999>x</ZZZ.99999></ZZZ>\n"
                            "</HL7Message>";
    std::string er7;
    IssueList issues;
    BOOST_TEST(!hl7v2::readXml(xml, er7, issues));
    BOOST_TEST(!issues.hasFatal());
    // The rest is still converted, but the result does not count as a success.
    BOOST_TEST(er7 == "MSH|^~\\&\rPID|||1\rZZZ\r");
    BOOST_TEST_REQUIRE(issues.size() == 3u, describe(issues));
    BOOST_TEST(issues[0].location.line == 4u);
    BOOST_TEST(issues[0].location.path == "line 4, column 10: /HL7Message/PID/OBX.4");
    BOOST_TEST(issues[1].location.line == 5u);
    BOOST_TEST(issues[2].location.path == "line 6, column 17: /HL7Message/ZZZ/ZZZ.99999");
}

BOOST_AUTO_TEST_CASE(platform_instances_nest)
{
    {
        const hl7v2::XercesPlatform outer;
        const hl7v2::XercesPlatform inner;
    }
    BOOST_TEST(er7FromXml("<PID><PID.1>1</PID.1></PID>") == "PID|1\r");
}

BOOST_AUTO_TEST_CASE(detects_xml_input)
{
    BOOST_TEST(hl7v2::looksLikeXml("\xEF\xBB\xBF \r\n<?xml version=\"1.0\"?><a/>"));
    BOOST_TEST(hl7v2::looksLikeXml("<HL7Message/>"));
    BOOST_TEST(!hl7v2::looksLikeXml("MSH|^~\\&|"));
    BOOST_TEST(!hl7v2::looksLikeXml("   "));
}

BOOST_AUTO_TEST_SUITE_END()
