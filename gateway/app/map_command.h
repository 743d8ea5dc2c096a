#pragma once

#include "gateway/hl7v2/charset.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace hl7gw::app {

struct MapCommandOptions {
    std::vector<std::string> inputs;
    std::string mapping; // a message map name or a .map file; "" = by message type
    std::string dialect; // a dialect name from the adapters directory; "" = the standard one
    std::string format = "json";                    // json | xml
    std::string mappingsDir;                        // "" = ./mappings, else next to the binary
    std::string adaptersDir;                        // "" = ./adapters, else next to the binary
    const hl7v2::Charset* defaultCharset = nullptr; // nullptr = the dialect's
    /// Write each result to DIR/STEM.json (STEM-N.json for the N-th message of a file, N > 1;
    /// .xml, .hl7 for those outputs) instead of standard output.
    std::string outDir;
};

/// `hl7gw map`: translates every v2 message of the inputs into a FHIR transaction Bundle
/// (one per message, a batch file gives several) printed on `out`, JSON (pretty) or XML. Each
/// problem is one line on `err` as `FILE:MESSAGE#:LOCATION: severity: text`, naming the v2
/// position and the mapping file and line. Returns 0 when every message mapped, 1 when any did
/// not, 2 when the maps or the dialect cannot be loaded (`file:line:column: text` on `err`).
int runMap(const MapCommandOptions& options, std::ostream& out, std::ostream& err);

struct MappingTestOptions {
    std::string directory;   // where the recorded pairs are (searched recursively)
    std::string mappingsDir; // as for runMap; default: `directory` when it holds v2-to-fhir/
    std::string adaptersDir;
    bool update = false; // rewrite the expected files from the current output
};

/// `hl7gw test mappings/`: for every `NAME.hl7` with a `NAME.expected.json` beside it (and an
/// optional `NAME.dialect` naming the dialect), maps the message and compares the Bundle with
/// the expected one; prints `ok NAME` or `FAIL NAME` and a diff (one line per JSON pointer:
/// `- expected`, `+ actual`), then `total<TAB>pairs=N<TAB>failed=M`. Returns 0 when all match,
/// 1 when any differs, 2 when the maps cannot be loaded or there are no pairs.
int runMappingTests(const MappingTestOptions& options, std::ostream& out, std::ostream& err);

} // namespace hl7gw::app
