#pragma once

// How values travel between our types and the columns of the messages table, for both
// connectors. Internal to gateway/store.

#include "gateway/store/message_store.h"

#include <Poco/Data/LOB.h>
#include <Poco/Data/TypeHandler.h>

#include <string>
#include <string_view>

namespace hl7gw::store::detail {

/// Text columns (channel, peer, type, error, destination, lease owner) hold UTF-8 without NUL
/// on both backends, so a stray byte in a descriptive field can never fail the batch it is
/// committed with: invalid sequences and NUL become U+FFFD. Valid text is returned unchanged.
std::string toText(std::string_view text);
/// The value of one hex digit (either case), or -1.
int hexDigit(char c);

/// The persisted codes of the enums; stable, independent of the enumerator order.
int stateCode(MessageState state);
MessageState stateFromCode(long long code); // throws StoreError for an unknown code
int directionCode(Direction direction);
Direction directionFromCode(long long code); // throws StoreError for an unknown code

/// The value of a BLOB/BYTEA column as bytes. Byte strings (raw, ack, sender, control id,
/// order key) are BLOB/BYTEA because POCO reads std::string through text, which SQLite cuts
/// at the first NUL and PostgreSQL refuses unless it is valid UTF-8. PostgreSQL results
/// arrive as text ("\x4142..."), which this decodes itself: POCO 1.11 decodes BYTEA one byte
/// at a time through a temporary std::string, 30 times slower.
struct Bytes {
    std::string value;
};

} // namespace hl7gw::store::detail

namespace Poco::Data {

template <> class TypeHandler<hl7gw::store::detail::Bytes> {
  public:
    static std::size_t size() { return 1; }
    static void bind(std::size_t pos, const hl7gw::store::detail::Bytes& obj,
                     AbstractBinder::Ptr binder, AbstractBinder::Direction dir);
    static void prepare(std::size_t pos, const hl7gw::store::detail::Bytes& obj,
                        AbstractPreparator::Ptr preparator);
    static void extract(std::size_t pos, hl7gw::store::detail::Bytes& obj,
                        const hl7gw::store::detail::Bytes& defVal,
                        AbstractExtractor::Ptr extractor);
};

/// Reads the row that recordColumns() selects (19 columns, in that order), decoding the ACK.
template <> class TypeHandler<hl7gw::store::MessageRecord> {
  public:
    static std::size_t size() { return 19; }
    static void bind(std::size_t pos, const hl7gw::store::MessageRecord& obj,
                     AbstractBinder::Ptr binder, AbstractBinder::Direction dir);
    static void prepare(std::size_t pos, const hl7gw::store::MessageRecord& obj,
                        AbstractPreparator::Ptr preparator);
    static void extract(std::size_t pos, hl7gw::store::MessageRecord& obj,
                        const hl7gw::store::MessageRecord& defVal,
                        AbstractExtractor::Ptr extractor);
};

/// Reads destination, queued, oldest_queued_at, dead.
template <> class TypeHandler<hl7gw::store::DestinationDepth> {
  public:
    static std::size_t size() { return 4; }
    static void bind(std::size_t pos, const hl7gw::store::DestinationDepth& obj,
                     AbstractBinder::Ptr binder, AbstractBinder::Direction dir);
    static void prepare(std::size_t pos, const hl7gw::store::DestinationDepth& obj,
                        AbstractPreparator::Ptr preparator);
    static void extract(std::size_t pos, hl7gw::store::DestinationDepth& obj,
                        const hl7gw::store::DestinationDepth& defVal,
                        AbstractExtractor::Ptr extractor);
};

} // namespace Poco::Data
