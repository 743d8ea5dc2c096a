// The mapping language (mappings/README.md): load-time checks with file:line:column, and what
// the v2 -> FHIR and FHIR -> v2 engines do with small maps written for each rule.

#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/model/validator.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/mapping/fhir_to_v2.h"
#include "gateway/mapping/mapping_error.h"
#include "gateway/mapping/v2_to_fhir.h"
#include "tests/unit/test_support.h"

#include <boost/test/unit_test.hpp>

#include <Poco/TemporaryFile.h>

#include <fstream>

namespace hl7gw::test {
namespace {

namespace fs = std::filesystem;

/// A mappings directory in a temporary folder: files written by the test, removed after.
class MappingsDir {
  public:
    MappingsDir()
    {
        Poco::TemporaryFile::registerForDeletion(dir_.path());
        fs::create_directories(root() / "v2-to-fhir");
        fs::create_directories(root() / "fhir-to-v2");
        fs::create_directories(root() / "tables");
    }
    fs::path root() const { return dir_.path(); }
    void write(const std::string& relative, const std::string& text) const
    {
        fs::path path = root() / relative;
        fs::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary) << text;
    }
    std::shared_ptr<const mapping::MapSet> load() const
    {
        return mapping::MapSet::load(root().string());
    }
    /// The load error's text ("" when it loads).
    std::string loadError() const
    {
        try {
            load();
        } catch (const mapping::MappingLoadError& e) {
            return e.what();
        }
        return {};
    }

  private:
    Poco::TemporaryFile dir_;
};

const char* const sexTable =
    "# table: sex\n# system: http://hl7.org/fhir/administrative-gender\nM\tmale\nF\tfemale\n";

const char* const basicTypes = R"(type CX -> Identifier
  value = .1
  system = .4 | system

type XPN -> HumanName
  family = .1
  given = .2

type XCN -> Identifier
  value = .1
)";

struct Mapped {
    bool ok = false;
    rapidjson::Document bundle;
    core::IssueList issues;
};

Mapped mapText(const std::shared_ptr<const mapping::MapSet>& maps, const std::string& er7,
               const mapping::Dialect& dialect = mapping::Dialect::standard())
{
    Mapped out;
    hl7v2::Er7Parser parser;
    hl7v2::Message message;
    core::IssueList parseIssues;
    BOOST_REQUIRE(parser.parse(er7, message, parseIssues));
    mapping::V2ToFhir engine(maps, dialect);
    out.ok = engine.map(message, out.bundle, out.issues);
    return out;
}

const rapidjson::Value* firstResource(const rapidjson::Document& bundle, std::string_view type)
{
    for (const auto& entry : bundle["entry"].GetArray())
        if (type == entry["resource"]["resourceType"].GetString())
            return &entry["resource"];
    return nullptr;
}

std::size_t countResources(const rapidjson::Document& bundle, std::string_view type)
{
    std::size_t n = 0;
    for (const auto& entry : bundle["entry"].GetArray())
        n += type == entry["resource"]["resourceType"].GetString() ? 1 : 0;
    return n;
}

const std::string adtA01 =
    "MSH|^~\\&|HIS|HOSP^1.2.3^ISO|GW|GW|20261201083000||ADT^A01^ADT_A01|MSG1|P|2.5.1\r"
    "EVN|A01|20261201083000\r"
    "PID|1||P1^^^HIS~P2^^^OTHER||ZHANG^SAN~LI^SI||19900307|M|||||||||||||||||||||||\r"
    "PV1|1|I|W1^R2^B3||||D01^WANG^WU|D01^WANG^WU\r";

} // namespace

BOOST_AUTO_TEST_SUITE(MapLoading)

