#include "gateway/fhir/search/search_query.h"

#include "gateway/fhir/search/detail/cursor.h"
#include "gateway/fhir/search/detail/search_values.h"
#include "gateway/fhir/search/index_extractor.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace hl7gw::fhir::search {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

/// Splits at `sep` where not escaped by a backslash; escapes are kept (see unescape()).
std::vector<std::string_view> splitUnescaped(std::string_view s, char sep)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (s[i] == sep) {
            parts.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    parts.push_back(s.substr(start));
    return parts;
}

/// R4 search.html "Escaping Search Parameters": \, \| \$ \\ stand for the character.
std::string unescape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
            ++i;
        }
        out += s[i];
    }
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = s.find(sep, start);
        parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) {
            return parts;
        }
        start = end + 1;
    }
}

bool isResourceType(std::string_view s)
{
    return !s.empty() && std::isupper(static_cast<unsigned char>(s.front())) &&
           std::all_of(s.begin(), s.end(),
                       [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)); });
}

Prefix takePrefix(std::string_view& s)
{
    static const std::pair<std::string_view, Prefix> prefixes[] = {
        {"eq", Prefix::Eq}, {"ne", Prefix::Ne}, {"gt", Prefix::Gt},
        {"lt", Prefix::Lt}, {"ge", Prefix::Ge}, {"le", Prefix::Le},
        {"sa", Prefix::Sa}, {"eb", Prefix::Eb}, {"ap", Prefix::Ap}};
    if (s.size() > 2 && (std::isdigit(static_cast<unsigned char>(s[2])) || s[2] == '-' ||
                         s[2] == '+' || s[2] == '.')) {
        for (const auto& [text, prefix] : prefixes) {
            if (s.substr(0, 2) == text) {
                s.remove_prefix(2);
                return prefix;
            }
        }
    }
    return Prefix::Eq;
}

bool parseModifier(std::string_view text, Modifier& modifier)
{
    static const std::pair<std::string_view, Modifier> modifiers[] = {
        {"missing", Modifier::Missing},
        {"exact", Modifier::Exact},
        {"contains", Modifier::Contains},
        {"not", Modifier::Not},
        {"text", Modifier::Text},
        {"of-type", Modifier::OfType},
        {"identifier", Modifier::Identifier},
        {"above", Modifier::Above},
        {"below", Modifier::Below}};
    for (const auto& [name, value] : modifiers) {
        if (name == text) {
            modifier = value;
            return true;
        }
    }
    return false;
}

class Parser {
  public:
    Parser(const ParseOptions& options, core::IssueList& issues)
        : options_(options), registry_(*options.registry), issues_(issues)
    {
    }

    enum class Outcome { Ok, Unknown, Failed, Empty };

    Outcome parseCriterion(std::string_view resourceType, std::string_view key,
                           std::string_view value, bool allowChain, Criterion& out);

    void fail(std::string_view name, std::string code, std::string text)
    {
        core::Location location;
        location.path = std::string(name);
        issues_.add(core::Severity::Error, std::move(code), std::move(location), std::move(text));
    }

    const SearchParameterRegistry& registry() const { return registry_; }
    const ParseOptions& options() const { return options_; }

  private:
    Outcome parseHas(std::string_view resourceType, std::string_view key, std::string_view value,
                     Criterion& out);
    Outcome parseChain(std::string_view resourceType, std::string_view key, std::string_view rest,
                       std::string_view value, Criterion& out);
    bool checkModifier(const Criterion& criterion, ParamType type);
    bool parseValue(const Criterion& criterion, ParamType type, std::string_view piece,
                    SearchValue& value);
    bool parseReferenceValue(const Criterion& criterion, std::string_view piece,
                             SearchValue& value);

    const ParseOptions& options_;
    const SearchParameterRegistry& registry_;
    core::IssueList& issues_;
    std::string currentName_;
};

