#include "gateway/mapping/v2_to_fhir.h"

#include "gateway/fhir/model/definitions.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/model/partial_update.h"
#include "gateway/hl7v2/structure_table.h"
#include "gateway/mapping/detail/map_program.h"
#include "gateway/mapping/detail/message_scopes.h"
#include "gateway/mapping/value_conversions.h"

#include <Poco/Base64Encoder.h>
#include <Poco/SHA1Engine.h>
#include <Poco/URI.h>
#include <Poco/UUID.h>
#include <Poco/UUIDGenerator.h>

#include <cctype>
#include <map>
#include <set>
#include <sstream>

namespace hl7gw::mapping {

using detail::Condition;
using detail::Function;
using detail::GroupInstance;
using detail::Materialize;
using detail::MessageMap;
using detail::ResourceMap;
using detail::Source;
using detail::Statement;
using detail::TargetStep;
using detail::TypeMap;
using rapidjson::Value;

namespace detail {

/// Thrown inside one run when the data breaks a rule; the issue is already recorded.
struct RunAborted {};

/// A range of segments the paths of a statement are looked up in, and its parents.
struct Scope {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    const Scope* parent = nullptr;
};

/// Where a value came from in the message, for errors.
struct ValueOrigin {
    std::string_view segment;
    std::uint32_t occurrence = 0, field = 0, repetition = 0, component = 0, subcomponent = 0;
};

/// One value flowing through a statement.
struct Item {
    enum class Kind : std::uint8_t { Element, Text, Code, Reference };
    Kind kind = Kind::Text;
    hl7v2::Element element;
    /// Points into the loaded maps or the codec's data tables, which outlive every run.
    std::string_view v2Type;
    std::string text; // Text; Code: the code; Reference: the full URL
    std::string system, display;
    ValueOrigin origin;
};

struct Binding {
    std::string_view name;
    std::uint32_t begin, end;
    std::string url;
};

/// The state of mapping one message.
class V2Run {
  public:
    V2Run(const MapSet& maps, const Dialect& dialect, hl7v2::TextDecoder& decoder,
          const hl7v2::Message& message, rapidjson::Document& bundle, core::IssueList& issues,
          const MessageMap& map)
        : maps_(maps), dialect_(dialect), decoder_(decoder), message_(message), bundle_(bundle),
          alloc_(bundle.GetAllocator()), issues_(issues), map_(map)
    {
    }

    void run()
    {
        groups_ = matchGroups(message_);
        ids_.reserve(message_.segmentCount());
        for (std::size_t i = 0; i < message_.segmentCount(); ++i)
            ids_.push_back(message_.segment(i).id());
        fields_.resize(message_.segmentCount());
        bundle_.SetObject();
        bundle_.AddMember("resourceType", "Bundle", alloc_);
        Value identifier(rapidjson::kObjectType);
        std::string senderSystem = headerSystem();
        std::string controlId = decodeText(message_.header().field(10));
        if (!senderSystem.empty())
            identifier.AddMember("system", str(senderSystem), alloc_);
        if (!controlId.empty())
            identifier.AddMember("value", str(controlId), alloc_);
        bundle_.AddMember("identifier", identifier, alloc_);
        bundle_.AddMember("type", "transaction", alloc_);
        std::string timestamp;
        std::string error;
        std::string sent = decodeText(message_.header().field(7).component(1));
        if (!sent.empty() && v2ToFhirInstant(sent, dialect_.offsetMinutes, timestamp, error))
            bundle_.AddMember("timestamp", str(timestamp), alloc_);
        bundle_.AddMember("entry", Value(rapidjson::kArrayType), alloc_);
        idSeed_ = senderSystem + "|" + controlId + "|";
        Scope root{0, static_cast<std::uint32_t>(message_.segmentCount()), nullptr};
        runMessageBody(map_.body, root);
    }

  private:
    // ---- message level ----

    void runMessageBody(const std::vector<Statement>& body, const Scope& scope)
    {
        for (const Statement& s : body) {
            if (s.when && !holds(*s.when, scope, nullptr, s))
                continue;
            switch (s.kind) {
            case Statement::Kind::Resource: {
                std::string url = makeResource(*s.resource, scope, nullptr, s);
                if (!url.empty())
                    bindings_.push_back({s.binding, scope.begin, scope.end, std::move(url)});
                break;
            }
            case Statement::Kind::Each:
                runEach(s, scope);
                break;
            case Statement::Kind::Error:
                abort(s, "207", nullptr, s.text);
            default:
                break;
            }
        }
    }

    void runEach(const Statement& s, const Scope& scope)
    {
        if (s.eachGroup) {
            for (const GroupInstance& g : groups_)
                if (g.name == s.name && g.begin >= scope.begin && g.end <= scope.end) {
                    Scope inner{g.begin, g.end, &scope};
                    runMessageBody(s.body, inner);
                }
            return;
        }
        for (std::uint32_t i = scope.begin; i < scope.end; ++i)
            if (ids_[i] == s.name) {
                Scope inner{i, i + 1, &scope};
                runMessageBody(s.body, inner);
            }
    }

    // ---- resources ----

