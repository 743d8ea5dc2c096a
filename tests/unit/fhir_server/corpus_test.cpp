// The official R4 examples through the REST server, on both backends: each one created from
// JSON and from XML, read back as JSON equal to the example and as schema-valid XML. And our
// own output (capabilities, read-backs, search, history, transaction, errors) checked by two
// validators that share no code with the gateway (tests/fhir-validate/validate.js).

#include "gateway/fhir/model/detail/xerces_init.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/model/xml_codec.h"
#include "tests/unit/fhir_model/test_corpus.h"
#include "tests/unit/fhir_server/fhir_server_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/parsers/XercesDOMParser.hpp>
#include <xercesc/sax/HandlerBase.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/validators/common/Grammar.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
namespace corpus = hl7gw::fhir::test;
using hl7gw::test::Backend;
using hl7gw::test::Backends;
using hl7gw::test::FhirFixture;
using hl7gw::test::Reply;

namespace {

const std::vector<std::pair<std::string, std::string>> AsXml{
    {"Content-Type", "application/fhir+xml"}};
const std::vector<std::pair<std::string, std::string>> WantJson{
    {"Accept", "application/fhir+json"}};

rapidjson::Document parse(const std::string& text)
{
    rapidjson::Document doc;
    hl7gw::core::Issue issue;
    BOOST_TEST_REQUIRE(hl7gw::fhir::parseJson(text, doc, issue), issue.text);
    return doc;
}

std::string describe(const hl7gw::core::IssueList& issues)
{
    std::ostringstream out;
    for (const auto& issue : issues) {
        out << issue.code << " at " << issue.location.path << ": " << issue.text << "; ";
    }
    return out.str();
}

/// Narrative XHTML with the entities an XML reader does not keep (&quot; &apos;) spelled out,
/// and unless told otherwise runs of whitespace collapsed and whitespace between tags dropped
/// (as in tests/unit/fhir_model/xml_codec_test).
std::string normalizeDiv(std::string_view text, bool collapseWhitespace = true)
{
    std::string decoded;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text.substr(i, 6) == "&quot;") {
            decoded += '"';
            i += 5;
        } else if (text.substr(i, 6) == "&apos;") {
            decoded += '\'';
            i += 5;
        } else {
            decoded += text[i];
        }
    }
    if (!collapseWhitespace) {
        return decoded;
    }
    std::string out;
    bool space = false;
    for (const char c : decoded) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            space = true;
            continue;
        }
        if (space && !out.empty() && out.back() != '>' && c != '<') {
            out += ' ';
        }
        space = false;
        out += c;
    }
    return out;
}

/// How two documents are compared: exactly (the default), or as the official XML example
/// against the official JSON one, whose narratives and some decimals were rendered separately.
struct Comparison {
    bool normalizeDivs = false;  // narratives compared by normalizeDiv()
    bool divWhitespace = true;   // normalizeDiv() collapses whitespace
    bool tolerateDivs = false;   // differing narratives listed in divDiffs, not failed
    bool numbersByValue = false; // Observation-decimal: "1.0e0" against 1.0
    std::vector<std::string> divDiffs;
};

