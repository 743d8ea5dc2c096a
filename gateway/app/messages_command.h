#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace hl7gw::app {

struct MessagesCommandOptions {
    std::string action; // list | show | replay | count
    std::vector<std::string> arguments;
    std::string config;
    std::vector<std::string> sets;
    std::string state;
    std::string type;
    std::string since;
    std::string channel;
    std::string direction;
    std::optional<long long> limit;
    bool json = false;
};

/// `hl7gw messages list|show|replay|count`: reads the store the configuration names (works
/// while the server runs: it only reads, and replay is a single committed update that the
/// running server's router and dispatchers pick up within a second).
///  list  [--state S] [--type T] [--since TS] [--channel C] [--direction in|out] [--limit N]
///        [--json]: newest first; --json prints JSON Lines (id, received_at, channel,
///        direction, sender, control_id, type, state, error, and for out rows parent_id,
///        destination, order_key, attempts, next_attempt_at)
///  show ID: the record, its raw bytes, the parsed form (JSON) and its deliveries
///  replay ID: in -> routed again; out -> delivered again
///  count [filters]: one number
/// Exit 0; 1 when the message does not exist or a filter value is wrong; 2 for usage and
/// configuration errors.
int runMessages(const MessagesCommandOptions& options, std::ostream& out, std::ostream& err);

} // namespace hl7gw::app
