#include "gateway/mapping/detail/map_parser.h"

#include "gateway/mapping/mapping_error.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace hl7gw::mapping::detail {
namespace {

bool isWordChar(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '^' ||
           static_cast<unsigned char>(c) >= 0x80;
}

/// A cursor over one logical line; every error it raises carries the line and column.
class LineCursor {
  public:
    LineCursor(std::string_view text, const std::string& file, unsigned line, unsigned indent)
        : text_(text), file_(file), line_(line), indent_(indent)
    {
    }

    [[noreturn]] void fail(const std::string& what) const
    {
        throw MappingLoadError(file_, line_, column(), what);
    }
    unsigned column() const { return indent_ + static_cast<unsigned>(pos_) + 1; }
    SourcePosition position(const std::string* file) const { return {file, line_, column()}; }

    void skipSpaces()
    {
        while (pos_ < text_.size() && text_[pos_] == ' ')
            ++pos_;
    }
    bool atEnd()
    {
        skipSpaces();
        return pos_ >= text_.size();
    }
    char peek()
    {
        skipSpaces();
        return pos_ < text_.size() ? text_[pos_] : '\0';
    }
    bool consume(char c)
    {
        if (peek() != c)
            return false;
        ++pos_;
        return true;
    }
    bool consume(std::string_view token)
    {
        skipSpaces();
        if (text_.substr(pos_, token.size()) != token)
            return false;
        ++pos_;
        pos_ += token.size() - 1;
        return true;
    }
    void expect(char c, std::string_view what)
    {
        if (!consume(c))
            fail("expected " + std::string(what));
    }
    /// The next word (letters, digits, `_`, `-`, `^`), without consuming it.
    std::string_view peekWord()
    {
        skipSpaces();
        std::size_t end = pos_;
        while (end < text_.size() && isWordChar(text_[end]))
            ++end;
        return text_.substr(pos_, end - pos_);
    }
    bool consumeKeyword(std::string_view keyword)
    {
        if (peekWord() != keyword)
            return false;
        pos_ += keyword.size();
        return true;
    }
    std::string word(std::string_view what)
    {
        std::string_view w = peekWord();
        if (w.empty())
            fail("expected " + std::string(what));
        pos_ += w.size();
        return std::string(w);
    }
    std::string quoted()
    {
        if (!consume('"'))
            fail("expected a string in double quotes");
        std::string out;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            char c = text_[pos_++];
            if (c == '\\' && pos_ < text_.size()) {
                char e = text_[pos_++];
                out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
            } else {
                out += c;
            }
        }
        if (pos_ >= text_.size())
            fail("string not closed");
        ++pos_;
        return out;
    }
    /// Everything up to the `)` that closes an already consumed `(`, strings respected.
    std::string_view balanced()
    {
        std::size_t start = pos_;
        int depth = 1;
        bool inString = false;
        for (; pos_ < text_.size(); ++pos_) {
            char c = text_[pos_];
            if (inString) {
                if (c == '\\')
                    ++pos_;
                else if (c == '"')
                    inString = false;
            } else if (c == '"') {
                inString = true;
            } else if (c == '(') {
                ++depth;
            } else if (c == ')' && --depth == 0) {
                return text_.substr(start, pos_++ - start);
            }
        }
        fail("`(` not closed");
    }
    /// The raw text up to (not including) the next top-level " KEYWORD " or the end.
    std::string_view until(std::string_view keyword)
    {
        skipSpaces();
        std::size_t start = pos_;
        bool inString = false;
        int depth = 0;
        for (std::size_t i = pos_; i < text_.size(); ++i) {
            char c = text_[i];
            if (inString) {
                if (c == '\\')
                    ++i;
                else if (c == '"')
                    inString = false;
                continue;
            }
            if (c == '"')
                inString = true;
            else if (c == '(')
                ++depth;
            else if (c == ')')
                --depth;
            else if (c == ' ' && depth == 0 && text_.substr(i + 1, keyword.size()) == keyword &&
                     (i + 1 + keyword.size() == text_.size() ||
                      text_[i + 1 + keyword.size()] == ' ')) {
                pos_ = i;
                return trim(text_.substr(start, i - start));
            }
        }
        pos_ = text_.size();
        return trim(text_.substr(start));
    }
    std::size_t offset() const { return pos_; }
    void seek(std::size_t p) { pos_ = p; }
    std::string_view rest() const { return text_.substr(pos_); }

