#include "gateway/mapping/dialect.h"

#include "gateway/hl7v2/charset.h"
#include "gateway/mapping/code_tables.h"
#include "gateway/mapping/mapping_error.h"
#include "tests/unit/test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>

using hl7gw::test::TempDir;
using namespace hl7gw::mapping;

namespace {

const std::string AdaptersDir = HL7GW_TEST_DATA_DIR "/../../adapters";
const std::string MappingsDir = HL7GW_TEST_DATA_DIR "/../../mappings";

void writeFile(const std::filesystem::path& path, const std::string& text)
{
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

/// Loads `json` as a dialect file and gives what() of the error without the file name, or
/// "loaded" when it loads.
std::string dialectError(const std::string& json)
{
    TempDir dir;
    const std::string file = dir.file("dialect.json");
    writeFile(file, json);
    try {
        Dialect::loadFile(file);
    } catch (const MappingLoadError& e) {
        const std::string what = e.what();
        BOOST_TEST(e.file() == file);
        return what.rfind(file, 0) == 0 ? what.substr(file.size()) : "unexpected: " + what;
    }
    return "loaded";
}

Dialect loadText(const TempDir& dir, const std::string& json)
{
    const std::string file = dir.file("dialect.json");
    writeFile(file, json);
    return Dialect::loadFile(file);
}

} // namespace

BOOST_AUTO_TEST_SUITE(dialect)

BOOST_AUTO_TEST_CASE(standard_dialect_has_the_documented_defaults)
{
    const Dialect& d = Dialect::standard();
    BOOST_TEST(d.name == "standard");
    BOOST_TEST(d.charset == "UNICODE UTF-8");
    BOOST_TEST(d.offsetMinutes == 480);
    BOOST_TEST((d.sexCoding == Dialect::SexCoding::Hl7Table0001));
    BOOST_TEST(d.identifierSystemBase == "urn:hl7gw:id:");
    BOOST_TEST(d.version == "2.5.1");
    BOOST_TEST(d.identifierSystems.empty());
    BOOST_TEST(d.tables.empty());
    BOOST_TEST(d.maps.empty());
    BOOST_TEST(d.outbound.empty());
    BOOST_TEST(&Dialect::standard() == &d);
}

BOOST_AUTO_TEST_CASE(reads_every_key)
{
    TempDir dir;
    const Dialect d = loadText(dir, R"({
  // comments are allowed
  "name": "his", "description": "a HIS",
  "charset": "GB18030", "timezone": "+0530", "sex_coding": "gb-t-2261.1",
  "identifier_systems": { "HIS": "urn:oid:2.16.156.10011.1.11" },
  "identifier_system_base": "urn:example:",
  "tables": { "sex": "sex-gbt2261" },
  "maps": { "ADT^A01": "adt", "SIU": "siu" },
  "outbound": { "Appointment": "siu-out" },
  "version": "2.4", /* trailing comma next */
})");
    BOOST_TEST(d.name == "his");
    BOOST_TEST(d.description == "a HIS");
    BOOST_TEST(d.charset == "GB18030");
    BOOST_TEST(d.offsetMinutes == 330);
    BOOST_TEST((d.sexCoding == Dialect::SexCoding::GbT2261));
    BOOST_TEST(d.identifierSystems.at("HIS") == "urn:oid:2.16.156.10011.1.11");
    BOOST_TEST(d.identifierSystemBase == "urn:example:");
    BOOST_TEST(d.tables.at("sex") == "sex-gbt2261");
    BOOST_TEST(d.maps.at("ADT^A01") == "adt");
    BOOST_TEST(d.maps.at("SIU") == "siu");
    BOOST_TEST(d.outbound.at("Appointment") == "siu-out");
    BOOST_TEST(d.version == "2.4");
    BOOST_TEST(d.origin == dir.file("dialect.json"));
}

BOOST_AUTO_TEST_CASE(missing_keys_keep_the_defaults)
{
    TempDir dir;
    const Dialect d = loadText(dir, R"({"name": "min"})");
    BOOST_TEST(d.charset == "UNICODE UTF-8");
    BOOST_TEST(d.offsetMinutes == 480);
    BOOST_TEST((d.sexCoding == Dialect::SexCoding::Hl7Table0001));
    BOOST_TEST(d.version == "2.5.1");
}

