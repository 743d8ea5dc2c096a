#include "gateway/routing/router.h"

#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/text_decoder.h"

#include <Poco/Logger.h>

#include <set>

namespace hl7gw::routing {

namespace {

Poco::Logger& logger()
{
    static Poco::Logger& l = Poco::Logger::get("hl7gw.routing.router");
    return l;
}

StageStatus runFilters(const std::vector<FilterPtr>& filters, StageContext& context)
{
    for (const FilterPtr& f : filters) {
        const StageStatus s = f->apply(context);
        if (s != StageStatus::Continue) {
            return s;
        }
    }
    return StageStatus::Continue;
}

std::string issueText(const core::IssueList& issues, const char* fallback)
{
    for (const core::Issue& i : issues) {
        if (i.severity == core::Severity::Error || i.severity == core::Severity::Fatal) {
            const std::string where = i.location.toString();
            return (where.empty() ? std::string() : where + ": ") + i.text;
        }
    }
    return fallback;
}

} // namespace

Router::Router(store::MessageStore& store, core::MetricsRegistry& metrics, const core::Clock& clock,
               SnapshotFn snapshot, QueuedFn onQueued)
    : store_(store), metrics_(metrics), clock_(clock), snapshot_(std::move(snapshot)),
      onQueued_(std::move(onQueued))
{
}

Router::~Router()
{
    stop();
}

void Router::start()
{
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void Router::stop()
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

void Router::notify()
{
    {
        std::lock_guard lock(mutex_);
        pending_ = true;
    }
    wake_.notify_one();
}

store::RoutingResult Router::routeOne(const store::MessageRecord& record,
                                      const ChannelSet& channels)
{
    const Channel* channel = channels.find(record.channel);
    if (channel == nullptr) {
        store::RoutingResult result;
        result.messageId = record.id;
        result.state = store::MessageState::Error;
        result.error = "channel '" + record.channel +
                       "' is not configured (any more); "
                       "replay the message once it is";
        return result;
    }
    hl7v2::Message message;
    core::IssueList parseIssues;
    const hl7v2::Er7Parser parser(hl7v2::ParseOptions{channel->defaultCharset});
    if (!parser.parse(record.raw, message, parseIssues)) {
        store::RoutingResult result;
        result.messageId = record.id;
        result.state = store::MessageState::Error;
        result.error = issueText(parseIssues, "message cannot be parsed");
        return result;
    }
    store::RoutingResult result = route(message, record.raw, *channel);
    result.messageId = record.id;
    return result;
}

store::RoutingResult Router::route(const hl7v2::Message& message, std::string_view raw,
                                   const Channel& channel)
{
    store::RoutingResult result;
    thread_local hl7v2::TextDecoder decoder;
    StageContext context{message, decoder, std::string(raw), {}};

    const StageStatus channelStatus = runFilters(channel.filters, context);
    if (channelStatus == StageStatus::Filtered) {
        result.state = store::MessageState::Filtered;
        return result;
    }
    if (channelStatus == StageStatus::Failed) {
        result.state = store::MessageState::Error;
        result.error = issueText(context.issues, "a filter failed");
        return result;
    }
    for (const TransformPtr& t : channel.transforms) {
        const StageStatus s = t->apply(context);
        if (s == StageStatus::Filtered) {
            result.state = store::MessageState::Filtered;
            return result;
        }
        if (s == StageStatus::Failed) {
            result.state = store::MessageState::Error;
            result.error = issueText(context.issues, "a transform failed");
            return result;
        }
    }
    // A transform may produce a message of its own; order keys and types are read from it.
    hl7v2::Message transformed;
    const hl7v2::Message* out = &message;
    if (context.payload != raw) {
        core::IssueList issues;
        const hl7v2::Er7Parser parser(hl7v2::ParseOptions{channel.defaultCharset});
        if (parser.parse(context.payload, transformed, issues)) {
            out = &transformed;
        }
    }
    for (const DestinationConfig& d : channel.destinations) {
        if (d.name == channel.applicationAck) {
            continue; // it carries the receiver's application ACKs, not the messages
        }
        StageContext destinationContext{*out, decoder, context.payload, {}};
        const StageStatus s = runFilters(d.filters, destinationContext);
        if (s == StageStatus::Filtered) {
            continue;
        }
        if (s == StageStatus::Failed) {
            result.state = store::MessageState::Error;
            result.error = "destination " + d.name + ": " +
                           issueText(destinationContext.issues, "a filter failed");
            result.entries.clear();
            return result;
        }
        store::OutboundEntry entry;
        entry.destination = d.name;
        if (d.orderKey) {
            const hl7v2::Element key = d.orderKey->resolve(*out);
            if (key.present()) {
                entry.orderKey = std::string(decoder.decode(key));
            }
        }
        entry.type = std::string(out->messageCode());
        if (!out->triggerEvent().empty()) {
            entry.type += '^';
            entry.type += out->triggerEvent();
        }
        entry.controlId = std::string(out->controlId());
        entry.payload = context.payload;
        result.entries.push_back(std::move(entry));
    }
    result.state =
        result.entries.empty() ? store::MessageState::Filtered : store::MessageState::Processed;
    return result;
}

std::size_t Router::routeBatch(std::size_t limit)
{
    const std::vector<store::MessageRecord> pending = store_.pendingRouting(limit);
    if (pending.empty()) {
        return 0;
    }
    const ChannelSetPtr channels = snapshot_();
    std::vector<store::RoutingResult> results;
    results.reserve(pending.size());
    std::set<std::string> destinations;
    for (const store::MessageRecord& record : pending) {
        results.push_back(routeOne(record, *channels));
        const store::RoutingResult& r = results.back();
        for (const store::OutboundEntry& e : r.entries) {
            destinations.insert(e.destination);
        }
        metrics_
            .counter(
                "hl7gw_routed_total", "Messages routed, by channel and resulting state",
                {{"channel", record.channel}, {"state", std::string(store::toString(r.state))}})
            .add();
        if (r.state == store::MessageState::Error) {
            logger().error("channel %s: message %Ld not routed: %s", record.channel,
                           static_cast<Poco::Int64>(record.id), r.error);
        }
    }
    store_.commitRouting(results, clock_.nowMicros());
    if (onQueued_ && !destinations.empty()) {
        onQueued_(std::vector<std::string>(destinations.begin(), destinations.end()));
    }
    return pending.size();
}

void Router::run()
{
    while (true) {
        {
            std::unique_lock lock(mutex_);
            // The timeout also picks up work that another node or the CLI (replay) left.
            wake_.wait_for(lock, std::chrono::seconds(1), [this] { return pending_ || stopping_; });
            if (stopping_) {
                return;
            }
            pending_ = false;
        }
        try {
            while (routeBatch() > 0) {
                std::lock_guard lock(mutex_);
                if (stopping_) {
                    return;
                }
            }
        } catch (const Poco::Exception& e) {
            // The store failed: the messages stay Received and are routed on the next turn.
            logger().error("routing paused, store failed: %s", e.displayText());
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
            if (stopping_) {
                return;
            }
            pending_ = true;
        }
    }
}

} // namespace hl7gw::routing
