#include "gateway/hl7v2/xml_codec.h"

#include <xercesc/dom/DOMException.hpp>
#include <xercesc/dom/DOMLSException.hpp>
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLFormatter.hpp>
#include <xercesc/sax/Locator.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/OutOfMemoryException.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/SecurityManager.hpp>
#include <xercesc/util/TransService.hpp>
#include <xercesc/util/XMLChar.hpp>
#include <xercesc/util/XMLDOMMsg.hpp>
#include <xercesc/util/XMLException.hpp>
#include <xercesc/util/XMLUni.hpp>

#include "gateway/hl7v2/charset_converter.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/er7_writer.h"
#include "gateway/hl7v2/structure_table.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace hl7gw::hl7v2 {

namespace {

using core::Location;
using core::Severity;
using XmlString = std::basic_string<XMLCh>;

std::mutex platformMutex;
int platformUsers = 0;

// The codec's own platform reference, taken on first use and kept for the process: a
// per-call Initialize/Terminate pair would rebuild Xerces' transcoding tables every time.
void ensurePlatform()
{
    static const XercesPlatform platform;
}

// ---------------------------------------------------------------- transcoding

XmlString toXml(std::string_view utf8)
{
    if (utf8.empty()) {
        return {};
    }
    xercesc::TranscodeFromStr converted(reinterpret_cast<const XMLByte*>(utf8.data()), utf8.size(),
                                        "UTF-8");
    return XmlString(converted.str(), converted.length());
}

// Element names are ASCII by construction (checked by isXmlName), so widening suffices.
XmlString asciiToXml(std::string_view ascii)
{
    return XmlString(ascii.begin(), ascii.end());
}

std::string toUtf8(const XMLCh* text, std::size_t length)
{
    if (text == nullptr || length == 0) {
        return {};
    }
    xercesc::TranscodeToStr converted(text, length, "UTF-8");
    return std::string(reinterpret_cast<const char*>(converted.str()), converted.length());
}

std::string toUtf8(const XMLCh* text)
{
    return text == nullptr ? std::string() : toUtf8(text, xercesc::XMLString::stringLen(text));
}

std::string exceptionText(const xercesc::XMLException& e)
{
    return toUtf8(e.getMessage());
}

// ---------------------------------------------------------------- names

bool isAsciiLetter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool isAsciiDigit(char c)
{
    return c >= '0' && c <= '9';
}

// The ASCII subset of XML names we emit: a letter or '_', then letters, digits, '_', '-', '.'.
bool isXmlName(std::string_view name)
{
    if (name.empty() || !(isAsciiLetter(name[0]) || name[0] == '_')) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return isAsciiLetter(c) || isAsciiDigit(c) || c == '_' || c == '-' || c == '.';
    });
}

bool isSegmentId(std::string_view name)
{
    return name.size() == 3 && name[0] >= 'A' && name[0] <= 'Z' &&
           std::all_of(name.begin() + 1, name.end(),
                       [](char c) { return (c >= 'A' && c <= 'Z') || isAsciiDigit(c); });
}

bool isHeaderId(std::string_view id)
{
    return id == "MSH" || id == "FHS" || id == "BHS";
}

// The number after the last '.' of `name` ("PID.3" -> 3, "CX.1" -> 1, "OBX.2.1.3" -> 3);
// 0 when there is none.
std::uint32_t trailingNumber(std::string_view name)
{
    const std::size_t dot = name.rfind('.');
    // Four digits at most: no HL7 position comes near, and a huge number would make the
    // writer pad out millions of empty positions.
    if (dot == std::string_view::npos || dot + 1 == name.size() || name.size() - dot - 1 > 4) {
        return 0;
    }
    std::uint32_t n = 0;
    for (char c : name.substr(dot + 1)) {
        if (!isAsciiDigit(c)) {
            return 0;
        }
        n = n * 10 + static_cast<std::uint32_t>(c - '0');
    }
    return n;
}

// ---------------------------------------------------------------- ER7 -> XML

// Escape sequences that stand for characters: the decoder turns them into text. Every
// other sequence (formatting, highlighting, local \Z..\, unknown) becomes an <escape>
// element so that it survives the trip back to ER7 exactly.
bool decodesToText(std::string_view seq)
{
    if (seq.size() == 1) {
        return seq[0] == 'F' || seq[0] == 'S' || seq[0] == 'T' || seq[0] == 'R' || seq[0] == 'E';
    }
    return !seq.empty() && (seq[0] == 'X' || seq[0] == 'C' || seq[0] == 'M');
}

bool isControl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7F;
}

// Hands what XMLFormatter produces (already UTF-8 and escaped) to the writer's string.
class StringTarget : public xercesc::XMLFormatTarget {
public:
    explicit StringTarget(std::string& out) : out_(out) {}

    void writeChars(const XMLByte* const bytes, const XMLSize_t count,
                    xercesc::XMLFormatter* const) override
    {
        out_.append(reinterpret_cast<const char*>(bytes), count);
    }

private:
    std::string& out_;
};

// Streams the document in one pass: markup is ASCII and written as is, text and attribute
// values go through Xerces' XMLFormatter for escaping and UTF-8. A DOM built first and
// serialised afterwards costs several times the rest of the conversion.
class XmlWriter {
public:
    XmlWriter(const Message& message, TextDecoder& decoder, const StructureTable& table,
              core::IssueList* issues)
        : message_(message), decoder_(decoder), table_(table), issues_(issues)
    {
    }

