#pragma once

#include "gateway/hl7v2/charset.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace hl7gw::app {

struct ParseCommandOptions {
    std::string to = "summary"; // er7 | xml | json | summary
    std::vector<std::string> gets;
    std::vector<std::string> inputs;
    const hl7v2::Charset* defaultCharset = &hl7v2::Charset::utf8();
};

/// `hl7gw parse`: prints each message of the inputs in the chosen form (or the `--get`
/// values, one tab-separated line per message). Returns the exit code: 0, 1 when any input
/// had errors (printed to `err` with their location), 2 for a bad `--get` path or `--to`.
int runParse(const ParseCommandOptions& options, std::ostream& out, std::ostream& err);

/// The `--get` output form of one value: `\` `\t` `\n` `\r` written as `\\` `\t` `\n` `\r`.
std::string escapeGetValue(std::string_view text);

} // namespace hl7gw::app
