#pragma once

#include "gateway/core/config_reader.h"
#include "gateway/routing/stage.h"
#include "gateway/transport/tls_context.h"

#include <optional>
#include <string>

namespace hl7gw::routing {

/// `destination.mllp`: {"type": "mllp", "to": "HOST:PORT", "tls": {"ca", "cert", "key"},
/// "connect_timeout_ms": 10000, "ack_timeout_ms": 30000}. An answer with MSA-1 AA/CA is
/// Delivered; AE/CE is Reject (content error: resending unchanged cannot help); AR/CR, no
/// answer, or an answer that is not an ACK is Retry.
/// `tls` of an MLLP destination (or any MLLP client's configuration): {"ca", "cert", "key"},
/// cert and key together; none when the key is absent.
std::optional<transport::TlsConfig> readTls(core::ConfigReader& config);

DestinationKindPtr makeMllpDestination(core::ConfigReader& config);
/// `destination.http`: {"type": "http", "url": "http://host:port/path" (or https),
/// "content_type": "x-application/hl7-v2+er7", "timeout_ms": 30000, "tls": {"ca"}}:
/// POSTs the payload. 2xx is Delivered; 408, 429 and 5xx are Retry; other 4xx are Reject.
DestinationKindPtr makeHttpDestination(core::ConfigReader& config);
/// `destination.file`: {"type": "file", "directory": "out/lis", "suffix": ".hl7"}: writes each
/// payload to its own file (written to a temporary name, fsync'd, then renamed, so readers
/// never see half a file). Names are the time and a sequence number, so they sort in order.
DestinationKindPtr makeFileDestination(core::ConfigReader& config);

} // namespace hl7gw::routing