bool Parser::checkModifier(const Criterion& criterion, ParamType type)
{
    bool ok = true;
    switch (criterion.modifier) {
    case Modifier::None:
    case Modifier::Missing:
        break;
    case Modifier::Exact:
    case Modifier::Contains:
        ok = type == ParamType::String;
        break;
    case Modifier::Not:
    case Modifier::Text:
        ok = type == ParamType::Token;
        break;
    case Modifier::OfType:
        ok = type == ParamType::Token && criterion.kind == Criterion::Kind::Parameter;
        break;
    case Modifier::Identifier:
    case Modifier::Type:
        ok = type == ParamType::Reference;
        break;
    case Modifier::Above:
    case Modifier::Below:
        ok = type == ParamType::Uri;
        break;
    }
    if (!ok) {
        fail(currentName_, "not-supported", "modifier not supported for a parameter of this type");
    }
    return ok;
}

bool Parser::parseReferenceValue(const Criterion& criterion, std::string_view piece,
                                 SearchValue& value)
{
    const std::string text = unescape(piece);
    const SearchParameter& parameter = *criterion.parameter;
    const bool absolute = text.find("://") != std::string::npos || text.substr(0, 4) == "urn:";
    if (absolute || text.find('/') != std::string::npos) {
        const std::optional<ParsedReference> parsed = parseReference(text, options_.baseUrl);
        if (!parsed) {
            fail(currentName_, "value", "not a reference");
            return false;
        }
        if (!parsed->local()) {
            value.url = parsed->url;
            return true;
        }
        if (!parameter.allowsTarget(parsed->type) ||
            (!criterion.typeModifier.empty() && parsed->type != criterion.typeModifier)) {
            fail(currentName_, "value", "resource type is not a target of this parameter");
            return false;
        }
        value.targetType = parsed->type;
        value.targetId = parsed->id;
        return true;
    }
    value.targetType = criterion.typeModifier;
    value.targetId = text;
    return true;
}

bool Parser::parseValue(const Criterion& criterion, ParamType type, std::string_view piece,
                        SearchValue& value)
{
    if (criterion.modifier == Modifier::Missing) {
        if (piece != "true" && piece != "false") {
            fail(currentName_, "value", ":missing takes true or false");
            return false;
        }
        value.raw = std::string(piece);
        value.missing = piece == "true";
        return true;
    }
    const bool tokenLike = type == ParamType::Token || criterion.modifier == Modifier::Identifier;
    if (type == ParamType::Date || type == ParamType::Number || type == ParamType::Quantity) {
        value.prefix = takePrefix(piece);
    }
    value.raw = unescape(piece);
    if (criterion.modifier == Modifier::Text) {
        value.text = detail::normalizeText(value.raw);
        return true;
    }
    if (criterion.modifier == Modifier::OfType) {
        const std::vector<std::string_view> parts = splitUnescaped(piece, '|');
        if (parts.size() != 3 || parts[1].empty() || parts[2].empty()) {
            fail(currentName_, "value", ":of-type takes type-system|type-code|value");
            return false;
        }
        value.system = unescape(parts[0]);
        value.code = unescape(parts[1]);
        value.ofTypeValue = unescape(parts[2]);
        return true;
    }
    if (tokenLike) {
        const std::vector<std::string_view> parts = splitUnescaped(piece, '|');
        if (parts.size() > 2) {
            fail(currentName_, "value", "a token is code, system|code, |code or system|");
            return false;
        }
        if (parts.size() == 2) {
            value.system = unescape(parts[0]);
            value.code = unescape(parts[1]);
        } else {
            value.code = unescape(parts[0]);
        }
        return true;
    }
    switch (type) {
    case ParamType::String:
        value.text =
            criterion.modifier == Modifier::Exact ? value.raw : detail::normalizeText(value.raw);
        return true;
    case ParamType::Uri:
        return true;
    case ParamType::Reference:
        return parseReferenceValue(criterion, piece, value);
    case ParamType::Date: {
        const auto range = detail::parseDateRange(value.raw, options_.offsetMinutes);
        if (!range) {
            fail(currentName_, "value", "not a valid date, dateTime or instant");
            return false;
        }
        value.low = range->low;
        value.high = range->high;
        if (value.prefix == Prefix::Ap) {
            // R4 search.html: "ap" is within 10% of the gap between now and the value.
            const std::int64_t gap = options_.nowMicros > value.low
                                         ? options_.nowMicros - value.low
                                         : value.low - options_.nowMicros;
            value.low -= gap / 10;
            value.high += gap / 10;
        }
        return true;
    }
    case ParamType::Number:
    case ParamType::Quantity: {
        const std::vector<std::string_view> parts = splitUnescaped(piece, '|');
        if (parts.size() > 3 || (type == ParamType::Number && parts.size() > 1)) {
            fail(currentName_, "value",
                 type == ParamType::Number ? "not a number" : "a quantity is number|system|code");
            return false;
        }
        const auto decimal = detail::parseDecimal(unescape(parts[0]));
        if (!decimal) {
            fail(currentName_, "value", "not a number");
            return false;
        }
        value.number = decimal->value;
        value.numberLow = decimal->low;
        value.numberHigh = decimal->high;
        if (parts.size() == 3) {
            if (!parts[1].empty()) {
                value.system = unescape(parts[1]);
            }
            value.code = unescape(parts[2]);
        } else if (parts.size() == 2) {
            value.code = unescape(parts[1]);
        }
        return true;
    }
    case ParamType::Token:
        break;
    }
    return true;
}

