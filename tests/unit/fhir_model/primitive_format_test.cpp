#include "gateway/fhir/model/detail/primitive_format.h"

#include "gateway/fhir/model/definitions.h"

#include <boost/test/unit_test.hpp>

#include <random>
#include <regex>
#include <string>
#include <vector>

using hl7gw::fhir::Definitions;
using hl7gw::fhir::TypeDef;
namespace detail = hl7gw::fhir::detail;

namespace {

const TypeDef& type(const char* name)
{
    const TypeDef* found = Definitions::r4().type(name);
    BOOST_REQUIRE(found != nullptr);
    return *found;
}

} // namespace

BOOST_AUTO_TEST_SUITE(primitive_format)

// The hand-written matchers must say what the R4 pattern says, for valid values and for
// every near miss: each seed is mutated (a character replaced, dropped or added, the value
// cut short) many times over, and both verdicts compared.
BOOST_AUTO_TEST_CASE(hand_written_matchers_agree_with_the_r4_patterns)
{
    const std::vector<std::pair<const char*, std::vector<std::string>>> seeds = {
        {"dateTime",
         {"2026", "2026-12", "2026-12-02", "2026-12-02T08:30:00+08:00", "2026-12-02T23:59:60.123Z",
          "0001-01-01T00:00:00-14:00", "2026-12-02T08:30:00+13:59"}},
        {"instant",
         {"2026-12-02T08:30:00.5+08:00", "2026-12-02T00:00:00Z", "1000-10-31T20:00:00-00:00"}},
        {"date", {"2026", "2026-02", "2026-02-29", "0010-01-31"}},
        {"id", {"a", "pat-36510665", "01a23798-add5-79bc-8dc3-ebb87b744b3b", std::string(64, 'x')}},
        {"boolean", {"true", "false"}},
        {"decimal", {"0", "-0.50", "1.50", "12e-3", "-7E+10", "100"}},
        {"integer", {"0", "-1", "2147483647", "42"}},
        {"unsignedInt", {"0", "7", "120"}},
        {"positiveInt", {"1", "90", "3000"}},
    };
    const std::string alphabet = "0123456789-+:.TZze aZ\t/";
    std::mt19937 random(20261202);
    int compared = 0;
    int accepted = 0;
    for (const auto& [name, values] : seeds) {
        const TypeDef& t = type(name);
        const std::regex pattern(std::string(t.pattern()), std::regex::ECMAScript);
        auto check = [&](const std::string& text) {
            const bool expected = std::regex_match(text, pattern);
            BOOST_TEST(detail::matchesPrimitivePattern(t, text) == expected,
                       name << " '" << text << "': the pattern says " << expected);
            ++compared;
            accepted += expected ? 1 : 0;
        };
        for (const std::string& seed : values) {
            check(seed);
            for (int i = 0; i < 400; ++i) {
                std::string text = seed;
                const int edits = 1 + static_cast<int>(random() % 3);
                for (int e = 0; e < edits; ++e) {
                    const std::size_t at = text.empty() ? 0 : random() % (text.size() + 1);
                    const char c = alphabet[random() % alphabet.size()];
                    switch (random() % 4) {
                    case 0:
                        if (at < text.size()) {
                            text[at] = c;
                        }
                        break;
                    case 1:
                        if (at < text.size()) {
                            text.erase(at, 1);
                        }
                        break;
                    case 2:
                        text.insert(at, 1, c);
                        break;
                    default:
                        text.resize(at);
                        break;
                    }
                }
                check(text);
            }
        }
    }
    // Both outcomes were exercised, not only refusals.
    BOOST_TEST(compared > 10000);
    BOOST_TEST(accepted > 500);
}

BOOST_AUTO_TEST_CASE(calendar_and_ranges_still_apply_after_the_pattern)
{
    BOOST_TEST(!detail::isValidPrimitiveText(type("date"), "2026-02-30"));
    BOOST_TEST(detail::isValidPrimitiveText(type("date"), "2024-02-29"));
    BOOST_TEST(!detail::isValidPrimitiveText(type("dateTime"), "2025-02-29T00:00:00Z"));
    BOOST_TEST(!detail::isValidPrimitiveText(type("integer"), "2147483648"));
    BOOST_TEST(!detail::isValidPrimitiveText(type("id"), std::string(65, 'x')));
    BOOST_TEST(detail::isValidPrimitiveText(type("time"), "08:30:00"));
    BOOST_TEST(!detail::isValidPrimitiveText(type("time"), "24:00:00"));
}

BOOST_AUTO_TEST_SUITE_END()
