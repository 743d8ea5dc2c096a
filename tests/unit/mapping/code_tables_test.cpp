#include "gateway/mapping/code_tables.h"

#include "gateway/mapping/mapping_error.h"
#include "tests/unit/test_support.h"

#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

using hl7gw::test::TempDir;
using namespace hl7gw::mapping;

namespace {

const std::string MappingsDir = HL7GW_TEST_DATA_DIR "/../../mappings";

void writeFile(const std::filesystem::path& path, const std::string& text)
{
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

/// The what() of the MappingLoadError `load` throws, or "" when it does not throw.
template <typename Load> std::string loadError(Load load)
{
    try {
        load();
    } catch (const MappingLoadError& e) {
        return e.what();
    }
    return "";
}

std::string tsvError(const std::string& text)
{
    return loadError([&] {
        CodeTables tables;
        tables.addTsv(text, "t.tsv", "t");
    });
}

const CodeTable& tsvTable(CodeTables& tables, const std::string& text)
{
    tables.addTsv(text, "t.tsv", "t");
    const CodeTable* table = tables.find(tables.names().front());
    BOOST_REQUIRE(table != nullptr);
    return *table;
}

/// The enum of a required binding in the R4 JSON schema: `definitions.TYPE.properties.NAME`
/// (an array element's enum sits under `items`).
std::set<std::string> schemaCodes(const std::string& type, const std::string& element)
{
    static const rapidjson::Document schema = [] {
        rapidjson::Document doc;
        const std::string text =
            hl7gw::test::readFile(HL7GW_CORPUS_DIR "/fhir-r4/schema/fhir.schema.json");
        doc.Parse(text.data(), text.size());
        BOOST_REQUIRE(!doc.HasParseError());
        return doc;
    }();
    const rapidjson::Value& property =
        schema["definitions"][type.c_str()]["properties"][element.c_str()];
    const rapidjson::Value& holder = property.HasMember("items") ? property["items"] : property;
    BOOST_REQUIRE(holder.HasMember("enum"));
    std::set<std::string> codes;
    for (const auto& code : holder["enum"].GetArray()) {
        codes.emplace(code.GetString());
    }
    return codes;
}

// Value sets the schema gives only as `code` (shared bindings), from the R4 (4.0.1) pages.
const std::set<std::string> RequestStatus = {"draft",     "active",           "on-hold", "revoked",
                                             "completed", "entered-in-error", "unknown"};
const std::set<std::string> RequestPriority = {"routine", "urgent", "asap", "stat"};
// v3 ActEncounterCode as R4's Encounter.class value set lists it (STANDARDS.md §3.2).
const std::set<std::string> ActEncounterCodes = {"AMB",   "EMER",   "FLD",   "HH", "IMP", "ACUTE",
                                                 "NONAC", "OBSENC", "PRENC", "SS", "VR"};
const std::set<std::string> V2Table0004 = {"E", "I", "O", "P", "R", "B", "C", "N", "U"};
// R4 value set marital-status: v3 MaritalStatus plus NullFlavor UNK.
const std::set<std::string> V3MaritalStatus = {"A", "D", "I", "L", "M", "P", "S", "T", "U", "W"};
// R4 value set observation-interpretation (v3 ObservationInterpretation, R4 edition).
const std::set<std::string> ObservationInterpretation = {
    "CAR", "Carrier", "B",     "D",   "U",   "W",     "<",   ">",  "AC", "IE", "QCF", "TOX", "A",
    "AA",  "HH",      "LL",    "H",   "H>",  "HU",    "L",   "L<", "LU", "N",  "I",   "MS",  "NCL",
    "NS",  "R",       "SYN-R", "S",   "SDD", "SYN-S", "VS",  "EX", "HX", "LX", "HM",  "IND", "E",
    "NEG", "ND",      "POS",   "DET", "EXP", "UNE",   "OBX", "NR", "RR", "WR"};

const std::string Terminology = "http://terminology.hl7.org/CodeSystem/";

struct Expected {
    std::string table;
    std::string system;
    std::set<std::string> codes;
};

std::vector<Expected> expectedTables()
{
    const std::string fhir = "http://hl7.org/fhir/";
    return {
        {"sex", fhir + "administrative-gender", schemaCodes("Patient", "gender")},
        {"sex-gbt2261", fhir + "administrative-gender", schemaCodes("Patient", "gender")},
        {"encounter-status-by-event", fhir + "encounter-status",
         schemaCodes("Encounter", "status")},
        {"appointment-status", fhir + "appointmentstatus", schemaCodes("Appointment", "status")},
        {"appointment-status-by-event", fhir + "appointmentstatus",
         schemaCodes("Appointment", "status")},
        {"participant-status", fhir + "participationstatus",
         schemaCodes("Appointment_Participant", "status")},
        {"report-status", fhir + "diagnostic-report-status",
         schemaCodes("DiagnosticReport", "status")},
        {"observation-status", fhir + "observation-status", schemaCodes("Observation", "status")},
        {"order-control-status", fhir + "request-status", RequestStatus},
        {"order-status", fhir + "request-status", RequestStatus},
        {"task-status", fhir + "task-status", schemaCodes("Task", "status")},
        {"referral-priority", fhir + "request-priority", RequestPriority},
        {"allergy-severity", fhir + "reaction-event-severity",
         schemaCodes("AllergyIntolerance_Reaction", "severity")},
        {"allergy-category", fhir + "allergy-intolerance-category",
         schemaCodes("AllergyIntolerance", "category")},
        {"name-use", fhir + "name-use", schemaCodes("HumanName", "use")},
        {"address-use", fhir + "address-use", schemaCodes("Address", "use")},
        {"telecom-use", fhir + "contact-point-use", schemaCodes("ContactPoint", "use")},
        {"telecom-system", fhir + "contact-point-system", schemaCodes("ContactPoint", "system")},
        {"marital-status", Terminology + "v3-MaritalStatus", V3MaritalStatus},
        {"abnormal-flags", Terminology + "v3-ObservationInterpretation", ObservationInterpretation},
        {"abnormal-flags-lis", Terminology + "v3-ObservationInterpretation",
         ObservationInterpretation},
        {"encounter-class", Terminology + "v3-ActCode", ActEncounterCodes},
    };
}

/// The codes a row may use: its system's, where the row names a system of its own.
const std::set<std::string>& codesFor(const Expected& expected, const MappedCode& row)
{
    static const std::set<std::string> NullFlavorUnknown = {"UNK"};
    if (row.system == Terminology + "v2-0004") {
        return V2Table0004;
    }
    if (row.system == Terminology + "v3-NullFlavor") {
        return NullFlavorUnknown;
    }
    return expected.codes;
}

/// LOINC's mod-10 check digit (the Luhn algorithm over the whole code).
bool isLoincCode(const std::string& code)
{
    const std::size_t dash = code.find('-');
    if (dash == std::string::npos || dash == 0 || dash + 2 != code.size()) {
        return false;
    }
    const std::string digits = code.substr(0, dash) + code.substr(dash + 1);
    int sum = 0;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        const char c = digits[digits.size() - 1 - i];
        if (c < '0' || c > '9') {
            return false;
        }
        int d = c - '0';
        if (i % 2 == 1) {
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(mapping_load_error)

BOOST_AUTO_TEST_CASE(what_names_file_line_and_column)
{
    const MappingLoadError error("mappings/tables/sex.tsv", 12, 3, "duplicate code");
    BOOST_TEST(std::string(error.what()) == "mappings/tables/sex.tsv:12:3: duplicate code");
    BOOST_TEST(error.file() == "mappings/tables/sex.tsv");
    BOOST_TEST(error.line() == 12u);
    BOOST_TEST(error.column() == 3u);
    BOOST_TEST(error.text() == "duplicate code");
}

BOOST_AUTO_TEST_CASE(what_leaves_out_unknown_parts)
{
    BOOST_TEST(std::string(MappingLoadError("a.map", 4, 0, "x").what()) == "a.map:4: x");
    BOOST_TEST(std::string(MappingLoadError("a.map", 0, 0, "x").what()) == "a.map: x");
    BOOST_TEST(std::string(MappingLoadError("a.map", 0, 9, "x").what()) == "a.map: x");
    BOOST_TEST(std::string(MappingLoadError("", 0, 0, "x").what()) == "x");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(code_tables)

BOOST_AUTO_TEST_CASE(reads_headers_rows_display_and_system)
{
    CodeTables tables;
    const CodeTable& table = tsvTable(tables, "# table: colour\n"
                                              "# system: http://example.org/colour\n"
                                              "# source-system: http://example.org/v2-colour\n"
                                              "# a comment: not a header we know\n"
                                              "\n"
                                              "R\tred\tRed\n"
                                              "G\tgreen\n"
                                              "B\tblue\tBlue\thttp://example.org/other\n");
    BOOST_TEST(table.name() == "colour");
    BOOST_TEST(table.targetSystem() == "http://example.org/colour");
    BOOST_TEST(table.sourceSystem() == "http://example.org/v2-colour");
    BOOST_TEST(table.origin() == "t.tsv");
    BOOST_TEST(table.size() == 3u);
    BOOST_TEST(!table.hasDefault());
    const MappedCode* red = table.lookup("R");
    BOOST_REQUIRE(red != nullptr);
    BOOST_TEST(red->code == "red");
    BOOST_TEST(red->display == "Red");
    BOOST_TEST(red->system == "http://example.org/colour");
    BOOST_TEST(table.lookup("G")->display == "");
    BOOST_TEST(table.lookup("B")->system == "http://example.org/other");
    BOOST_TEST(table.lookup("X") == nullptr);
}

BOOST_AUTO_TEST_CASE(name_defaults_to_the_file_stem)
{
    CodeTables tables;
    tables.addTsv("A\ta\n", "x/stem.tsv", "stem");
    BOOST_TEST(tables.find("stem") != nullptr);
    BOOST_TEST(tables.names() == std::vector<std::string>{"stem"});
}

BOOST_AUTO_TEST_CASE(lookup_is_exact_first_then_case_insensitive_then_default)
{
    CodeTables tables;
    const CodeTable& table = tsvTable(tables, "Booked\tbooked\nBOOKED\tproposed\n*\tother\n");
    BOOST_TEST(table.lookup("Booked")->code == "booked");
    BOOST_TEST(table.lookup("BOOKED")->code == "proposed");
    BOOST_TEST(table.lookup("booked")->code == "booked"); // the first row of that spelling
    BOOST_TEST(table.lookup("nothing")->code == "other");
    BOOST_TEST(table.lookup("")->code == "other");
    BOOST_TEST(table.hasDefault());
    BOOST_TEST(table.size() == 2u);
}

BOOST_AUTO_TEST_CASE(reverse_gives_the_first_source_and_skips_the_default)
{
    CodeTables tables;
    const CodeTable& table = tsvTable(tables, "O\tother\nA\tother\nF\tfemale\n*\tunknown\n");
    BOOST_REQUIRE(table.reverse("other") != nullptr);
    BOOST_TEST(*table.reverse("other") == "O");
    BOOST_TEST(*table.reverse("female") == "F");
    BOOST_TEST(table.reverse("unknown") == nullptr);
    BOOST_TEST(table.reverse("Female") == nullptr);
}

BOOST_AUTO_TEST_CASE(tolerates_crlf_bom_and_blank_lines)
{
    CodeTables tables;
    const CodeTable& table =
        tsvTable(tables, "\xEF\xBB\xBF# table: crlf\r\n\r\nM\tmale\r\n   \r\nF\tfemale");
    BOOST_TEST(table.name() == "crlf");
    BOOST_TEST(table.lookup("M")->code == "male");
    BOOST_TEST(table.lookup("F")->code == "female");
}

BOOST_AUTO_TEST_CASE(a_late_system_header_applies_to_earlier_rows)
{
    CodeTables tables;
    const CodeTable& table = tsvTable(tables, "M\tmale\n# system: http://example.org/s\n");
    BOOST_TEST(table.lookup("M")->system == "http://example.org/s");
}

BOOST_AUTO_TEST_CASE(tsv_errors_name_file_line_and_column)
{
    BOOST_TEST(tsvError("# table: t\nM\tmale\nF\tfemale\nM\tother\n") ==
               "t.tsv:4:1: the source code is already mapped on line 2");
    BOOST_TEST(tsvError("M\tmale\nF\n") ==
               "t.tsv:2:2: the target code is missing (columns are separated by tabs)");
    BOOST_TEST(tsvError("M\t\tMale\n") ==
               "t.tsv:1:3: the target code is missing (columns are separated by tabs)");
    BOOST_TEST(tsvError("M male\n") ==
               "t.tsv:1:7: the target code is missing (columns are separated by tabs)");
    BOOST_TEST(tsvError("\n\nM\tmale\tMale\thttp://s\textra\n") ==
               "t.tsv:3:22: a row has at most four columns: SOURCE, TARGET, DISPLAY, SYSTEM");
    BOOST_TEST(tsvError("*\ta\n*\tb\n") == "t.tsv:2:1: a second '*' row");
    BOOST_TEST(tsvError("\tmale\n") == "t.tsv:1:1: the source code is empty");
    BOOST_TEST(tsvError("# table: a\n# table: b\n") == "t.tsv:2:1: '# table:' given twice");
    BOOST_TEST(tsvError("# system:\n") == "t.tsv:1:1: '# system:' needs a value");
    BOOST_TEST(tsvError("# table: no spaces\n") ==
               "t.tsv:1:1: table name may hold only letters, digits, '-', '_' and '.'");
}

BOOST_AUTO_TEST_CASE(columns_count_characters_not_bytes)
{
    // "性别" is six bytes but two characters: the fifth cell starts at character 10.
    BOOST_TEST(tsvError("性别\tx\ty\tz\textra\n") ==
               "t.tsv:1:10: a row has at most four columns: SOURCE, TARGET, DISPLAY, SYSTEM");
}

BOOST_AUTO_TEST_CASE(duplicate_table_names_name_both_files)
{
    TempDir dir;
    writeFile(dir.path() / "tables" / "a.tsv", "# table: same\nM\tmale\n");
    writeFile(dir.path() / "tables" / "b.tsv", "\n# table: same\nF\tfemale\n");
    const std::string error = loadError([&] { CodeTables::loadDirectory(dir.path().string()); });
    BOOST_TEST(error == (dir.path() / "tables" / "b.tsv").string() +
                            ":2: table 'same' is already defined in " +
                            (dir.path() / "tables" / "a.tsv").string());
}

BOOST_AUTO_TEST_CASE(a_directory_without_tables_is_empty)
{
    TempDir dir;
    BOOST_TEST(CodeTables::loadDirectory(dir.path().string()).names().empty());
}

BOOST_AUTO_TEST_CASE(load_file_rejects_other_extensions_and_missing_files)
{
    TempDir dir;
    writeFile(dir.path() / "x.csv", "M,male\n");
    CodeTables tables;
    BOOST_TEST(loadError([&] { tables.loadFile(dir.file("x.csv")); }) ==
               dir.file("x.csv") + ": a code table file ends in .tsv or .json");
    BOOST_TEST(loadError([&] { tables.loadFile(dir.file("none.tsv")); }) ==
               dir.file("none.tsv") + ": cannot read the file");
}

BOOST_AUTO_TEST_CASE(reads_a_concept_map)
{
    TempDir dir;
    writeFile(dir.path() / "cm.json", R"({
  "resourceType": "ConceptMap", "id": "cm-id", "name": "local-codes", "status": "draft",
  "group": [
    { "source": "urn:local", "target": "http://loinc.org",
      "element": [
        { "code": "GLU", "target": [ { "code": "2345-7", "display": "Glucose", "equivalence": "equivalent" } ] },
        { "code": "OLD", "target": [ { "equivalence": "unmatched" } ] },
        { "code": "TWO", "target": [ { "equivalence": "unmatched" }, { "code": "718-7", "equivalence": "wider" } ] },
        { "code": "NONE" }
      ] },
    { "source": "urn:local", "target": "http://snomed.info/sct",
      "element": [ { "code": "X", "target": [ { "code": "123", "equivalence": "equal" } ] } ],
      "unmapped": { "mode": "fixed", "code": "unknown", "display": "Unknown" } }
  ] })");
    CodeTables tables;
    tables.loadFile(dir.file("cm.json"));
    const CodeTable* table = tables.find("local-codes");
    BOOST_REQUIRE(table != nullptr);
    BOOST_TEST(table->origin() == dir.file("cm.json"));
    BOOST_TEST(table->targetSystem() == "http://loinc.org");
    BOOST_TEST(table->sourceSystem() == "urn:local");
    BOOST_TEST(table->size() == 3u);
    BOOST_TEST(table->lookup("GLU")->code == "2345-7");
    BOOST_TEST(table->lookup("GLU")->display == "Glucose");
    BOOST_TEST(table->lookup("GLU")->system == "http://loinc.org");
    BOOST_TEST(table->lookup("TWO")->code == "718-7");
    BOOST_TEST(table->lookup("X")->system == "http://snomed.info/sct");
    BOOST_TEST(table->hasDefault());
    BOOST_TEST(table->lookup("OLD")->code == "unknown");
    BOOST_TEST(table->lookup("NONE")->system == "http://snomed.info/sct");
    BOOST_TEST(*table->reverse("2345-7") == "GLU");
}

BOOST_AUTO_TEST_CASE(a_concept_map_without_name_is_named_by_id)
{
    TempDir dir;
    writeFile(dir.path() / "cm.json", R"({"resourceType": "ConceptMap", "id": "by-id",
        "group": [ { "element": [ { "code": "a", "target": [ { "code": "b" } ] } ] } ] })");
    CodeTables tables;
    tables.loadFile(dir.file("cm.json"));
    BOOST_REQUIRE(tables.find("by-id") != nullptr);
    BOOST_TEST(tables.find("by-id")->lookup("A")->code == "b");
}

BOOST_AUTO_TEST_CASE(concept_map_syntax_errors_give_line_and_column)
{
    TempDir dir;
    writeFile(dir.path() / "bad.json",
              "{\n  \"resourceType\": \"ConceptMap\",\n  \"name\": x\n}\n");
    CodeTables tables;
    BOOST_TEST(loadError([&] { tables.loadFile(dir.file("bad.json")); }) ==
               dir.file("bad.json") + ":3:11: malformed JSON: Invalid value.");
}

BOOST_AUTO_TEST_CASE(concept_map_content_errors_name_the_json_pointer)
{
    const auto error = [](const std::string& json) {
        TempDir dir;
        writeFile(dir.path() / "cm.json", json);
        CodeTables tables;
        const std::string what = loadError([&] { tables.loadFile(dir.file("cm.json")); });
        const std::string prefix = dir.file("cm.json") + ": ";
        return what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : "unexpected: " + what;
    };
    const std::string head = R"({"resourceType": "ConceptMap", "name": "n", )";
    BOOST_TEST(error("[]") == ": expected a ConceptMap resource (a JSON object)");
    BOOST_TEST(error(R"({"resourceType": "ValueSet"})") ==
               "/resourceType: expected \"ConceptMap\"");
    BOOST_TEST(error(R"({"resourceType": "ConceptMap", "name": 3})") == "/name: expected a string");
    BOOST_TEST(error(R"({"resourceType": "ConceptMap", "group": []})") ==
               "/name: the table name (name, else id) is missing or not a plain token of "
               "letters, digits, '-', '_' and '.'");
    BOOST_TEST(error(head + R"("group": {}})") == "/group: expected an array");
    BOOST_TEST(error(head + R"("group": []})") ==
               "/group: a ConceptMap used as a code table needs at least one group");
    BOOST_TEST(error(head + R"("group": [ { "element": [ { "target": [] } ] } ]})") ==
               "/group/0/element/0/code: missing: every element needs a source code");
    BOOST_TEST(
        error(head + R"("group": [ { "element": [ { "code": "a", "target": [ {} ] } ] } ]})") ==
        "/group/0/element/0/target/0/code: missing: a target that is not 'unmatched' needs "
        "a code");
    BOOST_TEST(error(head + R"("group": [ { "target": 1, "element": [] } ]})") ==
               "/group/0/target: expected a string");
    BOOST_TEST(
        error(head + R"("group": [ { "element": [ { "code": "a", "target": [ { "code": "b" } ] },
        { "code": "a", "target": [ { "code": "c" } ] } ] } ]})") ==
        "/group/0/element/1/code: the source code is already mapped at /group/0/element/0");
    BOOST_TEST(
        error(head + R"("group": [ { "element": [], "unmapped": { "mode": "provided" } } ]})") ==
        "/group/0/unmapped/mode: only mode 'fixed' is supported for a code table");
    BOOST_TEST(
        error(head + R"("group": [ { "element": [], "unmapped": { "mode": "fixed" } } ]})") ==
        "/group/0/unmapped/code: missing: mode 'fixed' needs a code");
    BOOST_TEST(error(head + R"("group": [ { "unmapped": { "mode": "fixed", "code": "x" } },
        { "unmapped": { "mode": "fixed", "code": "y" } } ]})") ==
               "/group/1/unmapped: a second fixed 'unmapped' default in the same ConceptMap");
}

