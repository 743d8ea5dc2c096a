#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hl7gw::fhir {
class TypeDef;
struct ElementDef;
} // namespace hl7gw::fhir

namespace hl7gw::mapping {
class CodeTable;
}

namespace hl7gw::mapping::detail {

struct TypeMap;
struct ResourceMap;

/// Where a statement was written, for load errors and run-time mapping errors.
struct SourcePosition {
    const std::string* file = nullptr;
    unsigned line = 0;
    unsigned column = 0;
};

/// The value side of a statement before functions: where the values come from.
struct Source {
    enum class Kind : std::uint8_t {
        None,     // no source (a block without `for`)
        V2Path,   // PID-3, NTE[*]-3
        Relative, // .1, .4.2, .
        Literal,  // "text", 12, true
        Binding,  // @patient, @* (every resource so far)
        Variable  // $event
    };
    Kind kind = Kind::None;
    std::string text; // the literal, binding or variable name; the segment id for V2Path
    bool literalIsString = true;
    /// V2Path: 0 = first segment in scope, -1 = every segment ([*]), n = the n-th.
    int occurrence = 0;
    std::uint32_t field = 0;      // 0: the whole segment
    std::uint32_t repetition = 0; // 0: every repetition
    std::uint32_t component = 0;  // 0: the whole repetition (or relative value)
    std::uint32_t subcomponent = 0;
    /// The v2 data type of the values (resolved at load; "" when unknown, "varies" for OBX-5).
    std::string v2Type;
    std::string spelling; // as written, for messages
};

/// One function of the closed set (mappings/README.md).
struct Function {
    enum class Kind : std::uint8_t {
        Table,
        Lookup, // like Table, but an unmapped code gives no value
        Coding,
        System,
        Oid, // FHIR -> v2: the OID of a `urn:oid:` URI
        Resource,
        As,
        Join,
        Components, // v2 -> FHIR: a composite's components as one text (a key for PL)
        First,
        Minutes,
        Base64,
        Default,
        Required,
        Negate // FHIR -> v2: a decimal with its sign turned (a credit's quantity)
    };
    Kind kind = Kind::Table;
    std::string argument;
    const CodeTable* table = nullptr;      // Table (the standard table; dialects may swap it)
    const ResourceMap* resource = nullptr; // Resource
    std::unique_ptr<Source> unitSource;    // Minutes
};

struct Condition {
    enum class Kind : std::uint8_t { Valued, NotValued, Equals, NotEquals, In, StartsWith, And, Or, Not };
    Kind kind = Kind::Valued;
    Source source;
    std::vector<std::string> values;
    std::unique_ptr<Condition> left, right;
};

/// One step of a target path, resolved against the R4 definitions.
struct TargetStep {
    std::string name;                    // JSON member name ("valueQuantity", "extension")
    const fhir::TypeDef* type = nullptr; // the step's type
    bool many = false;                   // an array in JSON
    std::string extensionUrl;            // extension(URL): the array element with this url
};

/// How a value becomes the target element, decided at load time.
enum class Materialize : std::uint8_t {
    Primitive,     // text converted to the target primitive
    TypeMap,       // run a type map (v2 composite -> FHIR complex)
    Reference,     // a reference item from @binding or resource()
    CodeToCoding,  // table/coding result or plain text -> Coding
    CodeToConcept, // ... -> CodeableConcept
    TextToComplex, // plain text -> Identifier.value, HumanName.text, ContactPoint.value,
                   // Address.text, Quantity.value
    ObjectOnly     // a block: the object is built by the nested statements
};

struct Statement {
    enum class Kind : std::uint8_t { Assign, Block, Key, Resource, Each, Error };
    Kind kind = Kind::Assign;
    SourcePosition position;

    std::vector<TargetStep> target; // Assign, Block
    std::string targetSpelling;
    Source source; // Assign: the value; Block/Each: the `for`/`each` source
    std::vector<Function> functions;
    std::unique_ptr<Condition> when;
    std::vector<Statement> body; // Assign with a body, Block, Each

    Materialize materialize = Materialize::Primitive;
    const TypeMap* typeMap = nullptr; // Materialize::TypeMap
    std::string primitive;            // Materialize::Primitive: FHIR primitive type name

    std::string name;    // Resource: the map name; Key: the element; Each: the group/segment
    std::string binding; // Resource: the binding name
    const ResourceMap* resource = nullptr;
    std::string text;       // Error
    bool eachGroup = false; // Each: a group of the message structure (else a segment id)
};

struct TypeMap {
    std::vector<std::string> v2Types; // "CWE", "CE", "CNE"
    std::string fhirType;
    const fhir::TypeDef* type = nullptr;
    std::vector<Statement> body;
    SourcePosition position;
};

struct ResourceMap {
    std::string name;
    std::string resourceType;
    const fhir::TypeDef* type = nullptr;
    std::string key; // "" when the resource is always created
    /// `key ELEMENT create`: a conditional create (made when absent, never updated by a
    /// message), for the doctors and places a message only names.
    bool createOnly = false;
    /// `key ELEMENT match`: never written; a reference to it is a conditional reference
    /// (`Slot?identifier=...`) that the server resolves to the one match, or refuses.
    bool matchOnly = false;
    std::vector<Statement> body;
    SourcePosition position;
};

struct MessageMap {
    std::string name;
    std::vector<std::string> triggers; // "ADT^A01", or "ADT" for every event
    std::vector<Statement> body;
    SourcePosition position;
};

} // namespace hl7gw::mapping::detail