    /// Builds one resource; adds it to the Bundle unless it came out empty. Returns its full
    /// URL ("" when empty).
    std::string makeResource(const ResourceMap& map, const Scope& scope, const Item* current,
                             const Statement& caller)
    {
        if (++depth_ > 16)
            abort(caller, "207", current,
                  "resource maps nest deeper than 16 (a map refers to itself?)");
        Value resource(rapidjson::kObjectType);
        resource.AddMember("resourceType", str(map.resourceType), alloc_);
        // The elements this resource's own statements found sent as `""` (a nested resource
        // keeps its own list).
        Value* outerRoot = root_;
        std::vector<std::string> outerCleared = std::move(cleared_);
        root_ = &resource;
        cleared_.clear();
        runBody(map.body, resource, scope, current);
        std::vector<std::string> cleared = std::move(cleared_);
        root_ = outerRoot;
        cleared_ = std::move(outerCleared);
        --depth_;
        if (resource.MemberCount() <= 1)
            return {};
        std::string keyQuery;
        std::string identity;
        if (!map.key.empty())
            keyQuery = keyOf(resource, map.key, identity);
        if (map.matchOnly) {
            // FHIR R4 transaction: a conditional reference, resolved by the server to the one
            // resource it matches (none or several refuse the Bundle). Without a key value
            // there is nothing to refer to.
            return keyQuery.empty() ? std::string() : map.resourceType + "?" + keyQuery;
        }
        if (!keyQuery.empty()) {
            auto it = keyed_.find(map.resourceType + "|" + identity);
            if (it != keyed_.end())
                return it->second;
        }
        std::string url =
            "urn:uuid:" + uuidFor(keyQuery.empty()
                                      ? map.resourceType + "#" + std::to_string(++ordinal_)
                                      : map.resourceType + "|" + identity);
        if (!keyQuery.empty())
            keyed_.emplace(map.resourceType + "|" + identity, url);
        Value entry(rapidjson::kObjectType);
        entry.AddMember("fullUrl", str(url), alloc_);
        entry.AddMember("resource", resource, alloc_);
        Value request(rapidjson::kObjectType);
        bool update = !keyQuery.empty() && !map.createOnly;
        request.AddMember("method", rapidjson::StringRef(update ? "PUT" : "POST"), alloc_);
        request.AddMember("url", str(update ? map.resourceType + "?" + keyQuery : map.resourceType),
                          alloc_);
        if (!keyQuery.empty() && map.createOnly)
            request.AddMember("ifNoneExist", str(keyQuery), alloc_);
        if (update)
            request.AddMember("extension", partialUpdate(entry["resource"], cleared), alloc_);
        entry.AddMember("request", request, alloc_);
        bundle_["entry"].PushBack(entry, alloc_);
        all_.push_back(url);
        return url;
    }

    /// The request extensions of a keyed PUT (fhir/model/partial_update.h): the server keeps
    /// what the message left empty, and removes what it sent as `""` and nothing set.
    Value partialUpdate(const Value& resource, const std::vector<std::string>& cleared)
    {
        Value list(rapidjson::kArrayType);
        Value merge(rapidjson::kObjectType);
        merge.AddMember("url", rapidjson::StringRef(fhir::MergeExtension), alloc_);
        merge.AddMember("valueBoolean", true, alloc_);
        list.PushBack(merge, alloc_);
        std::set<std::string> seen;
        for (const std::string& name : cleared) {
            if (resource.HasMember(name.c_str()) || !seen.insert(name).second)
                continue;
            Value remove(rapidjson::kObjectType);
            remove.AddMember("url", rapidjson::StringRef(fhir::RemoveExtension), alloc_);
            remove.AddMember("valueString", str(name), alloc_);
            list.PushBack(remove, alloc_);
        }
        return list;
    }

    /// True when the statement reads a v2 field the message sent as `""` (delete the value).
    bool clearedBy(const Source& source, const Scope& scope)
    {
        if (source.kind != Source::Kind::V2Path || source.field == 0)
            return false;
        for (std::uint32_t index : segmentsFor(source, scope))
            if (fieldOf(index, source.field).isNull())
                return true;
        return false;
    }

    /// `identifier=system|value` of the first identifier with a value, escaped for a search URL.
    std::string keyOf(const Value& resource, const std::string& element, std::string& identity)
    {
        auto it = resource.FindMember(element.c_str());
        if (it == resource.MemberEnd() || !it->value.IsArray())
            return {};
        for (const Value& id : it->value.GetArray()) {
            auto value = id.FindMember("value");
            if (value == id.MemberEnd() || !value->value.IsString())
                continue;
            auto system = id.FindMember("system");
            std::string sys = system != id.MemberEnd() && system->value.IsString()
                                  ? system->value.GetString()
                                  : "";
            std::string val = value->value.GetString();
            identity = sys + "|" + val;
            std::string token = escapeSearch(sys) + "|" + escapeSearch(val);
            std::string encoded;
            Poco::URI::encode(token, "&=+#%? ", encoded);
            return element + "=" + encoded;
        }
        return {};
    }

    static std::string escapeSearch(const std::string& text)
    {
        std::string out;
        for (char c : text) {
            if (c == '\\' || c == '|' || c == ',' || c == '$')
                out += '\\';
            out += c;
        }
        return out;
    }

