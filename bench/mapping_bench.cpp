// hl7gw_bench_mapping: single-thread throughput of the v2 -> FHIR mapping engine over a workload
// file written by ../shared/peers/gen_workload.py (one message per line, segments end in CR).
//
//   hl7gw_bench_mapping MAPPINGS_DIR FILE [--seconds 3] [--limit N]
//
// Messages are parsed once, untimed. Two modes are then timed, each repeating passes over the
// parsed messages until --seconds have elapsed:
//   parse   Er7Parser alone (the floor every mapping pays)
//   map     parse + V2ToFhir::map (structure groups, every statement, the Bundle as a document)
//   json    parse + map + fhir::writeJson of the Bundle (what a channel hands on)
// One JSON line per mode: messages/s, MB/s of message text and peak RSS.

#include "gateway/fhir/model/json_io.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/mapping/v2_to_fhir.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace hl7gw;

long peakRssKb()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::cerr << "usage: hl7gw_bench_mapping MAPPINGS_DIR FILE [--seconds S] [--limit N]\n";
        return 2;
    }
    std::string mappingsDir = argv[1];
    std::string file = argv[2];
    double seconds = 3;
    std::size_t limit = 0;
    for (int i = 3; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--seconds")
            seconds = std::atof(argv[i + 1]);
        else if (flag == "--limit")
            limit = static_cast<std::size_t>(std::atoll(argv[i + 1]));
    }
    std::ifstream in(file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> messages;
    for (std::size_t start = 0; start < text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        if (end > start)
            messages.push_back(text.substr(start, end - start));
        start = end + 1;
        if (limit != 0 && messages.size() >= limit)
            break;
    }
    if (messages.empty()) {
        std::cerr << file << ": no messages\n";
        return 1;
    }
    std::size_t bytes = 0;
    for (const std::string& m : messages)
        bytes += m.size();

    auto maps = mapping::MapSet::load(mappingsDir);
    mapping::V2ToFhir engine(maps, mapping::Dialect::standard());
    hl7v2::Er7Parser parser;
    hl7v2::Message message;

    // Every message must map: a benchmark of failures would measure the error path.
    for (const std::string& m : messages) {
        core::IssueList issues;
        rapidjson::Document bundle;
        if (!parser.parse(m, message, issues) || !engine.map(message, bundle, issues)) {
            std::cerr << "a workload message does not map: "
                      << (issues.size() ? issues[0].text : std::string("parse failed")) << '\n';
            return 1;
        }
    }

    for (const char* mode : {"parse", "map", "json"}) {
        std::string m(mode);
        std::size_t count = 0;
        std::size_t outBytes = 0;
        auto start = Clock::now();
        double elapsed = 0;
        while (elapsed < seconds) {
            for (const std::string& raw : messages) {
                core::IssueList issues;
                parser.parse(raw, message, issues);
                if (m != "parse") {
                    rapidjson::Document bundle;
                    engine.map(message, bundle, issues);
                    if (m == "json")
                        outBytes += fhir::writeJson(bundle).size();
                }
                ++count;
            }
            elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        }
        std::printf("{\"impl\":\"hl7gw\",\"mode\":\"%s\",\"messages\":%zu,\"seconds\":%.3f,"
                    "\"msgs_per_s\":%.0f,\"mb_per_s\":%.2f,\"bundle_bytes_per_msg\":%.0f,"
                    "\"peak_rss_kb\":%ld}\n",
                    mode, count, elapsed, count / elapsed,
                    static_cast<double>(bytes) * (count / messages.size()) / elapsed / 1e6,
                    count ? static_cast<double>(outBytes) / count : 0.0, peakRssKb());
    }
    return 0;
}
