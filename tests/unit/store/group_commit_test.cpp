#include "gateway/store/detail/group_commit.h"

#include "gateway/store/message_store.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace detail = hl7gw::store::detail;
using hl7gw::store::StoreError;

namespace {

/// Records what the committer does; a commit takes as long as a fast fsync, so that callers
/// pile up behind it as they do behind a real one.
class FakeTarget final : public detail::GroupCommitter::Target {
  public:
    void begin() override
    {
        std::lock_guard lock(mutex_);
        current_.clear();
        ++begins;
    }
    void apply(detail::WriteOp& op) override;
    void commit() override
    {
        std::this_thread::sleep_for(std::chrono::microseconds(300));
        std::lock_guard lock(mutex_);
        if (failBatchesOf != 0 && current_.size() >= failBatchesOf) {
            failed.push_back(current_);
            throw StoreError("disk full");
        }
        if (retryOnce && !retried_) {
            retried_ = true;
            throw Poco::IOException("deadlock detected");
        }
        committed.push_back(current_);
    }
    void rollback() noexcept override
    {
        std::lock_guard lock(mutex_);
        ++rollbacks;
    }
    bool retryable(const Poco::Exception& error) const override
    {
        return dynamic_cast<const Poco::IOException*>(&error) != nullptr;
    }
    void isolate(bool on) noexcept override
    {
        std::lock_guard lock(mutex_);
        isolated_ = on;
        isolations.push_back(on);
    }

    // Written before the committer starts, read after it stopped.
    std::size_t failBatchesOf = 0;
    bool retryOnce = false;
    int begins = 0;
    int rollbacks = 0;
    std::vector<std::vector<detail::WriteOp*>> committed;
    std::vector<std::vector<detail::WriteOp*>> failed;
    std::vector<bool> isolations;           // each isolate() call
    std::vector<bool> refusingRunsIsolated; // per apply of a RefusingOp: isolated or not

  private:
    std::mutex mutex_;
    bool isolated_ = false;
    std::vector<detail::WriteOp*> current_;
    bool retried_ = false;
};

class NoOp final : public detail::WriteOp {
  public:
    void apply(detail::Writer&) override {}
};

/// An op whose row is refused: without isolation it cannot undo itself alone (as a resource
/// write without its savepoint).
class RefusingOp final : public detail::WriteOp {
  public:
    void apply(detail::Writer&) override {}
};

void FakeTarget::apply(detail::WriteOp& op)
{
    std::lock_guard lock(mutex_);
    if (dynamic_cast<RefusingOp*>(&op) != nullptr) {
        refusingRunsIsolated.push_back(isolated_);
        if (!isolated_) {
            throw detail::IsolationNeeded("UNIQUE constraint failed");
        }
    }
    current_.push_back(&op);
}

/// Each of `threads` callers submits `each` ops; returns, per op, whether its submit threw.
std::map<const detail::WriteOp*, bool> submitConcurrently(detail::GroupCommitter& committer,
                                                          std::vector<NoOp>& ops, int threads)
{
    std::map<const detail::WriteOp*, bool> threw;
    std::mutex mutex;
    std::latch start(threads);
    std::vector<std::thread> workers;
    const std::size_t each = ops.size() / static_cast<std::size_t>(threads);
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            start.arrive_and_wait();
            for (std::size_t i = 0; i < each; ++i) {
                NoOp& op = ops[static_cast<std::size_t>(t) * each + i];
                bool failed = false;
                try {
                    committer.submit(op);
                } catch (const StoreError&) {
                    failed = true;
                }
                std::lock_guard lock(mutex);
                threw[&op] = failed;
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    return threw;
}

std::size_t opsIn(const std::vector<std::vector<detail::WriteOp*>>& batches)
{
    std::size_t n = 0;
    for (const auto& batch : batches) {
        n += batch.size();
    }
    return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(group_commit)

BOOST_AUTO_TEST_CASE(concurrent_callers_share_commits)
{
    FakeTarget target;
    std::vector<NoOp> ops(8 * 40);
    std::map<const detail::WriteOp*, bool> threw;
    {
        detail::GroupCommitter committer(target, 512, std::chrono::microseconds(2000));
        threw = submitConcurrently(committer, ops, 8);
    }
    BOOST_TEST(opsIn(target.committed) == ops.size());
    BOOST_TEST(target.committed.size() <= ops.size() / 2);
    for (const auto& [op, failed] : threw) {
        BOOST_TEST(!failed);
    }
    BOOST_TEST(target.rollbacks == 0);
}

BOOST_AUTO_TEST_CASE(a_batch_never_exceeds_max_batch)
{
    FakeTarget target;
    std::vector<NoOp> ops(8 * 20);
    {
        detail::GroupCommitter committer(target, 3, std::chrono::microseconds(2000));
        submitConcurrently(committer, ops, 8);
    }
    BOOST_TEST(opsIn(target.committed) == ops.size());
    for (const auto& batch : target.committed) {
        BOOST_TEST(batch.size() <= 3u);
    }
}

BOOST_AUTO_TEST_CASE(a_failed_commit_fails_every_caller_of_its_batch_and_no_other)
{
    FakeTarget target;
    target.failBatchesOf = 2; // every batch of two or more ops fails to commit
    std::vector<NoOp> ops(8 * 20);
    std::map<const detail::WriteOp*, bool> threw;
    {
        detail::GroupCommitter committer(target, 512, std::chrono::microseconds(2000));
        threw = submitConcurrently(committer, ops, 8);
    }
    BOOST_TEST(!target.failed.empty());
    BOOST_TEST(opsIn(target.failed) + opsIn(target.committed) == ops.size());
    for (const auto& batch : target.failed) {
        for (const detail::WriteOp* op : batch) {
            BOOST_TEST(threw.at(op));
        }
    }
    for (const auto& batch : target.committed) {
        BOOST_TEST(batch.size() == 1u);
        BOOST_TEST(!threw.at(batch.front()));
    }
    BOOST_TEST(target.rollbacks == static_cast<int>(target.failed.size()));
}

BOOST_AUTO_TEST_CASE(a_retryable_failure_runs_the_batch_again)
{
    FakeTarget target;
    target.retryOnce = true;
    NoOp op;
    {
        detail::GroupCommitter committer(target, 512, std::chrono::microseconds(2000));
        committer.submit(op);
    }
    BOOST_TEST(target.begins == 2);
    BOOST_TEST(target.rollbacks == 1);
    BOOST_REQUIRE(target.committed.size() == 1u);
    BOOST_TEST(target.committed.front().front() == &op);
}

BOOST_AUTO_TEST_CASE(isolation_needed_reruns_the_batch_isolated_and_then_goes_back)
{
    FakeTarget target;
    RefusingOp refusing;
    NoOp after;
    {
        detail::GroupCommitter committer(target, 512, std::chrono::microseconds(2000));
        committer.submit(refusing);
        committer.submit(after);
    }
    // First run refused without isolation, the rerun isolated, and the next batch plain.
    BOOST_TEST(target.refusingRunsIsolated == std::vector<bool>({false, true}));
    BOOST_TEST(target.isolations == std::vector<bool>({true, false}));
    BOOST_TEST(target.rollbacks == 1);
    BOOST_REQUIRE(target.committed.size() == 2u);
    BOOST_TEST(target.committed[0].front() == &refusing);
    BOOST_TEST(target.committed[1].front() == &after);
}

BOOST_AUTO_TEST_SUITE_END()
