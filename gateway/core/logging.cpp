#include "gateway/core/logging.h"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>

#include <iostream>

namespace hl7gw::core {

void configureLogging(const std::string& level)
{
    Poco::AutoPtr<Poco::PatternFormatter> formatter(
        new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t"));
    formatter->setProperty("times", "UTC");
    Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel(std::cerr));
    Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, console));
    // The static setters reach loggers already created (function-local statics in modules)
    // as well as those created later, which inherit from root.
    Poco::Logger::setChannel("", channel);
    Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
}

} // namespace hl7gw::core
