#pragma once

#include "gateway/core/metrics.h"
#include "gateway/fhir/server/fhir_server.h"
#include "gateway/store/message_store.h"
#include "gateway/transport/mllp.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace hl7gw::console {

struct HttpServerConfig {
    transport::Endpoint listen{"127.0.0.1", 8080};
    /// A keep-alive connection holds a worker thread while it is open; connections beyond
    /// this wait in the accept queue until a worker is free (see start()).
    int maxThreads = 64;
    std::size_t maxBodyBytes = 16 * 1024 * 1024;
};

/// Hands an HL7 v2 message posted to /hl7/<channel> to the engine. Returns false when the
/// channel takes no HTTP messages (404); otherwise fills the ACK and whether it was stored.
using HttpMessageFn = std::function<bool(std::string_view body, const std::string& channel,
                                         const std::string& peer, std::string& ack, bool& stored)>;

/// The gateway's HTTP listener (POCO HTTPServer, keep-alive): `/healthz` (200 "ok" when the
/// store answers, 503 otherwise), `/metrics` (Prometheus text), and `POST /hl7/<channel>`
/// (an ER7 message in, its ACK out: 200 when stored, 503 when the store failed so the
/// sender retries), and the FHIR server under /fhir when mounted. The console mounts here in
/// a later issue.
class HttpServer {
  public:
    HttpServer(HttpServerConfig config, store::MessageStore& store, core::MetricsRegistry& metrics,
               HttpMessageFn onMessage);
    ~HttpServer();

    /// Serves the FHIR server under its base (`/fhir`). Call before start(); `server` must
    /// outlive this object.
    void mountFhir(fhir::FhirServer& server);

    /// Throws transport::TransportError when the address cannot be bound.
    void start();
    void stop();
    std::uint16_t port() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace hl7gw::console
