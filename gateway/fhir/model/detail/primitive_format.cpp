#include "gateway/fhir/model/detail/primitive_format.h"

#include "gateway/fhir/model/definitions.h"

#include <charconv>
#include <regex>
#include <string>
#include <unordered_map>

namespace hl7gw::fhir::detail {

namespace {

/// Values longer than this never go through std::regex (its matcher recurses per character).
constexpr std::size_t MaxRegexInput = 4096;

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// ^[ \r\n\t\S]+$ : no control characters except tab, CR and LF.
bool checkString(std::string_view text)
{
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 && c != '\t' && c != '\r' && c != '\n') {
            return false;
        }
    }
    return !text.empty();
}

// ^\S*$ (an empty value is still invalid: FHIR primitives are never "").
bool checkNoSpace(std::string_view text)
{
    for (const char c : text) {
        if (isSpace(c)) {
            return false;
        }
    }
    return !text.empty();
}

// ^[^\s]+(\s[^\s]+)*$
bool checkCode(std::string_view text)
{
    if (text.empty() || isSpace(text.front()) || isSpace(text.back())) {
        return false;
    }
    for (std::size_t i = 1; i < text.size(); ++i) {
        if (isSpace(text[i]) && isSpace(text[i - 1])) {
            return false;
        }
    }
    return true;
}

// ^(\s*([0-9a-zA-Z\+/=]){4}\s*)+$
bool checkBase64(std::string_view text)
{
    std::size_t count = 0;
    for (const char c : text) {
        if (isSpace(c)) {
            continue;
        }
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
        if (!ok) {
            return false;
        }
        ++count;
    }
    return count > 0 && count % 4 == 0;
}

bool checkIntegerRange(std::string_view text, long long min)
{
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size() && value >= min &&
           value <= 2147483647LL;
}

bool isLeap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int daysInMonth(int year, int month)
{
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && isLeap(year) ? 29 : days[month - 1];
}

