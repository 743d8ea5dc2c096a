#include "gateway/hl7v2/structure_table.h"

#include <Poco/Bugcheck.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <sstream>

namespace hl7gw::hl7v2 {

namespace detail {
// Generated from gateway/hl7v2/data/*.txt by scripts/embed_text.cmake.
extern const std::string_view structureTableText;
extern const std::string_view segmentTableText;
extern const std::string_view dataTypeTableText;
extern const std::string_view eventTableText;
extern const std::string_view codeTableText;
} // namespace detail

namespace {

struct Line {
    std::uint32_t number;
    bool indented;
    std::string_view text; // comment and surrounding blanks removed
};

std::string_view trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

// Splits a data file into its meaningful lines; `#` starts a comment everywhere except
// inside a double-quoted value.
std::vector<Line> readLines(std::string_view text)
{
    std::vector<Line> lines;
    std::uint32_t number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view raw = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        ++number;
        bool quoted = false;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '"') {
                quoted = !quoted;
            } else if (raw[i] == '#' && !quoted) {
                raw = raw.substr(0, i);
                break;
            }
        }
        const std::string_view content = trim(raw);
        if (!content.empty()) {
            const bool indented = raw.front() == ' ' || raw.front() == '\t';
            lines.push_back(Line{number, indented, content});
        }
    }
    return lines;
}

std::vector<std::string> words(std::string_view s)
{
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        if (std::isspace(static_cast<unsigned char>(s[i])) != 0) {
            ++i;
            continue;
        }
        if (s[i] == '"') {
            const std::size_t close = s.find('"', i + 1);
            const std::size_t stop = close == std::string_view::npos ? s.size() : close;
            out.emplace_back(s.substr(i + 1, stop - i - 1));
            i = stop + 1;
            continue;
        }
        std::size_t j = i;
        while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j])) == 0) {
            ++j;
        }
        out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

bool isName(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
}

class ProblemSink {
public:
    ProblemSink(core::IssueList* problems, std::string file)
        : problems_(problems), file_(std::move(file))
    {
    }

    void report(std::uint32_t line, const std::string& text)
    {
        if (problems_ == nullptr) {
            return;
        }
        core::Location loc;
        loc.path = file_ + ":" + std::to_string(line);
        loc.line = line;
        problems_->add(core::Severity::Error, "100", loc, text);
    }

private:
    core::IssueList* problems_;
    std::string file_;
};

// ---- structures.txt: the abstract message syntax of STANDARDS.md §2.2 ----

class StructureParser {
public:
    StructureParser(std::vector<std::pair<std::string, std::uint32_t>> tokens, ProblemSink& sink)
        : tokens_(std::move(tokens)), sink_(sink)
    {
    }

    bool parse(std::vector<StructureNode>& out)
    {
        while (pos_ < tokens_.size()) {
            if (!parseElement(out)) {
                return false;
            }
        }
        return true;
    }

private:
    const std::string& peek(std::size_t ahead = 0) const
    {
        static const std::string none;
        return pos_ + ahead < tokens_.size() ? tokens_[pos_ + ahead].first : none;
    }

    bool fail(const std::string& text)
    {
        const std::uint32_t line = tokens_.empty()
                                       ? 0
                                       : tokens_[std::min(pos_, tokens_.size() - 1)].second;
        sink_.report(line, text);
        return false;
    }

    bool expect(const char* token)
    {
        if (peek() != token) {
            return fail(std::string("expected '") + token + "', found '" + peek() + "'");
        }
        ++pos_;
        return true;
    }

    // element := SEG | <A|B> | [inner] | [{inner}] | {inner}
    bool parseElement(std::vector<StructureNode>& out)
    {
        const std::string token = peek();
        if (token == "[") {
            ++pos_;
            if (peek() == "{") {
                ++pos_;
                if (!parseInner(out, false, true, "}")) {
                    return false;
                }
                return expect("]");
            }
            return parseInner(out, false, false, "]");
        }
        if (token == "{") {
            ++pos_;
            return parseInner(out, true, true, "}");
        }
        if (token == "<") {
            ++pos_;
            // A choice of one segment: kept as optional alternatives (lenient).
            for (;;) {
                if (!isName(peek())) {
                    return fail("expected a segment id in a choice, found '" + peek() + "'");
                }
                StructureNode node;
                node.name = peek();
                ++pos_;
                out.push_back(std::move(node));
                if (peek() == ">") {
                    ++pos_;
                    return true;
                }
                if (!expect("|")) {
                    return false;
                }
            }
        }
        if (isName(token) && peek(1) != ":") {
            StructureNode node;
            node.name = token;
            node.required = true;
            ++pos_;
            out.push_back(std::move(node));
            return true;
        }
        return fail("unexpected '" + token + "'");
    }

