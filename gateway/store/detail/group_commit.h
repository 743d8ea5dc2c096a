#pragma once

#include <Poco/Exception.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace hl7gw::store::detail {

class Writer;

/// Thrown by an op that went without a savepoint and met a failure it cannot undo alone in
/// the shared transaction: the batch is rolled back and run again with Target::isolate(true),
/// under which every op protects itself with a savepoint and reports its own refusal.
class IsolationNeeded : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// One write a caller hands to the writer thread. apply() runs in the writer thread, inside
/// the batch's transaction, and runs again when the batch is retried; it keeps its results
/// in the object, which the caller reads after submit() returned.
class WriteOp {
  public:
    virtual ~WriteOp() = default;
    virtual void apply(Writer& writer) = 0;

  private:
    friend class GroupCommitter;
    bool finished_ = false;
    std::exception_ptr error_;
};

/// Group commit: one thread runs every write in transactions of up to maxBatch ops with one
/// commit (one fsync) each, then wakes each caller with the outcome. A batch takes what is
/// queued and, applying each op as it arrives, waits up to `gatherWindow` for as many ops as
/// the previous batch had: the callers it just answered usually come straight back with
/// their next write, and one commit for all of them beats one for the first and another for
/// the rest. A lone caller never waits (its previous batch had one op).
///
/// Thread-safe. submit() blocks until the op's batch committed or failed; when a batch fails
/// (after the retries the target allows), every op in it fails with a StoreError carrying
/// the batch's error, and nothing of the batch is applied.
class GroupCommitter {
  public:
    /// The database side; called on the committer's thread only.
    class Target {
      public:
        virtual ~Target() = default;
        virtual void begin() = 0;
        virtual void apply(WriteOp& op) = 0;
        virtual void commit() = 0;
        /// After any failure of begin, apply or commit. Must not throw.
        virtual void rollback() noexcept = 0;
        /// True when a batch that failed with `error` is worth running again as it is.
        virtual bool retryable(const Poco::Exception& error) const = 0;
        /// On for the reruns of a batch that failed with IsolationNeeded.
        virtual void isolate(bool on) noexcept = 0;
    };

    GroupCommitter(Target& target, std::size_t maxBatch, std::chrono::microseconds gatherWindow);
    /// Finishes the queued ops, then stops the thread.
    ~GroupCommitter();

    GroupCommitter(const GroupCommitter&) = delete;
    GroupCommitter& operator=(const GroupCommitter&) = delete;

    /// Throws StoreError when the batch failed or the committer is stopping.
    void submit(WriteOp& op);

  private:
    void run();
    std::exception_ptr gather(std::unique_lock<std::mutex>& lock, std::vector<WriteOp*>& batch,
                              std::size_t target);
    std::exception_ptr rerun(const std::vector<WriteOp*>& batch);
    bool retryable(const std::exception_ptr& error) const;
    static bool needsIsolation(const std::exception_ptr& error);

    Target& target_;
    const std::size_t maxBatch_;
    const std::chrono::microseconds gatherWindow_;
    std::mutex mutex_;
    std::condition_variable wake_; // the writer: work arrived
    std::condition_variable done_; // the callers: a batch finished
    std::deque<WriteOp*> queue_;
    bool idle_ = false;      // the writer waits on wake_
    std::size_t wakeAt_ = 1; // ... for this many queued ops
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace hl7gw::store::detail