    std::string uuidFor(const std::string& name)
    {
        // RFC 4122 name-based (SHA-1) ids: the same message always gives the same Bundle.
        static const Poco::UUID space("5c8f3d52-3b0e-5f0b-9a53-6c8e1f4b2a10");
        Poco::SHA1Engine sha1;
        return Poco::UUIDGenerator::defaultGenerator()
            .createFromName(space, idSeed_ + name, sha1, Poco::UUID::UUID_NAME_BASED_SHA1)
            .toString();
    }

    // ---- statements on an object ----

    void runBody(const std::vector<Statement>& body, Value& object, const Scope& scope,
                 const Item* current)
    {
        for (const Statement& s : body) {
            if (s.kind == Statement::Kind::Key)
                continue;
            if (s.when && !holds(*s.when, scope, current, s))
                continue;
            switch (s.kind) {
            case Statement::Kind::Assign:
                runAssign(s, object, scope, current);
                break;
            case Statement::Kind::Block:
                runBlock(s, object, scope, current);
                break;
            case Statement::Kind::Error:
                abort(s, "207", current, s.text);
            default:
                break;
            }
        }
    }

    void runBlock(const Statement& s, Value& object, const Scope& scope, const Item* current)
    {
        std::vector<Value> made;
        auto once = [&](const Scope& innerScope, const Item* innerCurrent) {
            Value value(rapidjson::kObjectType);
            runBody(s.body, value, innerScope, innerCurrent);
            if (value.MemberCount() != 0)
                made.push_back(std::move(value));
        };
        if (s.source.kind == Source::Kind::None) {
            once(scope, current);
        } else if (s.source.kind == Source::Kind::V2Path && s.source.field == 0) {
            // `for NK1[*]`: once per segment, its fields read as NK1-2 ...
            for (std::uint32_t i : segmentsFor(s.source, scope)) {
                Scope inner{i, i + 1, &scope};
                once(inner, current);
            }
        } else {
            std::vector<Item> items = evaluate(s.source, scope, current, s);
            for (const Item& item : items)
                once(scope, &item);
        }
        place(s, object, made);
    }

    void runAssign(const Statement& s, Value& object, const Scope& scope, const Item* current)
    {
        std::vector<Item> items = evaluate(s.source, scope, current, s);
        applyFunctions(s, items, scope, current);
        std::vector<Value> made;
        bool single = !s.target.back().many;
        for (const Item& item : items) {
            Value value = materialize(s, item, scope);
            if (value.IsNull() || (value.IsObject() && value.MemberCount() == 0 && s.body.empty()))
                continue;
            if (!s.body.empty()) {
                if (!value.IsObject())
                    value.SetObject();
                runBody(s.body, value, scope, &item);
                if (value.MemberCount() == 0)
                    continue;
            }
            made.push_back(std::move(value));
            if (single)
                break;
        }
        if (made.empty() && &object == root_ && clearedBy(s.source, scope))
            cleared_.push_back(s.target.front().name);
        place(s, object, made);
    }

    /// Puts the values at the statement's target, creating the path only when there is a value.
    void place(const Statement& s, Value& object, std::vector<Value>& values)
    {
        if (values.empty())
            return;
        Value* at = &object;
        for (std::size_t i = 0; i + 1 < s.target.size(); ++i)
            at = &step(*at, s.target[i]);
        const TargetStep& last = s.target.back();
        for (Value& v : values) {
            if (!last.extensionUrl.empty() && v.IsObject() && !v.HasMember("url")) {
                Value withUrl(rapidjson::kObjectType);
                withUrl.AddMember("url", str(last.extensionUrl), alloc_);
                for (auto& m : v.GetObject())
                    withUrl.AddMember(m.name, m.value, alloc_);
                v = std::move(withUrl);
            }
        }
        auto it = at->FindMember(last.name.c_str());
        if (last.many) {
            if (it == at->MemberEnd()) {
                at->AddMember(str(last.name), Value(rapidjson::kArrayType), alloc_);
                it = at->FindMember(last.name.c_str());
            }
            for (Value& v : values)
                it->value.PushBack(v, alloc_);
        } else if (it == at->MemberEnd()) {
            at->AddMember(str(last.name), values.front(), alloc_);
        } else {
            it->value = values.front();
        }
    }

    /// The object at one intermediate step: created once and shared.
    Value& step(Value& at, const TargetStep& s)
    {
        auto it = at.FindMember(s.name.c_str());
        if (it == at.MemberEnd()) {
            at.AddMember(str(s.name),
                         s.many ? Value(rapidjson::kArrayType) : Value(rapidjson::kObjectType),
                         alloc_);
            it = at.FindMember(s.name.c_str());
        }
        if (!s.many)
            return it->value;
        Value& array = it->value;
        if (!s.extensionUrl.empty()) {
            for (Value& e : array.GetArray()) {
                auto url = e.FindMember("url");
                if (url != e.MemberEnd() && url->value.IsString() &&
                    s.extensionUrl == url->value.GetString())
                    return e;
            }
            Value e(rapidjson::kObjectType);
            e.AddMember("url", str(s.extensionUrl), alloc_);
            array.PushBack(e, alloc_);
            return array[array.Size() - 1];
        }
        if (array.Empty())
            array.PushBack(Value(rapidjson::kObjectType), alloc_);
        return array[array.Size() - 1];
    }

