#pragma once

#include "gateway/mapping/detail/map_program.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hl7gw::mapping::detail {

struct OutType;

/// One step of a FHIR path: `identifier[type.coding.code=PLAC]`, `given[0]`,
/// `actor->Practitioner`.
struct FhirStep {
    std::string name;
    const fhir::TypeDef* type = nullptr; // the step's type (after `->`, the resource)
    bool many = false;
    // [path=value] / [path] / [n]
    std::vector<struct FhirStep> filterPath;
    std::string filterValue;
    bool filterHasValue = false;
    int index = -1;
    std::string follow; // `->Type`: resolve the Reference to a resource of this type
};

/// Where an outbound value comes from.
struct FhirSource {
    enum class Kind : std::uint8_t { Path, Current, Literal, Variable };
    Kind kind = Kind::Path;
    std::vector<FhirStep> steps;         // Path: from the context; Current: steps after `.`
    std::string text;                    // Literal / Variable
    const fhir::TypeDef* type = nullptr; // the FHIR type of the values (nullptr: text)
    std::string spelling;
};

struct OutCondition {
    enum class Kind : std::uint8_t {
        Valued,
        NotValued,
        Equals,
        NotEquals,
        In,
        StartsWith,
        And,
        Or,
        Not
    };
    Kind kind = Kind::Valued;
    FhirSource source;
    std::vector<std::string> values;
    std::unique_ptr<OutCondition> left, right;
};

/// `N[.C[.S]] = SOURCE [| f]... [when C]`: one v2 position (relative to the value a writer is
/// working on: component and sub-component only).
struct OutStatement {
    enum class Kind : std::uint8_t { Field, Segment, Event, Message };
    Kind kind = Kind::Field;
    SourcePosition position;
    std::uint32_t field = 0, component = 0, subcomponent = 0;
    std::string targetSpelling;
    FhirSource source;
    std::vector<Function> functions;
    std::unique_ptr<OutCondition> when;
    std::string v2Type;              // the target's v2 type
    const OutType* writer = nullptr; // composite FHIR value -> v2 composite
    std::string primitive;           // FHIR primitive of the source ("" when text)

    // Segment: `segment SEG [from PATH | for PATH]`
    std::string segment;
    FhirSource context;
    bool repeat = false; // `for`: one segment per value
    std::vector<OutStatement> body;

    // Message / Event
    std::string code, event, structure;
};

/// `outtype FHIRTYPE -> V2TYPE`: writes one FHIR value as a v2 composite.
struct OutType {
    std::string fhirType;
    std::vector<std::string> v2Types;
    const fhir::TypeDef* type = nullptr;
    std::vector<OutStatement> body;
    SourcePosition position;
};

/// `outbound NAME for ResourceType`: one FHIR resource (and what it refers to) -> a message.
struct OutboundMap {
    std::string name;
    std::string resourceType;
    const fhir::TypeDef* type = nullptr;
    std::vector<OutStatement> body;
    SourcePosition position;
};

} // namespace hl7gw::mapping::detail