Parser::Outcome Parser::parseHas(std::string_view resourceType, std::string_view key,
                                 std::string_view value, Criterion& out)
{
    // _has:Type:reference-param:param[:modifier] (R4 search.html "Reverse Chaining").
    const std::vector<std::string_view> parts = split(key, ':');
    if (parts.size() < 4 || !isResourceType(parts[1])) {
        fail(key, "value", "_has takes _has:Type:reference:parameter");
        return Outcome::Failed;
    }
    const SearchParameter* reference = registry_.find(parts[1], parts[2]);
    if (reference == nullptr) {
        return Outcome::Unknown;
    }
    if (reference->type != ParamType::Reference || !reference->allowsTarget(resourceType)) {
        fail(key, "value",
             "_has needs a reference parameter that can point to " + std::string(resourceType));
        return Outcome::Failed;
    }
    const std::string_view innerKey =
        key.substr(parts[0].size() + parts[1].size() + parts[2].size() + 3);
    if (innerKey.substr(0, 4) == "_has") {
        fail(key, "not-supported", "_has is supported one level deep");
        return Outcome::Failed;
    }
    Criterion inner;
    const Outcome outcome = parseCriterion(parts[1], innerKey, value, false, inner);
    if (outcome != Outcome::Ok) {
        return outcome;
    }
    out.kind = Criterion::Kind::Has;
    out.name = std::string(key);
    out.resourceType = std::string(resourceType);
    out.parameter = reference;
    out.next.push_back(std::move(inner));
    return Outcome::Ok;
}

