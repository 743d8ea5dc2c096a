#include "gateway/fhir/search/index_extractor.h"

#include "tests/unit/fhir_search/search_test_db.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>

using namespace hl7gw::fhir::search;
using hl7gw::fhir::search::test::parse;

namespace {

IndexRows rowsOf(std::string_view json)
{
    ExtractOptions options;
    options.baseUrl = "https://gw.example.org/fhir";
    return extractIndexRows(parse(json), SearchParameterRegistry::standard(), options);
}

template <typename Row> std::vector<Row> of(const std::vector<Row>& rows, std::string_view param)
{
    std::vector<Row> out;
    std::copy_if(rows.begin(), rows.end(), std::back_inserter(out),
                 [&](const Row& row) { return row.param == param; });
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(index_extractor)

BOOST_AUTO_TEST_CASE(tokens_from_every_shape)
{
    const IndexRows rows = rowsOf(R"({"resourceType":"Patient","id":"p","active":true,
        "gender":"male",
        "identifier":[{"system":"urn:oid:1","value":"42",
                       "type":{"coding":[{"system":"http://t","code":"MR"}]}}],
        "telecom":[{"system":"phone","value":"138"},{"system":"email","value":"a@b.cn"}],
        "maritalStatus":{"coding":[{"system":"http://m","code":"M","display":"已婚"}],"text":"Married"},
        "meta":{"tag":[{"system":"http://tags","code":"his","display":"HIS 来源"}],
                "security":[{"code":"R"}]}})");
    const std::vector<TokenRow> active = of(rows.tokens, "active");
    BOOST_REQUIRE(active.size() == 1u);
    BOOST_TEST(*active[0].code == "true");
    BOOST_TEST(*of(rows.tokens, "gender")[0].code == "male");
    const std::vector<TokenRow> identifier = of(rows.tokens, "identifier");
    BOOST_REQUIRE(identifier.size() == 1u);
    BOOST_TEST(identifier[0].system == "urn:oid:1");
    BOOST_TEST(*identifier[0].code == "42");
    const std::vector<TokenRow> ofType = of(rows.tokens, "identifier:of-type");
    BOOST_REQUIRE(ofType.size() == 1u);
    BOOST_TEST(*ofType[0].code == "MR");
    BOOST_TEST(ofType[0].text == "42");
    BOOST_TEST(of(rows.tokens, "telecom").size() == 2u);
    BOOST_REQUIRE(of(rows.tokens, "phone").size() == 1u);
    BOOST_TEST(*of(rows.tokens, "phone")[0].code == "138");
    BOOST_TEST(*of(rows.tokens, "email")[0].code == "a@b.cn");
    const std::vector<TokenRow> tag = of(rows.tokens, "_tag");
    BOOST_REQUIRE(tag.size() == 1u);
    BOOST_TEST(tag[0].text == "his 来源");
    BOOST_TEST(of(rows.tokens, "_security").size() == 1u);
}

BOOST_AUTO_TEST_CASE(codeable_concept_text_is_a_text_only_row)
{
    const IndexRows rows = rowsOf(R"({"resourceType":"DiagnosticReport","id":"d","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"58410-2","display":"CBC"}],
                "text":"血常规检查"}})");
    const std::vector<TokenRow> code = of(rows.tokens, "code");
    BOOST_REQUIRE(code.size() == 2u);
    BOOST_TEST(!code[0].code.has_value());
    BOOST_TEST(code[0].text == "血常规检查");
    BOOST_TEST(*code[1].code == "58410-2");
    BOOST_TEST(code[1].text == "cbc");
}

