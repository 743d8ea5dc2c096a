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
};

/// One connection's worth of a destination: a dispatcher worker owns one Sender and calls it
/// from one thread. Senders never throw for delivery failures; they return Retry or Reject.
class Sender {
  public:
    virtual ~Sender() = default;
    virtual DeliveryResult send(std::string_view payload) = 0;
};
using SenderPtr = std::unique_ptr<Sender>;

/// The immutable, validated configuration of a destination kind; makes Senders.
class DestinationKind {
  public:
    virtual ~DestinationKind() = default;
    virtual SenderPtr makeSender() const = 0;
    /// Where it delivers, for logs and `messages show` ("mllp://127.0.0.1:6661").
    virtual std::string describe() const = 0;
};
using DestinationKindPtr = std::shared_ptr<const DestinationKind>;

} // namespace hl7gw::routing