int digits(std::string_view text, std::size_t at, std::size_t count)
{
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

// Called after the pattern matched: only the day of month can still be wrong.
bool checkCalendar(std::string_view text)
{
    if (text.size() >= 10 && text[4] == '-' && text[7] == '-') {
        return digits(text, 8, 2) <= daysInMonth(digits(text, 0, 4), digits(text, 5, 2));
    }
    return true;
}

std::int64_t daysFromCivil(int y, int m, int d)
{
    y -= m <= 2 ? 1 : 0;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool digitsAt(std::string_view text, std::size_t at, std::size_t count)
{
    if (at + count > text.size()) {
        return false;
    }
    for (std::size_t i = at; i < at + count; ++i) {
        if (!isDigit(text[i])) {
            return false;
        }
    }
    return true;
}

// Moves `at` past a run of digits; false when there was none.
bool digitRun(std::string_view text, std::size_t& at)
{
    const std::size_t first = at;
    while (at < text.size() && isDigit(text[at])) {
        ++at;
    }
    return at > first;
}

// Two digits at `at` forming a number in [low, high].
bool twoDigitsIn(std::string_view text, std::size_t at, int low, int high)
{
    if (!digitsAt(text, at, 2)) {
        return false;
    }
    const int value = digits(text, at, 2);
    return value >= low && value <= high;
}

enum class DateForm { Date, DateTime, Instant };

// The R4 patterns of date, dateTime and instant, by hand: std::regex took a few percent of
// every write, as dates are in nearly every resource. YYYY (not 0000), then -MM (01-12),
// -DD (01-31), then Thh:mm:ss (ss up to 60) with an optional fraction and a required zone,
// Z or +/-hh:mm up to 14:00. A date stops at the day; a dateTime may stop after the year,
// month or day; an instant has all of it.
bool matchesDateForm(std::string_view t, DateForm form)
{
    if (!digitsAt(t, 0, 4) || t.substr(0, 4) == "0000") {
        return false;
    }
    const bool partial = form != DateForm::Instant;
    if (t.size() == 4) {
        return partial;
    }
    if (t[4] != '-' || !twoDigitsIn(t, 5, 1, 12)) {
        return false;
    }
    if (t.size() == 7) {
        return partial;
    }
    if (t.size() < 10 || t[7] != '-' || !twoDigitsIn(t, 8, 1, 31)) {
        return false;
    }
    if (t.size() == 10) {
        return partial;
    }
    if (form == DateForm::Date || t.size() < 19 || t[10] != 'T' || !twoDigitsIn(t, 11, 0, 23) ||
        t[13] != ':' || !twoDigitsIn(t, 14, 0, 59) || t[16] != ':' || !twoDigitsIn(t, 17, 0, 60)) {
        return false;
    }
    std::size_t at = 19;
    if (at < t.size() && t[at] == '.' && !digitRun(t, ++at)) {
        return false;
    }
    if (at < t.size() && t[at] == 'Z') {
        return at + 1 == t.size();
    }
    if (at + 6 != t.size() || (t[at] != '+' && t[at] != '-') || t[at + 3] != ':') {
        return false;
    }
    return t.substr(at + 1) == "14:00" ||
           (twoDigitsIn(t, at + 1, 0, 13) && twoDigitsIn(t, at + 4, 0, 59));
}

// -?(0|[1-9][0-9]*), optionally without the sign; a fraction and an exponent for decimals.
bool matchesNumber(std::string_view t, bool sign, bool zero, bool decimal)
{
    std::size_t at = 0;
    if (sign && at < t.size() && t[at] == '-') {
        ++at;
    }
    if (at >= t.size() || !isDigit(t[at])) {
        return false;
    }
    if (t[at] == '0') {
        if (!zero) {
            return false;
        }
        ++at;
    } else {
        digitRun(t, at);
    }
    if (!decimal) {
        return at == t.size();
    }
    if (at < t.size() && t[at] == '.' && !digitRun(t, ++at)) {
        return false;
    }
    if (at < t.size() && (t[at] == 'e' || t[at] == 'E')) {
        ++at;
        if (at < t.size() && (t[at] == '+' || t[at] == '-')) {
            ++at;
        }
        if (!digitRun(t, at)) {
            return false;
        }
    }
    return at == t.size();
}

// [A-Za-z0-9\-\.]{1,64}
bool matchesId(std::string_view t)
{
    if (t.empty() || t.size() > 64) {
        return false;
    }
    for (const char c : t) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || isDigit(c) || c == '-' ||
              c == '.')) {
            return false;
        }
    }
    return true;
}

struct Patterns {
    std::unordered_map<const TypeDef*, std::regex> byType;
};

const Patterns& patterns()
{
    static const Patterns compiled = [] {
        Patterns p;
        for (const auto& type : Definitions::r4().types()) {
            if (type->isPrimitive() && !type->pattern().empty()) {
                p.byType.emplace(type.get(),
                                 std::regex(std::string(type->pattern()),
                                            std::regex::ECMAScript | std::regex::optimize));
            }
        }
        return p;
    }();
    return compiled;
}

bool matchesByRegex(const TypeDef& type, std::string_view text)
{
    const auto& byType = patterns().byType;
    const auto it = byType.find(&type);
    if (it == byType.end()) {
        return true;
    }
    if (text.size() > MaxRegexInput) {
        return false;
    }
    return std::regex_match(text.begin(), text.end(), it->second);
}

} // namespace

bool matchesPrimitivePattern(const TypeDef& type, std::string_view text)
{
    const std::string_view name = type.name();
    if (name == "dateTime") {
        return matchesDateForm(text, DateForm::DateTime);
    }
    if (name == "instant") {
        return matchesDateForm(text, DateForm::Instant);
    }
    if (name == "date") {
        return matchesDateForm(text, DateForm::Date);
    }
    if (name == "id") {
        return matchesId(text);
    }
    if (name == "boolean") {
        return text == "true" || text == "false";
    }
    if (name == "decimal") {
        return matchesNumber(text, true, true, true);
    }
    if (name == "integer") {
        return matchesNumber(text, true, true, false);
    }
    if (name == "unsignedInt") {
        return matchesNumber(text, false, true, false);
    }
    if (name == "positiveInt") {
        return matchesNumber(text, false, false, false);
    }
    return matchesByRegex(type, text);
}