  private:
    static std::string_view trim(std::string_view s)
    {
        while (!s.empty() && s.back() == ' ')
            s.remove_suffix(1);
        return s;
    }

    std::string_view text_;
    const std::string& file_;
    unsigned line_;
    unsigned indent_;
    std::size_t pos_ = 0;
};

bool parseNumber(std::string_view text, std::uint32_t& out)
{
    if (text.empty() || text.size() > 6)
        return false;
    out = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        out = out * 10 + static_cast<std::uint32_t>(c - '0');
    }
    return out > 0;
}

/// `.`, `.1`, `.4.2`: relative to the value in hand.
Source parseRelative(LineCursor& in)
{
    Source source;
    source.kind = Source::Kind::Relative;
    std::size_t start = in.offset();
    in.consume('.');
    std::string_view rest = in.rest();
    std::size_t n = 0;
    while (n < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[n])) || rest[n] == '.'))
        ++n;
    std::string_view digits = rest.substr(0, n);
    in.seek(in.offset() + n);
    if (!digits.empty()) {
        std::size_t dot = digits.find('.');
        std::uint32_t value = 0;
        if (!parseNumber(digits.substr(0, dot), value))
            in.fail("a relative path is `.` or `.COMPONENT[.SUBCOMPONENT]`");
        source.component = value;
        if (dot != std::string_view::npos) {
            if (!parseNumber(digits.substr(dot + 1), value))
                in.fail("a relative path is `.` or `.COMPONENT[.SUBCOMPONENT]`");
            source.subcomponent = value;
        }
    }
    in.seek(start);
    source.spelling = std::string(in.rest().substr(0, n + 1));
    in.seek(start + n + 1);
    return source;
}

/// `SEG[occ|*]-FIELD[rep].COMP.SUB`: the --get syntax plus `[*]`.
Source parseV2Path(LineCursor& in)
{
    Source source;
    source.kind = Source::Kind::V2Path;
    std::size_t start = in.offset();
    std::string_view rest = in.rest();
    std::size_t i = 0;
    // A group name (`when PATIENT`): upper-case letters, digits and `_`, longer than an id.
    std::size_t g = 0;
    while (g < rest.size() && (std::isupper(static_cast<unsigned char>(rest[g])) ||
                               std::isdigit(static_cast<unsigned char>(rest[g])) || rest[g] == '_'))
        ++g;
    if (g > 3 && (g == rest.size() || rest[g] == ' ' || rest[g] == ')')) {
        source.text = std::string(rest.substr(0, g));
        source.spelling = source.text;
        in.seek(start + g);
        return source;
    }
    while (i < rest.size() && i < 3 && std::isalnum(static_cast<unsigned char>(rest[i])))
        ++i;
    if (i != 3 || !std::isupper(static_cast<unsigned char>(rest[0])))
        in.fail("expected a v2 path such as PID-3 or OBX[*]-5");
    source.text = std::string(rest.substr(0, 3));
    auto number = [&](std::uint32_t& out) {
        std::size_t b = i;
        while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i])))
            ++i;
        if (!parseNumber(rest.substr(b, i - b), out)) {
            in.seek(start + b);
            in.fail("expected a position (1 or more)");
        }
    };
    auto bracket = [&](std::uint32_t& out, bool allowStar) -> bool {
        if (i >= rest.size() || rest[i] != '[')
            return false;
        ++i;
        if (allowStar && i < rest.size() && rest[i] == '*') {
            ++i;
            out = 0;
        } else {
            number(out);
        }
        if (i >= rest.size() || rest[i] != ']') {
            in.seek(start + i);
            in.fail("expected `]`");
        }
        ++i;
        return true;
    };
    std::uint32_t occurrence = 0;
    if (bracket(occurrence, true))
        source.occurrence = occurrence == 0 ? -1 : static_cast<int>(occurrence);
    if (i < rest.size() && rest[i] == '-') {
        ++i;
        number(source.field);
        bracket(source.repetition, false);
        if (i < rest.size() && rest[i] == '.') {
            ++i;
            number(source.component);
            if (i < rest.size() && rest[i] == '.') {
                ++i;
                number(source.subcomponent);
            }
        }
    }
    source.spelling = std::string(rest.substr(0, i));
    in.seek(start + i);
    return source;
}

