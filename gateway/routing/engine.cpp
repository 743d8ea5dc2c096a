#include "gateway/routing/engine.h"

#include <Poco/Logger.h>

namespace hl7gw::routing {

Engine::Engine(store::MessageStore& store, core::MetricsRegistry& metrics, const core::Clock& clock,
               ChannelSetPtr channels, std::string nodeId)
    : store_(store), metrics_(metrics), clock_(clock), nodeId_(std::move(nodeId)),
      channels_(std::move(channels))
{
    auto snapshot = [this] { return this->snapshot(); };
    auto queued = [this](const std::vector<std::string>& destinations) {
        std::lock_guard lock(workersMutex_);
        for (const std::string& d : destinations) {
            const auto it = dispatchers_.find(d);
            if (it != dispatchers_.end()) {
                it->second->notify();
            }
        }
    };
    router_ = std::make_unique<Router>(store_, metrics_, clock_, snapshot, queued);
    receiver_ = std::make_unique<Receiver>(store_, metrics_, clock_, snapshot, queued);
}

Engine::~Engine()
{
    stop();
}

ChannelSetPtr Engine::snapshot() const
{
    std::lock_guard lock(snapshotMutex_);
    return channels_;
}

void Engine::start()
{
    if (started_) {
        return;
    }
    started_ = true;
    startWorkers();
    router_->start();
}

void Engine::stop()
{
    if (!started_) {
        return;
    }
    started_ = false;
    {
        std::lock_guard lock(workersMutex_);
        for (auto& d : directories_) {
            d->stop();
        }
    }
    router_->stop();
    stopWorkers();
}

void Engine::reload(ChannelSetPtr channels)
{
    {
        std::lock_guard lock(snapshotMutex_);
        channels_ = std::move(channels);
    }
    if (started_) {
        stopWorkers();
        startWorkers();
        router_->notify();
    }
    Poco::Logger::get("hl7gw.routing")
        .information("channels reloaded: %z channel(s)", snapshot()->channels().size());
}

void Engine::startWorkers()
{
    std::lock_guard lock(workersMutex_);
    running_ = snapshot();
    for (const ChannelPtr& channel : running_->channels()) {
        for (const DestinationConfig& d : channel->destinations) {
            auto dispatcher = std::make_unique<Dispatcher>(d, store_, metrics_, clock_, nodeId_);
            dispatcher->start();
            dispatchers_[d.name] = std::move(dispatcher);
        }
        for (const DirectorySourceConfig& dir : channel->directories) {
            const std::string name = channel->name;
            auto source = std::make_unique<DirectorySource>(
                dir, name, [this, name](std::string_view message, const std::string& peer) {
                    return receiver_->receive(message, name, peer).stored;
                });
            source->start();
            directories_.push_back(std::move(source));
        }
    }
}

void Engine::stopWorkers()
{
    std::map<std::string, std::unique_ptr<Dispatcher>> dispatchers;
    std::vector<std::unique_ptr<DirectorySource>> directories;
    {
        std::lock_guard lock(workersMutex_);
        dispatchers.swap(dispatchers_);
        directories.swap(directories_);
    }
    for (auto& d : directories) {
        d->stop();
    }
    for (auto& [name, d] : dispatchers) {
        d->stop();
    }
    std::lock_guard lock(workersMutex_);
    running_.reset();
}

} // namespace hl7gw::routing
