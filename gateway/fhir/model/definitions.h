#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace hl7gw::fhir {

class TypeDef;

/// What a type is. Abstract covers Resource and DomainResource (the type of `contained`,
/// Bundle.entry.resource and Parameters.parameter.resource: any concrete resource).
enum class TypeKind : std::uint8_t {
    Primitive,
    Datatype,
    Backbone,
    Abstract,
    Resource,
    DomainResource
};

/// How a primitive is written in JSON (every complex type is an object).
enum class JsonKind : std::uint8_t { String, Number, Boolean, Object };

/// One element of a type, in definition (= XML) order. All views point into the compiled-in
/// table and live as long as the program.
struct ElementDef {
    std::string_view name;             // JSON name; "value[x]" for a choice
    std::string_view baseName;         // "value" for "value[x]"; else the same as name
    std::vector<const TypeDef*> types; // one, or one per allowed choice type, in order
    std::uint32_t min = 0;
    bool many = false;                     // max is *
    bool xmlAttribute = false;             // Element.id and Extension.url are XML attributes
    std::vector<std::string_view> codes;   // required binding; empty when none
    std::vector<std::string_view> targets; // Reference target types, when the schemas say

    bool isChoice() const { return types.size() > 1 || name.ends_with("[x]"); }
    bool allowsCode(std::string_view code) const;
};

/// An element matched by its JSON (or XML) name: `effectiveDateTime` gives the element
/// `effective[x]` and the type dateTime.
struct ElementMatch {
    const ElementDef* element = nullptr;
    const TypeDef* type = nullptr;
    std::uint32_t index = 0; // position of the element in TypeDef::elements()

    explicit operator bool() const { return element != nullptr; }
};

class TypeDef {
  public:
    std::string_view name() const { return name_; }
    TypeKind kind() const { return kind_; }
    bool isPrimitive() const { return kind_ == TypeKind::Primitive; }
    /// A concrete resource type (Patient, Bundle); not Resource/DomainResource.
    bool isResource() const
    {
        return kind_ == TypeKind::Resource || kind_ == TypeKind::DomainResource;
    }
    bool isDomainResource() const { return kind_ == TypeKind::DomainResource; }
    /// Resource or DomainResource: a slot holding any resource.
    bool isResourceSlot() const { return kind_ == TypeKind::Abstract; }
    JsonKind jsonKind() const { return jsonKind_; }
    /// The JSON schema's regular expression for a primitive ("" when it has none).
    std::string_view pattern() const { return pattern_; }
    const std::vector<ElementDef>& elements() const { return elements_; }

    /// The element for a JSON member name, resolving choice names; empty match when the type
    /// has no such element. Hashed.
    ElementMatch find(std::string_view jsonName) const;
    /// The element by its definition name ("effective[x]", "status"); nullptr when unknown.
    const ElementDef* element(std::string_view name) const;

  private:
    friend class Definitions;
    struct Impl;

    std::string_view name_;
    TypeKind kind_ = TypeKind::Datatype;
    JsonKind jsonKind_ = JsonKind::Object;
    std::string_view pattern_;
    std::vector<ElementDef> elements_;
    std::shared_ptr<Impl> index_;
};

/// The FHIR R4 (4.0.1) definitions, generated from the official schemas into
/// data/r4_definitions.txt and compiled in. Built once, immutable, safe to share across threads.
class Definitions {
  public:
    /// The R4 definitions (built on first use; thread-safe).
    static const Definitions& r4();

    /// Parses a table in the format of data/r4_definitions.txt. `text` must outlive the
    /// result. Returns nullptr and sets `error` ("line N: ...") when the table is malformed.
    static std::unique_ptr<Definitions> parse(std::string_view text, std::string& error);

    /// A type by name: "Patient", "HumanName", "dateTime", "Appointment.participant".
    const TypeDef* type(std::string_view name) const;
    bool isResourceType(std::string_view name) const;
    /// Concrete resource types in definition (alphabetical) order.
    const std::vector<std::string_view>& resourceTypes() const { return resourceTypes_; }
    /// Every type in table order.
    const std::vector<std::unique_ptr<TypeDef>>& types() const { return types_; }

    Definitions(const Definitions&) = delete;
    Definitions& operator=(const Definitions&) = delete;
    ~Definitions();

  private:
    Definitions();
    struct Index;

    std::vector<std::unique_ptr<TypeDef>> types_;
    std::vector<std::string_view> resourceTypes_;
    std::unique_ptr<Index> index_;
};

} // namespace hl7gw::fhir
