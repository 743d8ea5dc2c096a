#include "gateway/transport/mllp_framer.h"

#include <Poco/Bugcheck.h>

#include <algorithm>
#include <cstring>

namespace hl7gw::transport {

namespace {

// A connection that once carried a large frame should not keep its buffer while idle: with
// hundreds of connections and a 16 MiB limit that would pin gigabytes.
constexpr std::size_t RetainedCapacity = 1024 * 1024;

const char* findByte(const char* from, const char* to, char byte)
{
    return static_cast<const char*>(std::memchr(from, byte, static_cast<std::size_t>(to - from)));
}

} // namespace

MllpFramer::MllpFramer(std::size_t maxFrameBytes) : maxFrameBytes_(maxFrameBytes) {}

MllpFramer::~MllpFramer() = default;
MllpFramer::MllpFramer(MllpFramer&&) noexcept = default;
MllpFramer& MllpFramer::operator=(MllpFramer&&) noexcept = default;

std::span<char> MllpFramer::prepare(std::size_t minBytes)
{
    if (state_ == State::Failed) {
        // Everything after TooLarge is discarded; keep the stream offsets counting.
        base_ += end_;
        begin_ = end_ = scan_ = 0;
    }
    if (begin_ == end_) {
        base_ += end_;
        begin_ = end_ = scan_ = 0;
        releaseIfLarge();
    }
    if (capacity_ - end_ < minBytes) {
        const std::size_t pending = end_ - begin_;
        if (capacity_ - pending >= minBytes && begin_ > 0) {
            // Room exists behind the consumed prefix: shift the partial frame to the front.
            std::memmove(data_.get(), data_.get() + begin_, pending);
        } else {
            const std::size_t wanted = std::max(capacity_ * 2, pending + minBytes);
            auto grown = std::make_unique_for_overwrite<char[]>(wanted);
            if (pending > 0) {
                std::memcpy(grown.get(), data_.get() + begin_, pending);
            }
            data_ = std::move(grown);
            capacity_ = wanted;
        }
        base_ += begin_;
        scan_ -= std::min(scan_, begin_);
        end_ = pending;
        begin_ = 0;
    }
    return {data_.get() + end_, capacity_ - end_};
}

void MllpFramer::commit(std::size_t count)
{
    poco_assert(count <= capacity_ - end_);
    end_ += count;
}

void MllpFramer::feed(std::string_view bytes)
{
    if (bytes.empty()) {
        return;
    }
    std::span<char> space = prepare(bytes.size());
    std::memcpy(space.data(), bytes.data(), bytes.size());
    commit(bytes.size());
}

MllpFramer::Event MllpFramer::next()
{
    const char* const data = data_.get();
    for (;;) {
        switch (state_) {
        case State::Seeking: {
            if (begin_ == end_) {
                return {};
            }
            const char* start = findByte(data + begin_, data + end_, StartBlock);
            const std::size_t stop = start ? static_cast<std::size_t>(start - data) : end_;
            if (stop > begin_) {
                // STANDARDS.md §1.5: bytes before 0x0B are discarded and counted. A run is
                // reported once, when its start block arrives, however the reads split it.
                if (junkCount_ == 0) {
                    junkOffset_ = offsetOf(begin_);
                }
                junkCount_ += stop - begin_;
                begin_ = stop;
            }
            if (!start) {
                return {};
            }
            state_ = State::InFrame;
            scan_ = begin_ + 1;
            if (junkCount_ > 0) {
                Event junk{EventKind::Junk, junkOffset_, junkCount_, {}};
                junkCount_ = 0;
                return junk;
            }
            break;
        }
        case State::InFrame: {
            const char* end = findByte(data + scan_, data + end_, EndBlock);
            const char* limit = end ? end : data + end_;
            // A start block inside a frame means the sender gave up on the frame and began
            // another. Passing both on as one message would acknowledge the second under the
            // first one's control id, so the abandoned part is discarded as junk instead.
            if (const char* restart = findByte(data + scan_, limit, StartBlock)) {
                const std::size_t at = static_cast<std::size_t>(restart - data);
                Event junk{EventKind::Junk, offsetOf(begin_), at - begin_, {}};
                begin_ = at;
                scan_ = at + 1;
                return junk;
            }
            const std::size_t messageBytes = static_cast<std::size_t>(limit - data) - begin_ - 1;
            if (messageBytes > maxFrameBytes_) {
                Event tooLarge{EventKind::TooLarge, offsetOf(begin_), messageBytes, {}};
                state_ = State::Failed;
                begin_ = end_;
                return tooLarge;
            }
            if (!end) {
                scan_ = end_;
                return {};
            }
            Event frame{EventKind::Frame, offsetOf(begin_), messageBytes,
                        std::string_view(data + begin_ + 1, messageBytes)};
            begin_ = static_cast<std::size_t>(end - data) + 1;
            // The frame is complete at 0x1C: a sender that omits the 0x0D waits for our ACK
            // before it sends anything else, so waiting for the next byte would deadlock.
            state_ = State::AfterEndBlock;
            return frame;
        }
        case State::AfterEndBlock: {
            if (begin_ == end_) {
                return {};
            }
            state_ = State::Seeking;
            if (data[begin_] == CarriageReturn) {
                ++begin_;
                break;
            }
            return {EventKind::MissingCarriageReturn, offsetOf(begin_), 0, {}};
        }
        case State::Failed:
            begin_ = end_;
            return {};
        }
    }
}

MllpFramer::Event MllpFramer::finish()
{
    Event pending;
    switch (state_) {
    case State::Seeking:
        if (junkCount_ > 0) {
            pending = {EventKind::Junk, junkOffset_, junkCount_, {}};
        }
        break;
    case State::InFrame:
        pending = {EventKind::Truncated, offsetOf(begin_), end_ - begin_ - 1, {}};
        break;
    case State::AfterEndBlock:
        pending = {EventKind::MissingCarriageReturn, offsetOf(begin_), 0, {}};
        break;
    case State::Failed:
        break;
    }
    reset();
    return pending;
}

bool MllpFramer::inFrame() const
{
    return state_ == State::InFrame;
}

std::size_t MllpFramer::bufferedBytes() const
{
    return end_ - begin_;
}

void MllpFramer::reset()
{
    begin_ = end_ = scan_ = 0;
    base_ = 0;
    state_ = State::Seeking;
    junkOffset_ = junkCount_ = 0;
    releaseIfLarge();
}

void MllpFramer::releaseIfLarge()
{
    if (capacity_ > RetainedCapacity) {
        data_.reset();
        capacity_ = 0;
    }
}

std::string MllpFramer::frame(std::string_view message)
{
    std::string framed;
    framed.reserve(message.size() + 3);
    framed.push_back(StartBlock);
    framed.append(message);
    framed.push_back(EndBlock);
    framed.push_back(CarriageReturn);
    return framed;
}

} // namespace hl7gw::transport
