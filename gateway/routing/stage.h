#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/message.h"
#include "gateway/hl7v2/text_decoder.h"

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <string_view>

namespace hl7gw::core {
class ConfigReader;
}

namespace hl7gw::routing {

/// What a stage tells the channel runner (STYLE.md §1.5). The runner, never the stage,
/// decides what happens next:
///  - Continue: run the next stage.
///  - Filtered: stop; the message is recorded as Filtered (for that destination), not an error.
///  - Failed: stop; the message is recorded as Error with the stage's issues.
enum class StageStatus { Continue, Filtered, Failed };

/// The message a stage looks at: the parsed inbound message, and the payload the next
/// stages and the destinations will get (the raw bytes, until a transform replaces them).
struct StageContext {
    const hl7v2::Message& message;
    hl7v2::TextDecoder& decoder;
    std::string payload;
    core::IssueList issues;
};

/// Decides whether a message goes on. Immutable after construction; shared by every thread.
class Filter {
  public:
    virtual ~Filter() = default;
    virtual StageStatus apply(StageContext& context) const = 0;
};
using FilterPtr = std::shared_ptr<const Filter>;

/// Rewrites the payload (the mapping engine plugs in here). Immutable; thread-safe.
class Transform {
  public:
    virtual ~Transform() = default;
    virtual StageStatus apply(StageContext& context) const = 0;
};
using TransformPtr = std::shared_ptr<const Transform>;

/// How one delivery attempt ended.
struct DeliveryResult {
    enum class Outcome {
        Delivered, // done; `response` is kept with the entry
        Retry,     // failed for a reason that may pass (peer down, AR, 5xx): try again later
        Reject     // the peer refused the content (AE, 4xx): retrying unchanged cannot help
    };
    Outcome outcome = Outcome::Delivered;
    std::string response; // the peer's answer (ACK bytes, HTTP status line)
    std::string error;    // what went wrong, without patient data
    /// Delivered, and the entry already marked so in the store, in the same transaction as
    /// the delivery's own writes (fhir_store): the dispatcher records nothing more.
    bool recorded = false;
};

/// One connection's worth of a destination: a dispatcher worker owns one Sender and calls it
/// from one thread. Senders never throw for delivery failures; they return Retry or Reject.
class Sender {
  public:
    virtual ~Sender() = default;
    virtual DeliveryResult send(std::string_view payload) = 0;
    /// The queue entry `entry` (a MessageId): a sender whose peer is this gateway's own
    /// store may record the delivery with its writes (DeliveryResult::recorded).
    virtual DeliveryResult sendEntry(std::int64_t entry, std::string_view payload)
    {
        (void)entry;
        return send(payload);
    }
};
using SenderPtr = std::unique_ptr<Sender>;

/// How applying a destination's entry at receipt ended (`at_receipt`, routing/README.md): the
/// receiver answers the sender with it, in the same store transaction as the message.
struct ReceiptResult {
    enum class Outcome {
        Applied,    // done: the entry is stored Delivered with `response`; answered AA/CA
        Refused,    // the content was refused (a business rule, a 4xx): AE (in enhanced
                    // mode CA and an application AE, or CE without an application_ack
                    // destination), the message stored Rejected with `error`; resending
                    // cannot help
        Unavailable // could not be applied now (5xx, not running, a race lost every attempt):
                    // AR (CE), stored Rejected; the sender resends and it is taken as new
    };
    Outcome outcome = Outcome::Applied;
    std::string response; // Applied: the destination's answer, kept with the entry
    std::string error;    // otherwise: the stored reason; no patient data
    // The ERR segment: ERR-3 code (HL7 table 0357) and text, ERR-5 application code, ERR-8
    // the message for people (may be Chinese).
    std::string code = "207";
    std::string text;
    std::string applicationCode;
    std::string userMessage;
};

/// The immutable, validated configuration of a destination kind; makes Senders.
class DestinationKind {
  public:
    virtual ~DestinationKind() = default;
    virtual SenderPtr makeSender() const = 0;
    /// Where it delivers, for logs and `messages show` ("mllp://127.0.0.1:6661").
    virtual std::string describe() const = 0;
    /// True when the channel's receiver applies this destination's entry itself, before it
    /// answers the sender (`at_receipt`), instead of queueing it for the dispatcher.
    virtual bool appliesAtReceipt() const { return false; }
    /// Applies one entry's payload now, on the receiving thread. Called only when
    /// appliesAtReceipt(); never throws for delivery failures. Thread-safe.
    virtual ReceiptResult applyAtReceipt(std::string_view payload) const;
};
using DestinationKindPtr = std::shared_ptr<const DestinationKind>;

} // namespace hl7gw::routing