Source parseSource(LineCursor& in)
{
    char c = in.peek();
    if (c == '"') {
        Source source;
        source.kind = Source::Kind::Literal;
        source.text = in.quoted();
        source.spelling = '"' + source.text + '"';
        return source;
    }
    if (c == '.')
        return parseRelative(in);
    if (c == '@' || c == '$') {
        in.consume(c);
        Source source;
        source.kind = c == '@' ? Source::Kind::Binding : Source::Kind::Variable;
        if (c == '@' && in.consume('*'))
            source.text = "*";
        else
            source.text =
                in.word(c == '@' ? "a binding name after `@`" : "a variable name after `$`");
        source.spelling = std::string(1, c) + source.text;
        return source;
    }
    std::string_view w = in.peekWord();
    if (w == "true" || w == "false" ||
        (!w.empty() && (std::isdigit(static_cast<unsigned char>(w[0])) || w[0] == '-'))) {
        Source source;
        source.kind = Source::Kind::Literal;
        source.literalIsString = false;
        source.text = in.word("a literal");
        // Decimal literals: the word stops at '.', so take the fraction too.
        if (in.rest().size() > 1 && in.rest()[0] == '.' &&
            std::isdigit(static_cast<unsigned char>(in.rest()[1]))) {
            in.seek(in.offset() + 1);
            source.text += '.' + in.word("digits");
        }
        source.spelling = source.text;
        return source;
    }
    return parseV2Path(in);
}

std::vector<Function> parseFunctions(LineCursor& in)
{
    std::vector<Function> functions;
    while (in.consume('|')) {
        Function f;
        in.skipSpaces();
        std::size_t nameOffset = in.offset();
        std::string name = in.word("a function name after `|`");
        std::string argument;
        bool hasArgument = false;
        std::size_t argumentStart = 0;
        if (in.rest().size() > 0 && in.rest()[0] == '(') {
            in.consume('(');
            argumentStart = in.offset();
            argument = std::string(in.balanced());
            hasArgument = true;
        }
        struct Known {
            std::string_view name;
            Function::Kind kind;
            bool takesArgument;
        };
        static const Known known[] = {{"table", Function::Kind::Table, true},
                                      {"lookup", Function::Kind::Lookup, true},
                                      {"coding", Function::Kind::Coding, true},
                                      {"system", Function::Kind::System, false},
                                      {"oid", Function::Kind::Oid, false},
                                      {"resource", Function::Kind::Resource, true},
                                      {"as", Function::Kind::As, true},
                                      {"join", Function::Kind::Join, true},
                                      {"components", Function::Kind::Components, true},
                                      {"first", Function::Kind::First, false},
                                      {"minutes", Function::Kind::Minutes, true},
                                      {"base64", Function::Kind::Base64, false},
                                      {"default", Function::Kind::Default, true},
                                      {"required", Function::Kind::Required, false},
                                      {"negate", Function::Kind::Negate, false}};
        const Known* match = nullptr;
        for (const Known& k : known)
            if (k.name == name)
                match = &k;
        if (match == nullptr) {
            in.seek(nameOffset);
            in.fail("unknown function `" + name +
                    "` (known: table, lookup, coding, system, oid, resource, as, join, "
                    "components, first, minutes, base64, default, required, negate)");
        }
        if (match->takesArgument != hasArgument)
            in.fail(match->takesArgument ? "`" + name + "` needs an argument in parentheses"
                                         : "`" + name + "` takes no argument");
        f.kind = match->kind;
        if (f.kind == Function::Kind::Minutes) {
            // The argument is a source (the units field); parse it in place.
            std::size_t after = in.offset();
            in.seek(argumentStart);
            f.unitSource = std::make_unique<Source>(parseSource(in));
            in.seek(after);
        } else if (!argument.empty() && argument.front() == '"') {
            std::size_t after = in.offset();
            in.seek(argumentStart);
            argument = in.quoted();
            in.seek(after);
        }
        f.argument = argument;
        functions.push_back(std::move(f));
    }
    return functions;
}

std::string conditionValue(LineCursor& in)
{
    if (in.peek() == '"')
        return in.quoted();
    return in.word("a value to compare with");
}

