#pragma once

#include "gateway/core/clock.h"
#include "gateway/core/config_reader.h"
#include "gateway/routing/channel_set.h"
#include "gateway/store/message_store.h"
#include "tests/unit/test_support.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <unistd.h>

namespace hl7gw::test {

/// Channels from the JSON text of a "channels" array (as in gateway.json).
inline routing::ChannelSetPtr channelsFrom(const std::string& json)
{
    rapidjson::Document d;
    core::parseConfigText(json, "test.json", d);
    std::vector<std::pair<std::string, const rapidjson::Value*>> defs;
    for (rapidjson::SizeType i = 0; i < d.Size(); ++i) {
        defs.emplace_back("test.json", &d[i]);
    }
    return routing::ChannelSet::build(defs);
}

} // namespace hl7gw::test
