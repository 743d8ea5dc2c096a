#include "gateway/fhir/rest/headers.h"

#include <boost/test/unit_test.hpp>

#include <string>

using hl7gw::core::Issue;
using namespace hl7gw::fhir::rest;

BOOST_TEST_DONT_PRINT_LOG_VALUE(hl7gw::fhir::rest::PreferReturn)
BOOST_TEST_DONT_PRINT_LOG_VALUE(hl7gw::fhir::rest::PreferHandling)

BOOST_AUTO_TEST_SUITE(etag)

BOOST_AUTO_TEST_CASE(formats_weak_tags)
{
    BOOST_TEST(formatETag("7") == "W/\"7\"");
}

BOOST_AUTO_TEST_CASE(reads_weak_and_strong_tags)
{
    BOOST_TEST(parseETag("W/\"7\"").value_or("none") == "7");
    BOOST_TEST(parseETag("\"7\"").value_or("none") == "7");
    BOOST_TEST(parseETag("  W/\"12\" ").value_or("none") == "12");
    BOOST_TEST(!parseETag("7").has_value());
    BOOST_TEST(!parseETag("W/7").has_value());
    BOOST_TEST(!parseETag("\"\"").has_value());
    BOOST_TEST(!parseETag("W/\"7").has_value());
    BOOST_TEST(!parseETag("\"a b\"").has_value());
    BOOST_TEST(!parseETag("*").has_value());
    BOOST_TEST(!parseETag("w/\"7\"").has_value());
}