BOOST_AUTO_TEST_CASE(a_tsv_and_a_concept_map_may_not_share_a_name)
{
    TempDir dir;
    writeFile(dir.path() / "tables" / "lab.tsv", "# table: lab\nGLU\t2345-7\n");
    writeFile(dir.path() / "conceptmaps" / "lab.json",
              R"({"resourceType": "ConceptMap", "name": "lab", "group": [ {} ]})");
    const std::string error = loadError([&] { CodeTables::loadDirectory(dir.path().string()); });
    BOOST_TEST(error == (dir.path() / "conceptmaps" / "lab.json").string() +
                            ": table 'lab' is already defined in " +
                            (dir.path() / "tables" / "lab.tsv").string());
}

BOOST_AUTO_TEST_CASE(every_shipped_table_loads)
{
    const CodeTables tables = CodeTables::loadDirectory(MappingsDir);
    const std::vector<std::string> names = tables.names();
    for (const Expected& expected : expectedTables()) {
        BOOST_TEST_CONTEXT(expected.table)
        {
            const CodeTable* table = tables.find(expected.table);
            BOOST_REQUIRE(table != nullptr);
            BOOST_TEST(table->size() > 0u);
            BOOST_TEST(std::filesystem::path(table->origin()).stem() == expected.table);
            BOOST_TEST(table->targetSystem() == expected.system);
            BOOST_TEST(table->sourceSystem().empty() ==
                       (expected.table == "sex-gbt2261" || expected.table == "abnormal-flags-lis"));
        }
    }
    BOOST_TEST(tables.find("lis-lab-codes") != nullptr);
    BOOST_TEST(names.size() >= expectedTables().size() + 1);
}

