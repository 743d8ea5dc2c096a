#pragma once

#include "gateway/hl7v2/message.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace hl7gw::mapping::detail {

/// One instance of a group of the message's abstract structure (ORU_R01.ORDER_OBSERVATION):
/// the segments [begin, end) in message order. Groups are contiguous, so a range says it all.
struct GroupInstance {
    std::string_view name;
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
};

/// Matches the segments of `message` against its structure (MSH-9.3, else by event) the way
/// HAPI and Mirth group them: greedily, in order. Z-segments and segments the table does not
/// define stay in the group that is open;
/// a segment out of place is skipped over and stays in the whole message's scope. A message
/// whose structure is unknown has no groups; `each SEG` still works on it.
std::vector<GroupInstance> matchGroups(const hl7v2::Message& message);

} // namespace hl7gw::mapping::detail
