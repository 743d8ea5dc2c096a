#include "gateway/routing/stage_registry.h"

#include "gateway/routing/destinations.h"
#include "gateway/routing/fhir_feed.h"
#include "gateway/routing/fhir_store_destination.h"
#include "gateway/routing/filters.h"
#include "gateway/routing/mapping_transform.h"
#include "gateway/routing/suspension_destination.h"

namespace hl7gw::routing {

namespace {

template <typename Map> std::string known(const Map& map)
{
    std::string names;
    for (const auto& [name, factory] : map) {
        names += names.empty() ? "" : ", ";
        names += name;
    }
    return names.empty() ? "(none yet)" : names;
}

template <typename Map> auto make(const Map& map, core::ConfigReader& config, const char* what)
{
    const std::string type = config.requiredString("type");
    const auto it = map.find(type);
    if (it == map.end()) {
        config.fail("type",
                    std::string("unknown ") + what + " type '" + type + "'; known: " + known(map));
    }
    return it->second(config);
}

} // namespace

const StageRegistry& StageRegistry::builtin()
{
    static const StageRegistry registry = builtin(StageEnvironment{});
    return registry;
}

StageRegistry StageRegistry::builtin(const StageEnvironment& environment)
{
    StageRegistry r;
    r.addFilter("message_type", makeMessageTypeFilter);
    r.addFilter("sender", makeSenderFilter);
    r.addFilter("path", makePathFilter);
    r.addTransform("mapping", [base = environment.baseDirectory,
                               maps = environment.maps](core::ConfigReader& config) {
        return makeMappingTransform(config, base, maps.get());
    });
    r.addDestination("mllp", makeMllpDestination);
    r.addDestination("http", makeHttpDestination);
    r.addDestination("file", makeFileDestination);
    r.addDestination("fhir_store", [link = environment.fhirStore](core::ConfigReader& config) {
        return makeFhirStoreDestination(config, link);
    });
    r.addDestination("schedule_suspension",
                     [link = environment.fhirStore](core::ConfigReader& config) {
                         return makeSuspensionDestination(config, link);
                     });
    r.fhirFeed_ = [base = environment.baseDirectory,
                   maps = environment.maps](core::ConfigReader& config) {
        return routing::makeFhirFeed(config, base, maps.get());
    };
    return r;
}

void StageRegistry::addFilter(const std::string& type, FilterFactory factory)
{
    filters_[type] = std::move(factory);
}

void StageRegistry::addTransform(const std::string& type, TransformFactory factory)
{
    transforms_[type] = std::move(factory);
}

void StageRegistry::addDestination(const std::string& type, DestinationFactory factory)
{
    destinations_[type] = std::move(factory);
}

std::shared_ptr<const FhirFeed> StageRegistry::makeFhirFeed(core::ConfigReader& config) const
{
    if (fhirFeed_) {
        return fhirFeed_(config);
    }
    return routing::makeFhirFeed(config, {}, nullptr);
}

FilterPtr StageRegistry::makeFilter(core::ConfigReader& config) const
{
    return make(filters_, config, "filter");
}

TransformPtr StageRegistry::makeTransform(core::ConfigReader& config) const
{
    return make(transforms_, config, "transform");
}

DestinationKindPtr StageRegistry::makeDestination(core::ConfigReader& config) const
{
    return make(destinations_, config, "destination");
}

} // namespace hl7gw::routing
