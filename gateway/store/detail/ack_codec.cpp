#include "gateway/store/detail/ack_codec.h"

#include "gateway/store/message_store.h"

#include <zlib.h>

#include <algorithm>

namespace hl7gw::store::detail {

namespace {

// 2 KiB window (matches reach 1.7 KiB back: dictionary and ACK both fit), small hash table;
// the streams are a few KiB and live for one call.
constexpr int WindowBits = 11;
constexpr int MemLevel = 2;
// Beyond this an ACK carries long ERR texts rather than echoed header fields.
constexpr std::size_t MaxDeflatedAck = 64 * 1024;

const Bytef* bytesOf(std::string_view text)
{
    return reinterpret_cast<const Bytef*>(text.data());
}

} // namespace

std::string_view ackDictionary(std::string_view raw)
{
    const std::size_t end = raw.find_first_of("\r\n");
    return raw.substr(0, std::min({end, raw.size(), AckDictionaryLimit}));
}

EncodedAck encodeAck(std::string_view ack, std::string_view raw)
{
    EncodedAck plain{AckFormat::Plain, std::string(ack)};
    const std::string_view dictionary = ackDictionary(raw);
    if (ack.empty() || dictionary.empty() || ack.size() > MaxDeflatedAck) {
        return plain;
    }
    z_stream stream{};
    if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -WindowBits, MemLevel,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        return plain; // out of memory: the plain bytes are as good, only bigger
    }
    std::string out;
    bool ok = deflateSetDictionary(&stream, bytesOf(dictionary),
                                   static_cast<uInt>(dictionary.size())) == Z_OK;
    if (ok) {
        out.resize(deflateBound(&stream, static_cast<uLong>(ack.size())));
        stream.next_in = const_cast<Bytef*>(bytesOf(ack));
        stream.avail_in = static_cast<uInt>(ack.size());
        stream.next_out = reinterpret_cast<Bytef*>(out.data());
        stream.avail_out = static_cast<uInt>(out.size());
        ok = deflate(&stream, Z_FINISH) == Z_STREAM_END;
        out.resize(out.size() - stream.avail_out);
    }
    deflateEnd(&stream);
    if (!ok || out.size() >= ack.size()) {
        return plain;
    }
    return {AckFormat::DeflatedAgainstHeader, std::move(out)};
}

std::string decodeAck(AckFormat format, std::string_view bytes, std::string_view rawPrefix)
{
    if (format == AckFormat::Plain) {
        return std::string(bytes);
    }
    if (format != AckFormat::DeflatedAgainstHeader) {
        throw StoreError("unknown ACK format " + std::to_string(static_cast<long long>(format)) +
                         " in the database");
    }
    const std::string_view dictionary = ackDictionary(rawPrefix);
    z_stream stream{};
    if (inflateInit2(&stream, -WindowBits) != Z_OK) {
        throw StoreError("cannot inflate a stored ACK: out of memory");
    }
    std::string out;
    int rc =
        inflateSetDictionary(&stream, bytesOf(dictionary), static_cast<uInt>(dictionary.size()));
    stream.next_in = const_cast<Bytef*>(bytesOf(bytes));
    stream.avail_in = static_cast<uInt>(bytes.size());
    while (rc == Z_OK) {
        const std::size_t done = out.size();
        out.resize(done + std::max<std::size_t>(256, bytes.size() * 4));
        stream.next_out = reinterpret_cast<Bytef*>(out.data() + done);
        stream.avail_out = static_cast<uInt>(out.size() - done);
        rc = inflate(&stream, Z_NO_FLUSH);
        out.resize(out.size() - stream.avail_out);
        if (rc == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
            rc = Z_DATA_ERROR; // input ended before the stream did
        }
    }
    inflateEnd(&stream);
    if (rc != Z_STREAM_END) {
        throw StoreError("a stored ACK does not inflate (zlib error " + std::to_string(rc) + ")");
    }
    return out;
}

} // namespace hl7gw::store::detail
