#pragma once

#include "gateway/core/issue.h"
#include "gateway/mapping/dialect.h"
#include "gateway/mapping/map_set.h"

#include <rapidjson/document.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace hl7gw::mapping {

namespace detail {
struct OutboundMap;
}

/// Runs FHIR -> v2 maps (`outbound` blocks, mappings/README.md): one FHIR resource, with the
/// resources it refers to, becomes one ER7 message in the dialect's version and charset.
/// Holds no per-message state between calls; one instance per thread (it keeps a charset
/// converter). The MapSet and Dialect must outlive it.
class FhirToV2 {
  public:
    /// Finds a referenced resource (`Patient/12`, `urn:uuid:...`); nullptr when unknown. The
    /// input Bundle's entries are searched first.
    using Resolver = std::function<const rapidjson::Value*(std::string_view reference)>;

    struct Options {
        const detail::OutboundMap* forced = nullptr; // else by the focus's resourceType
        Resolver resolver;                           // beyond the input Bundle
        /// MSH-7 when the resource has no meta.lastUpdated (FHIR instant); "" = now.
        std::string now;
    };

    FhirToV2(std::shared_ptr<const MapSet> maps, const Dialect& dialect);
    ~FhirToV2();

    /// `input` is a resource or a Bundle; for a Bundle the focus is the first entry an outbound
    /// map exists for (or the forced map's type). Appends the message (segments ended by CR) to
    /// `er7`. Returns false with Error issues (FHIRPath location, map file:line) when no map
    /// applies or a value cannot be written.
    bool map(const rapidjson::Value& input, std::string& er7, core::IssueList& issues,
             const Options& options);

  private:
    std::shared_ptr<const MapSet> maps_;
    const Dialect& dialect_;
};

} // namespace hl7gw::mapping
