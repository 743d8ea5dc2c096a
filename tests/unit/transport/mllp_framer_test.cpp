#include "gateway/transport/mllp_framer.h"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <ostream>
#include <string>
#include <vector>

using hl7gw::transport::MllpFramer;
using Kind = MllpFramer::EventKind;

namespace {

/// An event with its message copied out, so it outlives the framer's buffer.
struct Seen {
    Kind kind;
    std::uint64_t offset;
    std::uint64_t size;
    std::string message;

    bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Seen& seen)
{
    return out << static_cast<int>(seen.kind) << "@" << seen.offset << "+" << seen.size << " \""
               << seen.message << "\"";
}

Seen frame(std::uint64_t offset, const std::string& message)
{
    return {Kind::Frame, offset, message.size(), message};
}

Seen junk(std::uint64_t offset, std::uint64_t count)
{
    return {Kind::Junk, offset, count, {}};
}

void drain(MllpFramer& framer, std::vector<Seen>& seen)
{
    for (auto event = framer.next(); event.kind != Kind::NeedMore; event = framer.next()) {
        seen.push_back({event.kind, event.offset, event.size, std::string(event.message)});
    }
}

/// Hands `bytes` to a framer in pieces of `piece` bytes, through prepare()/commit() as a
/// socket reader does, and collects every event, finish() included.
std::vector<Seen> run(const std::string& bytes, std::size_t piece, std::size_t maxFrameBytes = 1024)
{
    MllpFramer framer(maxFrameBytes);
    std::vector<Seen> seen;
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        const std::size_t count = std::min(piece, bytes.size() - at);
        const auto space = framer.prepare(count);
        BOOST_REQUIRE(space.size() >= count);
        std::memcpy(space.data(), bytes.data() + at, count);
        framer.commit(count);
        drain(framer, seen);
    }
    const auto last = framer.finish();
    if (last.kind != Kind::NeedMore) {
        seen.push_back({last.kind, last.offset, last.size, {}});
    }
    return seen;
}

const std::string Msh = "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|1\r";

} // namespace

BOOST_AUTO_TEST_SUITE(mllp_framer)

BOOST_AUTO_TEST_CASE(frame_wraps_the_message_in_the_envelope)
{
    BOOST_TEST(MllpFramer::frame("abc") == std::string("\x0b"
                                                       "abc\x1c\r"));
    BOOST_TEST(MllpFramer::frame("") == std::string("\x0b\x1c\r"));
}

