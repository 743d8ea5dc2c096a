#include "gateway/store/message_store.h"

#include "gateway/store/detail/sql_store.h"
#include "gateway/store/detail/store_url.h"

#include <Poco/Bugcheck.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/String.h>

#include <array>
#include <mutex>
#include <typeinfo>
#include <utility>

namespace hl7gw::store {

POCO_IMPLEMENT_EXCEPTION(StoreError, core::Error, "Store error")

namespace {

// The words the console, the command line and the metrics labels show.
constexpr std::array<std::pair<MessageState, std::string_view>, 8> StateNames{{
    {MessageState::Received, "received"},
    {MessageState::Processed, "processed"},
    {MessageState::Filtered, "filtered"},
    {MessageState::Rejected, "rejected"},
    {MessageState::Error, "error"},
    {MessageState::Queued, "queued"},
    {MessageState::Delivered, "delivered"},
    {MessageState::Dead, "dead"},
}};

void registerConnectors()
{
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::PostgreSQL::Connector::registerConnector();
    });
}

} // namespace

std::string_view toString(Direction direction)
{
    return direction == Direction::In ? "in" : "out";
}

std::string_view toString(MessageState state)
{
    for (const auto& [value, name] : StateNames) {
        if (value == state) {
            return name;
        }
    }
    poco_bugcheck_msg("unknown MessageState");
    return "";
}

std::optional<MessageState> parseMessageState(std::string_view text)
{
    for (const auto& [value, name] : StateNames) {
        if (Poco::icompare(std::string(text), std::string(name)) == 0) {
            return value;
        }
    }
    return std::nullopt;
}

MessageStorePtr openStore(const StoreConfig& config)
{
    detail::StoreUrl url = detail::parseStoreUrl(config.url);
    registerConnectors();
    return std::make_unique<detail::SqlMessageStore>(std::move(url), config);
}

} // namespace hl7gw::store
