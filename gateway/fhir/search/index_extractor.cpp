#include "gateway/fhir/search/index_extractor.h"

#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/search/detail/search_values.h"

#include <algorithm>
#include <cctype>

namespace hl7gw::fhir::search {

namespace {

using Nodes = std::vector<const rapidjson::Value*>;

std::string_view stringOf(const rapidjson::Value& value)
{
    if (!value.IsString() || isNumber(value)) {
        return {};
    }
    return {value.GetString(), value.GetStringLength()};
}

std::string_view member(const rapidjson::Value& object, const char* name)
{
    if (!object.IsObject()) {
        return {};
    }
    const auto found = object.FindMember(name);
    return found == object.MemberEnd() ? std::string_view() : stringOf(found->value);
}

const rapidjson::Value* child(const rapidjson::Value& object, const char* name)
{
    if (!object.IsObject()) {
        return nullptr;
    }
    const auto found = object.FindMember(name);
    return found == object.MemberEnd() ? nullptr : &found->value;
}

std::optional<double> numberOf(const rapidjson::Value& value)
{
    if (value.IsNumber()) {
        return value.GetDouble();
    }
    return numberValue(value);
}

void addFlattened(const rapidjson::Value& value, const PathStep& step, Nodes& out)
{
    auto keep = [&](const rapidjson::Value& item) {
        if (!step.whereElement.empty() &&
            member(item, step.whereElement.c_str()) != step.whereValue) {
            return;
        }
        out.push_back(&item);
    };
    if (value.IsArray()) {
        for (const auto& item : value.GetArray()) {
            keep(item);
        }
    } else {
        keep(value);
    }
}

/// The values one step below `nodes`. A choice element ("effective") matches its typed
/// members ("effectiveDateTime") by name plus a capital letter; `choiceType` names one.
Nodes stepInto(const Nodes& nodes, const PathStep& step)
{
    Nodes out;
    std::string typed;
    if (!step.choiceType.empty()) {
        typed = step.name + step.choiceType;
        typed[step.name.size()] =
            static_cast<char>(std::toupper(static_cast<unsigned char>(typed[step.name.size()])));
    }
    for (const rapidjson::Value* node : nodes) {
        if (!node->IsObject()) {
            continue;
        }
        if (!typed.empty()) {
            if (const rapidjson::Value* value = child(*node, typed.c_str())) {
                addFlattened(*value, step, out);
            }
            continue;
        }
        if (const rapidjson::Value* value = child(*node, step.name.c_str())) {
            addFlattened(*value, step, out);
            continue;
        }
        for (const auto& entry : node->GetObject()) {
            const std::string_view key(entry.name.GetString(), entry.name.GetStringLength());
            if (key.size() > step.name.size() && key.substr(0, step.name.size()) == step.name &&
                std::isupper(static_cast<unsigned char>(key[step.name.size()]))) {
                addFlattened(entry.value, step, out);
            }
        }
    }
    return out;
}

bool hasCjk(std::string_view text)
{
    // Any three-byte UTF-8 sequence in U+2E80..U+9FFF starts with 0xE2 0xBA.. to 0xE9.
    return std::any_of(text.begin(), text.end(), [](char ch) {
        const auto byte = static_cast<unsigned char>(ch);
        return byte >= 0xE3 && byte <= 0xE9;
    });
}

class Extractor {
  public:
    Extractor(const ExtractOptions& options, IndexRows& rows) : options_(options), rows_(rows) {}

    void extract(const SearchParameter& parameter, const rapidjson::Value& resource)
    {
        for (const ElementPath& path : parameter.paths) {
            Nodes nodes{&resource};
            for (const PathStep& step : path.steps) {
                nodes = stepInto(nodes, step);
            }
            for (const rapidjson::Value* node : nodes) {
                addValue(parameter, path, *node);
            }
        }
    }

