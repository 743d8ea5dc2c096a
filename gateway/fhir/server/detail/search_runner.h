#pragma once

#include "gateway/fhir/search/index_extractor.h"
#include "gateway/fhir/search/search_query.h"
#include "gateway/store/resource_store.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hl7gw::fhir::server {

/// What one page of a search found.
struct SearchPage {
    std::vector<store::StoredResource> matches;
    std::vector<store::StoredResource> included; // _include and _revinclude, without repeats
    std::optional<std::int64_t> total;           // when asked for, or known for free
    std::optional<std::string> nextCursor;       // more matches follow
};

/// Runs parsed searches against the resource store with the SQL of fhir/search, and converts
/// index rows for writes. Thread-safe.
class SearchRunner {
  public:
    explicit SearchRunner(store::ResourceStore& store);

    /// Creates the index tables (once, at start).
    void ensureSchema();

    SearchPage run(const search::SearchQuery& query);
    /// The current, not deleted resources matching the query's criteria, at most `limit`
    /// (conditional create, update and references ask for 2 to tell one from many).
    std::vector<store::StoredResource> match(const search::SearchQuery& query, std::size_t limit);
    /// True when a current resource other than a deleted one refers to type/id.
    bool isReferenced(const std::string& type, const std::string& id);

    /// The index rows of a resource, in the store's terms.
    std::vector<store::IndexRows> indexRows(const rapidjson::Value& resource,
                                            const search::ExtractOptions& options) const;

  private:
    store::ResourceStore& store_;
};

} // namespace hl7gw::fhir::server
