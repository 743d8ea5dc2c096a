#include "gateway/app/messages_command.h"

#include "gateway/app/gateway_config.h"
#include "gateway/core/clock.h"
#include "gateway/core/utf8.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/json_writer.h"
#include "gateway/store/message_store.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>
#include <ostream>

namespace hl7gw::app {

namespace {

// Bytes that are not UTF-8 (a GB18030 message) cannot go into JSON as they are; the raw
// bytes stay available through `show`, and the JSON carries what the text is.
std::string printable(const std::string& s)
{
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t len = core::utf8SequenceLength(s, i);
        if (len > 0) {
            out.append(s, i, len);
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

void writeJsonLine(const store::MessageRecord& r, std::ostream& out)
{
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    const auto str = [&](const char* key, const std::string& value) {
        w.Key(key);
        const std::string text = printable(value);
        w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    };
    w.StartObject();
    w.Key("id");
    w.Int64(r.id);
    str("received_at", core::formatIsoUtc(r.receivedAt));
    str("channel", r.channel);
    str("direction", std::string(store::toString(r.direction)));
    str("sender", r.sender);
    str("control_id", r.controlId);
    str("type", r.type);
    str("state", std::string(store::toString(r.state)));
    w.Key("error");
    if (r.error.empty()) {
        w.Null();
    } else {
        const std::string text = printable(r.error);
        w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    }
    str("updated_at", core::formatIsoUtc(r.updatedAt));
    if (r.direction == store::Direction::Out) {
        w.Key("parent_id");
        w.Int64(r.parentId);
        str("destination", r.destination);
        str("order_key", r.orderKey);
        w.Key("attempts");
        w.Int(r.attempts);
        str("next_attempt_at", core::formatIsoUtc(r.nextAttemptAt));
    }
    w.EndObject();
    out << buffer.GetString() << '\n';
}

void writeTextLine(const store::MessageRecord& r, std::ostream& out)
{
    out << r.id << '\t' << core::formatIsoUtc(r.receivedAt) << '\t' << store::toString(r.direction)
        << '\t' << r.channel << '\t'
        << (r.direction == store::Direction::Out ? "-> " + r.destination : r.sender) << '\t'
        << r.type << '\t' << r.controlId << '\t' << store::toString(r.state);
    if (!r.error.empty()) {
        out << '\t' << printable(r.error);
    }
    out << '\n';
}

// Segment ends (CR) as line ends, so the terminal shows one segment per line.
std::string segmentsAsLines(const std::string& raw)
{
    std::string s = raw;
    for (char& c : s) {
        if (c == '\r') {
            c = '\n';
        }
    }
    if (!s.empty() && s.back() != '\n') {
        s += '\n';
    }
    return s;
}

bool readQuery(const MessagesCommandOptions& o, store::MessageQuery& q, std::ostream& err)
{
    if (!o.state.empty()) {
        q.state = store::parseMessageState(o.state);
        if (!q.state) {
            err << "hl7gw messages: --state: unknown state '" << o.state
                << "' (received, processed, filtered, rejected, error, queued, delivered, dead)\n";
            return false;
        }
    }
    if (!o.direction.empty()) {
        if (o.direction == "in") {
            q.direction = store::Direction::In;
        } else if (o.direction == "out") {
            q.direction = store::Direction::Out;
        } else {
            err << "hl7gw messages: --direction: expected in or out\n";
            return false;
        }
    }
    if (!o.type.empty()) {
        q.type = o.type;
    }
    if (!o.channel.empty()) {
        q.channel = o.channel;
    }
    if (!o.since.empty()) {
        std::int64_t micros = 0;
        if (!core::parseIsoTime(o.since, micros)) {
            err << "hl7gw messages: --since: expected a time like 2026-12-01 or "
                   "2026-12-01T08:00:00+08:00, found '"
                << o.since << "'\n";
            return false;
        }
        q.since = micros;
    }
    if (o.limit) {
        if (*o.limit < 0) {
            err << "hl7gw messages: --limit: must be 0 (no limit) or more\n";
            return false;
        }
        q.limit = static_cast<std::size_t>(*o.limit);
    }
    return true;
}

bool readId(const MessagesCommandOptions& o, store::MessageId& id, std::ostream& err)
{
    if (o.arguments.size() != 1) {
        err << "hl7gw messages " << o.action << ": needs exactly one message ID\n";
        return false;
    }
    char* end = nullptr;
    id = std::strtoll(o.arguments[0].c_str(), &end, 10);
    if (end == o.arguments[0].c_str() || *end != '\0' || id <= 0) {
        err << "hl7gw messages " << o.action << ": '" << o.arguments[0]
            << "' is not a message ID (a positive number, see messages list)\n";
        return false;
    }
    return true;
}

void show(const store::MessageRecord& r, store::MessageStore& store, std::ostream& out)
{
    writeTextLine(r, out);
    out << "raw (" << r.raw.size() << " bytes):\n" << segmentsAsLines(r.raw);
    if (r.direction == store::Direction::In || !r.raw.empty()) {
        hl7v2::Message message;
        core::IssueList issues;
        const hl7v2::Er7Parser parser;
        if (parser.parse(r.raw, message, issues)) {
            hl7v2::TextDecoder decoder;
            std::string json;
            hl7v2::writeJson(message, 1, decoder, json, &issues);
            out << "parsed:\n" << json << '\n';
        } else {
            out << "parsed: (cannot be parsed)\n";
        }
    }
    if (!r.ack.empty()) {
        out << (r.direction == store::Direction::In ? "ack sent:\n" : "peer's answer:\n")
            << segmentsAsLines(r.ack);
    }
    if (r.direction == store::Direction::In) {
        const std::vector<store::MessageRecord> deliveries = store.deliveriesOf(r.id);
        out << "deliveries (" << deliveries.size() << "):\n";
        for (const store::MessageRecord& d : deliveries) {
            out << "  " << d.id << '\t' << d.destination << '\t' << store::toString(d.state)
                << "\tattempts=" << d.attempts;
            if (!d.error.empty()) {
                out << '\t' << printable(d.error);
            }
            out << '\n';
        }
    }
}

} // namespace

int runMessages(const MessagesCommandOptions& options, std::ostream& out, std::ostream& err)
{
    if (options.config.empty()) {
        err << "hl7gw messages: --config FILE is required\n";
        return 2;
    }
    store::MessageStorePtr store;
    try {
        store = store::openStore(loadStoreConfig(options.config, options.sets));
    } catch (const core::ConfigError& e) {
        err << "hl7gw messages: " << e.message() << '\n';
        return 2;
    } catch (const Poco::Exception& e) {
        err << "hl7gw messages: cannot open the store: " << e.displayText() << '\n';
        return 1;
    }
    try {
        if (options.action == "list" || options.action == "count") {
            store::MessageQuery query;
            if (!readQuery(options, query, err)) {
                return 1;
            }
            if (options.action == "count") {
                out << store->count(query) << '\n';
                return 0;
            }
            for (const store::MessageRecord& r : store->list(query)) {
                if (options.json) {
                    writeJsonLine(r, out);
                } else {
                    writeTextLine(r, out);
                }
            }
            return 0;
        }
        if (options.action == "show" || options.action == "replay") {
            store::MessageId id = 0;
            if (!readId(options, id, err)) {
                return 2;
            }
            if (options.action == "replay") {
                if (!store->replay(id, core::SystemClock::instance().nowMicros())) {
                    err << "hl7gw messages replay: no message " << id << '\n';
                    return 1;
                }
                out << "message " << id << " replayed\n";
                return 0;
            }
            const std::optional<store::MessageRecord> r = store->find(id);
            if (!r) {
                err << "hl7gw messages show: no message " << id << '\n';
                return 1;
            }
            if (options.json) {
                writeJsonLine(*r, out);
            } else {
                show(*r, *store, out);
            }
            return 0;
        }
    } catch (const Poco::Exception& e) {
        err << "hl7gw messages " << options.action << ": " << e.displayText() << '\n';
        return 1;
    }
    err << "hl7gw messages: unknown action '" << options.action
        << "' (list, show, replay or count)\n";
    return 2;
}

} // namespace hl7gw::app
