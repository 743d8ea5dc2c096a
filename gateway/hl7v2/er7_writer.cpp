#include "gateway/hl7v2/er7_writer.h"

#include <algorithm>

namespace hl7gw::hl7v2 {

namespace {

using core::Severity;

void appendHex(unsigned char c, std::string& out)
{
    static const char* hex = "0123456789ABCDEF";
    out += hex[c >> 4];
    out += hex[c & 0xF];
}

// Splits raw ER7 bytes at `sep`, honouring GB18030 multi-byte characters.
std::vector<std::string> splitRaw(std::string_view raw, char sep, const Charset& charset)
{
    std::vector<std::string> parts;
    const char* p = raw.data();
    const char* end = p + raw.size();
    const char* start = p;
    while (p < end) {
        if (*p == sep) {
            parts.emplace_back(start, static_cast<std::size_t>(p - start));
            start = ++p;
            continue;
        }
        p += charset.asciiTrailBytes ? gbCharLength(p, end) : 1;
    }
    parts.emplace_back(start, static_cast<std::size_t>(end - start));
    return parts;
}

} // namespace

bool escapeValue(std::string_view text, const Delimiters& d, const Charset& charset,
                 CharsetConverter& converter, std::string& out, core::IssueList& issues,
                 const core::Location& where)
{
    std::string escaped;
    escaped.reserve(text.size() + 8);
    const char e = d.escape;
    auto escapeAs = [&](char code) {
        escaped += e;
        escaped += code;
        escaped += e;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool special = c == d.field || (c == d.component && c != '\0') ||
                             (c == d.repetition && c != '\0') ||
                             (c == d.subcomponent && c != '\0') || (c == e && c != '\0');
        const bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
        if ((special || control) && e == '\0') {
            issues.add(Severity::Error, "102", where,
                       "value holds a delimiter or control character but MSH-2 declares no "
                       "escape character");
            return false;
        }
        if (c == d.field) {
            escapeAs('F');
        } else if (c == d.component && c != '\0') {
            escapeAs('S');
        } else if (c == d.repetition && c != '\0') {
            escapeAs('R');
        } else if (c == d.subcomponent && c != '\0') {
            escapeAs('T');
        } else if (c == e) {
            escapeAs('E');
        } else if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
                ++i;
            }
            escaped += e;
            escaped += ".br";
            escaped += e;
        } else if (control) {
            escaped += e;
            escaped += 'X';
            appendHex(static_cast<unsigned char>(c), escaped);
            escaped += e;
        } else {
            escaped += c;
        }
    }
    std::size_t bad = 0;
    if (!converter.fromUtf8(escaped, charset.iconvName, out, &bad)) {
        issues.add(Severity::Error, "102", where,
                   "character at value byte " + std::to_string(bad) +
                       " cannot be written in character set " + std::string(charset.hl7Name));
        return false;
    }
    return true;
}

SegmentBuilder::SegmentBuilder(std::string_view id, const Delimiters& delimiters,
                               const Charset& charset)
    : id_(id), delimiters_(delimiters), charset_(&charset)
{
    if (id_ == "MSH" || id_ == "FHS" || id_ == "BHS") {
        std::string encoding{delimiters.component, delimiters.repetition, delimiters.escape,
                             delimiters.subcomponent};
        encoding.erase(std::remove(encoding.begin(), encoding.end(), '\0'), encoding.end());
        if (delimiters.truncation != '\0') {
            encoding += delimiters.truncation;
        }
        setRaw(1, std::string(1, delimiters.field));
        setRaw(2, encoding);
    }
}

SegmentBuilder::SegmentBuilder(const SegmentView& segment)
    : id_(segment.id()), delimiters_(segment.field(1).message()->delimiters()),
      charset_(&segment.field(1).message()->charset())
{
    segment.forEachField([this](std::size_t n, const Element& e) {
        setRaw(static_cast<std::uint32_t>(n), e.raw());
    });
}

