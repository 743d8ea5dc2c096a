#pragma once

#include "gateway/core/config_reader.h"
#include "gateway/routing/stage.h"

#include <functional>
#include <map>
#include <string>

namespace hl7gw::routing {

/// The named factories that turn a stage's configuration object into the stage (STYLE.md
/// §1.6): `filter.message_type`, `filter.sender`, `filter.path`, `destination.mllp`,
/// `destination.http`, `destination.file`. A factory reads its keys from the ConfigReader
/// (which rejects unknown ones) and throws core::ConfigError naming the path for bad values.
/// Adding a stage means one registration in stage_registry.cpp.
class StageRegistry {
  public:
    using FilterFactory = std::function<FilterPtr(core::ConfigReader&)>;
    using TransformFactory = std::function<TransformPtr(core::ConfigReader&)>;
    using DestinationFactory = std::function<DestinationKindPtr(core::ConfigReader&)>;

    /// The registry with every built-in stage.
    static const StageRegistry& builtin();

    void addFilter(const std::string& type, FilterFactory factory);
    void addTransform(const std::string& type, TransformFactory factory);
    void addDestination(const std::string& type, DestinationFactory factory);

    /// Reads the object's "type" and builds the stage; an unknown type is a ConfigError
    /// listing the known ones.
    FilterPtr makeFilter(core::ConfigReader& config) const;
    TransformPtr makeTransform(core::ConfigReader& config) const;
    DestinationKindPtr makeDestination(core::ConfigReader& config) const;

  private:
    std::map<std::string, FilterFactory> filters_;
    std::map<std::string, TransformFactory> transforms_;
    std::map<std::string, DestinationFactory> destinations_;
};

} // namespace hl7gw::routing
