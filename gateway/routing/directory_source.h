#pragma once

#include "gateway/routing/channel_set.h"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace hl7gw::routing {

/// A directory source: polls a folder, hands every message of every file (one or more
/// messages, batches, any segment ends) to the receiver, and moves the file to the done
/// folder only when each of its messages was stored (answered AA/CA/AE/AR other than 207, or
/// a duplicate). A file whose messages could not all be stored stays for the next poll; the
/// store de-duplicates what was already taken. Files are read in name order; names starting
/// with '.' or ending in ".tmp" are skipped (still being written).
class DirectorySource {
  public:
    /// Returns true when the message was stored (or was a duplicate).
    using StoreFn = std::function<bool(std::string_view message, const std::string& peer)>;

    DirectorySource(DirectorySourceConfig config, std::string channel, StoreFn store);
    ~DirectorySource();

    void start();
    void stop();
    /// One pass over the folder; returns the number of files completed.
    std::size_t pollOnce();

  private:
    void run();

    DirectorySourceConfig config_;
    std::string channel_;
    StoreFn store_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace hl7gw::routing
