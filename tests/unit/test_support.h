#pragma once

#include "gateway/core/clock.h"
#include "gateway/hl7v2/charset.h"

#include <boost/test/unit_test.hpp>

#include <Poco/TemporaryFile.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace hl7gw::test {

inline std::filesystem::path corpusDir()
{
    return HL7GW_CORPUS_DIR;
}

inline std::filesystem::path dataDir()
{
    return HL7GW_TEST_DATA_DIR;
}

inline std::string readFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Every regular file below `dir` (recursively) whose name ends in one of `suffixes`,
/// sorted so test output is stable.
inline std::vector<std::filesystem::path> filesUnder(const std::filesystem::path& dir,
                                                     const std::vector<std::string>& suffixes)
{
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        const std::string name = entry.path().filename().string();
        for (const std::string& suffix : suffixes) {
            if (name.size() >= suffix.size() &&
                name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
                files.push_back(entry.path());
                break;
            }
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

/// A directory removed with everything in it when the object goes.
class TempDir {
  public:
    TempDir() : path_(Poco::TemporaryFile::tempName())
    {
        std::filesystem::create_directories(path_);
    }
    ~TempDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

/// An ADT^A01 in ER7 with the given control id and patient id.
inline std::string adt(const std::string& controlId, const std::string& patient = "P1",
                       const std::string& trigger = "A01")
{
    return "MSH|^~\\&|HIS|HOSP|GW|GW|20261201083000+0800||ADT^" + trigger + "^ADT_A01|" +
           controlId + "|P|2.5.1\rEVN|" + trigger + "|20261201083000+0800\rPID|1||" + patient +
           "^^^HOSP^MR||Zhang^San||19800101|M\rPV1|1|I\r";
}

/// Waits until `done()` holds, polling; false after `seconds`.
inline bool waitFor(const std::function<bool()>& done, double seconds = 10)
{
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    while (std::chrono::steady_clock::now() < until) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
}

/// A clock the test moves by hand.
class ManualClock : public core::Clock {
  public:
    explicit ManualClock(std::int64_t start = 1'764'600'000'000'000) : now_(start) {}
    std::int64_t nowMicros() const override { return now_.load(); }
    void advance(std::int64_t micros) { now_ += micros; }

  private:
    std::atomic<std::int64_t> now_;
};

} // namespace hl7gw::test

// Enums compared in BOOST_TEST without a stream operator of their own.
BOOST_TEST_DONT_PRINT_LOG_VALUE(hl7gw::hl7v2::Charset::Id)
