#include "gateway/hl7v2/er7_parser.h"

#include "gateway/hl7v2/detail/scan.h"

#include <limits>
#include <string>

namespace hl7gw::hl7v2 {

namespace {

using core::Location;
using core::Severity;

Location at(std::string_view segment, std::uint32_t field, std::size_t offset)
{
    Location loc;
    loc.segment = std::string(segment);
    loc.segmentOccurrence = 1;
    loc.field = field;
    loc.offset = offset;
    return loc;
}

std::string printable(char c)
{
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) {
        static const char* hex = "0123456789ABCDEF";
        return std::string("0x") + hex[u >> 4] + hex[u & 0xF];
    }
    return std::string("'") + c + "'";
}

// A delimiter may be any printable, non-alphanumeric character (HL7 v2.5.1 §2.5.4).
bool usableDelimiter(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7F && !detail::isAlnum(c);
}

// Reads MSH-1 and MSH-2. Returns false (after a Fatal issue) when no usable set exists.
bool readDelimiters(std::string_view header, Delimiters& d, core::IssueList& issues)
{
    d.field = header[3];
    if (!usableDelimiter(d.field)) {
        issues.add(Severity::Fatal, "100", at("MSH", 1, 3),
                   "MSH-1: field separator " + printable(d.field) +
                       " is not a printable non-alphanumeric character");
        return false;
    }
    std::size_t n = 0;
    while (4 + n < header.size() && header[4 + n] != d.field) {
        ++n;
    }
    const std::string_view encoding = header.substr(4, n);
    if (encoding.empty()) {
        issues.add(Severity::Fatal, "100", at("MSH", 2, 4), "MSH-2: encoding characters missing");
        return false;
    }
    if (encoding.size() > 5) {
        issues.add(Severity::Fatal, "100", at("MSH", 2, 4),
                   "MSH-2: " + std::to_string(encoding.size()) +
                       " encoding characters; expected 4 (or 5 with the truncation character)");
        return false;
    }
    char* slots[] = {&d.component, &d.repetition, &d.escape, &d.subcomponent, &d.truncation};
    for (char* slot : slots) {
        *slot = '\0';
    }
    static const char* names[] = {"component separator", "repetition separator",
                                  "escape character", "subcomponent separator",
                                  "truncation character"};
    for (std::size_t i = 0; i < encoding.size(); ++i) {
        const char c = encoding[i];
        if (!usableDelimiter(c)) {
            issues.add(Severity::Fatal, "100", at("MSH", 2, 4 + i),
                       std::string("MSH-2: ") + names[i] + " " + printable(c) +
                           " is not a printable non-alphanumeric character");
            return false;
        }
        bool duplicate = c == d.field;
        for (std::size_t j = 0; j < i; ++j) {
            duplicate = duplicate || encoding[j] == c;
        }
        if (duplicate) {
            // The first role keeps the character; the later role is switched off so that
            // the message still indexes the way its sender most likely meant it.
            issues.add(Severity::Error, "100", at("MSH", 2, 4 + i),
                       std::string("MSH-2: ") + names[i] + " " + printable(c) +
                           " repeats an earlier delimiter; it is ignored");
            continue;
        }
        *slots[i] = c;
    }
    if (encoding.size() < 4) {
        issues.add(Severity::Error, "100", at("MSH", 2, 4),
                   "MSH-2: " + std::to_string(encoding.size()) +
                       " encoding characters; expected 4 (missing ones are not used)");
    }
    return true;
}

} // namespace

