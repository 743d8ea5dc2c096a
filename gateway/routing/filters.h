#pragma once

#include "gateway/core/config_reader.h"
#include "gateway/routing/stage.h"

#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::routing {

/// A message type pattern: "ADT^A01" (exact), "ADT^A0*" (trigger prefix), "ADT" or "ADT^*"
/// (every trigger), "*" (anything). Case-sensitive, as MSH-9 is.
bool matchesType(std::string_view pattern, std::string_view code, std::string_view trigger);
bool matchesAnyType(const std::vector<std::string>& patterns, std::string_view code,
                    std::string_view trigger);

/// `filter.message_type`: {"type": "message_type", "types": ["ADT^A01", "ADT^A0*"]}; passes
/// messages whose MSH-9 matches one of the patterns.
FilterPtr makeMessageTypeFilter(core::ConfigReader& config);
/// `filter.sender`: {"type": "sender", "senders": ["HIS^HOSP", "LIS"]}; passes messages whose
/// MSH-3 (with "^MSH-4" when the entry has it) is listed. Compared on the raw values.
FilterPtr makeSenderFilter(core::ConfigReader& config);
/// `filter.path`: {"type": "path", "path": "PV1-2", and one of "equals": "I", "not_equals",
/// "in": [...], "exists": true|false}; compares the decoded value at the path (the syntax of
/// `hl7gw parse --get`).
FilterPtr makePathFilter(core::ConfigReader& config);

} // namespace hl7gw::routing