/// Conditions have one grammar for both directions; only the sources differ (v2 paths and
/// FHIR paths), so the parser is written once over the condition type and a source parser.
template <class C, class SourceParser>
std::unique_ptr<C> parseConditionOf(LineCursor& in, SourceParser source);

template <class C, class SourceParser>
std::unique_ptr<C> parseUnaryOf(LineCursor& in, SourceParser source)
{
    auto condition = std::make_unique<C>();
    if (in.consumeKeyword("not")) {
        auto inner = parseUnaryOf<C>(in, source);
        if (inner->kind == C::Kind::Valued) {
            inner->kind = C::Kind::NotValued;
            return inner;
        }
        condition->kind = C::Kind::Not;
        condition->left = std::move(inner);
        return condition;
    }
    condition->source = source(in);
    if (in.consume("!=")) {
        condition->kind = C::Kind::NotEquals;
        condition->values.push_back(conditionValue(in));
    } else if (in.consume("^=")) {
        condition->kind = C::Kind::StartsWith;
        condition->values.push_back(conditionValue(in));
    } else if (in.consume('=')) {
        condition->kind = C::Kind::Equals;
        condition->values.push_back(conditionValue(in));
    } else if (in.consumeKeyword("in")) {
        condition->kind = C::Kind::In;
        in.expect('(', "`(` after `in`");
        do {
            condition->values.push_back(conditionValue(in));
        } while (in.consume(','));
        in.expect(')', "`)` closing the `in` list");
    }
    return condition;
}

template <class C, class SourceParser>
std::unique_ptr<C> parseAndOf(LineCursor& in, SourceParser source)
{
    auto left = parseUnaryOf<C>(in, source);
    while (in.consumeKeyword("and")) {
        auto node = std::make_unique<C>();
        node->kind = C::Kind::And;
        node->left = std::move(left);
        node->right = parseUnaryOf<C>(in, source);
        left = std::move(node);
    }
    return left;
}

template <class C, class SourceParser>
std::unique_ptr<C> parseConditionOf(LineCursor& in, SourceParser source)
{
    auto left = parseAndOf<C>(in, source);
    while (in.consumeKeyword("or")) {
        auto node = std::make_unique<C>();
        node->kind = C::Kind::Or;
        node->left = std::move(left);
        node->right = parseAndOf<C>(in, source);
        left = std::move(node);
    }
    return left;
}

std::unique_ptr<Condition> parseCondition(LineCursor& in)
{
    return parseConditionOf<Condition>(in, [](LineCursor& cursor) { return parseSource(cursor); });
}

void parseWhen(LineCursor& in, Statement& statement)
{
    if (in.consumeKeyword("when"))
        statement.when = parseCondition(in);
    if (!in.atEnd())
        in.fail("unexpected text at the end of the statement");
}

/// One statement line inside a block (the body lines follow separately).
Statement parseStatement(LineCursor& in, const std::string* file)
{
    Statement statement;
    statement.position = in.position(file);
    std::string_view first = in.peekWord();
    if (first == "key") {
        in.consumeKeyword("key");
        statement.kind = Statement::Kind::Key;
        statement.name = in.word("the key element (e.g. identifier)");
        if (in.consumeKeyword("create"))
            statement.text = "create";
        else if (in.consumeKeyword("match"))
            statement.text = "match";
        if (!in.atEnd())
            in.fail("`key` takes one element name and optionally `create` or `match`");
        return statement;
    }
    if (first == "resource") {
        in.consumeKeyword("resource");
        statement.kind = Statement::Kind::Resource;
        statement.name = in.word("a resource map name");
        statement.binding = statement.name;
        if (in.consumeKeyword("as"))
            statement.binding = in.word("a binding name after `as`");
        parseWhen(in, statement);
        return statement;
    }
    if (first == "each") {
        in.consumeKeyword("each");
        statement.kind = Statement::Kind::Each;
        statement.name = in.word("a segment id or group name after `each`");
        parseWhen(in, statement);
        return statement;
    }
    if (first == "error") {
        in.consumeKeyword("error");
        statement.kind = Statement::Kind::Error;
        statement.text = in.quoted();
        if (!in.consumeKeyword("when"))
            in.fail("`error` needs `when CONDITION`");
        statement.when = parseCondition(in);
        if (!in.atEnd())
            in.fail("unexpected text at the end of the statement");
        return statement;
    }
    // TARGET = EXPR [when C]  |  TARGET [for SOURCE] [when C]
    std::size_t start = in.offset();
    std::string_view rest = in.rest();
    std::size_t i = 0;
    int depth = 0;
    while (i < rest.size() && (depth > 0 || (rest[i] != ' ' && rest[i] != '='))) {
        if (rest[i] == '(')
            ++depth;
        else if (rest[i] == ')')
            --depth;
        ++i;
    }
    statement.targetSpelling = std::string(rest.substr(0, i));
    if (statement.targetSpelling.empty())
        in.fail("expected a target element");
    in.seek(start + i);
    if (in.consume('=')) {
        statement.kind = Statement::Kind::Assign;
        if (in.atEnd())
            in.fail("expected a value after `=`");
        statement.source = parseSource(in);
        statement.functions = parseFunctions(in);
        parseWhen(in, statement);
        return statement;
    }
    statement.kind = Statement::Kind::Block;
    if (in.consumeKeyword("for"))
        statement.source = parseSource(in);
    parseWhen(in, statement);
    return statement;
}

