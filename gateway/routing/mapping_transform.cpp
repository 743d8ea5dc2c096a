#include "gateway/routing/mapping_transform.h"

#include "gateway/fhir/model/json_io.h"
#include "gateway/mapping/dialect.h"
#include "gateway/mapping/map_set.h"
#include "gateway/mapping/mapping_error.h"
#include "gateway/mapping/v2_to_fhir.h"

#include <filesystem>
#include <vector>

namespace hl7gw::routing {

namespace fs = std::filesystem;

std::shared_ptr<const mapping::MapSet> MapSetCache::get(const std::string& directory)
{
    std::lock_guard lock(mutex_);
    std::shared_ptr<const mapping::MapSet>& set = sets_[directory];
    if (!set) {
        set = mapping::MapSet::load(directory);
    }
    return set;
}

namespace {

// A configured directory: absolute as it is, relative from the configuration file's folder.
std::string resolve(const std::string& baseDirectory, const std::string& directory)
{
    const fs::path path(directory);
    if (path.is_absolute() || baseDirectory.empty()) {
        return path.lexically_normal().string();
    }
    return (fs::path(baseDirectory) / path).lexically_normal().string();
}

std::string requireDirectory(core::ConfigReader& config, const char* key,
                             const std::string& baseDirectory, const std::string& fallback)
{
    const std::string value = config.string(key, fallback);
    if (value.empty()) {
        config.fail(key, "must not be empty");
    }
    const std::string path = resolve(baseDirectory, value);
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
        config.fail(key, "no such directory: " + path);
    }
    return path;
}

class MappingTransform final : public Transform {
  public:
    MappingTransform(std::shared_ptr<const mapping::MapSet> maps,
                     std::shared_ptr<const mapping::Dialect> dialect,
                     const mapping::detail::MessageMap* forced)
        : maps_(std::move(maps)), dialect_(std::move(dialect)), forced_(forced)
    {
    }

    StageStatus apply(StageContext& context) const override
    {
        Lease engine(*this);
        rapidjson::Document bundle;
        bool mapped = false;
        try {
            mapped = engine->map(context.message, bundle, context.issues, forced_);
        } catch (const std::exception& e) {
            context.issues.add(core::Severity::Error, "207", {},
                               std::string("the mapping stopped: ") + e.what());
            return StageStatus::Failed;
        }
        if (!mapped) {
            if (!context.issues.hasErrors()) {
                context.issues.add(core::Severity::Error, "207", {},
                                   "the message could not be mapped");
            }
            return StageStatus::Failed;
        }
        context.payload = fhir::writeJson(bundle);
        return StageStatus::Continue;
    }

  private:
    // V2ToFhir keeps scratch memory and is not thread-safe: each apply() borrows one from
    // the pool (or makes one) and gives it back, so there are at most as many as threads
    // that ever mapped at once, and they go with the stage (a reload frees the old maps).
    class Lease {
      public:
        explicit Lease(const MappingTransform& owner) : owner_(owner)
        {
            {
                std::lock_guard lock(owner_.poolMutex_);
                if (!owner_.pool_.empty()) {
                    engine_ = std::move(owner_.pool_.back());
                    owner_.pool_.pop_back();
                }
            }
            if (!engine_) {
                engine_ = std::make_unique<mapping::V2ToFhir>(owner_.maps_, *owner_.dialect_);
            }
        }
        ~Lease()
        {
            std::lock_guard lock(owner_.poolMutex_);
            owner_.pool_.push_back(std::move(engine_));
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        mapping::V2ToFhir* operator->() const { return engine_.get(); }

      private:
        const MappingTransform& owner_;
        std::unique_ptr<mapping::V2ToFhir> engine_;
    };

