#include "gateway/mapping/value_conversions.h"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace hl7gw::mapping;

namespace {

/// The FHIR text of a v2 DTM, or "ERROR: why".
std::string dateTime(std::string_view v2, int offset = 480)
{
    std::string out;
    std::string error;
    return v2ToFhirDateTime(v2, offset, out, error) ? out : "ERROR: " + error;
}

std::string instant(std::string_view v2, int offset = 480)
{
    std::string out;
    std::string error;
    return v2ToFhirInstant(v2, offset, out, error) ? out : "ERROR: " + error;
}

std::string date(std::string_view v2)
{
    std::string out;
    std::string error;
    return v2ToFhirDate(v2, out, error) ? out : "ERROR: " + error;
}

std::string time(std::string_view v2)
{
    std::string out;
    std::string error;
    return v2ToFhirTime(v2, out, error) ? out : "ERROR: " + error;
}

std::string decimal(std::string_view v2)
{
    std::string out;
    std::string error;
    return v2ToFhirDecimal(v2, out, error) ? out : "ERROR: " + error;
}

std::string integer(std::string_view v2, long long minimum = INT32_MIN)
{
    std::string out;
    std::string error;
    return v2ToFhirInteger(v2, minimum, out, error) ? out : "ERROR: " + error;
}

std::string toV2(std::string_view fhir)
{
    std::string out;
    std::string error;
    return fhirToV2Timestamp(fhir, out, error) ? out : "ERROR: " + error;
}

std::string toV2Time(std::string_view fhir)
{
    std::string out;
    std::string error;
    return fhirToV2Time(fhir, out, error) ? out : "ERROR: " + error;
}

std::string minutes(std::string_view amount, std::string_view unit)
{
    long long out = -1;
    std::string error;
    return durationMinutes(amount, unit, out, error) ? std::to_string(out) : "ERROR: " + error;
}

bool failsWith(const std::string& result, std::string_view rule)
{
    return result.rfind("ERROR: ", 0) == 0 && result.find(rule) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(value_conversions)

BOOST_AUTO_TEST_CASE(offset_text_has_sign_hours_and_minutes)
{
    BOOST_TEST(offsetText(480) == "+08:00");
    BOOST_TEST(offsetText(-330) == "-05:30");
    BOOST_TEST(offsetText(0) == "+00:00");
    BOOST_TEST(offsetText(840) == "+14:00");
    BOOST_TEST(offsetText(-720) == "-12:00");
}

BOOST_AUTO_TEST_CASE(parses_offsets_with_and_without_colon)
{
    int offset = 1;
    BOOST_TEST(parseOffset("+08:00", offset));
    BOOST_TEST(offset == 480);
    BOOST_TEST(parseOffset("+0800", offset));
    BOOST_TEST(offset == 480);
    BOOST_TEST(parseOffset("Z", offset));
    BOOST_TEST(offset == 0);
    BOOST_TEST(parseOffset("-03:30", offset));
    BOOST_TEST(offset == -210);
    BOOST_TEST(parseOffset("+14:00", offset));
    BOOST_TEST(offset == 840);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_or_out_of_range_offsets)
{
    int offset = 7;
    for (const char* bad : {"", "08:00", "+8:00", "+08", "+08:0", "+08:60", "+14:01", "-1500", "z",
                            "+08-00", "+0a:00", "+08:00 "}) {
        BOOST_TEST_CONTEXT(bad)
        {
            BOOST_TEST(!parseOffset(bad, offset));
        }
    }
    BOOST_TEST(offset == 7);
}

BOOST_AUTO_TEST_CASE(datetime_follows_standards_table_1_4)
{
    BOOST_TEST(dateTime("202405061430") == "2024-05-06T14:30:00+08:00");
    BOOST_TEST(dateTime("20240506143015.1234-0500") == "2024-05-06T14:30:15.1234-05:00");
    BOOST_TEST(dateTime("2024050614") == "2024-05-06T14:00:00+08:00");
}

BOOST_AUTO_TEST_CASE(datetime_keeps_a_date_alone_as_a_date)
{
    BOOST_TEST(dateTime("2024") == "2024");
    BOOST_TEST(dateTime("202405") == "2024-05");
    BOOST_TEST(dateTime("20240506") == "2024-05-06");
    // FHIR allows no zone on a date, so the value's own offset goes too.
    BOOST_TEST(dateTime("20240506+0800") == "2024-05-06");
}

BOOST_AUTO_TEST_CASE(datetime_writes_the_channel_zone_only_when_the_value_has_none)
{
    BOOST_TEST(dateTime("20240506143015", -330) == "2024-05-06T14:30:15-05:30");
    BOOST_TEST(dateTime("20240506143015+0000", -330) == "2024-05-06T14:30:15+00:00");
    BOOST_TEST(dateTime("20240506143015+0800", 0) == "2024-05-06T14:30:15+08:00");
    BOOST_TEST(dateTime("20240506143015.5", 0) == "2024-05-06T14:30:15.5+00:00");
}

BOOST_AUTO_TEST_CASE(datetime_rejects_what_is_not_a_dtm)
{
    BOOST_TEST(failsWith(dateTime(""), "expected YYYY"));
    BOOST_TEST(failsWith(dateTime("202"), "expected YYYY"));
    BOOST_TEST(failsWith(dateTime("20240"), "expected YYYY"));
    BOOST_TEST(failsWith(dateTime("2024050614301599"), "expected YYYY"));
    BOOST_TEST(failsWith(dateTime("2024-05-06"), "offset must be"));
    BOOST_TEST(failsWith(dateTime("20241306"), "month out of range"));
    BOOST_TEST(failsWith(dateTime("20240001"), "month out of range"));
    BOOST_TEST(failsWith(dateTime("20240230"), "day out of range"));
    BOOST_TEST(failsWith(dateTime("20230229"), "day out of range"));
    BOOST_TEST(failsWith(dateTime("20240506240000"), "hour out of range"));
    BOOST_TEST(failsWith(dateTime("20240506126000"), "minute out of range"));
    BOOST_TEST(failsWith(dateTime("20240506120060"), "second out of range"));
    BOOST_TEST(failsWith(dateTime("202405061230.5"), "fraction needs seconds"));
    BOOST_TEST(failsWith(dateTime("20240506123000."), "empty fraction"));
    BOOST_TEST(failsWith(dateTime("20240506123000+080"), "offset must be"));
    BOOST_TEST(failsWith(dateTime("20240506123000+1500"), "offset out of range"));
    BOOST_TEST(failsWith(dateTime("20240506123000 "), "unexpected character"));
}

BOOST_AUTO_TEST_CASE(errors_never_repeat_the_value)
{
    std::string out;
    std::string error;
    BOOST_TEST(!v2ToFhirDateTime("19991399", 480, out, error));
    BOOST_TEST(error.find("1999") == std::string::npos);
    BOOST_TEST(!v2ToFhirDecimal("12,5", out, error));
    BOOST_TEST(error.find("12") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(accepts_leap_days)
{
    BOOST_TEST(dateTime("20240229") == "2024-02-29");
    BOOST_TEST(dateTime("20000229") == "2000-02-29");
    BOOST_TEST(failsWith(dateTime("19000229"), "day out of range"));
}

BOOST_AUTO_TEST_CASE(date_drops_time_and_offset)
{
    BOOST_TEST(date("19800101") == "1980-01-01");
    BOOST_TEST(date("1980") == "1980");
    BOOST_TEST(date("198001") == "1980-01");
    BOOST_TEST(date("19800101083000+0800") == "1980-01-01");
    BOOST_TEST(failsWith(date("1980013"), "expected YYYY"));
}

BOOST_AUTO_TEST_CASE(instant_needs_the_hour)
{
    BOOST_TEST(instant("2024050614") == "2024-05-06T14:00:00+08:00");
    BOOST_TEST(instant("20240506143015.123+0000") == "2024-05-06T14:30:15.123+00:00");
    BOOST_TEST(failsWith(instant("20240506"), "needs at least the hour"));
    BOOST_TEST(failsWith(instant("2024"), "needs at least the hour"));
}

BOOST_AUTO_TEST_CASE(time_is_padded_and_loses_its_offset)
{
    BOOST_TEST(time("14") == "14:00:00");
    BOOST_TEST(time("1430") == "14:30:00");
    BOOST_TEST(time("143015") == "14:30:15");
    BOOST_TEST(time("143015.25") == "14:30:15.25");
    BOOST_TEST(time("1430+0800") == "14:30:00");
    BOOST_TEST(failsWith(time("2500"), "hour out of range"));
    BOOST_TEST(failsWith(time("1"), "expected HH"));
    BOOST_TEST(failsWith(time("14:30"), "unexpected character"));
    BOOST_TEST(failsWith(time("1430.5"), "fraction needs seconds"));
}

BOOST_AUTO_TEST_CASE(decimal_keeps_the_digits_as_written)
{
    BOOST_TEST(decimal("1.50") == "1.50");
    BOOST_TEST(decimal("+1.50") == "1.50");
    BOOST_TEST(decimal(".5") == "0.5");
    BOOST_TEST(decimal("-.5") == "-0.5");
    BOOST_TEST(decimal("-12") == "-12");
    BOOST_TEST(decimal("0") == "0");
    BOOST_TEST(decimal("0.000") == "0.000");
    // FHIR decimal has no leading zeros and no bare trailing point; neither carries precision.
    BOOST_TEST(decimal("007.10") == "7.10");
    BOOST_TEST(decimal("1.") == "1");
}

BOOST_AUTO_TEST_CASE(decimal_rejects_anything_else)
{
    for (const char* bad :
         {"", " 1", "1 ", "1e3", "1,5", "+", "-", ".", "1.2.3", "--1", "0x10", "１"}) {
        BOOST_TEST_CONTEXT(bad)
        {
            BOOST_TEST(failsWith(decimal(bad), "not a valid NM"));
        }
    }
}

BOOST_AUTO_TEST_CASE(integer_checks_fraction_range_and_minimum)
{
    BOOST_TEST(integer("007") == "7");
    BOOST_TEST(integer("+42") == "42");
    BOOST_TEST(integer("-42") == "-42");
    BOOST_TEST(integer("-0") == "0");
    BOOST_TEST(integer("2147483647") == "2147483647");
    BOOST_TEST(integer("-2147483648") == "-2147483648");
    BOOST_TEST(integer("0000000000001") == "1");
    BOOST_TEST(failsWith(integer("2147483648"), "32-bit range"));
    BOOST_TEST(failsWith(integer("-2147483649"), "32-bit range"));
    BOOST_TEST(failsWith(integer("99999999999"), "32-bit range"));
    BOOST_TEST(failsWith(integer("1.5"), "has a fraction"));
    BOOST_TEST(failsWith(integer("1.0"), "has a fraction"));
    BOOST_TEST(failsWith(integer(""), "expected [+|-]digits"));
    BOOST_TEST(failsWith(integer(".5"), "expected [+|-]digits"));
    BOOST_TEST(failsWith(integer("1e3"), "expected [+|-]digits"));
    BOOST_TEST(integer("0", 0) == "0");
    BOOST_TEST(failsWith(integer("-1", 0), "below the minimum 0"));
    BOOST_TEST(failsWith(integer("0", 1), "below the minimum 1"));
    BOOST_TEST(integer("1", 1) == "1");
}

BOOST_AUTO_TEST_CASE(boolean_accepts_the_spellings_vendors_send)
{
    bool value = false;
    std::string error;
    for (const char* yes : {"Y", "y", "1", "T"}) {
        value = false;
        BOOST_TEST_CONTEXT(yes)
        {
            BOOST_TEST((v2ToFhirBoolean(yes, value, error) && value));
        }
    }
    for (const char* no : {"N", "n", "0", "F"}) {
        value = true;
        BOOST_TEST_CONTEXT(no)
        {
            BOOST_TEST((v2ToFhirBoolean(no, value, error) && !value));
        }
    }
    for (const char* bad : {"", "YES", "true", "2", " Y"}) {
        BOOST_TEST_CONTEXT(bad)
        {
            BOOST_TEST(!v2ToFhirBoolean(bad, value, error));
        }
    }
    BOOST_TEST(error.find("table 0136") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(fhir_timestamps_keep_their_own_offset)
{
    BOOST_TEST(toV2("2024-03-01T08:30:00+08:00") == "20240301083000+0800");
    BOOST_TEST(toV2("2024-03-01T08:30:00-05:30") == "20240301083000-0530");
    BOOST_TEST(toV2("2024-03-01T00:30:00Z") == "20240301003000+0000");
    BOOST_TEST(toV2("2024-03-01T08:30:00.123+08:00") == "20240301083000.123+0800");
    BOOST_TEST(toV2("2024-03-01T08:30:00") == "20240301083000");
    BOOST_TEST(toV2("2024-03-01") == "20240301");
    BOOST_TEST(toV2("2024-03") == "202403");
    BOOST_TEST(toV2("2024") == "2024");
}

BOOST_AUTO_TEST_CASE(fhir_timestamps_round_trip_through_v2)
{
    for (const char* v2 : {"20240506143015+0800", "20240506143015.1234-0500", "20240506"}) {
        std::string fhir;
        std::string back;
        std::string error;
        BOOST_TEST_CONTEXT(v2)
        {
            BOOST_TEST(v2ToFhirDateTime(v2, 480, fhir, error));
            BOOST_TEST(fhirToV2Timestamp(fhir, back, error));
            BOOST_TEST(back == v2);
        }
    }
}

BOOST_AUTO_TEST_CASE(rejects_malformed_fhir_timestamps)
{
    for (const char* bad : {"", "20240301", "2024-3-01", "2024-03-01T08:30", "2024-03-01 08:30:00",
                            "2024-03-01T08:30:00+0800x", "2024-03-01T08:30:00+15:00", "2024-03-01T",
                            "2024-03-01T08:30:00.", "2024-03-0108:30:00"}) {
        BOOST_TEST_CONTEXT(bad)
        {
            BOOST_TEST(failsWith(toV2(bad), "not a valid FHIR dateTime"));
        }
    }
    BOOST_TEST(failsWith(toV2("2024-13-01"), "month out of range"));
    BOOST_TEST(failsWith(toV2("2024-02-30"), "day out of range"));
    BOOST_TEST(failsWith(toV2("2024-03-01T24:00:00+08:00"), "time out of range"));
}

BOOST_AUTO_TEST_CASE(fhir_time_becomes_tm)
{
    BOOST_TEST(toV2Time("08:30:00") == "083000");
    BOOST_TEST(toV2Time("23:59:59.5") == "235959.5");
    BOOST_TEST(failsWith(toV2Time("08:30"), "expected hh:mm:ss"));
    BOOST_TEST(failsWith(toV2Time("08:30:00+08:00"), "expected hh:mm:ss"));
    BOOST_TEST(failsWith(toV2Time("25:00:00"), "out of range"));
}

BOOST_AUTO_TEST_CASE(durations_in_ucum_and_iso_units)
{
    BOOST_TEST(minutes("30", "") == "30");
    BOOST_TEST(minutes("30", "min") == "30");
    BOOST_TEST(minutes("30", "M") == "30");
    BOOST_TEST(minutes("30", "MIN") == "30");
    BOOST_TEST(minutes("1.5", "h") == "90");
    BOOST_TEST(minutes("2", "H") == "120");
    BOOST_TEST(minutes("2", "HR") == "120");
    BOOST_TEST(minutes("1", "d") == "1440");
    BOOST_TEST(minutes("1", "D") == "1440");
    BOOST_TEST(minutes("1", "wk") == "10080");
    BOOST_TEST(minutes("1", "W") == "10080");
    BOOST_TEST(minutes("1", "WK") == "10080");
    BOOST_TEST(minutes("1", "mo") == "43200");
    BOOST_TEST(minutes("90", "s") == "2"); // 1.5 rounds up
    BOOST_TEST(minutes("89", "S") == "1"); // 1.48
    BOOST_TEST(minutes("29", "s") == "0");
    BOOST_TEST(minutes(".25", "h") == "15");
    BOOST_TEST(minutes("0", "d") == "0");
}

BOOST_AUTO_TEST_CASE(durations_reject_unknown_units_and_bad_amounts)
{
    BOOST_TEST(failsWith(minutes("1", "m"), "unknown duration unit"));
    BOOST_TEST(failsWith(minutes("1", "hours"), "unknown duration unit"));
    BOOST_TEST(failsWith(minutes("1", "a"), "unknown duration unit"));
    BOOST_TEST(failsWith(minutes("-1", "min"), "non-negative number"));
    BOOST_TEST(failsWith(minutes("", "min"), "non-negative number"));
    BOOST_TEST(failsWith(minutes("1e2", "min"), "non-negative number"));
    BOOST_TEST(failsWith(minutes("abc", "min"), "non-negative number"));
    BOOST_TEST(failsWith(minutes("999999999999999999999", "mo"), "too large"));
}

BOOST_AUTO_TEST_SUITE_END()