/// Same members (order ignored), arrays and values; `where` gets the first difference.
bool contentEqual(const rapidjson::Value& a, const rapidjson::Value& b, const std::string& path,
                  std::string& where, Comparison& how)
{
    if (a.GetType() != b.GetType()) {
        where = path + " (kind)";
        return false;
    }
    if (a.IsObject()) {
        for (auto it = b.MemberBegin(); it != b.MemberEnd(); ++it) {
            if (!a.HasMember(it->name)) {
                where = path + "." + it->name.GetString() + " (unexpected)";
                return false;
            }
        }
        for (auto it = a.MemberBegin(); it != a.MemberEnd(); ++it) {
            const std::string key = it->name.GetString();
            const auto other = b.FindMember(it->name);
            if (other == b.MemberEnd()) {
                where = path + "." + key + " (missing)";
                return false;
            }
            if (key == "div" && how.normalizeDivs && it->value.IsString() &&
                other->value.IsString()) {
                const std::string x = normalizeDiv(it->value.GetString(), how.divWhitespace);
                const std::string y = normalizeDiv(other->value.GetString(), how.divWhitespace);
                if (x == y) {
                    continue;
                }
                if (how.tolerateDivs) {
                    how.divDiffs.push_back(path + ".div");
                    continue;
                }
                where = path + ".div: " + x.substr(0, 200) + " <> " + y.substr(0, 200);
                return false;
            }
            if (!contentEqual(it->value, other->value, path + "." + key, where, how)) {
                return false;
            }
        }
        return true;
    }
    if (a.IsArray()) {
        if (a.Size() != b.Size()) {
            where = path + " (array size)";
            return false;
        }
        for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
            if (!contentEqual(a[i], b[i], path + "[" + std::to_string(i) + "]", where, how)) {
                return false;
            }
        }
        return true;
    }
    if (how.numbersByValue && hl7gw::fhir::isNumber(a) && hl7gw::fhir::isNumber(b) &&
        hl7gw::fhir::numberValue(a) == hl7gw::fhir::numberValue(b)) {
        return true;
    }
    if (a != b) {
        where = path + " (value " + hl7gw::fhir::writeJson(a) + " <> " + hl7gw::fhir::writeJson(b) +
                ")";
        return false;
    }
    return true;
}

bool contentEqual(const rapidjson::Value& a, const rapidjson::Value& b, std::string& where)
{
    Comparison exact;
    return contentEqual(a, b, "", where, exact);
}

/// A copy without what the server assigns: id, meta.versionId, meta.lastUpdated (and meta
/// itself when nothing else was in it).
rapidjson::Document withoutServerFields(const rapidjson::Value& resource)
{
    rapidjson::Document copy;
    copy.CopyFrom(resource, copy.GetAllocator());
    if (!copy.IsObject()) {
        return copy;
    }
    copy.RemoveMember("id");
    auto meta = copy.FindMember("meta");
    if (meta != copy.MemberEnd() && meta->value.IsObject()) {
        meta->value.RemoveMember("versionId");
        meta->value.RemoveMember("lastUpdated");
        if (meta->value.ObjectEmpty()) {
            copy.RemoveMember("meta");
        }
    }
    return copy;
}

std::string member(const rapidjson::Value& object, const char* name)
{
    if (!object.IsObject() || !object.HasMember(name) || !object[name].IsString()) {
        return {};
    }
    return object[name].GetString();
}

/// The id in a Location header "[base]/[type]/[id]/_history/[vid]" ("" when malformed).
std::string idFromLocation(const std::string& location, const std::string& type)
{
    const std::string marker = "/" + type + "/";
    const auto at = location.rfind(marker);
    if (at == std::string::npos) {
        return {};
    }
    const auto start = at + marker.size();
    const auto end = location.find('/', start);
    return location.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

/// fhir-single.xsd loaded once into a Xerces grammar pool, reused by every validation.
class XsdValidator {
  public:
    XsdValidator()
    {
        hl7gw::fhir::detail::ensureXercesInitialized();
        parser_ = std::make_unique<xercesc::XercesDOMParser>();
        parser_->setDoNamespaces(true);
        parser_->setDoSchema(true);
        parser_->setValidationScheme(xercesc::XercesDOMParser::Val_Always);
        parser_->setValidationSchemaFullChecking(false);
        parser_->setErrorHandler(&errors_);
        parser_->cacheGrammarFromParse(true);
        parser_->useCachedGrammarInParse(true);
        const std::string xsd = (corpus::fhirCorpus() / "schema/xsd/fhir-single.xsd").string();
        loaded_ =
            parser_->loadGrammar(xsd.c_str(), xercesc::Grammar::SchemaGrammarType, true) != nullptr;
    }

    bool loaded() const { return loaded_; }

    /// "" when valid, else the first error.
    std::string validate(const std::string& xml)
    {
        errors_.first.clear();
        const xercesc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(xml.data()),
                                                xml.size(), "reply");
        try {
            parser_->parse(source);
        } catch (const xercesc::SAXParseException&) {
            // Kept by the handler.
        }
        parser_->resetDocumentPool();
        return errors_.first;
    }

  private:
    struct Errors : xercesc::HandlerBase {
        std::string first;
        void error(const xercesc::SAXParseException& e) override { keep(e); }
        void fatalError(const xercesc::SAXParseException& e) override { keep(e); }
        void keep(const xercesc::SAXParseException& e)
        {
            if (first.empty()) {
                first = "line " + std::to_string(e.getLineNumber()) + ", column " +
                        std::to_string(e.getColumnNumber()) + ": " +
                        hl7gw::fhir::detail::toUtf8(e.getMessage());
            }
        }
    };

    Errors errors_;
    std::unique_ptr<xercesc::XercesDOMParser> parser_;
    bool loaded_ = false;
};