BOOST_AUTO_TEST_CASE(unknown_keys_and_wrong_types_name_line_and_pointer)
{
    BOOST_TEST(dialectError("{\n  \"name\": \"x\",\n  \"timezoen\": \"+08:00\"\n}") ==
               ":3: /timezoen: unknown key");
    BOOST_TEST(dialectError("{\n  \"name\": 5\n}") ==
               ":2: /name: expected a string, found a number");
    BOOST_TEST(dialectError("{\"name\": \"x\",\n\"tables\": [\"sex\"]}") ==
               ":2: /tables: expected an object of strings, found an array");
    BOOST_TEST(
        dialectError("{\"name\": \"x\",\n\"maps\": {\n  \"ADT\": \"adt\",\n  \"SIU\": 3\n}}") ==
        ":4: /maps/SIU: expected a string, found a number");
    BOOST_TEST(dialectError("{\"name\": \"x\", \"tables\": {\"a/b~c\": true}}") ==
               ":1: /tables/a~1b~0c: expected a string, found a boolean");
    BOOST_TEST(dialectError("[1, 2]") == ":1: (top level): expected an object, found an array");
    BOOST_TEST(dialectError("{\"description\": \"no name\"}") ==
               ": /name: missing: every dialect has a name");
}

BOOST_AUTO_TEST_CASE(bad_values_are_errors)
{
    BOOST_TEST(dialectError("{\"name\": \"x\", \"timezone\": \"CST\"}") ==
               ":1: /timezone: expected an offset such as \"+08:00\" (at most ±14:00)");
    BOOST_TEST(dialectError("{\"name\": \"x\", \"timezone\": \"+15:00\"}") ==
               ":1: /timezone: expected an offset such as \"+08:00\" (at most ±14:00)");
    BOOST_TEST(dialectError("{\"name\": \"x\", \"sex_coding\": \"gb\"}") ==
               ":1: /sex_coding: expected \"hl7-0001\" or \"gb-t-2261.1\"");
    BOOST_TEST(dialectError("{\"name\": \"x\", \"charset\": \"BIG-5\"}") ==
               ":1: /charset: not a character set the codec supports (STANDARDS.md §1.3)");
    BOOST_TEST(dialectError("{\"name\": \"x\", \"version\": \"3.0\"}") ==
               ":1: /version: expected an HL7 v2 version such as \"2.5.1\" (table 0104)");
    BOOST_TEST(dialectError("{\"name\": \"x\", \"maps\": {\"ADT_A01\": \"adt\"}}") ==
               ":1: /maps/ADT_A01: the key must be a message type (ADT) or type^event (ADT^A01)");
    BOOST_TEST(dialectError("{\"name\": \"x\", \"outbound\": {\"appointment\": \"siu\"}}") ==
               ":1: /outbound/appointment: the key must be a FHIR resource type (Appointment)");
    BOOST_TEST(dialectError("{\"name\": \"x\", \"tables\": {\"sex\": \"\"}}") ==
               ":1: /tables/sex: must not be empty");
    BOOST_TEST(dialectError("{\"name\": \"x\",\n\"maps\": {\"ADT\": \"a\",\n\"ADT\": \"b\"}}") ==
               ":3: /maps/ADT: the key is given twice");
    BOOST_TEST(dialectError("{\"name\": \"x\",\n\"name\": \"y\"}") ==
               ":2: /name: the key is given twice");
}

BOOST_AUTO_TEST_CASE(syntax_errors_give_line_and_column)
{
    BOOST_TEST(dialectError("{\n  \"name\": \"x\"\n  \"charset\": \"GB18030\"\n}") ==
               ":3:3: malformed JSON: Missing a comma or '}' after an object member.");
    BOOST_TEST(dialectError("") == ":1:1: malformed JSON: The document is empty.");
}

BOOST_AUTO_TEST_CASE(identifier_system_prefers_the_table_then_an_oid_then_the_base)
{
    Dialect d;
    d.identifierSystems.emplace("HIS", "urn:oid:2.16.156.10011.1.11");
    BOOST_TEST(d.identifierSystem("HIS", "1.2.3", "ISO") == "urn:oid:2.16.156.10011.1.11");
    BOOST_TEST(d.identifierSystem("LAB", "1.2.156.112604.1", "ISO") == "urn:oid:1.2.156.112604.1");
    BOOST_TEST(d.identifierSystem("LAB", "1.2.156.112604.1", "") == "urn:oid:1.2.156.112604.1");
    BOOST_TEST(d.identifierSystem("LAB", "urn:oid:1.2.3", "ISO") == "urn:oid:1.2.3");
    BOOST_TEST(d.identifierSystem("", "2.16.156.10011.1.3", "ISO") == "urn:oid:2.16.156.10011.1.3");
    BOOST_TEST(d.identifierSystem("LAB", "lab.example.org", "DNS") == "urn:hl7gw:id:LAB");
    BOOST_TEST(d.identifierSystem("LAB", "", "") == "urn:hl7gw:id:LAB");
    BOOST_TEST(d.identifierSystem("MR NO", "", "") == "urn:hl7gw:id:MR%20NO");
    BOOST_TEST(d.identifierSystem("门诊", "", "") == "urn:hl7gw:id:%E9%97%A8%E8%AF%8A");
    BOOST_TEST(d.identifierSystem("his", "", "") == "urn:hl7gw:id:his"); // the table is exact
    BOOST_TEST(d.identifierSystem("", "", "") == "");
    BOOST_TEST(d.identifierSystem("", "lab.example.org", "DNS") == "");
    BOOST_TEST(d.identifierSystem("", "1.", "") == "");
}

