#pragma once

#include "gateway/core/issue.h"

#include <cstdint>
#include <memory>
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
    /// When `required` only holds from some version on (MSH-7, ERR-3: "2.5"); "" = always.
    std::string requiredSince;
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

/// A code table the validator checks values against. HL7-defined tables are closed (a value
/// outside them is an error); user-defined ones may be extended locally (a warning).
struct CodeTable {
    std::string number; // "0001"
    std::string name;   // "Administrative Sex"
    bool hl7Defined = true;
    std::vector<std::string> values; // sorted

    bool contains(std::string_view value) const;
};

/// The texts a StructureTable is built from, one per data file (format: gateway/hl7v2/README.md).
struct StructureTableSources {
    std::string_view structures; // data/structures.txt
    std::string_view segments;   // data/segments.txt
    std::string_view dataTypes;  // data/datatypes.txt
    std::string_view events;     // data/events.txt
    std::string_view tables;     // data/tables.txt
};

/// The message structures, segment definitions, data types and event -> structure map the
/// codec knows, loaded once from the data compiled in from gateway/hl7v2/data/ (structures
/// are data, not code per message type). Immutable after construction; thread-safe.
class StructureTable {
public:
    /// The table built from the compiled-in data.
    static const StructureTable& builtin();

    /// Builds a table from texts in the data formats. Lines that cannot be read are skipped
    /// and reported to `problems` (location: `path` = file name, `line`); builtin() treats
    /// any such problem in the compiled-in data as a bug.
    explicit StructureTable(const StructureTableSources& sources,
                            core::IssueList* problems = nullptr);
    ~StructureTable();
    StructureTable(StructureTable&&) noexcept;
    StructureTable& operator=(StructureTable&&) noexcept;
    StructureTable(const StructureTable&) = delete;
    StructureTable& operator=(const StructureTable&) = delete;

    const MessageStructure* structure(std::string_view name) const;
    const SegmentDefinition* segment(std::string_view id) const;
    const DataTypeDefinition* dataType(std::string_view name) const;

    /// The structure of a message: MSH-9.3 when given, else from MSH-9.1 and MSH-9.2 by the
    /// event table (`ADT^A04` -> `ADT_A01`, `SIU^S15` -> `SIU_S12`); "" when unknown.
    std::string structureFor(std::string_view code, std::string_view trigger,
                             std::string_view declared) const;

    /// HL7 code table by number ("0001"); nullptr when we do not carry it.
    const CodeTable* codeTable(std::string_view number) const;

    /// Sorted names of everything the table knows, for listings and tests.
    std::vector<std::string> structureNames() const;
    std::vector<std::string> segmentIds() const;
    std::vector<std::string> dataTypeNames() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace hl7gw::hl7v2