/// Checks a read-back: 200, JSON, the given id, version 1, a lastUpdated.
bool readBackOk(const Reply& read, const std::string& id, const std::string& what)
{
    BOOST_TEST(read.status == 200, what << ": read " << read.status << " " << read.body);
    BOOST_TEST(read.header("content-type") == "application/fhir+json; charset=utf-8",
               what << ": " << read.header("content-type"));
    if (read.status != 200 || !read.json.IsObject()) {
        return false;
    }
    BOOST_TEST(member(read.json, "id") == id, what);
    const bool hasMeta = read.json.HasMember("meta") && read.json["meta"].IsObject();
    BOOST_TEST(hasMeta, what << ": no meta");
    if (hasMeta) {
        BOOST_TEST(member(read.json["meta"], "versionId") == "1", what);
        BOOST_TEST(!member(read.json["meta"], "lastUpdated").empty(), what);
        BOOST_TEST(read.header("etag") == "W/\"1\"", what);
    }
    return true;
}

/// GET path?_format=xml: 200, application/fhir+xml, valid against fhir-single.xsd, and read
/// back the same content as the JSON read `json`.
bool xmlReadOk(FhirFixture& fx, XsdValidator& xsd, const std::string& path, const Reply& json,
               const std::string& what)
{
    const Reply asXml = fx.get(path + "?_format=xml");
    BOOST_TEST(asXml.status == 200, what << ": XML read " << asXml.status);
    BOOST_TEST(asXml.header("content-type") == "application/fhir+xml; charset=utf-8",
               what << ": XML read " << asXml.header("content-type"));
    const std::string schemaError = xsd.validate(asXml.body);
    BOOST_TEST(schemaError.empty(), what << ": XML read fails fhir-single.xsd: " << schemaError);
    rapidjson::Document back;
    hl7gw::core::IssueList issues;
    const bool decoded = hl7gw::fhir::xmlToJson(asXml.body, back, issues);
    BOOST_TEST(decoded, what << ": XML read " << describe(issues));
    // Exact but for &quot; and &apos; in narratives, which XML does not keep apart from " and '.
    Comparison entities;
    entities.normalizeDivs = true;
    entities.divWhitespace = false;
    std::string where;
    const bool same = decoded && contentEqual(json.json, back, "", where, entities);
    BOOST_TEST(same, what << ": XML read differs from the JSON read at " << where);
    return schemaError.empty() && same;
}

struct Counts {
    std::size_t files = 0;
    std::size_t json = 0;              // created from JSON, read back equal
    std::size_t xml = 0;               // created from XML, read back equal to the JSON example
    std::size_t jsonXmlRead = 0;       // the same, for the resources created from JSON
    std::size_t xmlRead = 0;           // read as XML, schema-valid and equal to the JSON read
    std::vector<std::string> divDiffs; // narratives the official XML and JSON word differently
};

