#include "gateway/fhir/rest/shaping.h"

#include <algorithm>
#include <map>
#include <sstream>

// Compiled in from data/summary_elements.txt (hl7gw_embed_text in CMakeLists.txt).
namespace hl7gw::fhir::rest::detail {
extern const std::string_view fhirSummaryElementsText;
}

namespace hl7gw::fhir::rest {

namespace {

using Allocator = rapidjson::Document::AllocatorType;

constexpr std::string_view SubsettedSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

struct TypeElements {
    std::vector<std::string> summary;
    std::vector<std::string> mandatory;
};

using Table = std::map<std::string, TypeElements, std::less<>>;

Table parseTable(std::string_view text)
{
    Table table;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string type;
        std::string kind;
        if (!(words >> type) || type[0] == '#' || !(words >> kind)) {
            continue;
        }
        TypeElements& entry = table[type];
        std::vector<std::string>& list = kind == "summary" ? entry.summary : entry.mandatory;
        for (std::string element; words >> element;) {
            list.push_back(element);
        }
    }
    return table;
}

const Table& table()
{
    static const Table parsed = parseTable(detail::fhirSummaryElementsText);
    return parsed;
}

const TypeElements& fallback()
{
    static const TypeElements elements{{"identifier", "status"}, {"status"}};
    return elements;
}

const TypeElements& elementsOf(std::string_view type)
{
    const Table& all = table();
    const auto found = all.find(type);
    return found == all.end() ? fallback() : found->second;
}

bool isUpper(char c)
{
    return c >= 'A' && c <= 'Z';
}

bool keyIsElement(std::string_view key, std::string_view element)
{
    if (element.size() > 3 && element.substr(element.size() - 3) == "[x]") {
        const std::string_view base = element.substr(0, element.size() - 3);
        return key.size() > base.size() && key.substr(0, base.size()) == base &&
               isUpper(key[base.size()]);
    }
    return key == element;
}

bool keyIn(std::string_view key, std::initializer_list<std::string_view> names)
{
    return std::find(names.begin(), names.end(), key) != names.end();
}

/// Removes every member of `resource` for which keep(key) is false, keeping the order.
template <typename Keep> void keepOnly(rapidjson::Value& resource, Keep keep)
{
    for (auto member = resource.MemberBegin(); member != resource.MemberEnd();) {
        const std::string_view key(member->name.GetString(), member->name.GetStringLength());
        if (keep(key)) {
            ++member;
        } else {
            member = resource.EraseMember(member);
        }
    }
}

std::string typeOf(const rapidjson::Value& resource)
{
    const auto type = resource.FindMember("resourceType");
    if (type == resource.MemberEnd() || !type->value.IsString()) {
        return {};
    }
    return std::string(type->value.GetString(), type->value.GetStringLength());
}

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

} // namespace

bool parseSummaryMode(std::string_view value, SummaryMode& mode)
{
    if (value == "true") {
        mode = SummaryMode::True;
    } else if (value == "false") {
        mode = SummaryMode::False;
    } else if (value == "text") {
        mode = SummaryMode::Text;
    } else if (value == "data") {
        mode = SummaryMode::Data;
    } else if (value == "count") {
        mode = SummaryMode::Count;
    } else {
        return false;
    }
    return true;
}

bool hasSummaryTable(std::string_view type)
{
    return table().find(type) != table().end();
}

const std::vector<std::string>& summaryElements(std::string_view type)
{
    return elementsOf(type).summary;
}

const std::vector<std::string>& mandatoryElements(std::string_view type)
{
    return elementsOf(type).mandatory;
}

bool keyInElements(std::string_view key, const std::vector<std::string>& elements)
{
    if (!key.empty() && key.front() == '_') {
        key.remove_prefix(1);
    }
    return std::any_of(elements.begin(), elements.end(),
                       [key](const std::string& element) { return keyIsElement(key, element); });
}

