#include "gateway/routing/receiver.h"

#include "gateway/routing/filters.h"
#include "gateway/routing/router.h"

#include "gateway/hl7v2/ack_builder.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/structure_validator.h"
#include "gateway/hl7v2/text_decoder.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unistd.h>

namespace hl7gw::routing {

namespace {

Poco::Logger& logger()
{
    static Poco::Logger& l = Poco::Logger::get("hl7gw.routing.receiver");
    return l;
}

const std::vector<double>& commitBounds()
{
    static const std::vector<double> bounds{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                            0.05,   0.1,   0.25,  0.5,   1.0,  2.5};
    return bounds;
}

// Per-thread scratch: one Message index, one validator (TextDecoder, iconv handles).
struct ThreadState {
    hl7v2::Message message;
    hl7v2::StructureValidator validator;
    hl7v2::TextDecoder decoder;
};

ThreadState& threadState()
{
    thread_local ThreadState state;
    return state;
}

core::Location mshField(std::uint32_t field)
{
    core::Location at;
    at.segment = "MSH";
    at.segmentOccurrence = 1;
    at.field = field;
    return at;
}

bool enhancedFor(AckPolicy policy, const hl7v2::Message* message)
{
    switch (policy) {
    case AckPolicy::Original:
        return false;
    case AckPolicy::Enhanced:
        return true;
    case AckPolicy::Standard:
        return message != nullptr && hl7v2::ackModeOf(*message) == hl7v2::AckMode::Enhanced;
    }
    return false;
}

hl7v2::AckCode codeFor(bool enhanced, char kind)
{
    // kind: 'A' accept, 'E' error, 'R' reject (table 0008).
    if (enhanced) {
        return kind == 'A'   ? hl7v2::AckCode::CommitAccept
               : kind == 'E' ? hl7v2::AckCode::CommitError
                             : hl7v2::AckCode::CommitReject;
    }
    return kind == 'A'   ? hl7v2::AckCode::ApplicationAccept
           : kind == 'E' ? hl7v2::AckCode::ApplicationError
                         : hl7v2::AckCode::ApplicationReject;
}

// Table 0155 in MSH-16: AL always, NE never, ER only for an error or reject, SU only for
// success. Empty asks for none; other values are read as AL. MSH-15 is not read: over MLLP the
// sender waits for an answer on the connection before it sends the next message (STANDARDS.md
// §1.5), so every message is answered, whatever it says there (real senders put NE|AL and
// still wait).
bool wanted(std::string_view condition, char kind)
{
    if (condition.empty()) {
        return false;
    }
    if (condition == "NE") {
        return false;
    }
    if (condition == "ER") {
        return kind != 'A';
    }
    if (condition == "SU") {
        return kind == 'A';
    }
    return true;
}

std::string describeIssues(const core::IssueList& issues)
{
    std::string text;
    std::size_t shown = 0;
    for (const core::Issue& issue : issues) {
        if (issue.severity != core::Severity::Error && issue.severity != core::Severity::Fatal) {
            continue;
        }
        if (shown == 5) {
            text += "; ...";
            break;
        }
        text += text.empty() ? "" : "; ";
        const std::string where = issue.location.toString();
        text += (where.empty() ? std::string() : where + ": ") + issue.code + ' ' + issue.text;
        ++shown;
    }
    return text;
}

// The ERR segments carry the errors only (warnings would turn every Z-segment into noise),
// at most 20, so a badly broken message cannot make a huge ACK.
core::IssueList errorsOf(const core::IssueList& issues)
{
    core::IssueList out;
    for (const core::Issue& issue : issues) {
        if ((issue.severity == core::Severity::Error || issue.severity == core::Severity::Fatal) &&
            out.size() < 20) {
            out.add(issue);
        }
    }
    return out;
}

// Messages being applied at receipt, by dedupe key (sender and control id): a second copy
// that arrives meanwhile (a sender that resends before its ACK came) waits for the first to
// be stored, then finds it a duplicate, so the write is not applied twice. One per process:
// its receivers share the store. Across nodes the store's dedupe still holds the message
// once, but both copies may apply.
class ApplyingKeys {
  public:
    class Hold {
      public:
        Hold(ApplyingKeys& keys, std::string key) : keys_(keys), key_(std::move(key))
        {
            std::unique_lock lock(keys_.mutex_);
            keys_.released_.wait(lock, [&] { return keys_.keys_.count(key_) == 0; });
            keys_.keys_.insert(key_);
        }
        ~Hold()
        {
            {
                std::lock_guard lock(keys_.mutex_);
                keys_.keys_.erase(key_);
            }
            keys_.released_.notify_all();
        }
        Hold(const Hold&) = delete;
        Hold& operator=(const Hold&) = delete;

