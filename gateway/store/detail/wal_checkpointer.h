#pragma once

#include <Poco/Data/Session.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace hl7gw::store::detail {

/// Copies a SQLite WAL back into the database file on a thread and connection of its own, so
/// that the one writer thread (GroupCommitter) spends its time on commits. With SQLite's
/// automatic checkpoint every 1,000 frames, the commit that crossed the mark copied them and
/// fsync'd the database file before it returned: 460 KB written per FHIR create, against
/// 54 KB with this thread.
///
/// Each round is a PASSIVE checkpoint, which takes no lock the writer or the readers wait
/// for. A writer that never pauses can keep a passive checkpoint from catching up, and the WAL
/// only starts over once one has; so the writer keeps an automatic checkpoint of its own at a
/// higher mark (sql_store.cpp), which then finds little left to copy and, being the writer's,
/// finishes, so the WAL starts over. (A RESTART checkpoint from here would hold the writer
/// lock while it waits for readers, and the writer would sleep in its busy handler.)
class WalCheckpointer {
  public:
    WalCheckpointer(std::function<Poco::Data::Session()> connect,
                    std::chrono::milliseconds interval);
    ~WalCheckpointer(); // the round in hand finishes, then the thread stops
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  private:
    void run();

    const std::function<Poco::Data::Session()> connect_;
    const std::chrono::milliseconds interval_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_; // last: starts once the rest is set
};

} // namespace hl7gw::store::detail
