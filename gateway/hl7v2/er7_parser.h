#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/message.h"

#include <string_view>

namespace hl7gw::hl7v2 {

struct ParseOptions {
    /// Used when MSH-18 is empty (the channel's `defaultCharset`), and to read MSH itself.
    const Charset* defaultCharset = &Charset::utf8();
};

/// Parses one ER7 message into an index over the caller's bytes (see Message for the
/// lifetime rules). Accepts CR, LF or CRLF segment ends, a UTF-8 BOM, leading line ends,
/// blank lines, any legal delimiter set, and keeps unknown and Z-segments as they are.
///
/// Problems go to `issues` with their location; the parser never throws on input. A Fatal
/// issue (no MSH, unusable delimiters) means the Message must not be used. Errors (a line
/// that is not a segment, duplicated delimiters, an MSH-18 set we cannot read: code 207)
/// leave a usable index.
/// Stateless and thread-safe.
class Er7Parser {
public:
    explicit Er7Parser(ParseOptions options = {}) : options_(options) {}

    /// Returns false when a Fatal issue was added.
    bool parse(std::string_view bytes, Message& out, core::IssueList& issues) const;

private:
    ParseOptions options_;
};

} // namespace hl7gw::hl7v2