    bool write(std::string& out);

private:
    // A level of the message structure. While segments are being placed, frame i is the
    // element open_[i] (the root, then the groups entered).
    struct Frame {
        const std::vector<StructureNode>* children;
        std::size_t pos; // index of the child last placed; npos before the first
    };

    // An element whose start tag is written. Its '>' waits for the first child, so that an
    // element without children can still become "<name/>".
    struct OpenElement {
        std::string name;
        bool empty = true;
        bool container = false; // holds elements only, so its children are indented
    };

    void open(std::string_view name);
    void close();
    void leaveFrames(std::vector<Frame>& frames, std::size_t size);
    void attribute(std::string_view name, const XmlString& value);
    void writeText(const XmlString& text);
    void format(const XMLCh* text, std::size_t length, xercesc::XMLFormatter::EscapeFlags escapes);
    void addIssue(Severity severity, std::string code, Location where, std::string text);

    std::string decoded(const Element& e);
    const DataTypeDefinition* composite(std::string_view type) const;
    std::string fieldType(const SegmentView& segment, std::size_t n);

    void placeSegment(std::vector<Frame>& frames, std::string_view id);
    bool findIn(std::vector<Frame>& frames, std::size_t depth, std::string_view id, bool lenient);

    void appendSegment(const SegmentView& segment);
    void appendRepetition(const std::string& name, const Element& repetition,
                          const std::string& type);
    void appendComponent(const std::string& name, const Element& component,
                         const std::string& type);
    void appendValue(const Element& value);
    void appendText(std::string_view text);
    void appendEscape(std::string_view sequence);

    const Message& message_;
    TextDecoder& decoder_;
    const StructureTable& table_;
    core::IssueList* issues_;
    XmlString namespace_ = asciiToXml(V2XmlNamespace);
    std::string structureName_;
    bool failed_ = false;
    bool invalidCharacter_ = false;
    std::string xml_;
    StringTarget target_{xml_};
    // XML 1.0 in UTF-8, as the declaration says; a character the transcoder cannot write
    // becomes a character reference instead of failing the message.
    xercesc::XMLFormatter formatter_{u"UTF-8", xercesc::XMLUni::fgVersion1_0, &target_,
                                     xercesc::XMLFormatter::NoEscapes,
                                     xercesc::XMLFormatter::UnRep_CharRef};
    std::vector<OpenElement> open_;
};

void XmlWriter::addIssue(Severity severity, std::string code, Location where, std::string text)
{
    if (severity == Severity::Fatal || severity == Severity::Error) {
        failed_ = true;
    }
    if (issues_ != nullptr) {
        issues_->add(severity, std::move(code), std::move(where), std::move(text));
    }
}

// The children of an element are either all elements other than <escape> (segments,
// groups, fields, components) or text and <escape> elements (a value), so the first child
// decides whether the element gets indentation. Inside a value it would become text.
void XmlWriter::open(std::string_view name)
{
    if (!open_.empty()) {
        OpenElement& parent = open_.back();
        if (parent.empty) {
            xml_ += '>';
            parent.empty = false;
            parent.container = name != "escape";
        }
        if (parent.container) {
            xml_ += '\n';
            xml_.append(open_.size() * 2, ' ');
        }
    }
    xml_ += '<';
    xml_ += name;
    open_.push_back(OpenElement{std::string(name)});
}

void XmlWriter::close()
{
    const OpenElement& e = open_.back();
    if (e.empty) {
        xml_ += "/>";
    } else {
        if (e.container) {
            xml_ += '\n';
            xml_.append((open_.size() - 1) * 2, ' ');
        }
        xml_ += "</";
        xml_ += e.name;
        xml_ += '>';
    }
    open_.pop_back();
}

// Keeps the first `size` frames; the groups of the others are finished, so their elements
// are closed.
void XmlWriter::leaveFrames(std::vector<Frame>& frames, std::size_t size)
{
    frames.resize(size);
    while (open_.size() > size) {
        close();
    }
}

// Only right after open(): the start tag is still unfinished.
void XmlWriter::attribute(std::string_view name, const XmlString& value)
{
    xml_ += ' ';
    xml_ += name;
    xml_ += "=\"";
    // XML cannot carry U+0000; the value ends there, as a C string would.
    format(value.c_str(), xercesc::XMLString::stringLen(value.c_str()),
           xercesc::XMLFormatter::AttrEscapes);
    xml_ += '"';
}

// Text inside the innermost open element; its children are text and escapes only, so it
// never becomes a container.
void XmlWriter::writeText(const XmlString& text)
{
    OpenElement& parent = open_.back();
    if (parent.empty) {
        xml_ += '>';
        parent.empty = false;
    }
    format(text.data(), text.size(), xercesc::XMLFormatter::CharEscapes);
}

// XMLFormatter escapes but does not check: a character XML 1.0 forbids (U+FFFE, U+FFFF, a
// control character in an escape's V) would make the document unreadable, so it fails the
// message as Xerces' serializer does (INVALID_CHARACTER_ERR), once everything is decoded.
void XmlWriter::format(const XMLCh* text, std::size_t length,
                       xercesc::XMLFormatter::EscapeFlags escapes)
{
    for (std::size_t i = 0; i < length; ++i) {
        if (xercesc::XMLChar1_0::isXMLChar(text[i])) {
            continue;
        }
        // Outside the BMP: valid only as a high surrogate followed by a low one.
        if (i + 1 < length && xercesc::XMLChar1_0::isXMLChar(text[i], text[i + 1])) {
            ++i;
            continue;
        }
        invalidCharacter_ = true;
    }
    formatter_.formatBuf(text, length, escapes);
}

