#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::mapping {

/// How one kind of partner system speaks (adapters/<kind>/dialect.json, STANDARDS.md §4.1,
/// issue 6 deliverable 4). Immutable after loading.
///
/// ```json
/// {
///   "name": "his",
///   "description": "...",
///   "charset": "GB18030",                 // for messages without MSH-18; default UNICODE UTF-8
///   "timezone": "+08:00",                 // default +08:00
///   "sex_coding": "hl7-0001" | "gb-t-2261.1",   // default hl7-0001
///   "identifier_systems": { "HIS": "urn:oid:1.2.156.112604.1.2", "NNCHN":
///   "urn:oid:2.16.156.10011.1.3" }, "identifier_system_base": "urn:hl7gw:id:",  // for namespaces
///   not in the table; default urn:hl7gw:id: "tables": { "sex": "sex-gbt2261" },   // map table
///   name -> table used instead, for this dialect "maps": { "ADT^A01": "adt", "SIU": "siu" },  //
///   message type (or type^event) -> message map "outbound": { "Appointment": "siu-out" },    //
///   FHIR resourceType -> outbound map "version": "2.5.1"                    // v2 version written
///   in MSH-12 outbound; default 2.5.1
/// }
/// ```
/// Unknown keys and wrong types are MappingLoadError naming file, line and the JSON pointer.
struct Dialect {
    std::string name;
    std::string description;
    std::string charset = "UNICODE UTF-8";
    int offsetMinutes = 480;
    enum class SexCoding { Hl7Table0001, GbT2261 } sexCoding = SexCoding::Hl7Table0001;
    std::map<std::string, std::string, std::less<>> identifierSystems;
    std::string identifierSystemBase = "urn:hl7gw:id:";
    std::map<std::string, std::string, std::less<>> tables;
    std::map<std::string, std::string, std::less<>> maps;
    std::map<std::string, std::string, std::less<>> outbound;
    std::string version = "2.5.1";
    std::string origin; // the file it came from

    /// The identifier system for a CX.4 / HD namespace: the table's entry for the namespace id
    /// (HD.1), else `urn:oid:` + HD.2 when HD.3 is ISO (or HD.2 looks like an OID), else the base
    /// + namespace id (percent-encoded as RFC 3986 requires, so `MR NO` -> `MR%20NO`). No
    /// namespace id and no OID -> empty.
    std::string identifierSystem(std::string_view namespaceId, std::string_view universalId,
                                 std::string_view universalIdType) const;
    /// The table to use for `name` in this dialect (the override, else `name`).
    std::string_view tableFor(std::string_view name) const;

    /// The built-in dialect when none is named: defaults above, no overrides.
    static const Dialect& standard();
    static Dialect loadFile(const std::string& path);
    /// Every `*/dialect.json` under an adapters directory, by name; duplicate names are an error.
    static std::map<std::string, Dialect> loadDirectory(const std::string& adaptersDir);
};

} // namespace hl7gw::mapping
