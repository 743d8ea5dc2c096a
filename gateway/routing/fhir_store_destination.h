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

/// `destination.fhir_store`: {"type": "fhir_store", "at_receipt": false}: POSTs the payload,
/// a FHIR transaction (or batch) Bundle in JSON such as the `mapping` transform makes, to the
/// in-process FHIR server's base, as if it came over HTTP (same validation, same store
/// transaction). 2xx is Delivered (the response keeps the status and the entries'
/// locations); 4xx is Reject with the OperationOutcome's text (a 409/412 race is Retry, a
/// Slot another appointment holds, fhir::SlotTaken, is Reject); 5xx (and a server not bound
/// yet) is Retry. `link` null means the FHIR server is disabled: a ConfigError.
/// `at_receipt` true: the receiver applies the entry itself before it answers
/// (DestinationKind::applyAtReceipt): 2xx AA; SlotTaken AE 205 `SLOT_TAKEN` 号源已被占用;
/// other 4xx AE (404/410 204, else 207, ERR-5 `FHIR_<status>`, ERR-3.2 the outcome's text); a
/// race lost three times in a row AR 206; 5xx or not running AR 207.
DestinationKindPtr makeFhirStoreDestination(core::ConfigReader& config,
                                            std::shared_ptr<const FhirStoreLink> link);

} // namespace hl7gw::routing