std::string XmlWriter::decoded(const Element& e)
{
    return std::string(decoder_.decode(e, issues_));
}

const DataTypeDefinition* XmlWriter::composite(std::string_view type) const
{
    if (type.empty() || !isXmlName(type)) {
        return nullptr;
    }
    const DataTypeDefinition* def = table_.dataType(type);
    return def != nullptr && !def->components.empty() ? def : nullptr;
}

std::string XmlWriter::fieldType(const SegmentView& segment, std::size_t n)
{
    const SegmentDefinition* def = table_.segment(segment.id());
    if (def == nullptr || n == 0 || n > def->fields.size()) {
        return {};
    }
    const std::string& type = def->fields[n - 1].dataType;
    if (type == "varies") {
        // OBX-5 takes the type OBX-2 names; other "varies" fields have no such pointer.
        return segment.id() == "OBX" && n == 5 ? decoded(segment.field(2).component(1))
                                               : std::string();
    }
    return type;
}

// Looks for a place for segment `id` in frames[depth]: the segment itself further on (or
// again, when it repeats), or a group further on (or a new instance of a repeating one)
// that can begin with it. On success the frames below are closed and the segment's frame
// is the last one.
bool XmlWriter::findIn(std::vector<Frame>& frames, std::size_t depth, std::string_view id,
                       bool lenient)
{
    // A group "can begin with" id when id is reachable before its first required child;
    // the lenient reading accepts id anywhere in the group (its required head is missing).
    auto canBegin = [lenient](const StructureNode& group, std::string_view seg) {
        auto walk = [lenient, seg](const auto& self, const StructureNode& node) -> bool {
            for (const StructureNode& c : node.children) {
                if (c.kind == StructureNode::Kind::Segment ? c.name == seg : self(self, c)) {
                    return true;
                }
                if (c.required && !lenient) {
                    return false;
                }
            }
            return false;
        };
        return walk(walk, group);
    };

    Frame& frame = frames[depth];
    const std::vector<StructureNode>& children = *frame.children;
    const std::size_t start = frame.pos == std::string::npos ? 0 : frame.pos;
    for (std::size_t i = start; i < children.size(); ++i) {
        const StructureNode& node = children[i];
        const bool current = i == frame.pos;
        if (current && !node.repeating) {
            continue;
        }
        if (node.kind == StructureNode::Kind::Segment) {
            if (node.name != id) {
                continue;
            }
            leaveFrames(frames, depth + 1);
            frames.back().pos = i;
            return true;
        }
        if (!canBegin(node, id)) {
            continue;
        }
        leaveFrames(frames, depth + 1);
        frames.back().pos = i;
        open(structureName_ + '.' + node.name);
        frames.push_back(Frame{&node.children, std::string::npos});
        return findIn(frames, frames.size() - 1, id, lenient);
    }
    return false;
}

// Opens the segment's element where the structure puts it.
void XmlWriter::placeSegment(std::vector<Frame>& frames, std::string_view id)
{
    for (bool lenient : {false, true}) {
        for (std::size_t depth = frames.size(); depth-- > 0;) {
            if (findIn(frames, depth, id, lenient)) {
                open(id);
                return;
            }
        }
    }
    // Not in the structure (Z-segment, wrong order, other version): kept in order at the
    // level where it appeared.
    open(id);
}

void XmlWriter::appendEscape(std::string_view sequence)
{
    open("escape");
    attribute("V", toXml(sequence));
    close();
}

// Text goes in as text, except control characters: XML 1.0 cannot carry most of them and
// normalises CR away, so they travel as \Xhh\ escapes.
void XmlWriter::appendText(std::string_view text)
{
    static const char* hex = "0123456789ABCDEF";
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t j = i;
        while (j < text.size() && !isControl(static_cast<unsigned char>(text[j]))) {
            ++j;
        }
        if (j > i) {
            writeText(toXml(text.substr(i, j - i)));
        }
        if (j == text.size()) {
            return;
        }
        std::string sequence = "X";
        while (j < text.size() && isControl(static_cast<unsigned char>(text[j]))) {
            const auto c = static_cast<unsigned char>(text[j]);
            sequence += hex[c >> 4];
            sequence += hex[c & 0xF];
            ++j;
        }
        appendEscape(sequence);
        i = j;
    }
}

// Splits the raw value at the escape sequences that are not characters, decoding the
// pieces between them with the caller's decoder (escapes and the message charset).
void XmlWriter::appendValue(const Element& value)
{
    const std::string_view raw = value.raw();
    if (value.isLiteral()) {
        appendText(raw);
        return;
    }
    const char escape = message_.delimiters().escape;
    const char* p = raw.data();
    const char* end = p + raw.size();
    const char* pieceStart = p;
    auto flushPiece = [&](const char* pieceEnd) {
        if (pieceEnd > pieceStart) {
            const Element piece(
                std::string_view(pieceStart, static_cast<std::size_t>(pieceEnd - pieceStart)),
                &message_, Level::Subcomponent, true);
            appendText(decoded(piece));
        }
    };
    while (p < end) {
        const char* hit = message_.findSeparator(p, end, escape);
        if (hit == end) {
            break;
        }
        const char* close = message_.findSeparator(hit + 1, end, escape);
        if (close == end) {
            break; // unterminated: the decoder keeps it as written and warns
        }
        const std::string_view seq(hit + 1, static_cast<std::size_t>(close - hit - 1));
        if (!decodesToText(seq)) {
            flushPiece(hit);
            appendEscape(decoded(Element(seq, &message_, Level::Subcomponent, true)));
            pieceStart = close + 1;
        }
        p = close + 1;
    }
    flushPiece(end);
}

