// hl7gw_bench_parse: single-thread throughput of the ER7 codec over a workload file written by
// ../shared/peers/gen_workload.py (one message per line: segments end in CR, messages are
// separated by LF). Only codec calls are timed (MessageSplitter, Er7Parser, TextDecoder,
// writeJson), never app/ code, so the figures are the codec's.
//
//   hl7gw_bench_parse FILE [--modes index,decode,json,touch] [--seconds 3] [--max-seconds 10]
//                          [--warmup 2000]
//
// Modes, each timed over the whole file, repeating passes until --seconds have elapsed (and
// stopping mid-pass at --max-seconds, reported as complete=false):
//   index   split the buffer into messages and index every segment (no field is read)
//   decode  index + decode every leaf: every subcomponent of every component of every
//           repetition of every field, through SegmentView::forEachLeaf and TextDecoder::decode
//   json    index + writeJson per message (the `hl7gw parse --to json` form)
//   touch   index + the peers' read: PID-5.1 and OBX-5.1 of every OBX, lengths in characters
//           summed so the result can be checked against the peers' sums
//
// The file is memory-mapped (no copy), its pages are touched once before timing, and the
// first --warmup messages of each mode run untimed. Prints one JSON line per mode in the
// peers' format (MB = 10^6 bytes of message text, LF separators not counted) with peak RSS
// and the current anonymous/file-backed RSS, so memory can be shown to be O(segments): the
// file's pages are file-backed and shared; only the index and scratch buffers are anonymous.

#include "gateway/core/issue.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/json_writer.h"
#include "gateway/hl7v2/message.h"
#include "gateway/hl7v2/message_splitter.h"
#include "gateway/hl7v2/text_decoder.h"

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/SharedMemory.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace hl7gw;
using Clock = std::chrono::steady_clock;

enum class Mode { Index, Decode, Json, Touch };

struct Options {
    std::string file;
    std::vector<Mode> modes{Mode::Index, Mode::Decode, Mode::Json, Mode::Touch};
    double seconds = 3.0;
    double maxSeconds = 10.0;
    std::size_t warmup = 2000;
};

const char* modeName(Mode mode)
{
    switch (mode) {
    case Mode::Index:
        return "index";
    case Mode::Decode:
        return "decode";
    case Mode::Json:
        return "json";
    case Mode::Touch:
        return "touch";
    }
    return "?";
}

// What one mode reads from the messages; the counters are printed, so no work can be
// optimised away, and the touch sums are compared with the peers'.
struct Totals {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t failed = 0; // messages with a Fatal parse issue
    std::uint64_t segments = 0;
    std::uint64_t leaves = 0;
    std::uint64_t decodedBytes = 0;
    std::uint64_t jsonBytes = 0;
    std::uint64_t pid5Chars = 0;
    std::uint64_t obx5Count = 0;
    std::uint64_t obx5Chars = 0;
};

