#pragma once

// The transport module's contract, in one include: MLLP over TCP or TLS (STANDARDS.md §1.5).
// Each type lives in its own header; this one gathers them for callers.

#include "gateway/core/errors.h"
#include "gateway/transport/endpoint.h"
#include "gateway/transport/mllp_client.h"
#include "gateway/transport/mllp_framer.h"
#include "gateway/transport/mllp_server.h"
#include "gateway/transport/tls_context.h"
#include "gateway/transport/transport_error.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
