#include "gateway/fhir/search/search_query.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw::fhir::search;
using Params = std::vector<std::pair<std::string, std::string>>;

namespace {

struct Parsed {
    SearchQuery query;
    hl7gw::core::IssueList issues;
};

Parsed parse(std::string_view type, const Params& params)
{
    Parsed parsed;
    ParseOptions options;
    options.nowMicros = 1714953600000000;
    options.baseUrl = "https://gw.example.org/fhir";
    parsed.query = parseSearch(type, params, options, parsed.issues);
    return parsed;
}

Criterion only(const Parsed& parsed)
{
    BOOST_REQUIRE(parsed.issues.empty());
    BOOST_REQUIRE(parsed.query.criteria.size() == 1u);
    return parsed.query.criteria.front();
}

} // namespace

BOOST_AUTO_TEST_SUITE(search_query)

BOOST_AUTO_TEST_CASE(reads_every_prefix)
{
    const std::pair<const char*, Prefix> prefixes[] = {
        {"eq", Prefix::Eq}, {"ne", Prefix::Ne}, {"gt", Prefix::Gt},
        {"lt", Prefix::Lt}, {"ge", Prefix::Ge}, {"le", Prefix::Le},
        {"sa", Prefix::Sa}, {"eb", Prefix::Eb}, {"ap", Prefix::Ap}};
    for (const auto& [text, prefix] : prefixes) {
        BOOST_TEST_CONTEXT(text)
        {
            const Parsed date = parse("Appointment", {{"date", std::string(text) + "2024-05-06"}});
            BOOST_TEST((only(date).values.front().prefix == prefix));
            const Parsed number =
                parse("ChargeItem", {{"factor-override", std::string(text) + "1.5"}});
            BOOST_TEST((only(number).values.front().prefix == prefix));
            BOOST_TEST(only(number).values.front().number == 1.5);
        }
    }
    const SearchValue plain = only(parse("Appointment", {{"date", "2024-05-06"}})).values[0];
    BOOST_TEST((plain.prefix == Prefix::Eq));
    BOOST_TEST(plain.low == 1714924800000000);
    BOOST_TEST(plain.high == 1715011200000000 - 1);
    // "ap" widens by 10% of the distance to now.
    const SearchValue near = only(parse("Appointment", {{"date", "ap2024-05-06"}})).values[0];
    BOOST_TEST(near.low < plain.low);
    // A token never has a prefix.
    BOOST_TEST(only(parse("Appointment", {{"status", "ne1"}})).values[0].code == "ne1");
}

BOOST_AUTO_TEST_CASE(reads_token_forms)
{
    const Criterion forms =
        only(parse("Patient", {{"identifier", "http://x|1,|2,3,http://y|,a\\|b|c\\,d"}}));
    BOOST_REQUIRE(forms.values.size() == 5u);
    BOOST_TEST(*forms.values[0].system == "http://x");
    BOOST_TEST(forms.values[0].code == "1");
    BOOST_TEST(*forms.values[1].system == "");
    BOOST_TEST(forms.values[1].code == "2");
    BOOST_TEST(!forms.values[2].system.has_value());
    BOOST_TEST(forms.values[2].code == "3");
    BOOST_TEST(*forms.values[3].system == "http://y");
    BOOST_TEST(forms.values[3].code.empty());
    BOOST_TEST(*forms.values[4].system == "a|b");
    BOOST_TEST(forms.values[4].code == "c,d");
}

