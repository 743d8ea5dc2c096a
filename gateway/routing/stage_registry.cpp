#include "gateway/routing/stage_registry.h"

#include "gateway/routing/destinations.h"
#include "gateway/routing/filters.h"

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
    static const StageRegistry registry = [] {
        StageRegistry r;
        r.addFilter("message_type", makeMessageTypeFilter);
        r.addFilter("sender", makeSenderFilter);
        r.addFilter("path", makePathFilter);
        r.addDestination("mllp", makeMllpDestination);
        r.addDestination("http", makeHttpDestination);
        r.addDestination("file", makeFileDestination);
        // Transforms: the mapping engine registers "mapping" here (mapping issue).
        return r;
    }();
    return registry;
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