BOOST_AUTO_TEST_CASE(strings_expand_names_and_addresses)
{
    const IndexRows rows = rowsOf(R"({"resourceType":"Patient","id":"p",
        "name":[{"family":"李","given":["小明"]},{"family":"Müller","given":["Jörg","Peter"]}],
        "address":[{"line":["建国门内大街1号"],"city":"北京市","postalCode":"100005"}]})");
    std::vector<std::string> names;
    for (const StringRow& row : of(rows.strings, "name")) {
        names.push_back(row.normalized);
    }
    std::sort(names.begin(), names.end());
    std::vector<std::string> expected{
        "jorg", "jorg peter muller", "muller", "peter", "李", "李小明", "小明", "小明 李"};
    std::sort(expected.begin(), expected.end());
    BOOST_TEST(names == expected, boost::test_tools::per_element());
    BOOST_TEST(of(rows.strings, "family").size() == 2u);
    BOOST_TEST(of(rows.strings, "given").size() == 3u);
    const std::vector<StringRow> muller = of(rows.strings, "family");
    BOOST_TEST(std::any_of(muller.begin(), muller.end(),
                           [](const StringRow& row) { return row.exact == "Müller"; }));
    BOOST_TEST(of(rows.strings, "address").size() == 3u);
    BOOST_REQUIRE(of(rows.strings, "address-city").size() == 1u);
    BOOST_TEST(of(rows.strings, "address-city")[0].exact == "北京市");
    BOOST_TEST(of(rows.strings, "address-postalcode")[0].exact == "100005");
}

BOOST_AUTO_TEST_CASE(dates_periods_timings_and_zones)
{
    const IndexRows rows = rowsOf(R"({"resourceType":"Patient","id":"p","birthDate":"1990-01"})");
    const std::vector<DateRow> birth = of(rows.dates, "birthdate");
    BOOST_REQUIRE(birth.size() == 1u);
    BOOST_TEST(birth[0].low == 631123200000000); // 1990-01-01T00:00:00+08:00
    BOOST_TEST(birth[0].high == 633801600000000 - 1);

    const IndexRows encounter = rowsOf(R"({"resourceType":"Encounter","id":"e","status":"finished",
        "class":{"code":"AMB"},"period":{"start":"2024-05-06T09:05:00+08:00"}})");
    const std::vector<DateRow> period = of(encounter.dates, "date");
    BOOST_REQUIRE(period.size() == 1u);
    BOOST_TEST(period[0].low == 1714957500000000);
    BOOST_TEST(period[0].high == std::numeric_limits<std::int64_t>::max());

    const IndexRows zoneless = rowsOf(R"({"resourceType":"Observation","id":"o","status":"final",
        "code":{"text":"x"},"effectiveDateTime":"2024-05-06T10:00:00"})");
    BOOST_TEST(of(zoneless.dates, "date")[0].low == 1714960800000000); // 02:00Z
    ExtractOptions utc;
    utc.offsetMinutes = 0;
    const IndexRows inUtc = extractIndexRows(
        parse(R"({"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},
                  "effectiveDateTime":"2024-05-06T10:00:00"})"),
        SearchParameterRegistry::standard(), utc);
    BOOST_TEST(of(inUtc.dates, "date")[0].low == 1714989600000000);

    const IndexRows timing = rowsOf(R"({"resourceType":"ServiceRequest","id":"s","status":"active",
        "intent":"order","subject":{"reference":"Patient/p"},
        "occurrenceTiming":{"event":["2024-05-06","2024-05-08"],
                            "repeat":{"boundsPeriod":{"start":"2024-05-01","end":"2024-05-31"}}}})");
    BOOST_TEST(of(timing.dates, "occurrence").size() == 3u);
    const IndexRows bad = rowsOf(R"({"resourceType":"Patient","id":"p","birthDate":"1990-13"})");
    BOOST_TEST(of(bad.dates, "birthdate").empty());
}

