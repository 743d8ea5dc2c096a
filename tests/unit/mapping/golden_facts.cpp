#include "golden_facts.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

namespace hl7gw::test {

namespace {

// --- small string helpers ----------------------------------------------------------------

std::string_view trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return s;
}

bool startsWith(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

/// `path` is `prefix` or lies below it (`name.family` is below `name`, `nameX` is not).
bool underPrefix(std::string_view path, std::string_view prefix)
{
    if (prefix == "*") {
        return true;
    }
    return startsWith(path, prefix) && (path.size() == prefix.size() || path[prefix.size()] == '.');
}

std::vector<std::string_view> splitLines(std::string_view text)
{
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        lines.push_back(line);
        if (end == std::string_view::npos) {
            break;
        }
        text.remove_prefix(end + 1);
    }
    return lines;
}

std::string readWholeFile(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error(file.string() + ": cannot be read");
    }
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

[[noreturn]] void fail(const std::string& sourceName, std::size_t line, const std::string& what)
{
    throw std::runtime_error(sourceName + ":" + std::to_string(line) + ": " + what);
}

bool isResourceTypeName(std::string_view s)
{
    if (s.empty() || !std::isupper(static_cast<unsigned char>(s.front()))) {
        return false;
    }
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
}

/// `*`, or dotted element names (`valueQuantity`, `_birthDate.extension.url`).
bool isPathPrefix(std::string_view s)
{
    if (s == "*") {
        return true;
    }
    if (s.empty() || s.front() == '.' || s.back() == '.' ||
        s.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
    });
}

std::string jsonQuoted(std::string_view s)
{
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            out += c;
        }
    }
    return out + "\"";
}

// --- dateTime normalisation --------------------------------------------------------------

