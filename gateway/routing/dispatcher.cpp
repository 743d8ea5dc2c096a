#include "gateway/routing/dispatcher.h"

#include <Poco/Logger.h>

#include <algorithm>

namespace hl7gw::routing {

namespace {

Poco::Logger& logger()
{
    static Poco::Logger& l = Poco::Logger::get("hl7gw.routing.dispatcher");
    return l;
}

} // namespace

Dispatcher::Dispatcher(const DestinationConfig& config, store::MessageStore& store,
                       core::MetricsRegistry& metrics, const core::Clock& clock, std::string owner)
    : config_(config), store_(store), clock_(clock), owner_(std::move(owner)),
      delivered_(metrics.counter("hl7gw_deliveries_total", "Delivery attempts, by outcome",
                                 {{"destination", config.name}, {"outcome", "delivered"}})),
      retried_(metrics.counter("hl7gw_deliveries_total", "Delivery attempts, by outcome",
                               {{"destination", config.name}, {"outcome", "retry"}})),
      dead_(metrics.counter("hl7gw_deliveries_total", "Delivery attempts, by outcome",
                            {{"destination", config.name}, {"outcome", "dead"}})),
      attempts_(metrics.counter("hl7gw_delivery_attempts_total", "Delivery attempts made",
                                {{"destination", config.name}}))
{
}

Dispatcher::~Dispatcher()
{
    stop();
}

std::int64_t Dispatcher::backoffMs(const RetryPolicy& policy, int failures)
{
    std::int64_t delay = policy.initialBackoffMs;
    for (int i = 1; i < failures && delay < policy.maxBackoffMs; ++i) {
        delay *= 2;
    }
    return std::min(delay, policy.maxBackoffMs);
}

void Dispatcher::start()
{
    stopping_ = false;
    for (int i = 0; i < config_.workers; ++i) {
        workers_.emplace_back([this] { workLoop(); });
    }
    claimer_ = std::thread([this] { claimLoop(); });
}

void Dispatcher::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    claimWake_.notify_all();
    workWake_.notify_all();
    if (claimer_.joinable()) {
        claimer_.join();
    }
    for (std::thread& t : workers_) {
        if (t.joinable()) {
            t.join();
        }
    }
    workers_.clear();
    // Entries claimed but not started go back by themselves when their lease ends; release
    // them now so a restart does not wait for it.
    std::deque<store::ClaimedEntry> left;
    {
        std::lock_guard lock(mutex_);
        left.swap(work_);
    }
    for (const store::ClaimedEntry& e : left) {
        try {
            store_.markFailed(e.id, "not sent: the gateway stopped", clock_.nowMicros(),
                              clock_.nowMicros(), false);
        } catch (const Poco::Exception&) {
            // The lease expires instead.
        }
    }
}

void Dispatcher::notify()
{
    {
        std::lock_guard lock(mutex_);
        pending_ = true;
    }
    claimWake_.notify_one();
}

void Dispatcher::claimLoop()
{
    while (true) {
        std::size_t wanted = 0;
        {
            std::unique_lock lock(mutex_);
            // Wake for new entries, for a free worker, or every second for retries that came
            // due and entries other nodes released.
            claimWake_.wait_for(lock, std::chrono::seconds(1), [this] {
                return stopping_ || (pending_ && idle_ > static_cast<int>(work_.size()));
            });
            if (stopping_) {
                return;
            }
            pending_ = false;
            const int free = idle_ - static_cast<int>(work_.size());
            if (free <= 0) {
                continue;
            }
            wanted = static_cast<std::size_t>(free);
        }
        std::vector<store::ClaimedEntry> claimed;
        try {
            const std::int64_t now = clock_.nowMicros();
            claimed = store_.claim(config_.name, owner_, wanted, now, now + config_.leaseMs * 1000);
        } catch (const Poco::Exception& e) {
            logger().error("destination %s: cannot claim queue entries: %s", config_.name,
                           e.displayText());
            continue;
        }
        std::lock_guard lock(mutex_);
        for (store::ClaimedEntry& e : claimed) {
            work_.push_back(std::move(e));
        }
        // A full batch suggests more is due: claim again as soon as workers are free.
        if (claimed.size() == wanted) {
            pending_ = true;
        }
        workWake_.notify_all();
    }
}

void Dispatcher::workLoop()
{
    SenderPtr sender = config_.kind->makeSender();
    while (true) {
        store::ClaimedEntry entry;
        {
            std::unique_lock lock(mutex_);
            ++idle_;
            claimWake_.notify_one();
            workWake_.wait(lock, [this] { return stopping_ || !work_.empty(); });
            --idle_;
            if (stopping_) {
                return;
            }
            entry = std::move(work_.front());
            work_.pop_front();
        }
        attempts_.add();
        const DeliveryResult result = sender->sendEntry(entry.id, entry.payload);
        const std::int64_t now = clock_.nowMicros();
        try {
            if (result.outcome == DeliveryResult::Outcome::Delivered) {
                if (!result.recorded) {
                    store_.markDelivered(entry.id, result.response, now);
                }
                delivered_.add();
            } else {
                const int failures = entry.attempts + 1;
                const bool dead = result.outcome == DeliveryResult::Outcome::Reject ||
                                  failures >= config_.retry.maxAttempts;
                const std::int64_t next = now + backoffMs(config_.retry, failures) * 1000;
                store_.markFailed(entry.id, result.error, now, next, dead);
                if (dead) {
                    dead_.add();
                    logger().error("destination %s: entry %Ld is dead after %d attempt(s): %s",
                                   config_.name, static_cast<Poco::Int64>(entry.id), failures,
                                   result.error);
                } else {
                    retried_.add();
                    logger().warning("destination %s: entry %Ld failed (attempt %d), retry in "
                                     "%Ld ms: %s",
                                     config_.name, static_cast<Poco::Int64>(entry.id), failures,
                                     static_cast<Poco::Int64>(backoffMs(config_.retry, failures)),
                                     result.error);
                }
            }
        } catch (const Poco::Exception& e) {
            // Delivered but not recorded: the lease runs out and the entry goes again, so the
            // peer may see it twice; MLLP receivers de-duplicate on MSH-10.
            logger().error("destination %s: cannot record the outcome of entry %Ld: %s",
                           config_.name, static_cast<Poco::Int64>(entry.id), e.displayText());
        }
        {
            std::lock_guard lock(mutex_);
            pending_ = true;
        }
    }
}

} // namespace hl7gw::routing