    // ---- values ----

    /// Whether segment `i`, seen from a parent scope, belongs to a sibling group instance (a
    /// group inside `parent` that does not hold `from`): such segments are not visible, so
    /// an order without NTE does not read the previous order's NTE.
    bool inSiblingGroup(std::uint32_t i, const Scope& parent, const Scope& from) const
    {
        return inSiblingGroup(i, i + 1, parent, from);
    }

    /// The same for a range (a binding's scope).
    bool inSiblingGroup(std::uint32_t begin, std::uint32_t end, const Scope& parent,
                        const Scope& from) const
    {
        for (const GroupInstance& g : groups_) {
            if (g.begin > begin)
                break;
            if (end > g.end || g.begin < parent.begin || g.end > parent.end)
                continue;
            if (g.begin == parent.begin && g.end == parent.end)
                continue; // the parent itself
            if (g.begin <= from.begin && from.end <= g.end)
                continue; // an ancestor of where we look from
            return true;
        }
        return false;
    }

    std::vector<std::uint32_t> segmentsFor(const Source& source, const Scope& scope) const
    {
        std::vector<std::uint32_t> found;
        for (const Scope* s = &scope; s != nullptr; s = s->parent) {
            int n = 0;
            for (std::uint32_t i = s->begin; i < s->end; ++i) {
                if (ids_[i] != source.text)
                    continue;
                if (s != &scope && inSiblingGroup(i, *s, scope))
                    continue;
                ++n;
                if (source.occurrence == -1 || (source.occurrence == 0 && n == 1) ||
                    source.occurrence == n)
                    found.push_back(i);
                if (source.occurrence != -1 && !found.empty())
                    break;
            }
            if (n > 0)
                return found;
        }
        return found;
    }

    std::vector<Item> evaluate(const Source& source, const Scope& scope, const Item* current,
                               const Statement& s)
    {
        std::vector<Item> items;
        switch (source.kind) {
        case Source::Kind::None:
            break;
        case Source::Kind::Literal: {
            Item item;
            item.text = source.text;
            items.push_back(std::move(item));
            break;
        }
        case Source::Kind::Variable: {
            Item item;
            item.text = variable(source.text);
            if (!item.text.empty())
                items.push_back(std::move(item));
            break;
        }
        case Source::Kind::Binding:
            for (const Scope* sc = &scope; sc != nullptr && items.empty(); sc = sc->parent) {
                if (source.text == "*") {
                    for (const std::string& url : all_)
                        items.push_back(referenceItem(url));
                    break;
                }
                for (const Binding& b : bindings_)
                    if (b.name == source.text && b.begin >= sc->begin && b.end <= sc->end &&
                        (sc == &scope || !inSiblingGroup(b.begin, b.end, *sc, scope)))
                        items.push_back(referenceItem(b.url));
            }
            break;
        case Source::Kind::Relative: {
            if (current == nullptr || current->kind != Item::Kind::Element) {
                if (current != nullptr && source.component <= 1 && source.subcomponent <= 1)
                    items.push_back(*current);
                break;
            }
            Item item = *current;
            // A resource map run on a value does not know its type when it loads; the
            // value does.
            item.v2Type =
                !source.v2Type.empty() || source.component == 0
                    ? (source.v2Type.empty() ? current->v2Type : std::string_view(source.v2Type))
                    : runtimeComponentType(current->v2Type, source.component, source.subcomponent);
            if (source.component != 0) {
                item.element = item.element.child(source.component);
                item.origin.component =
                    current->origin.component == 0 ? source.component : current->origin.component;
                if (current->origin.component != 0)
                    item.origin.subcomponent = source.component;
            }
            if (source.subcomponent != 0) {
                item.element = item.element.child(source.subcomponent);
                item.origin.subcomponent = source.subcomponent;
            }
            if (valued(item.element))
                items.push_back(std::move(item));
            break;
        }
        case Source::Kind::V2Path:
            for (std::uint32_t index : segmentsFor(source, scope)) {
                if (source.field == 0)
                    continue;
                hl7v2::Element field = fieldOf(index, source.field);
                if (!field.present() || field.empty())
                    continue;
                auto add = [&](hl7v2::Element rep, std::uint32_t r) {
                    Item item;
                    item.kind = Item::Kind::Element;
                    item.v2Type = source.v2Type;
                    item.origin = {
                        ids_[index],      static_cast<std::uint32_t>(message_.occurrenceOf(index)),
                        source.field,     r,
                        source.component, source.subcomponent};
                    if (source.component != 0)
                        rep = rep.child(source.component);
                    if (source.subcomponent != 0)
                        rep = rep.child(source.subcomponent);
                    item.element = rep;
                    if (valued(rep))
                        items.push_back(std::move(item));
                };
                if (field.isLiteral()) {
                    add(field, 1);
                } else if (source.repetition != 0) {
                    add(field.child(source.repetition), source.repetition);
                } else {
                    std::size_t n = field.childCount();
                    for (std::size_t r = 1; r <= n; ++r)
                        add(field.child(r), static_cast<std::uint32_t>(r));
                }
            }
            break;
        }
        (void)s;
        return items;
    }