void XmlWriter::appendComponent(const std::string& name, const Element& component,
                                const std::string& type)
{
    open(name);
    const DataTypeDefinition* def = composite(type);
    const char sub = message_.delimiters().subcomponent;
    const std::string_view raw = component.raw();
    const bool split = def != nullptr || message_.findSeparator(raw.data(), raw.data() + raw.size(),
                                                                sub) != raw.data() + raw.size();
    if (!split) {
        appendValue(component);
        close();
        return;
    }
    const std::string prefix = def != nullptr ? def->name : name;
    std::size_t s = 0;
    component.forEachChild([&](const Element& subcomponent) {
        ++s;
        if (!subcomponent.empty()) {
            open(prefix + '.' + std::to_string(s));
            appendValue(subcomponent);
            close();
        }
    });
    close();
}

void XmlWriter::appendRepetition(const std::string& name, const Element& repetition,
                                 const std::string& type)
{
    open(name);
    const DataTypeDefinition* def = composite(type);
    const Delimiters& d = message_.delimiters();
    const std::string_view raw = repetition.raw();
    const char* end = raw.data() + raw.size();
    const bool split = def != nullptr ||
                       message_.findSeparator(raw.data(), end, d.component) != end ||
                       message_.findSeparator(raw.data(), end, d.subcomponent) != end;
    if (!split) {
        appendValue(repetition);
        close();
        return;
    }
    const std::string prefix = def != nullptr ? def->name : name;
    std::size_t c = 0;
    repetition.forEachChild([&](const Element& component) {
        ++c;
        if (component.empty()) {
            return;
        }
        const std::string componentType =
            def != nullptr && c <= def->components.size() ? def->components[c - 1] : std::string();
        appendComponent(prefix + '.' + std::to_string(c), component, componentType);
    });
    close();
}

// Writes the fields into the segment's element, which is open.
void XmlWriter::appendSegment(const SegmentView& segment)
{
    const std::string id(segment.id());
    segment.forEachField([&](std::size_t n, const Element& field) {
        const std::string name = id + '.' + std::to_string(n);
        if (field.isLiteral()) {
            open(name);
            appendValue(field);
            close();
            return;
        }
        if (field.empty()) {
            return;
        }
        const std::string type = fieldType(segment, n);
        field.forEachChild([&](const Element& repetition) {
            appendRepetition(name, repetition, type);
        });
    });
}

bool XmlWriter::write(std::string& out)
{
    const SegmentView header = message_.header();
    const std::string code = decoded(header.field(9).component(1));
    const std::string trigger = decoded(header.field(9).component(2));
    const std::string declared = decoded(header.field(9).component(3));
    structureName_ = table_.structureFor(code, trigger, declared);
    const MessageStructure* structure =
        structureName_.empty() ? nullptr : table_.structure(structureName_);
    if (!isXmlName(structureName_)) {
        // Unknown to the tables: the sender's own MSH-9.3, else code_trigger, else code,
        // else Mirth's generic root; segments then sit flat under the root.
        structureName_ = declared;
        if (!isXmlName(structureName_)) {
            structureName_ = trigger.empty() ? code : code + '_' + trigger;
        }
        if (!isXmlName(structureName_)) {
            structureName_ = "HL7Message";
        }
        structure = nullptr;
    }

    xml_ += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\" ?>";
    open(structureName_);
    attribute("xmlns", namespace_);

    static const std::vector<StructureNode> noChildren;
    std::vector<Frame> frames{
        Frame{structure != nullptr ? &structure->children : &noChildren, std::string::npos}};
    for (std::size_t i = 0; i < message_.segmentCount(); ++i) {
        const SegmentView segment = message_.segment(i);
        const std::string_view id = segment.id();
        if (!isSegmentId(id)) {
            Location where;
            where.line = message_.segmentSpans()[i].line;
            where.offset = message_.segmentSpans()[i].offset;
            addIssue(Severity::Error, "100", where,
                     "segment id is not 3 capital letters or digits; it has no XML element name");
            continue;
        }
        placeSegment(frames, id);
        appendSegment(segment);
        close();
    }
    while (!open_.empty()) {
        close();
    }

    if (invalidCharacter_) {
        // writeXml reports it like any other Xerces failure: issue 207, nothing appended.
        throw xercesc::DOMLSException(xercesc::DOMLSException::SERIALIZE_ERR,
                                      xercesc::XMLDOMMsg::INVALID_CHARACTER_ERR,
                                      xercesc::XMLPlatformUtils::fgMemoryManager);
    }
    out += xml_;
    out += '\n';
    return !failed_;
}

// ---------------------------------------------------------------- XML -> ER7

// The parsed document, kept small: elements with their text and children in order.
struct XmlNode {
    enum class Kind : std::uint8_t { Element, Text };
    Kind kind = Kind::Element;
    std::string name; // local name
    std::string ns;
    std::string text;      // Text: the characters; escape element: its V attribute
    bool hasValue = false; // escape element: V was given
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    std::vector<XmlNode> children; // Element only
};

constexpr std::size_t MaxDepth = 64;

class TreeBuilder : public xercesc::DefaultHandler {
public:
    explicit TreeBuilder(core::IssueList& issues) : issues_(issues) {}

    XmlNode& root() { return root_; }
    bool tooDeep() const { return tooDeep_; }

