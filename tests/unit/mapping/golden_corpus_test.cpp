// The golden test of issue 6: every Microsoft FHIR-Converter pair in the corpus, mapped by our
// maps and compared by content (golden_facts.h) on the facts we claim to map
// (tests/data/mappings/golden_selection.txt), with the differences we keep listed and
// explained in kept_differences.tsv. Every Bundle we make must also be valid R4.

#include "golden_facts.h"

#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/model/validator.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/mapping/v2_to_fhir.h"
#include "tests/unit/test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <set>
#include <sstream>

namespace hl7gw::test {
namespace {

std::filesystem::path repoDir()
{
    return dataDir().parent_path().parent_path();
}

struct Pair {
    std::string name;
    std::filesystem::path hl7;
    std::filesystem::path expected;
};

std::vector<Pair> microsoftPairs()
{
    std::vector<Pair> pairs;
    std::ifstream in(corpusDir() / "hl7v2-to-fhir" / "PAIRS.tsv");
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string name, folder;
        std::getline(fields, name, '\t');
        std::getline(fields, folder, '\t');
        if (folder != "microsoft-fhir-converter")
            continue;
        std::filesystem::path dir = corpusDir() / "hl7v2-to-fhir" / folder;
        pairs.push_back({name, dir / (name + ".hl7"), dir / (name + ".expected.json")});
    }
    return pairs;
}

} // namespace

BOOST_AUTO_TEST_SUITE(GoldenCorpus)

BOOST_AUTO_TEST_CASE(microsoft_pairs_match_on_the_selected_facts)
{
    auto maps = mapping::MapSet::load((repoDir() / "mappings").string());
    // Microsoft's converter host gave zone-less v2 times +05:30 (corpus SOURCES.md); running
    // with that offset makes the same v2 value the same instant on both sides.
    mapping::Dialect dialect = mapping::Dialect::standard();
    dialect.offsetMinutes = 330;
    mapping::V2ToFhir engine(maps, dialect);
    FactSelection selection = FactSelection::load(dataDir() / "mappings" / "golden_selection.txt");
    KeptDifferences kept = KeptDifferences::load(dataDir() / "mappings" / "kept_differences.tsv");
    FactSelection required = FactSelection::load(dataDir() / "mappings" / "golden_required.txt");
    hl7v2::Er7Parser parser;

    std::vector<Pair> pairs = microsoftPairs();
    BOOST_TEST(pairs.size() == 132u);
    std::size_t matched = 0, missing = 0, keptCount = 0, extra = 0, mappedPairs = 0;
    for (const Pair& pair : pairs) {
        BOOST_TEST_CONTEXT(pair.name)
        {
            std::string bytes = readFile(pair.hl7);
            hl7v2::Message message;
            core::IssueList parseIssues;
            BOOST_REQUIRE(parser.parse(bytes, message, parseIssues));
            rapidjson::Document ours;
            core::IssueList issues;
            bool ok = engine.map(message, ours, issues);
            std::string problems;
            for (const core::Issue& issue : issues)
                problems += issue.location.toString() + ": " + issue.text + "\n";
            BOOST_CHECK_MESSAGE(ok, "mapping failed:\n" << problems);
            if (!ok)
                continue;
            ++mappedPairs;
            for (const auto& entry : ours["entry"].GetArray()) {
                core::IssueList invalid;
                fhir::validateResource(entry["resource"], invalid);
                std::string text;
                for (const core::Issue& issue : invalid)
                    if (issue.severity == core::Severity::Error ||
                        issue.severity == core::Severity::Fatal)
                        text += issue.location.path + ": " + issue.text + "\n";
                BOOST_CHECK_MESSAGE(text.empty(), entry["resource"]["resourceType"].GetString()
                                                      << " is not valid R4:\n"
                                                      << text);
            }
            rapidjson::Document theirs;
            core::Issue jsonIssue;
            BOOST_REQUIRE(fhir::parseJson(readFile(pair.expected), theirs, jsonIssue));
            FactComparison comparison = compareFacts(ours, theirs, selection, kept, pair.name);
            // What we write must agree with the reference; what it has and we lack must not
            // be a core fact (golden_required.txt). Kept differences are explained per row.
            std::vector<Fact> requiredMissing;
            for (const Fact& fact : comparison.missing)
                if (required.selects(fact.resourceType, fact.path))
                    requiredMissing.push_back(fact);
            BOOST_CHECK_MESSAGE(comparison.extra.empty() && requiredMissing.empty(),
                                describe(comparison));
            matched += comparison.matched;
            missing += comparison.missing.size();
            keptCount += comparison.kept.size();
            extra += comparison.extra.size();
        }
    }
    BOOST_TEST_MESSAGE("golden: pairs mapped "
                       << mappedPairs << "/" << pairs.size() << ", facts matched " << matched
                       << ", missing " << missing << ", kept " << keptCount << ", extra " << extra);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace hl7gw::test
