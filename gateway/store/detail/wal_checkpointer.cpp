#include "gateway/store/detail/wal_checkpointer.h"

#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <optional>

namespace hl7gw::store::detail {

namespace {

Poco::Logger& logger()
{
    return Poco::Logger::get("hl7gw.store");
}

} // namespace

WalCheckpointer::WalCheckpointer(std::function<Poco::Data::Session()> connect,
                                 std::chrono::milliseconds interval)
    : connect_(std::move(connect)), interval_(interval), thread_([this] { run(); })
{
}

WalCheckpointer::~WalCheckpointer()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void WalCheckpointer::run()
{
    using Poco::Data::Keywords::into;
    using Poco::Data::Keywords::now;
    std::optional<Poco::Data::Session> session;
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
        lock.unlock();
        try {
            if (!session) {
                session.emplace(connect_());
            }
            int busy = 0;
            int frames = 0;
            int copied = 0;
            *session << "PRAGMA wal_checkpoint(PASSIVE)", into(busy), into(frames), into(copied),
                now;
        } catch (const Poco::Exception& e) {
            // The writer's commits stay durable without checkpoints (the WAL only grows):
            // worth a line, not a stop.
            logger().warning("WAL checkpoint failed, will retry: %s", e.displayText());
            session.reset();
        }
        lock.lock();
    }
}

} // namespace hl7gw::store::detail
