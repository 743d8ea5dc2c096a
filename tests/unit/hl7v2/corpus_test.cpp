// The shared corpus: real messages from public projects (../shared/corpus/SOURCES.md).
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/er7_writer.h"
#include "gateway/hl7v2/json_writer.h"
#include "gateway/hl7v2/message_splitter.h"
#include "gateway/hl7v2/text_decoder.h"
#include "tests/unit/test_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

using namespace hl7gw::hl7v2;
using hl7gw::core::IssueList;
namespace fs = std::filesystem;
namespace bdata = boost::unit_test::data;

namespace {

std::vector<fs::path> singleMessages()
{
    std::vector<fs::path> out;
    for (const fs::path& p : hl7gw::test::filesUnder(hl7gw::test::corpusDir() / "hl7v2", {".hl7", ".txt"})) {
        const std::string s = p.string();
        if (s.find("/_malformed/") == std::string::npos &&
            s.find("/_batch_and_multi/") == std::string::npos) {
            out.push_back(p);
        }
    }
    return out;
}

std::vector<fs::path> malformed()
{
    return hl7gw::test::filesUnder(hl7gw::test::corpusDir() / "hl7v2/_malformed", {".hl7", ".txt"});
}

std::vector<fs::path> multi()
{
    return hl7gw::test::filesUnder(hl7gw::test::corpusDir() / "hl7v2/_batch_and_multi",
                                   {".hl7", ".txt"});
}

// The input's segments with CR ends, leading BOM and blank lines dropped: what a correct
// writer must reproduce byte for byte.
std::string normalised(std::string_view bytes)
{
    if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
        bytes.remove_prefix(3);
    }
    std::string out;
    std::size_t i = 0;
    while (i < bytes.size()) {
        std::size_t end = bytes.find_first_of("\r\n", i);
        if (end == std::string_view::npos) {
            end = bytes.size();
        }
        const std::string_view line = bytes.substr(i, end - i);
        if (line.find_first_not_of(" \t") != std::string_view::npos) {
            out += line;
            out += '\r';
        }
        i = end + 1;
    }
    return out;
}

// Decodes every leaf of every field; returns the number of leaves.
std::size_t decodeAll(const Message& m, TextDecoder& decoder, IssueList& issues)
{
    std::size_t leaves = 0;
    for (std::size_t s = 0; s < m.segmentCount(); ++s) {
        m.segment(s).forEachField([&](std::size_t, const Element& field) {
            field.forEachChild([&](const Element& rep) {
                rep.forEachChild([&](const Element& comp) {
                    comp.forEachChild([&](const Element& sub) {
                        decoder.decode(sub, &issues);
                        ++leaves;
                    });
                });
            });
        });
    }
    return leaves;
}

// Splits `bytes` and parses every message, calling onMessage(chunk, message) for each one
// that parsed; envelope and parse issues go to `issues`. Returns the number of messages seen.
template <typename F>
std::size_t forEachParsedMessage(std::string_view bytes, IssueList& issues, F&& onMessage)
{
    MessageSplitter splitter(bytes);
    Chunk chunk;
    Message m;
    std::size_t messages = 0;
    while (splitter.next(chunk, issues)) {
        if (chunk.kind != Chunk::Kind::Message) {
            continue;
        }
        ++messages;
        if (Er7Parser().parse(chunk.bytes, m, issues)) {
            onMessage(chunk, m);
        }
    }
    splitter.finish(issues);
    return messages;
}

} // namespace

BOOST_AUTO_TEST_SUITE(corpus)

BOOST_DATA_TEST_CASE(every_message_parses_and_writes_back_byte_identically, bdata::make(singleMessages()),
                     file)
{
    const std::string bytes = hl7gw::test::readFile(file);
    MessageSplitter splitter(bytes);
    Chunk chunk;
    IssueList envelope;
    std::size_t messages = 0;
    std::string written;
    Message m;
    while (splitter.next(chunk, envelope)) {
        BOOST_REQUIRE(chunk.kind == Chunk::Kind::Message);
        IssueList issues;
        BOOST_REQUIRE_MESSAGE(Er7Parser().parse(chunk.bytes, m, issues), file.filename());
        BOOST_TEST(!issues.hasFatal());
        written += writeEr7(m);
        ++messages;
    }
    BOOST_TEST(messages == 1u);
    BOOST_TEST(written == normalised(bytes));
}

BOOST_DATA_TEST_CASE(every_message_decodes_and_renders_as_json, bdata::make(singleMessages()), file)
{
    const std::string bytes = hl7gw::test::readFile(file);
    ParseOptions options;
    // The one ISO-8859-1 file without MSH-18 is read the way its channel would declare it.
    if (file.filename() == "mllp-iti8-a40-iso-8859-1.hl7") {
        options.defaultCharset = &Charset::latin1();
    }
    Message m;
    IssueList parseIssues;
    BOOST_REQUIRE(Er7Parser(options).parse(bytes, m, parseIssues));
    // Parse errors (odd MSH-2, unknown MSH-18) are the message's own; decoding must add none.
    IssueList issues;
    TextDecoder decoder;
    BOOST_TEST(decodeAll(m, decoder, issues) >= m.segmentCount());
    std::string json;
    writeJson(m, 1, decoder, json, &issues);
    rapidjson::Document doc;
    doc.Parse(json.c_str(), json.size());
    BOOST_REQUIRE(!doc.HasParseError());
    BOOST_TEST(doc["segments"].Size() == m.segmentCount());
    for (const auto& issue : issues) {
        BOOST_TEST(issue.severity != hl7gw::core::Severity::Error, issue.text);
    }
}