void roundTrip(FhirFixture& fx, XsdValidator& xsd, const fs::path& jsonPath, Counts& counts)
{
    const std::string name = jsonPath.filename().string();
    const std::string jsonText = corpus::readFile(jsonPath);
    const rapidjson::Document example = parse(jsonText);
    const std::string type = member(example, "resourceType");
    const rapidjson::Document expected = withoutServerFields(example);
    ++counts.files;

    // 1. JSON in, JSON out.
    const Reply created = fx.post(type, jsonText);
    BOOST_TEST(created.status == 201,
               name << ": create " << created.status << " " << created.body.substr(0, 400));
    if (created.status == 201) {
        const std::string id = created.text("id");
        BOOST_TEST(!id.empty(), name);
        BOOST_TEST(idFromLocation(created.header("location"), type) == id,
                   name << ": Location " << created.header("location"));
        const Reply read = fx.get(type + "/" + id);
        std::string where;
        if (readBackOk(read, id, name + " (JSON)")) {
            const bool same = contentEqual(expected, withoutServerFields(read.json), where);
            BOOST_TEST(same, name << " (JSON) read back differs at " << where);
            BOOST_TEST(contentEqual(read.json, created.json, where),
                       name << ": the create reply differs from the read at " << where);
            counts.json += same ? 1 : 0;
            counts.jsonXmlRead +=
                xmlReadOk(fx, xsd, type + "/" + id, read, name + " (JSON, read as XML)") ? 1 : 0;
        }
    }

    // 2. The official XML in, JSON out: equal to the JSON example.
    const fs::path xmlPath =
        corpus::fhirCorpus() / "examples/xml" / jsonPath.filename().replace_extension(".xml");
    const Reply createdXml = fx.post(type, corpus::readFile(xmlPath), AsXml);
    BOOST_TEST(createdXml.status == 201, name << ": XML create " << createdXml.status << " "
                                              << createdXml.body.substr(0, 400));
    if (createdXml.status != 201) {
        return;
    }
    const std::string id = idFromLocation(createdXml.header("location"), type);
    BOOST_TEST(!id.empty(), name << ": XML create Location " << createdXml.header("location"));
    const Reply read = fx.get(type + "/" + id, WantJson);
    if (!readBackOk(read, id, name + " (XML)")) {
        return;
    }
    Comparison official;
    official.normalizeDivs = true;
    official.tolerateDivs = true;
    official.numbersByValue = name == "Observation-decimal.json";
    std::string where;
    const bool same = contentEqual(expected, withoutServerFields(read.json), "", where, official);
    BOOST_TEST(same, name << " (XML) read back differs from the JSON example at " << where);
    counts.xml += same ? 1 : 0;
    for (const auto& diff : official.divDiffs) {
        counts.divDiffs.push_back(name + diff);
    }
    // Whatever differs from the JSON example must come from the official XML itself: the
    // read-back equals the model codec's own reading of that file, exactly.
    rapidjson::Document direct;
    hl7gw::core::IssueList directIssues;
    BOOST_TEST(hl7gw::fhir::xmlToJson(corpus::readFile(xmlPath), direct, directIssues),
               name << ": " << describe(directIssues));
    BOOST_TEST(contentEqual(withoutServerFields(direct), withoutServerFields(read.json), where),
               name << " (XML) read back differs from the codec's reading at " << where);

    // 3. Read as XML: schema-valid, and the same content as the JSON read.
    counts.xmlRead += xmlReadOk(fx, xsd, type + "/" + id, read, name + " (XML)") ? 1 : 0;
}

// ---- independent validators

/// The official examples the two validators reject as published, so not a sign of our output:
/// fhir.js refuses a versioned reference ("Patient/45/_history/2") and a performer that R4
/// does not allow (Encounter); @medplum finds base64 with line breaks in presentedForm.data.
const std::set<std::string> RejectedAsPublished{"Bundle-bundle-references.json",
                                                "Observation-clinical-gender.json",
                                                "DiagnosticReport-gingival-mass.json"};

fs::path sourceDir()
{
    return fs::path(HL7GW_TEST_DATA_DIR).parent_path().parent_path();
}