BOOST_AUTO_TEST_CASE(reads_one_frame_without_its_envelope)
{
    const auto seen = run(MllpFramer::frame(Msh), 4096);
    BOOST_TEST(seen == std::vector<Seen>{frame(0, Msh)}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(reassembles_a_frame_fed_byte_by_byte)
{
    const std::string stream = MllpFramer::frame(Msh) + MllpFramer::frame("second");
    const auto seen = run(stream, 1);
    BOOST_TEST(seen == (std::vector<Seen>{frame(0, Msh), frame(Msh.size() + 3, "second")}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(reports_every_frame_of_one_read_in_order)
{
    std::string stream;
    std::vector<Seen> expected;
    for (int i = 0; i < 5; ++i) {
        const std::string message = "message " + std::to_string(i);
        expected.push_back(frame(stream.size(), message));
        stream += MllpFramer::frame(message);
    }
    BOOST_TEST(run(stream, stream.size()) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(gives_the_same_events_however_the_reads_split)
{
    const std::string stream = "xx" + MllpFramer::frame(Msh) + "\n" + MllpFramer::frame("b") +
                               std::string("\x0b"
                                           "c\x1c") +
                               MllpFramer::frame("d");
    const auto whole = run(stream, stream.size());
    for (std::size_t piece = 1; piece < stream.size(); ++piece) {
        BOOST_TEST_CONTEXT("piece " << piece)
        {
            BOOST_TEST(run(stream, piece) == whole, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(counts_junk_before_a_start_block_once_per_run)
{
    const std::string stream = "garbage" + MllpFramer::frame("a") + "\r\n" + MllpFramer::frame("b");
    const auto bytewise = run(stream, 1);
    const std::uint64_t second = 7 + 4 + 2;
    BOOST_TEST(bytewise ==
                   (std::vector<Seen>{junk(0, 7), frame(7, "a"), junk(11, 2), frame(second, "b")}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(reports_junk_left_at_the_end_of_the_stream)
{
    const auto seen = run(MllpFramer::frame("a") + "tail", 3);
    BOOST_TEST(seen == (std::vector<Seen>{frame(0, "a"), junk(4, 4)}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(tolerates_a_missing_carriage_return)
{
    const std::string stream = std::string("\x0b"
                                           "a\x1c") +
                               MllpFramer::frame("b");
    const auto seen = run(stream, 1);
    BOOST_TEST(seen == (std::vector<Seen>{
                           frame(0, "a"), {Kind::MissingCarriageReturn, 3, 0, {}}, frame(3, "b")}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(completes_a_frame_at_the_end_block_before_the_carriage_return_arrives)
{
    // A sender that omits 0x0D waits for the answer; the frame must not wait for a byte.
    MllpFramer framer;
    framer.feed(std::string("\x0b"
                            "a\x1c"));
    const auto event = framer.next();
    BOOST_TEST(static_cast<int>(event.kind) == static_cast<int>(Kind::Frame));
    BOOST_TEST(event.message == "a");
    const auto end = framer.finish();
    BOOST_TEST(static_cast<int>(end.kind) == static_cast<int>(Kind::MissingCarriageReturn));
    BOOST_TEST(end.offset == 3u);
}

BOOST_AUTO_TEST_CASE(passes_an_empty_frame_on)
{
    const auto seen = run(MllpFramer::frame("") + MllpFramer::frame("x"), 1);
    BOOST_TEST(seen == (std::vector<Seen>{frame(0, ""), frame(3, "x")}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(accepts_a_frame_of_exactly_the_limit)
{
    const std::string message(10, 'm');
    BOOST_TEST(run(MllpFramer::frame(message), 1, 10) == std::vector<Seen>{frame(0, message)},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(reports_a_frame_over_the_limit_before_it_ends)
{
    // No end block ever arrives: the limit, not the sender, bounds the memory held.
    MllpFramer framer(10);
    framer.feed("junk\x0b");
    BOOST_TEST(static_cast<int>(framer.next().kind) == static_cast<int>(Kind::Junk));
    framer.feed(std::string(10, 'm'));
    BOOST_TEST(static_cast<int>(framer.next().kind) == static_cast<int>(Kind::NeedMore));
    framer.feed("m");
    const auto event = framer.next();
    BOOST_TEST(static_cast<int>(event.kind) == static_cast<int>(Kind::TooLarge));
    BOOST_TEST(event.offset == 4u);
    BOOST_TEST(event.size == 11u);
    // Everything after is discarded until reset().
    framer.feed(MllpFramer::frame("ok"));
    BOOST_TEST(static_cast<int>(framer.next().kind) == static_cast<int>(Kind::NeedMore));
    framer.reset();
    framer.feed(MllpFramer::frame("ok"));
    BOOST_TEST(framer.next().message == "ok");
}

BOOST_AUTO_TEST_CASE(reports_a_complete_frame_over_the_limit)
{
    const auto seen = run(MllpFramer::frame(std::string(11, 'm')), 64, 10);
    BOOST_TEST(seen == (std::vector<Seen>{{Kind::TooLarge, 0, 11, {}}}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(discards_a_frame_interrupted_by_a_new_start_block)
{
    // The first frame never ended; handing both on as one message would acknowledge the
    // second under the first one's control id.
    const std::string stream = std::string("\x0b"
                                           "lost") +
                               MllpFramer::frame("kept");
    BOOST_TEST(run(stream, 1) == (std::vector<Seen>{junk(0, 5), frame(5, "kept")}),
               boost::test_tools::per_element());
    BOOST_TEST(run(stream, stream.size()) == (std::vector<Seen>{junk(0, 5), frame(5, "kept")}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(reports_a_frame_cut_off_by_the_end_of_the_stream)
{
    const auto seen = run(MllpFramer::frame("a") + "\x0b" + "part", 2);
    BOOST_TEST(seen == (std::vector<Seen>{frame(0, "a"), {Kind::Truncated, 4, 4, {}}}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(keeps_a_frame_view_valid_until_the_next_prepare)
{
    MllpFramer framer;
    framer.feed(MllpFramer::frame("first") + MllpFramer::frame("second"));
    const auto first = framer.next();
    const auto second = framer.next();
    BOOST_TEST(first.message == "first");
    BOOST_TEST(second.message == "second");
    BOOST_TEST(static_cast<int>(framer.next().kind) == static_cast<int>(Kind::NeedMore));
}

BOOST_AUTO_TEST_CASE(reassembles_a_large_frame_from_many_reads)
{
    std::string message(3 * 1024 * 1024 + 17, '\0');
    for (std::size_t i = 0; i < message.size(); ++i) {
        message[i] = static_cast<char>('A' + i % 26);
    }
    const std::string stream = "j" + MllpFramer::frame(message) + MllpFramer::frame("next");
    const auto seen = run(stream, 64 * 1024, message.size());
    BOOST_TEST(seen == (std::vector<Seen>{junk(0, 1), frame(1, message),
                                          frame(message.size() + 4, "next")}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(counts_offsets_across_the_whole_stream)
{
    MllpFramer framer;
    std::uint64_t offset = 0;
    for (int i = 0; i < 1000; ++i) {
        const std::string message = "m" + std::to_string(i);
        framer.feed(MllpFramer::frame(message));
        const auto event = framer.next();
        BOOST_REQUIRE(static_cast<int>(event.kind) == static_cast<int>(Kind::Frame));
        BOOST_REQUIRE(event.offset == offset);
        BOOST_REQUIRE(event.message == message);
        offset += message.size() + 3;
    }
    // The last carriage return is consumed by the call that finds nothing more.
    BOOST_TEST(static_cast<int>(framer.next().kind) == static_cast<int>(Kind::NeedMore));
    BOOST_TEST(framer.bufferedBytes() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
