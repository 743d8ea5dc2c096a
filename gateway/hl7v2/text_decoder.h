#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/charset_converter.h"
#include "gateway/hl7v2/message.h"

#include <string>
#include <string_view>

namespace hl7gw::hl7v2 {

struct DecodeOptions {
    /// true (v2 views, `hl7gw parse`): FT formatting escapes (`\.sp 2\`, `\.in\` ...) and
    /// highlighting (`\H\`, `\N\`) stay in the text as written. false (FHIR text): they
    /// are rendered as plain text: `.sp n` as n line breaks, `.sk n` as n spaces, the rest
    /// dropped. `\.br\` is always a line break.
    bool keepFormatting = true;
};

/// Turns raw ER7 values into UTF-8 text: escape sequences (STANDARDS.md §1.2) first, then
/// the message's character set (MSH-18), including `\Cxxyy\` / `\Mxxyyzz\` switches to the
/// ISO 2022 sets we can name. Problems become issues, located by byte offset in the message:
/// bytes invalid in the charset are Error 102 (and read as U+FFFD, never dropped);
/// unknown or unterminated escapes and charset switches we cannot decode are Warnings and
/// stay in the text unchanged.
///
/// Owns scratch memory and iconv handles: one decoder per thread, reused across messages.
class TextDecoder {
public:
    explicit TextDecoder(DecodeOptions options = {}) : options_(options) {}

    /// The decoded text of `element`. The view points either into the message (nothing to
    /// decode: the common case, no copy) or into this decoder's scratch buffer, valid until
    /// the next call. HL7 null `""` decodes to `""` as written; callers test isNull().
    std::string_view decode(const Element& element, core::IssueList* issues = nullptr);
    /// Same for a leaf from SegmentView::forEachLeaf; plain leaves cost nothing.
    std::string_view decode(const Leaf& leaf, core::IssueList* issues = nullptr)
    {
        return leaf.plain ? leaf.element.raw() : decode(leaf.element, issues);
    }

    /// Appends the decoded text of `element` to `out`.
    void decodeAppend(const Element& element, std::string& out, core::IssueList* issues = nullptr);

private:
    void flush(std::string_view bytes, const Message& message, std::string_view iconvName,
               bool setHighBit, std::string& out, core::IssueList* issues);

    DecodeOptions options_;
    CharsetConverter converter_;
    std::string scratch_;
    std::string pending_;
    std::string_view currentRaw_;
};

} // namespace hl7gw::hl7v2
