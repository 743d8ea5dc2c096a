#include "gateway/fhir/search/detail/search_values.h"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace hl7gw::fhir::search::detail;

namespace {

constexpr Micros Day = 86400000000;
constexpr Micros May6Local = 1714924800000000; // 2024-05-06T00:00:00+08:00

} // namespace

BOOST_AUTO_TEST_SUITE(search_values)

BOOST_AUTO_TEST_CASE(partial_dates_cover_their_whole_period_in_the_server_zone)
{
    const auto year = parseDateRange("2024", 480);
    BOOST_REQUIRE(year);
    BOOST_TEST(year->low == 1704038400000000);
    BOOST_TEST(year->high == 1735660800000000 - 1);
    const auto february = parseDateRange("2024-02", 480);
    BOOST_REQUIRE(february);
    BOOST_TEST(february->low == 1706716800000000);
    BOOST_TEST(february->high == 1709222400000000 - 1); // leap year: 29 days
    const auto december = parseDateRange("2024-12", 480);
    BOOST_REQUIRE(december);
    BOOST_TEST(december->high == 1735660800000000 - 1);
    const auto day = parseDateRange("2024-05-06", 480);
    BOOST_REQUIRE(day);
    BOOST_TEST(day->low == May6Local);
    BOOST_TEST(day->high == May6Local + Day - 1);
    const auto utcDay = parseDateRange("2024-05-06", 0);
    BOOST_TEST(utcDay->low == May6Local + 8 * 3600000000LL);
    BOOST_TEST(parseDateRange("1974-12-25", 480)->low == 157132800000000);
}

BOOST_AUTO_TEST_CASE(times_take_their_zone_or_the_server_zone)
{
    const auto utc = parseDateRange("2024-05-06T14:30:15Z", 480);
    BOOST_REQUIRE(utc);
    BOOST_TEST(utc->low == 1715005815000000);
    BOOST_TEST(utc->high == 1715005815000000 + 999999);
    const auto eastern = parseDateRange("2024-05-06T14:30:15-05:00", 480);
    BOOST_TEST(eastern->low == 1715023815000000);
    const auto zoneless = parseDateRange("2024-05-06T14:30", 480);
    BOOST_REQUIRE(zoneless);
    BOOST_TEST(zoneless->low == 1714977000000000);
    BOOST_TEST(zoneless->high == 1714977000000000 + 60000000 - 1);
    const auto millis = parseDateRange("2024-05-06T14:30:15.250Z", 480);
    BOOST_TEST(millis->low == 1715005815250000);
    BOOST_TEST(millis->high == 1715005815250999);
    const auto nanos = parseDateRange("2024-05-06T14:30:15.123456789Z", 480);
    BOOST_TEST(nanos->low == 1715005815123456);
    BOOST_TEST(nanos->high == 1715005815123456);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_dates)
{
    for (const char* bad : {"", "24", "2024-13", "2024-04-31", "2023-02-29", "2024-05-06T25:00",
                            "2024-05-06T14", "2024-05-06T14:30:15+0800", "2024-05-06T14:30:15.",
                            "2024/05/06", "2024-05-06 14:30", "2024-05-06T14:30:15Zx"}) {
        BOOST_TEST_CONTEXT(bad)
        {
            BOOST_TEST(!parseDateRange(bad, 480));
        }
    }
    BOOST_TEST(parseDateRange("2024-02-29", 480).has_value());
}

BOOST_AUTO_TEST_CASE(decimals_imply_a_range_from_their_precision)
{
    const auto hundred = parseDecimal("100");
    BOOST_REQUIRE(hundred);
    BOOST_TEST(hundred->value == 100.0);
    BOOST_TEST(hundred->low == 99.5);
    BOOST_TEST(hundred->high == 100.5);
    const auto precise = parseDecimal("100.00");
    BOOST_TEST(precise->low == 99.995, boost::test_tools::tolerance(1e-9));
    const auto exponent = parseDecimal("1e2");
    BOOST_TEST(exponent->low == 50.0);
    BOOST_TEST(parseDecimal("-0.5")->value == -0.5);
    for (const char* bad : {"", "abc", "1.", ".5", "1e", "1,5", "1.2.3"}) {
        BOOST_TEST(!parseDecimal(bad), bad);
    }
}

BOOST_AUTO_TEST_CASE(normalizes_case_accents_and_width_but_keeps_chinese)
{
    BOOST_TEST(normalizeText("  Ÿvès   ÇHÂLMERS ") == "yves chalmers");
    BOOST_TEST(normalizeText("Straße Œuvre Æsir") == "strasse oeuvre aesir");
    BOOST_TEST(normalizeText("Zhāng Sǎn Lǚ") == "zhang san lu");
    BOOST_TEST(normalizeText("ＡＢＣ　１２３") == "abc 123");
    BOOST_TEST(normalizeText("张三丰") == "张三丰");
    BOOST_TEST(normalizeText("陳東 Chén") == "陳東 chen");
    BOOST_TEST(normalizeText("ΑΒΓ Дмитрий") == "αβγ дмитрий");
    BOOST_TEST(normalizeText("e\xCC\x81t\xC3\xA9") == "ete"); // decomposed and composed é
    BOOST_TEST(normalizeText("a\xFF"
                             "b") == "a\xFF"
                                     "b"); // invalid UTF-8 kept
}

BOOST_AUTO_TEST_CASE(base64url_round_trips)
{
    for (const std::string& text :
         std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
        BOOST_TEST(*base64UrlDecode(base64UrlEncode(text)) == text);
    }
    BOOST_TEST(!base64UrlDecode("a+b"));
}

BOOST_AUTO_TEST_SUITE_END()