    static std::string_view runtimeComponentType(std::string_view type, std::uint32_t component,
                                                 std::uint32_t subcomponent)
    {
        std::string_view t = type;
        for (std::uint32_t n : {component, subcomponent}) {
            if (n == 0 || t.empty())
                break;
            const hl7v2::DataTypeDefinition* def = hl7v2::StructureTable::builtin().dataType(t);
            if (def == nullptr || def->components.empty())
                t = n == 1 ? t : std::string_view();
            else
                t = n <= def->components.size() ? std::string_view(def->components[n - 1])
                                                : std::string_view();
        }
        return t;
    }

    /// Field `n` of segment `index`: the segment's fields are split once per run, so a map
    /// that reads many fields of a segment does not rescan it for each one.
    hl7v2::Element fieldOf(std::uint32_t index, std::uint32_t n)
    {
        std::vector<hl7v2::Element>& cached = fields_[index];
        if (cached.empty()) {
            hl7v2::SegmentView segment = message_.segment(index);
            cached.reserve(segment.fieldCount() + 1);
            cached.emplace_back(); // field 0
            segment.forEachField(
                [&](std::size_t, const hl7v2::Element& e) { cached.push_back(e); });
        }
        return n < cached.size() ? cached[n] : hl7v2::Element();
    }

    static bool valued(const hl7v2::Element& e) { return e.present() && !e.empty() && !e.isNull(); }

    Item referenceItem(const std::string& url)
    {
        Item item;
        item.kind = Item::Kind::Reference;
        item.text = url;
        return item;
    }

    std::string variable(const std::string& name)
    {
        hl7v2::SegmentView msh = message_.header();
        if (name == "event")
            return decodeText(msh.field(9).component(2));
        if (name == "message-type")
            return decodeText(msh.field(9).component(1));
        if (name == "control-id")
            return decodeText(msh.field(10));
        if (name == "mapping")
            return map_.name;
        if (name == "timezone")
            return offsetText(dialect_.offsetMinutes);
        if (name == "sender")
            return decodeText(msh.field(3).component(1));
        if (name == "version")
            return decodeText(msh.field(12).component(1));
        return {};
    }

    /// The text of an item: an element's first leaf, decoded.
    std::string textOf(const Item& item)
    {
        if (item.kind != Item::Kind::Element)
            return item.text;
        hl7v2::Element e = item.element;
        while (e.level() != hl7v2::Level::Subcomponent && !e.isLiteral()) {
            hl7v2::Element first = e.child(1);
            if (first.raw().size() == e.raw().size())
                break;
            e = first;
        }
        return decodeText(e);
    }

    std::string decodeText(const hl7v2::Element& e)
    {
        core::IssueList ignored;
        return std::string(decoder_.decode(e, &ignored));
    }

