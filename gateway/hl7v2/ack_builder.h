#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/message.h"

#include <optional>
#include <string>
#include <string_view>

namespace hl7gw::hl7v2 {

/// HL7 table 0008. Application codes answer in original mode, commit codes in enhanced mode.
enum class AckCode { ApplicationAccept, ApplicationError, ApplicationReject,
                     CommitAccept, CommitError, CommitReject };

std::string_view toString(AckCode code);
/// Reads an MSA-1 value. An unknown value is nullopt, never AA (STYLE.md §3).
std::optional<AckCode> parseAckCode(std::string_view text);

/// Original mode when MSH-15 and MSH-16 are both empty, enhanced otherwise
/// (STANDARDS.md §1.6).
enum class AckMode { Original, Enhanced };
AckMode ackModeOf(const Message& received);

/// What the caller decides for the ACK; the builder never reads a clock or makes ids, so
/// it stays deterministic and testable.
struct AckRequest {
    AckCode code = AckCode::ApplicationAccept;
    std::string controlId; // MSH-10 of the ACK: a new unique id
    std::string timestamp; // MSH-7, e.g. "20261123143000+0800"
    std::string text;      // MSA-3, short text kept for 2.3.1 receivers (may be empty)
    /// Problems to report, one ERR segment each (Error/Fatal as E, Warning as W,
    /// Information as I). Their text goes to ERR-3.2 / ERR-1.4.2 and must hold no patient data.
    const core::IssueList* problems = nullptr;
    std::string applicationCode;  // ERR-5 (ours, e.g. SLOT_TAKEN), 2.5+ only
    std::string userMessage;      // ERR-8, may be Chinese, 2.5+ only
};

/// Builds ACK messages with the ER7 writer (never by concatenation), answering in the
/// sender's delimiters and character set: MSH-3/4 and MSH-5/6 swapped, MSH-9
/// `ACK^<trigger>^ACK` (`ACK^<trigger>` before v2.5), MSH-11/12/17/18 echoed, MSA-1/2/3, and
/// one ERR per problem: ERR-2 location + ERR-3 table 0357 code + ERR-4 severity from v2.5,
/// ERR-1 `SEG^SEQ^FIELD^CODE&TEXT&HL70357` before. Stateless and thread-safe.
class AckBuilder {
public:
    /// The ACK for `received`, or, when the message could not be parsed (`received` null),
    /// a best-effort ACK with default delimiters, version 2.5.1 and an empty MSA-2.
    /// Returns false (with issues) only when a value cannot be encoded in the sender's set.
    bool build(const Message* received, const AckRequest& request, std::string& out,
               core::IssueList& issues) const;
};

} // namespace hl7gw::hl7v2
