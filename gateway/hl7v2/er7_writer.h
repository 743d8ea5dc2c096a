#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/charset_converter.h"
#include "gateway/hl7v2/delimiters.h"
#include "gateway/hl7v2/message.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::hl7v2 {

/// Escapes UTF-8 text for one ER7 value (STANDARDS.md §1.2): delimiters become
/// `\F\ \S\ \R\ \T\ \E\`, a line break (LF, CRLF or CR) becomes `\.br\`, other control
/// characters `\Xhh\`; the result is converted to `charset`. Returns false, with an Error
/// issue at `where`, for invalid UTF-8 or a character `charset` cannot represent: we never
/// write '?' for it.
bool escapeValue(std::string_view text, const Delimiters& delimiters, const Charset& charset,
                 CharsetConverter& converter, std::string& out, core::IssueList& issues,
                 const core::Location& where = {});

/// Builds one segment position by position, or edits a parsed one, and writes it as ER7.
/// Values given as text are escaped; values given as raw are written as they are (use for
/// values copied from another message with the same delimiters). Positions count from 1;
/// unset positions are empty and trailing empties are omitted, as writers must.
class SegmentBuilder {
public:
    SegmentBuilder(std::string_view id, const Delimiters& delimiters, const Charset& charset);
    /// Starts from a parsed segment, keeping every value raw, so that only what is set
    /// changes and an untouched segment writes back byte for byte.
    explicit SegmentBuilder(const SegmentView& segment);

    /// Sets the text at field/repetition/component/subcomponent (0 for repetition,
    /// component or subcomponent means "the whole field/repetition/component"). Setting
    /// a position replaces everything below it.
    SegmentBuilder& set(std::uint32_t field, std::string_view text);
    SegmentBuilder& set(std::uint32_t field, std::uint32_t repetition, std::uint32_t component,
                        std::uint32_t subcomponent, std::string_view text);
    /// Sets field n's first repetition to these components, each escaped.
    SegmentBuilder& setComponents(std::uint32_t field, const std::vector<std::string_view>& parts);
    SegmentBuilder& setRaw(std::uint32_t field, std::string_view raw);
    SegmentBuilder& setRaw(std::uint32_t field, std::uint32_t repetition, std::uint32_t component,
                           std::uint32_t subcomponent, std::string_view raw);

    /// Appends the segment (without terminator) to `out`. Returns false if a value could not
    /// be encoded; the issues say which.
    bool write(std::string& out, core::IssueList& issues);

    std::string_view id() const { return id_; }

private:
    struct Node {
        std::string raw;          // the escaped value when it has no children
        std::vector<Node> parts;  // children at the next level
    };
    Node& at(std::uint32_t field, std::uint32_t repetition, std::uint32_t component,
             std::uint32_t subcomponent);
    static void writeNode(const Node& node, int level, const Delimiters& d, std::string& out);
    static bool isEmptyNode(const Node& node);

    std::string id_;
    Delimiters delimiters_;
    const Charset* charset_;
    std::vector<Node> fields_; // fields_[0] is field 1
    CharsetConverter converter_;
    core::IssueList pendingIssues_;
};

/// Writes a parsed, unmodified message back as ER7: the bytes of every segment as
/// received, each ended by CR (the only terminator we emit). Byte-identical to the input
/// apart from normalised segment ends, BOM and blank lines.
std::string writeEr7(const Message& message);

} // namespace hl7gw::hl7v2
