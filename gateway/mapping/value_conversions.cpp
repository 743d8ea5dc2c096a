#include "gateway/mapping/value_conversions.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace hl7gw::mapping {
namespace {

// FHIR R4 and ISO 8601 both stop at ±14:00 (Line Islands); anything further is a typo.
constexpr int MaxOffsetMinutes = 14 * 60;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool allDigits(std::string_view text)
{
    for (char c : text) {
        if (!isDigit(c)) {
            return false;
        }
    }
    return !text.empty();
}

int number(std::string_view digits)
{
    int value = 0;
    for (char c : digits) {
        value = value * 10 + (c - '0');
    }
    return value;
}

bool isLeapYear(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int daysInMonth(int year, int month)
{
    static constexpr int Days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && isLeapYear(year) ? 29 : Days[month - 1];
}

bool fail(std::string& error, std::string text)
{
    error = std::move(text);
    return false;
}

/// The parts of a v2 DTM/TS or TM as written; absent parts are empty.
struct V2Time {
    std::string_view year, month, day, hour, minute, second, fraction;
    std::optional<int> offset;
};

/// `+HHMM` / `-HHMM` after a v2 value (HL7 v2.5.1 §2A.22 DTM); `text` starts at the sign.
bool parseV2Offset(std::string_view text, V2Time& out, const char* type, std::string& error)
{
    if (text.size() != 5 || !allDigits(text.substr(1))) {
        return fail(error, std::string("not a valid ") + type + ": the offset must be +/-ZZZZ");
    }
    const int hours = number(text.substr(1, 2));
    const int minutes = number(text.substr(3, 2));
    const int total = hours * 60 + minutes;
    if (minutes > 59 || total > MaxOffsetMinutes) {
        return fail(error, std::string("not a valid ") + type + ": offset out of range");
    }
    out.offset = text[0] == '-' ? -total : total;
    return true;
}

/// The `.S...` fraction and the offset that may follow the last digit pair.
bool parseV2Tail(std::string_view tail, bool hasSeconds, V2Time& out, const char* type,
                 std::string& error)
{
    if (!tail.empty() && tail[0] == '.') {
        if (!hasSeconds) {
            return fail(error, std::string("not a valid ") + type +
                                   ": a fraction needs seconds before it");
        }
        std::size_t end = 1;
        while (end < tail.size() && isDigit(tail[end])) {
            ++end;
        }
        if (end == 1) {
            return fail(error, std::string("not a valid ") + type + ": empty fraction");
        }
        out.fraction = tail.substr(1, end - 1);
        tail.remove_prefix(end);
    }
    if (tail.empty()) {
        return true;
    }
    if (tail[0] == '+' || tail[0] == '-') {
        return parseV2Offset(tail, out, type, error);
    }
    return fail(error, std::string("not a valid ") + type + ": unexpected character");
}

/// How many digits the value starts with (the date/time part before a fraction or offset).
std::size_t leadingDigits(std::string_view text)
{
    std::size_t count = 0;
    while (count < text.size() && isDigit(text[count])) {
        ++count;
    }
    return count;
}

bool checkClock(const V2Time& t, const char* type, std::string& error)
{
    if (!t.hour.empty() && number(t.hour) > 23) {
        return fail(error, std::string("not a valid ") + type + ": hour out of range");
    }
    if (!t.minute.empty() && number(t.minute) > 59) {
        return fail(error, std::string("not a valid ") + type + ": minute out of range");
    }
    if (!t.second.empty() && number(t.second) > 59) {
        return fail(error, std::string("not a valid ") + type + ": second out of range");
    }
    return true;
}

bool checkCalendar(const V2Time& t, std::string& error)
{
    if (!t.month.empty()) {
        const int month = number(t.month);
        if (month < 1 || month > 12) {
            return fail(error, "not a valid DTM: month out of range");
        }
        if (!t.day.empty()) {
            const int day = number(t.day);
            if (day < 1 || day > daysInMonth(number(t.year), month)) {
                return fail(error, "not a valid DTM: day out of range for the month");
            }
        }
    }
    return true;
}

/// DT/DTM/TS `YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]` (STANDARDS.md §1.4).
bool parseV2DateTime(std::string_view v2, V2Time& out, std::string& error)
{
    const std::size_t digits = leadingDigits(v2);
    if (digits < 4 || digits > 14 || digits % 2 != 0) {
        return fail(error, "not a valid DTM: expected YYYY[MM[DD[HH[MM[SS]]]]]");
    }
    std::string_view part[6];
    part[0] = v2.substr(0, 4);
    for (std::size_t i = 1; 4 + 2 * i <= digits; ++i) {
        part[i] = v2.substr(2 + 2 * i, 2);
    }
    out.year = part[0];
    out.month = part[1];
    out.day = part[2];
    out.hour = part[3];
    out.minute = part[4];
    out.second = part[5];
    return checkCalendar(out, error) && checkClock(out, "DTM", error) &&
           parseV2Tail(v2.substr(digits), digits == 14, out, "DTM", error);
}

/// TM `HH[MM[SS[.S...]]][+/-ZZZZ]`.
bool parseV2Time(std::string_view v2, V2Time& out, std::string& error)
{
    const std::size_t digits = leadingDigits(v2);
    if (digits < 2 || digits > 6 || digits % 2 != 0) {
        return fail(error, "not a valid TM: expected HH[MM[SS]]");
    }
    out.hour = v2.substr(0, 2);
    out.minute = digits >= 4 ? v2.substr(2, 2) : std::string_view();
    out.second = digits >= 6 ? v2.substr(4, 2) : std::string_view();
    return checkClock(out, "TM", error) &&
           parseV2Tail(v2.substr(digits), digits == 6, out, "TM", error);
}

std::string orZero(std::string_view pair)
{
    return pair.empty() ? std::string("00") : std::string(pair);
}

/// `hh:mm:ss[.s]`: FHIR requires seconds whenever a time is present, so missing parts are 00.
std::string fhirClock(const V2Time& t)
{
    std::string out = std::string(t.hour) + ':' + orZero(t.minute) + ':' + orZero(t.second);
    if (!t.fraction.empty()) {
        out += '.';
        out += t.fraction;
    }
    return out;
}

std::string fhirDate(const V2Time& t)
{
    std::string out(t.year);
    if (!t.month.empty()) {
        out += '-';
        out += t.month;
        if (!t.day.empty()) {
            out += '-';
            out += t.day;
        }
    }
    return out;
}

std::string fhirDateTime(const V2Time& t, int offsetMinutes)
{
    return fhirDate(t) + 'T' + fhirClock(t) + offsetText(t.offset.value_or(offsetMinutes));
}

/// The parts of a FHIR date/dateTime/instant/time as written.
struct FhirTime {
    std::string_view year, month, day, hour, minute, second, fraction;
    std::optional<int> offset;
};

bool expect(std::string_view& text, char c)
{
    if (text.empty() || text[0] != c) {
        return false;
    }
    text.remove_prefix(1);
    return true;
}

bool takeDigits(std::string_view& text, std::size_t count, std::string_view& out)
{
    if (text.size() < count || !allDigits(text.substr(0, count))) {
        return false;
    }
    out = text.substr(0, count);
    text.remove_prefix(count);
    return true;
}

/// `hh:mm:ss[.s]` at the start of `text`.
bool takeFhirClock(std::string_view& text, FhirTime& out)
{
    if (!takeDigits(text, 2, out.hour) || !expect(text, ':') || !takeDigits(text, 2, out.minute) ||
        !expect(text, ':') || !takeDigits(text, 2, out.second)) {
        return false;
    }
    if (expect(text, '.')) {
        const std::size_t count = leadingDigits(text);
        if (count == 0) {
            return false;
        }
        takeDigits(text, count, out.fraction);
    }
    return true;
}

bool fhirClockInRange(const FhirTime& t)
{
    return number(t.hour) <= 23 && number(t.minute) <= 59 && number(t.second) <= 59;
}

/// FHIR R4 dateTime/instant: `YYYY[-MM[-DD[Thh:mm:ss[.s](Z|+hh:mm|-hh:mm)]]]`; the zone is
/// accepted as optional because some senders leave it out and v2 can say "local time" then.
bool parseFhirDateTime(std::string_view text, FhirTime& out, std::string& error)
{
    const char* const shape = "not a valid FHIR dateTime: expected YYYY[-MM[-DD[Thh:mm:ss]]]";
    if (!takeDigits(text, 4, out.year)) {
        return fail(error, shape);
    }
    if (expect(text, '-') &&
        (!takeDigits(text, 2, out.month) || (expect(text, '-') && !takeDigits(text, 2, out.day)))) {
        return fail(error, shape);
    }
    if (!out.month.empty() && (number(out.month) < 1 || number(out.month) > 12)) {
        return fail(error, "not a valid FHIR dateTime: month out of range");
    }
    if (!out.day.empty() && (number(out.day) < 1 ||
                             number(out.day) > daysInMonth(number(out.year), number(out.month)))) {
        return fail(error, "not a valid FHIR dateTime: day out of range for the month");
    }
    if (text.empty()) {
        return true;
    }
    if (out.day.empty() || !expect(text, 'T') || !takeFhirClock(text, out)) {
        return fail(error, shape);
    }
    if (!fhirClockInRange(out)) {
        return fail(error, "not a valid FHIR dateTime: time out of range");
    }
    if (text.empty()) {
        return true;
    }
    int offset = 0;
    if (!parseOffset(text, offset)) {
        return fail(error, "not a valid FHIR dateTime: malformed zone");
    }
    out.offset = offset;
    return true;
}

/// "+0800" for 480 (the v2 form, HL7 v2.5.1 §2A.22).
std::string v2OffsetText(int offsetMinutes)
{
    std::string text = offsetText(offsetMinutes);
    text.erase(3, 1);
    return text;
}

/// Checks NM (HL7 v2.5.1 §2A.47): optional sign, digits, optional point and digits. Gives the
/// sign and both digit runs as written.
bool splitNumber(std::string_view v2, bool& negative, std::string_view& whole,
                 std::string_view& fraction, bool& hasPoint)
{
    negative = false;
    if (!v2.empty() && (v2[0] == '+' || v2[0] == '-')) {
        negative = v2[0] == '-';
        v2.remove_prefix(1);
    }
    const std::size_t point = v2.find('.');
    hasPoint = point != std::string_view::npos;
    whole = v2.substr(0, point);
    fraction = hasPoint ? v2.substr(point + 1) : std::string_view();
    const bool wholeOk = whole.empty() || allDigits(whole);
    const bool fractionOk = fraction.empty() || allDigits(fraction);
    return wholeOk && fractionOk && (!whole.empty() || !fraction.empty());
}

/// FHIR decimal and integer forbid leading zeros (`-?(0|[1-9][0-9]*)`); they carry no
/// precision, unlike trailing ones, so dropping them does not change what was said.
std::string_view withoutLeadingZeros(std::string_view digits)
{
    while (digits.size() > 1 && digits[0] == '0') {
        digits.remove_prefix(1);
    }
    return digits.empty() ? std::string_view("0") : digits;
}

bool isZero(std::string_view whole, std::string_view fraction)
{
    return whole.find_first_not_of('0') == std::string_view::npos &&
           fraction.find_first_not_of('0') == std::string_view::npos;
}

/// Minutes per unit for durationMinutes(): UCUM codes as FHIR Duration uses them, and the ISO+
/// unit codes v2 sends in TQ1-6/CE units (HL7 v2.5.1 table 0335-style abbreviations).
std::optional<long double> minutesPerUnit(std::string_view unit)
{
    struct Unit {
        std::string_view code;
        long double minutes;
    };
    static constexpr Unit Units[] = {
        {"", 1},     {"s", 1.0L / 60}, {"S", 1.0L / 60}, {"min", 1},    {"M", 1},
        {"MIN", 1},  {"h", 60},        {"H", 60},        {"HR", 60},    {"d", 1440},
        {"D", 1440}, {"wk", 10080},    {"W", 10080},     {"WK", 10080}, {"mo", 43200},
    };
    for (const Unit& entry : Units) {
        if (entry.code == unit) {
            return entry.minutes;
        }
    }
    return std::nullopt;
}

/// The value of checked NM digits; by hand because strtold follows the C locale's decimal point.
long double decimalValue(std::string_view whole, std::string_view fraction)
{
    long double value = 0;
    for (char c : whole) {
        value = value * 10 + (c - '0');
    }
    long double scale = 0.1L;
    for (char c : fraction) {
        value += (c - '0') * scale;
        scale /= 10;
    }
    return value;
}

} // namespace

std::string offsetText(int offsetMinutes)
{
    const int magnitude = offsetMinutes < 0 ? -offsetMinutes : offsetMinutes;
    const int hours = magnitude / 60;
    const int minutes = magnitude % 60;
    std::string text(1, offsetMinutes < 0 ? '-' : '+');
    text += static_cast<char>('0' + hours / 10);
    text += static_cast<char>('0' + hours % 10);
    text += ':';
    text += static_cast<char>('0' + minutes / 10);
    text += static_cast<char>('0' + minutes % 10);
    return text;
}

bool parseOffset(std::string_view text, int& offsetMinutes)
{
    if (text == "Z") {
        offsetMinutes = 0;
        return true;
    }
    const bool withColon = text.size() == 6 && text[3] == ':';
    if ((!withColon && text.size() != 5) || (text[0] != '+' && text[0] != '-')) {
        return false;
    }
    const std::string_view hours = text.substr(1, 2);
    const std::string_view minutes = text.substr(withColon ? 4 : 3, 2);
    if (!allDigits(hours) || !allDigits(minutes) || number(minutes) > 59) {
        return false;
    }
    const int total = number(hours) * 60 + number(minutes);
    if (total > MaxOffsetMinutes) {
        return false;
    }
    offsetMinutes = text[0] == '-' ? -total : total;
    return true;
}

bool v2ToFhirDate(std::string_view v2, std::string& out, std::string& error)
{
    V2Time t;
    if (!parseV2DateTime(v2, t, error)) {
        return false;
    }
    out = fhirDate(t);
    return true;
}

bool v2ToFhirDateTime(std::string_view v2, int offsetMinutes, std::string& out, std::string& error)
{
    V2Time t;
    if (!parseV2DateTime(v2, t, error)) {
        return false;
    }
    // FHIR dateTime allows a zone only together with a time, so a bare date keeps none.
    out = t.hour.empty() ? fhirDate(t) : fhirDateTime(t, offsetMinutes);
    return true;
}

bool v2ToFhirInstant(std::string_view v2, int offsetMinutes, std::string& out, std::string& error)
{
    V2Time t;
    if (!parseV2DateTime(v2, t, error)) {
        return false;
    }
    if (t.hour.empty()) {
        return fail(error, "not a valid instant: a FHIR instant needs at least the hour");
    }
    out = fhirDateTime(t, offsetMinutes);
    return true;
}

bool v2ToFhirTime(std::string_view v2, std::string& out, std::string& error)
{
    V2Time t;
    if (!parseV2Time(v2, t, error)) {
        return false;
    }
    out = fhirClock(t);
    return true;
}

bool v2ToFhirDecimal(std::string_view v2, std::string& out, std::string& error)
{
    bool negative = false;
    bool hasPoint = false;
    std::string_view whole;
    std::string_view fraction;
    if (!splitNumber(v2, negative, whole, fraction, hasPoint)) {
        return fail(error, "not a valid NM: expected [+|-]digits[.digits]");
    }
    // "-0" and "-0.0" are valid FHIR decimals, so the sign is kept as written.
    out = negative ? "-" : "";
    out += withoutLeadingZeros(whole);
    // A trailing point ("1.") is NM's way of writing a whole number; FHIR needs digits after it.
    if (!fraction.empty()) {
        out += '.';
        out += fraction;
    }
    return true;
}

bool v2ToFhirInteger(std::string_view v2, long long minimum, std::string& out, std::string& error)
{
    bool negative = false;
    bool hasPoint = false;
    std::string_view whole;
    std::string_view fraction;
    if (!splitNumber(v2, negative, whole, fraction, hasPoint) || whole.empty()) {
        return fail(error, "not a valid integer: expected [+|-]digits");
    }
    if (hasPoint) {
        return fail(error, "not a valid integer: has a fraction");
    }
    const std::string_view digits = withoutLeadingZeros(whole);
    // 11 digits already exceed any 32-bit value; this keeps the arithmetic below in range.
    if (digits.size() > 10) {
        return fail(error, "not a valid integer: outside the 32-bit range");
    }
    long long value = 0;
    for (char c : digits) {
        value = value * 10 + (c - '0');
    }
    if (negative) {
        value = -value;
    }
    if (value > std::numeric_limits<std::int32_t>::max() ||
        value < std::numeric_limits<std::int32_t>::min()) {
        return fail(error, "not a valid integer: outside the 32-bit range");
    }
    if (value < minimum) {
        return fail(error, "not a valid integer: below the minimum " + std::to_string(minimum));
    }
    out = std::to_string(value);
    return true;
}

bool v2ToFhirBoolean(std::string_view v2, bool& out, std::string& error)
{
    // HL7 table 0136 is Y/N; the other spellings are what HIS vendors actually send.
    if (v2 == "Y" || v2 == "y" || v2 == "1" || v2 == "T") {
        out = true;
        return true;
    }
    if (v2 == "N" || v2 == "n" || v2 == "0" || v2 == "F") {
        out = false;
        return true;
    }
    return fail(error, "not a valid boolean: expected Y or N (table 0136)");
}

bool fhirToV2Timestamp(std::string_view fhir, std::string& out, std::string& error)
{
    FhirTime t;
    if (!parseFhirDateTime(fhir, t, error)) {
        return false;
    }
    out = std::string(t.year) + std::string(t.month) + std::string(t.day) + std::string(t.hour) +
          std::string(t.minute) + std::string(t.second);
    if (!t.fraction.empty()) {
        out += '.';
        out += t.fraction;
    }
    if (t.offset) {
        out += v2OffsetText(*t.offset);
    }
    return true;
}

bool fhirToV2Time(std::string_view fhir, std::string& out, std::string& error)
{
    FhirTime t;
    std::string_view text = fhir;
    if (!takeFhirClock(text, t) || !text.empty()) {
        return fail(error, "not a valid FHIR time: expected hh:mm:ss[.s]");
    }
    if (!fhirClockInRange(t)) {
        return fail(error, "not a valid FHIR time: out of range");
    }
    out = std::string(t.hour) + std::string(t.minute) + std::string(t.second);
    if (!t.fraction.empty()) {
        out += '.';
        out += t.fraction;
    }
    return true;
}

bool durationMinutes(std::string_view amount, std::string_view unit, long long& minutes,
                     std::string& error)
{
    const std::optional<long double> perUnit = minutesPerUnit(unit);
    if (!perUnit) {
        return fail(error,
                    "unknown duration unit (expected s, min, h, d, wk, mo or S, M, H, D, W)");
    }
    bool negative = false;
    bool hasPoint = false;
    std::string_view whole;
    std::string_view fraction;
    if (!splitNumber(amount, negative, whole, fraction, hasPoint) ||
        (negative && !isZero(whole, fraction))) {
        return fail(error, "not a valid duration: expected a non-negative number");
    }
    const long double value = decimalValue(whole, fraction);
    const long double result = value * *perUnit;
    // Beyond this a long long cannot hold the minutes; no real duration gets near it.
    if (result > 9.0e18L) {
        return fail(error, "not a valid duration: too large");
    }
    minutes = std::llround(result);
    return true;
}

} // namespace hl7gw::mapping
