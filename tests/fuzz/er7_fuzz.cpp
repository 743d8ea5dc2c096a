// libFuzzer target for the ER7 codec (STYLE.md §6: fuzzing lives behind HL7GW_FUZZ).
// Run it with scripts/fuzz.sh. The input is a buffer of messages as a file or stream would hold
// them; every message the splitter finds is parsed with UTF-8 as the default charset and, when
// the first input byte is odd, again with GB18030 (whose trail bytes include the delimiters).
// Each usable parse is then read in every way the codec offers, and the invariants the headers
// promise are checked; a broken one aborts, so libFuzzer keeps the input.

#include "gateway/core/issue.h"
#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/charset_converter.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/er7_writer.h"
#include "gateway/hl7v2/json_writer.h"
#include "gateway/hl7v2/message.h"
#include "gateway/hl7v2/message_splitter.h"
#include "gateway/hl7v2/path.h"
#include "gateway/hl7v2/structure_validator.h"
#include "gateway/hl7v2/text_decoder.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace hl7gw;
using namespace hl7gw::hl7v2;

void check(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "er7_fuzz: invariant broken: %s\n", what);
        std::abort();
    }
}

// Paths of every shape Path::parse accepts, including ones past the end of a message.
const std::vector<Path>& paths()
{
    static const std::vector<Path> all = [] {
        std::vector<Path> out;
        for (const char* text :
             {"MSH-1", "MSH-2", "MSH-9.1", "MSH-9.2", "MSH-18", "PID-3[2].1", "PID-5.1",
              "PID-5.1.2", "OBX[3]-5", "OBR-15.1.2", "ZZZ[9]-99[9].9.9", "EVN-1"}) {
            const std::optional<Path> path = Path::parse(text);
            check(path.has_value(), "a fixed path parses");
            out.push_back(*path);
        }
        return out;
    }();
    return all;
}

// Every view the decoders return must be UTF-8: that is the decoder's contract.
void decodeBoth(const Element& e, TextDecoder& keep, TextDecoder& plain, core::IssueList& issues)
{
    check(isValidUtf8(keep.decode(e, &issues)), "decode (keepFormatting) gives UTF-8");
    check(isValidUtf8(plain.decode(e, &issues)), "decode (plain) gives UTF-8");
}

// Walks one element's subtree and checks that forEachChild, child() and childCount() agree.
void walk(const Element& e, int depth, TextDecoder& keep, TextDecoder& plain,
          core::IssueList& issues)
{
    if (depth == 3 || e.isLiteral()) {
        decodeBoth(e, keep, plain, issues);
        return;
    }
    std::size_t n = 0;
    e.forEachChild([&](const Element& child) {
        ++n;
        check(child.raw() == e.child(n).raw(), "child(n) is the n-th child of forEachChild");
        check(child.raw().data() >= e.raw().data() &&
                  child.raw().data() + child.raw().size() <= e.raw().data() + e.raw().size(),
              "a child lies inside its parent");
        walk(child, depth + 1, keep, plain, issues);
    });
    check(n == e.childCount(), "childCount matches forEachChild");
    check(!e.child(n + 1).present(), "no child past the last");
}