// ---- outbound (FHIR -> v2) ----

std::string_view fhirPathText(LineCursor& in)
{
    in.skipSpaces();
    std::string_view rest = in.rest();
    std::size_t i = 0;
    int depth = 0;
    bool inString = false;
    while (i < rest.size()) {
        char c = rest[i];
        if (inString) {
            if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '[') {
            ++depth;
        } else if (c == ']') {
            --depth;
        } else if (depth == 0 && (c == ' ' || c == '|' || c == ',' || c == ')' || c == '=' ||
                                  (c == '!' && i + 1 < rest.size() && rest[i + 1] == '=') ||
                                  (c == '^' && i + 1 < rest.size() && rest[i + 1] == '='))) {
            break;
        }
        ++i;
    }
    in.seek(in.offset() + i);
    return rest.substr(0, i);
}

FhirSource parseFhirSource(LineCursor& in, const std::string* file)
{
    FhirSource source;
    char c = in.peek();
    if (c == '"') {
        source.kind = FhirSource::Kind::Literal;
        source.text = in.quoted();
        source.spelling = '"' + source.text + '"';
        return source;
    }
    if (c == '$') {
        in.consume('$');
        source.kind = FhirSource::Kind::Variable;
        source.text = in.word("a variable name after `$`");
        source.spelling = "$" + source.text;
        return source;
    }
    SourcePosition at = in.position(file);
    std::string_view text = fhirPathText(in);
    if (text.empty())
        in.fail("expected a FHIR path, a string or a $variable");
    source.spelling = std::string(text);
    if (text[0] == '.') {
        source.kind = FhirSource::Kind::Current;
        text.remove_prefix(1);
    }
    if (!text.empty())
        source.steps = parseFhirPath(text, at);
    return source;
}

std::unique_ptr<OutCondition> parseOutCondition(LineCursor& in, const std::string* file)
{
    return parseConditionOf<OutCondition>(
        in, [file](LineCursor& cursor) { return parseFhirSource(cursor, file); });
}

void parseOutWhen(LineCursor& in, OutStatement& statement, const std::string* file)
{
    if (in.consumeKeyword("when"))
        statement.when = parseOutCondition(in, file);
    if (!in.atEnd())
        in.fail("unexpected text at the end of the statement");
}

