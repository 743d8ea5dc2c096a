#pragma once

#include "gateway/mapping/code_tables.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::mapping {

namespace detail {
struct TypeMap;
struct ResourceMap;
struct MessageMap;
struct ParsedFile;
struct OutType;
struct OutboundMap;
} // namespace detail

/// Every map, code table and ConceptMap of a mappings directory, parsed, checked against the
/// R4 definitions and the v2 segment tables, and linked (mappings/README.md). Loading either
/// succeeds completely or throws MappingLoadError naming file, line and column, so a loaded set
/// can only fail at run time because of the data. Immutable; shared by every thread; a reload
/// builds a new set.
class MapSet {
  public:
    /// Loads DIR/v2-to-fhir/**/*.map, DIR/fhir-to-v2/**/*.map, DIR/tables/*.tsv and
    /// DIR/conceptmaps/*.json, plus any `extraFiles` (.map files named on a command line).
    static std::shared_ptr<const MapSet> load(const std::string& mappingsDir,
                                              const std::vector<std::string>& extraFiles = {});

    /// The message map for a message type: `CODE^EVENT` first, then `CODE`; nullptr when none.
    const detail::MessageMap* messageMapFor(std::string_view code, std::string_view event) const;
    const detail::MessageMap* messageMap(std::string_view name) const;
    const detail::ResourceMap* resourceMap(std::string_view name) const;
    const CodeTables& tables() const { return tables_; }
    /// The type map from a v2 data type to a FHIR type; nullptr when none.
    const detail::TypeMap* typeMap(std::string_view v2Type, std::string_view fhirType) const;
    /// FHIR -> v2: the outbound map by name, and the one for a resource type (nullptr when
    /// there is none; the first by name when several serve the type).
    const detail::OutboundMap* outboundMap(std::string_view name) const;
    const detail::OutboundMap* outboundMapFor(std::string_view resourceType) const;
    const detail::OutType* outType(std::string_view fhirType, std::string_view v2Type) const;

    /// Checks that every map and table a dialect names exists; throws MappingLoadError naming
    /// the dialect file and the key. Run it for each dialect after loading both.
    void check(const struct Dialect& dialect) const;

    /// "adt for ADT^A01 ADT^A04 ...", one per message map, for listings.
    std::vector<std::string> describeMessageMaps() const;
    std::size_t fileCount() const { return files_.size(); }

    MapSet();
    ~MapSet();
    MapSet(const MapSet&) = delete;
    MapSet& operator=(const MapSet&) = delete;

  private:
    void resolve();

    CodeTables tables_;
    std::vector<std::unique_ptr<detail::ParsedFile>> files_;
    std::map<std::string, const detail::ResourceMap*, std::less<>> resources_;
    std::map<std::string, const detail::MessageMap*, std::less<>> messages_;
    std::map<std::string, const detail::MessageMap*, std::less<>> byTrigger_;
    std::multimap<std::string, const detail::TypeMap*, std::less<>> types_; // "CX>Identifier"
    std::map<std::string, const detail::OutType*, std::less<>> outTypes_;   // "Identifier>CX"
    std::map<std::string, const detail::OutboundMap*, std::less<>> outbounds_;
    std::map<std::string, const detail::OutboundMap*, std::less<>> outboundByType_;
    friend class MapResolver;
    friend class OutboundResolver;
};

} // namespace hl7gw::mapping