bool readDigits(std::string_view s, std::size_t pos, std::size_t count, int& out)
{
    if (pos + count > s.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
long long daysFromCivil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long long>(doe) - 719468;
}

void civilFromDays(long long z, long long& y, unsigned& m, unsigned& d)
{
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<long long>(yoe) + era * 400 + (m <= 2);
}

long long floorDiv(long long a, long long b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// --- flattening ----------------------------------------------------------------------------

/// fullUrl -> resourceType, for `urn:uuid:` (and any other fullUrl) references.
using FullUrlTypes = std::unordered_map<std::string, std::string>;

std::string referencedType(const std::string& reference, const FullUrlTypes& fullUrls)
{
    if (reference.empty()) {
        return reference;
    }
    if (reference.front() == '#') {
        return "#contained";
    }
    if (const auto found = fullUrls.find(reference); found != fullUrls.end()) {
        return found->second;
    }
    std::string_view rest = reference;
    // Conditional reference (`Patient?identifier=sys|value`) in a transaction Bundle.
    if (const std::size_t query = rest.find('?'); query != std::string_view::npos) {
        const std::string_view type = rest.substr(0, query);
        if (isResourceTypeName(type)) {
            return std::string(type);
        }
        rest = type;
    }
    if (const std::size_t history = rest.find("/_history/"); history != std::string_view::npos) {
        rest = rest.substr(0, history);
    }
    // `Type/id` or `http://server/fhir/Type/id`.
    const std::size_t lastSlash = rest.rfind('/');
    if (lastSlash != std::string_view::npos && lastSlash > 0) {
        const std::string_view head = rest.substr(0, lastSlash);
        const std::size_t previous = head.rfind('/');
        const std::string_view type =
            previous == std::string_view::npos ? head : head.substr(previous + 1);
        if (isResourceTypeName(type)) {
            return std::string(type);
        }
    }
    return reference; // unresolvable: kept as written, so the diff shows it
}

std::string scalarText(const rapidjson::Value& value)
{
    if (value.IsString()) {
        return normaliseDateTime(std::string_view(value.GetString(), value.GetStringLength()));
    }
    if (value.IsBool()) {
        return value.GetBool() ? "true" : "false";
    }
    if (value.IsNull()) {
        return "null";
    }
    // A number as its JSON text (RapidJSON writes integers as parsed and doubles in their
    // shortest round-trip form, so `0.5` stays `0.5` and `44` stays `44`).
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

enum class Level { Resource, Contained, Element };

struct Flattener {
    const FullUrlTypes& fullUrls;
    const std::string& resourceType;
    std::vector<Fact>& out;

    void add(const std::string& path, std::string value)
    {
        out.push_back(Fact{resourceType, path, std::move(value)});
    }

    void walk(const rapidjson::Value& value, const std::string& path, Level level)
    {
        if (value.IsObject()) {
            for (auto member = value.MemberBegin(); member != value.MemberEnd(); ++member) {
                const std::string_view name(member->name.GetString(),
                                            member->name.GetStringLength());
                if (name == "id") {
                    continue; // resource ids and element ids: arbitrary on both sides
                }
                if (level != Level::Element && (name == "meta" || name == "text")) {
                    continue; // narrative and metadata
                }
                if (level == Level::Resource && name == "resourceType") {
                    continue; // the fact's resourceType already
                }
                const std::string child =
                    path.empty() ? std::string(name) : path + "." + std::string(name);
                if (name == "reference" && member->value.IsString()) {
                    add(child, referencedType(member->value.GetString(), fullUrls));
                } else if (name == "contained" && level != Level::Element &&
                           member->value.IsArray()) {
                    for (const auto& resource : member->value.GetArray()) {
                        walk(resource, child, Level::Contained);
                    }
                } else {
                    walk(member->value, child, Level::Element);
                }
            }
        } else if (value.IsArray()) {
            for (const auto& item : value.GetArray()) {
                walk(item, path, Level::Element);
            }
        } else {
            add(path, scalarText(value));
        }
    }
};

std::string typeOf(const rapidjson::Value& resource)
{
    if (resource.IsObject()) {
        const auto type = resource.FindMember("resourceType");
        if (type != resource.MemberEnd() && type->value.IsString()) {
            return type->value.GetString();
        }
    }
    return "(no resourceType)";
}

bool isBundle(const rapidjson::Value& value)
{
    return value.IsObject() && typeOf(value) == "Bundle";
}

std::vector<Fact> selectedFacts(const rapidjson::Value& bundle, const FactSelection& selection)
{
    std::vector<Fact> facts = bundleFacts(bundle);
    facts.erase(std::remove_if(facts.begin(), facts.end(),
                               [&](const Fact& fact) {
                                   return !selection.selects(fact.resourceType, fact.path);
                               }),
                facts.end());
    return facts; // still sorted
}

} // namespace

// --- Fact --------------------------------------------------------------------------------

bool operator<(const Fact& a, const Fact& b)
{
    return std::tie(a.resourceType, a.path, a.value) < std::tie(b.resourceType, b.path, b.value);
}

bool operator==(const Fact& a, const Fact& b)
{
    return std::tie(a.resourceType, a.path, a.value) == std::tie(b.resourceType, b.path, b.value);
}

bool operator!=(const Fact& a, const Fact& b)
{
    return !(a == b);
}

std::string toString(const Fact& fact)
{
    return fact.resourceType + " " + fact.path + " = " + jsonQuoted(fact.value);
}

std::ostream& operator<<(std::ostream& out, const Fact& fact)
{
    return out << toString(fact);
}

// --- normaliseDateTime -------------------------------------------------------------------

std::string normaliseDateTime(std::string_view value)
{
    // YYYY-MM-DDThh:mm[:ss[.fff]](Z|+hh:mm|-hh:mm)
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (value.size() < 17 || !readDigits(value, 0, 4, year) || value[4] != '-' ||
        !readDigits(value, 5, 2, month) || value[7] != '-' || !readDigits(value, 8, 2, day) ||
        value[10] != 'T' || !readDigits(value, 11, 2, hour) || value[13] != ':' ||
        !readDigits(value, 14, 2, minute)) {
        return std::string(value);
    }
    std::size_t pos = 16;
    if (pos < value.size() && value[pos] == ':') {
        if (!readDigits(value, pos + 1, 2, second)) {
            return std::string(value);
        }
        pos += 3;
    }
    std::string_view fraction;
    if (pos < value.size() && value[pos] == '.') {
        std::size_t end = pos + 1;
        while (end < value.size() && std::isdigit(static_cast<unsigned char>(value[end]))) {
            ++end;
        }
        if (end == pos + 1) {
            return std::string(value);
        }
        fraction = value.substr(pos, end - pos);
        pos = end;
    }
    int offsetMinutes = 0;
    const std::string_view zone = value.substr(pos);
    if (zone == "Z") {
        offsetMinutes = 0;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
        int offsetHours = 0, offsetMins = 0;
        if (!readDigits(zone, 1, 2, offsetHours) || !readDigits(zone, 4, 2, offsetMins) ||
            offsetHours > 14 || offsetMins > 59) {
            return std::string(value);
        }
        offsetMinutes = (offsetHours * 60 + offsetMins) * (zone[0] == '-' ? -1 : 1);
    } else {
        return std::string(value); // no offset (or not a dateTime): unchanged
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
        return std::string(value);
    }

    const long long localMinutes =
        daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 1440 +
        hour * 60 + minute;
    const long long utcMinutes = localMinutes - offsetMinutes;
    const long long days = floorDiv(utcMinutes, 1440);
    const long long minuteOfDay = utcMinutes - days * 1440;
    long long utcYear = 0;
    unsigned utcMonth = 0, utcDay = 0;
    civilFromDays(days, utcYear, utcMonth, utcDay);

    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02d", utcYear, utcMonth,
                  utcDay, minuteOfDay / 60, minuteOfDay % 60, second);
    return std::string(buffer) + std::string(fraction) + "Z";
}

// --- bundleFacts -------------------------------------------------------------------------

std::vector<Fact> bundleFacts(const rapidjson::Value& bundle)
{
    std::vector<const rapidjson::Value*> resources;
    FullUrlTypes fullUrls;
    if (isBundle(bundle)) {
        const auto entries = bundle.FindMember("entry");
        if (entries != bundle.MemberEnd() && entries->value.IsArray()) {
            for (const auto& entry : entries->value.GetArray()) {
                if (!entry.IsObject()) {
                    continue;
                }
                const auto resource = entry.FindMember("resource");
                if (resource == entry.MemberEnd() || !resource->value.IsObject()) {
                    continue;
                }
                resources.push_back(&resource->value);
                const auto fullUrl = entry.FindMember("fullUrl");
                if (fullUrl != entry.MemberEnd() && fullUrl->value.IsString()) {
                    fullUrls.emplace(fullUrl->value.GetString(), typeOf(resource->value));
                }
            }
        }
    } else if (bundle.IsObject()) {
        resources.push_back(&bundle);
    }

    std::vector<Fact> facts;
    for (const rapidjson::Value* resource : resources) {
        const std::string type = typeOf(*resource);
        Flattener{fullUrls, type, facts}.walk(*resource, "", Level::Resource);
    }
    std::sort(facts.begin(), facts.end());
    return facts;
}

// --- FactSelection -----------------------------------------------------------------------

FactSelection FactSelection::load(const std::filesystem::path& file)
{
    return parse(readWholeFile(file), file.string());
}

FactSelection FactSelection::parse(std::string_view text, const std::string& sourceName)
{
    FactSelection selection;
    std::size_t lineNumber = 0;
    for (std::string_view line : splitLines(text)) {
        ++lineNumber;
        if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
            line = line.substr(0, hash);
        }
        line = trim(line);
        if (line.empty()) {
            continue;
        }
        std::vector<std::string_view> words;
        while (!line.empty()) {
            std::size_t end = 0;
            while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end]))) {
                ++end;
            }
            words.push_back(line.substr(0, end));
            line = trim(line.substr(end));
        }
        if (words.size() != 2) {
            fail(sourceName, lineNumber,
                 "expected `ResourceType path-prefix`, got " + std::to_string(words.size()) +
                     " word(s)");
        }
        if (!isResourceTypeName(words[0])) {
            fail(sourceName, lineNumber,
                 "`" + std::string(words[0]) + "` is not a resource type name");
        }
        if (!isPathPrefix(words[1])) {
            fail(sourceName, lineNumber, "`" + std::string(words[1]) + "` is not a path prefix");
        }
        selection.prefixes_[std::string(words[0])].emplace_back(words[1]);
    }
    return selection;
}

