#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::hl7v2 {

/// One field of a segment definition (HL7 v2.5.1 unless the data says otherwise).
struct FieldDefinition {
    std::string name;     // "Patient Identifier List"
    std::string dataType; // "CX"; "varies" for OBX-5
    bool required = false;
    bool repeating = false;
    std::uint32_t maxRepetitions = 1; // 0 = unbounded
    std::string table;    // HL7 table number for coded values ("0001"), "" when none
};

struct SegmentDefinition {
    std::string id;   // "PID"
    std::string name; // "Patient Identification"
    std::vector<FieldDefinition> fields; // fields[0] is field 1
};

/// A composite data type: its components' data types in order (CX.1 is ST ...).
/// Primitive types (ST, NM, DT, DTM ...) have no components.
struct DataTypeDefinition {
    std::string name;
    std::vector<std::string> components;
};

/// A node of an abstract message structure (STANDARDS.md §2.2): a segment or a group,
/// optional or required, single or repeating.
struct StructureNode {
    enum class Kind : std::uint8_t { Segment, Group };
    Kind kind = Kind::Segment;
    std::string name; // segment id ("PID") or group name ("PATIENT_RESULT")
    bool required = false;
    bool repeating = false;
    std::vector<StructureNode> children; // groups only
};

struct MessageStructure {
    std::string name; // "ORU_R01"
    std::vector<StructureNode> children;
};

/// The message structures, segment definitions, data types and event -> structure map the
/// codec knows, loaded once from the data compiled in from gateway/hl7v2/data/ (structures
/// are data, not code per message type). Immutable after construction; thread-safe.
class StructureTable {
public:
    /// The table built from the compiled-in data.
    static const StructureTable& builtin();

    const MessageStructure* structure(std::string_view name) const;
    const SegmentDefinition* segment(std::string_view id) const;
    const DataTypeDefinition* dataType(std::string_view name) const;

    /// The structure of a message: MSH-9.3 when given, else from MSH-9.1 and MSH-9.2 by the
    /// event table (`ADT^A04` -> `ADT_A01`, `SIU^S15` -> `SIU_S12`); "" when unknown.
    std::string structureFor(std::string_view code, std::string_view trigger,
                             std::string_view declared) const;
};

} // namespace hl7gw::hl7v2
