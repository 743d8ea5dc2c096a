#pragma once

#include "gateway/fhir/server/fhir_server.h"

#include <rapidjson/document.h>

#include <string>

namespace hl7gw::booking {

/// The answer of one in-process FHIR call: status, ETag version and the body as JSON (null
/// when empty or not JSON).
struct FhirReply {
    int status = 0;
    std::string version; // from the ETag, "3"; empty when none
    rapidjson::Document body;
    bool ok() const { return status >= 200 && status < 300; }
};

/// Booking talks to the FHIR server in-process, as a client would over HTTP, so every write
/// passes the same validation, version checks, Slot holds and outbox as any other.
class FhirCalls {
  public:
    explicit FhirCalls(fhir::FhirServer& server) : server_(server) {}

    /// `path` is relative to the base: "Slot/12", "Slot?schedule=Schedule/1&status=free".
    FhirReply get(const std::string& path) const;
    /// POST of a transaction (or batch) Bundle to the base.
    FhirReply transaction(const rapidjson::Value& bundle) const;
    /// Any method; `body` JSON text; `ifMatch` the version ("3") or empty.
    FhirReply call(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& ifMatch = {}) const;

  private:
    fhir::FhirServer& server_;
};

} // namespace hl7gw::booking
