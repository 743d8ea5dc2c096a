#include "gateway/fhir/search/search_parameters.h"

#include <Poco/Bugcheck.h>

#include <algorithm>
#include <cctype>
#include <ostream>

namespace hl7gw::fhir::search {

namespace detail {
extern const std::string_view searchParameterTableText;
}

namespace {

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

/// Splits at `sep` where not inside parentheses or quotes.
std::vector<std::string_view> splitTopLevel(std::string_view s, char sep)
{
    std::vector<std::string_view> parts;
    int depth = 0;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char ch = s[i];
        if (ch == '\'') {
            quoted = !quoted;
        } else if (!quoted && ch == '(') {
            ++depth;
        } else if (!quoted && ch == ')') {
            --depth;
        } else if (!quoted && depth == 0 && ch == sep) {
            parts.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    parts.push_back(s.substr(start));
    return parts;
}

bool isIdentifier(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
    });
}

bool startsWith(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

/// Appends the steps of a dotted path ("Type.a.b.where(...)" or ".a.b") to `path`.
bool appendDotted(std::string_view s, bool dropResourceType, ElementPath& path, std::string& error)
{
    std::vector<std::string_view> segments = splitTopLevel(s, '.');
    std::size_t first = 0;
    if (dropResourceType) {
        first = 1;
    } else if (!segments.empty() && trim(segments[0]).empty()) {
        first = 1; // ".text" after "(x as Y)"
    }
    for (std::size_t i = first; i < segments.size(); ++i) {
        const std::string_view segment = trim(segments[i]);
        if (startsWith(segment, "ofType(") && segment.back() == ')') {
            if (path.steps.empty()) {
                error = "ofType() without an element";
                return false;
            }
            path.steps.back().choiceType = std::string(segment.substr(7, segment.size() - 8));
        } else if (startsWith(segment, "where(") && segment.back() == ')') {
            const std::string_view inner = trim(segment.substr(6, segment.size() - 7));
            if (startsWith(inner, "resolve() is ")) {
                path.targetFilter = std::string(trim(inner.substr(13)));
                continue;
            }
            const std::size_t eq = inner.find('=');
            if (eq == std::string_view::npos || path.steps.empty()) {
                error = "unsupported where()";
                return false;
            }
            std::string_view value = trim(inner.substr(eq + 1));
            if (value.size() < 2 || value.front() != '\'' || value.back() != '\'') {
                error = "where() compares with a quoted value only";
                return false;
            }
            path.steps.back().whereElement = std::string(trim(inner.substr(0, eq)));
            path.steps.back().whereValue = std::string(value.substr(1, value.size() - 2));
        } else if (isIdentifier(segment)) {
            path.steps.push_back(PathStep{std::string(segment), {}, {}, {}});
        } else {
            error = "unsupported path part '" + std::string(segment) + "'";
            return false;
        }
    }
    return true;
}

bool parseAlternative(std::string_view s, bool dropResourceType, ElementPath& path,
                      std::string& error)
{
    s = trim(s);
    if (!s.empty() && s.front() == '(') {
        int depth = 0;
        std::size_t close = std::string_view::npos;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '(') {
                ++depth;
            } else if (s[i] == ')' && --depth == 0) {
                close = i;
                break;
            }
        }
        if (close == std::string_view::npos) {
            error = "unbalanced parentheses";
            return false;
        }
        if (!parseAlternative(s.substr(1, close - 1), dropResourceType, path, error)) {
            return false;
        }
        const std::string_view rest = trim(s.substr(close + 1));
        return rest.empty() || appendDotted(rest, false, path, error);
    }
    const std::size_t as = s.find(" as ");
    if (as != std::string_view::npos) {
        if (!appendDotted(s.substr(0, as), dropResourceType, path, error)) {
            return false;
        }
        const std::string_view type = trim(s.substr(as + 4));
        if (path.steps.empty() || !isIdentifier(type)) {
            error = "bad 'as'";
            return false;
        }
        path.steps.back().choiceType = std::string(type);
        return true;
    }
    return appendDotted(s, dropResourceType, path, error);
}

bool parseType(std::string_view text, ParamType& type)
{
    static const std::pair<std::string_view, ParamType> names[] = {
        {"token", ParamType::Token},
        {"string", ParamType::String},
        {"date", ParamType::Date},
        {"reference", ParamType::Reference},
        {"quantity", ParamType::Quantity},
        {"number", ParamType::Number},
        {"uri", ParamType::Uri}};
    for (const auto& [name, value] : names) {
        if (name == text) {
            type = value;
            return true;
        }
    }
    return false;
}

} // namespace