BOOST_AUTO_TEST_CASE(table_for_gives_the_override_else_the_name)
{
    Dialect d;
    d.tables.emplace("sex", "sex-gbt2261");
    BOOST_TEST(d.tableFor("sex") == "sex-gbt2261");
    BOOST_TEST(d.tableFor("marital-status") == "marital-status");
}

BOOST_AUTO_TEST_CASE(load_directory_reads_each_folder_and_rejects_duplicate_names)
{
    TempDir dir;
    writeFile(dir.path() / "a" / "dialect.json", R"({"name": "one"})");
    writeFile(dir.path() / "b" / "dialect.json", R"({"name": "two"})");
    writeFile(dir.path() / "c" / "README.md", "no dialect here");
    writeFile(dir.path() / "dialect.json", R"({"name": "top level is not a folder"})");
    const auto dialects = Dialect::loadDirectory(dir.path().string());
    BOOST_TEST(dialects.size() == 2u);
    BOOST_TEST(dialects.at("one").origin == (dir.path() / "a" / "dialect.json").string());

    writeFile(dir.path() / "d" / "dialect.json", R"({"name": "one"})");
    try {
        Dialect::loadDirectory(dir.path().string());
        BOOST_FAIL("duplicate dialect names loaded");
    } catch (const MappingLoadError& e) {
        BOOST_TEST(std::string(e.what()) == (dir.path() / "d" / "dialect.json").string() +
                                                ": dialect 'one' is already defined in " +
                                                (dir.path() / "a" / "dialect.json").string());
    }
}

BOOST_AUTO_TEST_CASE(every_shipped_dialect_loads_and_names_existing_tables)
{
    const auto dialects = Dialect::loadDirectory(AdaptersDir);
    std::vector<std::string> names;
    for (const auto& [name, dialect] : dialects) {
        names.push_back(name);
    }
    BOOST_TEST(names == (std::vector<std::string>{"billing", "his", "his-requests", "lis", "pacs",
                                                  "regional"}),
               boost::test_tools::per_element());
    const CodeTables tables = CodeTables::loadDirectory(MappingsDir);
    for (const auto& [name, dialect] : dialects) {
        BOOST_TEST_CONTEXT(name)
        {
            BOOST_TEST(std::filesystem::path(dialect.origin).parent_path().filename() == name);
            BOOST_TEST(std::filesystem::exists(std::filesystem::path(dialect.origin).parent_path() /
                                               "README.md"));
            BOOST_TEST(!dialect.description.empty());
            BOOST_TEST(hl7gw::hl7v2::Charset::fromAnyName(dialect.charset) != nullptr);
            for (const auto& [table, replacement] : dialect.tables) {
                BOOST_TEST(tables.find(table) != nullptr, table);
                BOOST_TEST(tables.find(replacement) != nullptr, replacement);
            }
            // GB/T 2261.1 sex codes only work with the table that reads them.
            const bool gb = dialect.sexCoding == Dialect::SexCoding::GbT2261;
            BOOST_TEST((dialect.tableFor("sex") == "sex-gbt2261") == gb);
            for (const auto& [ns, system] : dialect.identifierSystems) {
                BOOST_TEST(system.rfind("urn:oid:", 0) == 0, ns);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(shipped_dialects_carry_the_national_identifier_systems)
{
    const auto dialects = Dialect::loadDirectory(AdaptersDir);
    const Dialect& his = dialects.at("his");
    BOOST_TEST(his.charset == "GB18030");
    BOOST_TEST(his.identifierSystem("HIS", "", "") == "urn:oid:2.16.156.10011.1.11");
    BOOST_TEST(his.tableFor("sex") == "sex-gbt2261");
    const Dialect& regional = dialects.at("regional");
    BOOST_TEST(regional.charset == "UNICODE UTF-8");
    BOOST_TEST(regional.identifierSystem("NNCHN", "", "") == "urn:oid:2.16.156.10011.1.3");
    BOOST_TEST(regional.identifierSystem("身份证", "", "") == "urn:oid:2.16.156.10011.1.3");
    BOOST_TEST(regional.identifierSystem("CHC01", "", "") == "urn:hl7gw:regional:id:CHC01");
    BOOST_TEST(dialects.at("lis").tableFor("abnormal-flags") == "abnormal-flags-lis");
}

BOOST_AUTO_TEST_SUITE_END()
