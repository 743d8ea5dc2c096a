#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hl7gw::store::detail {

/// How an inbound row's ack column holds the ACK (column ack_format).
enum class AckFormat : std::int64_t {
    Plain = 0,
    /// Raw DEFLATE (RFC 1951) with the message's header as preset dictionary; see
    /// ackDictionary().
    DeflatedAgainstHeader = 1,
};

struct EncodedAck {
    AckFormat format = AckFormat::Plain;
    std::string bytes;
};

/// An ACK repeats most of its message's MSH (sender and receiver swapped, control id,
/// version, character set): 134 of a typical ADT ACK's bytes shrink to about 50 when deflated
/// with that MSH as dictionary, a sixth of the message's own size saved on disk, for about
/// 3 us of CPU on the caller's thread. The plain bytes are kept when deflating does not pay.
EncodedAck encodeAck(std::string_view ack, std::string_view raw);

/// Inverse of encodeAck; `rawPrefix` holds at least the first ackDictionaryLimit bytes of the
/// message (or all of it). Throws StoreError for bytes that do not decode.
std::string decodeAck(AckFormat format, std::string_view bytes, std::string_view rawPrefix);

/// The dictionary is the message up to its first CR or LF (the MSH segment), at most this
/// many bytes; readers need only this prefix of raw (SQL substr) to decode.
constexpr std::size_t AckDictionaryLimit = 512;
std::string_view ackDictionary(std::string_view raw);

} // namespace hl7gw::store::detail
