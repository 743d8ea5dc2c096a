#pragma once

#include "gateway/core/config_reader.h"
#include "gateway/routing/stage.h"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace hl7gw::routing {

class FhirFeed;

class FhirStoreLink;
class MapSetCache;

/// What the factories of one configuration load need besides their JSON.
struct StageEnvironment {
    /// Relative paths in stage configuration (`mappings_dir`, `adapters_dir`) are taken from
    /// here: the configuration file's folder, as for channel files. Empty: the working
    /// directory.
    std::string baseDirectory;
    /// The gateway's own FHIR server for `destination.fhir_store`; null when it is disabled
    /// (a `fhir_store` destination is then a ConfigError).
    std::shared_ptr<const FhirStoreLink> fhirStore;
    /// Shares one MapSet per mappings directory among the channels of this load; null: each
    /// transform loads its own.
    std::shared_ptr<MapSetCache> maps;
};

/// The named factories that turn a stage's configuration object into the stage (STYLE.md
/// §1.6): `filter.message_type`, `filter.sender`, `filter.path`, `transform.mapping`,
/// `destination.mllp`, `destination.http`, `destination.file`, `destination.fhir_store`,
/// `destination.schedule_suspension`. A factory
/// reads its keys from the ConfigReader (which rejects unknown ones) and throws core::ConfigError
/// naming the path for bad values. Adding a stage means one registration in stage_registry.cpp.
class StageRegistry {
  public:
    using FilterFactory = std::function<FilterPtr(core::ConfigReader&)>;
    using TransformFactory = std::function<TransformPtr(core::ConfigReader&)>;
    using DestinationFactory = std::function<DestinationKindPtr(core::ConfigReader&)>;
    using FhirFeedFactory = std::function<std::shared_ptr<const FhirFeed>(core::ConfigReader&)>;

    /// The registry with every built-in stage, for the default environment (paths from the
    /// working directory, no FHIR server: `fhir_store` is refused).
    static const StageRegistry& builtin();
    /// Every built-in stage, for one configuration load: what `serve` uses.
    static StageRegistry builtin(const StageEnvironment& environment);

    void addFilter(const std::string& type, FilterFactory factory);
    void addTransform(const std::string& type, TransformFactory factory);
    void addDestination(const std::string& type, DestinationFactory factory);

    /// Reads the object's "type" and builds the stage; an unknown type is a ConfigError
    /// listing the known ones.
    FilterPtr makeFilter(core::ConfigReader& config) const;
    TransformPtr makeTransform(core::ConfigReader& config) const;
    DestinationKindPtr makeDestination(core::ConfigReader& config) const;
    /// A channel's `fhir` source (fhir_feed.h), with this load's paths and map cache.
    std::shared_ptr<const FhirFeed> makeFhirFeed(core::ConfigReader& config) const;

  private:
    std::map<std::string, FilterFactory> filters_;
    std::map<std::string, TransformFactory> transforms_;
    std::map<std::string, DestinationFactory> destinations_;
    FhirFeedFactory fhirFeed_;
};

} // namespace hl7gw::routing
