#pragma once

#include "gateway/core/config_reader.h"
#include "gateway/routing/stage.h"

#include <atomic>
#include <memory>

namespace hl7gw::fhir {
class FhirServer;
}

namespace hl7gw::routing {

/// The gateway's own FHIR server, as the `fhir_store` destinations of one configuration see
/// it. The channels are built before the server exists (it needs the store, which is opened
/// after the configuration is read), so the configuration makes the link and `serve` binds
/// the server to it once it runs. Thread-safe.
class FhirStoreLink {
  public:
    /// `server` must outlive every sender that may still use it (unbind with nullptr first).
    void bind(fhir::FhirServer* server) { server_.store(server, std::memory_order_release); }
    fhir::FhirServer* server() const { return server_.load(std::memory_order_acquire); }

  private:
    std::atomic<fhir::FhirServer*> server_{nullptr};
};

/// `destination.fhir_store`: {"type": "fhir_store"} (no keys of its own): POSTs the payload,
/// a FHIR transaction (or batch) Bundle in JSON such as the `mapping` transform makes, to the
/// in-process FHIR server's base, as if it came over HTTP (same validation, same store
/// transaction). 2xx is Delivered (the response keeps the status and the entries'
/// locations); 4xx is Reject with the OperationOutcome's text; 5xx (and a server not bound
/// yet) is Retry. `link` null means the FHIR server is disabled: a ConfigError.
DestinationKindPtr makeFhirStoreDestination(core::ConfigReader& config,
                                            std::shared_ptr<const FhirStoreLink> link);

} // namespace hl7gw::routing