    // inner := NAME ':' element... | element ; then the closing bracket
    bool parseInner(std::vector<StructureNode>& out, bool required, bool repeating,
                    const char* close)
    {
        if (isName(peek()) && peek(1) == ":") {
            StructureNode group;
            group.kind = StructureNode::Kind::Group;
            group.name = peek();
            group.required = required;
            group.repeating = repeating;
            pos_ += 2;
            while (pos_ < tokens_.size() && peek() != close) {
                if (!parseElement(group.children)) {
                    return false;
                }
            }
            if (group.children.empty()) {
                return fail("group " + group.name + " is empty");
            }
            out.push_back(std::move(group));
            return expect(close);
        }
        std::vector<StructureNode> single;
        if (!parseElement(single)) {
            return false;
        }
        if (single.size() != 1 || peek() != close) {
            return fail("a bracket holding more than one element needs a group name");
        }
        StructureNode& node = single.front();
        node.required = node.required && required;
        node.repeating = node.repeating || repeating;
        out.push_back(std::move(node));
        return expect(close);
    }

    std::vector<std::pair<std::string, std::uint32_t>> tokens_;
    ProblemSink& sink_;
    std::size_t pos_ = 0;
};

std::vector<std::pair<std::string, std::uint32_t>> tokenize(const std::vector<Line>& lines)
{
    std::vector<std::pair<std::string, std::uint32_t>> tokens;
    for (const Line& line : lines) {
        std::string_view t = line.text;
        std::size_t i = 0;
        while (i < t.size()) {
            const char c = t[i];
            if (std::isspace(static_cast<unsigned char>(c)) != 0) {
                ++i;
            } else if (std::string_view("[]{}<>|:=").find(c) != std::string_view::npos) {
                tokens.emplace_back(std::string(1, c), line.number);
                ++i;
            } else {
                std::size_t j = i;
                while (j < t.size() && std::isspace(static_cast<unsigned char>(t[j])) == 0 &&
                       std::string_view("[]{}<>|:=").find(t[j]) == std::string_view::npos) {
                    ++j;
                }
                tokens.emplace_back(std::string(t.substr(i, j - i)), line.number);
                i = j;
            }
        }
    }
    return tokens;
}

std::vector<std::string> expandRange(const std::string& value)
{
    const std::size_t dots = value.find("..");
    if (dots == std::string::npos) {
        return {value};
    }
    const std::string from = value.substr(0, dots);
    const std::string to = value.substr(dots + 2);
    // A01..A62: same prefix and width; the last character may also run through letters
    // (PCA..PCL).
    if (from.size() != to.size() || from.empty()) {
        return {};
    }
    std::size_t digitsFrom = from.size();
    while (digitsFrom > 0 && std::isdigit(static_cast<unsigned char>(from[digitsFrom - 1])) != 0) {
        --digitsFrom;
    }
    std::vector<std::string> out;
    if (digitsFrom < from.size() && from.substr(0, digitsFrom) == to.substr(0, digitsFrom)) {
        int a = 0;
        int b = 0;
        std::from_chars(from.data() + digitsFrom, from.data() + from.size(), a);
        std::from_chars(to.data() + digitsFrom, to.data() + to.size(), b);
        const std::size_t width = from.size() - digitsFrom;
        for (int n = a; n <= b; ++n) {
            std::string number = std::to_string(n);
            number.insert(0, width > number.size() ? width - number.size() : 0, '0');
            out.push_back(from.substr(0, digitsFrom) + number);
        }
        return out;
    }
    if (from.substr(0, from.size() - 1) == to.substr(0, to.size() - 1)) {
        for (char c = from.back(); c <= to.back(); ++c) {
            out.push_back(from.substr(0, from.size() - 1) + c);
        }
    }
    return out;
}

} // namespace

bool CodeTable::contains(std::string_view value) const
{
    return std::binary_search(values.begin(), values.end(), value,
                              [](std::string_view a, std::string_view b) { return a < b; });
}

struct StructureTable::Impl {
    std::map<std::string, MessageStructure, std::less<>> structures;
    std::map<std::string, SegmentDefinition, std::less<>> segments;
    std::map<std::string, DataTypeDefinition, std::less<>> dataTypes;
    std::map<std::string, std::string, std::less<>> events; // "ADT^A04" -> "ADT_A01"
    std::map<std::string, CodeTable, std::less<>> tables;

    void loadStructures(std::string_view text, ProblemSink& sink);
    void loadSegments(std::string_view text, ProblemSink& sink);
    void loadDataTypes(std::string_view text, ProblemSink& sink);
    void loadEvents(std::string_view text, ProblemSink& sink);
    void loadTables(std::string_view text, ProblemSink& sink);
};