    void setDocumentLocator(const xercesc::Locator* locator) override { locator_ = locator; }

    void startElement(const XMLCh* uri, const XMLCh* localname, const XMLCh*,
                      const xercesc::Attributes& attrs) override
    {
        if (skipped_ > 0 || stack_.size() >= MaxDepth) {
            tooDeep_ = tooDeep_ || stack_.size() >= MaxDepth;
            ++skipped_;
            return;
        }
        XmlNode node;
        node.name = toUtf8(localname);
        node.ns = toUtf8(uri);
        if (locator_ != nullptr) {
            node.line = static_cast<std::uint32_t>(locator_->getLineNumber());
            node.column = static_cast<std::uint32_t>(locator_->getColumnNumber());
        }
        if (const XMLCh* v = attrs.getValue(u"V"); v != nullptr) {
            node.text = toUtf8(v);
            node.hasValue = true;
        }
        if (stack_.empty()) {
            root_ = std::move(node);
            stack_.push_back(&root_);
            return;
        }
        XmlNode* parent = stack_.back();
        parent->children.push_back(std::move(node));
        stack_.push_back(&parent->children.back());
    }

    void endElement(const XMLCh*, const XMLCh*, const XMLCh*) override
    {
        if (skipped_ > 0) {
            --skipped_;
            return;
        }
        stack_.pop_back();
    }

    void characters(const XMLCh* chars, const XMLSize_t length) override
    {
        if (skipped_ > 0 || stack_.empty()) {
            return;
        }
        std::vector<XmlNode>& children = stack_.back()->children;
        if (children.empty() || children.back().kind != XmlNode::Kind::Text) {
            XmlNode text;
            text.kind = XmlNode::Kind::Text;
            children.push_back(std::move(text));
        }
        children.back().text += toUtf8(chars, length);
    }

    void fatalError(const xercesc::SAXParseException& e) override
    {
        report(Severity::Fatal, e);
        throw e;
    }

    void error(const xercesc::SAXParseException& e) override { report(Severity::Error, e); }

    void warning(const xercesc::SAXParseException& e) override { report(Severity::Warning, e); }

private:
    void report(Severity severity, const xercesc::SAXParseException& e)
    {
        Location where;
        where.line = static_cast<std::uint32_t>(e.getLineNumber());
        where.path = "line " + std::to_string(e.getLineNumber()) + ", column " +
                     std::to_string(e.getColumnNumber());
        issues_.add(severity, "100", std::move(where), "XML: " + toUtf8(e.getMessage()));
    }

    core::IssueList& issues_;
    const xercesc::Locator* locator_ = nullptr;
    XmlNode root_;
    std::vector<XmlNode*> stack_;
    std::size_t skipped_ = 0;
    bool tooDeep_ = false;
};

