#include "gateway/fhir/rest/headers.h"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>

#include <algorithm>

namespace hl7gw::fhir::rest {

namespace {

std::string_view trim(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

std::string unquote(std::string_view text)
{
    text = trim(text);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        text = text.substr(1, text.size() - 2);
    }
    return std::string(text);
}

std::int64_t floorSeconds(std::int64_t micros)
{
    const std::int64_t seconds = micros / 1'000'000;
    return (micros % 1'000'000 < 0) ? seconds - 1 : seconds;
}

// POCO's date parser skips what it does not expect, so the exact shape of each of the three
// RFC 7231 forms is checked first; POCO then reads the names and numbers and checks ranges
// (an unknown month or day name fails there). In a shape, '9' is a digit, 'A' an ASCII
// letter, '_' a space or a digit (asctime pads the day with a space), anything else itself.
bool matchesShape(std::string_view text, std::string_view shape)
{
    if (text.size() != shape.size()) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool digit = c >= '0' && c <= '9';
        const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        switch (shape[i]) {
        case '9':
            if (!digit) {
                return false;
            }
            break;
        case 'A':
            if (!letter) {
                return false;
            }
            break;
        case '_':
            if (!digit && c != ' ') {
                return false;
            }
            break;
        default:
            if (c != shape[i]) {
                return false;
            }
        }
    }
    return true;
}

/// The POCO format of the HTTP-date form `text` has, or nullptr.
const std::string* httpDateFormat(std::string_view text)
{
    if (matchesShape(text, "AAA, 99 AAA 9999 99:99:99 GMT")) {
        return &Poco::DateTimeFormat::HTTP_FORMAT;
    }
    if (matchesShape(text, "AAA AAA _9 99:99:99 9999")) {
        return &Poco::DateTimeFormat::ASCTIME_FORMAT;
    }
    // RFC 850: the full day name ("Wednesday"), then ", 01-Dec-26 22:13:30 GMT".
    const std::size_t comma = text.find(',');
    if (comma >= 6 && comma <= 9 && matchesShape(text.substr(0, comma), std::string(comma, 'A')) &&
        matchesShape(text.substr(comma), ", 99-AAA-99 99:99:99 GMT")) {
        return &Poco::DateTimeFormat::RFC850_FORMAT;
    }
    return nullptr;
}

} // namespace

std::string formatETag(std::string_view versionId)
{
    return "W/\"" + std::string(versionId) + "\"";
}

std::optional<std::string> parseETag(std::string_view value)
{
    value = trim(value);
    if (value.substr(0, 2) == "W/") {
        value.remove_prefix(2);
    }
    // RFC 7232 §2.3: etagc excludes '"', spaces and controls.
    if (value.size() < 3 || value.front() != '"' || value.back() != '"') {
        return std::nullopt;
    }
    const std::string_view tag = value.substr(1, value.size() - 2);
    const bool clean = std::all_of(tag.begin(), tag.end(), [](char c) {
        return c != '"' && static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
    });
    if (!clean) {
        return std::nullopt;
    }
    return std::string(tag);
}

bool EntityTags::matches(std::string_view versionId) const
{
    return any || std::find(versionIds.begin(), versionIds.end(), versionId) != versionIds.end();
}

std::optional<EntityTags> parseEntityTags(std::string_view value)
{
    value = trim(value);
    if (value.empty()) {
        return std::nullopt;
    }
    EntityTags tags;
    if (value == "*") {
        tags.any = true;
        return tags;
    }
    std::vector<std::string> elements;
    Poco::Net::MessageHeader::splitElements(std::string(value), elements);
    if (elements.empty()) {
        return std::nullopt;
    }
    for (const std::string& element : elements) {
        std::optional<std::string> versionId = parseETag(element);
        if (!versionId) {
            return std::nullopt;
        }
        tags.versionIds.push_back(std::move(*versionId));
    }
    return tags;
}

std::string formatHttpDate(std::int64_t micros)
{
    const Poco::Timestamp timestamp(floorSeconds(micros) * 1'000'000);
    return Poco::DateTimeFormatter::format(timestamp, Poco::DateTimeFormat::HTTP_FORMAT);
}

std::optional<std::int64_t> parseHttpDate(std::string_view value)
{
    const std::string text(trim(value));
    const std::string* format = httpDateFormat(text);
    if (!format) {
        return std::nullopt;
    }
    Poco::DateTime dateTime;
    int zone = 0;
    if (!Poco::DateTimeParser::tryParse(*format, text, dateTime, zone)) {
        return std::nullopt;
    }
    return dateTime.timestamp().epochMicroseconds();
}

bool modifiedSince(std::int64_t lastModifiedMicros, std::int64_t ifModifiedSinceMicros)
{
    return floorSeconds(lastModifiedMicros) > floorSeconds(ifModifiedSinceMicros);
}

Preferences parsePrefer(std::string_view value)
{
    Preferences preferences;
    bool returnSeen = false;
    bool handlingSeen = false;
    std::vector<std::string> elements;
    Poco::Net::MessageHeader::splitElements(std::string(value), elements);
    for (const std::string& element : elements) {
        // A preference is token [= value] followed by optional ;parameters (RFC 7240 §2).
        std::string preference;
        Poco::Net::NameValueCollection parameters;
        Poco::Net::MessageHeader::splitParameters(element, preference, parameters);
        const std::size_t equals = preference.find('=');
        const std::string name = Poco::toLower(std::string(trim(preference.substr(0, equals))));
        const std::string setting =
            equals == std::string::npos ? std::string() : unquote(preference.substr(equals + 1));
        if (name == "return" && !returnSeen) {
            if (setting == "minimal") {
                preferences.returnPreference = PreferReturn::Minimal;
            } else if (setting == "representation") {
                preferences.returnPreference = PreferReturn::Representation;
            } else if (setting == "OperationOutcome") {
                preferences.returnPreference = PreferReturn::OperationOutcome;
            } else {
                continue;
            }
            returnSeen = true;
        } else if (name == "handling" && !handlingSeen) {
            if (setting == "strict") {
                preferences.handling = PreferHandling::Strict;
            } else if (setting == "lenient") {
                preferences.handling = PreferHandling::Lenient;
            } else {
                continue;
            }
            handlingSeen = true;
        } else if (name == "respond-async") {
            preferences.respondAsync = true;
        }
    }
    return preferences;
}

bool parseIfNoneExist(std::string_view value, QueryParams& out, core::Issue& issue)
{
    value = trim(value);
    if (!value.empty() && value.front() == '?') {
        value.remove_prefix(1);
    }
    QueryParams params;
    if (!parseQuery(value, params, issue)) {
        issue.text = "If-None-Exist: " + issue.text;
        return false;
    }
    if (params.empty()) {
        issue = core::Issue{};
        issue.code = "invalid";
        issue.text = "If-None-Exist holds no search parameters";
        return false;
    }
    out = std::move(params);
    return true;
}

} // namespace hl7gw::fhir::rest
