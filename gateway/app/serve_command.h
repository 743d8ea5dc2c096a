#pragma once

#include <string>
#include <vector>

namespace hl7gw::app {

struct ServeCommandOptions {
    std::string config;
    std::vector<std::string> sets;
};

/// `hl7gw serve`: loads and validates the configuration (exit 2 when wrong), opens the
/// store, starts the engine, the MLLP listeners and the HTTP server, logs one line with what
/// listens where and which store is used, then waits: SIGHUP reloads the channel files
/// (listeners and store stay; a broken file keeps the old channels and logs why), SIGTERM
/// or SIGINT drains (no new connections, in-flight messages answered, deliveries in hand
/// finished) and exits 0. Exit 1 when the store or a listener cannot be opened.
int runServe(const ServeCommandOptions& options);

} // namespace hl7gw::app