// Characters, as the peers count them (JS string length, Python len): every decoded name here
// is in the BMP, so UTF-8 lead bytes are the count.
std::uint64_t utf8Chars(std::string_view text)
{
    std::uint64_t n = 0;
    for (const char c : text) {
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
}

// Reused across messages as the codec contract asks: one Message, one decoder, one output.
class Runner {
public:
    explicit Runner(Mode mode) : mode_(mode) {}

    void run(const hl7v2::Chunk& chunk, std::uint32_t number, Totals& totals)
    {
        issues_.clear();
        ++totals.messages;
        totals.bytes += chunk.bytes.size();
        if (!parser_.parse(chunk.bytes, message_, issues_)) {
            ++totals.failed;
            return;
        }
        totals.segments += message_.segmentCount();
        switch (mode_) {
        case Mode::Index:
            break;
        case Mode::Decode:
            decodeAll(totals);
            break;
        case Mode::Json:
            json_.clear();
            hl7v2::writeJson(message_, number, decoder_, json_, &issues_);
            totals.jsonBytes += json_.size();
            break;
        case Mode::Touch:
            touch(totals);
            break;
        }
    }

private:
    void decodeAll(Totals& totals)
    {
        for (std::size_t i = 0; i < message_.segmentCount(); ++i) {
            message_.segment(i).forEachLeaf([&](const hl7v2::Leaf& leaf) {
                ++totals.leaves;
                totals.decodedBytes += decoder_.decode(leaf, &issues_).size();
            });
        }
    }

    void touch(Totals& totals)
    {
        if (const auto pid = message_.findSegment("PID")) {
            totals.pid5Chars += utf8Chars(decoder_.decode(pid->field(5).component(1), &issues_));
        }
        for (std::size_t i = 0; i < message_.segmentCount(); ++i) {
            const hl7v2::SegmentView segment = message_.segment(i);
            if (segment.id() == "OBX") {
                ++totals.obx5Count;
                totals.obx5Chars +=
                    utf8Chars(decoder_.decode(segment.field(5).component(1), &issues_));
            }
        }
    }

    Mode mode_;
    hl7v2::Er7Parser parser_;
    hl7v2::Message message_;
    hl7v2::TextDecoder decoder_;
    core::IssueList issues_;
    std::string json_;
};

// One pass over the buffer; returns false when `deadline` stopped it before the end.
bool pass(std::string_view bytes, Runner& runner, Totals& totals, std::size_t limit,
          Clock::time_point deadline)
{
    hl7v2::MessageSplitter splitter(bytes);
    hl7v2::Chunk chunk;
    core::IssueList envelopeIssues;
    std::size_t done = 0;
    while (splitter.next(chunk, envelopeIssues)) {
        if (chunk.kind != hl7v2::Chunk::Kind::Message) {
            continue;
        }
        runner.run(chunk, chunk.number, totals);
        ++done;
        if (limit != 0 && done >= limit) {
            return true;
        }
        if ((done & 1023) == 0 && Clock::now() > deadline) {
            return false;
        }
    }
    return true;
}

struct Memory {
    long peakRssKb = 0;  // getrusage: includes the mapped file's touched pages
    long rssAnonKb = 0;  // heap and stacks: what the codec allocates
    long rssFileKb = 0;  // file-backed pages (the mapped workload, shared with the page cache)
};

Memory memory()
{
    Memory m;
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) == 0) {
        m.peakRssKb = usage.ru_maxrss;
    }
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        std::istringstream fields(line);
        std::string key;
        long value = 0;
        fields >> key >> value;
        if (key == "RssAnon:") {
            m.rssAnonKb = value;
        } else if (key == "RssFile:") {
            m.rssFileKb = value;
        }
    }
    return m;
}

std::string workloadName(const std::string& file)
{
    std::string name = file.substr(file.find_last_of('/') + 1);
    return name.substr(0, name.find('.'));
}