    void applyFunctions(const Statement& s, std::vector<Item>& items, const Scope& scope,
                        const Item* current)
    {
        for (const Function& f : s.functions) {
            switch (f.kind) {
            case Function::Kind::Table:
            case Function::Kind::Lookup: {
                const CodeTable* table = f.table;
                std::string_view swapped = dialect_.tableFor(f.argument);
                if (swapped != f.argument) {
                    const CodeTable* other = maps_.tables().find(swapped);
                    if (other != nullptr)
                        table = other;
                }
                std::vector<Item> mappedItems;
                for (Item& item : items) {
                    std::string code = item.kind == Item::Kind::Code ? item.text : textOf(item);
                    // Senders pad codes ("NO "); a code never ends in a space.
                    code.erase(code.find_last_not_of(' ') + 1);
                    const MappedCode* mapped = table->lookup(code);
                    if (mapped == nullptr) {
                        if (f.kind == Function::Kind::Lookup)
                            continue;
                        abort(s, "103", &item,
                              "the code is not in table `" + table->name() + "` (" +
                                  table->origin() + ")");
                    }
                    item.kind = Item::Kind::Code;
                    // A `*` in the target stands for the code itself (pass-through rows).
                    std::size_t star = mapped->code.find('*');
                    if (star == std::string::npos) {
                        item.text = mapped->code;
                    } else {
                        // Into a URI (urn:hl7gw:codesystem:*) the code goes percent-encoded.
                        std::string inserted = code;
                        if (mapped->code.find(':') < star) {
                            inserted.clear();
                            Poco::URI::encode(code, "/?#[]@!$&'()*+,;=%", inserted);
                        }
                        item.text =
                            mapped->code.substr(0, star) + inserted + mapped->code.substr(star + 1);
                    }
                    item.system = mapped->system;
                    item.display = mapped->display;
                    mappedItems.push_back(std::move(item));
                }
                items = std::move(mappedItems);
                break;
            }
            case Function::Kind::Coding:
                for (Item& item : items) {
                    if (item.kind != Item::Kind::Code) {
                        item.text = textOf(item);
                        item.kind = Item::Kind::Code;
                    }
                    if (item.system.empty())
                        item.system = f.argument;
                }
                break;
            case Function::Kind::System:
                for (Item& item : items) {
                    std::string system;
                    if (item.kind == Item::Kind::Element) {
                        hl7v2::Element e = item.element;
                        // An HD, or an EI whose components 2-4 are the HD's.
                        std::size_t first = item.v2Type.rfind("EI", 0) == 0 ? 2 : 1;
                        system = dialect_.identifierSystem(decodeText(e.child(first)),
                                                           decodeText(e.child(first + 1)),
                                                           decodeText(e.child(first + 2)));
                    } else {
                        system = dialect_.identifierSystem(item.text, "", "");
                    }
                    item.kind = Item::Kind::Text;
                    item.text = std::move(system);
                }
                break;
            case Function::Kind::Resource: {
                std::vector<Item> refs;
                for (const Item& item : items) {
                    std::string url = makeResource(*f.resource, scope, &item, s);
                    if (!url.empty())
                        refs.push_back(referenceItem(url));
                }
                items = std::move(refs);
                break;
            }
            case Function::Kind::As:
                for (Item& item : items)
                    item.v2Type = f.argument;
                break;
            case Function::Kind::Join: {
                if (items.empty())
                    break;
                Item joined;
                joined.origin = items.front().origin;
                for (std::size_t i = 0; i < items.size(); ++i) {
                    if (i != 0)
                        joined.text += f.argument;
                    joined.text += textOf(items[i]);
                }
                items.assign(1, std::move(joined));
                break;
            }
            case Function::Kind::Components:
                // "GAST^902^3^HOSP_A": what identifies a bed is all of PV1-3, not its name.
                // Trailing empty components are dropped; sub-components keep their `&`.
                for (Item& item : items) {
                    if (item.kind != Item::Kind::Element)
                        continue;
                    hl7v2::Element value = item.element.level() == hl7v2::Level::Field
                                               ? item.element.repetition(1)
                                               : item.element;
                    std::vector<std::string> parts;
                    for (std::size_t c = 1; c <= value.childCount(); ++c) {
                        hl7v2::Element component = value.child(c);
                        std::string text;
                        for (std::size_t sub = 1; sub <= component.childCount(); ++sub)
                            text += (sub > 1 ? "&" : "") + decodeText(component.child(sub));
                        parts.push_back(std::move(text));
                    }
                    while (!parts.empty() && parts.back().empty())
                        parts.pop_back();
                    std::string joined;
                    for (std::size_t i = 0; i < parts.size(); ++i)
                        joined += (i ? f.argument : std::string()) + parts[i];
                    item.kind = Item::Kind::Text;
                    item.text = std::move(joined);
                }
                break;
            case Function::Kind::Oid:    // FHIR -> v2 only; the loader refuses it here
            case Function::Kind::Negate: // likewise
                break;
            case Function::Kind::First:
                if (items.size() > 1)
                    items.resize(1);
                break;
            case Function::Kind::Minutes: {
                std::vector<Item> units = evaluate(*f.unitSource, scope, current, s);
                std::string unit = units.empty() ? std::string() : textOf(units.front());
                for (Item& item : items) {
                    long long minutes = 0;
                    std::string error;
                    // Units come as `min`, `MIN` and `Min`: the lower-case UCUM form is tried
                    // second (`M` alone stays minutes, not UCUM metres).
                    std::string lower = unit;
                    for (char& c : lower)
                        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                    if (!durationMinutes(textOf(item), unit, minutes, error) &&
                        (lower.size() < 2 || !durationMinutes(textOf(item), lower, minutes, error)))
                        abort(s, "102", &item, error);
                    item.kind = Item::Kind::Text;
                    item.text = std::to_string(minutes);
                }
                break;
            }
            case Function::Kind::Base64:
                for (Item& item : items) {
                    if (item.kind == Item::Kind::Element && item.v2Type == "ED") {
                        // ED data (ED.5) is base64 already (ED.4 says so): passed through.
                        std::string data = decodeText(item.element.child(5));
                        item.kind = Item::Kind::Text;
                        item.text = std::move(data);
                        continue;
                    }
                    std::ostringstream out;
                    Poco::Base64Encoder encoder(out);
                    encoder.rdbuf()->setLineLength(0);
                    encoder << textOf(item);
                    encoder.close();
                    item.kind = Item::Kind::Text;
                    item.text = out.str();
                }
                break;
            case Function::Kind::Default:
                if (items.empty()) {
                    Item item;
                    item.text = f.argument;
                    items.push_back(std::move(item));
                }
                break;
            case Function::Kind::Required:
                if (items.empty())
                    abort(s, "101", nullptr,
                          "`" + s.source.spelling +
                              "` is required by the mapping and has no value");
                break;
            }
        }
    }