bool isWhitespace(std::string_view text)
{
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

bool isEscapeElement(const XmlNode& node)
{
    return node.kind == XmlNode::Kind::Element && node.name == "escape";
}

// True when the element holds values as children (components, fields ...), false when it
// is a value itself (text and <escape> elements only).
bool isContainer(const XmlNode& node)
{
    return std::any_of(node.children.begin(), node.children.end(), [](const XmlNode& c) {
        return c.kind == XmlNode::Kind::Element && !isEscapeElement(c);
    });
}

class Er7Builder {
public:
    Er7Builder(core::IssueList& issues, bool decodedValues)
        : issues_(issues), decodedValues_(decodedValues)
    {
    }

    bool build(const XmlNode& root, std::string& out);

private:
    enum class RootKind : std::uint8_t { Message, Segment, Field };

    Location locate(const XmlNode& node) const;
    void addIssue(Severity severity, const XmlNode& node, std::string text);
    void enter(const XmlNode& node) { path_.push_back(&node); }
    void leave() { path_.pop_back(); }

    const XmlNode* findHeader(const XmlNode& container) const;
    bool readDelimiters(const XmlNode& header);
    static std::string literalText(const XmlNode& node);

    void collectSegments(const XmlNode& container);
    void buildSegment(const XmlNode& segment);
    std::string fieldValue(const XmlNode& field);
    std::string componentValue(const XmlNode& component);
    std::string value(const XmlNode& node);
    void appendText(std::string_view text, std::string& out);
    void appendRawText(std::string_view text, std::string& out);
    std::string join(const XmlNode& parent, char separator, const char* levelName,
                     std::string (Er7Builder::*part)(const XmlNode&));
    void fixCharset(SegmentBuilder& msh, const XmlNode& segment);

    core::IssueList& issues_;
    bool decodedValues_;
    Delimiters delimiters_;
    CharsetConverter converter_;
    std::vector<const XmlNode*> path_;
    std::vector<std::string> segments_;
    std::unique_ptr<SegmentBuilder> msh_;
    std::size_t mshIndex_ = 0;
    const XmlNode* mshNode_ = nullptr;
    std::string headerField_;    // MSH.1 of the first header, as sent
    std::string headerEncoding_; // MSH.2 of the first header, as sent
};

Location Er7Builder::locate(const XmlNode& node) const
{
    Location where;
    where.line = node.line;
    where.path =
        "line " + std::to_string(node.line) + ", column " + std::to_string(node.column) + ": ";
    for (const XmlNode* n : path_) {
        where.path += '/';
        where.path += n->name;
    }
    if (path_.empty() || path_.back() != &node) {
        where.path += '/';
        where.path += node.name;
    }
    return where;
}

void Er7Builder::addIssue(Severity severity, const XmlNode& node, std::string text)
{
    issues_.add(severity, "100", locate(node), std::move(text));
}

std::string Er7Builder::literalText(const XmlNode& node)
{
    std::string text;
    for (const XmlNode& c : node.children) {
        if (c.kind == XmlNode::Kind::Text) {
            text += c.text;
        }
    }
    return text;
}

const XmlNode* Er7Builder::findHeader(const XmlNode& container) const
{
    for (const XmlNode& c : container.children) {
        if (c.kind != XmlNode::Kind::Element) {
            continue;
        }
        if (isSegmentId(c.name)) {
            if (isHeaderId(c.name)) {
                return &c;
            }
            continue;
        }
        if (const XmlNode* inner = findHeader(c); inner != nullptr) {
            return inner;
        }
    }
    return nullptr;
}

// MSH.1/MSH.2 are checked by the ER7 parser itself, on a one-segment header built from
// them, so XML and ER7 input obey the same delimiter rules.
bool Er7Builder::readDelimiters(const XmlNode& header)
{
    std::string field;
    std::string encoding;
    const XmlNode* encodingNode = &header;
    for (const XmlNode& c : header.children) {
        if (c.kind != XmlNode::Kind::Element) {
            continue;
        }
        const std::uint32_t n = trailingNumber(c.name);
        if (n == 1 && field.empty()) {
            field = literalText(c);
        } else if (n == 2 && encoding.empty()) {
            encoding = literalText(c);
            encodingNode = &c;
        }
    }
    headerField_ = field;
    headerEncoding_ = encoding;
    if (field.size() != 1) {
        addIssue(Severity::Fatal, header,
                 header.name + ".1 must hold exactly one character, the field separator");
        return false;
    }
    const std::string probe = "MSH" + field + encoding;
    Message message;
    core::IssueList found;
    const bool ok = Er7Parser().parse(probe, message, found);
    for (const core::Issue& issue : found) {
        issues_.add(issue.severity, issue.code, locate(*encodingNode), issue.text);
    }
    if (!ok) {
        return false;
    }
    delimiters_ = message.delimiters();
    return true;
}

// Official form: the text is decoded; escapeValue writes it for ER7.
void Er7Builder::appendText(std::string_view text, std::string& out)
{
    Location where = path_.empty() ? Location{} : locate(*path_.back());
    escapeValue(text, delimiters_, Charset::utf8(), converter_, out, issues_, where);
}

// Mirth form: the text is ER7 as Mirth copied it, escape sequences and all, and may hold
// the separators of lower levels (Mirth leaves `a&b` or `a~b` unsplit when told not to
// handle subcomponents or repetitions), so it is written as it is. Only what would end the
// field or the segment (the field separator, line breaks, other control characters) is
// escaped.
void Er7Builder::appendRawText(std::string_view text, std::string& out)
{
    std::size_t runStart = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != delimiters_.field && !isControl(static_cast<unsigned char>(text[i]))) {
            continue;
        }
        out.append(text.substr(runStart, i - runStart));
        appendText(text.substr(i, 1), out);
        runStart = i + 1;
    }
    out.append(text.substr(runStart));
}

// A value: text plus <escape V="..."/> elements, written as one escaped ER7 value.
std::string Er7Builder::value(const XmlNode& node)
{
    enter(node);
    std::string out;
    for (const XmlNode& c : node.children) {
        if (c.kind == XmlNode::Kind::Text) {
            if (decodedValues_) {
                appendText(c.text, out);
            } else {
                appendRawText(c.text, out);
            }
            continue;
        }
        if (!isEscapeElement(c)) {
            addIssue(Severity::Error, c,
                     "element <" + c.name + "> cannot appear in a value; dropped");
            continue;
        }
        const char e = delimiters_.escape;
        const bool usable = c.hasValue && !c.text.empty() && e != '\0' &&
                            std::none_of(c.text.begin(), c.text.end(), [this, e](char ch) {
                                const Delimiters& d = delimiters_;
                                return ch == e || ch == d.field || ch == d.component ||
                                       ch == d.repetition || ch == d.subcomponent ||
                                       isControl(static_cast<unsigned char>(ch));
                            });
        if (!usable) {
            addIssue(Severity::Error, c,
                     e == '\0' ? "escape element, but MSH-2 declares no escape character; dropped"
                               : "escape element without a usable V attribute; dropped");
            continue;
        }
        out += e;
        out += c.text;
        out += e;
    }
    leave();
    return out;
}

// Joins the numbered children of `parent` (named `X.n`) with `separator`, each written by
// `part`; missing numbers are empty, trailing empties are left out.
std::string Er7Builder::join(const XmlNode& parent, char separator, const char* levelName,
                             std::string (Er7Builder::*part)(const XmlNode&))
{
    enter(parent);
    std::map<std::uint32_t, std::string> parts;
    for (const XmlNode& c : parent.children) {
        if (c.kind == XmlNode::Kind::Text) {
            if (!isWhitespace(c.text)) {
                addIssue(Severity::Error, parent,
                         std::string("text next to ") + levelName + " elements; dropped");
            }
            continue;
        }
        const std::uint32_t n = trailingNumber(c.name);
        if (n == 0 || isEscapeElement(c)) {
            addIssue(Severity::Error, c,
                     std::string("expected a ") + levelName + " element named X.n; dropped");
            continue;
        }
        if (parts.count(n) != 0) {
            addIssue(Severity::Error, c,
                     std::string(levelName) + " " + std::to_string(n) +
                         " appears twice; the second is dropped");
            continue;
        }
        if (n > 1 && separator == '\0') {
            addIssue(Severity::Error, c,
                     std::string(levelName) + " " + std::to_string(n) +
                         " cannot be written: MSH-2 declares no separator for it; dropped");
            continue;
        }
        parts.emplace(n, (this->*part)(c));
    }
    leave();
    std::string out;
    std::uint32_t at = 1;
    for (const auto& [n, text] : parts) {
        if (text.empty()) {
            continue;
        }
        for (; at < n; ++at) {
            out += separator;
        }
        out += text;
    }
    return out;
}

