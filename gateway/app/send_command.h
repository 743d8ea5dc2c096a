#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace hl7gw::app {

struct SendCommandOptions {
    std::string to; // mllp://HOST:PORT (mllps:// implies --tls)
    bool tls = false;
    std::string ca;
    std::string cert;
    std::string key;
    int ackTimeoutMs = 30'000;
    std::vector<std::string> inputs;
};

/// `hl7gw send`: sends every message of every input over one MLLP connection, in order,
/// waiting for each answer, and prints one line per message:
/// `FILE:N TAB MSA-1 TAB MSA-2 TAB ERR text` (the ERR texts joined with "; ").
/// Exit 0 when every answer was AA or CA; 1 when any was not, had no answer or could not be
/// sent (the reason on stderr); 2 for usage errors.
int runSend(const SendCommandOptions& options, std::ostream& out, std::ostream& err);

} // namespace hl7gw::app