BOOST_AUTO_TEST_CASE(every_shipped_target_is_a_code_of_its_value_set)
{
    // Checked by target system, so tables added later with a known system are covered too.
    std::map<std::string, Expected> bySystem;
    for (const Expected& expected : expectedTables()) {
        bySystem.emplace(expected.system, expected);
    }
    const CodeTables tables = CodeTables::loadDirectory(MappingsDir);
    std::size_t tablesChecked = 0;
    for (const std::string& name : tables.names()) {
        const CodeTable* table = tables.find(name);
        const auto expected = bySystem.find(table->targetSystem());
        if (expected == bySystem.end()) {
            continue;
        }
        ++tablesChecked;
        BOOST_TEST_CONTEXT(name)
        {
            BOOST_TEST(!expected->second.codes.empty());
            // Every source code of the file, looked up, gives a code of the value set.
            std::size_t checked = 0;
            std::istringstream lines(hl7gw::test::readFile(table->origin()));
            std::string line;
            while (std::getline(lines, line)) {
                if (line.empty() || line[0] == '#') {
                    continue;
                }
                const std::string source = line.substr(0, line.find('\t'));
                const MappedCode* row = table->lookup(source);
                BOOST_REQUIRE(row != nullptr);
                ++checked;
                // A `*` target passes the v2 code through in its own system (the engine's rule).
                if (source == "*" && row->code == "*") {
                    BOOST_TEST(row->system != table->targetSystem());
                    continue;
                }
                BOOST_TEST_CONTEXT(source)
                {
                    BOOST_TEST(codesFor(expected->second, *row).count(row->code) == 1u);
                }
            }
            BOOST_TEST(checked == table->size() + (table->hasDefault() ? 1 : 0));
        }
    }
    BOOST_TEST(tablesChecked >= expectedTables().size());
}

