#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/message.h"
#include "gateway/hl7v2/message_splitter.h"

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace hl7gw::app {

/// What the reader hands to a command for each message of an input.
struct MessageContext {
    const std::string& file;
    std::uint32_t number;          // 1-based message number in the file
    const hl7v2::Chunk& chunk;     // where it sits in the file
    const hl7v2::Message* message; // null when the parse was fatal
    core::IssueList& issues;       // parse issues so far; the command may add its own
};

/// What MessageReader::read saw: messages, their bytes, and how many messages (or envelope
/// lines, or XML documents) had Error or Fatal issues.
struct ReadTotals {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t errors = 0;
};

/// Reads every named input (files or `-`; v2 XML is converted to ER7 first), splits it into
/// messages and parses each one, calling `onMessage` per message and `onEnvelope` for batch
/// header/trailer lines (may be empty). Issues are printed to `errors` as
/// `FILE:MESSAGE#:LOCATION: severity: text`. Throws core::IoError for an input that cannot be
/// opened. Not thread-safe; one reader per command.
class MessageReader {
  public:
    using MessageHandler = std::function<void(MessageContext&)>;
    using EnvelopeHandler = std::function<void(const std::string& file, const hl7v2::Chunk&)>;

    MessageReader(hl7v2::ParseOptions options, std::ostream& errors);

    ReadTotals read(const std::vector<std::string>& inputs, const MessageHandler& onMessage,
                    const EnvelopeHandler& onEnvelope = {});

  private:
    hl7v2::Er7Parser parser_;
    std::ostream& errors_;
};

/// One CLI line for an issue: `FILE:MESSAGE#:LOCATION: severity: text` (MESSAGE# and
/// LOCATION left out when unknown).
std::string formatIssue(const std::string& file, std::uint32_t messageNumber,
                        const core::Issue& issue);

} // namespace hl7gw::app