bool FactSelection::selects(std::string_view resourceType, std::string_view path) const
{
    const auto found = prefixes_.find(resourceType);
    if (found == prefixes_.end()) {
        return false;
    }
    return std::any_of(found->second.begin(), found->second.end(),
                       [&](const std::string& prefix) { return underPrefix(path, prefix); });
}

bool FactSelection::selectsType(std::string_view resourceType) const
{
    return prefixes_.find(resourceType) != prefixes_.end();
}

std::size_t FactSelection::size() const
{
    std::size_t count = 0;
    for (const auto& [type, prefixes] : prefixes_) {
        count += prefixes.size();
    }
    return count;
}

// --- KeptDifferences ---------------------------------------------------------------------

KeptDifferences KeptDifferences::load(const std::filesystem::path& file)
{
    return parse(readWholeFile(file), file.string());
}

KeptDifferences KeptDifferences::parse(std::string_view text, const std::string& sourceName)
{
    KeptDifferences kept;
    std::size_t lineNumber = 0;
    for (const std::string_view line : splitLines(text)) {
        ++lineNumber;
        const std::string_view content = trim(line);
        if (content.empty() || content.front() == '#') {
            continue;
        }
        // Three tabs split four columns; the reason is the rest of the line.
        std::vector<std::string_view> columns;
        std::string_view rest = line;
        while (columns.size() < 3) {
            const std::size_t tab = rest.find('\t');
            if (tab == std::string_view::npos) {
                break;
            }
            columns.push_back(trim(rest.substr(0, tab)));
            rest.remove_prefix(tab + 1);
        }
        columns.push_back(trim(rest));
        if (columns.size() < 4) {
            fail(sourceName, lineNumber,
                 "expected 4 tab-separated columns (PAIR_OR_*, ResourceType, path-prefix, "
                 "reason), got " +
                     std::to_string(columns.size()));
        }
        Row row{std::string(columns[0]), std::string(columns[1]), std::string(columns[2]),
                std::string(columns[3]), sourceName + ":" + std::to_string(lineNumber)};
        if (row.pair.empty()) {
            fail(sourceName, lineNumber, "the pair column is empty (use `*` for every pair)");
        }
        if (!isResourceTypeName(row.resourceType)) {
            fail(sourceName, lineNumber, "`" + row.resourceType + "` is not a resource type name");
        }
        if (!isPathPrefix(row.pathPrefix)) {
            fail(sourceName, lineNumber, "`" + row.pathPrefix + "` is not a path prefix");
        }
        if (row.reason.empty()) {
            fail(sourceName, lineNumber, "the reason is mandatory");
        }
        kept.rows_.push_back(std::move(row));
    }
    return kept;
}