  private:
    void addValue(const SearchParameter& parameter, const ElementPath& path,
                  const rapidjson::Value& value)
    {
        switch (parameter.type) {
        case ParamType::Token:
            addToken(parameter.name, value);
            break;
        case ParamType::String:
            addString(parameter.name, value);
            break;
        case ParamType::Date:
            addDate(parameter.name, value);
            break;
        case ParamType::Reference:
            addReference(parameter.name, path.targetFilter, value);
            break;
        case ParamType::Quantity:
            addQuantity(parameter.name, value);
            break;
        case ParamType::Number:
            if (const std::optional<double> number = numberOf(value)) {
                rows_.numbers.push_back(NumberRow{parameter.name, *number});
            }
            break;
        case ParamType::Uri:
            if (const std::string_view uri = stringOf(value); !uri.empty()) {
                rows_.uris.push_back(UriRow{parameter.name, std::string(uri)});
            }
            break;
        }
    }

    void addCoding(const std::string& name, const rapidjson::Value& coding)
    {
        const std::string_view code = member(coding, "code");
        const std::string_view system = member(coding, "system");
        const std::string_view display = member(coding, "display");
        if (code.empty() && system.empty() && display.empty()) {
            return;
        }
        TokenRow row{name, std::string(system), std::nullopt, detail::normalizeText(display)};
        if (!code.empty()) {
            row.code = std::string(code);
        }
        rows_.tokens.push_back(std::move(row));
    }

    void addToken(const std::string& name, const rapidjson::Value& value)
    {
        if (value.IsBool()) {
            rows_.tokens.push_back(TokenRow{name, "", value.GetBool() ? "true" : "false", ""});
            return;
        }
        if (isNumber(value)) {
            rows_.tokens.push_back(TokenRow{name, "", std::string(numberText(value)), ""});
            return;
        }
        if (value.IsString()) {
            if (const std::string_view code = stringOf(value); !code.empty()) {
                rows_.tokens.push_back(TokenRow{name, "", std::string(code), ""});
            }
            return;
        }
        if (!value.IsObject()) {
            return;
        }
        const rapidjson::Value* codings = child(value, "coding");
        const bool isCodeableConcept =
            codings != nullptr ||
            (child(value, "text") != nullptr && !child(value, "code") && !child(value, "value"));
        if (isCodeableConcept) {
            if (codings != nullptr && codings->IsArray()) {
                for (const auto& coding : codings->GetArray()) {
                    addCoding(name, coding);
                }
            }
            if (const std::string_view text = member(value, "text"); !text.empty()) {
                rows_.tokens.push_back(
                    TokenRow{name, "", std::nullopt, detail::normalizeText(text)});
            }
            return;
        }
        if (child(value, "value") == nullptr) {
            addCoding(name, value); // Coding
            return;
        }
        // Identifier and ContactPoint both read as system|value.
        const std::string_view code = member(value, "value");
        if (code.empty()) {
            return;
        }
        rows_.tokens.push_back(
            TokenRow{name, std::string(member(value, "system")), std::string(code), ""});
        if (const rapidjson::Value* type = child(value, "type")) {
            const rapidjson::Value* typeCodings = child(*type, "coding");
            if (typeCodings != nullptr && typeCodings->IsArray()) {
                for (const auto& coding : typeCodings->GetArray()) {
                    const std::string_view typeCode = member(coding, "code");
                    if (!typeCode.empty()) {
                        rows_.tokens.push_back(TokenRow{name + ":of-type",
                                                        std::string(member(coding, "system")),
                                                        std::string(typeCode), std::string(code)});
                    }
                }
            }
        }
    }

    void addStringText(const std::string& name, std::string_view text)
    {
        if (!text.empty()) {
            rows_.strings.push_back(
                StringRow{name, detail::normalizeText(text), std::string(text)});
        }
    }

