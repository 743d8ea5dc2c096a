#include "gateway/app/serve_command.h"

#include "gateway/app/gateway_config.h"
#include "gateway/booking/no_shows.h"
#include "gateway/booking/scheduling.h"
#include "gateway/booking/slot_generator.h"
#include "gateway/booking/suspension.h"
#include "gateway/console/http_server.h"
#include "gateway/core/logging.h"
#include "gateway/routing/engine.h"
#include "gateway/routing/fhir_feed.h"
#include "gateway/transport/mllp.h"

#include <Poco/Logger.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <thread>

namespace hl7gw::app {

namespace {

Poco::Logger& logger()
{
    static Poco::Logger& l = Poco::Logger::get("hl7gw.app");
    return l;
}

void addCollectors(core::MetricsRegistry& metrics, store::MessageStore& store,
                   const std::vector<std::unique_ptr<transport::MllpServer>>& servers,
                   const core::Clock& clock)
{
    metrics.addCollector([&store, &clock](std::string& out) {
        const std::vector<store::DestinationDepth> depths = store.queueDepths();
        const std::int64_t now = clock.nowMicros();
        out += "# HELP hl7gw_queue_depth Queue entries waiting for delivery, by destination\n"
               "# TYPE hl7gw_queue_depth gauge\n";
        for (const store::DestinationDepth& d : depths) {
            out += "hl7gw_queue_depth{destination=\"" +
                   core::MetricsRegistry::escapeLabel(d.destination) + "\"} " +
                   std::to_string(d.queued) + '\n';
        }
        out += "# HELP hl7gw_queue_oldest_age_seconds Age of the oldest waiting entry\n"
               "# TYPE hl7gw_queue_oldest_age_seconds gauge\n";
        for (const store::DestinationDepth& d : depths) {
            const double age =
                d.oldestQueuedAt == 0 ? 0.0 : static_cast<double>(now - d.oldestQueuedAt) / 1e6;
            out += "hl7gw_queue_oldest_age_seconds{destination=\"" +
                   core::MetricsRegistry::escapeLabel(d.destination) + "\"} " +
                   std::to_string(age) + '\n';
        }
        out += "# HELP hl7gw_queue_dead Entries parked as dead, by destination\n"
               "# TYPE hl7gw_queue_dead gauge\n";
        for (const store::DestinationDepth& d : depths) {
            out += "hl7gw_queue_dead{destination=\"" +
                   core::MetricsRegistry::escapeLabel(d.destination) + "\"} " +
                   std::to_string(d.dead) + '\n';
        }
    });
    metrics.addCollector([&servers](std::string& out) {
        out += "# HELP hl7gw_mllp_connections_open Open MLLP connections, by listener\n"
               "# TYPE hl7gw_mllp_connections_open gauge\n";
        for (const auto& s : servers) {
            out += "hl7gw_mllp_connections_open{listener=\"" +
                   core::MetricsRegistry::escapeLabel(s->config().name) + "\"} " +
                   std::to_string(s->stats().connectionsOpen.load()) + '\n';
        }
        const auto counter = [&](const char* name, const char* help, auto field) {
            out += std::string("# HELP ") + name + ' ' + help + "\n# TYPE " + name + " counter\n";
            for (const auto& s : servers) {
                out += std::string(name) + "{listener=\"" +
                       core::MetricsRegistry::escapeLabel(s->config().name) + "\"} " +
                       std::to_string((s->stats().*field).load()) + '\n';
            }
        };
        counter("hl7gw_mllp_connections_accepted_total", "MLLP connections accepted",
                &transport::MllpServerStats::connectionsAccepted);
        counter("hl7gw_mllp_connections_refused_total",
                "MLLP connections refused (limit reached or TLS handshake failed)",
                &transport::MllpServerStats::connectionsRefused);
        counter("hl7gw_mllp_junk_bytes_total", "Bytes discarded before an MLLP start block",
                &transport::MllpServerStats::junkBytes);
        counter("hl7gw_mllp_oversized_frames_total",
                "Frames over the size limit (connection closed without an ACK)",
                &transport::MllpServerStats::oversizedFrames);
        counter("hl7gw_mllp_idle_timeouts_total", "Connections closed for being idle",
                &transport::MllpServerStats::idleTimeouts);
    });
}

// Prunes delivered messages on its own thread, so that the store stays bounded.
// Runs `work` every `interval` on a thread of its own until destroyed; a failure is logged and
// the next round tries again.
class PeriodicTask {
  public:
    PeriodicTask(std::string name, std::chrono::seconds interval, std::function<void()> work)
        : name_(std::move(name)), interval_(interval), work_(std::move(work))
    {
        thread_ = std::thread([this] {
            std::unique_lock lock(mutex_);
            while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
                lock.unlock();
                try {
                    work_();
                } catch (const std::exception& e) {
                    logger().warning("%s: failed, will retry: %s", name_, std::string(e.what()));
                }
                lock.lock();
            }
        });
    }
    ~PeriodicTask()
    {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;

  private:
    const std::string name_;
    const std::chrono::seconds interval_;
    const std::function<void()> work_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

class RetentionTask {
  public:
    RetentionTask(store::MessageStore& store, const RetentionConfig& config,
                  core::MetricsRegistry& metrics)
        : store_(store), config_(config),
          pruned_(metrics.counter("hl7gw_store_pruned_rows_total",
                                  "Rows deleted by retention (delivered messages past their age)"))
    {
    }
    ~RetentionTask() { stop(); }

    void start()
    {
        if (config_.days == 0) {
            return;
        }
        thread_ = std::thread([this] {
            std::unique_lock lock(mutex_);
            while (!stopping_) {
                lock.unlock();
                try {
                    const std::int64_t before =
                        core::SystemClock::instance().nowMicros() - config_.days * 86'400'000'000LL;
                    const std::int64_t rows = store_.prune(before);
                    pruned_.add(static_cast<std::uint64_t>(rows));
                    if (rows > 0) {
                        logger().information("retention: %Ld row(s) older than %Ld day(s) pruned",
                                             static_cast<Poco::Int64>(rows),
                                             static_cast<Poco::Int64>(config_.days));
                    }
                } catch (const Poco::Exception& e) {
                    logger().warning("retention: prune failed, will retry: %s", e.displayText());
                }
                lock.lock();
                wake_.wait_for(lock, std::chrono::seconds(config_.intervalSeconds),
                               [this] { return stopping_; });
            }
        });
    }

    void stop()
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

  private:
    store::MessageStore& store_;
    RetentionConfig config_;
    core::Counter& pruned_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

std::string startLine(const GatewayConfig& config,
                      const std::vector<std::unique_ptr<transport::MllpServer>>& servers,
                      const console::HttpServer& http, const store::MessageStore& store)
{
    std::string line = "hl7gw " HL7GW_VERSION " listening:";
    for (std::size_t i = 0; i < servers.size(); ++i) {
        const transport::MllpListenerConfig& c = servers[i]->config();
        line += std::string(i == 0 ? " " : ", ") + (c.tls ? "mllps " : "mllp ") + c.name + ' ' +
                transport::Endpoint{c.listen.host, servers[i]->port()}.toString() + " -> channel " +
                config.mllp[i].channel;
        if (c.tls && c.tls->requireClientCert) {
            line += " (client certificate required)";
        }
    }
    line += std::string(servers.empty() ? " " : ", ") + "http " +
            transport::Endpoint{config.http.listen.host, http.port()}.toString();
    if (config.fhirEnabled) {
        line += " (FHIR R4 at " + config.fhir.base + ")";
    }
    line += "; store " + store.describe() + "; " +
            std::to_string(config.channels->channels().size()) + " channel(s)";
    return line;
}

} // namespace

int runServe(const ServeCommandOptions& options)
{
    GatewayConfig config;
    try {
        config = loadGatewayConfig(options.config, options.sets);
    } catch (const core::ConfigError& e) {
        std::cerr << "hl7gw serve: " << e.message() << '\n';
        return 2;
    }
    core::configureLogging(config.logLevel);

    // Signals are taken by one thread with sigwait; every thread started from here on
    // inherits the blocked mask, so none of them is interrupted by them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    transport::initializeTransport();
    const core::Clock& clock = core::SystemClock::instance();
    core::MetricsRegistry metrics;
    store::MessageStorePtr store;
    try {
        store = store::openStore(config.store);
    } catch (const core::ConfigError& e) {
        std::cerr << "hl7gw serve: " << config.file << ": store.url: " << e.message() << '\n';
        return 2;
    } catch (const Poco::Exception& e) {
        logger().fatal("cannot open the store %s: %s", config.store.url, e.displayText());
        return 1;
    }

    auto engine =
        std::make_unique<routing::Engine>(*store, metrics, clock, config.channels, config.nodeId);
    std::vector<std::unique_ptr<transport::MllpServer>> servers;
    for (const ListenerConfig& l : config.mllp) {
        const std::string channel = l.channel;
        routing::Engine* e = engine.get();
        servers.push_back(std::make_unique<transport::MllpServer>(
            l.mllp, [e, channel](std::string_view message, const transport::ConnectionInfo& c) {
                return e->receiver().receive(message, channel, c.peer).ack;
            }));
    }
    routing::Engine* enginePtr = engine.get();
    console::HttpServer http(config.http, *store, metrics,
                             [enginePtr](std::string_view body, const std::string& channel,
                                         const std::string& peer, std::string& ack, bool& stored) {
                                 const routing::ChannelSetPtr channels = enginePtr->snapshot();
                                 const routing::Channel* c = channels->find(channel);
                                 if (c == nullptr || !c->httpSource) {
                                     return false;
                                 }
                                 routing::Receiver::Reply reply =
                                     enginePtr->receiver().receive(body, channel, peer);
                                 ack = std::move(reply.ack);
                                 stored = reply.stored;
                                 return true;
                             });
    std::unique_ptr<fhir::FhirServer> fhirServer;
    std::unique_ptr<booking::FreeSlots> freeSlots;
    std::unique_ptr<booking::Scheduling> scheduling;
    if (config.fhirEnabled) {
        // Channels with a `fhir` source turn the server's writes into queued messages, in the
        // write's own transaction; a reload's channels take effect at once (the snapshot).
        fhirServer = std::make_unique<fhir::FhirServer>(
            config.fhir, store->resources(), core::SystemClock::instance(),
            routing::makeFhirOutboxHook([enginePtr] { return enginePtr->snapshot(); },
                                        store->resources()));
        // The scheduling operations ($find, $hold, $book) answer through the same server.
        // $find answers from memory once the free Slots are loaded (the task below).
        freeSlots = std::make_unique<booking::FreeSlots>(*fhirServer);
        scheduling = std::make_unique<booking::Scheduling>(*fhirServer, config.booking, clock,
                                                           &metrics, freeSlots.get());
        scheduling->registerOperations(*fhirServer);
        booking::addSlotGeneration(*fhirServer, config.booking.templates);
        booking::addSuspension(*fhirServer, clock);
        http.mountFhir(*fhirServer);
        // The channels' fhir_store destinations write through it (in-process, no HTTP).
        config.fhirStore->bind(fhirServer.get());
    }
    addCollectors(metrics, *store, servers, clock);
    RetentionTask retention(*store, config.retention, metrics);

    try {
        engine->start();
        for (auto& s : servers) {
            s->start();
        }
        http.start();
    } catch (const Poco::Exception& e) {
        logger().fatal("cannot start: %s", e.displayText());
        for (auto& s : servers) {
            s->stop();
        }
        engine->stop();
        return 1;
    }
    retention.start();
    // Holds that ran out give their Slots back (STANDARDS.md §7.1), every few seconds.
    PeriodicTask holds("booking holds", std::chrono::seconds(5), [&scheduling, &clock] {
        if (scheduling) {
            const std::size_t released = scheduling->releaseExpiredHolds(clock.nowMicros());
            if (released > 0) {
                logger().information("booking: %z expired hold(s) released", released);
            }
        }
    });
    // The free-Slot index of $find: loaded once, then kept bounded and, on a PostgreSQL that
    // other nodes share, told their changes.
    const bool sharedStore = store->resources().isPostgresql();
    PeriodicTask slotIndex(
        "booking free slots", std::chrono::seconds(2), [&freeSlots, &clock, sharedStore] {
            if (!freeSlots) {
                return;
            }
            if (!freeSlots->ready()) {
                freeSlots->load(clock.nowMicros());
                logger().information("booking: %z free slot(s) indexed for $find",
                                     freeSlots->size());
                return;
            }
            freeSlots->tick(clock.nowMicros(), sharedStore);
        });
    // Booked appointments past their end and the grace become no-shows (§7.2; SIU^S26 through
    // a channel's fhir source).
    PeriodicTask noShows(
        "booking no-shows", std::chrono::seconds(60), [&fhirServer, &config, &clock] {
            if (fhirServer) {
                const std::size_t marked = booking::markNoShows(booking::FhirCalls(*fhirServer),
                                                                clock.nowMicros(), config.booking);
                if (marked > 0) {
                    logger().information("booking: %z appointment(s) marked no-show", marked);
                }
            }
        });
    // Reserved pools (referral, urgent-exam) turn general at their lead time (§6.4).
    PeriodicTask pools("booking pools", std::chrono::seconds(60), [&fhirServer, &config, &clock] {
        if (fhirServer) {
            const booking::ReleaseCounts counts = booking::releaseReservedSlots(
                booking::FhirCalls(*fhirServer), clock.nowMicros(), config.booking.release);
            if (counts.total() > 0) {
                logger().information("booking: %z reserved slot(s) released to general",
                                     counts.total());
            }
        }
    });
    logger().information(startLine(config, servers, http, *store));

    while (true) {
        int signal = 0;
        if (sigwait(&signals, &signal) != 0) {
            continue;
        }
        if (signal == SIGHUP) {
            try {
                GatewayConfig next = loadGatewayConfig(options.config, options.sets);
                // The FHIR server of this process stays (fhir.* changes need a restart); the
                // new channels' fhir_store destinations write through it.
                if (next.fhirStore && fhirServer) {
                    next.fhirStore->bind(fhirServer.get());
                }
                engine->reload(next.channels);
            } catch (const core::ConfigError& e) {
                logger().error("reload refused, the running channels stay: %s", e.message());
            }
            continue;
        }
        logger().information("signal %d: draining", signal);
        break;
    }
    // Listeners first, so that nothing new arrives; each open connection's message in hand is
    // still stored and answered. Then routing and deliveries finish what they hold.
    for (auto& s : servers) {
        s->stop();
    }
    http.stop();
    retention.stop();
    engine->stop();
    logger().information("stopped");
    return 0;
}

} // namespace hl7gw::app
