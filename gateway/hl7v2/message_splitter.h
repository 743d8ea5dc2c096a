#pragma once

#include "gateway/core/issue.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hl7gw::hl7v2 {

/// One piece of a file or stream of messages.
struct Chunk {
    enum class Kind : std::uint8_t {
        Message,      // MSH up to the next MSH, batch segment or end
        FileHeader,   // FHS line
        FileTrailer,  // FTS line
        BatchHeader,  // BHS line
        BatchTrailer, // BTS line
        Junk,         // lines outside any message (reported as an error)
    };
    Kind kind = Kind::Message;
    std::string_view bytes;
    std::size_t offset = 0;   // byte offset in the whole buffer
    std::uint32_t line = 0;   // 1-based line of the first byte
    std::uint32_t number = 0; // for messages: 1-based index in the buffer
};

/// Splits a buffer holding many ER7 messages: one message per MSH, FHS/BHS/BTS/FTS batch
/// envelopes, blank lines between messages, CR/LF/CRLF line ends, a leading UTF-8 BOM.
/// It also checks the envelope (nesting, BTS-1/FTS-1 counts, segments outside any message)
/// and reports problems with their line. It never copies: chunks are views into the buffer,
/// which must outlive them. Not thread-safe.
class MessageSplitter {
public:
    explicit MessageSplitter(std::string_view buffer);

    /// The next chunk; false at the end. Envelope problems found while producing it are
    /// added to `issues` (call finish() after the last chunk for the end-of-input checks).
    bool next(Chunk& chunk, core::IssueList& issues);
    /// End-of-input checks: an open batch or file without trailer.
    void finish(core::IssueList& issues);

    std::uint32_t messageCount() const { return messages_; }

private:
    void closeBatch(std::string_view trailer, std::uint32_t line, core::IssueList& issues);
    void closeFile(std::string_view trailer, std::uint32_t line, core::IssueList& issues);

    std::string_view buffer_;
    const char* p_;
    std::uint32_t line_ = 1;
    std::uint32_t messages_ = 0;
    bool inFile_ = false;
    bool inBatch_ = false;
    std::uint32_t messagesInBatch_ = 0;
    std::uint32_t batchesInFile_ = 0;
    std::uint32_t messagesOutsideBatchInFile_ = 0;
};

} // namespace hl7gw::hl7v2