    const std::shared_ptr<const mapping::MapSet> maps_;
    const std::shared_ptr<const mapping::Dialect> dialect_;
    const mapping::detail::MessageMap* const forced_; // into *maps_; null = by message type
    mutable std::mutex poolMutex_;
    mutable std::vector<std::unique_ptr<mapping::V2ToFhir>> pool_;
};

} // namespace

LoadedMaps loadMaps(core::ConfigReader& config, const std::string& baseDirectory,
                    MapSetCache* cache)
{
    const std::string mappingsDir =
        requireDirectory(config, "mappings_dir", baseDirectory, "mappings");
    const std::string dialectName = config.string("dialect", {});
    // Read even when no dialect is named, so that the key is known (and checked when given).
    const bool adaptersGiven = config.has("adapters_dir");
    const std::string adaptersValue = config.string("adapters_dir", "adapters");

    std::shared_ptr<const mapping::MapSet> maps;
    try {
        maps = cache != nullptr ? cache->get(mappingsDir) : mapping::MapSet::load(mappingsDir);
    } catch (const mapping::MappingLoadError& e) {
        config.fail("mappings_dir", std::string("the maps do not load: ") + e.what());
    } catch (const std::exception& e) {
        config.fail("mappings_dir", "cannot read " + mappingsDir + ": " + e.what());
    }

    std::shared_ptr<const mapping::Dialect> dialect(std::shared_ptr<const mapping::Dialect>{},
                                                    &mapping::Dialect::standard());
    if (!dialectName.empty()) {
        const std::string adaptersDir =
            requireDirectory(config, "adapters_dir", baseDirectory, adaptersValue);
        std::map<std::string, mapping::Dialect> dialects;
        try {
            dialects = mapping::Dialect::loadDirectory(adaptersDir);
        } catch (const mapping::MappingLoadError& e) {
            config.fail("adapters_dir", std::string("the dialects do not load: ") + e.what());
        } catch (const std::exception& e) {
            config.fail("adapters_dir", "cannot read " + adaptersDir + ": " + e.what());
        }
        const auto it = dialects.find(dialectName);
        if (it == dialects.end()) {
            std::string known;
            for (const auto& [name, d] : dialects) {
                known += (known.empty() ? "" : ", ") + name;
            }
            config.fail("dialect", "no dialect '" + dialectName + "' in " + adaptersDir +
                                       " (known: " + (known.empty() ? "none" : known) + ")");
        }
        dialect = std::make_shared<const mapping::Dialect>(std::move(it->second));
        // The dialect's own map choices must exist, or a message would fail for the config.
        for (const auto& [type, name] : dialect->outbound) {
            if (maps->outboundMap(name) == nullptr) {
                config.fail("dialect", "dialect '" + dialectName + "' sends " + type +
                                           " with outbound map '" + name + "', which " +
                                           mappingsDir + " does not define");
            }
        }
        for (const auto& [type, name] : dialect->maps) {
            if (maps->messageMap(name) == nullptr) {
                config.fail("dialect", "dialect '" + dialectName + "' maps " + type +
                                           " to message map '" + name + "', which " + mappingsDir +
                                           " does not define");
            }
        }
    } else if (adaptersGiven) {
        requireDirectory(config, "adapters_dir", baseDirectory, adaptersValue);
    }
    return {std::move(maps), std::move(dialect), mappingsDir};
}

TransformPtr makeMappingTransform(core::ConfigReader& config, const std::string& baseDirectory,
                                  MapSetCache* cache)
{
    const std::string mappingName = config.string("mapping", {});
    LoadedMaps loaded = loadMaps(config, baseDirectory, cache);
    const std::shared_ptr<const mapping::MapSet>& maps = loaded.maps;
    const std::string& mappingsDir = loaded.mappingsDir;
    if (maps->describeMessageMaps().empty()) {
        config.fail("mappings_dir",
                    "no message maps in " + mappingsDir + " (expected v2-to-fhir/messages/*.map)");
    }

    const mapping::detail::MessageMap* forced = nullptr;
    if (!mappingName.empty()) {
        forced = maps->messageMap(mappingName);
        if (forced == nullptr) {
            std::string known;
            for (const std::string& d : maps->describeMessageMaps()) {
                known += (known.empty() ? "" : ", ") + d.substr(0, d.find(' ')); // "adt for ..."
            }
            config.fail("mapping", "no message map '" + mappingName + "' in " + mappingsDir +
                                       " (known: " + (known.empty() ? "none" : known) + ")");
        }
    }
    return std::make_shared<const MappingTransform>(std::move(loaded.maps),
                                                    std::move(loaded.dialect), forced);
}

} // namespace hl7gw::routing
