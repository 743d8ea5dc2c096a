#include "gateway/routing/directory_source.h"

#include "gateway/hl7v2/message_splitter.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace hl7gw::routing {

namespace fs = std::filesystem;

namespace {

Poco::Logger& logger()
{
    static Poco::Logger& l = Poco::Logger::get("hl7gw.routing.directory");
    return l;
}

} // namespace

DirectorySource::DirectorySource(DirectorySourceConfig config, std::string channel, StoreFn store)
    : config_(std::move(config)), channel_(std::move(channel)), store_(std::move(store))
{
    if (config_.doneDirectory.empty()) {
        config_.doneDirectory = (fs::path(config_.path) / "done").string();
    }
}

DirectorySource::~DirectorySource()
{
    stop();
}

void DirectorySource::start()
{
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void DirectorySource::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

std::size_t DirectorySource::pollOnce()
{
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(config_.path, ec)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_regular_file() || name.empty() || name.front() == '.' ||
            (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0)) {
            continue;
        }
        files.push_back(entry.path());
    }
    if (ec) {
        logger().warning("channel %s: cannot read directory %s: %s", channel_, config_.path,
                         ec.message());
        return 0;
    }
    std::sort(files.begin(), files.end());
    std::size_t done = 0;
    for (const fs::path& file : files) {
        std::ifstream in(file, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) {
            logger().warning("channel %s: cannot read %s", channel_, file.string());
            continue;
        }
        hl7v2::MessageSplitter splitter(bytes);
        hl7v2::Chunk chunk;
        core::IssueList issues;
        bool allStored = true;
        std::size_t messages = 0;
        while (splitter.next(chunk, issues)) {
            if (chunk.kind != hl7v2::Chunk::Kind::Message) {
                continue;
            }
            ++messages;
            if (!store_(chunk.bytes,
                        "file:" + file.string() + '#' + std::to_string(chunk.number))) {
                allStored = false;
                break;
            }
        }
        if (!allStored) {
            // Stays where it is; the next poll resends and the store drops the duplicates.
            continue;
        }
        fs::create_directories(config_.doneDirectory, ec);
        fs::rename(file, fs::path(config_.doneDirectory) / file.filename(), ec);
        if (ec) {
            logger().error("channel %s: %s was stored but cannot be moved to %s: %s", channel_,
                           file.string(), config_.doneDirectory, ec.message());
            continue;
        }
        logger().debug("channel %s: %s: %z message(s) stored", channel_, file.string(), messages);
        ++done;
    }
    return done;
}

void DirectorySource::run()
{
    while (true) {
        pollOnce();
        std::unique_lock lock(mutex_);
        if (wake_.wait_for(lock, std::chrono::milliseconds(config_.pollMs),
                           [this] { return stopping_; })) {
            return;
        }
    }
}

} // namespace hl7gw::routing