BOOST_AUTO_TEST_CASE(shipped_tables_follow_standards_4_4)
{
    const CodeTables tables = CodeTables::loadDirectory(MappingsDir);
    const auto code = [&](const char* table, const char* source) {
        const MappedCode* row = tables.find(table)->lookup(source);
        return row == nullptr ? std::string("(none)") : row->code;
    };
    BOOST_TEST(code("sex", "A") == "other");
    BOOST_TEST(code("sex-gbt2261", "1") == "male");
    BOOST_TEST(code("sex-gbt2261", "9") == "unknown");
    BOOST_TEST(*tables.find("sex-gbt2261")->reverse("unknown") == "0");
    BOOST_TEST(code("appointment-status", "Started") == "checked-in");
    BOOST_TEST(code("appointment-status", "Dc") == "(none)");
    BOOST_TEST(*tables.find("appointment-status")->reverse("booked") == "Booked");
    BOOST_TEST(code("appointment-status-by-event", "S15") == "cancelled");
    BOOST_TEST(code("appointment-status-by-event", "S12") == "(none)");
    BOOST_TEST(code("encounter-status-by-event", "A08") == "(none)");
    BOOST_TEST(code("encounter-class", "O") == "AMB");
    BOOST_TEST(tables.find("encounter-class")->lookup("U")->system == Terminology + "v2-0004");
    BOOST_TEST(code("report-status", "Y") == "(none)");
    BOOST_TEST(code("order-control-status", "CA") == "active");
    BOOST_TEST(code("task-status", "E") == "failed");
    BOOST_TEST(code("abnormal-flags-lis", "↑") == "H");
}

BOOST_AUTO_TEST_CASE(the_shipped_concept_map_targets_loinc)
{
    const CodeTables tables = CodeTables::loadDirectory(MappingsDir);
    const CodeTable* table = tables.find("lis-lab-codes");
    BOOST_REQUIRE(table != nullptr);
    BOOST_TEST(table->targetSystem() == "http://loinc.org");
    BOOST_TEST(table->lookup("GLU")->code == "2345-7");
    BOOST_TEST(table->lookup("BLDTYPE") == nullptr); // unmatched: no LOINC on purpose
    const std::string text = hl7gw::test::readFile(table->origin());
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    BOOST_REQUIRE(!doc.HasParseError());
    BOOST_TEST(doc["status"].GetString() == std::string("draft"));
    std::size_t mapped = 0;
    for (const auto& element : doc["group"][0]["element"].GetArray()) {
        const MappedCode* row = table->lookup(element["code"].GetString());
        if (row != nullptr) {
            BOOST_TEST_CONTEXT(row->code)
            {
                BOOST_TEST(isLoincCode(row->code));
            }
            ++mapped;
        }
    }
    BOOST_TEST(mapped == table->size());
}

BOOST_AUTO_TEST_SUITE_END()