std::string envOr(const char* name, const std::string& fallback)
{
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

std::string quoted(const std::string& text)
{
    std::string out = "'";
    for (const char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

/// Replies written as files into a fresh temporary directory, for validate.js; removed at the
/// end unless validate.js failed or HL7GW_FHIR_VALIDATE_KEEP is set (then its path is logged).
class OutputDir {
  public:
    OutputDir()
        : dir_(fs::temp_directory_path() / ("hl7gw-fhir-validate-" + hl7gw::test::uniqueSuffix()))
    {
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "out");
    }
    ~OutputDir()
    {
        if (keep_) {
            return;
        }
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    OutputDir(const OutputDir&) = delete;
    OutputDir& operator=(const OutputDir&) = delete;

    /// Writes a JSON reply body as out/NAME.json; the reply must be JSON.
    void write(const std::string& name, const Reply& reply)
    {
        BOOST_TEST(reply.json.IsObject(),
                   name << ": not a JSON body: " << reply.body.substr(0, 200));
        std::ofstream(dir_ / "out" / (name + ".json"), std::ios::binary) << reply.body;
        ++files_;
    }

    fs::path out() const { return dir_ / "out"; }
    fs::path log() const { return dir_ / "validate.log"; }
    std::size_t files() const { return files_; }
    void keep() { keep_ = true; }

  private:
    fs::path dir_;
    std::size_t files_ = 0;
    bool keep_ = false;
};

std::string bundleType(const Reply& reply)
{
    return member(reply.json, "type");
}

std::string resourceType(const Reply& reply)
{
    return member(reply.json, "resourceType");
}

/// The issue codes STANDARDS.md §3.4 allows for an HTTP status.
std::set<std::string> codesFor(int status)
{
    switch (status) {
    case 400:
        return {"invalid", "structure", "value"};
    case 404:
        return {"not-found"};
    case 405:
        return {"not-supported"};
    case 409:
        return {"conflict", "lock-error"};
    case 410:
        return {"deleted"};
    case 412:
        return {"multiple-matches", "conflict"};
    case 422:
        return {"business-rule", "invariant", "required", "code-invalid"};
    case 428:
        return {"conflict"};
    default:
        return {};
    }
}

/// An error reply: the status STANDARDS.md §3.4 names, with an OperationOutcome body whose
/// first issue has the code its table gives for that status.
void expectOutcome(OutputDir& dir, const std::string& name, const Reply& reply,
                   std::initializer_list<int> statuses)
{
    BOOST_TEST(std::find(statuses.begin(), statuses.end(), reply.status) != statuses.end(),
               name << ": " << reply.status << " " << reply.body);
    BOOST_TEST(resourceType(reply) == "OperationOutcome", name << ": " << reply.body);
    BOOST_TEST(codesFor(reply.status).count(hl7gw::test::issueCode(reply)) == 1u,
               name << ": " << reply.status << " with issue code '" << hl7gw::test::issueCode(reply)
                    << "'");
    BOOST_TEST_MESSAGE(name << ": " << reply.status << " " << hl7gw::test::issueCode(reply));
    if (reply.json.IsObject()) {
        dir.write(name, reply);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(corpus_over_rest)

BOOST_DATA_TEST_CASE(every_official_example_round_trips_as_json_and_xml, Backends, backend)
{
    const auto start = std::chrono::steady_clock::now();
    XsdValidator xsd;
    BOOST_TEST_REQUIRE(xsd.loaded());
    FhirFixture fx(backend);
    Counts counts;
    for (const auto& path : corpus::jsonExamples()) {
        roundTrip(fx, xsd, path, counts);
    }
    const auto seconds = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count() /
                         1000.0;
    BOOST_TEST_MESSAGE(backend << ": " << counts.files << " examples, " << counts.json
                               << " JSON round trips, " << counts.xml << " XML creates equal to "
                               << "the JSON example (" << counts.divDiffs.size()
                               << " narratives worded differently in the official XML), "
                               << counts.xmlRead + counts.jsonXmlRead
                               << " schema-valid XML reads, in " << seconds << " s");
    for (const auto& diff : counts.divDiffs) {
        BOOST_TEST_MESSAGE("  narrative differs: " << diff);
    }
    BOOST_TEST(counts.files == 178u);
    BOOST_TEST(counts.json == counts.files);
    BOOST_TEST(counts.xml == counts.files);
    BOOST_TEST(counts.xmlRead == counts.files);
    BOOST_TEST(counts.jsonXmlRead == counts.files);
}

BOOST_AUTO_TEST_SUITE_END()

// Run by the ctest "fhir_validate" (tests/fhir-validate/CMakeLists.txt), after install.sh put
// the npm packages in place: fhir_server_tests --run_test=independent_validators.
BOOST_AUTO_TEST_SUITE(independent_validators, *boost::unit_test::disabled())

BOOST_AUTO_TEST_CASE(our_output_passes_medplum_and_fhir_js)
{
    FhirFixture fx(Backend::Sqlite);
    OutputDir dir;

    // Capabilities.
    Reply metadata = fx.get("metadata");
    BOOST_TEST(metadata.status == 200);
    BOOST_TEST(resourceType(metadata) == "CapabilityStatement");
    dir.write("capability-statement", metadata);

    // Read-backs of the official examples, created from JSON.
    std::string observationId;
    for (const auto& path : corpus::jsonExamples()) {
        const std::string name = path.filename().string();
        if (RejectedAsPublished.count(name) != 0) {
            continue;
        }
        const std::string text = corpus::readFile(path);
        const std::string type = member(parse(text), "resourceType");
        const std::string id = fx.create(type, text);
        Reply read = fx.get(type + "/" + id);
        BOOST_TEST(read.status == 200, name);
        dir.write("read-" + path.stem().string(), read);
        if (type == "Observation" && observationId.empty()) {
            observationId = id;
        }
    }

    // A patient, a practitioner and an appointment of both, for search, history and errors.
    const std::string patientBody =
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.156.10011.1.3",)"
        R"("value":"110101199003070011"}],"name":[{"text":"王小明","family":"王","given":)"
        R"(["小明"]}],"gender":"male","birthDate":"1990-03-07"})";
    const std::string patient = fx.create("Patient", patientBody);
    const std::string practitioner =
        fx.create("Practitioner", R"({"resourceType":"Practitioner","name":[{"text":"李医生"}]})");
    const std::string appointmentBody =
        R"({"resourceType":"Appointment","status":"booked","start":"2025-03-14T09:30:00+08:00",)"
        R"("end":"2025-03-14T09:45:00+08:00","participant":[{"actor":{"reference":"Patient/)" +
        patient + R"("},"status":"accepted"},{"actor":{"reference":"Practitioner/)" + practitioner +
        R"("},"status":"accepted"}]})";
    const std::string appointment = fx.create("Appointment", appointmentBody);

    // Search: _include, paging, _summary=count, _elements.
    Reply included = fx.get("Appointment?patient=" + patient +
                            "&_include=Appointment:patient&_include=Appointment:actor");
    BOOST_TEST(included.status == 200, included.body);
    BOOST_TEST(bundleType(included) == "searchset");
    const bool threeEntries = included.json.HasMember("entry") &&
                              included.json["entry"].IsArray() &&
                              included.json["entry"].Size() == 3u;
    BOOST_TEST(threeEntries,
               "Appointment + Patient + Practitioner: " << included.body.substr(0, 300));
    dir.write("search-appointment-include", included);
    Reply paged = fx.get("Patient?_count=2");
    BOOST_TEST(paged.status == 200);
    BOOST_TEST(paged.body.find("\"next\"") != std::string::npos, "a next link");
    dir.write("search-patient-page", paged);
    Reply counted = fx.get("Observation?_summary=count");
    BOOST_TEST(counted.status == 200);
    dir.write("search-observation-count", counted);
    Reply elements = fx.get("Patient?_id=" + patient + "&_elements=name");
    BOOST_TEST(elements.status == 200);
    dir.write("search-patient-elements", elements);

    // History: an update, a deletion, then instance, type and system history; a vread.
    std::string updated = patientBody;
    updated.replace(updated.find(R"("gender":"male")"), 15, R"("gender":"other")");
    updated.insert(1, R"("id":")" + patient + R"(",)");
    Reply put = fx.put("Patient/" + patient, updated);
    BOOST_TEST(put.status == 200, put.body);
    dir.write("update-patient", put);
    Reply deleted = fx.call("DELETE", "/fhir/Observation/" + observationId);
    BOOST_TEST((deleted.status == 204 || deleted.status == 200), deleted.body);
    Reply history = fx.get("Patient/" + patient + "/_history");
    BOOST_TEST(history.status == 200);
    BOOST_TEST(bundleType(history) == "history");
    dir.write("history-patient-instance", history);
    Reply typeHistory = fx.get("Observation/_history?_count=5");
    BOOST_TEST(typeHistory.status == 200);
    dir.write("history-observation-type", typeHistory);
    Reply deletionHistory = fx.get("Observation/" + observationId + "/_history");
    BOOST_TEST(deletionHistory.status == 200);
    dir.write("history-observation-deleted", deletionHistory);
    Reply systemHistory = fx.get("_history?_count=5");
    BOOST_TEST(systemHistory.status == 200);
    dir.write("history-system", systemHistory);
    Reply vread = fx.get("Patient/" + patient + "/_history/1");
    BOOST_TEST(vread.status == 200);
    dir.write("vread-patient", vread);

    // A transaction (urn:uuid references, a conditional create, a read) and a batch with a
    // failing entry.
    const std::string transaction =
        R"({"resourceType":"Bundle","type":"transaction","entry":[)"
        R"({"fullUrl":"urn:uuid:5e0f3c1a-0c1b-4a1e-9a43-1d2b3c4d5e6f","resource":)"
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.156.10011.1.3",)"
        R"("value":"110101198001010022"}],"name":[{"text":"张三"}]},)"
        R"("request":{"method":"POST","url":"Patient",)"
        R"("ifNoneExist":"identifier=urn:oid:2.16.156.10011.1.3|110101198001010022"}},)"
        R"({"fullUrl":"urn:uuid:6f1e4d2b-1d2c-4b2f-8b54-2e3c4d5e6f70","resource":)"
        R"({"resourceType":"Encounter","status":"arrived","class":{"system":)"
        R"("http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":)"
        R"({"reference":"urn:uuid:5e0f3c1a-0c1b-4a1e-9a43-1d2b3c4d5e6f"}},)"
        R"("request":{"method":"POST","url":"Encounter"}},)"
        R"({"request":{"method":"GET","url":"Patient/)" +
        patient + R"("}}]})";
    Reply committed = fx.call("POST", "/fhir", transaction);
    BOOST_TEST(committed.status == 200, committed.body);
    BOOST_TEST(bundleType(committed) == "transaction-response", committed.body);
    dir.write("transaction-response", committed);
    const std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[)"
                              R"({"request":{"method":"GET","url":"Patient/)" +
                              patient +
                              R"("}},{"request":{"method":"GET","url":"Patient/no-such-patient"}},)"
                              R"({"resource":{"resourceType":"Patient","gender":"male"},)"
                              R"("request":{"method":"POST","url":"Patient"}}]})";
    Reply batched = fx.call("POST", "/fhir", batch);
    BOOST_TEST(batched.status == 200, batched.body);
    BOOST_TEST(bundleType(batched) == "batch-response", batched.body);
    dir.write("batch-response", batched);

    // Create with Prefer: return=OperationOutcome.
    Reply outcome = fx.post("Patient", R"({"resourceType":"Patient","active":true})",
                            {{"Prefer", "return=OperationOutcome"}});
    BOOST_TEST(outcome.status == 201);
    BOOST_TEST(resourceType(outcome) == "OperationOutcome", outcome.body);
    dir.write("create-return-outcome", outcome);

    // Errors, each an OperationOutcome (statuses as STANDARDS.md §3.4 gives them).
    expectOutcome(dir, "error-read-unknown", fx.get("Patient/no-such-patient"), {404});
    expectOutcome(dir, "error-read-deleted", fx.get("Observation/" + observationId), {410});
    expectOutcome(dir, "error-malformed-json", fx.post("Patient", R"({"resourceType":)"), {400});
    expectOutcome(dir, "error-unknown-element",
                  fx.post("Patient", R"({"resourceType":"Patient","famly":"x"})"), {400});
    expectOutcome(dir, "error-type-mismatch",
                  fx.post("Patient", R"({"resourceType":"Observation","status":"final",)"
                                     R"("code":{"text":"x"}})"),
                  {400});
    expectOutcome(
        dir, "error-invariant",
        fx.post("Appointment", R"({"resourceType":"Appointment","status":"booked",)"
                               R"("start":"2025-03-14T09:30:00+08:00","participant":[{"actor":)"
                               R"({"reference":"Patient/)" +
                                   patient + R"("},"status":"accepted"}]})"),
        {422});
    std::string appointmentUpdate = appointmentBody;
    appointmentUpdate.insert(1, R"("id":")" + appointment + R"(",)");
    expectOutcome(dir, "error-if-match-required",
                  fx.put("Appointment/" + appointment, appointmentUpdate), {428});
    expectOutcome(dir, "error-version-conflict",
                  fx.put("Patient/" + patient, updated, {{"If-Match", "W/\"1\""}}), {412});
    expectOutcome(dir, "error-id-mismatch", fx.put("Patient/other-id", updated), {400});
    expectOutcome(dir, "error-unknown-type", fx.get("NoSuchType/1"), {400, 404});
    expectOutcome(dir, "error-transaction-rolled-back",
                  fx.call("POST", "/fhir",
                          R"({"resourceType":"Bundle","type":"transaction","entry":[)"
                          R"({"resource":{"resourceType":"Patient"},"request":)"
                          R"({"method":"POST","url":"Patient"}},{"resource":)" +
                              updated + R"(,"request":{"method":"PUT","url":"Patient/)" + patient +
                              R"(","ifMatch":"W/\"1\""}}]})"),
                  {412});

    // validate.js on every file: it must load, and both libraries must accept each one.
    const std::string node = envOr("HL7GW_NODE", "node");
    const std::string script = envOr("HL7GW_FHIR_VALIDATE_SCRIPT",
                                     (sourceDir() / "tests/fhir-validate/validate.js").string());
    std::string command = quoted(node) + " " + quoted(script);
    const char* modules = std::getenv("HL7GW_FHIR_VALIDATE_DIR");
    if (modules != nullptr && *modules != '\0') {
        command += " --modules " + quoted(modules);
    }
    command += " " + quoted(dir.out().string()) + " >" + quoted(dir.log().string()) + " 2>&1";
    const auto start = std::chrono::steady_clock::now();
    const int status = std::system(command.c_str());
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    const int code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    const std::string log = corpus::readFile(dir.log());
    if (code != 0 || std::getenv("HL7GW_FHIR_VALIDATE_KEEP") != nullptr) {
        dir.keep();
        BOOST_TEST_MESSAGE("replies kept in " << dir.out());
    }
    BOOST_TEST_REQUIRE(code != 127, "'" << node << "' not found: install the Debian packages "
                                        << "nodejs npm (scripts/install-deps.sh), then run "
                                        << "tests/fhir-validate/install.sh");
    BOOST_TEST_REQUIRE(code != 2, "validate.js could not start (run "
                                  "tests/fhir-validate/install.sh): "
                                      << log);
    std::size_t ok = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("ok ", 0) == 0) {
            ++ok;
        } else if (line.rfind("error ", 0) == 0) {
            BOOST_ERROR(line);
        }
    }
    BOOST_TEST(code == 0, "validate.js exit " << code << "; files kept in " << dir.out());
    BOOST_TEST(ok == dir.files(), log.substr(log.size() > 2000 ? log.size() - 2000 : 0));
    BOOST_TEST_MESSAGE("validate.js: " << ok << " of " << dir.files() << " replies accepted by "
                                       << "@medplum/core and fhir.js in " << millis << " ms");
}

BOOST_AUTO_TEST_SUITE_END()
