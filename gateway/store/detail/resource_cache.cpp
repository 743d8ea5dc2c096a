#include "gateway/store/detail/resource_cache.h"

namespace hl7gw::store::detail {

std::string ResourceCache::keyOf(const std::string& type, const std::string& id)
{
    std::string key;
    key.reserve(type.size() + id.size() + 1);
    key += type;
    key += '/';
    key += id;
    return key;
}

std::optional<StoredResource> ResourceCache::find(const std::string& type, const std::string& id)
{
    std::shared_ptr<const StoredResource> found;
    {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(keyOf(type, id));
        if (it == entries_.end()) {
            return std::nullopt;
        }
        ages_.splice(ages_.begin(), ages_, it->second.age);
        found = it->second.resource;
    }
    // Copied outside the lock: the entry itself is never changed, only replaced.
    return *found;
}

std::uint64_t ResourceCache::epoch() const
{
    std::lock_guard lock(mutex_);
    return epoch_;
}

void ResourceCache::fill(const StoredResource& resource, std::uint64_t epochBefore)
{
    auto copy = std::make_shared<const StoredResource>(resource);
    std::lock_guard lock(mutex_);
    if (epochBefore != epoch_ || capacity_ == 0) {
        return;
    }
    std::string key = keyOf(resource.type, resource.id);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        it->second.resource = std::move(copy);
        ages_.splice(ages_.begin(), ages_, it->second.age);
        return;
    }
    if (entries_.size() >= capacity_) {
        entries_.erase(ages_.back());
        ages_.pop_back();
    }
    ages_.push_front(key);
    entries_.emplace(std::move(key), Entry{std::move(copy), ages_.begin()});
}

void ResourceCache::forget(const std::string& type, const std::string& id)
{
    std::lock_guard lock(mutex_);
    ++epoch_;
    auto it = entries_.find(keyOf(type, id));
    if (it != entries_.end()) {
        ages_.erase(it->second.age);
        entries_.erase(it);
    }
}

} // namespace hl7gw::store::detail