std::string Er7Builder::componentValue(const XmlNode& component)
{
    if (!isContainer(component)) {
        return value(component);
    }
    return join(component, delimiters_.subcomponent, "subcomponent", &Er7Builder::value);
}

std::string Er7Builder::fieldValue(const XmlNode& field)
{
    if (!isContainer(field)) {
        return value(field);
    }
    return join(field, delimiters_.component, "component", &Er7Builder::componentValue);
}

void Er7Builder::fixCharset(SegmentBuilder& msh, const XmlNode& segment)
{
    std::string declared;
    for (const XmlNode& c : segment.children) {
        if (c.kind == XmlNode::Kind::Element && trailingNumber(c.name) == 18) {
            // The first repetition's first component names the default set.
            const XmlNode* n = &c;
            while (isContainer(*n)) {
                const auto first =
                    std::find_if(n->children.begin(), n->children.end(), [](const XmlNode& x) {
                        return x.kind == XmlNode::Kind::Element && !isEscapeElement(x);
                    });
                n = &*first;
            }
            declared = literalText(*n);
            break;
        }
    }
    if (declared.empty()) {
        return;
    }
    const Charset* charset = Charset::fromHl7Name(declared);
    const bool ascii = std::all_of(segments_.begin(), segments_.end(), [](const std::string& s) {
        return std::all_of(s.begin(), s.end(),
                           [](char c) { return (static_cast<unsigned char>(c) & 0x80) == 0; });
    });
    if (charset == &Charset::utf8() || (charset == &Charset::ascii() && ascii)) {
        return;
    }
    msh.set(18, "UNICODE UTF-8");
    issues_.add(Severity::Information, "0", locate(segment),
                "MSH-18 rewritten to UNICODE UTF-8: the ER7 is written in UTF-8, as the XML "
                "was read");
}

void Er7Builder::buildSegment(const XmlNode& segment)
{
    enter(segment);
    const bool header = isHeaderId(segment.name);
    auto builder = std::make_unique<SegmentBuilder>(segment.name, delimiters_, Charset::utf8());
    std::map<std::uint32_t, std::vector<std::string>> fields;
    const std::string prefix = segment.name + '.';
    for (const XmlNode& c : segment.children) {
        if (c.kind == XmlNode::Kind::Text) {
            if (!isWhitespace(c.text)) {
                addIssue(Severity::Error, segment, "text next to field elements; dropped");
            }
            continue;
        }
        const std::uint32_t n = trailingNumber(c.name);
        if (n == 0 || c.name.compare(0, prefix.size(), prefix) != 0 ||
            c.name.size() - prefix.size() > 5 ||
            c.name.find('.', prefix.size()) != std::string::npos) {
            addIssue(Severity::Error, c, "expected a field element <" + prefix + "n>; dropped");
            continue;
        }
        if (header && (n == 1 || n == 2)) {
            // The first header's delimiters serve the whole document; MSH-2 is kept as sent
            // (a truncation character, an odd set the parser tolerated).
            const std::string literal = literalText(c);
            const std::string& expected = n == 1 ? headerField_ : headerEncoding_;
            if (literal != expected) {
                addIssue(Severity::Error, c,
                         "delimiters differ from the first header's; written with those");
            } else if (n == 2) {
                builder->setRaw(2, literal);
            }
            continue;
        }
        fields[n].push_back(fieldValue(c));
    }
    for (auto& [n, repetitions] : fields) {
        while (!repetitions.empty() && repetitions.back().empty()) {
            repetitions.pop_back();
        }
        if (repetitions.size() > 1 && delimiters_.repetition == '\0') {
            addIssue(Severity::Error, segment,
                     "field " + std::to_string(n) +
                         " repeats but MSH-2 declares no repetition separator; only the first "
                         "is written");
            repetitions.resize(1);
        }
        std::string raw;
        for (std::size_t r = 0; r < repetitions.size(); ++r) {
            if (r > 0) {
                raw += delimiters_.repetition;
            }
            raw += repetitions[r];
        }
        builder->setRaw(n, raw);
    }
    leave();
    if (segment.name == "MSH" && !msh_) {
        mshIndex_ = segments_.size();
        mshNode_ = &segment;
        segments_.emplace_back();
        msh_ = std::move(builder);
        return;
    }
    std::string out;
    builder->write(out, issues_);
    segments_.push_back(std::move(out));
}

void Er7Builder::collectSegments(const XmlNode& container)
{
    enter(container);
    for (const XmlNode& c : container.children) {
        if (c.kind == XmlNode::Kind::Text) {
            if (!isWhitespace(c.text)) {
                addIssue(Severity::Error, container, "text between segments; dropped");
            }
            continue;
        }
        if (isSegmentId(c.name)) {
            buildSegment(c);
        } else if (c.name.find('.') != std::string::npos && trailingNumber(c.name) == 0) {
            collectSegments(c); // a group: <ORU_R01.PATIENT_RESULT>
        } else {
            addIssue(Severity::Error, c,
                     "<" + c.name + "> is neither a segment nor a group; dropped");
        }
    }
    leave();
}