    Value materialize(const Statement& s, const Item& item, const Scope& scope)
    {
        if (s.source.v2Type.empty() && item.kind == Item::Kind::Element && !item.v2Type.empty() &&
            (s.materialize == Materialize::TextToComplex ||
             s.materialize == Materialize::CodeToCoding ||
             s.materialize == Materialize::CodeToConcept)) {
            const TypeMap* typeMap = maps_.typeMap(item.v2Type, s.target.back().type->name());
            if (typeMap != nullptr && !hasCodingFunction(s)) {
                if (++depth_ > 32)
                    abort(s, "207", &item,
                          "type maps nest deeper than 32 (a map applies itself to its own value?)");
                Value object(rapidjson::kObjectType);
                runBody(typeMap->body, object, scope, &item);
                --depth_;
                return object;
            }
        }
        switch (s.materialize) {
        case Materialize::Primitive:
            return primitive(s, item);
        case Materialize::Reference: {
            Value ref(rapidjson::kObjectType);
            if (item.kind == Item::Kind::Reference)
                ref.AddMember("reference", str(item.text), alloc_);
            return ref;
        }
        case Materialize::TypeMap: {
            // A type map may reach itself through its own components (CWE inside CWE): the
            // data ends that, but a map that reads `.` again would not, so the depth is bounded.
            if (++depth_ > 32)
                abort(s, "207", &item,
                      "type maps nest deeper than 32 (a map applies itself to its own value?)");
            Value object(rapidjson::kObjectType);
            runBody(s.typeMap->body, object, scope, &item);
            --depth_;
            return object;
        }
        case Materialize::CodeToCoding:
        case Materialize::CodeToConcept: {
            Value coding(rapidjson::kObjectType);
            std::string code = item.kind == Item::Kind::Code ? item.text : textOf(item);
            if (code.empty())
                return Value();
            if (!item.system.empty())
                coding.AddMember("system", str(item.system), alloc_);
            coding.AddMember("code", str(code), alloc_);
            if (!item.display.empty())
                coding.AddMember("display", str(item.display), alloc_);
            if (s.materialize == Materialize::CodeToCoding)
                return coding;
            Value codeable(rapidjson::kObjectType);
            Value codings(rapidjson::kArrayType);
            codings.PushBack(coding, alloc_);
            codeable.AddMember("coding", codings, alloc_);
            return codeable;
        }
        case Materialize::TextToComplex: {
            std::string text = textOf(item);
            if (text.empty())
                return Value();
            std::string_view type = s.target.back().type->name();
            Value object(rapidjson::kObjectType);
            if (type == "Quantity") {
                std::string decimal, error;
                if (!v2ToFhirDecimal(text, decimal, error))
                    abort(s, "102", &item, error);
                object.AddMember("value", fhir::makeNumber(decimal, alloc_), alloc_);
            } else {
                const char* member = type == "Identifier" || type == "ContactPoint" ? "value"
                                     : type == "Attachment"                         ? "data"
                                                                                    : "text";
                object.AddMember(rapidjson::StringRef(member), str(text), alloc_);
            }
            return object;
        }
        case Materialize::ObjectOnly:
            return Value(rapidjson::kObjectType);
        }
        return Value();
    }

    static bool hasCodingFunction(const Statement& s)
    {
        for (const Function& f : s.functions)
            if (f.kind == Function::Kind::Table || f.kind == Function::Kind::Lookup ||
                f.kind == Function::Kind::Coding)
                return true;
        return false;
    }

    Value primitive(const Statement& s, const Item& item)
    {
        std::string text = item.kind == Item::Kind::Code || item.kind == Item::Kind::Text ||
                                   item.kind == Item::Kind::Reference
                               ? item.text
                               : textOf(item);
        if (text.empty())
            return Value();
        const std::string& type = s.primitive;
        std::string out, error;
        bool ok = true;
        if (type == "date") {
            ok = v2ToFhirDate(text, out, error);
        } else if (type == "dateTime") {
            ok = v2ToFhirDateTime(text, dialect_.offsetMinutes, out, error);
        } else if (type == "instant") {
            ok = v2ToFhirInstant(text, dialect_.offsetMinutes, out, error);
        } else if (type == "time") {
            ok = v2ToFhirTime(text, out, error);
        } else if (type == "decimal") {
            ok = v2ToFhirDecimal(text, out, error);
            if (ok)
                return fhir::makeNumber(out, alloc_);
        } else if (type == "integer" || type == "positiveInt" || type == "unsignedInt") {
            long long minimum = type == "integer" ? -2147483648LL : type == "positiveInt" ? 1 : 0;
            ok = v2ToFhirInteger(text, minimum, out, error);
            if (ok)
                return fhir::makeNumber(out, alloc_);
        } else if (type == "boolean") {
            // A literal or a table gives FHIR's own words; a v2 value is an ID (Y/N).
            if (item.kind != Item::Kind::Element && (text == "true" || text == "false"))
                return Value(text == "true");
            bool value = false;
            ok = v2ToFhirBoolean(text, value, error);
            if (ok)
                return Value(value);
        } else {
            out = std::move(text);
        }
        if (!ok)
            abort(s, "102", &item, error);
        return str(out);
    }

    // ---- conditions ----

