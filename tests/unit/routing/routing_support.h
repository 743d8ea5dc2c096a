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

/// An ADT^A01 in ER7 with the given control id and patient id.
inline std::string adt(const std::string& controlId, const std::string& patient = "P1",
                       const std::string& trigger = "A01")
{
    return "MSH|^~\\&|HIS|HOSP|GW|GW|20261201083000+0800||ADT^" + trigger + "^ADT_A01|" +
           controlId + "|P|2.5.1\rEVN|" + trigger + "|20261201083000+0800\rPID|1||" + patient +
           "^^^HOSP^MR||Zhang^San||19800101|M\rPV1|1|I\r";
}

} // namespace hl7gw::test