Parser::Outcome Parser::parseChain(std::string_view resourceType, std::string_view key,
                                   std::string_view rest, std::string_view value, Criterion& out)
{
    if (out.parameter->type != ParamType::Reference) {
        fail(key, "value", "only reference parameters can be chained");
        return Outcome::Failed;
    }
    if (rest.find('.') != std::string_view::npos) {
        fail(key, "not-supported", "chains are supported one level deep");
        return Outcome::Failed;
    }
    if (out.modifier != Modifier::None && out.modifier != Modifier::Type) {
        fail(key, "not-supported", "a chained reference takes only a type modifier");
        return Outcome::Failed;
    }
    std::vector<std::string> types;
    if (!out.typeModifier.empty()) {
        types.push_back(out.typeModifier);
    } else if (out.parameter->targetsAny()) {
        types = registry_.resourceTypes();
    } else {
        types = out.parameter->targets;
    }
    const std::string_view chainedName = rest.substr(0, rest.find(':'));
    bool reported = false;
    for (const std::string& type : types) {
        if (registry_.find(type, chainedName) == nullptr) {
            continue;
        }
        Criterion inner;
        // Report the problems of the first target type only: the others repeat them.
        core::IssueList innerIssues;
        Parser innerParser(options_, innerIssues);
        innerParser.currentName_ = std::string(key);
        const Outcome outcome = innerParser.parseCriterion(type, rest, value, false, inner);
        if (outcome == Outcome::Empty) {
            return outcome;
        }
        if (outcome == Outcome::Failed) {
            if (!reported) {
                for (const core::Issue& issue : innerIssues) {
                    core::Issue named = issue;
                    named.location.path = std::string(key);
                    issues_.add(std::move(named));
                }
                reported = true;
            }
            continue;
        }
        if (outcome == Outcome::Ok) {
            out.next.push_back(std::move(inner));
        }
    }
    if (reported) {
        return Outcome::Failed;
    }
    if (out.next.empty()) {
        fail(key, "value", "no target type of this reference has the chained parameter");
        return Outcome::Failed;
    }
    out.kind = Criterion::Kind::Chain;
    out.name = std::string(key);
    out.resourceType = std::string(resourceType);
    return Outcome::Ok;
}

Parser::Outcome Parser::parseCriterion(std::string_view resourceType, std::string_view key,
                                       std::string_view value, bool allowChain, Criterion& out)
{
    if (currentName_.empty()) {
        currentName_ = std::string(key);
    }
    if (key.substr(0, 5) == "_has:") {
        if (!allowChain) {
            fail(key, "not-supported", "_has cannot be chained");
            return Outcome::Failed;
        }
        return parseHas(resourceType, key, value, out);
    }
    const std::size_t dot = key.find('.');
    const std::string_view head = key.substr(0, dot);
    const std::size_t colon = head.find(':');
    const std::string_view name = head.substr(0, colon);
    const SearchParameter* parameter = registry_.find(resourceType, name);
    if (parameter == nullptr) {
        return Outcome::Unknown;
    }
    out.name = std::string(key);
    out.resourceType = std::string(resourceType);
    out.parameter = parameter;
    if (colon != std::string_view::npos) {
        const std::string_view modifier = head.substr(colon + 1);
        if (parameter->type == ParamType::Reference && isResourceType(modifier)) {
            if (!parameter->allowsTarget(modifier)) {
                fail(key, "value", "resource type is not a target of this parameter");
                return Outcome::Failed;
            }
            out.modifier = Modifier::Type;
            out.typeModifier = std::string(modifier);
        } else if (!parseModifier(modifier, out.modifier)) {
            fail(key, "not-supported", "unknown or unsupported modifier");
            return Outcome::Failed;
        }
    }
    if (dot != std::string_view::npos) {
        if (!allowChain) {
            fail(key, "not-supported", "chains are supported one level deep");
            return Outcome::Failed;
        }
        return parseChain(resourceType, key, key.substr(dot + 1), value, out);
    }
    if (name == "_id") {
        out.kind = Criterion::Kind::Id;
    } else if (name == "_lastUpdated") {
        out.kind = Criterion::Kind::LastUpdated;
    }
    if (!checkModifier(out, parameter->type)) {
        return Outcome::Failed;
    }
    if ((out.kind == Criterion::Kind::Id &&
         (out.modifier != Modifier::None && out.modifier != Modifier::Not)) ||
        (out.kind == Criterion::Kind::LastUpdated && out.modifier != Modifier::None)) {
        fail(key, "not-supported", "modifier not supported on this parameter");
        return Outcome::Failed;
    }
    const std::vector<std::string_view> pieces = splitUnescaped(value, ',');
    if (out.modifier == Modifier::Missing && pieces.size() > 1) {
        fail(key, "value", ":missing takes one value");
        return Outcome::Failed;
    }
    for (std::string_view piece : pieces) {
        if (piece.empty()) {
            continue;
        }
        SearchValue parsed;
        if (!parseValue(out, parameter->type, piece, parsed)) {
            return Outcome::Failed;
        }
        if (parameter->type == ParamType::Token && out.modifier != Modifier::Text &&
            out.modifier != Modifier::Missing && !parsed.system && parsed.code.empty()) {
            continue;
        }
        out.values.push_back(std::move(parsed));
    }
    return out.values.empty() ? Outcome::Empty : Outcome::Ok;
}