bool Er7Parser::parse(std::string_view bytes, Message& out, core::IssueList& issues) const
{
    out.segments_.clear();
    out.delimiters_ = Delimiters{};
    out.charset_ = options_.defaultCharset;
    out.charsetDeclared_ = false;
    out.bytes_ = {};

    const char* begin = bytes.data();
    const char* end = begin + bytes.size();
    const char* p = begin;
    if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") {
        p += 3;
    }
    while (p < end && (*p == '\r' || *p == '\n')) {
        ++p;
    }
    const std::size_t start = static_cast<std::size_t>(p - begin);
    if (end - p < 4 || std::string_view(p, 3) != "MSH") {
        issues.add(Severity::Fatal, "100", at("MSH", 0, start), "message does not start with MSH");
        return false;
    }
    if (static_cast<std::uint64_t>(end - p) > std::numeric_limits<std::uint32_t>::max()) {
        issues.add(Severity::Fatal, "100", at("MSH", 0, start), "message larger than 4 GiB");
        return false;
    }
    out.bytes_ = std::string_view(p, static_cast<std::size_t>(end - p));
    const char* headerEnd = detail::findLineEnd(p, end);
    if (!readDelimiters(std::string_view(p, static_cast<std::size_t>(headerEnd - p)),
                        out.delimiters_, issues)) {
        return false;
    }

    // Index every line. Segment ends are found by byte scan (safe in every supported charset);
    // fields are not touched here.
    const char* base = p;
    std::uint32_t line = 0;
    while (p < end) {
        const char* lineEnd = detail::findLineEnd(p, end);
        ++line;
        if (!detail::isBlank(p, lineEnd)) {
            const auto length = static_cast<std::uint32_t>(lineEnd - p);
            std::uint32_t idLength = 0;
            while (idLength < length && p[idLength] != out.delimiters_.field) {
                ++idLength;
            }
            const bool wellFormedId = idLength == 3 && p[0] >= 'A' && p[0] <= 'Z' &&
                                      detail::isUpperAlnum(p[1]) && detail::isUpperAlnum(p[2]);
            if (!wellFormedId) {
                Location loc;
                loc.offset = static_cast<std::size_t>(p - base) + start;
                loc.line = line;
                issues.add(Severity::Error, "100", loc,
                           "not a segment: expected a 3-character segment id followed by " +
                               printable(out.delimiters_.field));
            }
            out.segments_.push_back(Message::SegmentSpan{static_cast<std::uint32_t>(p - base),
                                                         length, line, idLength});
        }
        p = detail::skipTerminator(lineEnd, end);
    }

    // MSH-18 names the charset of everything else; MSH itself is read with the default
    // (STANDARDS.md §1.3 rules 1-2). MSH-3/4 often hold Chinese names, and GBK trail bytes
    // include '|': when the default's reading names no set we know, or a set that splits
    // differently, MSH is read again the other way and that reading is kept if it agrees
    // with itself (a GB set found by the GB scan, a single-byte set by the byte scan).
    auto readCharsetName = [&out](const Charset* scanAs) {
        out.charset_ = scanAs;
        return out.header().field(18).repetition(1).raw();
    };
    const Charset* scanDefault = options_.defaultCharset;
    const Charset* scanOther =
        scanDefault->asciiTrailBytes ? &Charset::utf8() : &Charset::gb18030();
    const std::string_view firstName = readCharsetName(scanDefault);
    const Charset* declared = firstName.empty() ? nullptr : Charset::fromHl7Name(firstName);
    if (firstName.empty() || (declared != nullptr &&
                              declared->asciiTrailBytes == scanDefault->asciiTrailBytes)) {
        out.charset_ = declared != nullptr ? declared : scanDefault;
        out.charsetDeclared_ = declared != nullptr;
        return true;
    }
    const std::string_view secondName = readCharsetName(scanOther);
    const Charset* other = secondName.empty() ? nullptr : Charset::fromHl7Name(secondName);
    if (other != nullptr && other->asciiTrailBytes == scanOther->asciiTrailBytes) {
        out.charset_ = other;
        out.charsetDeclared_ = true;
        return true;
    }
    if (declared != nullptr) {
        out.charset_ = declared;
        out.charsetDeclared_ = true;
        return true;
    }
    // A set we cannot read: the index stays usable (delimiters are known), values are read
    // with the default, and the Error (table 0357 code 207) lets a receiver answer AR.
    out.charset_ = scanDefault;
    const std::size_t offset = out.offsetOf(firstName) + start;
    issues.add(Severity::Error, "207", at("MSH", 18, offset),
               "MSH-18: character set '" + std::string(firstName.substr(0, 40)) +
                   "' is not supported; values read as " + std::string(scanDefault->hl7Name));
    return true;
}

} // namespace hl7gw::hl7v2
