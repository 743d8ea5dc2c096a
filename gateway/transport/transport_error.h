#pragma once

#include "gateway/core/errors.h"

namespace hl7gw::transport {

/// A connection could not be made, was refused, timed out or broke.
POCO_DECLARE_EXCEPTION(, TransportError, core::Error)

} // namespace hl7gw::transport