std::vector<std::string> parseElementsParam(std::string_view value, std::string_view type)
{
    const TypeElements& known = elementsOf(type);
    std::vector<std::string> elements;
    std::size_t start = 0;
    while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        std::string_view name = trim(value.substr(start, comma - start));
        start = comma + 1;
        if (!type.empty() && name.size() > type.size() && name.substr(0, type.size()) == type &&
            name[type.size()] == '.') {
            name.remove_prefix(type.size() + 1);
        }
        name = name.substr(0, name.find('.'));
        if (name.empty()) {
            continue;
        }
        std::string element(name);
        const std::string choice = element + "[x]";
        for (const auto* list : {&known.summary, &known.mandatory}) {
            if (std::find(list->begin(), list->end(), choice) != list->end()) {
                element = choice;
            }
        }
        elements.push_back(std::move(element));
    }
    return elements;
}

void applyElements(rapidjson::Value& resource, const std::vector<std::string>& elements,
                   Allocator& allocator)
{
    if (!resource.IsObject()) {
        return;
    }
    const std::vector<std::string>& mandatory = mandatoryElements(typeOf(resource));
    keepOnly(resource, [&](std::string_view key) {
        return keyIn(key, {"resourceType", "id", "_id", "meta"}) || keyInElements(key, mandatory) ||
               keyInElements(key, elements);
    });
    markSubsetted(resource, allocator);
}

void applySummary(rapidjson::Value& resource, SummaryMode mode, Allocator& allocator)
{
    if (!resource.IsObject() || mode == SummaryMode::False || mode == SummaryMode::Count) {
        return;
    }
    const std::string type = typeOf(resource);
    if (mode == SummaryMode::Data) {
        resource.RemoveMember("text");
    } else if (mode == SummaryMode::Text) {
        const std::vector<std::string>& mandatory = mandatoryElements(type);
        keepOnly(resource, [&](std::string_view key) {
            return keyIn(key, {"resourceType", "id", "_id", "meta", "text"}) ||
                   keyInElements(key, mandatory);
        });
    } else {
        const std::vector<std::string>& summary = summaryElements(type);
        keepOnly(resource, [&](std::string_view key) {
            return keyIn(key, {"resourceType", "id", "_id", "meta", "implicitRules",
                               "_implicitRules"}) ||
                   keyInElements(key, summary);
        });
    }
    markSubsetted(resource, allocator);
}

void markSubsetted(rapidjson::Value& resource, Allocator& allocator)
{
    if (!resource.IsObject()) {
        return;
    }
    auto meta = resource.FindMember("meta");
    if (meta == resource.MemberEnd() || !meta->value.IsObject()) {
        resource.RemoveMember("meta");
        resource.AddMember("meta", rapidjson::Value(rapidjson::kObjectType), allocator);
        meta = resource.FindMember("meta");
    }
    auto tags = meta->value.FindMember("tag");
    if (tags == meta->value.MemberEnd() || !tags->value.IsArray()) {
        meta->value.RemoveMember("tag");
        meta->value.AddMember("tag", rapidjson::Value(rapidjson::kArrayType), allocator);
        tags = meta->value.FindMember("tag");
    }
    for (const auto& tag : tags->value.GetArray()) {
        if (!tag.IsObject()) {
            continue;
        }
        const auto system = tag.FindMember("system");
        const auto code = tag.FindMember("code");
        if (system != tag.MemberEnd() && code != tag.MemberEnd() && system->value.IsString() &&
            code->value.IsString() &&
            std::string_view(system->value.GetString(), system->value.GetStringLength()) ==
                SubsettedSystem &&
            std::string_view(code->value.GetString(), code->value.GetStringLength()) ==
                "SUBSETTED") {
            return;
        }
    }
    rapidjson::Value tag(rapidjson::kObjectType);
    tag.AddMember("system", rapidjson::StringRef(SubsettedSystem.data(), SubsettedSystem.size()),
                  allocator);
    tag.AddMember("code", "SUBSETTED", allocator);
    tag.AddMember("display", "Resource encoded in summary mode", allocator);
    tags->value.PushBack(tag, allocator);
}

} // namespace hl7gw::fhir::rest
