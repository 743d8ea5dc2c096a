#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/message.h"
#include "gateway/hl7v2/text_decoder.h"

#include <string>
#include <string_view>

namespace hl7gw::hl7v2 {

/// The namespace of the official HL7 v2 XML encoding.
inline constexpr std::string_view V2XmlNamespace = "urn:hl7-org:v2xml";

/// Keeps the Xerces-C++ platform initialised while alive. Instances are counted across the
/// process: the first one calls XMLPlatformUtils::Initialize, the last one Terminate, so
/// any module may hold one without knowing about the others. Thread-safe. writeXml and
/// readXml hold a process-wide instance of their own; nothing else is needed to call them.
class XercesPlatform {
public:
    XercesPlatform();
    ~XercesPlatform();
    XercesPlatform(const XercesPlatform&) = delete;
    XercesPlatform& operator=(const XercesPlatform&) = delete;
};

/// Writes `message` as HL7 v2 XML (STANDARDS.md §1.7; names and fallbacks in
/// gateway/hl7v2/README.md, "v2 XML"): a UTF-8 document in the `urn:hl7-org:v2xml`
/// namespace, segments grouped as the message structure says, values decoded (escapes and
/// MSH-18 charset), formatting and highlighting escapes and control characters as
/// `<escape V="..."/>` elements. Appends to `out`.
///
/// Returns false when part of the message could not be represented (a segment id that is
/// not an XML name); the issue says which and the output must not be used. Decoding
/// problems are reported as TextDecoder reports them and do not make the result fail.
/// Uses the caller's decoder, so one writer per thread.
bool writeXml(const Message& message, TextDecoder& decoder, std::string& out,
              core::IssueList* issues = nullptr);

/// Reads one HL7 v2 XML document and appends it as ER7 to `er7`: UTF-8, CR after every
/// segment, the delimiters of MSH.1/MSH.2 (MSH-2 written as it was sent), every value
/// escaped with escapeValue, trailing empties omitted. Accepts the official encoding
/// (namespace `urn:hl7-org:v2xml`: values are decoded text, `<escape V=".br"/>` elements)
/// and the Mirth/OIE encoding (root `<HL7Message>`, `<PID.3.1>` names, values are raw ER7
/// with their escape sequences kept), plus the OIE fragments whose root is a single
/// segment (`<PID>`, written as one segment) or field (`<PID.11>`, written as the bare
/// field value with the default delimiters).
///
/// The XML's own encoding replaces MSH-18: a declared set other than UTF-8 (or ASCII when
/// the result is pure ASCII) is rewritten to `UNICODE UTF-8`, with an Information issue.
///
/// Problems become issues located by XML line and column (`Location::line`, and `path`
/// as `line L, column C: /HL7Message/PID/PID.3`); nothing is thrown. Returns false when
/// an Error or Fatal issue was added; after a Fatal one (not well-formed, no MSH, unusable
/// delimiters) nothing is appended.
bool readXml(std::string_view xml, std::string& er7, core::IssueList& issues);

/// True when `bytes` look like an XML document rather than ER7: the first byte that is not
/// whitespace (after an optional UTF-8 BOM) is '<'.
bool looksLikeXml(std::string_view bytes);

} // namespace hl7gw::hl7v2