bool parseCount(std::string_view text, std::size_t& count)
{
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    return ec == std::errc() && ptr == text.data() + text.size();
}

bool parseInclude(Parser& parser, const std::string& resourceType, std::string_view key,
                  std::string_view value, bool reverse, IncludeSpec& spec, bool& unknown)
{
    unknown = false;
    const std::size_t colon = key.find(':');
    if (colon != std::string_view::npos) {
        const std::string_view modifier = key.substr(colon + 1);
        if (modifier != "iterate" && modifier != "recurse") {
            parser.fail(key, "not-supported", "_include and _revinclude take :iterate only");
            return false;
        }
        spec.iterate = true;
    }
    if (value == "*") {
        spec.wildcard = true;
        spec.sourceType = resourceType;
        return true;
    }
    const std::vector<std::string_view> parts = split(value, ':');
    if (parts.size() < 2 || parts.size() > 3 || !isResourceType(parts[0]) || parts[1].empty() ||
        (parts.size() == 3 && !isResourceType(parts[2]))) {
        parser.fail(key, "value", "expected SourceType:parameter[:TargetType]");
        return false;
    }
    spec.sourceType = std::string(parts[0]);
    if (parts[1] == "*") {
        spec.wildcard = true;
    } else {
        spec.parameterName = std::string(parts[1]);
        const SearchParameter* parameter =
            parser.registry().find(spec.sourceType, spec.parameterName);
        if (parameter == nullptr) {
            unknown = true;
            return false;
        }
        if (parameter->type != ParamType::Reference) {
            parser.fail(key, "value", "not a reference parameter");
            return false;
        }
        if (parts.size() == 3 && !parameter->allowsTarget(parts[2])) {
            parser.fail(key, "value", "resource type is not a target of this parameter");
            return false;
        }
        if (reverse && !spec.iterate && !parameter->allowsTarget(resourceType)) {
            parser.fail(key, "value", "this parameter cannot point to " + resourceType);
            return false;
        }
    }
    if (!reverse && !spec.iterate && spec.sourceType != resourceType) {
        parser.fail(key, "value", "_include must name the searched resource type");
        return false;
    }
    if (parts.size() == 3) {
        spec.targetType = std::string(parts[2]);
    }
    return true;
}

} // namespace

std::string sortSignature(const std::vector<SortKey>& sort)
{
    std::string signature;
    for (const SortKey& key : sort) {
        if (!signature.empty()) {
            signature += ',';
        }
        signature += key.descending ? "-" : "";
        signature += key.byMatchedEnd ? "~" : ""; // not a client's _sort
        signature += key.name;
    }
    return signature;
}

const Criterion* driverOf(const SearchQuery& query)
{
    for (const Criterion& criterion : query.criteria) {
        if (criterion.kind != Criterion::Kind::Parameter || criterion.parameter == nullptr ||
            criterion.parameter->type != ParamType::Date || criterion.modifier != Modifier::None ||
            criterion.values.size() != 1) {
            continue;
        }
        switch (criterion.values.front().prefix) {
        case Prefix::Eq:
        case Prefix::Ge:
        case Prefix::Gt:
        case Prefix::Sa:
        case Prefix::Ap:
            return &criterion;
        default:
            break;
        }
    }
    return nullptr;
}

