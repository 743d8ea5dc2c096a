#include "gateway/hl7v2/message_splitter.h"

#include "gateway/hl7v2/detail/scan.h"

#include <charconv>
#include <string>

namespace hl7gw::hl7v2 {

namespace {

using core::Severity;

enum class LineKind { Blank, Msh, Fhs, Fts, Bhs, Bts, Other };

LineKind classify(const char* p, const char* end)
{
    if (detail::isBlank(p, end)) {
        return LineKind::Blank;
    }
    if (end - p < 3 || (end - p > 3 && detail::isAlnum(p[3]))) {
        return LineKind::Other;
    }
    const std::string_view id(p, 3);
    if (id == "MSH") {
        return end - p > 3 ? LineKind::Msh : LineKind::Other;
    }
    if (id == "FHS") {
        return LineKind::Fhs;
    }
    if (id == "FTS") {
        return LineKind::Fts;
    }
    if (id == "BHS") {
        return LineKind::Bhs;
    }
    if (id == "BTS") {
        return LineKind::Bts;
    }
    return LineKind::Other;
}

core::Location lineLocation(std::uint32_t line)
{
    core::Location loc;
    loc.line = line;
    return loc;
}

// BTS-1 / FTS-1: the count the sender claims. Absent or not a number: no check.
bool trailerCount(std::string_view trailer, std::uint32_t& count)
{
    if (trailer.size() < 5) {
        return false;
    }
    const char sep = trailer[3];
    const std::size_t from = 4;
    std::size_t to = trailer.find(sep, from);
    if (to == std::string_view::npos) {
        to = trailer.size();
    }
    const std::string_view value = trailer.substr(from, to - from);
    if (value.empty()) {
        return false;
    }
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
    return ec == std::errc() && ptr == value.data() + value.size();
}

} // namespace

MessageSplitter::MessageSplitter(std::string_view buffer) : buffer_(buffer), p_(buffer.data())
{
    if (buffer.size() >= 3 && buffer.substr(0, 3) == "\xEF\xBB\xBF") {
        p_ += 3;
    }
}

bool MessageSplitter::next(Chunk& chunk, core::IssueList& issues)
{
    const char* end = buffer_.data() + buffer_.size();
    while (p_ < end) {
        const char* lineEnd = detail::findLineEnd(p_, end);
        const LineKind kind = classify(p_, lineEnd);
        if (kind == LineKind::Blank) {
            p_ = detail::skipTerminator(lineEnd, end);
            ++line_;
            continue;
        }
        chunk.offset = static_cast<std::size_t>(p_ - buffer_.data());
        chunk.line = line_;
        chunk.number = 0;
        const char* start = p_;

        if (kind == LineKind::Msh) {
            // The message runs to the next MSH or batch segment; lines in between that are
            // not segments stay inside it and the parser reports them.
            const char* q = detail::skipTerminator(lineEnd, end);
            ++line_;
            const char* messageEnd = q;
            while (q < end) {
                const char* e = detail::findLineEnd(q, end);
                const LineKind k = classify(q, e);
                if (k != LineKind::Blank && k != LineKind::Other) {
                    break;
                }
                q = detail::skipTerminator(e, end);
                ++line_;
                if (k != LineKind::Blank) {
                    messageEnd = q;
                }
            }
            p_ = q;
            chunk.kind = Chunk::Kind::Message;
            chunk.bytes = std::string_view(start, static_cast<std::size_t>(messageEnd - start));
            chunk.number = ++messages_;
            if (inBatch_) {
                ++messagesInBatch_;
            } else if (inFile_) {
                ++messagesOutsideBatchInFile_;
            }
            return true;
        }

        p_ = detail::skipTerminator(lineEnd, end);
        ++line_;
        const std::string_view text(start, static_cast<std::size_t>(lineEnd - start));
        chunk.bytes = text;
        switch (kind) {
        case LineKind::Fhs:
            chunk.kind = Chunk::Kind::FileHeader;
            if (inFile_) {
                issues.add(Severity::Error, "100", lineLocation(chunk.line),
                           "FHS before FTS closed the previous file");
            }
            inFile_ = true;
            batchesInFile_ = 0;
            messagesOutsideBatchInFile_ = 0;
            return true;
        case LineKind::Bhs:
            chunk.kind = Chunk::Kind::BatchHeader;
            if (inBatch_) {
                issues.add(Severity::Error, "100", lineLocation(chunk.line),
                           "BHS before BTS closed the previous batch");
            }
            inBatch_ = true;
            messagesInBatch_ = 0;
            ++batchesInFile_;
            return true;
        case LineKind::Bts:
            chunk.kind = Chunk::Kind::BatchTrailer;
            closeBatch(text, chunk.line, issues);
            return true;
        case LineKind::Fts:
            chunk.kind = Chunk::Kind::FileTrailer;
            closeFile(text, chunk.line, issues);
            return true;
        default:
            break;
        }

        // Junk: consecutive lines that belong to no message, reported once.
        const std::uint32_t firstLine = chunk.line;
        const char* junkEnd = lineEnd;
        while (p_ < end) {
            const char* e = detail::findLineEnd(p_, end);
            const LineKind k = classify(p_, e);
            if (k != LineKind::Other && k != LineKind::Blank) {
                break;
            }
            if (k == LineKind::Other) {
                junkEnd = e;
            }
            p_ = detail::skipTerminator(e, end);
            ++line_;
        }
        chunk.kind = Chunk::Kind::Junk;
        chunk.bytes = std::string_view(start, static_cast<std::size_t>(junkEnd - start));
        issues.add(Severity::Error, "100", lineLocation(firstLine),
                   "line " + std::to_string(firstLine) +
                       " is outside any message: expected MSH, FHS or BHS");
        return true;
    }
    return false;
}

void MessageSplitter::closeBatch(std::string_view trailer, std::uint32_t line,
                                 core::IssueList& issues)
{
    if (!inBatch_) {
        issues.add(Severity::Error, "100", lineLocation(line), "BTS without a BHS");
        return;
    }
    std::uint32_t claimed = 0;
    if (trailerCount(trailer, claimed) && claimed != messagesInBatch_) {
        issues.add(Severity::Error, "100", lineLocation(line),
                   "BTS-1 says " + std::to_string(claimed) + " messages; the batch has " +
                       std::to_string(messagesInBatch_));
    }
    inBatch_ = false;
}

void MessageSplitter::closeFile(std::string_view trailer, std::uint32_t line,
                                core::IssueList& issues)
{
    if (inBatch_) {
        issues.add(Severity::Error, "100", lineLocation(line), "FTS before BTS closed the batch");
        inBatch_ = false;
    }
    if (!inFile_) {
        issues.add(Severity::Error, "100", lineLocation(line), "FTS without an FHS");
        return;
    }
    std::uint32_t claimed = 0;
    if (trailerCount(trailer, claimed) && claimed != batchesInFile_) {
        issues.add(Severity::Error, "100", lineLocation(line),
                   "FTS-1 says " + std::to_string(claimed) + " batches; the file has " +
                       std::to_string(batchesInFile_));
    }
    inFile_ = false;
}

void MessageSplitter::finish(core::IssueList& issues)
{
    // Many senders omit trailers (python-hl7's samples do): a warning, not an error.
    if (inBatch_) {
        issues.add(Severity::Warning, "100", lineLocation(line_), "batch has no BTS trailer");
    }
    if (inFile_) {
        issues.add(Severity::Warning, "100", lineLocation(line_), "file has no FTS trailer");
    }
    inBatch_ = false;
    inFile_ = false;
}

} // namespace hl7gw::hl7v2
