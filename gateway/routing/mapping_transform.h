#pragma once

#include "gateway/core/config_reader.h"
#include "gateway/routing/stage.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace hl7gw::mapping {
class MapSet;
struct Dialect;
} // namespace hl7gw::mapping

namespace hl7gw::routing {

/// The maps one configuration load has read, by directory, so that channels naming the same
/// mappings directory share one MapSet (a load reads each directory once; a reload reads it
/// again). Thread-safe.
class MapSetCache {
  public:
    /// The set of `directory` (an absolute or working-directory path); loads it on first use.
    /// Throws mapping::MappingLoadError.
    std::shared_ptr<const mapping::MapSet> get(const std::string& directory);

  private:
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<const mapping::MapSet>> sets_;
};

/// The maps and dialect a stage names: `mappings_dir` (default `mappings`), `dialect` (an
/// `adapters/*/dialect.json` by name; default the standard dialect) and `adapters_dir`
/// (default `adapters`), relative directories from `baseDirectory`. Reads those keys only;
/// throws core::ConfigError naming the key for a map that does not load, an unknown dialect,
/// or a dialect choosing a map the directory lacks.
struct LoadedMaps {
    std::shared_ptr<const mapping::MapSet> maps;
    std::shared_ptr<const mapping::Dialect> dialect;
    std::string mappingsDir; // resolved, for messages
};
LoadedMaps loadMaps(core::ConfigReader& config, const std::string& baseDirectory,
                    MapSetCache* cache);

/// `transform.mapping`: {"type": "mapping", "mapping": "adt", "dialect": "his",
/// "mappings_dir": "mappings", "adapters_dir": "adapters"}. Maps the inbound HL7 v2 message
/// to a FHIR R4 transaction Bundle (mappings/README.md) and makes the Bundle's JSON the
/// payload. `mapping` forces one message map (default: the dialect's `maps`, then the map
/// for MSH-9); `dialect` names an `adapters/*/dialect.json` (default: the standard dialect).
/// Relative directories are taken from `baseDirectory` (the configuration file's folder;
/// empty = the working directory). The maps are loaded here, so a reload reads fixed maps;
/// a map that cannot load, an unknown map or dialect name is a ConfigError naming the path.
/// At run time a message the map cannot handle fails the stage with the mapping's issues
/// (map file and line, v2 position): the message is kept as `error` for replay.
TransformPtr makeMappingTransform(core::ConfigReader& config, const std::string& baseDirectory,
                                  MapSetCache* cache = nullptr);

} // namespace hl7gw::routing