bool Er7Builder::build(const XmlNode& root, std::string& out)
{
    RootKind kind = RootKind::Message;
    if (trailingNumber(root.name) != 0 && isSegmentId(root.name.substr(0, root.name.find('.')))) {
        kind = RootKind::Field;
    } else if (isSegmentId(root.name)) {
        const auto first =
            std::find_if(root.children.begin(), root.children.end(),
                         [](const XmlNode& c) { return c.kind == XmlNode::Kind::Element; });
        if (first == root.children.end() || first->name.rfind(root.name + '.', 0) == 0) {
            kind = RootKind::Segment;
        }
    }

    if (kind == RootKind::Field) {
        // A bare field has no header to take delimiters from: the defaults apply.
        const std::string text = fieldValue(root);
        if (issues_.hasFatal()) {
            return false;
        }
        out += text;
        return true;
    }
    if (kind == RootKind::Segment) {
        if (isHeaderId(root.name) && !readDelimiters(root)) {
            return false;
        }
        buildSegment(root);
    } else {
        const XmlNode* header = findHeader(root);
        if (header == nullptr) {
            issues_.add(Severity::Fatal, "100", locate(root),
                        "no MSH segment: <" + root.name + "> holds no message header");
            return false;
        }
        if (!readDelimiters(*header)) {
            return false;
        }
        collectSegments(root);
    }
    if (msh_) {
        fixCharset(*msh_, *mshNode_);
        msh_->write(segments_[mshIndex_], issues_);
    }
    for (const std::string& segment : segments_) {
        out += segment;
        out += '\r';
    }
    return true;
}

} // namespace

XercesPlatform::XercesPlatform()
{
    const std::lock_guard<std::mutex> lock(platformMutex);
    if (platformUsers++ == 0) {
        xercesc::XMLPlatformUtils::Initialize();
    }
}

XercesPlatform::~XercesPlatform()
{
    const std::lock_guard<std::mutex> lock(platformMutex);
    if (--platformUsers == 0) {
        xercesc::XMLPlatformUtils::Terminate();
    }
}

bool looksLikeXml(std::string_view bytes)
{
    if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
        bytes.remove_prefix(3);
    }
    const std::size_t first = bytes.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && bytes[first] == '<';
}

bool writeXml(const Message& message, TextDecoder& decoder, std::string& out,
              core::IssueList* issues)
{
    ensurePlatform();
    try {
        XmlWriter writer(message, decoder, StructureTable::builtin(), issues);
        return writer.write(out);
    } catch (const xercesc::XMLException& e) {
        if (issues != nullptr) {
            issues->add(Severity::Fatal, "207", {}, "XML writer: " + exceptionText(e));
        }
    } catch (const xercesc::DOMException& e) {
        if (issues != nullptr) {
            issues->add(Severity::Fatal, "207", {}, "XML writer: " + toUtf8(e.getMessage()));
        }
    } catch (const xercesc::OutOfMemoryException&) {
        if (issues != nullptr) {
            issues->add(Severity::Fatal, "207", {}, "XML writer: out of memory");
        }
    }
    return false;
}

bool readXml(std::string_view xml, std::string& er7, core::IssueList& issues)
{
    ensurePlatform();
    core::IssueList found;
    try {
        TreeBuilder tree(found);
        std::unique_ptr<xercesc::SAX2XMLReader> reader(
            xercesc::XMLReaderFactory::createXMLReader());
        reader->setFeature(xercesc::XMLUni::fgSAX2CoreNameSpaces, true);
        reader->setFeature(xercesc::XMLUni::fgSAX2CoreValidation, false);
        reader->setFeature(xercesc::XMLUni::fgXercesLoadExternalDTD, false);
        reader->setFeature(xercesc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
        // Bounds entity expansion ("billion laughs") in an internal DTD subset.
        xercesc::SecurityManager security;
        security.setEntityExpansionLimit(10000);
        reader->setProperty(xercesc::XMLUni::fgXercesSecurityManager, &security);
        reader->setContentHandler(&tree);
        reader->setErrorHandler(&tree);
        const xercesc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(xml.data()),
                                                xml.size(), "hl7v2-xml");
        reader->parse(source);
        if (tree.tooDeep()) {
            found.add(Severity::Fatal, "100", {},
                      "XML: elements nested deeper than " + std::to_string(MaxDepth) +
                          " levels; not an HL7 v2 document");
        } else if (!found.hasFatal()) {
            const bool official = tree.root().ns == V2XmlNamespace;
            Er7Builder builder(found, official);
            std::string converted;
            if (builder.build(tree.root(), converted) && !found.hasFatal()) {
                er7 += converted;
            }
        }
    } catch (const xercesc::SAXParseException&) {
        // Already reported by the error handler with its line and column.
    } catch (const xercesc::SAXException& e) {
        found.add(Severity::Fatal, "100", {}, "XML: " + toUtf8(e.getMessage()));
    } catch (const xercesc::XMLException& e) {
        found.add(Severity::Fatal, "100", {}, "XML: " + exceptionText(e));
    } catch (const xercesc::OutOfMemoryException&) {
        found.add(Severity::Fatal, "207", {}, "XML: out of memory");
    }
    const bool ok = !found.hasErrors();
    for (const core::Issue& issue : found) {
        issues.add(issue);
    }
    return ok;
}

} // namespace hl7gw::hl7v2