BOOST_AUTO_TEST_CASE(errors_name_file_line_and_column)
{
    struct Case {
        std::string text;
        std::string expected; // a part of what()
    };
    const std::vector<Case> cases = {
        {"resource p -> Patient\n\tbirthDate = PID-7\n", "p.map:2:1: tab in indentation"},
        {"resource p -> Patient\n  birthdate = PID-7\n",
         "p.map:2:3: Patient has no element `birthdate`"},
        {"resource p -> Patient\n  birthDate = PID-77\n", "p.map:2:3: `PID-77`: PID has 39 fields"},
        {"resource p -> Patient\n  gender = PID-8 | table(nope)\n",
         "p.map:2:3: no code table `nope`"},
        {"resource p -> Patient\n  gender = PID-8 | shout\n",
         "p.map:2:20: unknown function `shout`"},
        {"resource p -> Patient\n  name = PID-5\n", "p.map:2:3: no type map from XPN to HumanName"},
        {"resource p -> Patient\n  generalPractitioner = PID-3\n",
         "a Reference is made with @BINDING"},
        {"resource p -> Patient\n  value = PID-3\n", "Patient has no element `value`"},
        {"resource p -> Patient\n  deceased = PID-30\n", "`deceased` is a choice"},
        {"resource p -> Patient\n  birthDate = .1\n  gender = PID-8 | table(sex\n",
         "p.map:3:29: `(` not closed"},
        {"message m for ADT^A01\n  birthDate = PID-7\n",
         "a message map holds `resource`, `each` and `error`"},
        {"message m for ADT^A01\n  resource nobody\n", "no resource map `nobody`"},
        {"resource p -> Patient\n   birthDate = PID-7\n",
         "p.map:2:4: indentation is two spaces per level"},
        {"resource p -> Nobody\n  birthDate = PID-7\n", "`Nobody` is not a FHIR R4 resource type"},
        {"widget p\n", "p.map:1:1: a block starts with"},
        {"resource p -> Patient\n  birthDate = XYZ-1\n", "`XYZ` is not a v2 segment"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.text)
        {
            MappingsDir dir;
            dir.write("tables/sex.tsv", sexTable);
            dir.write("v2-to-fhir/p.map", c.text);
            std::string error = dir.loadError();
            BOOST_TEST(error.find(c.expected) != std::string::npos, "got: " << error);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_trigger_mapped_twice_is_an_error)
{
    MappingsDir dir;
    dir.write(
        "v2-to-fhir/a.map",
        "resource p -> Patient\n  birthDate = PID-7\n\nmessage one for ADT^A01\n  resource p\n");
    dir.write("v2-to-fhir/b.map", "message two for ADT^A04 ADT^A01\n  resource p\n");
    BOOST_TEST(dir.loadError().find("ADT^A01 is already mapped by `one`") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_shipped_maps_and_dialects_load_and_agree)
{
    auto maps =
        mapping::MapSet::load((dataDir().parent_path().parent_path() / "mappings").string());
    auto dialects = mapping::Dialect::loadDirectory(
        (dataDir().parent_path().parent_path() / "adapters").string());
    BOOST_TEST(dialects.size() == 6u);
    for (const auto& [name, dialect] : dialects)
        BOOST_CHECK_NO_THROW(maps->check(dialect));
    for (const char* trigger :
         {"ADT^A01", "SIU^S12", "ORU^R01", "ORM^O01", "REF^I12", "DFT^P03", "MDM^T02", "VXU^V04"}) {
        std::string t(trigger);
        BOOST_TEST(maps->messageMapFor(t.substr(0, 3), t.substr(4)) != nullptr, trigger);
    }
    for (const char* type : {"Appointment", "Patient", "ServiceRequest", "ChargeItem", "Task"})
        BOOST_TEST(maps->outboundMapFor(type) != nullptr, type);
    // A dialect that names no map gets the first by file path: SIU and OML stay the defaults.
    BOOST_TEST(maps->outboundMapFor("Appointment") == maps->outboundMap("appointment-siu"));
    BOOST_TEST(maps->outboundMapFor("ServiceRequest") == maps->outboundMap("servicerequest-oml"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(V2ToFhirEngine)

BOOST_AUTO_TEST_CASE(repeats_first_values_overrides_and_conditions)
{
    MappingsDir dir;
    dir.write("tables/sex.tsv", sexTable);
    dir.write("v2-to-fhir/types.map", basicTypes);
    dir.write("v2-to-fhir/p.map", R"(resource patient -> Patient
  key identifier
  identifier = PID-3
  name = PID-5
  birthDate = PID-7
  gender = PID-8 | table(sex)
  active = true
  active = false when PID-30
  maritalStatus.text = "unknown"
  maritalStatus.text = PID-16 | default("not given")

message adt for ADT^A01
  resource patient
)");
    Mapped m = mapText(dir.load(), adtA01);
    BOOST_REQUIRE_MESSAGE(m.ok, (m.issues.size() ? m.issues[0].text : std::string()));
    const rapidjson::Value* patient = firstResource(m.bundle, "Patient");
    BOOST_REQUIRE(patient);
    BOOST_TEST((*patient)["identifier"].Size() == 2u); // one per repetition
    BOOST_TEST((*patient)["identifier"][1]["system"].GetString() ==
               std::string("urn:hl7gw:id:OTHER"));
    BOOST_TEST((*patient)["name"].Size() == 2u);
    BOOST_TEST((*patient)["name"][0]["family"].GetString() == std::string("ZHANG"));
    BOOST_TEST((*patient)["birthDate"].GetString() == std::string("1990-03-07"));
    BOOST_TEST((*patient)["gender"].GetString() == std::string("male"));
    BOOST_TEST((*patient)["active"].GetBool()); // the condition did not hold
    BOOST_TEST((*patient)["maritalStatus"]["text"].GetString() == std::string("not given"));
    // The key makes a conditional update; `|` in the token is the separator, escaped inside.
    const auto& entry = m.bundle["entry"][0];
    BOOST_TEST(entry["request"]["method"].GetString() == std::string("PUT"));
    BOOST_TEST(entry["request"]["url"].GetString() ==
               std::string("Patient?identifier=urn:hl7gw:id:HIS%7CP1"));
    core::IssueList invalid;
    fhir::validateResource(*patient, invalid);
    BOOST_TEST(!invalid.hasErrors());
}

BOOST_AUTO_TEST_CASE(the_same_message_gives_the_same_bundle_and_one_resource_per_key)
{
    MappingsDir dir;
    dir.write("v2-to-fhir/types.map", basicTypes);
    dir.write("v2-to-fhir/e.map", R"(resource doctor -> Practitioner
  key identifier
  identifier = .

resource encounter -> Encounter
  status = "in-progress"
  class = PV1-2 | coding(http://terminology.hl7.org/CodeSystem/v3-ActCode)
  participant for PV1-7
    individual = . | resource(doctor)
  participant for PV1-8
    individual = . | resource(doctor)

message adt for ADT^A01
  resource encounter
)");
    auto maps = dir.load();
    Mapped a = mapText(maps, adtA01);
    Mapped b = mapText(maps, adtA01);
    BOOST_REQUIRE(a.ok && b.ok);
    BOOST_TEST(fhir::writeJson(a.bundle) == fhir::writeJson(b.bundle));
    BOOST_TEST(countResources(a.bundle, "Practitioner") == 1u); // PV1-7 and PV1-8 are one doctor
    const rapidjson::Value* encounter = firstResource(a.bundle, "Encounter");
    BOOST_REQUIRE(encounter);
    BOOST_TEST((*encounter)["participant"].Size() == 2u);
    BOOST_TEST(std::string((*encounter)["participant"][0]["individual"]["reference"].GetString()) ==
               (*encounter)["participant"][1]["individual"]["reference"].GetString());
    BOOST_TEST(std::string(a.bundle["entry"][0]["fullUrl"].GetString()).rfind("urn:uuid:", 0) ==
               0u);
}

BOOST_AUTO_TEST_CASE(data_errors_name_the_v2_position_and_the_map_line)
{
    MappingsDir dir;
    dir.write("tables/sex.tsv", sexTable);
    dir.write("v2-to-fhir/p.map", R"(resource patient -> Patient
  birthDate = PID-7
  gender = PID-8 | table(sex)

message adt for ADT^A01
  resource patient
)");
    auto maps = dir.load();
    std::string badDate = adtA01;
    badDate.replace(badDate.find("19900307"), 8, "19901307");
    Mapped m = mapText(maps, badDate);
    BOOST_TEST(!m.ok);
    BOOST_REQUIRE(m.issues.size() == 1u);
    BOOST_TEST(m.issues[0].location.toString() == "PID[1]-7[1]");
    BOOST_TEST(m.issues[0].text.find("p.map:2 (birthDate)") != std::string::npos, m.issues[0].text);
    BOOST_TEST(m.issues[0].code == "102");
    BOOST_TEST(m.issues[0].text.find("19901307") == std::string::npos); // no patient data in texts

    std::string badSex = adtA01;
    badSex.replace(badSex.find("|M|"), 3, "|X|");
    Mapped s = mapText(maps, badSex);
    BOOST_TEST(!s.ok);
    BOOST_REQUIRE(s.issues.size() == 1u);
    BOOST_TEST(s.issues[0].code == "103");
    BOOST_TEST(s.issues[0].location.toString() == "PID[1]-8[1]");

    std::string orm = adtA01;
    orm.replace(orm.find("ADT^A01^ADT_A01"), 15, "ZZZ^Z01");
    Mapped none = mapText(maps, orm);
    BOOST_TEST(!none.ok);
    BOOST_TEST(none.issues[0].code == "200");
}

// A bed is known by the whole PL: components joined, escapes decoded, sub-components kept,
// trailing empty ones dropped; the key makes it a conditional create on that identifier.
BOOST_AUTO_TEST_CASE(components_join_a_composite_into_one_key)
{
    MappingsDir dir;
    dir.write("v2-to-fhir/l.map", R"(resource location -> Location
  key identifier create
  identifier
    value = . | components("^")
  name = .3

resource encounter -> Encounter
  status = "unknown"
  class = "IMP" | coding(http://terminology.hl7.org/CodeSystem/v3-ActCode)
  location for PV1-3
    location = . | resource(location)

message adt for ADT^A01
  resource encounter
)");
    const std::string adt = "MSH|^~\\&|HIS|HOSP|GW|GW|20261201083000||ADT^A01^ADT_A01|M3|P|2.5.1\r"
                            "PID|1||P1\r"
                            "PV1|1|I|心内\\T\\病区^0312^02^HOSP&1.2.3&ISO^^^^^^^\r";
    Mapped m = mapText(dir.load(), adt);
    BOOST_REQUIRE_MESSAGE(m.ok, (m.issues.size() ? m.issues[0].text : std::string()));
    BOOST_REQUIRE(countResources(m.bundle, "Location") == 1u);
    const rapidjson::Value* bed = firstResource(m.bundle, "Location");
    BOOST_TEST((*bed)["identifier"][0]["value"].GetString() ==
               std::string("心内&病区^0312^02^HOSP&1.2.3&ISO"));
    BOOST_TEST((*bed)["name"].GetString() == std::string("02"));
    for (const auto& entry : m.bundle["entry"].GetArray()) {
        if (std::string_view(entry["resource"]["resourceType"].GetString()) == "Location") {
            BOOST_TEST(entry["request"]["method"].GetString() == std::string("POST"));
            BOOST_TEST(
                std::string(entry["request"]["ifNoneExist"].GetString()).find("identifier=%7C") ==
                0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(groups_scope_paths_and_bindings)
{
    MappingsDir dir;
    dir.write("v2-to-fhir/r.map", R"(resource obs -> Observation
  status = "final"
  code.text = OBX-3.2
  valueString = OBX-5 | join("\n")
  subject = @patient

resource report -> DiagnosticReport
  status = "final"
  code.text = OBR-4.2
  result = @obs
  conclusion = NTE[*]-3 | join(" / ")

resource patient -> Patient
  birthDate = PID-7

message oru for ORU^R01
  resource patient
  each ORDER_OBSERVATION
    each OBSERVATION
      resource obs
    resource report
)");
    const std::string oru = "MSH|^~\\&|LIS|HOSP|GW|GW|20261201083000||ORU^R01^ORU_R01|M2|P|2.5.1\r"
                            "PID|1||P1||ZHANG^SAN||19900307\r"
                            "OBR|1||F1|GLU^血糖\r"
                            "NTE|1||空腹\r"
                            "OBX|1|TX|A^第一行||line one\\.br\\line two~second rep\r"
                            "ZXX|ignored|inside the group\r"
                            "OBX|2|ST|B^second||2\r"
                            "OBR|2||F2|K^钾\r"
                            "OBX|1|ST|C^third||3\r";
    Mapped m = mapText(dir.load(), oru);
    BOOST_REQUIRE_MESSAGE(m.ok, (m.issues.size() ? m.issues[0].text : std::string()));
    BOOST_TEST(countResources(m.bundle, "Observation") == 3u);
    BOOST_TEST(countResources(m.bundle, "DiagnosticReport") == 2u);
    std::vector<const rapidjson::Value*> reports;
    for (const auto& entry : m.bundle["entry"].GetArray())
        if (std::string_view(entry["resource"]["resourceType"].GetString()) == "DiagnosticReport")
            reports.push_back(&entry["resource"]);
    BOOST_TEST((*reports[0])["result"].Size() == 2u); // only its own group's observations
    BOOST_TEST((*reports[1])["result"].Size() == 1u);
    BOOST_TEST((*reports[0])["code"]["text"].GetString() == std::string("血糖"));
    BOOST_TEST((*reports[0])["conclusion"].GetString() == std::string("空腹"));
    BOOST_TEST(!reports[1]->HasMember("conclusion"));
    const rapidjson::Value* first = firstResource(m.bundle, "Observation");
    // \.br\ is a line break; repetitions joined by the map's separator.
    BOOST_TEST((*first)["valueString"].GetString() ==
               std::string("line one\nline two\nsecond rep"));
    BOOST_TEST(std::string((*first)["subject"]["reference"].GetString()).rfind("urn:uuid:", 0) ==
               0u);
}

BOOST_AUTO_TEST_CASE(times_get_the_dialect_zone_and_durations_become_minutes)
{
    MappingsDir dir;
    dir.write("v2-to-fhir/a.map", R"(resource appointment -> Appointment
  status = "booked"
  start = SCH-11.4
  minutesDuration = SCH-9 | minutes(SCH-10)
  participant
    status = "accepted"
    actor.display = "x"

message siu for SIU^S12
  resource appointment
)");
    const std::string siu = "MSH|^~\\&|HIS|HOSP|GW|GW|20261201083000||SIU^S12|M3|P|2.5.1\r"
                            "SCH|1|2|||||||2|H|^^^202612030900\r";
    mapping::Dialect dialect = mapping::Dialect::standard();
    Mapped china = mapText(dir.load(), siu, dialect);
    BOOST_REQUIRE(china.ok);
    const rapidjson::Value* a = firstResource(china.bundle, "Appointment");
    BOOST_TEST((*a)["start"].GetString() == std::string("2026-12-03T09:00:00+08:00"));
    BOOST_TEST(fhir::numberText((*a)["minutesDuration"]) == "120");
    dialect.offsetMinutes = 330;
    Mapped india = mapText(dir.load(), siu, dialect);
    BOOST_TEST((*firstResource(india.bundle, "Appointment"))["start"].GetString() ==
               std::string("2026-12-03T09:00:00+05:30"));
}

BOOST_AUTO_TEST_CASE(a_map_that_applies_itself_stops_with_an_error_not_a_crash)
{
    MappingsDir dir;
    dir.write("v2-to-fhir/loop.map", R"(type CWE CE -> CodeableConcept
  text = .2
  extension(urn:x).valueCodeableConcept = .

resource condition -> Condition
  code = DG1-3
  subject = @patient

resource patient -> Patient
  birthDate = PID-7

message adt for ADT^A01
  resource patient
  each DG1
    resource condition
)");
    std::string message = adtA01 + "DG1|1||I10^Essential hypertension^I10\r";
    Mapped m = mapText(dir.load(), message);
    BOOST_TEST(!m.ok);
    BOOST_REQUIRE(m.issues.size() == 1u);
    BOOST_TEST(m.issues[0].text.find("nest deeper than 32") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(FhirToV2Engine)

BOOST_AUTO_TEST_CASE(segments_follow_references_filter_and_repeat)
{
    MappingsDir dir;
    dir.write("tables/status-out.tsv",
              "# table: status-out\nbooked\tBooked\ncancelled\tCancelled\n");
    dir.write("fhir-to-v2/out.map", R"(outtype Identifier -> CX EI
  1 = value

outtype HumanName -> XPN
  1.1 = family
  2 = given[0]

outbound appt for Appointment
  message SIU S12
  event S15 when status = "cancelled"
  segment SCH
    2 = identifier[type.coding.code=FILL]
    25.1 = status | table(status-out)
  segment NTE
    3 = comment
  segment PID from participant.actor->Patient
    3 = identifier
    5 = name
  segment AIP for participant[actor->Practitioner]
    1 = $index
    3.1 = actor->Practitioner.identifier[0].value
)");
    auto maps = dir.load();
    std::string json = R"({"resourceType":"Bundle","type":"collection","entry":[
      {"fullUrl":"Appointment/a","resource":{"resourceType":"Appointment","id":"a","status":"cancelled",
        "meta":{"lastUpdated":"2026-12-01T08:00:00+08:00"},
        "identifier":[{"value":"P-1","type":{"coding":[{"code":"PLAC"}]}},{"value":"F-1","type":{"coding":[{"code":"FILL"}]}}],
        "comment":"a|b^c","participant":[{"actor":{"reference":"Patient/p"},"status":"accepted"},
        {"actor":{"reference":"Practitioner/d1"},"status":"accepted"},{"actor":{"reference":"Practitioner/d2"},"status":"accepted"}]}},
      {"fullUrl":"Patient/p","resource":{"resourceType":"Patient","id":"p","identifier":[{"value":"X1"},{"value":"X2"}],"name":[{"family":"张","given":["三"]}]}},
      {"fullUrl":"Practitioner/d1","resource":{"resourceType":"Practitioner","id":"d1","identifier":[{"value":"D1"}]}},
      {"fullUrl":"Practitioner/d2","resource":{"resourceType":"Practitioner","id":"d2","identifier":[{"value":"D2"}]}}]})";
    rapidjson::Document input;
    core::Issue issue;
    BOOST_REQUIRE(fhir::parseJson(json, input, issue));
    mapping::FhirToV2 engine(maps, mapping::Dialect::standard());
    std::string er7;
    core::IssueList issues;
    BOOST_REQUIRE(engine.map(input, er7, issues, {}));
    std::vector<std::string> segments;
    for (std::size_t start = 0, end; start < er7.size(); start = end + 1) {
        end = er7.find('\r', start);
        segments.push_back(er7.substr(start, end - start));
    }
    BOOST_REQUIRE(segments.size() == 6u);
    BOOST_TEST(segments[0].find("|SIU^S15^SIU_S12|") != std::string::npos); // the event rule won
    BOOST_TEST(segments[0].find("|20261201080000+0800|") != std::string::npos);
    BOOST_TEST(segments[1] == "SCH||F-1" + std::string(23, '|') + "Cancelled");
    BOOST_TEST(segments[2] == "NTE|||a\\F\\b\\S\\c"); // delimiters in text are escaped
    BOOST_TEST(segments[3] == "PID|||X1~X2||张^三");
    BOOST_TEST(segments[4] == "AIP|1||D1");
    BOOST_TEST(segments[5] == "AIP|2||D2");
    // The message reads back with the codec.
    hl7v2::Er7Parser parser;
    hl7v2::Message message;
    core::IssueList parseIssues;
    BOOST_TEST(parser.parse(er7, message, parseIssues));
    BOOST_TEST(message.triggerEvent() == "S15");
}

BOOST_AUTO_TEST_CASE(an_event_writes_its_own_structure_and_negate_turns_the_sign)
{
    MappingsDir dir;
    dir.write("fhir-to-v2/out.map", R"(outbound person for Patient
  message ADT A28 ADT_A05
  event A31 when meta.versionId != "1"
  event A40 when link[type=replaced-by]
  event A47 ADT_A30 when link[type=seealso]
  segment EVN
    2 = meta.lastUpdated
  segment PID
    3.1 = identifier[0].value
    5.1 = multipleBirthInteger | negate
)");
    auto maps = dir.load();
    auto run = [&](const std::string& json) {
        rapidjson::Document input;
        core::Issue issue;
        BOOST_REQUIRE(fhir::parseJson(json, input, issue));
        mapping::FhirToV2 engine(maps, mapping::Dialect::standard());
        std::string er7;
        core::IssueList issues;
        bool ok = engine.map(input, er7, issues, {});
        return ok ? er7 : "failed: " + (issues.size() ? issues[0].text : std::string());
    };
    // No event holds: the message's structure.
    BOOST_TEST(
        run(R"({"resourceType":"Patient","meta":{"versionId":"1"}})").find("|ADT^A28^ADT_A05|") !=
        std::string::npos);
    // A31 shares ADT_A05; A40 is ADT_A39 in the event table; A47 names its structure.
    BOOST_TEST(
        run(R"({"resourceType":"Patient","meta":{"versionId":"2"}})").find("|ADT^A31^ADT_A05|") !=
        std::string::npos);
    std::string merge = run(R"({"resourceType":"Patient","meta":{"versionId":"2"},
        "identifier":[{"value":"OLD-1"}],"multipleBirthInteger":2,
        "link":[{"type":"replaced-by","other":{"reference":"Patient/new"}}]})");
    BOOST_TEST(merge.find("|ADT^A40^ADT_A39|") != std::string::npos, merge);
    BOOST_TEST(merge.find("\rPID|||OLD-1||-2\r") != std::string::npos, merge);
    BOOST_TEST(run(R"({"resourceType":"Patient","link":[{"type":"seealso","other":{}}]})")
                   .find("|ADT^A47^ADT_A30|") != std::string::npos);
    // negate keeps the digits as written; a value that is no decimal is a data error.
    dir.write("fhir-to-v2/out.map", R"(outbound charge for ChargeItem
  message DFT P03
  segment FT1
    6 = "CG"
    6 = "CD" when quantity.value ^= "-"
    10 = quantity.value | negate
    11.1.1 = priceOverride.value | negate when priceOverride.value = "36.50"
)");
    maps = dir.load();
    // Conditions read a number as its text (not the JSON model's marked string).
    BOOST_TEST(run(R"({"resourceType":"ChargeItem","quantity":{"value":-2},
        "priceOverride":{"value":36.50,"currency":"CNY"}})")
                   .find("\rFT1||||||CD||||2|-36.50\r") != std::string::npos);
    BOOST_TEST(run(R"({"resourceType":"ChargeItem","quantity":{"value":0}})")
                   .find("\rFT1||||||CG||||0\r") != std::string::npos);
    dir.write("fhir-to-v2/out.map", R"(outbound charge for ChargeItem
  message DFT P03
  segment FT1
    7.1 = code.text | negate
)");
    maps = dir.load();
    std::string bad = run(R"({"resourceType":"ChargeItem","code":{"text":"1-2"}})");
    BOOST_TEST(bad.find("failed: ") == 0u, bad);
    BOOST_TEST(bad.find("`negate` needs a decimal number") != std::string::npos, bad);
    // negate is FHIR -> v2 only.
    MappingsDir inbound;
    inbound.write("v2-to-fhir/in.map", "resource p -> Patient\n  birthDate = PID-7 | negate\n");
    BOOST_TEST(inbound.loadError().find("`negate` belongs in FHIR -> v2 maps") != std::string::npos,
               inbound.loadError());
}

BOOST_AUTO_TEST_CASE(outbound_load_errors_name_the_line)
{
    MappingsDir dir;
    dir.write(
        "fhir-to-v2/out.map",
        "outbound appt for Appointment\n  message SIU S12\n  segment SCH\n    2 = identifer\n");
    std::string error = dir.loadError();
    BOOST_TEST(error.find("out.map:4:5: `identifer`: Appointment has no element `identifer`") !=
                   std::string::npos,
               error);
    MappingsDir writer;
    writer.write(
        "fhir-to-v2/out.map",
        "outbound appt for Appointment\n  message SIU S12\n  segment SCH\n    2 = identifier\n");
    BOOST_TEST(writer.loadError().find("no writer from Identifier to EI") != std::string::npos,
               writer.loadError());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace hl7gw::test