bool isValidPrimitiveText(const TypeDef& type, std::string_view text)
{
    const std::string_view name = type.name();
    if (name == "string" || name == "markdown") {
        return checkString(text);
    }
    if (name == "uri" || name == "url" || name == "canonical") {
        return checkNoSpace(text);
    }
    if (name == "code") {
        return checkCode(text);
    }
    if (name == "base64Binary") {
        return checkBase64(text);
    }
    if (name == "xhtml") {
        return !text.empty();
    }
    if (text.empty() || !matchesPrimitivePattern(type, text)) {
        return false;
    }
    if (name == "integer") {
        return checkIntegerRange(text, -2147483648LL);
    }
    if (name == "positiveInt") {
        return checkIntegerRange(text, 1);
    }
    if (name == "unsignedInt") {
        return checkIntegerRange(text, 0);
    }
    if (name == "date" || name == "dateTime" || name == "instant") {
        return checkCalendar(text);
    }
    return true;
}

bool timeRange(std::string_view text, std::int64_t& from, std::int64_t& to)
{
    const auto isDigits = [&](std::size_t at, std::size_t count) {
        if (at + count > text.size()) {
            return false;
        }
        for (std::size_t i = at; i < at + count; ++i) {
            if (text[i] < '0' || text[i] > '9') {
                return false;
            }
        }
        return true;
    };
    constexpr std::int64_t Second = 1000000;
    constexpr std::int64_t Day = 86400 * Second;
    if (!isDigits(0, 4)) {
        return false;
    }
    const int year = digits(text, 0, 4);
    if (text.size() == 4) {
        from = daysFromCivil(year, 1, 1) * Day;
        to = daysFromCivil(year + 1, 1, 1) * Day;
        return true;
    }
    if (text.size() < 7 || text[4] != '-' || !isDigits(5, 2)) {
        return false;
    }
    const int month = digits(text, 5, 2);
    if (month < 1 || month > 12) {
        return false;
    }
    if (text.size() == 7) {
        from = daysFromCivil(year, month, 1) * Day;
        to = month == 12 ? daysFromCivil(year + 1, 1, 1) * Day
                         : daysFromCivil(year, month + 1, 1) * Day;
        return true;
    }
    if (text.size() < 10 || text[7] != '-' || !isDigits(8, 2)) {
        return false;
    }
    const int day = digits(text, 8, 2);
    const std::int64_t dayStart = daysFromCivil(year, month, day) * Day;
    if (text.size() == 10) {
        from = dayStart;
        to = dayStart + Day;
        return true;
    }
    if (text.size() < 19 || text[10] != 'T' || !isDigits(11, 2) || text[13] != ':' ||
        !isDigits(14, 2) || text[16] != ':' || !isDigits(17, 2)) {
        return false;
    }
    std::int64_t t =
        dayStart +
        (digits(text, 11, 2) * 3600LL + digits(text, 14, 2) * 60LL + digits(text, 17, 2)) * Second;
    std::size_t at = 19;
    std::int64_t unit = Second;
    if (at < text.size() && text[at] == '.') {
        ++at;
        std::int64_t scale = Second;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            if (scale > 1) {
                scale /= 10;
                t += (text[at] - '0') * scale;
                unit = scale;
            }
            ++at;
        }
    }
    if (at < text.size() && text[at] == 'Z') {
        ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-') && isDigits(at + 1, 2) &&
               isDigits(at + 4, 2) && text[at + 3] == ':') {
        const std::int64_t offset =
            (digits(text, at + 1, 2) * 3600LL + digits(text, at + 4, 2) * 60LL) * Second;
        t -= text[at] == '+' ? offset : -offset;
        at += 6;
    }
    if (at != text.size()) {
        return false;
    }
    from = t;
    to = t + unit;
    return true;
}

} // namespace hl7gw::fhir::detail
