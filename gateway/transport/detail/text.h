#pragma once

#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <sstream>
#include <string>

namespace hl7gw::transport::detail {

/// The arguments streamed one after another.
template <typename... Parts> std::string text(const Parts&... parts)
{
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

/// Logs the parts as one line at `priority`, building the line only when that level is on.
/// (POCO's poco_debug macro compiles to nothing outside debug builds, and per-message debug
/// lines must be available in production when someone turns the level up.)
template <typename... Parts>
void log(Poco::Logger& logger, Poco::Message::Priority priority, const Parts&... parts)
{
    if (logger.is(priority)) {
        logger.log(Poco::Message(logger.name(), text(parts...), priority));
    }
}

} // namespace hl7gw::transport::detail