      private:
        ApplyingKeys& keys_;
        std::string key_;
    };

  private:
    std::mutex mutex_;
    std::condition_variable released_;
    std::set<std::string> keys_;
};

ApplyingKeys& applyingKeys()
{
    static ApplyingKeys keys;
    return keys;
}

const DestinationConfig* atReceiptDestination(const Channel& channel,
                                              const std::vector<store::OutboundEntry>& entries)
{
    for (const store::OutboundEntry& entry : entries) {
        for (const DestinationConfig& d : channel.destinations) {
            if (d.name == entry.destination && d.kind && d.kind->appliesAtReceipt()) {
                return &d;
            }
        }
    }
    return nullptr;
}

// The application ACK due for a message (enhanced mode, the channel has an application_ack
// destination): 'A' when it was routed (or filtered), 'E' when its content was refused
// (validation, or a destination applied at receipt refused it) or routing failed; 0 when none
// is due: MSH-16 does not ask for it, or the message was rejected outright (CR) or could not
// be applied for now (CE, the sender resends).
char applicationAckKind(const Channel& channel, const hl7v2::Message& message, char kind,
                        store::MessageState routedState, const ReceiptResult* refusal)
{
    if (channel.applicationAck.empty()) {
        return '\0';
    }
    char outcome = '\0';
    if (refusal != nullptr) {
        outcome = refusal->outcome == ReceiptResult::Outcome::Refused ? 'E' : '\0';
    } else if (kind == 'A') {
        outcome = routedState == store::MessageState::Error ? 'E' : 'A';
    } else if (kind == 'E') {
        outcome = 'E';
    }
    if (outcome == '\0' || !wanted(message.header().field(16).raw(), outcome)) {
        return '\0';
    }
    return outcome;
}

} // namespace

Receiver::Receiver(store::MessageStore& store, core::MetricsRegistry& metrics,
                   const core::Clock& clock, SnapshotFn snapshot, QueuedFn onQueued)
    : store_(store), metrics_(metrics), clock_(clock), snapshot_(std::move(snapshot)),
      onQueued_(std::move(onQueued)),
      commitSeconds_(metrics.histogram("hl7gw_store_commit_seconds",
                                       "Time from handing a message to the store until its "
                                       "transaction was durable",
                                       commitBounds())),
      storeFailures_(metrics.counter("hl7gw_store_failures_total",
                                     "Messages answered AR/CE 207 because the store failed")),
      duplicates_(metrics.counter("hl7gw_duplicates_total",
                                  "Messages answered with their original ACK (same sender and "
                                  "control id)"))
{
}

std::string Receiver::nextControlId()
{
    // Unique across restarts and nodes without coordination (time, process, sequence), and
    // at most 20 characters: MSH-10 is ST(20) before v2.7.
    static std::atomic<std::uint32_t> sequence{0};
    char id[32];
    std::snprintf(id, sizeof id, "G%013llx%02x%03x",
                  static_cast<unsigned long long>(clock_.nowMicros()) & 0xFFFFFFFFFFFFFULL,
                  static_cast<unsigned>(::getpid()) & 0xFFU, sequence.fetch_add(1) & 0xFFFU);
    return id;
}

Receiver::Reply Receiver::receive(std::string_view bytes, const std::string& channelName,
                                  const std::string& peer)
{
    const ChannelSetPtr snapshot = snapshot_();
    const Channel* channel = snapshot ? snapshot->find(channelName) : nullptr;
    const hl7v2::Charset& charset =
        channel != nullptr ? *channel->defaultCharset : hl7v2::Charset::utf8();
    const AckPolicy policy = channel != nullptr ? channel->ackPolicy : AckPolicy::Standard;

    ThreadState& state = threadState();
    hl7v2::Message& message = state.message;
    core::IssueList issues;
    const hl7v2::Er7Parser parser(hl7v2::ParseOptions{&charset});
    const bool parsed = parser.parse(bytes, message, issues);

    store::InboundMessage in;
    in.channel = channelName;
    in.peer = peer;
    in.raw.assign(bytes.data(), bytes.size());
    in.receivedAt = clock_.nowMicros();

    char kind = 'A';
    if (!parsed) {
        kind = 'R';
    } else {
        const hl7v2::SegmentView msh = message.header();
        // Decoded to UTF-8 (GB18030 senders name themselves in Chinese): the CLI and the
        // console show it, and the dedupe key stays exact because decoding is deterministic.
        in.sender = std::string(state.decoder.decode(msh.field(3)));
        in.sender += '|';
        in.sender += state.decoder.decode(msh.field(4));
        in.controlId = std::string(message.controlId());
        in.type = std::string(message.messageCode());
        if (!message.triggerEvent().empty()) {
            in.type += '^';
            in.type += message.triggerEvent();
        }
        if (channel == nullptr) {
            kind = 'R';
            issues.add(core::Severity::Error, "207", mshField(0),
                       "no channel '" + channelName + "' is configured for this source");
        } else if (!matchesAnyType(channel->acceptTypes, message.messageCode(),
                                   message.triggerEvent())) {
            kind = 'R';
            // 201 when some pattern names this message code (only the trigger is wrong).
            const bool codeKnown = std::any_of(
                channel->acceptTypes.begin(), channel->acceptTypes.end(),
                [&](const std::string& p) {
                    return std::string_view(p).substr(0, p.find('^')) == message.messageCode();
                });
            issues.add(core::Severity::Error, codeKnown ? "201" : "200", mshField(9),
                       codeKnown ? "trigger event not accepted on this channel"
                                 : "message type not accepted on this channel");
        } else if (!channel->acceptProcessingIds.empty() &&
                   std::find(channel->acceptProcessingIds.begin(),
                             channel->acceptProcessingIds.end(),
                             std::string(msh.field(11).component(1).raw())) ==
                       channel->acceptProcessingIds.end()) {
            kind = 'R';
            issues.add(core::Severity::Error, "202", mshField(11),
                       "processing id not accepted on this channel");
        } else if (!channel->acceptVersions.empty() &&
                   std::find(channel->acceptVersions.begin(), channel->acceptVersions.end(),
                             std::string(message.version())) == channel->acceptVersions.end()) {
            kind = 'R';
            issues.add(core::Severity::Error, "203", mshField(12),
                       "version not supported on this channel");
        } else if (channel->validate && message.messageCode() != "ACK") {
            // Parser errors (a repeated delimiter in MSH-2, a line that is not a segment,
            // an MSH-18 we cannot read: 207) count only where the channel validates: real
            // senders have such quirks, and a tolerant channel takes the message as it is.
            const bool unreadableCharset = std::any_of(
                issues.begin(), issues.end(), [](const core::Issue& i) { return i.code == "207"; });
            const bool valid = state.validator.validate(message, issues) && !issues.hasErrors();
            if (!valid) {
                kind = unreadableCharset ? 'R' : 'E';
            }
        }
    }

    const hl7v2::Message* received = parsed ? &message : nullptr;
    const bool enhanced = enhancedFor(policy, received);
    if (kind != 'A') {
        in.state = store::MessageState::Rejected;
        in.error = describeIssues(issues);
        if (in.error.empty()) {
            in.error = "rejected";
        }
    }

    const int offset = channel != nullptr ? channel->utcOffsetMinutes : 480;
    const hl7v2::AckBuilder builder;
    auto buildAck = [&](hl7v2::AckCode code, const core::IssueList& problems, std::string& out,
                        const ReceiptResult* refusal = nullptr, std::string* controlId = nullptr) {
        hl7v2::AckRequest request;
        request.code = code;
        request.controlId = nextControlId();
        if (controlId != nullptr) {
            *controlId = request.controlId;
        }
        request.timestamp = core::formatHl7Timestamp(clock_.nowMicros(), offset);
        const core::IssueList errors = errorsOf(problems);
        request.problems = &errors;
        if (refusal != nullptr) {
            request.applicationCode = refusal->applicationCode;
            request.userMessage = refusal->userMessage;
        }
        core::IssueList ackIssues;
        if (builder.build(received, request, out, ackIssues)) {
            return;
        }
        if (!request.userMessage.empty()) {
            // ERR-8 is Chinese: a sender's charset that cannot carry it still gets the codes.
            request.userMessage.clear();
            if (builder.build(received, request, out, ackIssues)) {
                return;
            }
        }
        // A text the sender's charset cannot carry: answer without the texts rather than
        // not at all.
        out.clear();
        request.problems = nullptr;
        builder.build(received, request, out, ackIssues);
    };

    // STANDARDS.md §1.6: ACKs are never acknowledged. One that arrives is still stored.
    const bool isAck = parsed && message.messageCode() == "ACK";

    std::optional<ReceiptResult> refusal;
    std::optional<ApplyingKeys::Hold> applying;
    std::optional<std::string> lookupFailed; // the store failed before anything was applied
    if (kind == 'A' && channel != nullptr) {
        store::RoutingResult routing = Router::route(message, bytes, *channel);
        in.routed = true;
        in.routedState = routing.state;
        in.routedError = std::move(routing.error);
        in.entries = std::move(routing.entries);
        if (const DestinationConfig* d = atReceiptDestination(*channel, in.entries)) {
            // The answer waits for the write (routing/README.md `at_receipt`). A copy of a
            // message already stored is not applied again: the store answers it with the
            // original ACK below.
            if (!in.controlId.empty()) {
                applying.emplace(applyingKeys(), in.sender + '\x1f' + in.controlId);
            }
            std::optional<store::ReceiveOutcome> original;
            try {
                original = store_.original(in.sender, in.controlId);
            } catch (const Poco::Exception& e) {
                lookupFailed = e.displayText();
            }
            if (!original && !lookupFailed) {
                for (store::OutboundEntry& entry : in.entries) {
                    if (entry.destination != d->name) {
                        continue;
                    }
                    ReceiptResult applied = d->kind->applyAtReceipt(entry.payload);
                    if (applied.outcome == ReceiptResult::Outcome::Applied) {
                        entry.delivered = true;
                        entry.response = std::move(applied.response);
                    } else {
                        applied.error = "destination " + d->name + ": " + applied.error;
                        refusal = std::move(applied);
                    }
                    break;
                }
            }
        }
    }
    if (refusal) {
        // Refused: AE, do not resend unchanged. Unavailable: AR (CE in enhanced mode, as for
        // a store failure), resend: kept without its control id, so the resend is no
        // duplicate of it and is applied.
        const bool refused = refusal->outcome == ReceiptResult::Outcome::Refused;
        kind = refused || enhanced ? 'E' : 'R';
        in.state = store::MessageState::Rejected;
        in.error = refusal->error;
        in.routed = false;
        in.entries.clear();
        if (!refused) {
            in.error += " (answered " + std::string(hl7v2::toString(codeFor(enhanced, kind))) +
                        ", the sender resends; kept without its control id as dedupe key)";
            in.controlId.clear();
        }
        issues.add(core::Severity::Error, refusal->code, {}, refusal->text);
    }
    // Enhanced mode with an application_ack destination (STANDARDS.md §1.6): the accept ACK
    // says stored, and the outcome goes to the sender as a message of its own, queued in the
    // same transaction as the message. Without one, a content error or refusal stays in the
    // accept ACK (CE): it would be the only answer the sender gets.
    const char application = enhanced && received != nullptr && !isAck && channel != nullptr
                                 ? applicationAckKind(*channel, message, kind, in.routedState,
                                                      refusal ? &*refusal : nullptr)
                                 : '\0';
    if (application != '\0') {
        store::OutboundEntry reply;
        reply.destination = channel->applicationAck;
        reply.orderKey = in.sender; // each sender's answers in order
        reply.type = "ACK";
        if (!message.triggerEvent().empty()) {
            reply.type += '^';
            reply.type += message.triggerEvent();
        }
        core::IssueList outcomeIssues;
        if (application == 'E' && kind == 'A') {
            outcomeIssues.add(core::Severity::Error, "207", {},
                              "the gateway could not process the message; it is kept for replay");
        }
        buildAck(codeFor(false, application), kind == 'A' ? outcomeIssues : issues, reply.payload,
                 refusal ? &*refusal : nullptr, &reply.controlId);
        in.entries.push_back(std::move(reply));
        kind = 'A'; // stored and answered in the application ACK: CA
    }
    if (!isAck) {
        if (application != '\0') {
            buildAck(codeFor(enhanced, kind), {}, in.ack);
        } else {
            buildAck(codeFor(enhanced, kind), issues, in.ack, refusal ? &*refusal : nullptr);
        }
    }

    store::ReceiveOutcome outcome;
    const auto started = std::chrono::steady_clock::now();
    try {
        if (lookupFailed) {
            // Nothing applied, nothing stored: answered 207 below like any store failure.
            throw store::StoreError(*lookupFailed);
        }
        outcome = store_.receive(in);
    } catch (const Poco::Exception& e) {
        storeFailures_.add();
        logger().error("channel %s: cannot store a message from %s: %s (answered 207)", channelName,
                       peer, e.displayText());
        core::IssueList failure;
        failure.add(core::Severity::Error, "207", {},
                    "the gateway could not store the message; send it again later");
        std::string ack;
        if (!isAck) {
            buildAck(codeFor(enhanced, enhanced ? 'E' : 'R'), failure, ack);
        }
        metrics_
            .counter(
                "hl7gw_mllp_acks_total", "ACKs sent, by channel and MSA-1 code",
                {{"channel", channelName},
                 {"code", std::string(hl7v2::toString(codeFor(enhanced, enhanced ? 'E' : 'R')))}})
            .add();
        return Reply{std::move(ack), false};
    }
    commitSeconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

    metrics_
        .counter("hl7gw_mllp_messages_received_total", "Messages received, by channel",
                 {{"channel", channelName}})
        .add();
    if (outcome.duplicate) {
        duplicates_.add();
        logger().debug("channel %s: duplicate of message %Ld (control id repeated), original "
                       "ACK resent",
                       channelName, static_cast<Poco::Int64>(outcome.id));
    } else if (in.routed) {
        metrics_
            .counter(
                "hl7gw_routed_total", "Messages routed, by channel and resulting state",
                {{"channel", channelName}, {"state", std::string(store::toString(in.routedState))}})
            .add();
        if (in.routedState == store::MessageState::Error) {
            logger().error("channel %s: message %Ld not routed: %s", channelName,
                           static_cast<Poco::Int64>(outcome.id), in.routedError);
        }
    }
    if (!outcome.duplicate) {
        std::vector<std::string> destinations;
        for (const store::OutboundEntry& e : in.entries) {
            if (!e.delivered) {
                destinations.push_back(e.destination);
            }
        }
        if (onQueued_ && !destinations.empty()) {
            onQueued_(destinations);
        }
    }
    if (!outcome.ack.empty()) {
        metrics_
            .counter("hl7gw_mllp_acks_total", "ACKs sent, by channel and MSA-1 code",
                     {{"channel", channelName},
                      {"code", outcome.duplicate
                                   ? std::string("duplicate")
                                   : std::string(hl7v2::toString(codeFor(enhanced, kind)))}})
            .add();
    }
    if (application != '\0' && !outcome.duplicate) {
        metrics_
            .counter("hl7gw_application_acks_total",
                     "Application ACKs queued (enhanced mode), by channel and MSA-1 code",
                     {{"channel", channelName},
                      {"code", std::string(hl7v2::toString(codeFor(false, application)))}})
            .add();
    }
    if (in.state == store::MessageState::Rejected && !outcome.duplicate) {
        logger().warning("channel %s: message %Ld from %s rejected: %s", channelName,
                         static_cast<Poco::Int64>(outcome.id), peer, in.error);
    }
    return Reply{std::move(outcome.ack), true};
}

} // namespace hl7gw::routing
