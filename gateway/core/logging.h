#pragma once

#include <string>

namespace hl7gw::core {

/// Sends every `hl7gw.*` logger to stderr, one line each:
/// `2026-12-01T19:23:36.123Z information hl7gw.app: text`, at `level` (POCO level names).
/// Lines never carry patient data: callers log positions, codes and ids, not values.
void configureLogging(const std::string& level);

} // namespace hl7gw::core
