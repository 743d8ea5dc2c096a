#include "gateway/store/detail/columns.h"

#include "gateway/core/utf8.h"

#include "gateway/store/detail/ack_codec.h"

#include <Poco/Bugcheck.h>
#include <Poco/Data/PostgreSQL/Extractor.h>

namespace hl7gw::store::detail {

namespace {

// Length of the valid UTF-8 sequence at text[i], or 0. NUL counts as invalid: PostgreSQL
// text cannot hold it.
std::size_t utf8SequenceAt(std::string_view text, std::size_t i)
{
    return text[i] == '\0' ? 0 : core::utf8SequenceLength(text, i);
}

// PostgreSQL's text output of bytea with bytea_output = hex (the default since 9.0).
std::string decodeHexBytea(const std::string& text)
{
    if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
        throw StoreError("unexpected bytea text from PostgreSQL (is bytea_output = escape?)");
    }
    std::string out;
    out.resize((text.size() - 2) / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int high = hexDigit(text[2 + 2 * i]);
        const int low = hexDigit(text[3 + 2 * i]);
        if (high < 0 || low < 0) {
            throw StoreError("unexpected bytea text from PostgreSQL");
        }
        out[i] = static_cast<char>(high * 16 + low);
    }
    return out;
}

} // namespace

int hexDigit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string toText(std::string_view text)
{
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t n = utf8SequenceAt(text, i);
        if (n == 0) {
            break;
        }
        i += n;
    }
    if (i == text.size()) {
        return std::string(text);
    }
    std::string out(text.substr(0, i));
    while (i < text.size()) {
        const std::size_t n = utf8SequenceAt(text, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

int stateCode(MessageState state)
{
    switch (state) {
    case MessageState::Received:
        return 0;
    case MessageState::Processed:
        return 1;
    case MessageState::Filtered:
        return 2;
    case MessageState::Rejected:
        return 3;
    case MessageState::Error:
        return 4;
    case MessageState::Queued:
        return 5;
    case MessageState::Delivered:
        return 6;
    case MessageState::Dead:
        return 7;
    }
    poco_bugcheck_msg("unknown MessageState");
    return -1;
}

MessageState stateFromCode(long long code)
{
    switch (code) {
    case 0:
        return MessageState::Received;
    case 1:
        return MessageState::Processed;
    case 2:
        return MessageState::Filtered;
    case 3:
        return MessageState::Rejected;
    case 4:
        return MessageState::Error;
    case 5:
        return MessageState::Queued;
    case 6:
        return MessageState::Delivered;
    case 7:
        return MessageState::Dead;
    default:
        throw StoreError("unknown state code " + std::to_string(code) + " in the database");
    }
}

int directionCode(Direction direction)
{
    return direction == Direction::In ? 0 : 1;
}

Direction directionFromCode(long long code)
{
    if (code == 0) {
        return Direction::In;
    }
    if (code == 1) {
        return Direction::Out;
    }
    throw StoreError("unknown direction code " + std::to_string(code) + " in the database");
}

} // namespace hl7gw::store::detail

namespace Poco::Data {

using hl7gw::store::DestinationDepth;
using hl7gw::store::MessageRecord;
using hl7gw::store::detail::Bytes;

namespace {

// Placeholders for prepare(): only ODBC-style connectors use a preparator, and they keep
// references, so these must outlive the statement.
const Poco::Int64 PrepareInt = 0;
const std::string PrepareString;
const BLOB PrepareBlob;

template <typename T>
T extractOr(std::size_t pos, const T& defVal, AbstractExtractor::Ptr& extractor)
{
    T value;
    TypeHandler<T>::extract(pos, value, defVal, extractor);
    return value;
}

Poco::Int64 int64At(std::size_t pos, AbstractExtractor::Ptr& extractor)
{
    return extractOr<Poco::Int64>(pos, 0, extractor);
}

std::string textAt(std::size_t pos, AbstractExtractor::Ptr& extractor)
{
    return extractOr<std::string>(pos, PrepareString, extractor);
}

std::string bytesAt(std::size_t pos, AbstractExtractor::Ptr& extractor)
{
    Bytes bytes;
    TypeHandler<Bytes>::extract(pos, bytes, Bytes{}, extractor);
    return std::move(bytes.value);
}

void prepareInts(std::size_t pos, std::size_t count, AbstractPreparator::Ptr& preparator)
{
    for (std::size_t i = 0; i < count; ++i) {
        TypeHandler<Poco::Int64>::prepare(pos + i, PrepareInt, preparator);
    }
}

void prepareStrings(std::size_t pos, std::size_t count, AbstractPreparator::Ptr& preparator)
{
    for (std::size_t i = 0; i < count; ++i) {
        TypeHandler<std::string>::prepare(pos + i, PrepareString, preparator);
    }
}

} // namespace

void TypeHandler<Bytes>::bind(std::size_t, const Bytes&, AbstractBinder::Ptr,
                              AbstractBinder::Direction)
{
    poco_bugcheck_msg("Bytes is read-only; bind a BLOB");
}

void TypeHandler<Bytes>::prepare(std::size_t pos, const Bytes&, AbstractPreparator::Ptr preparator)
{
    TypeHandler<BLOB>::prepare(pos, PrepareBlob, preparator);
}

void TypeHandler<Bytes>::extract(std::size_t pos, Bytes& obj, const Bytes& defVal,
                                 AbstractExtractor::Ptr extractor)
{
    if (dynamic_cast<PostgreSQL::Extractor*>(extractor.get()) != nullptr) {
        std::string text;
        if (!extractor->extract(pos, text)) {
            obj = defVal;
            return;
        }
        obj.value = hl7gw::store::detail::decodeHexBytea(text);
        return;
    }
    BLOB blob;
    if (!extractor->extract(pos, blob)) {
        obj = defVal;
        return;
    }
    obj.value.assign(reinterpret_cast<const char*>(blob.rawContent()), blob.size());
}

void TypeHandler<MessageRecord>::bind(std::size_t, const MessageRecord&, AbstractBinder::Ptr,
                                      AbstractBinder::Direction)
{
    poco_bugcheck_msg("MessageRecord is read-only");
}

void TypeHandler<MessageRecord>::prepare(std::size_t pos, const MessageRecord&,
                                         AbstractPreparator::Ptr preparator)
{
    prepareInts(pos, 6, preparator);                              // id .. updated_at
    prepareStrings(pos + 6, 2, preparator);                       // channel, peer
    TypeHandler<BLOB>::prepare(pos + 8, PrepareBlob, preparator); // sender
    TypeHandler<BLOB>::prepare(pos + 9, PrepareBlob, preparator); // control_id
    prepareStrings(pos + 10, 3, preparator);                      // type, error, destination
    TypeHandler<BLOB>::prepare(pos + 13, PrepareBlob, preparator);
    prepareInts(pos + 14, 3, preparator); // attempts, next_attempt_at, ack_format
    TypeHandler<BLOB>::prepare(pos + 17, PrepareBlob, preparator);
    TypeHandler<BLOB>::prepare(pos + 18, PrepareBlob, preparator);
}

void TypeHandler<MessageRecord>::extract(std::size_t pos, MessageRecord& obj, const MessageRecord&,
                                         AbstractExtractor::Ptr extractor)
{
    namespace detail = hl7gw::store::detail;
    obj.id = int64At(pos, extractor);
    obj.parentId = int64At(pos + 1, extractor);
    obj.direction = detail::directionFromCode(int64At(pos + 2, extractor));
    obj.state = detail::stateFromCode(int64At(pos + 3, extractor));
    obj.receivedAt = int64At(pos + 4, extractor);
    obj.updatedAt = int64At(pos + 5, extractor);
    obj.channel = textAt(pos + 6, extractor);
    obj.peer = textAt(pos + 7, extractor);
    obj.sender = bytesAt(pos + 8, extractor);
    obj.controlId = bytesAt(pos + 9, extractor);
    obj.type = textAt(pos + 10, extractor);
    obj.error = textAt(pos + 11, extractor);
    obj.destination = textAt(pos + 12, extractor);
    obj.orderKey = bytesAt(pos + 13, extractor);
    obj.attempts = static_cast<int>(int64At(pos + 14, extractor));
    obj.nextAttemptAt = int64At(pos + 15, extractor);
    const auto ackFormat = static_cast<detail::AckFormat>(int64At(pos + 16, extractor));
    obj.raw = bytesAt(pos + 17, extractor);
    // Without bodies both are NULL, and an empty ACK needs no decoding.
    const std::string ack = bytesAt(pos + 18, extractor);
    obj.ack = ack.empty() ? std::string() : detail::decodeAck(ackFormat, ack, obj.raw);
}

void TypeHandler<DestinationDepth>::bind(std::size_t, const DestinationDepth&, AbstractBinder::Ptr,
                                         AbstractBinder::Direction)
{
    poco_bugcheck_msg("DestinationDepth is read-only");
}

void TypeHandler<DestinationDepth>::prepare(std::size_t pos, const DestinationDepth&,
                                            AbstractPreparator::Ptr preparator)
{
    prepareStrings(pos, 1, preparator);
    prepareInts(pos + 1, 3, preparator);
}

void TypeHandler<DestinationDepth>::extract(std::size_t pos, DestinationDepth& obj,
                                            const DestinationDepth&,
                                            AbstractExtractor::Ptr extractor)
{
    obj.destination = textAt(pos, extractor);
    obj.queued = int64At(pos + 1, extractor);
    obj.oldestQueuedAt = int64At(pos + 2, extractor);
    obj.dead = int64At(pos + 3, extractor);
}

} // namespace Poco::Data