void StructureTable::Impl::loadStructures(std::string_view text, ProblemSink& sink)
{
    const std::vector<Line> lines = readLines(text);
    std::size_t i = 0;
    while (i < lines.size()) {
        if (lines[i].indented) {
            sink.report(lines[i].number, "continuation line outside a structure");
            ++i;
            continue;
        }
        std::vector<Line> block{lines[i]};
        for (++i; i < lines.size() && lines[i].indented; ++i) {
            block.push_back(lines[i]);
        }
        auto tokens = tokenize(block);
        if (tokens.size() < 3 || !isName(tokens[0].first) || tokens[1].first != "=") {
            sink.report(block.front().number, "expected 'NAME = MSH ...'");
            continue;
        }
        MessageStructure structure;
        structure.name = tokens[0].first;
        tokens.erase(tokens.begin(), tokens.begin() + 2);
        StructureParser parser(std::move(tokens), sink);
        if (parser.parse(structure.children)) {
            std::string name = structure.name;
            structures[name] = std::move(structure);
        }
    }
}

void StructureTable::Impl::loadSegments(std::string_view text, ProblemSink& sink)
{
    SegmentDefinition* current = nullptr;
    for (const Line& line : readLines(text)) {
        if (!line.indented) {
            const std::string_view id = line.text.substr(0, line.text.find(' '));
            if (id.size() != 3 || !isName(id)) {
                sink.report(line.number, "expected a segment id and name");
                current = nullptr;
                continue;
            }
            SegmentDefinition& def = segments[std::string(id)];
            def.id = std::string(id);
            def.name = std::string(trim(line.text.substr(id.size())));
            def.fields.clear();
            current = &def;
            continue;
        }
        if (current == nullptr) {
            sink.report(line.number, "field line outside a segment");
            continue;
        }
        // SEQ TYPE OPT REP TABLE NAME...
        std::istringstream in{std::string(line.text)};
        std::size_t seq = 0;
        FieldDefinition field;
        std::string opt;
        std::string rep;
        in >> seq >> field.dataType >> opt >> rep >> field.table;
        std::getline(in, field.name);
        field.name = std::string(trim(field.name));
        if (!in.eof() && in.fail()) {
            sink.report(line.number, "expected SEQ TYPE OPT REP TABLE NAME");
            continue;
        }
        if (seq != current->fields.size() + 1) {
            sink.report(line.number, current->id + ": field " + std::to_string(seq) +
                                         " out of sequence");
            continue;
        }
        if (opt.size() > 1 && opt[0] == 'R') {
            field.required = true;
            field.requiredSince = opt.substr(1);
        } else if (opt == "R") {
            field.required = true;
        } else if (opt != "O" && opt != "C" && opt != "B" && opt != "X") {
            sink.report(line.number, "OPT must be R, R<version>, O, C, B or X");
            continue;
        }
        if (rep == "*") {
            field.repeating = true;
            field.maxRepetitions = 0;
        } else {
            std::uint32_t max = 0;
            const auto [ptr, ec] = std::from_chars(rep.data(), rep.data() + rep.size(), max);
            if (ec != std::errc() || ptr != rep.data() + rep.size() || max == 0) {
                sink.report(line.number, "REP must be *, or a count from 1");
                continue;
            }
            field.repeating = max > 1;
            field.maxRepetitions = max;
        }
        if (field.table == "-") {
            field.table.clear();
        }
        current->fields.push_back(std::move(field));
    }
}

void StructureTable::Impl::loadDataTypes(std::string_view text, ProblemSink& sink)
{
    for (const Line& line : readLines(text)) {
        const std::vector<std::string> w = words(line.text);
        if (!w.empty() && w[0] == "primitive") {
            for (std::size_t i = 1; i < w.size(); ++i) {
                dataTypes[w[i]] = DataTypeDefinition{w[i], {}};
            }
            continue;
        }
        if (w.size() < 3 || w[1] != "=" || !isName(w[0])) {
            sink.report(line.number, "expected 'primitive NAME...' or 'NAME = TYPE...'");
            continue;
        }
        dataTypes[w[0]] = DataTypeDefinition{w[0], std::vector<std::string>(w.begin() + 2, w.end())};
    }
}

void StructureTable::Impl::loadEvents(std::string_view text, ProblemSink& sink)
{
    for (const Line& line : readLines(text)) {
        const std::vector<std::string> w = words(line.text);
        if (w.size() < 3) {
            sink.report(line.number, "expected STRUCTURE CODE EVENT...");
            continue;
        }
        for (std::size_t i = 2; i < w.size(); ++i) {
            events[w[1] + '^' + w[i]] = w[0];
        }
    }
}