std::string_view toString(ParamType type)
{
    switch (type) {
    case ParamType::Token:
        return "token";
    case ParamType::String:
        return "string";
    case ParamType::Date:
        return "date";
    case ParamType::Reference:
        return "reference";
    case ParamType::Quantity:
        return "quantity";
    case ParamType::Number:
        return "number";
    case ParamType::Uri:
        return "uri";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& out, ParamType type)
{
    return out << toString(type);
}

bool SearchParameter::targetsAny() const
{
    return std::find(targets.begin(), targets.end(), "*") != targets.end();
}

bool SearchParameter::allowsTarget(std::string_view type) const
{
    return targetsAny() || std::find(targets.begin(), targets.end(), type) != targets.end();
}

bool parseExpression(std::string_view expression, std::vector<ElementPath>& paths,
                     std::string& error)
{
    paths.clear();
    for (std::string_view alternative : splitTopLevel(expression, '|')) {
        ElementPath path;
        if (!parseAlternative(alternative, true, path, error)) {
            return false;
        }
        if (path.steps.empty()) {
            error = "empty path";
            return false;
        }
        paths.push_back(std::move(path));
    }
    return true;
}

std::unique_ptr<SearchParameterRegistry> SearchParameterRegistry::fromText(std::string_view text,
                                                                           core::IssueList& issues)
{
    auto registry = std::make_unique<SearchParameterRegistry>();
    std::uint32_t lineNumber = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        ++lineNumber;
        line = trim(line);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        auto fail = [&](std::string why) {
            core::Location location;
            location.line = lineNumber;
            issues.add(core::Severity::Error, "invalid", location, std::move(why));
        };
        std::vector<std::string_view> words;
        std::string_view rest = line;
        for (int i = 0; i < 3; ++i) {
            const std::size_t space = rest.find(' ');
            if (space == std::string_view::npos) {
                break;
            }
            words.push_back(rest.substr(0, space));
            rest = trim(rest.substr(space + 1));
        }
        if (words.size() != 3 || rest.empty()) {
            fail("expected RESOURCE NAME TYPE EXPRESSION");
            continue;
        }
        SearchParameter parameter;
        parameter.resourceType = std::string(words[0]);
        parameter.name = std::string(words[1]);
        if (!parseType(words[2], parameter.type)) {
            fail("unknown parameter type");
            continue;
        }
        const std::size_t arrow = rest.find(" -> ");
        if (arrow != std::string_view::npos) {
            for (std::string_view target : splitTopLevel(rest.substr(arrow + 4), ',')) {
                parameter.targets.emplace_back(trim(target));
            }
            rest = trim(rest.substr(0, arrow));
        }
        if (parameter.type == ParamType::Reference && parameter.targets.empty()) {
            fail("reference parameter without targets");
            continue;
        }
        parameter.expression = std::string(rest);
        std::string error;
        if (!parseExpression(rest, parameter.paths, error)) {
            fail("expression: " + error);
            continue;
        }
        auto& forType = registry->byType_[parameter.resourceType];
        const std::string name = parameter.name;
        if (!forType.emplace(name, std::move(parameter)).second) {
            fail("duplicate parameter");
        }
    }
    return registry;
}

const SearchParameterRegistry& SearchParameterRegistry::standard()
{
    static const std::unique_ptr<SearchParameterRegistry> registry = [] {
        core::IssueList issues;
        auto built = fromText(detail::searchParameterTableText, issues);
        if (!issues.empty()) {
            // The table is compiled in and covered by the tests: a problem here is a bug.
            const std::string message = "search_parameters.txt line " +
                                        std::to_string(issues[0].location.line) + ": " +
                                        issues[0].text;
            poco_bugcheck_msg(message.c_str());
        }
        return built;
    }();
    return *registry;
}

const SearchParameter* SearchParameterRegistry::find(std::string_view resourceType,
                                                     std::string_view name) const
{
    for (std::string_view type : {resourceType, std::string_view("Resource")}) {
        const auto byType = byType_.find(type);
        if (byType == byType_.end()) {
            continue;
        }
        const auto found = byType->second.find(name);
        if (found != byType->second.end()) {
            return &found->second;
        }
    }
    return nullptr;
}

std::vector<const SearchParameter*>
SearchParameterRegistry::forType(std::string_view resourceType) const
{
    std::vector<const SearchParameter*> parameters;
    const auto byType = byType_.find(resourceType);
    if (byType != byType_.end() && resourceType != "Resource") {
        for (const auto& [name, parameter] : byType->second) {
            parameters.push_back(&parameter);
        }
    }
    return parameters;
}

std::vector<const SearchParameter*> SearchParameterRegistry::common() const
{
    std::vector<const SearchParameter*> parameters;
    const auto byType = byType_.find(std::string_view("Resource"));
    if (byType != byType_.end()) {
        for (const auto& [name, parameter] : byType->second) {
            parameters.push_back(&parameter);
        }
    }
    return parameters;
}

std::vector<std::string> SearchParameterRegistry::resourceTypes() const
{
    std::vector<std::string> types;
    for (const auto& [type, parameters] : byType_) {
        if (type != "Resource") {
            types.push_back(type);
        }
    }
    return types;
}

} // namespace hl7gw::fhir::search
