#include "gateway/store/detail/group_commit.h"

#include "gateway/store/message_store.h"

#include <algorithm>
#include <string>

namespace hl7gw::store::detail {

namespace {

// A batch PostgreSQL aborted for a deadlock or a serialization failure is run at most this
// often in all; each run starts from nothing, since the failed one was rolled back.
constexpr int MaxAttempts = 3;

template <typename Fn> std::exception_ptr attempt(Fn&& fn) noexcept
{
    try {
        fn();
        return nullptr;
    } catch (...) {
        return std::current_exception();
    }
}

std::string describe(const std::exception_ptr& error)
{
    try {
        std::rethrow_exception(error);
    } catch (const StoreError& e) {
        return e.message();
    } catch (const Poco::Exception& e) {
        return e.displayText();
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

} // namespace

GroupCommitter::GroupCommitter(Target& target, std::size_t maxBatch,
                               std::chrono::microseconds gatherWindow)
    : target_(target), maxBatch_(std::max<std::size_t>(maxBatch, 1)), gatherWindow_(gatherWindow)
{
    thread_ = std::thread([this] { run(); });
}

GroupCommitter::~GroupCommitter()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void GroupCommitter::submit(WriteOp& op)
{
    std::unique_lock lock(mutex_);
    if (stopping_) {
        throw StoreError("the store is closing");
    }
    op.finished_ = false;
    op.error_ = nullptr;
    queue_.push_back(&op);
    // Only a waiting writer needs the syscall (a busy one looks at the queue when it is
    // done), and a gathering one only once the rest of its batch is here.
    if (idle_ && queue_.size() >= wakeAt_) {
        wake_.notify_one();
    }
    done_.wait(lock, [&op] { return op.finished_; });
    if (op.error_) {
        std::rethrow_exception(op.error_);
    }
}

void GroupCommitter::run()
{
    std::vector<WriteOp*> batch;
    batch.reserve(maxBatch_);
    std::size_t lastBatch = 0;
    std::unique_lock lock(mutex_);
    while (true) {
        idle_ = true;
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        idle_ = false;
        if (queue_.empty()) {
            return; // stopping, and every caller has had its answer
        }
        batch.clear();
        lock.unlock();
        std::exception_ptr error = attempt([this] { target_.begin(); });
        lock.lock();
        if (error) {
            // Everything queued shares the failure, rather than the database being tried
            // once per op while it is down.
            while (!queue_.empty() && batch.size() < maxBatch_) {
                batch.push_back(queue_.front());
                queue_.pop_front();
            }
        } else {
            error = gather(lock, batch, std::min(lastBatch, maxBatch_));
        }
        lock.unlock();

        if (!error) {
            error = attempt([this] { target_.commit(); });
        }
        bool isolated = false;
        for (int run = 2;
             error && run <= MaxAttempts && (needsIsolation(error) || retryable(error)); ++run) {
            target_.rollback();
            if (needsIsolation(error)) {
                target_.isolate(true);
                isolated = true;
            }
            error = rerun(batch);
        }
        if (isolated) {
            target_.isolate(false);
        }
        if (error) {
            target_.rollback();
        }
        const std::string failure = error ? describe(error) : std::string();

        lock.lock();
        lastBatch = batch.size();
        for (WriteOp* op : batch) {
            // Each caller gets its own exception object: they rethrow it on different threads.
            if (error) {
                op->error_ = std::make_exception_ptr(StoreError(failure));
            }
            op->finished_ = true;
        }
        // One condition for all callers, woken once per batch (it outlives every op, unlike a
        // condition inside the op, which its caller may destroy as soon as it sees finished_).
        lock.unlock();
        done_.notify_all();
        lock.lock();
    }
}

// Applies queued ops, and ops that arrive, until the batch has `target` ops (or maxBatch),
// the window has passed and the queue is empty, or an op failed. Called and returns with the
// lock held; applies with it released, so callers can queue meanwhile. It sleeps until the
// whole rest of the batch is queued rather than waking for each op: on a small machine the
// writer's wake-ups compete for the cores the callers need.
std::exception_ptr GroupCommitter::gather(std::unique_lock<std::mutex>& lock,
                                          std::vector<WriteOp*>& batch, std::size_t target)
{
    const auto deadline = std::chrono::steady_clock::now() + gatherWindow_;
    bool windowOver = false;
    while (batch.size() < maxBatch_) {
        if (queue_.empty()) {
            if (batch.size() >= target || windowOver || stopping_) {
                break;
            }
            idle_ = true;
            wakeAt_ = target - batch.size();
            windowOver = !wake_.wait_until(
                lock, deadline, [this] { return stopping_ || queue_.size() >= wakeAt_; });
            idle_ = false;
            wakeAt_ = 1;
            continue;
        }
        WriteOp* op = queue_.front();
        queue_.pop_front();
        batch.push_back(op);
        lock.unlock();
        std::exception_ptr error = attempt([&] { target_.apply(*op); });
        lock.lock();
        if (error) {
            return error;
        }
    }
    return nullptr;
}

std::exception_ptr GroupCommitter::rerun(const std::vector<WriteOp*>& batch)
{
    return attempt([&] {
        target_.begin();
        for (WriteOp* op : batch) {
            target_.apply(*op);
        }
        target_.commit();
    });
}

bool GroupCommitter::needsIsolation(const std::exception_ptr& error)
{
    try {
        std::rethrow_exception(error);
    } catch (const IsolationNeeded&) {
        return true;
    } catch (...) {
        return false;
    }
}

bool GroupCommitter::retryable(const std::exception_ptr& error) const
{
    try {
        std::rethrow_exception(error);
    } catch (const Poco::Exception& e) {
        return target_.retryable(e);
    } catch (...) {
        return false;
    }
}

} // namespace hl7gw::store::detail