const KeptDifferences::Row* KeptDifferences::match(std::string_view pairName,
                                                   const Fact& fact) const
{
    for (const Row& row : rows_) {
        const bool pairMatches =
            row.pair == "*" || row.pair == pairName ||
            (row.pair.back() == '*' &&
             startsWith(pairName, std::string_view(row.pair).substr(0, row.pair.size() - 1)));
        if (pairMatches && row.resourceType == fact.resourceType &&
            underPrefix(fact.path, row.pathPrefix)) {
            return &row;
        }
    }
    return nullptr;
}

// --- compareFacts ------------------------------------------------------------------------

FactComparison compareFacts(const rapidjson::Value& ours, const rapidjson::Value& theirs,
                            const FactSelection& selection, const KeptDifferences& kept,
                            std::string_view pairName)
{
    // Multisets, not sets: a value that occurs twice must occur twice on the other side.
    // That catches a resource we create twice (STANDARDS.md §4.1 rule 2: never) or a repeat
    // we drop (two OBX with the same value, two PID-3 with the same CX.1). Microsoft's
    // bundles hold each resource once (its PUTs are deduplicated by id), so a set would
    // only hide our duplicates. Facts are sorted by (type, path, value), so one merge over
    // the whole Bundle compares every resource type's multiset at once.
    const std::vector<Fact> ourFacts = selectedFacts(ours, selection);
    const std::vector<Fact> theirFacts = selectedFacts(theirs, selection);

    FactComparison result;
    std::vector<std::pair<Fact, std::string>> keptExtra;
    const auto missing = [&](const Fact& fact) {
        if (const KeptDifferences::Row* row = kept.match(pairName, fact)) {
            result.kept.emplace_back(fact, row->reason);
        } else {
            result.missing.push_back(fact);
        }
    };
    const auto extra = [&](const Fact& fact) {
        if (const KeptDifferences::Row* row = kept.match(pairName, fact)) {
            keptExtra.emplace_back(fact, row->reason);
        } else {
            result.extra.push_back(fact);
        }
    };

    auto our = ourFacts.begin();
    auto their = theirFacts.begin();
    while (our != ourFacts.end() || their != theirFacts.end()) {
        if (their == theirFacts.end() || (our != ourFacts.end() && *our < *their)) {
            extra(*our++);
        } else if (our == ourFacts.end() || *their < *our) {
            missing(*their++);
        } else {
            ++result.matched;
            ++our;
            ++their;
        }
    }
    result.keptMissing = result.kept.size();
    result.kept.insert(result.kept.end(), keptExtra.begin(), keptExtra.end());
    return result;
}

std::string describe(const FactComparison& comparison)
{
    std::string out = "matched " + std::to_string(comparison.matched) + ", missing " +
                      std::to_string(comparison.missing.size()) + ", extra " +
                      std::to_string(comparison.extra.size()) + ", kept " +
                      std::to_string(comparison.kept.size()) + "\n";
    for (const Fact& fact : comparison.missing) {
        out += "- " + toString(fact) + "\n";
    }
    for (const Fact& fact : comparison.extra) {
        out += "+ " + toString(fact) + "\n";
    }
    for (std::size_t i = 0; i < comparison.kept.size(); ++i) {
        const auto& [fact, reason] = comparison.kept[i];
        out +=
            (i < comparison.keptMissing ? "~- " : "~+ ") + toString(fact) + "  # " + reason + "\n";
    }
    return out;
}

std::map<std::string, std::size_t> factCountsByType(const rapidjson::Value& bundle,
                                                    const FactSelection& selection)
{
    std::map<std::string, std::size_t> counts;
    for (const Fact& fact : selectedFacts(bundle, selection)) {
        ++counts[fact.resourceType];
    }
    return counts;
}

} // namespace hl7gw::test