BOOST_AUTO_TEST_CASE(references_with_target_filters)
{
    const IndexRows rows = rowsOf(R"({"resourceType":"Appointment","id":"a","status":"booked",
        "participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},
                       {"actor":{"reference":"Practitioner/d1/_history/3"},"status":"accepted"},
                       {"actor":{"reference":"https://gw.example.org/fhir/Location/l1"},"status":"accepted"},
                       {"actor":{"reference":"http://other.org/fhir/Patient/x"},"status":"accepted"},
                       {"actor":{"reference":"#contained"},"status":"accepted"},
                       {"actor":{"reference":"urn:uuid:0b7e8c3a-3f0e-4a55-9d8b-3c1f5a0d2e11"},"status":"accepted"},
                       {"actor":{"identifier":{"system":"urn:oid:1","value":"42"},"type":"Patient"},"status":"accepted"}]})");
    const std::vector<ReferenceRow> actor = of(rows.references, "actor");
    BOOST_REQUIRE(actor.size() == 5u);
    const std::vector<ReferenceRow> patient = of(rows.references, "patient");
    BOOST_REQUIRE(patient.size() == 2u);
    BOOST_TEST(patient[0].url == "http://other.org/fhir/Patient/x");
    BOOST_TEST(patient[1].targetId == "p1");
    BOOST_TEST(of(rows.references, "practitioner")[0].targetId == "d1");
    BOOST_TEST(of(rows.references, "location")[0].targetId == "l1");
    BOOST_TEST(of(rows.references, "location")[0].url.empty());
    const std::vector<TokenRow> byIdentifier = of(rows.tokens, "patient:identifier");
    BOOST_REQUIRE(byIdentifier.size() == 1u);
    BOOST_TEST(*byIdentifier[0].code == "42");
    BOOST_TEST(of(rows.tokens, "actor:identifier").size() == 1u);
}

BOOST_AUTO_TEST_CASE(quantities_numbers_and_uris)
{
    const IndexRows rows = rowsOf(R"({"resourceType":"Observation","id":"o","status":"final",
        "code":{"text":"Hb"},
        "valueQuantity":{"value":135.50,"unit":"g/L","system":"http://unitsofmeasure.org","code":"g/L"},
        "component":[{"code":{"text":"a"},"valueQuantity":{"value":1e2,"code":"mm[Hg]"}},
                     {"code":{"text":"b"},"valueString":"x"}],
        "meta":{"profile":["http://hl7.org/fhir/StructureDefinition/vitalsigns"]}})");
    const std::vector<QuantityRow> value = of(rows.quantities, "value-quantity");
    BOOST_REQUIRE(value.size() == 1u);
    BOOST_TEST(value[0].value == 135.5);
    BOOST_TEST(value[0].code == "g/L");
    BOOST_TEST(of(rows.quantities, "component-value-quantity")[0].value == 100.0);
    BOOST_TEST(of(rows.quantities, "combo-value-quantity").size() == 2u);
    BOOST_TEST(of(rows.uris, "_profile").size() == 1u);
    BOOST_TEST(of(rows.strings, "value-string").empty());

    const IndexRows charge = rowsOf(R"({"resourceType":"ChargeItem","id":"c","status":"billable",
        "code":{"text":"x"},"subject":{"reference":"Patient/p"},"factorOverride":0.8,
        "priceOverride":{"value":40,"currency":"CNY"}})");
    BOOST_TEST(of(charge.numbers, "factor-override")[0].value == 0.8);
    BOOST_TEST(of(charge.quantities, "price-override")[0].code == "CNY");
}

BOOST_AUTO_TEST_CASE(indexes_every_corpus_example_without_surprises)
{
    const std::filesystem::path dir =
        std::filesystem::path(HL7GW_CORPUS_DIR) / "fhir-r4/examples/json";
    std::size_t files = 0;
    std::size_t rows = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        rows += extractIndexRows(parse(hl7gw::fhir::search::test::readFile(entry.path()))).size();
        ++files;
    }
    BOOST_TEST(files > 100u);
    BOOST_TEST(rows > files * 3);
}

BOOST_AUTO_TEST_SUITE_END()
