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

/// A clock the test moves by hand.
class ManualClock : public core::Clock {
  public:
    explicit ManualClock(std::int64_t start = 1'764'600'000'000'000) : now_(start) {}
    std::int64_t nowMicros() const override { return now_.load(); }
    void advance(std::int64_t micros) { now_ += micros; }

  private:
    std::atomic<std::int64_t> now_;
};

} // namespace hl7gw::test