std::string fixed(double value, int decimals)
{
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

void report(const Options& options, Mode mode, const Totals& t, double seconds, bool complete,
            std::uint64_t passes, std::uint64_t fileMessages, const Totals& firstPass)
{
    const Memory mem = memory();
    std::ostringstream line;
    line << "{\"bench\":\"parse\",\"peer\":\"hl7gw\",\"version\":\"" << HL7GW_VERSION
         << "\",\"runtime\":\"C++ " << __VERSION__ << "\",\"workload\":\""
         << workloadName(options.file) << "\",\"mode\":\"" << modeName(mode)
         << "\",\"messages\":" << t.messages << ",\"complete\":" << (complete ? "true" : "false")
         << ",\"bytes\":" << t.bytes << ",\"seconds\":" << fixed(seconds, 4)
         << ",\"msgs_per_s\":" << fixed(static_cast<double>(t.messages) / seconds, 1)
         << ",\"mb_per_s\":" << fixed(static_cast<double>(t.bytes) / seconds / 1e6, 3)
         << ",\"passes\":" << passes << ",\"file_messages\":" << fileMessages
         << ",\"failed\":" << t.failed << ",\"segments\":" << t.segments;
    switch (mode) {
    case Mode::Index:
        break;
    case Mode::Decode:
        line << ",\"leaves\":" << t.leaves << ",\"decoded_bytes\":" << t.decodedBytes;
        break;
    case Mode::Json:
        line << ",\"json_bytes\":" << t.jsonBytes;
        break;
    case Mode::Touch:
        // Sums of the first whole pass: one pass is what the peers report.
        line << ",\"pid5_chars\":" << firstPass.pid5Chars
             << ",\"obx5_count\":" << firstPass.obx5Count
             << ",\"obx5_chars\":" << firstPass.obx5Chars;
        break;
    }
    line << ",\"peak_rss_kb\":" << mem.peakRssKb << ",\"rss_anon_kb\":" << mem.rssAnonKb
         << ",\"rss_file_kb\":" << mem.rssFileKb << '}';
    std::cout << line.str() << std::endl;
}

void runMode(const Options& options, std::string_view bytes, Mode mode)
{
    Runner runner(mode);
    Totals warm;
    const Clock::time_point never = Clock::time_point::max();
    if (options.warmup != 0) {
        pass(bytes, runner, warm, options.warmup, never);
    }
    Totals totals;
    Totals firstPass;
    std::uint64_t passes = 0;
    std::uint64_t fileMessages = 0;
    bool complete = true;
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline =
        start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(options.maxSeconds));
    const auto elapsed = [&start]() {
        return std::chrono::duration<double>(Clock::now() - start).count();
    };
    do {
        complete = pass(bytes, runner, totals, 0, deadline);
        if (complete && ++passes == 1) {
            firstPass = totals;
            fileMessages = totals.messages;
        }
    } while (complete && elapsed() < options.seconds);
    report(options, mode, totals, elapsed(), complete, passes, fileMessages, firstPass);
}

bool parseModes(std::string_view list, std::vector<Mode>& modes)
{
    modes.clear();
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string_view name = list.substr(0, comma);
        if (name == "index") {
            modes.push_back(Mode::Index);
        } else if (name == "decode") {
            modes.push_back(Mode::Decode);
        } else if (name == "json") {
            modes.push_back(Mode::Json);
        } else if (name == "touch") {
            modes.push_back(Mode::Touch);
        } else {
            return false;
        }
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    return !modes.empty();
}

int usage()
{
    std::cerr << "usage: hl7gw_bench_parse FILE [--modes index,decode,json,touch] [--seconds S]"
                 " [--max-seconds S] [--warmup N]\n";
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool hasValue = i + 1 < argc;
        if (arg == "--modes" && hasValue) {
            if (!parseModes(argv[++i], options.modes)) {
                return usage();
            }
        } else if (arg == "--seconds" && hasValue) {
            options.seconds = std::atof(argv[++i]);
        } else if (arg == "--max-seconds" && hasValue) {
            options.maxSeconds = std::atof(argv[++i]);
        } else if (arg == "--warmup" && hasValue) {
            options.warmup = static_cast<std::size_t>(std::atol(argv[++i]));
        } else if (!arg.empty() && arg[0] != '-' && options.file.empty()) {
            options.file = arg;
        } else {
            return usage();
        }
    }
    if (options.file.empty() || options.maxSeconds <= 0) {
        return usage();
    }
    try {
        // Mapped like gateway/app/input_file.cpp: the file is never copied onto the heap.
        Poco::File file(options.file);
        if (file.getSize() == 0) {
            std::cerr << options.file << ": empty\n";
            return 1;
        }
        Poco::SharedMemory mapping(file, Poco::SharedMemory::AM_READ);
        const std::string_view bytes(mapping.begin(),
                                     static_cast<std::size_t>(mapping.end() - mapping.begin()));
        // Fault the pages in before timing: the peers read the file before their clock starts.
        unsigned char sum = 0;
        for (std::size_t i = 0; i < bytes.size(); i += 4096) {
            sum = static_cast<unsigned char>(sum + static_cast<unsigned char>(bytes[i]));
        }
        volatile unsigned char sink = sum;
        static_cast<void>(sink);
        for (const Mode mode : options.modes) {
            runMode(options, bytes, mode);
        }
    } catch (const Poco::Exception& e) {
        std::cerr << "hl7gw_bench_parse: " << e.displayText() << '\n';
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "hl7gw_bench_parse: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
