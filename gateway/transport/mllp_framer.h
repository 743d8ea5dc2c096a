#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace hl7gw::transport {

/// MLLP framing as a codec (STANDARDS.md §1.5): no sockets, no clock, no logging. The caller
/// hands in whatever bytes arrived, in any split, and pulls events with next() until it says
/// NeedMore. Events come in stream order:
///
/// | kind | meaning | what the caller does |
/// | --- | --- | --- |
/// | NeedMore | no complete event in the bytes so far | read more and hand them in |
/// | Frame | one message, without 0x0B and 0x1C 0x0D (may be empty) | handle it, answer |
/// | Junk | `size` bytes at `offset` were discarded (before a start block, or a frame that a new
/// start block interrupted) | count them, warn | | MissingCarriageReturn | the byte after 0x1C at
/// `offset` was not 0x0D; tolerated | warn | | TooLarge | a frame grew beyond maxFrameBytes without
/// ending | close the connection without an answer | | Truncated | finish() only: the stream ended
/// inside a frame of `size` bytes | log; nothing to answer |
///
/// Offsets count every byte handed in since construction or reset(), from 0.
///
/// Bytes are stored once: read straight into prepare()'s span (or copy them with feed()), and a
/// Frame's `message` is a view into that buffer, valid until the next prepare(), feed() or
/// reset(). A frame that spans reads is not moved when it completes; bytes move only when the
/// buffer must grow (geometric, so on average less than once) or when the unconsumed tail is
/// shifted to the front to make room. Not thread-safe; one framer per connection.
class MllpFramer {
  public:
    static constexpr char StartBlock = 0x0B;
    static constexpr char EndBlock = 0x1C;
    static constexpr char CarriageReturn = 0x0D;
    static constexpr std::size_t DefaultMaxFrameBytes = 16 * 1024 * 1024;

    enum class EventKind { NeedMore, Frame, Junk, MissingCarriageReturn, TooLarge, Truncated };

    struct Event {
        EventKind kind = EventKind::NeedMore;
        /// Frame, TooLarge, Truncated: the start block's offset. Junk: the first discarded
        /// byte's. MissingCarriageReturn: where 0x0D was expected.
        std::uint64_t offset = 0;
        /// Frame: message bytes. Junk: bytes discarded. TooLarge, Truncated: message bytes seen.
        std::uint64_t size = 0;
        /// Frame only; see the class comment for how long it stays valid.
        std::string_view message;
    };

    /// Frames whose message exceeds `maxFrameBytes` give TooLarge.
    explicit MllpFramer(std::size_t maxFrameBytes = DefaultMaxFrameBytes);
    ~MllpFramer();
    MllpFramer(MllpFramer&&) noexcept;
    MllpFramer& operator=(MllpFramer&&) noexcept;
    MllpFramer(const MllpFramer&) = delete;
    MllpFramer& operator=(const MllpFramer&) = delete;

    /// Writable space of at least `minBytes` at the end of the buffer; receive into it, then
    /// commit() what arrived. Invalidates the views of earlier Frame events.
    std::span<char> prepare(std::size_t minBytes);
    /// Appends `count` bytes written into the span of the last prepare().
    void commit(std::size_t count);
    /// Copies `bytes` in (prepare + commit), for callers that already hold them.
    void feed(std::string_view bytes);

    /// The next event in the bytes handed in so far. After TooLarge the framer discards all
    /// further input and only says NeedMore, until reset().
    Event next();
    /// The end of the stream: reports what was pending (a Junk run not yet ended by a start
    /// block, a MissingCarriageReturn, or a Truncated frame), else NeedMore. Call next() until
    /// NeedMore first. Leaves the framer empty, as after reset().
    Event finish();

    /// True while a start block has been seen and its frame has not ended.
    bool inFrame() const;
    /// Bytes held that are not yet reported (a partial frame).
    std::size_t bufferedBytes() const;
    /// Forgets all input and the stream offset; keeps the limit.
    void reset();

    std::size_t maxFrameBytes() const { return maxFrameBytes_; }

    /// `message` in an MLLP envelope: 0x0B + message + 0x1C 0x0D.
    static std::string frame(std::string_view message);

  private:
    enum class State { Seeking, InFrame, AfterEndBlock, Failed };

    std::uint64_t offsetOf(std::size_t index) const { return base_ + index; }
    void releaseIfLarge();

    std::size_t maxFrameBytes_;
    std::unique_ptr<char[]> data_;
    std::size_t capacity_ = 0;
    std::size_t begin_ = 0;  // first byte not yet consumed (the start block while InFrame)
    std::size_t end_ = 0;    // one past the last byte committed
    std::size_t scan_ = 0;   // InFrame: bytes before this index hold no 0x0B or 0x1C
    std::uint64_t base_ = 0; // stream offset of data_[0]
    State state_ = State::Seeking;
    std::uint64_t junkOffset_ = 0;
    std::uint64_t junkCount_ = 0;
};

} // namespace hl7gw::transport