SearchQuery parseSearch(std::string_view resourceType, const Pairs& parameters,
                        const ParseOptions& options, core::IssueList& issues)
{
    SearchQuery query;
    query.resourceType = std::string(resourceType);
    query.count = std::min(options.defaultCount, options.maxCount);
    Parser parser(options, issues);
    std::string cursorText;
    for (const auto& [key, value] : parameters) {
        const std::string_view name = std::string_view(key).substr(0, key.find(':'));
        bool used = true;
        if (name == "_count") {
            std::size_t count = 0;
            if (!parseCount(value, count)) {
                parser.fail(key, "value", "_count takes a non-negative integer");
                continue;
            }
            query.count = std::min(count, options.maxCount);
        } else if (name == "_sort") {
            for (std::string_view item : split(value, ',')) {
                SortKey sortKey;
                if (!item.empty() && item.front() == '-') {
                    sortKey.descending = true;
                    item.remove_prefix(1);
                }
                sortKey.name = std::string(item);
                sortKey.parameter = options.registry->find(resourceType, item);
                if (sortKey.parameter == nullptr) {
                    parser.fail(key, "value", "unknown sort parameter");
                    continue;
                }
                query.sort.push_back(std::move(sortKey));
            }
        } else if (name == "_include" || name == "_revinclude") {
            IncludeSpec spec;
            bool unknown = false;
            if (parseInclude(parser, query.resourceType, key, value, name == "_revinclude", spec,
                             unknown)) {
                (name == "_include" ? query.includes : query.revIncludes).push_back(spec);
            } else if (unknown) {
                used = false;
                query.unknown.emplace_back(key, value);
            }
        } else if (name == "_summary") {
            static const std::pair<std::string_view, Summary> modes[] = {{"true", Summary::True},
                                                                         {"text", Summary::Text},
                                                                         {"data", Summary::Data},
                                                                         {"count", Summary::Count},
                                                                         {"false", Summary::False}};
            const auto found = std::find_if(std::begin(modes), std::end(modes),
                                            [&](const auto& mode) { return mode.first == value; });
            if (found == std::end(modes)) {
                parser.fail(key, "value", "_summary takes true, text, data, count or false");
                continue;
            }
            query.summary = found->second;
        } else if (name == "_total") {
            if (value == "none") {
                query.total = Total::None;
            } else if (value == "estimate") {
                query.total = Total::Estimate;
            } else if (value == "accurate") {
                query.total = Total::Accurate;
            } else {
                parser.fail(key, "value", "_total takes none, estimate or accurate");
                continue;
            }
        } else if (name == "_elements") {
            for (std::string_view element : split(value, ',')) {
                if (!element.empty()) {
                    query.elements.emplace_back(element);
                }
            }
        } else if (name == "_cursor") {
            cursorText = value;
        } else if (name == "_contained" || name == "_containedType" || name == "_format" ||
                   name == "_pretty") {
            // Result shaping the server does elsewhere or not at all (_contained).
        } else {
            Criterion criterion;
            Parser one(options, issues);
            switch (one.parseCriterion(resourceType, key, value, true, criterion)) {
            case Parser::Outcome::Ok:
                query.criteria.push_back(std::move(criterion));
                break;
            case Parser::Outcome::Unknown:
                used = false;
                query.unknown.emplace_back(key, value);
                break;
            case Parser::Outcome::Failed:
            case Parser::Outcome::Empty:
                used = false;
                break;
            }
        }
        if (used) {
            query.used.emplace_back(key, value);
        }
    }
    if (query.sort.empty()) {
        if (const Criterion* driver = driverOf(query)) {
            query.sort.push_back(SortKey{driver->name, false, driver->parameter, true});
        }
    }
    if (!cursorText.empty()) {
        query.cursor = detail::decodeCursor(cursorText, sortSignature(query.sort));
        if (!query.cursor || query.cursor->values.size() != query.sort.size()) {
            query.cursor.reset();
            parser.fail("_cursor", "value", "not a paging cursor of this search");
        }
    }
    return query;
}

} // namespace hl7gw::fhir::search