/// `N[.C[.S]]` (segments) or `C[.S]` (outtype writers).
void parseV2Position(LineCursor& in, OutStatement& statement, bool inWriter)
{
    std::string spelling = in.word("a v2 position such as 3, 5.1 or 4.2");
    statement.targetSpelling = spelling;
    if (in.rest().size() > 0 && in.rest()[0] == '.') {
        // word() stops at '.', so read the dotted parts.
        while (!in.rest().empty() && in.rest()[0] == '.') {
            in.seek(in.offset() + 1);
            std::string part = in.word("a position number after `.`");
            spelling += "." + part;
        }
        statement.targetSpelling = spelling;
    }
    std::vector<std::uint32_t> numbers;
    std::size_t start = 0;
    while (start <= spelling.size()) {
        std::size_t dot = spelling.find('.', start);
        std::uint32_t n = 0;
        if (!parseNumber(spelling.substr(start, dot - start), n))
            in.fail("a v2 position is numbers joined by `.` (3, 5.1, 4.2.1)");
        numbers.push_back(n);
        if (dot == std::string::npos)
            break;
        start = dot + 1;
    }
    std::size_t limit = inWriter ? 2 : 3;
    if (numbers.size() > limit)
        in.fail(inWriter ? "a writer sets COMPONENT[.SUBCOMPONENT]"
                         : "a position is FIELD[.COMPONENT[.SUBCOMPONENT]]");
    if (inWriter) {
        statement.component = numbers[0];
        statement.subcomponent = numbers.size() > 1 ? numbers[1] : 0;
    } else {
        statement.field = numbers[0];
        statement.component = numbers.size() > 1 ? numbers[1] : 0;
        statement.subcomponent = numbers.size() > 2 ? numbers[2] : 0;
    }
}

OutStatement parseOutStatement(LineCursor& in, const std::string* file, bool inWriter)
{
    OutStatement statement;
    statement.position = in.position(file);
    std::string_view first = in.peekWord();
    if (!inWriter && first == "message") {
        in.consumeKeyword("message");
        statement.kind = OutStatement::Kind::Message;
        statement.code = in.word("the message code (SIU)");
        statement.event = in.word("the trigger event (S12)");
        if (!in.atEnd())
            statement.structure = in.word("the message structure (SIU_S12)");
        if (!in.atEnd())
            in.fail("`message` takes CODE EVENT [STRUCTURE]");
        return statement;
    }
    if (!inWriter && first == "event") {
        in.consumeKeyword("event");
        statement.kind = OutStatement::Kind::Event;
        statement.event = in.word("the trigger event");
        // An optional structure (`event A40 ADT_A39 when ...`); without it the loader takes
        // the event's own structure from the event table.
        if (!in.atEnd() && in.peekWord() != "when")
            statement.structure = in.word("the message structure (ADT_A39)");
        if (!in.consumeKeyword("when"))
            in.fail("`event` needs `when CONDITION` (event EVENT [STRUCTURE] when CONDITION)");
        statement.when = parseOutCondition(in, file);
        if (!in.atEnd())
            in.fail("unexpected text at the end of the statement");
        return statement;
    }
    if (!inWriter && first == "segment") {
        in.consumeKeyword("segment");
        statement.kind = OutStatement::Kind::Segment;
        statement.segment = in.word("a segment id");
        if (in.consumeKeyword("from")) {
            statement.context = parseFhirSource(in, file);
        } else if (in.consumeKeyword("for")) {
            statement.context = parseFhirSource(in, file);
            statement.repeat = true;
        } else {
            statement.context.kind = FhirSource::Kind::Current;
        }
        parseOutWhen(in, statement, file);
        return statement;
    }
    statement.kind = OutStatement::Kind::Field;
    parseV2Position(in, statement, inWriter);
    if (!in.consume('='))
        in.fail("expected `=` after the v2 position");
    statement.source = parseFhirSource(in, file);
    statement.functions = parseFunctions(in);
    parseOutWhen(in, statement, file);
    return statement;
}

struct Line {
    unsigned number;
    unsigned indent;
    std::string_view text;
};

std::vector<Line> logicalLines(std::string_view text, const std::string& file)
{
    std::vector<Line> lines;
    unsigned number = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        ++number;
        pos = end + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        unsigned indent = 0;
        while (indent < line.size() && line[indent] == ' ')
            ++indent;
        if (indent < line.size() && line[indent] == '\t')
            throw MappingLoadError(file, number, indent + 1, "tab in indentation (use two spaces)");
        std::string_view content = line.substr(indent);
        // A comment starts at `#` outside a string.
        bool inString = false;
        for (std::size_t i = 0; i < content.size(); ++i) {
            if (content[i] == '"' && (i == 0 || content[i - 1] != '\\'))
                inString = !inString;
            else if (content[i] == '#' && !inString && (i == 0 || content[i - 1] == ' ')) {
                content = content.substr(0, i);
                break;
            }
        }
        while (!content.empty() && (content.back() == ' ' || content.back() == '\t'))
            content.remove_suffix(1);
        if (content.empty())
            continue;
        if (indent % 2 != 0)
            throw MappingLoadError(file, number, indent + 1, "indentation is two spaces per level");
        lines.push_back({number, indent, content});
        if (end == text.size())
            break;
    }
    return lines;
}