void StructureTable::Impl::loadTables(std::string_view text, ProblemSink& sink)
{
    CodeTable* current = nullptr;
    for (const Line& line : readLines(text)) {
        const std::vector<std::string> w = words(line.text);
        if (!line.indented) {
            if (w.size() < 3 || w[0] != "table" || (w[2] != "hl7" && w[2] != "user")) {
                sink.report(line.number, "expected 'table NUMBER hl7|user NAME'");
                current = nullptr;
                continue;
            }
            CodeTable& table = tables[w[1]];
            table.number = w[1];
            table.hl7Defined = w[2] == "hl7";
            table.name.clear();
            for (std::size_t i = 3; i < w.size(); ++i) {
                table.name += (i > 3 ? " " : "") + w[i];
            }
            current = &table;
            continue;
        }
        if (current == nullptr) {
            sink.report(line.number, "values outside a table");
            continue;
        }
        for (const std::string& value : w) {
            const std::vector<std::string> expanded = expandRange(value);
            if (expanded.empty()) {
                sink.report(line.number, "range '" + value + "' cannot be expanded");
            }
            current->values.insert(current->values.end(), expanded.begin(), expanded.end());
        }
    }
    for (auto& [number, table] : tables) {
        std::sort(table.values.begin(), table.values.end());
    }
}

StructureTable::StructureTable(const StructureTableSources& sources, core::IssueList* problems)
    : impl_(std::make_unique<Impl>())
{
    ProblemSink structures(problems, "structures.txt");
    ProblemSink segments(problems, "segments.txt");
    ProblemSink dataTypes(problems, "datatypes.txt");
    ProblemSink events(problems, "events.txt");
    ProblemSink tables(problems, "tables.txt");
    impl_->loadStructures(sources.structures, structures);
    impl_->loadSegments(sources.segments, segments);
    impl_->loadDataTypes(sources.dataTypes, dataTypes);
    impl_->loadEvents(sources.events, events);
    impl_->loadTables(sources.tables, tables);
}

StructureTable::~StructureTable() = default;
StructureTable::StructureTable(StructureTable&&) noexcept = default;
StructureTable& StructureTable::operator=(StructureTable&&) noexcept = default;

const StructureTable& StructureTable::builtin()
{
    static const StructureTable table = [] {
        core::IssueList problems;
        StructureTable t(StructureTableSources{detail::structureTableText,
                                               detail::segmentTableText,
                                               detail::dataTypeTableText, detail::eventTableText,
                                               detail::codeTableText},
                         &problems);
        if (!problems.empty()) {
            poco_bugcheck_msg(("compiled-in structure data: " + problems[0].location.toString() +
                               ": " + problems[0].text)
                                  .c_str());
        }
        return t;
    }();
    return table;
}

const MessageStructure* StructureTable::structure(std::string_view name) const
{
    const auto it = impl_->structures.find(name);
    return it == impl_->structures.end() ? nullptr : &it->second;
}

const SegmentDefinition* StructureTable::segment(std::string_view id) const
{
    const auto it = impl_->segments.find(id);
    return it == impl_->segments.end() ? nullptr : &it->second;
}

const DataTypeDefinition* StructureTable::dataType(std::string_view name) const
{
    const auto it = impl_->dataTypes.find(name);
    return it == impl_->dataTypes.end() ? nullptr : &it->second;
}

std::string StructureTable::structureFor(std::string_view code, std::string_view trigger,
                                         std::string_view declared) const
{
    if (!declared.empty()) {
        return std::string(declared);
    }
    std::string key(code);
    key += '^';
    key += trigger;
    auto it = impl_->events.find(key);
    if (it == impl_->events.end()) {
        it = impl_->events.find(std::string(code) + "^*");
    }
    return it == impl_->events.end() ? std::string() : it->second;
}

const CodeTable* StructureTable::codeTable(std::string_view number) const
{
    const auto it = impl_->tables.find(number);
    return it == impl_->tables.end() ? nullptr : &it->second;
}

namespace {
template <typename Map> std::vector<std::string> keysOf(const Map& map)
{
    std::vector<std::string> keys;
    keys.reserve(map.size());
    for (const auto& [key, value] : map) {
        keys.push_back(key);
    }
    return keys;
}
} // namespace

std::vector<std::string> StructureTable::structureNames() const
{
    return keysOf(impl_->structures);
}

std::vector<std::string> StructureTable::segmentIds() const
{
    return keysOf(impl_->segments);
}

std::vector<std::string> StructureTable::dataTypeNames() const
{
    return keysOf(impl_->dataTypes);
}

} // namespace hl7gw::hl7v2