    void addString(const std::string& name, const rapidjson::Value& value)
    {
        if (value.IsString()) {
            addStringText(name, stringOf(value));
            return;
        }
        if (!value.IsObject()) {
            return;
        }
        // HumanName and Address search on each part and on the text (R4 search.html,
        // "string"); a name also on "given family" and, for Chinese names, family+given.
        static const char* const parts[] = {"family", "given",      "prefix", "suffix",
                                            "text",   "line",       "city",   "district",
                                            "state",  "postalCode", "country"};
        for (const char* part : parts) {
            const rapidjson::Value* item = child(value, part);
            if (item == nullptr) {
                continue;
            }
            if (item->IsArray()) {
                for (const auto& element : item->GetArray()) {
                    addStringText(name, stringOf(element));
                }
            } else {
                addStringText(name, stringOf(*item));
            }
        }
        const std::string_view family = member(value, "family");
        std::string given;
        if (const rapidjson::Value* givens = child(value, "given"); givens && givens->IsArray()) {
            for (const auto& element : givens->GetArray()) {
                given += stringOf(element);
                given += ' ';
            }
        }
        if (!family.empty() && !given.empty()) {
            addStringText(name, given + std::string(family));
            if (hasCjk(family)) {
                given.erase(std::remove(given.begin(), given.end(), ' '), given.end());
                addStringText(name, std::string(family) + given);
            }
        }
    }

    void addDateRange(const std::string& name, const rapidjson::Value* start,
                      const rapidjson::Value* end)
    {
        std::optional<detail::DateRange> low;
        std::optional<detail::DateRange> high;
        if (start != nullptr) {
            low = detail::parseDateRange(stringOf(*start), options_.offsetMinutes);
        }
        if (end != nullptr) {
            high = detail::parseDateRange(stringOf(*end), options_.offsetMinutes);
        }
        if (!low && !high) {
            return;
        }
        rows_.dates.push_back(DateRow{name, low ? low->low : detail::MinMicros,
                                      high ? high->high : detail::MaxMicros});
    }

    void addDate(const std::string& name, const rapidjson::Value& value)
    {
        if (value.IsString()) {
            if (const auto range =
                    detail::parseDateRange(stringOf(value), options_.offsetMinutes)) {
                rows_.dates.push_back(DateRow{name, range->low, range->high});
            }
            return;
        }
        if (!value.IsObject()) {
            return;
        }
        const rapidjson::Value* start = child(value, "start");
        const rapidjson::Value* end = child(value, "end");
        if (start != nullptr || end != nullptr) {
            addDateRange(name, start, end); // Period
            return;
        }
        // Timing: each event, and repeat.boundsPeriod.
        if (const rapidjson::Value* events = child(value, "event"); events && events->IsArray()) {
            for (const auto& event : events->GetArray()) {
                addDate(name, event);
            }
        }
        if (const rapidjson::Value* repeat = child(value, "repeat")) {
            if (const rapidjson::Value* bounds = child(*repeat, "boundsPeriod")) {
                addDateRange(name, child(*bounds, "start"), child(*bounds, "end"));
            }
        }
    }

    void addReference(const std::string& name, const std::string& targetFilter,
                      const rapidjson::Value& value)
    {
        std::string_view reference;
        std::string_view declaredType;
        if (value.IsString()) {
            reference = stringOf(value); // canonical or uri
        } else if (value.IsObject()) {
            reference = member(value, "reference");
            declaredType = member(value, "type");
        } else {
            return;
        }
        std::optional<ParsedReference> parsed;
        if (!reference.empty()) {
            parsed = parseReference(reference, options_.baseUrl);
        }
        const std::string_view type =
            parsed && !parsed->type.empty() ? std::string_view(parsed->type) : declaredType;
        if (!targetFilter.empty() && type != targetFilter) {
            return;
        }
        if (parsed) {
            if (parsed->local()) {
                rows_.references.push_back(ReferenceRow{name, parsed->type, parsed->id, ""});
            } else {
                rows_.references.push_back(ReferenceRow{name, "", "", parsed->url});
            }
        }
        if (const rapidjson::Value* identifier = child(value, "identifier")) {
            const std::string_view code = member(*identifier, "value");
            if (!code.empty()) {
                rows_.tokens.push_back(TokenRow{name + ":identifier",
                                                std::string(member(*identifier, "system")),
                                                std::string(code), ""});
            }
        }
    }

