#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/conformance_profile.h"
#include "gateway/hl7v2/message.h"
#include "gateway/hl7v2/structure_table.h"
#include "gateway/hl7v2/text_decoder.h"

namespace hl7gw::hl7v2 {

/// The explicit validation pass over a parsed message (STYLE.md §1.3): checks it against the
/// HL7 v2.5.1 structures, segment definitions, data types and code tables of a
/// StructureTable, then against an optional ConformanceProfile. Every problem is added to
/// `issues` with its location (segment, occurrence, field, repetition, component,
/// sub-component) and an HL7 table 0357 code:
///   100 segment out of place or required segment/group missing (as table 0357 defines
///       it), MSH-2 malformed, repeated set ID or key;
///   101 required field or component missing;
///   102 value not valid for its data type (also bytes invalid in the MSH-18 charset);
///   103 value not in its code table (Warning for user-defined tables);
///   200/201/203 message type, event or version (MSH-9.1, MSH-9.2, MSH-12) unknown.
/// Unknown segments are Warnings and Z-segments are accepted anywhere (STANDARDS.md §1.1
/// rule 7); a structure not in the table is a Warning, and the segments are still checked.
/// Structure and required-segment findings are Warnings for versions after 2.5.1, whose
/// structures the table does not describe. Issue texts name positions and rules, never values.
///
/// Holds a TextDecoder (scratch memory, iconv handles): one validator per thread, reusable
/// across messages. The StructureTable must outlive the validator.
class StructureValidator {
public:
    explicit StructureValidator(const StructureTable& table = StructureTable::builtin());

    /// Adds the problems of `message` to `issues`; returns true when none of them is an
    /// Error or Fatal. MSH-1/MSH-2 problems already in `issues` (from the parser) are not
    /// repeated. `profile` may be null.
    bool validate(const Message& message, core::IssueList& issues,
                  const ConformanceProfile* profile = nullptr);

private:
    const StructureTable& table_;
    TextDecoder decoder_;
};

} // namespace hl7gw::hl7v2