BOOST_AUTO_TEST_CASE(reads_modifiers)
{
    BOOST_TEST(
        (only(parse("Patient", {{"birthdate:missing", "true"}})).modifier == Modifier::Missing));
    BOOST_TEST(only(parse("Patient", {{"birthdate:missing", "true"}})).values[0].missing);
    BOOST_TEST((only(parse("Patient", {{"name:exact", "Zhāng"}})).values[0].text == "Zhāng"));
    BOOST_TEST((only(parse("Patient", {{"name", "Zhāng"}})).values[0].text == "zhang"));
    BOOST_TEST((only(parse("Patient", {{"name:contains", "ang"}})).modifier == Modifier::Contains));
    BOOST_TEST((only(parse("Patient", {{"gender:not", "male"}})).modifier == Modifier::Not));
    BOOST_TEST((only(parse("Observation", {{"code:text", "血红"}})).values[0].text == "血红"));
    const Criterion typed = only(parse("Observation", {{"subject:Patient", "123"}}));
    BOOST_TEST((typed.modifier == Modifier::Type));
    BOOST_TEST(typed.values[0].targetType == "Patient");
    BOOST_TEST(typed.values[0].targetId == "123");
    const Criterion byIdentifier =
        only(parse("Observation", {{"subject:identifier", "urn:oid:1|42"}}));
    BOOST_TEST((byIdentifier.modifier == Modifier::Identifier));
    BOOST_TEST(byIdentifier.values[0].code == "42");
    const Criterion ofType = only(parse("Patient", {{"identifier:of-type", "http://t|MR|7"}}));
    BOOST_TEST(ofType.values[0].ofTypeValue == "7");
    BOOST_TEST(
        (only(parse("Patient", {{"_profile:below", "http://p/"}})).modifier == Modifier::Below));
}

BOOST_AUTO_TEST_CASE(reads_reference_forms)
{
    const SearchValue local = only(parse("Encounter", {{"subject", "Patient/123"}})).values[0];
    BOOST_TEST(local.targetType == "Patient");
    BOOST_TEST(local.targetId == "123");
    const SearchValue bare = only(parse("Encounter", {{"subject", "123"}})).values[0];
    BOOST_TEST(bare.targetType.empty());
    BOOST_TEST(bare.targetId == "123");
    const SearchValue ours =
        only(parse("Encounter", {{"subject", "https://gw.example.org/fhir/Patient/9"}})).values[0];
    BOOST_TEST(ours.targetId == "9");
    BOOST_TEST(ours.url.empty());
    const SearchValue theirs =
        only(parse("Encounter", {{"subject", "http://other.org/fhir/Patient/9"}})).values[0];
    BOOST_TEST(theirs.url == "http://other.org/fhir/Patient/9");
    BOOST_TEST(only(parse("Encounter", {{"subject", "Patient/1/_history/2"}})).values[0].targetId ==
               "1");
}

BOOST_AUTO_TEST_CASE(reads_chains_and_reverse_chains)
{
    const Criterion chain = only(parse("Encounter", {{"patient.identifier", "urn:oid:1|42"}}));
    BOOST_TEST((chain.kind == Criterion::Kind::Chain));
    BOOST_REQUIRE(chain.next.size() == 1u);
    BOOST_TEST(chain.next[0].resourceType == "Patient");
    BOOST_TEST(chain.next[0].values[0].code == "42");
    // subject -> Patient, Group: only the types that have the chained parameter.
    const Criterion byName = only(parse("Encounter", {{"subject.name", "张"}}));
    BOOST_TEST(byName.next.size() == 1u);
    const Criterion typed = only(parse("Observation", {{"subject:Patient.name", "张"}}));
    BOOST_TEST(typed.next.size() == 1u);
    BOOST_TEST(typed.next[0].resourceType == "Patient");
    const Criterion actor = only(parse("Appointment", {{"actor:PractitionerRole.specialty", "x"}}));
    BOOST_TEST(actor.next[0].resourceType == "PractitionerRole");

    const Criterion has = only(parse("Patient", {{"_has:Observation:patient:code", "1234"}}));
    BOOST_TEST((has.kind == Criterion::Kind::Has));
    BOOST_TEST(has.parameter->name == "patient");
    BOOST_TEST(has.next[0].resourceType == "Observation");
    BOOST_TEST(has.next[0].values[0].code == "1234");
}

