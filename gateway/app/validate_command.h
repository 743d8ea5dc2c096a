#pragma once

#include "gateway/hl7v2/charset.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace hl7gw::app {

struct ValidateCommandOptions {
    std::vector<std::string> inputs;
    std::string profile; // conformance profile file; "" for the base standard only
    const hl7v2::Charset* defaultCharset = &hl7v2::Charset::utf8();
};

/// `hl7gw validate`: parses every message of the inputs and checks it with
/// hl7v2::StructureValidator (and the profile, when given). Each problem is one line on `err`,
/// `FILE:MESSAGE#:LOCATION: severity: text`; `out` gets one summary line
/// `total<TAB>messages=N<TAB>invalid=M`. Returns 0 when no message has an Error or Fatal issue
/// (warnings allowed), 1 otherwise (an input without any message counts as invalid), 2 when the
/// profile cannot be read or parsed (its problems on `err` as `FILE:LINE: error: text`). Throws
/// core::IoError for an input it cannot open.
int runValidate(const ValidateCommandOptions& options, std::ostream& out, std::ostream& err);

} // namespace hl7gw::app