class FileParser {
  public:
    FileParser(std::vector<Line> lines, const std::string* file)
        : lines_(std::move(lines)), file_(file)
    {
    }

    void parse(ParsedFile& out)
    {
        while (next_ < lines_.size()) {
            const Line& line = lines_[next_];
            LineCursor in(line.text, *file_, line.number, line.indent);
            if (line.indent != 0)
                in.fail("a block starts at column 1 with `type`, `resource` or `message`");
            ++next_;
            std::string head = in.word("`type`, `resource` or `message`");
            SourcePosition position{file_, line.number, 1};
            if (head == "type") {
                TypeMap map;
                map.position = position;
                while (!in.consume("->")) {
                    if (in.atEnd())
                        in.fail("expected `-> FHIRTYPE` (e.g. type CX -> Identifier)");
                    map.v2Types.push_back(in.word("a v2 data type"));
                }
                if (map.v2Types.empty())
                    in.fail("expected a v2 data type before `->`");
                map.fhirType = in.word("a FHIR data type after `->`");
                endOfHeader(in);
                map.body = body(2);
                out.types.push_back(std::move(map));
            } else if (head == "resource") {
                ResourceMap map;
                map.position = position;
                map.name = in.word("a resource map name");
                if (!in.consume("->"))
                    in.fail("expected `-> ResourceType` (e.g. resource patient -> Patient)");
                map.resourceType = in.word("a FHIR resource type after `->`");
                endOfHeader(in);
                map.body = body(2);
                out.resources.push_back(std::move(map));
            } else if (head == "outtype") {
                OutType map;
                map.position = position;
                map.fhirType = in.word("a FHIR data type");
                if (!in.consume("->"))
                    in.fail("expected `-> V2TYPE` (e.g. outtype Identifier -> CX)");
                while (!in.atEnd())
                    map.v2Types.push_back(in.word("a v2 data type"));
                if (map.v2Types.empty())
                    in.fail("expected a v2 data type after `->`");
                map.body = outBody(2, true);
                out.outtypes.push_back(std::move(map));
            } else if (head == "outbound") {
                OutboundMap map;
                map.position = position;
                map.name = in.word("an outbound map name");
                if (!in.consumeKeyword("for"))
                    in.fail("expected `for ResourceType` (e.g. outbound appointment-siu for "
                            "Appointment)");
                map.resourceType = in.word("a FHIR resource type");
                endOfHeader(in);
                map.body = outBody(2, false);
                out.outbounds.push_back(std::move(map));
            } else if (head == "message") {
                MessageMap map;
                map.position = position;
                map.name = in.word("a message map name");
                if (!in.consumeKeyword("for"))
                    in.fail("expected `for` and the message types (e.g. message adt for ADT^A01 "
                            "ADT^A04)");
                while (!in.atEnd())
                    map.triggers.push_back(in.word("a message type such as ADT^A01"));
                if (map.triggers.empty())
                    in.fail("expected at least one message type after `for`");
                map.body = body(2);
                out.messages.push_back(std::move(map));
            } else {
                in.seek(0);
                in.fail("a block starts with `type`, `resource`, `message`, `outtype` or "
                        "`outbound`, not `" +
                        head + "`");
            }
        }
    }

  private:
    std::vector<OutStatement> outBody(unsigned indent, bool inWriter)
    {
        std::vector<OutStatement> statements;
        while (next_ < lines_.size() && lines_[next_].indent >= indent) {
            const Line& line = lines_[next_];
            LineCursor in(line.text, *file_, line.number, line.indent);
            if (line.indent != indent)
                in.fail("indented too far (expected " + std::to_string(indent) + " spaces)");
            ++next_;
            OutStatement statement = parseOutStatement(in, file_, inWriter);
            if (statement.kind == OutStatement::Kind::Segment) {
                statement.body = outBody(indent + 2, false);
                if (statement.body.empty())
                    in.fail("`segment` needs indented field statements below it");
            } else if (next_ < lines_.size() && lines_[next_].indent > indent) {
                throw MappingLoadError(*file_, lines_[next_].number, lines_[next_].indent + 1,
                                       "this statement cannot have indented statements below it");
            }
            statements.push_back(std::move(statement));
        }
        return statements;
    }