BOOST_AUTO_TEST_CASE(reads_if_match_and_if_none_match_lists)
{
    const auto any = parseEntityTags("*");
    BOOST_TEST_REQUIRE(any.has_value());
    BOOST_TEST(any->any);
    BOOST_TEST(any->matches("99"));

    const auto list = parseEntityTags("W/\"1\", \"2\"");
    BOOST_TEST_REQUIRE(list.has_value());
    BOOST_TEST(!list->any);
    BOOST_TEST(list->versionIds.size() == 2u);
    BOOST_TEST(list->matches("1"));
    BOOST_TEST(list->matches("2"));
    BOOST_TEST(!list->matches("3"));

    BOOST_TEST(!parseEntityTags("").has_value());
    BOOST_TEST(!parseEntityTags("W/\"1\", 2").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(http_date)

// 2026-12-01T22:13:30Z = 1796163210 s since the epoch.
constexpr std::int64_t Micros = 1'796'163'210'000'000;

BOOST_AUTO_TEST_CASE(formats_imf_fixdate)
{
    BOOST_TEST(formatHttpDate(Micros) == "Tue, 01 Dec 2026 22:13:30 GMT");
    BOOST_TEST(formatHttpDate(Micros + 999'999) == "Tue, 01 Dec 2026 22:13:30 GMT");
    BOOST_TEST(formatHttpDate(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
}

BOOST_AUTO_TEST_CASE(round_trips_at_second_precision)
{
    for (std::int64_t micros : {Micros, Micros + 123'456, std::int64_t{951'782'400'000'000}}) {
        const auto back = parseHttpDate(formatHttpDate(micros));
        BOOST_TEST_REQUIRE(back.has_value());
        BOOST_TEST(*back == micros / 1'000'000 * 1'000'000);
    }
}

BOOST_AUTO_TEST_CASE(reads_the_obsolete_forms)
{
    BOOST_TEST(parseHttpDate("Tuesday, 01-Dec-26 22:13:30 GMT").value_or(-1) == Micros);
    BOOST_TEST(parseHttpDate("Tue Dec  1 22:13:30 2026").value_or(-1) == Micros);
    BOOST_TEST(parseHttpDate("Tue Dec 15 22:13:30 2026").value_or(-1) ==
               Micros + 14 * 86'400'000'000LL);
}

BOOST_AUTO_TEST_CASE(rejects_other_text)
{
    BOOST_TEST(!parseHttpDate("").has_value());
    BOOST_TEST(!parseHttpDate("yesterday").has_value());
    BOOST_TEST(!parseHttpDate("2026-12-01T22:13:30Z").has_value());
    BOOST_TEST(!parseHttpDate("Tue, 01 Dec 2026 22:13:30 +0800").has_value());
    BOOST_TEST(!parseHttpDate("Tue, 1 Dec 2026 22:13:30 GMT").has_value());
    BOOST_TEST(!parseHttpDate("Tue, 32 Dec 2026 22:13:30 GMT").has_value());
    BOOST_TEST(!parseHttpDate("Tue, 01 Dec 2026 25:13:30 GMT").has_value());
    BOOST_TEST(!parseHttpDate("Tue, 01 Dek 2026 22:13:30 GMT").has_value());
    BOOST_TEST(!parseHttpDate("Tue Dec 1 22:13:30 2026").has_value());
}

BOOST_AUTO_TEST_CASE(compares_modification_in_whole_seconds)
{
    BOOST_TEST(!modifiedSince(Micros + 500'000, Micros));
    BOOST_TEST(modifiedSince(Micros + 1'000'000, Micros));
    BOOST_TEST(!modifiedSince(Micros, Micros + 1'000'000));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(prefer)

BOOST_AUTO_TEST_CASE(reads_return_and_handling)
{
    BOOST_TEST(parsePrefer("").returnPreference == PreferReturn::Unspecified);
    BOOST_TEST(parsePrefer("return=minimal").returnPreference == PreferReturn::Minimal);
    BOOST_TEST(parsePrefer("return=representation").returnPreference ==
               PreferReturn::Representation);
    BOOST_TEST(parsePrefer("RETURN=\"OperationOutcome\"").returnPreference ==
               PreferReturn::OperationOutcome);

    const Preferences both = parsePrefer("handling=strict, return=minimal; x=1, respond-async");
    BOOST_TEST(both.handling == PreferHandling::Strict);
    BOOST_TEST(both.returnPreference == PreferReturn::Minimal);
    BOOST_TEST(both.respondAsync);
    BOOST_TEST(parsePrefer("handling=lenient").handling == PreferHandling::Lenient);
    BOOST_TEST(!parsePrefer("handling=lenient").respondAsync);
}

BOOST_AUTO_TEST_CASE(ignores_unknown_and_takes_the_first)
{
    BOOST_TEST(parsePrefer("return=everything").returnPreference == PreferReturn::Unspecified);
    BOOST_TEST(parsePrefer("wait=10, handling=sloppy").handling == PreferHandling::Unspecified);
    BOOST_TEST(parsePrefer("return=minimal, return=representation").returnPreference ==
               PreferReturn::Minimal);
    BOOST_TEST(parsePrefer("return=bogus, return=representation").returnPreference ==
               PreferReturn::Representation);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(if_none_exist)

BOOST_AUTO_TEST_CASE(reads_search_parameters)
{
    QueryParams params;
    Issue issue;
    BOOST_TEST(parseIfNoneExist("identifier=urn:oid:2.16.156.10011.1.3%7C1101&active=true", params,
                                issue));
    BOOST_TEST_REQUIRE(params.size() == 2u);
    BOOST_TEST(params[0].name == "identifier");
    BOOST_TEST(params[0].value == "urn:oid:2.16.156.10011.1.3|1101");
    BOOST_TEST(params[1].name == "active");
    BOOST_TEST(parseIfNoneExist("?identifier=a|b", params, issue));
    BOOST_TEST(params.size() == 1u);
    BOOST_TEST(params[0].value == "a|b");
}

BOOST_AUTO_TEST_CASE(rejects_empty_and_malformed)
{
    QueryParams params;
    Issue issue;
    BOOST_TEST(!parseIfNoneExist("  ", params, issue));
    BOOST_TEST(issue.code == "invalid");
    BOOST_TEST(!parseIfNoneExist("identifier=%zz", params, issue));
    BOOST_TEST(issue.code == "invalid");
    BOOST_TEST(issue.text.find("If-None-Exist") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
