#include "gateway/mapping/detail/message_scopes.h"

#include "gateway/hl7v2/structure_table.h"

#include <algorithm>
#include <map>
#include <string>

namespace hl7gw::mapping::detail {
namespace {

using hl7v2::StructureNode;

/// Whether a group (or segment) can start with segment `id`: its first segments up to and
/// including the first required one.
bool canStart(const StructureNode& node, std::string_view id)
{
    if (node.kind == StructureNode::Kind::Segment)
        return node.name == id;
    for (const StructureNode& child : node.children) {
        if (canStart(child, id))
            return true;
        if (child.required)
            return false;
    }
    return false;
}

class Matcher {
  public:
    Matcher(const hl7v2::Message& message, std::vector<GroupInstance>& out)
        : out_(out), count_(message.segmentCount())
    {
        const hl7v2::StructureTable& table = hl7v2::StructureTable::builtin();
        ids_.reserve(count_);
        floating_.reserve(count_);
        for (std::size_t i = 0; i < count_; ++i) {
            std::string_view id = message.segment(i).id();
            ids_.push_back(id);
            floating_.push_back(!id.empty() && (id[0] == 'Z' || table.segment(id) == nullptr));
        }
    }

    std::string_view id(std::size_t i) const { return ids_[i]; }

    /// Matches `nodes` (a group's children, `repeating` when the group may repeat) in order
    /// from `pos`; returns the position after the last segment taken.
    std::size_t sequence(const std::vector<StructureNode>& nodes, std::size_t pos,
                         bool repeating = false)
    {
        restarts_.push_back(!repeating || nodes.empty() ||
                                    nodes.front().kind != StructureNode::Kind::Segment
                                ? std::string_view()
                                : std::string_view(nodes.front().name));
        std::size_t after = sequenceIn(nodes, pos);
        restarts_.pop_back();
        return after;
    }

  private:
    /// The first segment of an enclosing group starts that group again rather than an
    /// optional group nested in it through a later segment: the second ORC of an OMG^O19 is
    /// the next ORDER, not a PRIOR_RESULT's ORDER_PRIOR of the first.
    bool restartsEnclosing(const StructureNode& group, std::string_view segment) const
    {
        if (group.required || group.children.empty() ||
            (group.children.front().kind == StructureNode::Kind::Segment &&
             group.children.front().name == segment))
            return false;
        return std::find(restarts_.begin(), restarts_.end(), segment) != restarts_.end();
    }

    std::size_t sequenceIn(const std::vector<StructureNode>& nodes, std::size_t pos)
    {
        for (const StructureNode& node : nodes) {
            bool taken = false;
            while (pos < count_) {
                pos = skipZ(pos);
                if (pos >= count_)
                    break;
                if (taken && !node.repeating)
                    break;
                if (node.kind == StructureNode::Kind::Segment) {
                    if (id(pos) != node.name)
                        break;
                    ++pos;
                } else {
                    if (!canStart(node, id(pos)) || restartsEnclosing(node, id(pos)))
                        break;
                    std::size_t slot = out_.size();
                    out_.push_back({node.name, static_cast<std::uint32_t>(pos), 0});
                    std::size_t after = sequence(node.children, pos, node.repeating);
                    if (after == pos) {
                        out_.resize(slot);
                        break;
                    }
                    out_[slot].end = static_cast<std::uint32_t>(after);
                    pos = after;
                }
                taken = true;
            }
        }
        return pos;
    }

    /// Z-segments, and segments of later versions the table does not define (PRT, CDO in
    /// v2.8 messages), stay in the group that is open instead of ending it.
    std::size_t skipZ(std::size_t pos) const
    {
        while (pos < count_ && floating_[pos])
            ++pos;
        return pos;
    }

    std::vector<GroupInstance>& out_;
    std::vector<std::string_view> ids_;
    std::vector<bool> floating_;             // Z-segments and segments the table does not define
    std::vector<std::string_view> restarts_; // first segment of each group being matched
    std::size_t count_;
};

} // namespace

namespace {

const hl7v2::MessageStructure* findStructure(const hl7v2::Message& message)
{
    const hl7v2::StructureTable& table = hl7v2::StructureTable::builtin();
    std::string structureName = table.structureFor(message.messageCode(), message.triggerEvent(),
                                                   message.messageStructure());
    const hl7v2::MessageStructure* structure =
        structureName.empty() ? nullptr : table.structure(structureName);
    if (structure == nullptr) {
        // MSH-9.3 names a structure we do not carry (ADT_A40 for ADT_A39): go by the event.
        structureName = table.structureFor(message.messageCode(), message.triggerEvent(), "");
        structure = structureName.empty() ? nullptr : table.structure(structureName);
    }
    return structure;
}

} // namespace

std::vector<GroupInstance> matchGroups(const hl7v2::Message& message)
{
    std::vector<GroupInstance> groups;
    // A channel sees a handful of message types: the lookup (names normalised, two table
    // searches) is done once per type and thread.
    thread_local std::map<std::string, const hl7v2::MessageStructure*, std::less<>> cache;
    std::string key(message.messageCode());
    key += '^';
    key += message.triggerEvent();
    key += '^';
    key += message.messageStructure();
    auto cached = cache.find(key);
    if (cached == cache.end() && cache.size() >= 256)
        cache.clear(); // the key comes from the message: stay bounded whatever is sent
    if (cached == cache.end())
        cached = cache.emplace(key, findStructure(message)).first;
    const hl7v2::MessageStructure* structure = cached->second;
    if (structure == nullptr)
        return groups;
    Matcher matcher(message, groups);
    std::size_t pos = 0;
    std::size_t count = message.segmentCount();
    while (pos < count) {
        std::size_t after = matcher.sequence(structure->children, pos);
        // Stuck on a segment out of place: it stays in the message scope; go on after it.
        pos = after == pos ? pos + 1 : after;
    }
    return groups;
}

} // namespace hl7gw::mapping::detail