    void endOfHeader(LineCursor& in)
    {
        if (!in.atEnd())
            in.fail("unexpected text after the block header");
    }

    std::vector<Statement> body(unsigned indent)
    {
        std::vector<Statement> statements;
        while (next_ < lines_.size() && lines_[next_].indent >= indent) {
            const Line& line = lines_[next_];
            LineCursor in(line.text, *file_, line.number, line.indent);
            if (line.indent != indent)
                in.fail("indented too far (expected " + std::to_string(indent) + " spaces)");
            ++next_;
            Statement statement = parseStatement(in, file_);
            statement.body = body(indent + 2);
            bool needsBody =
                statement.kind == Statement::Kind::Block || statement.kind == Statement::Kind::Each;
            bool takesBody = needsBody || statement.kind == Statement::Kind::Assign;
            if (needsBody && statement.body.empty())
                throw MappingLoadError(*file_, line.number, line.indent + 1,
                                       "`" + std::string(line.text.substr(0, line.text.find(' '))) +
                                           "` needs indented statements below it");
            if (!takesBody && !statement.body.empty())
                throw MappingLoadError(*file_, statement.body.front().position.line,
                                       statement.body.front().position.column,
                                       "this statement cannot have indented statements below it");
            statements.push_back(std::move(statement));
        }
        return statements;
    }

    std::vector<Line> lines_;
    const std::string* file_;
    std::size_t next_ = 0;
};

} // namespace

ParsedFile parseMapFile(std::string_view text, std::shared_ptr<const std::string> path)
{
    ParsedFile out;
    out.path = path;
    FileParser parser(logicalLines(text, *path), path.get());
    parser.parse(out);
    return out;
}

std::vector<FhirStep> parseFhirPath(std::string_view text, const SourcePosition& at)
{
    auto fail = [&](const std::string& what) {
        throw MappingLoadError(at.file ? *at.file : std::string(), at.line, at.column,
                               "`" + std::string(text) + "`: " + what);
    };
    std::vector<FhirStep> steps;
    std::size_t i = 0;
    while (i < text.size()) {
        FhirStep step;
        std::size_t start = i;
        while (i < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_'))
            ++i;
        step.name = std::string(text.substr(start, i - start));
        if (step.name.empty())
            fail("expected an element name at character " + std::to_string(i + 1));
        if (i < text.size() && text[i] == '[') {
            std::size_t close = text.find(']', i);
            if (close == std::string_view::npos)
                fail("`[` not closed");
            std::string_view inner = text.substr(i + 1, close - i - 1);
            i = close + 1;
            if (!inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
                    return std::isdigit(static_cast<unsigned char>(c));
                })) {
                step.index = std::atoi(std::string(inner).c_str());
            } else {
                std::size_t eq = inner.find('=');
                step.filterPath = parseFhirPath(inner.substr(0, eq), at);
                if (eq != std::string_view::npos) {
                    std::string_view value = inner.substr(eq + 1);
                    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                        value = value.substr(1, value.size() - 2);
                    step.filterValue = std::string(value);
                    step.filterHasValue = true;
                }
            }
        }
        if (text.substr(i, 2) == "->") {
            i += 2;
            std::size_t typeStart = i;
            while (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i])))
                ++i;
            step.follow = std::string(text.substr(typeStart, i - typeStart));
            if (step.follow.empty())
                fail("expected a resource type after `->`");
        }
        steps.push_back(std::move(step));
        if (i < text.size()) {
            if (text[i] != '.')
                fail("unexpected `" + std::string(1, text[i]) + "`");
            ++i;
        }
    }
    return steps;
}

std::vector<std::string> splitTarget(std::string_view spelling)
{
    std::vector<std::string> steps;
    std::string current;
    int depth = 0;
    for (char c : spelling) {
        if (c == '(')
            ++depth;
        else if (c == ')')
            --depth;
        if (c == '.' && depth == 0) {
            steps.push_back(std::move(current));
            current.clear();
        } else {
            current += c;
        }
    }
    steps.push_back(std::move(current));
    return steps;
}

} // namespace hl7gw::mapping::detail