BOOST_DATA_TEST_CASE(multi_message_files_split_into_their_messages, bdata::make(multi()), file)
{
    IssueList issues;
    std::size_t parsed = 0;
    const std::size_t seen = forEachParsedMessage(hl7gw::test::readFile(file), issues,
                                                  [&](const Chunk&, const Message&) { ++parsed; });
    // simplesender-hl7.txt wraps its message in literal "[SOM]" text: junk, reported.
    BOOST_TEST((parsed >= 1u || issues.hasErrors()));
    BOOST_TEST(parsed == seen);
}

BOOST_DATA_TEST_CASE(malformed_inputs_never_crash_and_problems_are_located, bdata::make(malformed()),
                     file)
{
    IssueList issues;
    TextDecoder decoder;
    forEachParsedMessage(hl7gw::test::readFile(file), issues, [&](const Chunk& chunk, const Message& m) {
        decodeAll(m, decoder, issues);
        std::string json;
        writeJson(m, chunk.number, decoder, json, &issues);
        BOOST_TEST(writeEr7(m).size() <= chunk.bytes.size() + m.segmentCount());
    });
    for (const auto& issue : issues) {
        BOOST_TEST(!issue.location.toString().empty(), issue.text);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(leaf_walker)

namespace {

// Every leaf with its position, read through the nested Element API (field by field).
std::vector<std::string> nestedLeaves(const Message& m)
{
    std::vector<std::string> out;
    for (std::size_t s = 0; s < m.segmentCount(); ++s) {
        m.segment(s).forEachField([&](std::size_t f, const Element& field) {
            std::uint32_t r = 0;
            field.forEachChild([&](const Element& rep) {
                ++r;
                std::uint32_t c = 0;
                rep.forEachChild([&](const Element& comp) {
                    ++c;
                    std::uint32_t k = 0;
                    comp.forEachChild([&](const Element& sub) {
                        ++k;
                        out.push_back(std::to_string(s) + ":" + std::to_string(f) + "." +
                                      std::to_string(r) + "." + std::to_string(c) + "." +
                                      std::to_string(k) + "=" + std::string(sub.raw()));
                    });
                });
            });
        });
    }
    return out;
}

std::vector<std::string> walkedLeaves(const Message& m)
{
    std::vector<std::string> out;
    for (std::size_t s = 0; s < m.segmentCount(); ++s) {
        m.segment(s).forEachLeaf([&](const Leaf& l) {
            out.push_back(std::to_string(s) + ":" + std::to_string(l.field) + "." +
                          std::to_string(l.repetition) + "." + std::to_string(l.component) + "." +
                          std::to_string(l.subcomponent) + "=" + std::string(l.element.raw()));
        });
    }
    return out;
}

std::vector<fs::path> walkerInputs()
{
    std::vector<fs::path> files = singleMessages();
    for (const fs::path& p : hl7gw::test::filesUnder(hl7gw::test::dataDir() / "hl7v2", {".hl7"})) {
        files.push_back(p);
    }
    return files;
}

} // namespace

BOOST_DATA_TEST_CASE(single_pass_walk_matches_the_nested_element_api, bdata::make(walkerInputs()),
                     file)
{
    IssueList issues;
    const std::size_t seen =
        forEachParsedMessage(hl7gw::test::readFile(file), issues, [](const Chunk&, const Message& m) {
            const auto nested = nestedLeaves(m);
            const auto walked = walkedLeaves(m);
            BOOST_TEST(nested == walked, boost::test_tools::per_element());
        });
    BOOST_TEST(seen >= 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fuzz_regressions)

// Inputs the fuzzer once broke the codec with (tests/data/hl7v2/fuzz-regressions/): each must
// now go through every reader without a crash and give UTF-8 JSON.
BOOST_DATA_TEST_CASE(replay_without_crash,
                     bdata::make(hl7gw::test::filesUnder(hl7gw::test::dataDir() /
                                                             "hl7v2/fuzz-regressions",
                                                         {".hl7"})),
                     file)
{
    IssueList issues;
    TextDecoder decoder;
    std::size_t parsed = 0;
    forEachParsedMessage(hl7gw::test::readFile(file), issues, [&](const Chunk& chunk, const Message& m) {
        ++parsed;
        decodeAll(m, decoder, issues);
        std::string json;
        writeJson(m, chunk.number, decoder, json, &issues);
        rapidjson::Document doc;
        doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.c_str(), json.size());
        BOOST_TEST(!doc.HasParseError());
    });
    BOOST_TEST(parsed >= 1u);
}

BOOST_AUTO_TEST_SUITE_END()
