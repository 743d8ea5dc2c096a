// Tests of the golden-test harness itself (golden_facts.h): flattening, dateTime
// normalisation, multiset comparison, selections and kept differences.
#include "golden_facts.h"

#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <string>
#include <vector>

using hl7gw::test::bundleFacts;
using hl7gw::test::compareFacts;
using hl7gw::test::describe;
using hl7gw::test::Fact;
using hl7gw::test::FactComparison;
using hl7gw::test::factCountsByType;
using hl7gw::test::FactSelection;
using hl7gw::test::KeptDifferences;
using hl7gw::test::normaliseDateTime;

namespace {

const std::filesystem::path microsoftDir =
    std::filesystem::path(HL7GW_CORPUS_DIR) / "hl7v2-to-fhir" / "microsoft-fhir-converter";
const std::filesystem::path mappingData = std::filesystem::path(HL7GW_TEST_DATA_DIR) / "mappings";

std::string slurp(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " + path.string());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

rapidjson::Document parse(const std::string& text)
{
    rapidjson::Document document;
    document.Parse(text.c_str(), text.size());
    BOOST_REQUIRE_MESSAGE(!document.HasParseError(),
                          std::string(rapidjson::GetParseError_En(document.GetParseError())) +
                              " at " + std::to_string(document.GetErrorOffset()));
    return document;
}

rapidjson::Document expected(const std::string& pair)
{
    return parse(slurp(microsoftDir / (pair + ".expected.json")));
}

FactSelection realSelection()
{
    return FactSelection::load(mappingData / "golden_selection.txt");
}

/// The message of the std::runtime_error `action` throws ("" if it does not throw).
std::string errorOf(const std::function<void()>& action)
{
    try {
        action();
    } catch (const std::runtime_error& error) {
        return error.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

/// The first entry.resource of `type` in a Bundle.
rapidjson::Value& firstResource(rapidjson::Document& bundle, const std::string& type)
{
    for (auto& entry : bundle["entry"].GetArray()) {
        if (entry["resource"]["resourceType"].GetString() == type) {
            return entry["resource"];
        }
    }
    BOOST_FAIL("no " + type + " in the bundle");
    throw std::logic_error("unreachable");
}

/// A Bundle of one resource of `type` with the given members (a JSON object body).
rapidjson::Document bundleOf(const std::string& type, const std::string& members,
                             const std::string& fullUrl = "urn:uuid:1")
{
    return parse(R"({"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":")" +
                 fullUrl + R"(","resource":{"resourceType":")" + type + "\"," + members + "}}]}");
}

const std::vector<std::string> samplePairs = {"ADT-A01-01", "ORU-R01-01", "SIU-S12-01",
                                              "DFT-P03-01", "VXU-V04-01", "ADT-A40-01",
                                              "MDM-T02-01", "REF-I12-01", "OML-O21-01"};

} // namespace

BOOST_AUTO_TEST_SUITE(golden_facts_flattening)

BOOST_AUTO_TEST_CASE(leaves_become_dotted_paths_without_indices)
{
    const rapidjson::Document patient = parse(R"({"resourceType":"Patient",
        "identifier":[{"value":"1","type":{"coding":[{"code":"MR"}]}},{"value":"2"}],
        "name":[{"family":"Zhang","given":["San","Er"]}]})");
    const std::vector<Fact> expectedFacts = {
        {"Patient", "identifier.type.coding.code", "MR"},
        {"Patient", "identifier.value", "1"},
        {"Patient", "identifier.value", "2"},
        {"Patient", "name.family", "Zhang"},
        {"Patient", "name.given", "Er"},
        {"Patient", "name.given", "San"},
    };
    BOOST_TEST(bundleFacts(patient) == expectedFacts, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ids_meta_and_narrative_are_ignored_but_element_texts_are_not)
{
    const rapidjson::Document one = bundleOf("Observation", R"("id":"a","meta":{"versionId":"1"},
        "text":{"status":"generated","div":"<div>a</div>"},
        "code":{"id":"x","text":"Glucose","coding":[{"code":"2345-7"}]})");
    const rapidjson::Document two = bundleOf("Observation", R"("id":"b","meta":{"versionId":"7"},
        "text":{"status":"generated","div":"<div>b</div>"},
        "code":{"text":"Glucose","coding":[{"code":"2345-7"}]})",
                                             "urn:uuid:2");
    const std::vector<Fact> expectedFacts = {{"Observation", "code.coding.code", "2345-7"},
                                             {"Observation", "code.text", "Glucose"}};
    BOOST_TEST(bundleFacts(one) == expectedFacts, boost::test_tools::per_element());
    BOOST_TEST(bundleFacts(two) == expectedFacts, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(references_become_the_referenced_type)
{
    const rapidjson::Document bundle = parse(R"({"resourceType":"Bundle","entry":[
        {"fullUrl":"urn:uuid:p1","resource":{"resourceType":"Patient"}},
        {"fullUrl":"urn:uuid:o1","resource":{"resourceType":"Observation",
          "subject":{"reference":"urn:uuid:p1"},
          "performer":[{"reference":"Practitioner/abc"},
                       {"reference":"http://example.org/fhir/Organization/9/_history/2"},
                       {"reference":"PractitionerRole?identifier=http://x|1"},
                       {"reference":"#c1"},
                       {"reference":"urn:uuid:nowhere"}],
          "basedOn":[{"reference":"ServiceRequest/1","display":"order"}]}}]})");
    const std::vector<Fact> expectedFacts = {
        {"Observation", "basedOn.display", "order"},
        {"Observation", "basedOn.reference", "ServiceRequest"},
        {"Observation", "performer.reference", "#contained"},
        {"Observation", "performer.reference", "Organization"},
        {"Observation", "performer.reference", "Practitioner"},
        {"Observation", "performer.reference", "PractitionerRole"},
        {"Observation", "performer.reference", "urn:uuid:nowhere"}, // unresolved: as written
        {"Observation", "subject.reference", "Patient"},
    };
    BOOST_TEST(bundleFacts(bundle) == expectedFacts, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(numbers_and_booleans_are_their_json_text)
{
    const rapidjson::Document observation = parse(R"({"resourceType":"Observation",
        "valueQuantity":{"value":0.5},"component":[{"valueInteger":44},{"valueBoolean":true}],
        "referenceRange":[{"low":{"value":-1.25}}]})");
    const std::vector<Fact> expectedFacts = {
        {"Observation", "component.valueBoolean", "true"},
        {"Observation", "component.valueInteger", "44"},
        {"Observation", "referenceRange.low.value", "-1.25"},
        {"Observation", "valueQuantity.value", "0.5"},
    };
    BOOST_TEST(bundleFacts(observation) == expectedFacts, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(golden_facts_datetime)

BOOST_AUTO_TEST_CASE(offsets_are_normalised_to_utc)
{
    BOOST_TEST(normaliseDateTime("1988-08-18T11:26:00+02:15") == "1988-08-18T09:11:00Z");
    BOOST_TEST(normaliseDateTime("1989-08-18T14:41:00+05:30") == "1989-08-18T09:11:00Z");
    BOOST_TEST(normaliseDateTime("2000-01-01T01:00:00+05:30") == "1999-12-31T19:30:00Z");
    BOOST_TEST(normaliseDateTime("2020-02-28T22:00:00-03:00") == "2020-02-29T01:00:00Z");
    BOOST_TEST(normaliseDateTime("2019-02-28T22:00:00-03:00") == "2019-03-01T01:00:00Z");
    BOOST_TEST(normaliseDateTime("2019-04-23T15:01:37.123+02:15") == "2019-04-23T12:46:37.123Z");
    BOOST_TEST(normaliseDateTime("2021-09-24T12:45:00+00:00") == "2021-09-24T12:45:00Z");
    BOOST_TEST(normaliseDateTime("2021-09-24T12:45:00Z") == "2021-09-24T12:45:00Z");
    BOOST_TEST(normaliseDateTime("2015-02-08T15:54+05:30") == "2015-02-08T10:24:00Z");
    BOOST_TEST(normaliseDateTime("2024-01-01T00:00:00+08:00") == "2023-12-31T16:00:00Z");
}

BOOST_AUTO_TEST_CASE(dates_times_and_text_are_unchanged)
{
    for (const std::string value :
         {"1988-08-18", "2018-05", "1988", "12:30:05", "2019-04-23T15:01:37", "hello",
          "2019-04-23T15:01:37+0215", "2019-13-01T00:00:00Z", "1234-56-78T90:12:34+05:30x"}) {
        BOOST_TEST(normaliseDateTime(value) == value);
    }
}

BOOST_AUTO_TEST_CASE(the_same_instant_in_two_zones_compares_equal)
{
    const FactSelection selection =
        FactSelection::parse("Observation effectiveDateTime\nObservation issued\n", "inline");
    const rapidjson::Document ours = bundleOf(
        "Observation", R"("effectiveDateTime":"2019-04-23T20:31:37+08:00","issued":"2019-04-23")");
    const rapidjson::Document theirs = bundleOf(
        "Observation", R"("effectiveDateTime":"2019-04-23T18:01:37+05:30","issued":"2019-04-23")");
    const FactComparison comparison = compareFacts(ours, theirs, selection, {}, "inline");
    BOOST_TEST(comparison.same(), describe(comparison));
    BOOST_TEST(comparison.matched == 2U);
}

BOOST_AUTO_TEST_CASE(different_instants_differ)
{
    const FactSelection selection = FactSelection::parse("Observation effectiveDateTime", "inline");
    const rapidjson::Document ours =
        bundleOf("Observation", R"("effectiveDateTime":"2019-04-23T18:01:37+08:00")");
    const rapidjson::Document theirs =
        bundleOf("Observation", R"("effectiveDateTime":"2019-04-23T18:01:37+05:30")");
    const FactComparison comparison = compareFacts(ours, theirs, selection, {}, "inline");
    BOOST_TEST(comparison.matched == 0U);
    BOOST_REQUIRE_EQUAL(comparison.missing.size(), 1U);
    BOOST_REQUIRE_EQUAL(comparison.extra.size(), 1U);
    BOOST_TEST(comparison.missing[0].value == "2019-04-23T12:31:37Z");
    BOOST_TEST(comparison.extra[0].value == "2019-04-23T10:01:37Z");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(golden_facts_comparison)

BOOST_AUTO_TEST_CASE(a_corpus_bundle_compared_with_itself_has_no_differences)
{
    const FactSelection selection = realSelection();
    const KeptDifferences kept = KeptDifferences::load(mappingData / "kept_differences.tsv");
    for (const std::string& pair : samplePairs) {
        BOOST_TEST_CONTEXT(pair)
        {
            const rapidjson::Document bundle = expected(pair);
            const FactComparison comparison = compareFacts(bundle, bundle, selection, kept, pair);
            BOOST_TEST(comparison.same(), describe(comparison));
            BOOST_TEST(comparison.kept.empty());
            BOOST_TEST(comparison.matched > 0U);
            std::size_t selected = 0;
            for (const auto& [type, count] : factCountsByType(bundle, selection)) {
                selected += count;
            }
            BOOST_TEST(comparison.matched == selected);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_changed_a_removed_and_an_added_element_are_exactly_the_differences)
{
    const FactSelection selection = realSelection();
    const rapidjson::Document theirs = expected("ADT-A01-01");
    rapidjson::Document ours;
    ours.CopyFrom(theirs, ours.GetAllocator());
    rapidjson::Value& patient = firstResource(ours, "Patient");
    auto& allocator = ours.GetAllocator();

    rapidjson::Value& family = patient["name"][0]["family"];
    const std::string oldFamily = family.GetString();
    family.SetString("CHANGED", allocator);
    const std::string oldBirthDate = patient["birthDate"].GetString();
    patient.RemoveMember("birthDate");
    rapidjson::Value telecom(rapidjson::kObjectType);
    telecom.AddMember("value", "555-0100", allocator);
    patient["telecom"].PushBack(telecom, allocator);

    const FactComparison comparison = compareFacts(ours, theirs, selection, {}, "ADT-A01-01");
    const std::vector<Fact> missing = {{"Patient", "birthDate", oldBirthDate},
                                       {"Patient", "name.family", oldFamily}};
    const std::vector<Fact> extra = {{"Patient", "name.family", "CHANGED"},
                                     {"Patient", "telecom.value", "555-0100"}};
    BOOST_TEST(comparison.missing == missing, boost::test_tools::per_element());
    BOOST_TEST(comparison.extra == extra, boost::test_tools::per_element());
    BOOST_TEST(comparison.kept.empty());
    BOOST_TEST(comparison.matched > 0U);

    const std::string text = describe(comparison);
    BOOST_TEST(contains(text, "- Patient birthDate = \"" + oldBirthDate + "\"\n"), text);
    BOOST_TEST(contains(text, "- Patient name.family = \"" + oldFamily + "\"\n"), text);
    BOOST_TEST(contains(text, "+ Patient name.family = \"CHANGED\"\n"), text);
    BOOST_TEST(contains(text, "+ Patient telecom.value = \"555-0100\"\n"), text);
}

BOOST_AUTO_TEST_CASE(facts_outside_the_selection_are_not_compared)
{
    const FactSelection selection = FactSelection::parse("Patient name.family", "inline");
    const rapidjson::Document ours =
        bundleOf("Patient", R"("name":[{"family":"Li","given":["Si"]}],"gender":"male")");
    const rapidjson::Document theirs =
        bundleOf("Patient", R"("name":[{"family":"Li","given":["Wu"]}],"gender":"female")");
    const FactComparison comparison = compareFacts(ours, theirs, selection, {}, "inline");
    BOOST_TEST(comparison.same(), describe(comparison));
    BOOST_TEST(comparison.matched == 1U);
}

BOOST_AUTO_TEST_CASE(facts_are_multisets_per_resource_type)
{
    const FactSelection selection = FactSelection::parse(
        "Observation code.coding.code\nObservation valueString\nPatient identifier.value\n",
        "inline");
    // Ours has the same Observation twice (a resource created twice): its facts are extra.
    const rapidjson::Document ours = parse(R"({"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Observation","code":{"coding":[{"code":"A"}]},"valueString":"x"}},
        {"resource":{"resourceType":"Observation","code":{"coding":[{"code":"A"}]},"valueString":"x"}},
        {"resource":{"resourceType":"Patient","identifier":[{"value":"A"}]}}]})");
    const rapidjson::Document theirs = parse(R"({"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Patient","identifier":[{"value":"A"}]}},
        {"resource":{"resourceType":"Observation","code":{"coding":[{"code":"A"}]},"valueString":"x"}}]})");
    const FactComparison comparison = compareFacts(ours, theirs, selection, {}, "inline");
    const std::vector<Fact> extra = {{"Observation", "code.coding.code", "A"},
                                     {"Observation", "valueString", "x"}};
    BOOST_TEST(comparison.missing.empty());
    BOOST_TEST(comparison.extra == extra, boost::test_tools::per_element());
    BOOST_TEST(comparison.matched == 3U); // the same value under another type is not a match
}

BOOST_AUTO_TEST_CASE(fact_counts_by_type_cover_the_sample_pairs)
{
    const FactSelection selection = realSelection();
    for (const std::string& pair : samplePairs) {
        const std::map<std::string, std::size_t> counts =
            factCountsByType(expected(pair), selection);
        std::string line = pair + ":";
        for (const auto& [type, count] : counts) {
            line += " " + type + "=" + std::to_string(count);
        }
        BOOST_TEST_MESSAGE(line);
        BOOST_TEST(!counts.empty(), pair);
    }
    const auto adt = factCountsByType(expected("ADT-A01-01"), selection);
    BOOST_TEST(adt.count("Patient") == 1U);
    BOOST_TEST(adt.count("Encounter") == 1U);
    BOOST_TEST(adt.count("MessageHeader") == 0U); // not selected
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(golden_facts_kept_differences)

BOOST_AUTO_TEST_CASE(rows_apply_by_pair_name_by_prefix_and_by_star)
{
    const FactSelection selection =
        FactSelection::parse("Patient gender\nPatient name\nPatient birthDate\n", "inline");
    const rapidjson::Document ours =
        bundleOf("Patient", R"("gender":"female","name":[{"family":"A","text":"A B"}])");
    const rapidjson::Document theirs =
        bundleOf("Patient", R"("gender":"male","name":[{"family":"A"}],"birthDate":"2000-01-01")");
    const KeptDifferences kept =
        KeptDifferences::parse("# a comment\n"
                               "\n"
                               "ADT-A01-01\tPatient\tgender\tgender by pair\n"
                               "*\tPatient\tname.text\ttext by star\n"
                               "ADT-*\tPatient\tbirthDate\tbirthDate by prefix\n",
                               "kept.tsv");

    const FactComparison exact = compareFacts(ours, theirs, selection, kept, "ADT-A01-01");
    BOOST_TEST(exact.same(), describe(exact));
    BOOST_REQUIRE_EQUAL(exact.kept.size(), 4U);
    BOOST_TEST(exact.keptMissing == 2U); // theirs: birthDate, gender male
    BOOST_TEST(exact.kept[0].first == (Fact{"Patient", "birthDate", "2000-01-01"}));
    BOOST_TEST(exact.kept[0].second == "birthDate by prefix");
    BOOST_TEST(exact.kept[1].first == (Fact{"Patient", "gender", "male"}));
    BOOST_TEST(exact.kept[1].second == "gender by pair");
    BOOST_TEST(exact.kept[2].first == (Fact{"Patient", "gender", "female"}));
    BOOST_TEST(exact.kept[3].first == (Fact{"Patient", "name.text", "A B"}));
    BOOST_TEST(exact.kept[3].second == "text by star");
    BOOST_TEST(exact.matched == 1U);
    const std::string text = describe(exact);
    BOOST_TEST(contains(text, "~- Patient gender = \"male\"  # gender by pair\n"), text);
    BOOST_TEST(contains(text, "~+ Patient name.text = \"A B\"  # text by star\n"), text);

    // Another ADT pair: the pair row does not apply, the prefix and star rows do.
    const FactComparison other = compareFacts(ours, theirs, selection, kept, "ADT-A02-01");
    BOOST_TEST(other.missing == (std::vector<Fact>{{"Patient", "gender", "male"}}),
               boost::test_tools::per_element());
    BOOST_TEST(other.extra == (std::vector<Fact>{{"Patient", "gender", "female"}}),
               boost::test_tools::per_element());
    BOOST_TEST(other.kept.size() == 2U);

    // A non-ADT pair: only the star row applies.
    const FactComparison oru = compareFacts(ours, theirs, selection, kept, "ORU-R01-01");
    BOOST_TEST(oru.missing.size() == 2U);
    BOOST_TEST(oru.extra.size() == 1U);
    BOOST_TEST(oru.kept.size() == 1U);
}

BOOST_AUTO_TEST_CASE(a_star_path_keeps_every_fact_of_the_type)
{
    const KeptDifferences kept = KeptDifferences::parse("*\tLinkage\t*\tnot ours\n", "kept.tsv");
    BOOST_TEST(kept.match("X", Fact{"Linkage", "item.type", "source"}) != nullptr);
    BOOST_TEST(kept.match("X", Fact{"Patient", "link.type", "replaces"}) == nullptr);
}

BOOST_AUTO_TEST_CASE(prefixes_match_whole_path_segments)
{
    const FactSelection selection =
        FactSelection::parse("Patient name   # trailing comment\nObservation *\n", "inline");
    BOOST_TEST(selection.size() == 2U);
    BOOST_TEST(selection.selects("Patient", "name"));
    BOOST_TEST(selection.selects("Patient", "name.family"));
    BOOST_TEST(!selection.selects("Patient", "names"));
    BOOST_TEST(!selection.selects("Patient", "gender"));
    BOOST_TEST(!selection.selects("Encounter", "name"));
    BOOST_TEST(selection.selects("Observation", "anything.at.all"));
    const KeptDifferences kept = KeptDifferences::parse("*\tPatient\tname\tr\n", "kept.tsv");
    BOOST_TEST(kept.match("P", Fact{"Patient", "name.given", "x"}) != nullptr);
    BOOST_TEST(kept.match("P", Fact{"Patient", "nameX", "x"}) == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(golden_facts_files)

BOOST_AUTO_TEST_CASE(malformed_selection_lines_name_file_and_line)
{
    BOOST_TEST(contains(errorOf([] { FactSelection::parse("# ok\nPatient\n", "sel.txt"); }),
                        "sel.txt:2: "));
    BOOST_TEST(contains(
        errorOf([] { FactSelection::parse("Patient name\n\nPatient name family\n", "sel.txt"); }),
        "sel.txt:3: "));
    BOOST_TEST(contains(errorOf([] { FactSelection::parse("patient name\n", "sel.txt"); }),
                        "sel.txt:1: `patient` is not a resource type name"));
    BOOST_TEST(contains(errorOf([] { FactSelection::parse("Patient name..family\n", "sel.txt"); }),
                        "sel.txt:1: "));
}

BOOST_AUTO_TEST_CASE(malformed_kept_rows_name_file_and_line)
{
    // Three columns: no reason.
    BOOST_TEST(contains(
        errorOf([] { KeptDifferences::parse("# header\n*\tPatient\tname.text\n", "kept.tsv"); }),
        "kept.tsv:2: "));
    // Four columns, the reason blank.
    BOOST_TEST(
        contains(errorOf([] { KeptDifferences::parse("*\tPatient\tname.text\t  \n", "kept.tsv"); }),
                 "kept.tsv:1: the reason is mandatory"));
    // Spaces instead of tabs.
    BOOST_TEST(contains(errorOf([] {
                            KeptDifferences::parse("*\tPatient\tgender\tok\n* Patient gender why\n",
                                                   "kept.tsv");
                        }),
                        "kept.tsv:2: "));
    BOOST_TEST(
        contains(errorOf([] { KeptDifferences::parse("\tPatient\tgender\twhy\n", "kept.tsv"); }),
                 "kept.tsv:1: "));
    BOOST_TEST(contains(errorOf([] { KeptDifferences::parse("*\tPatient\t\twhy\n", "kept.tsv"); }),
                        "kept.tsv:1: "));
}

BOOST_AUTO_TEST_CASE(errors_from_files_name_the_file)
{
    const std::filesystem::path file =
        std::filesystem::temp_directory_path() / "golden_facts_test_kept.tsv";
    {
        std::ofstream out(file, std::ios::binary);
        out << "# header\r\n*\tPatient\tgender\treason\r\n*\tPatient\tgender\r\n";
    }
    const std::string error = errorOf([&] { KeptDifferences::load(file); });
    std::filesystem::remove(file);
    BOOST_TEST(contains(error, file.string() + ":3: "), error);
    BOOST_TEST(contains(errorOf([] { FactSelection::load("/nonexistent/selection.txt"); }),
                        "/nonexistent/selection.txt"));
}

BOOST_AUTO_TEST_CASE(the_project_files_load_and_agree)
{
    const FactSelection selection = realSelection();
    const KeptDifferences kept = KeptDifferences::load(mappingData / "kept_differences.tsv");
    BOOST_TEST(selection.size() > 50U);
    BOOST_TEST(!kept.rows().empty());

    std::set<std::string> pairs;
    for (const auto& entry : std::filesystem::directory_iterator(microsoftDir)) {
        const std::string name = entry.path().filename().string();
        const std::string suffix = ".expected.json";
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            pairs.insert(name.substr(0, name.size() - suffix.size()));
        }
    }
    BOOST_TEST(pairs.size() == 132U);
    for (const KeptDifferences::Row& row : kept.rows()) {
        BOOST_TEST_CONTEXT(row.where)
        {
            // A row only makes sense for compared facts ...
            BOOST_TEST((row.pathPrefix == "*"
                            ? selection.selectsType(row.resourceType)
                            : selection.selects(row.resourceType, row.pathPrefix)));
            // ... and for pairs that exist.
            if (row.pair == "*") {
                continue;
            }
            const bool glob = row.pair.back() == '*';
            const std::string stem = glob ? row.pair.substr(0, row.pair.size() - 1) : row.pair;
            const bool found =
                glob
                    ? std::any_of(pairs.begin(), pairs.end(),
                                  [&](const std::string& pair) { return pair.rfind(stem, 0) == 0; })
                    : pairs.count(stem) == 1;
            BOOST_TEST(found, row.pair);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
