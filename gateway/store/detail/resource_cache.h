#pragma once

#include "gateway/store/resource_store.h"

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace hl7gw::store::detail {

/// The current versions of recently read resources, so that a read by id needs no database
/// round trip. Only for a store no other process writes resources to (SQLite): the writer
/// forgets every key it changes, and nothing else could tell this cache about a change.
///
/// A read that raced with a write must not put the old version back after the writer forgot
/// it: fill() takes the epoch the caller saw before reading the database, and is ignored
/// when any write forgot something since. Thread-safe.
class ResourceCache {
  public:
    explicit ResourceCache(std::size_t capacity) : capacity_(capacity) {}

    std::optional<StoredResource> find(const std::string& type, const std::string& id);
    /// Read this before reading the database for a miss; hand it to fill().
    std::uint64_t epoch() const;
    void fill(const StoredResource& resource, std::uint64_t epochBefore);
    void forget(const std::string& type, const std::string& id);

  private:
    struct Entry {
        std::shared_ptr<const StoredResource> resource;
        std::list<std::string>::iterator age;
    };

    static std::string keyOf(const std::string& type, const std::string& id);

    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::uint64_t epoch_ = 0;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> ages_; // most recently used first
};

} // namespace hl7gw::store::detail
