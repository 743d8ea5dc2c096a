#include "gateway/app/message_reader.h"

#include "gateway/app/input_file.h"
#include "gateway/hl7v2/xml_codec.h"

#include <ostream>

namespace hl7gw::app {

std::string formatIssue(const std::string& file, std::uint32_t messageNumber,
                        const core::Issue& issue)
{
    std::string line = file;
    if (messageNumber != 0) {
        line += ':' + std::to_string(messageNumber);
    }
    const std::string where = issue.location.toString();
    if (!where.empty()) {
        line += ':' + where;
    }
    line += ": ";
    line += core::toString(issue.severity);
    line += ": ";
    line += issue.text;
    return line;
}

MessageReader::MessageReader(hl7v2::ParseOptions options, std::ostream& errors)
    : parser_(options), errors_(errors)
{
}

ReadTotals MessageReader::read(const std::vector<std::string>& inputs,
                               const MessageHandler& onMessage, const EnvelopeHandler& onEnvelope)
{
    ReadTotals totals;
    hl7v2::Message message;
    core::IssueList issues;
    const hl7v2::Er7Parser xmlParser;
    for (const std::string& name : inputs) {
        const InputFile input(name);
        std::string_view bytes = input.bytes();
        std::string converted;
        const bool fromXml = hl7v2::looksLikeXml(bytes);
        if (fromXml) {
            // v2 XML is converted to ER7 first; the XML's own problems count as the file's.
            core::IssueList xmlIssues;
            hl7v2::readXml(bytes, converted, xmlIssues);
            for (const core::Issue& issue : xmlIssues) {
                errors_ << formatIssue(name, 0, issue) << '\n';
            }
            if (xmlIssues.hasErrors()) {
                ++totals.errors;
            }
            bytes = converted;
        }
        hl7v2::MessageSplitter splitter(bytes);
        hl7v2::Chunk chunk;
        core::IssueList envelopeIssues;
        auto flushEnvelope = [&]() {
            for (const core::Issue& issue : envelopeIssues) {
                errors_ << formatIssue(name, 0, issue) << '\n';
            }
            if (envelopeIssues.hasErrors()) {
                ++totals.errors;
            }
            envelopeIssues.clear();
        };
        while (splitter.next(chunk, envelopeIssues)) {
            flushEnvelope();
            if (chunk.kind != hl7v2::Chunk::Kind::Message) {
                if (chunk.kind != hl7v2::Chunk::Kind::Junk && onEnvelope) {
                    onEnvelope(name, chunk);
                }
                continue;
            }
            issues.clear();
            // ER7 converted from XML is UTF-8 whatever the default for raw inputs is.
            const bool ok = (fromXml ? xmlParser : parser_).parse(chunk.bytes, message, issues);
            MessageContext context{name, chunk.number, chunk, ok ? &message : nullptr, issues};
            onMessage(context);
            ++totals.messages;
            totals.bytes += chunk.bytes.size();
            for (const core::Issue& issue : issues) {
                core::Issue located = issue;
                // The codec counts lines and offsets within the message; users want the file's.
                if (located.location.line != 0) {
                    located.location.line += chunk.line - 1;
                }
                if (located.location.offset != core::Location::NoOffset) {
                    located.location.offset += chunk.offset;
                }
                errors_ << formatIssue(name, chunk.number, located) << '\n';
            }
            if (issues.hasErrors()) {
                ++totals.errors;
            }
        }
        splitter.finish(envelopeIssues);
        flushEnvelope();
    }
    return totals;
}

} // namespace hl7gw::app