    void addQuantity(const std::string& name, const rapidjson::Value& value)
    {
        if (const std::optional<double> number = numberOf(value)) {
            rows_.quantities.push_back(QuantityRow{name, *number, "", "", ""});
            return;
        }
        const rapidjson::Value* amount = child(value, "value");
        const std::optional<double> number = amount ? numberOf(*amount) : std::nullopt;
        if (!number) {
            return;
        }
        QuantityRow row{name, *number, std::string(member(value, "system")),
                        std::string(member(value, "code")), std::string(member(value, "unit"))};
        if (const std::string_view currency = member(value, "currency"); !currency.empty()) {
            row.system = "urn:iso:std:iso:4217"; // Money
            row.code = std::string(currency);
        }
        rows_.quantities.push_back(std::move(row));
    }

    const ExtractOptions& options_;
    IndexRows& rows_;
};

template <typename Row> void sortUnique(std::vector<Row>& rows)
{
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
}

bool isResourceTypeName(std::string_view s)
{
    return !s.empty() && std::isupper(static_cast<unsigned char>(s.front())) &&
           std::all_of(s.begin(), s.end(),
                       [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)); });
}

bool isIdText(std::string_view s)
{
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.';
    });
}

} // namespace

std::size_t IndexRows::size() const
{
    return tokens.size() + strings.size() + dates.size() + references.size() + quantities.size() +
           numbers.size() + uris.size();
}

std::optional<ParsedReference> parseReference(std::string_view reference, std::string_view baseUrl)
{
    if (reference.empty() || reference.front() == '#' ||
        reference.find('?') != std::string_view::npos) {
        return std::nullopt;
    }
    if (!baseUrl.empty() && baseUrl.back() == '/') {
        baseUrl.remove_suffix(1);
    }
    if (!baseUrl.empty() && reference.size() > baseUrl.size() + 1 &&
        reference.substr(0, baseUrl.size()) == baseUrl && reference[baseUrl.size()] == '/') {
        reference.remove_prefix(baseUrl.size() + 1);
    }
    const bool absolute = reference.find(':') != std::string_view::npos;
    // Drop a version: Type/id/_history/vid.
    std::string_view path = reference;
    if (const std::size_t history = path.find("/_history/"); history != std::string_view::npos) {
        path = path.substr(0, history);
    }
    ParsedReference parsed;
    const std::size_t slash = path.rfind('/');
    if (slash != std::string_view::npos) {
        const std::size_t typeStart = path.rfind('/', slash - 1);
        const std::string_view type =
            path.substr(typeStart == std::string_view::npos ? 0 : typeStart + 1,
                        slash - (typeStart == std::string_view::npos ? 0 : typeStart + 1));
        const std::string_view id = path.substr(slash + 1);
        if (isResourceTypeName(type) && isIdText(id) &&
            (absolute || typeStart == std::string_view::npos)) {
            parsed.type = std::string(type);
            parsed.id = std::string(id);
        }
    }
    if (absolute) {
        parsed.url = std::string(reference);
        return parsed;
    }
    if (parsed.type.empty()) {
        return std::nullopt;
    }
    return parsed;
}

IndexRows extractIndexRows(const rapidjson::Value& resource,
                           const SearchParameterRegistry& registry, const ExtractOptions& options)
{
    IndexRows rows;
    const std::string_view resourceType = member(resource, "resourceType");
    if (resourceType.empty()) {
        return rows;
    }
    Extractor extractor(options, rows);
    std::vector<const SearchParameter*> parameters = registry.forType(resourceType);
    for (const SearchParameter* parameter : registry.common()) {
        if (parameter->name != "_id" && parameter->name != "_lastUpdated" &&
            registry.find(resourceType, parameter->name) == parameter) {
            parameters.push_back(parameter);
        }
    }
    for (const SearchParameter* parameter : parameters) {
        extractor.extract(*parameter, resource);
    }
    sortUnique(rows.tokens);
    sortUnique(rows.strings);
    sortUnique(rows.dates);
    sortUnique(rows.references);
    sortUnique(rows.quantities);
    sortUnique(rows.numbers);
    sortUnique(rows.uris);
    return rows;
}

} // namespace hl7gw::fhir::search