BOOST_AUTO_TEST_CASE(reads_result_parameters)
{
    const Parsed parsed =
        parse("Appointment", {{"_count", "5"},
                              {"_sort", "-date,_id"},
                              {"_include", "Appointment:patient"},
                              {"_include:iterate", "Patient:general-practitioner"},
                              {"_revinclude", "Encounter:appointment"},
                              {"_summary", "count"},
                              {"_elements", "status,start"},
                              {"_total", "accurate"},
                              {"_contained", "true"},
                              {"_format", "json"},
                              {"colour", "red"}});
    BOOST_REQUIRE(parsed.issues.empty());
    const SearchQuery& query = parsed.query;
    BOOST_TEST(query.count == 5u);
    BOOST_REQUIRE(query.sort.size() == 2u);
    BOOST_TEST(query.sort[0].descending);
    BOOST_TEST(query.sort[0].name == "date");
    BOOST_TEST(sortSignature(query.sort) == "-date,_id");
    BOOST_TEST(query.includes.size() == 2u);
    BOOST_TEST(!query.includes[0].iterate);
    BOOST_TEST(query.includes[1].iterate);
    BOOST_TEST(query.revIncludes.size() == 1u);
    BOOST_TEST((query.summary == Summary::Count));
    BOOST_TEST(query.elements.size() == 2u);
    BOOST_TEST((query.total == Total::Accurate));
    BOOST_REQUIRE(query.unknown.size() == 1u);
    BOOST_TEST(query.unknown[0].first == "colour");
    BOOST_TEST(query.used.size() == 10u);
    BOOST_TEST(parse("Appointment", {{"_count", "100000"}}).query.count == 1000u);
    BOOST_TEST(parse("Appointment", {{"status", ""}}).query.criteria.empty());
}

BOOST_AUTO_TEST_CASE(bad_values_name_the_parameter)
{
    const std::vector<std::pair<Params, std::string>> cases = {
        {{{"date", "2024-13-01"}}, "date"},
        {{{"date", "gt"}}, "date"},
        {{{"_count", "-1"}}, "_count"},
        {{{"_count", "ten"}}, "_count"},
        {{{"_sort", "colour"}}, "_sort"},
        {{{"_summary", "maybe"}}, "_summary"},
        {{{"_total", "all"}}, "_total"},
        {{{"status:exact", "booked"}}, "status:exact"},
        {{{"status:fuzzy", "booked"}}, "status:fuzzy"},
        {{{"date:missing", "yes"}}, "date:missing"},
        {{{"slot", "Patient/1"}}, "slot"},
        {{{"slot:Patient", "1"}}, "slot:Patient"},
        {{{"status.name", "x"}}, "status.name"},
        {{{"patient.organization.name", "x"}}, "patient.organization.name"},
        {{{"patient.birthdate", "soon"}}, "patient.birthdate"},
        {{{"_has:Observation:patient", "x"}}, "_has:Observation:patient"},
        {{{"_has:Observation:code:status", "final"}}, "_has:Observation:code:status"},
        {{{"_include", "Patient:organization"}}, "_include"},
        {{{"_include", "nonsense"}}, "_include"},
        {{{"_cursor", "!!"}}, "_cursor"},
    };
    for (const auto& [params, name] : cases) {
        BOOST_TEST_CONTEXT(name)
        {
            const Parsed parsed = parse("Appointment", params);
            BOOST_REQUIRE(parsed.issues.size() == 1u);
            BOOST_TEST(parsed.issues[0].location.path == name);
            BOOST_TEST(parsed.issues.hasErrors());
        }
    }
    // Unknown parameters are not errors: the caller decides (Prefer: handling=strict).
    const Parsed unknown = parse("Appointment", {{"nonsense", "1"}, {"patient.nonsense", "2"}});
    BOOST_TEST(unknown.query.unknown.size() == 1u);
    BOOST_TEST(unknown.issues.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