void exercise(const Message& message, const Er7Parser& parser)
{
    TextDecoder keep(DecodeOptions{true});
    TextDecoder plain(DecodeOptions{false});
    core::IssueList issues;

    for (std::size_t i = 0; i < message.segmentCount(); ++i) {
        const SegmentView segment = message.segment(i);
        std::size_t fields = 0;
        segment.forEachField([&](std::size_t n, const Element& field) {
            check(n == ++fields, "fields are numbered 1, 2, 3 ...");
            check(segment.field(n).raw() == field.raw(), "field(n) matches forEachField");
            walk(field, 0, keep, plain, issues);
            std::string appended;
            keep.decodeAppend(field, appended, &issues);
        });
        check(fields == segment.fieldCount(), "fieldCount matches forEachField");
        check(!segment.field(fields + 1).present(), "no field past the last");

        // The single-pass walker must see exactly the leaves of the nested API, at the same
        // positions, and a leaf it calls plain must decode to its own bytes.
        std::vector<std::string_view> nested;
        segment.forEachField([&](std::size_t, const Element& field) {
            field.forEachChild([&](const Element& r) {
                r.forEachChild([&](const Element& c) {
                    c.forEachChild([&](const Element& sub) { nested.push_back(sub.raw()); });
                });
            });
        });
        std::size_t leaves = 0;
        segment.forEachLeaf([&](const Leaf& leaf) {
            check(leaves < nested.size(), "no more leaves than the nested API");
            check(leaf.element.raw().data() == nested[leaves].data() &&
                      leaf.element.raw().size() == nested[leaves].size(),
                  "forEachLeaf yields the nested API's leaves in order");
            check(segment.field(leaf.field).repetition(leaf.repetition).component(leaf.component)
                          .subcomponent(leaf.subcomponent).raw().data() == leaf.element.raw().data() ||
                      leaf.element.isLiteral(),
                  "a leaf's position finds it again");
            if (leaf.plain) {
                check(keep.decode(leaf.element, &issues) == leaf.element.raw(),
                      "a plain leaf decodes to its own bytes");
            }
            ++leaves;
        });
        check(leaves == nested.size(), "forEachLeaf yields every leaf");

        // An untouched segment writes back as it came, apart from trailing empty fields,
        // which writers must omit.
        SegmentBuilder builder(segment);
        std::string written;
        core::IssueList writeIssues;
        check(builder.write(written, writeIssues), "an untouched segment writes");
        const std::string_view raw = segment.raw();
        check(raw.substr(0, written.size()) == written, "SegmentBuilder keeps the bytes");
        for (char c : raw.substr(written.size())) {
            check(c == message.delimiters().field, "only trailing empty fields are dropped");
        }
    }

    for (const Path& path : paths()) {
        const Element e = path.resolve(message);
        decodeBoth(e, keep, plain, issues);
        check(Path::parse(path.toString()).has_value(), "Path::toString parses back");
    }

    std::string json;
    writeJson(message, 1, keep, json, &issues);
    rapidjson::Document document;
    document.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
    if (document.HasParseError()) {
        std::fprintf(stderr, "er7_fuzz: %s at %zu\n",
                     rapidjson::GetParseError_En(document.GetParseError()),
                     document.GetErrorOffset());
    }
    check(!document.HasParseError(), "writeJson writes valid UTF-8 JSON");

    // The validation pass reports through issues; it must never crash on what the parser kept.
    StructureValidator validator;
    core::IssueList validation;
    validator.validate(message, validation);

    const std::string er7 = writeEr7(message);
    Message again;
    core::IssueList againIssues;
    check(parser.parse(er7, again, againIssues), "writeEr7 output parses");
    check(again.segmentCount() == message.segmentCount(), "writeEr7 keeps every segment");
    check(writeEr7(again) == er7, "writeEr7 is stable");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<Er7Parser> parsers{Er7Parser(ParseOptions{&Charset::utf8()})};
    if (size > 0 && (data[0] & 1) != 0) {
        parsers.emplace_back(ParseOptions{&Charset::gb18030()});
    }

    MessageSplitter splitter(input);
    Chunk chunk;
    core::IssueList envelopeIssues;
    Message message;
    while (splitter.next(chunk, envelopeIssues)) {
        check(chunk.bytes.data() >= input.data() &&
                  chunk.bytes.data() + chunk.bytes.size() <= input.data() + input.size(),
              "a chunk lies inside the buffer");
        if (chunk.kind != Chunk::Kind::Message) {
            continue;
        }
        for (const Er7Parser& parser : parsers) {
            core::IssueList issues;
            if (parser.parse(chunk.bytes, message, issues)) {
                check(!issues.hasFatal(), "a usable parse has no Fatal issue");
                exercise(message, parser);
            } else {
                check(issues.hasFatal(), "a failed parse says why with a Fatal issue");
            }
        }
    }
    splitter.finish(envelopeIssues);
    return 0;
}