SegmentBuilder::Node& SegmentBuilder::at(std::uint32_t field, std::uint32_t repetition,
                                         std::uint32_t component, std::uint32_t subcomponent)
{
    if (fields_.size() < field) {
        fields_.resize(field);
    }
    Node* node = &fields_[field - 1];
    const std::uint32_t path[] = {repetition, component, subcomponent};
    const char seps[] = {delimiters_.repetition, delimiters_.component, delimiters_.subcomponent};
    for (int level = 0; level < 3; ++level) {
        const std::uint32_t index = path[level];
        if (index == 0) {
            break;
        }
        if (node->parts.empty()) {
            // Expand the raw value into its parts, so a deeper set keeps the siblings.
            for (std::string& part : splitRaw(node->raw, seps[level], *charset_)) {
                node->parts.push_back(Node{std::move(part), {}});
            }
            node->raw.clear();
        }
        if (node->parts.size() < index) {
            node->parts.resize(index);
        }
        node = &node->parts[index - 1];
    }
    return *node;
}

SegmentBuilder& SegmentBuilder::set(std::uint32_t field, std::string_view text)
{
    return set(field, 0, 0, 0, text);
}

SegmentBuilder& SegmentBuilder::set(std::uint32_t field, std::uint32_t repetition,
                                    std::uint32_t component, std::uint32_t subcomponent,
                                    std::string_view text)
{
    if (field == 0) {
        return *this;
    }
    core::Location where;
    where.segment = id_;
    where.field = field;
    where.repetition = repetition;
    where.component = component;
    where.subcomponent = subcomponent;
    Node& node = at(field, repetition, component, subcomponent);
    node.parts.clear();
    node.raw.clear();
    escapeValue(text, delimiters_, *charset_, converter_, node.raw, pendingIssues_, where);
    return *this;
}

SegmentBuilder& SegmentBuilder::setComponents(std::uint32_t field,
                                              const std::vector<std::string_view>& parts)
{
    for (std::size_t i = 0; i < parts.size(); ++i) {
        set(field, 1, static_cast<std::uint32_t>(i + 1), 0, parts[i]);
    }
    return *this;
}

SegmentBuilder& SegmentBuilder::setRaw(std::uint32_t field, std::string_view raw)
{
    return setRaw(field, 0, 0, 0, raw);
}

SegmentBuilder& SegmentBuilder::setRaw(std::uint32_t field, std::uint32_t repetition,
                                       std::uint32_t component, std::uint32_t subcomponent,
                                       std::string_view raw)
{
    if (field == 0) {
        return *this;
    }
    Node& node = at(field, repetition, component, subcomponent);
    node.parts.clear();
    node.raw.assign(raw);
    return *this;
}

void SegmentBuilder::writeNode(const Node& node, int level, const Delimiters& d, std::string& out)
{
    if (node.parts.empty()) {
        out += node.raw;
        return;
    }
    const char sep = level == 0 ? d.repetition : level == 1 ? d.component : d.subcomponent;
    std::size_t last = node.parts.size();
    while (last > 0 && isEmptyNode(node.parts[last - 1])) {
        --last;
    }
    for (std::size_t i = 0; i < last; ++i) {
        if (i > 0) {
            out += sep;
        }
        writeNode(node.parts[i], level + 1, d, out);
    }
}

bool SegmentBuilder::isEmptyNode(const Node& node)
{
    return node.raw.empty() && std::all_of(node.parts.begin(), node.parts.end(), isEmptyNode);
}

bool SegmentBuilder::write(std::string& out, core::IssueList& issues)
{
    const bool header = id_ == "MSH" || id_ == "FHS" || id_ == "BHS";
    std::size_t last = fields_.size();
    while (last > (header ? 2u : 0u) && isEmptyNode(fields_[last - 1])) {
        --last;
    }
    out += id_;
    if (header) {
        out += delimiters_.field; // MSH-1 is the separator itself
    }
    for (std::size_t i = header ? 1 : 0; i < last; ++i) {
        if (!(header && i == 1)) {
            out += delimiters_.field;
        }
        writeNode(fields_[i], 0, delimiters_, out);
    }
    const bool ok = !pendingIssues_.hasErrors();
    for (const core::Issue& issue : pendingIssues_) {
        issues.add(issue);
    }
    pendingIssues_.clear();
    return ok;
}

std::string writeEr7(const Message& message)
{
    std::string out;
    out.reserve(message.bytes().size() + 1);
    for (std::size_t i = 0; i < message.segmentCount(); ++i) {
        out += message.segment(i).raw();
        out += '\r';
    }
    return out;
}

} // namespace hl7gw::hl7v2
