#include "gateway/fhir/model/definitions.h"

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace hl7gw::fhir {

namespace detail {
extern const std::string_view r4DefinitionsText;
} // namespace detail

struct TypeDef::Impl {
    std::deque<std::string> variantNames; // "effectiveDateTime": owned, stable addresses
    std::unordered_map<std::string_view, ElementMatch> byJsonName;
    std::unordered_map<std::string_view, std::uint32_t> byName;
};

struct Definitions::Index {
    std::unordered_map<std::string_view, const TypeDef*> byName;
};

namespace {

struct TableError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::vector<std::string_view> split(std::string_view text, char separator)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) {
            return parts;
        }
        start = end + 1;
    }
}

/// A type's name as it appears in a choice element's JSON name: dateTime -> DateTime.
std::string upperFirst(std::string_view name)
{
    std::string out(name);
    if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') {
        out[0] = static_cast<char>(out[0] - 'a' + 'A');
    }
    return out;
}

struct PendingElement {
    std::vector<std::string_view> typeNames;
};

} // namespace

bool ElementDef::allowsCode(std::string_view code) const
{
    return codes.empty() || std::find(codes.begin(), codes.end(), code) != codes.end();
}

ElementMatch TypeDef::find(std::string_view jsonName) const
{
    const auto it = index_->byJsonName.find(jsonName);
    return it == index_->byJsonName.end() ? ElementMatch{} : it->second;
}

const ElementDef* TypeDef::element(std::string_view name) const
{
    const auto it = index_->byName.find(name);
    return it == index_->byName.end() ? nullptr : &elements_[it->second];
}

Definitions::Definitions() : index_(std::make_unique<Index>()) {}
Definitions::~Definitions() = default;

const Definitions& Definitions::r4()
{
    static const std::unique_ptr<Definitions> definitions = [] {
        std::string error;
        auto parsed = parse(detail::r4DefinitionsText, error);
        if (!parsed) {
            // The table is compiled in and checked by the tests: failing here is a build bug.
            throw std::logic_error("embedded r4_definitions.txt: " + error);
        }
        return parsed;
    }();
    return *definitions;
}

std::unique_ptr<Definitions> Definitions::parse(std::string_view text, std::string& error)
{
    std::unique_ptr<Definitions> defs(new Definitions());
    std::vector<std::vector<PendingElement>> pending;
    std::uint32_t lineNo = 0;
    try {
        TypeDef* current = nullptr;
        for (std::string_view line : split(text, '\n')) {
            ++lineNo;
            if (line.empty() || line[0] == '#') {
                continue;
            }
            if (line.starts_with("  ")) {
                if (current == nullptr) {
                    throw TableError("element before any type");
                }
                const auto fields = split(line.substr(2), ' ');
                if (fields.size() < 3) {
                    throw TableError("element needs NAME TYPES MIN..MAX");
                }
                ElementDef e;
                e.name = fields[0];
                e.baseName = e.name.ends_with("[x]") ? e.name.substr(0, e.name.size() - 3) : e.name;
                const std::string_view card = fields[2];
                if (card.size() != 4 || card.substr(1, 2) != ".." ||
                    (card[0] != '0' && card[0] != '1') || (card[3] != '1' && card[3] != '*')) {
                    throw TableError("bad cardinality");
                }
                e.min = static_cast<std::uint32_t>(card[0] - '0');
                e.many = card[3] == '*';
                for (std::size_t i = 3; i < fields.size(); ++i) {
                    const std::string_view f = fields[i];
                    if (f == "attr") {
                        e.xmlAttribute = true;
                    } else if (f.starts_with("codes=")) {
                        e.codes = split(f.substr(6), '|');
                    } else if (f.starts_with("targets=")) {
                        e.targets = split(f.substr(8), '|');
                    } else {
                        throw TableError("unknown element flag");
                    }
                }
                current->elements_.push_back(std::move(e));
                pending.back().push_back({split(fields[1], '|')});
                continue;
            }
            const std::size_t space = line.find(' ');
            if (space == std::string_view::npos) {
                throw TableError("type line needs KIND NAME");
            }
            const std::string_view kind = line.substr(0, space);
            std::string_view rest = line.substr(space + 1);
            auto type = std::make_unique<TypeDef>();
            type->index_ = std::make_shared<TypeDef::Impl>();
            if (kind == "primitive") {
                const auto fields = split(rest, ' ');
                if (fields.size() < 2) {
                    throw TableError("primitive needs NAME JSON-KIND");
                }
                type->kind_ = TypeKind::Primitive;
                type->name_ = fields[0];
                const std::string_view jsonKind = fields[1];
                type->jsonKind_ = jsonKind == "number"    ? JsonKind::Number
                                  : jsonKind == "boolean" ? JsonKind::Boolean
                                  : jsonKind == "string"  ? JsonKind::String
                                                          : throw TableError("bad JSON kind");
                const std::size_t patternAt = fields[0].size() + 1 + fields[1].size() + 1;
                if (patternAt < rest.size()) {
                    type->pattern_ = rest.substr(patternAt);
                }
            } else {
                type->name_ = rest;
                type->kind_ = kind == "datatype"         ? TypeKind::Datatype
                              : kind == "backbone"       ? TypeKind::Backbone
                              : kind == "abstract"       ? TypeKind::Abstract
                              : kind == "resource"       ? TypeKind::Resource
                              : kind == "domainresource" ? TypeKind::DomainResource
                                                         : throw TableError("unknown type kind");
            }
            if (!defs->index_->byName.emplace(type->name_, type.get()).second) {
                throw TableError("duplicate type");
            }
            if (type->isResource()) {
                defs->resourceTypes_.push_back(type->name_);
            }
            current = type.get();
            defs->types_.push_back(std::move(type));
            pending.emplace_back();
        }
        // Second pass: resolve type names and build the per-type name indexes.
        for (std::size_t t = 0; t < defs->types_.size(); ++t) {
            TypeDef& type = *defs->types_[t];
            TypeDef::Impl& impl = *type.index_;
            for (std::uint32_t i = 0; i < type.elements_.size(); ++i) {
                ElementDef& e = type.elements_[i];
                for (std::string_view typeName : pending[t][i].typeNames) {
                    const TypeDef* target = defs->type(typeName);
                    if (target == nullptr) {
                        error = "type " + std::string(type.name_) + ": element " +
                                std::string(e.name) + " has unknown type " + std::string(typeName);
                        return nullptr;
                    }
                    e.types.push_back(target);
                    if (e.name.ends_with("[x]")) {
                        impl.variantNames.push_back(std::string(e.baseName) + upperFirst(typeName));
                        impl.byJsonName[impl.variantNames.back()] = {&e, target, i};
                    }
                }
                if (!e.name.ends_with("[x]")) {
                    impl.byJsonName[e.name] = {&e, e.types.front(), i};
                }
                impl.byName[e.name] = i;
            }
        }
    } catch (const TableError& e) {
        error = "line " + std::to_string(lineNo) + ": " + e.what();
        return nullptr;
    }
    return defs;
}

const TypeDef* Definitions::type(std::string_view name) const
{
    const auto it = index_->byName.find(name);
    return it == index_->byName.end() ? nullptr : it->second;
}

bool Definitions::isResourceType(std::string_view name) const
{
    const TypeDef* t = type(name);
    return t != nullptr && t->isResource();
}

} // namespace hl7gw::fhir