    bool holds(const Condition& c, const Scope& scope, const Item* current, const Statement& s)
    {
        switch (c.kind) {
        case Condition::Kind::And:
            return holds(*c.left, scope, current, s) && holds(*c.right, scope, current, s);
        case Condition::Kind::Or:
            return holds(*c.left, scope, current, s) || holds(*c.right, scope, current, s);
        case Condition::Kind::Not:
            return !holds(*c.left, scope, current, s);
        default:
            break;
        }
        if (c.source.kind == Source::Kind::V2Path && c.source.field == 0) {
            // `when PV1`: whether the segment is there; `when PATIENT`: the group.
            bool present = false;
            if (c.source.text.size() == 3) {
                present = !segmentsFor(c.source, scope).empty();
            } else {
                for (const GroupInstance& g : groups_)
                    present = present || (g.name == c.source.text && g.begin >= scope.begin &&
                                          g.end <= scope.end);
            }
            return c.kind == Condition::Kind::NotValued ? !present : present;
        }
        std::vector<Item> items = evaluate(c.source, scope, current, s);
        switch (c.kind) {
        case Condition::Kind::Valued:
            return !items.empty();
        case Condition::Kind::NotValued:
            return items.empty();
        case Condition::Kind::Equals:
        case Condition::Kind::NotEquals:
        case Condition::Kind::In: {
            std::string text = items.empty() ? std::string() : textOf(items.front());
            bool found = false;
            for (const std::string& v : c.values)
                found = found || v == text;
            return c.kind == Condition::Kind::NotEquals ? !found : found;
        }
        case Condition::Kind::StartsWith:
            return !items.empty() && textOf(items.front()).rfind(c.values.front(), 0) == 0;
        default:
            return false;
        }
    }

    // ---- errors ----

    [[noreturn]] void abort(const Statement& s, const std::string& code, const Item* item,
                            const std::string& text)
    {
        core::Location location;
        if (item != nullptr && !item->origin.segment.empty()) {
            location.segment = std::string(item->origin.segment);
            location.segmentOccurrence = item->origin.occurrence;
            location.field = item->origin.field;
            location.repetition = item->origin.repetition;
            location.component = item->origin.component;
            location.subcomponent = item->origin.subcomponent;
        }
        std::string where = s.position.file
                                ? *s.position.file + ":" + std::to_string(s.position.line)
                                : std::string("mapping");
        std::string target =
            s.targetSpelling.empty() ? std::string() : " (" + s.targetSpelling + ")";
        issues_.add(core::Severity::Error, code, location, where + target + ": " + text);
        throw RunAborted{};
    }

    std::string headerSystem()
    {
        hl7v2::SegmentView msh = message_.header();
        hl7v2::Element facility = msh.field(4);
        hl7v2::Element application = msh.field(3);
        hl7v2::Element hd = valued(facility) ? facility : application;
        if (!valued(hd))
            return {};
        return dialect_.identifierSystem(decodeText(hd.component(1)), decodeText(hd.component(2)),
                                         decodeText(hd.component(3)));
    }

    Value str(const std::string& text)
    {
        return Value(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), alloc_);
    }

    const MapSet& maps_;
    const Dialect& dialect_;
    hl7v2::TextDecoder& decoder_;
    const hl7v2::Message& message_;
    rapidjson::Document& bundle_;
    rapidjson::Document::AllocatorType& alloc_;
    core::IssueList& issues_;
    const MessageMap& map_;
    std::vector<GroupInstance> groups_;
    std::vector<std::string_view> ids_;
    std::vector<std::vector<hl7v2::Element>> fields_;
    std::vector<Binding> bindings_;
    std::vector<std::string> all_;
    std::map<std::string, std::string> keyed_;
    Value* root_ = nullptr;            // the resource whose own statements run now
    std::vector<std::string> cleared_; // its elements sent as `""` (partialUpdate)
    std::string idSeed_;
    int ordinal_ = 0;
    int depth_ = 0;
};

} // namespace detail

V2ToFhir::V2ToFhir(std::shared_ptr<const MapSet> maps, const Dialect& dialect)
    : maps_(std::move(maps)), dialect_(dialect), decoder_(hl7v2::DecodeOptions{false})
{
}

V2ToFhir::~V2ToFhir() = default;

bool V2ToFhir::map(const hl7v2::Message& message, rapidjson::Document& bundle,
                   core::IssueList& issues, const MessageMap* forced)
{
    const MessageMap* map = forced;
    if (map == nullptr) {
        std::string code(message.messageCode());
        std::string event(message.triggerEvent());
        auto configured = dialect_.maps.find(code + "^" + event);
        if (configured == dialect_.maps.end())
            configured = dialect_.maps.find(code);
        map = configured != dialect_.maps.end() ? maps_->messageMap(configured->second)
                                                : maps_->messageMapFor(code, event);
    }
    if (map == nullptr) {
        core::Location location;
        location.segment = "MSH";
        location.segmentOccurrence = 1;
        location.field = 9;
        issues.add(core::Severity::Error, "200", location,
                   "no message map for this message type (mappings/v2-to-fhir/messages/)");
        return false;
    }
    std::size_t before = issues.size();
    try {
        detail::V2Run run(*maps_, dialect_, decoder_, message, bundle, issues, *map);
        run.run();
    } catch (const detail::RunAborted&) {
        return false;
    }
    for (std::size_t i = before; i < issues.size(); ++i)
        if (issues[i].severity == core::Severity::Error ||
            issues[i].severity == core::Severity::Fatal)
            return false;
    return true;
}

} // namespace hl7gw::mapping
