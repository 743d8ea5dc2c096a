#include "gateway/mapping/code_tables.h"

#include "gateway/mapping/detail/data_files.h"

#include "gateway/mapping/mapping_error.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace hl7gw::mapping {
namespace {

std::string asciiLower(std::string_view text)
{
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::string_view trimmed(std::string_view text)
{
    const std::size_t first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

/// Columns count characters, not bytes, so they match what an editor shows for Chinese text.
unsigned columnOf(std::string_view line, std::size_t byteOffset)
{
    unsigned column = 1;
    for (std::size_t i = 0; i < byteOffset && i < line.size(); ++i) {
        if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) {
            ++column;
        }
    }
    return column;
}

/// Table names appear in map files as `table(NAME)`, so they keep to a plain token.
bool isTableName(std::string_view name)
{
    if (name.empty()) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

std::string extensionOf(const std::string& path)
{
    return asciiLower(std::filesystem::path(path).extension().string());
}

/// Files of one kind in a folder, sorted so that load order (and so which of two clashing
/// files is named first) does not depend on the file system.
std::vector<std::string> filesWithExtension(const std::filesystem::path& dir,
                                            std::string_view extension)
{
    std::vector<std::string> files;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        return files;
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.is_regular_file() && asciiLower(entry.path().extension().string()) == extension) {
            files.push_back(entry.path().generic_string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace

// --- CodeTable --------------------------------------------------------------------------------

const MappedCode* CodeTable::lookup(std::string_view code) const
{
    if (const auto exact = index_.find(code); exact != index_.end()) {
        return &rows_[exact->second].second;
    }
    // v2 senders disagree on case for the same table value (0278 `Booked` vs `BOOKED`).
    if (const auto folded = folded_.find(asciiLower(code)); folded != folded_.end()) {
        return &rows_[folded->second].second;
    }
    return hasDefault_ ? &default_ : nullptr;
}

const std::string* CodeTable::reverse(std::string_view targetCode) const
{
    for (const auto& [source, target] : rows_) {
        if (target.code == targetCode) {
            return &source;
        }
    }
    return nullptr;
}

// --- TSV --------------------------------------------------------------------------------------

namespace {

/// Builds one table from TSV text line by line, with the position of every problem.
class TsvReader {
  public:
    explicit TsvReader(const std::string& origin) : origin_(origin) {}

    void readLine(std::string_view line, unsigned number);
    void finish(std::string_view defaultName);

    std::string name;
    std::string system;
    std::string sourceSystem;
    unsigned nameLine = 0;
    std::vector<std::pair<std::string, MappedCode>> rows;
    std::vector<unsigned> rowLines;
    MappedCode defaultRow;
    bool hasDefault = false;

  private:
    [[noreturn]] void fail(unsigned line, unsigned column, const std::string& text) const
    {
        throw MappingLoadError(origin_, line, column, text);
    }
    void readHeader(std::string_view comment, unsigned number);
    void setHeader(std::string& field, std::string_view value, std::string_view key,
                   unsigned number);
    void readRow(std::string_view line, unsigned number);

    const std::string& origin_;
    std::map<std::string, unsigned, std::less<>> seen_; // source code -> line
};

void TsvReader::setHeader(std::string& field, std::string_view value, std::string_view key,
                          unsigned number)
{
    if (!field.empty()) {
        fail(number, 1, "'# " + std::string(key) + ":' given twice");
    }
    if (value.empty()) {
        fail(number, 1, "'# " + std::string(key) + ":' needs a value");
    }
    field = std::string(value);
}

void TsvReader::readHeader(std::string_view comment, unsigned number)
{
    const std::string_view body = trimmed(comment.substr(1));
    const std::size_t colon = body.find(':');
    if (colon == std::string_view::npos) {
        return;
    }
    const std::string_view key = trimmed(body.substr(0, colon));
    const std::string_view value = trimmed(body.substr(colon + 1));
    if (key == "table") {
        setHeader(name, value, key, number);
        if (!isTableName(name)) {
            fail(number, 1, "table name may hold only letters, digits, '-', '_' and '.'");
        }
        nameLine = number;
    } else if (key == "system") {
        setHeader(system, value, key, number);
    } else if (key == "source-system") {
        setHeader(sourceSystem, value, key, number);
    }
}

void TsvReader::readRow(std::string_view line, unsigned number)
{
    std::vector<std::string_view> cells;
    std::vector<std::size_t> starts;
    std::size_t start = 0;
    while (true) {
        const std::size_t tab = line.find('\t', start);
        cells.push_back(
            trimmed(line.substr(start, tab == std::string_view::npos ? tab : tab - start)));
        starts.push_back(start);
        if (tab == std::string_view::npos) {
            break;
        }
        start = tab + 1;
    }
    if (cells.size() > 4) {
        fail(number, columnOf(line, starts[4]),
             "a row has at most four columns: SOURCE, TARGET, DISPLAY, SYSTEM");
    }
    if (cells[0].empty()) {
        fail(number, 1, "the source code is empty");
    }
    if (cells.size() < 2 || cells[1].empty()) {
        fail(number, cells.size() < 2 ? columnOf(line, line.size()) : columnOf(line, starts[1]),
             "the target code is missing (columns are separated by tabs)");
    }
    MappedCode target{std::string(cells[1]), cells.size() > 2 ? std::string(cells[2]) : "",
                      cells.size() > 3 ? std::string(cells[3]) : ""};
    if (cells[0] == "*") {
        if (hasDefault) {
            fail(number, 1, "a second '*' row");
        }
        hasDefault = true;
        defaultRow = std::move(target);
        return;
    }
    const auto [previous, inserted] = seen_.emplace(std::string(cells[0]), number);
    if (!inserted) {
        fail(number, 1,
             "the source code is already mapped on line " + std::to_string(previous->second));
    }
    rows.emplace_back(std::string(cells[0]), std::move(target));
}

void TsvReader::readLine(std::string_view line, unsigned number)
{
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    if (trimmed(line).empty()) {
        return;
    }
    if (line[0] == '#') {
        readHeader(line, number);
        return;
    }
    readRow(line, number);
}

void TsvReader::finish(std::string_view defaultName)
{
    if (name.empty()) {
        name = std::string(defaultName);
        if (!isTableName(name)) {
            fail(0, 0, "no '# table:' line and the file name is not a valid table name");
        }
    }
    // `# system:` may come after rows; rows without their own system take it now.
    for (auto& [source, target] : rows) {
        if (target.system.empty()) {
            target.system = system;
        }
    }
    if (hasDefault && defaultRow.system.empty()) {
        defaultRow.system = system;
    }
}

/// Fills the indexes of a table whose rows are complete.
void indexRows(std::vector<std::pair<std::string, MappedCode>>& rows,
               std::map<std::string, std::size_t, std::less<>>& index,
               std::map<std::string, std::size_t, std::less<>>& folded)
{
    for (std::size_t i = 0; i < rows.size(); ++i) {
        index.emplace(rows[i].first, i);
        // The first row wins when two codes differ only in case; exact matches still find both.
        folded.emplace(asciiLower(rows[i].first), i);
    }
}

} // namespace

// --- ConceptMap -------------------------------------------------------------------------------

namespace {

/// Reads an R4 ConceptMap resource (FHIR R4 ConceptMap: group, element, target, unmapped).
/// RapidJSON's DOM keeps no positions, so problems found after parsing name the JSON pointer
/// and no line.
class ConceptMapReader {
  public:
    explicit ConceptMapReader(const std::string& origin) : origin_(origin) {}

    void read(const rapidjson::Value& root);

    std::string name;
    std::string targetSystem;
    std::string sourceSystem;
    std::vector<std::pair<std::string, MappedCode>> rows;
    MappedCode defaultRow;
    bool hasDefault = false;

  private:
    [[noreturn]] void fail(const std::string& pointer, const std::string& text) const
    {
        throw MappingLoadError(origin_, 0, 0, pointer + ": " + text);
    }
    std::string optionalString(const rapidjson::Value& object, const char* key,
                               const std::string& pointer) const;
    const rapidjson::Value* optionalArray(const rapidjson::Value& object, const char* key,
                                          const std::string& pointer) const;
    void readGroup(const rapidjson::Value& group, const std::string& pointer);
    void readElement(const rapidjson::Value& element, const std::string& system,
                     const std::string& pointer);
    void readUnmapped(const rapidjson::Value& unmapped, const std::string& system,
                      const std::string& pointer);

    const std::string& origin_;
    std::map<std::string, std::string, std::less<>> seen_; // source code -> pointer
};

std::string ConceptMapReader::optionalString(const rapidjson::Value& object, const char* key,
                                             const std::string& pointer) const
{
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd()) {
        return {};
    }
    if (!it->value.IsString()) {
        fail(pointer + '/' + key, "expected a string");
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

const rapidjson::Value* ConceptMapReader::optionalArray(const rapidjson::Value& object,
                                                        const char* key,
                                                        const std::string& pointer) const
{
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd()) {
        return nullptr;
    }
    if (!it->value.IsArray()) {
        fail(pointer + '/' + key, "expected an array");
    }
    return &it->value;
}

void ConceptMapReader::read(const rapidjson::Value& root)
{
    if (!root.IsObject()) {
        fail("", "expected a ConceptMap resource (a JSON object)");
    }
    if (optionalString(root, "resourceType", "") != "ConceptMap") {
        fail("/resourceType", "expected \"ConceptMap\"");
    }
    name = optionalString(root, "name", "");
    if (name.empty()) {
        name = optionalString(root, "id", "");
    }
    if (!isTableName(name)) {
        fail("/name", "the table name (name, else id) is missing or not a plain token of "
                      "letters, digits, '-', '_' and '.'");
    }
    const rapidjson::Value* groups = optionalArray(root, "group", "");
    if (groups == nullptr || groups->Empty()) {
        fail("/group", "a ConceptMap used as a code table needs at least one group");
    }
    for (rapidjson::SizeType i = 0; i < groups->Size(); ++i) {
        readGroup((*groups)[i], "/group/" + std::to_string(i));
    }
}

void ConceptMapReader::readGroup(const rapidjson::Value& group, const std::string& pointer)
{
    if (!group.IsObject()) {
        fail(pointer, "expected an object");
    }
    const std::string target = optionalString(group, "target", pointer);
    const std::string source = optionalString(group, "source", pointer);
    // A table has one target system; with several groups the first one names it and each
    // row still carries its own group's system.
    if (targetSystem.empty()) {
        targetSystem = target;
    }
    if (sourceSystem.empty()) {
        sourceSystem = source;
    }
    if (const rapidjson::Value* elements = optionalArray(group, "element", pointer)) {
        for (rapidjson::SizeType i = 0; i < elements->Size(); ++i) {
            readElement((*elements)[i], target, pointer + "/element/" + std::to_string(i));
        }
    }
    const auto unmapped = group.FindMember("unmapped");
    if (unmapped != group.MemberEnd()) {
        readUnmapped(unmapped->value, target, pointer + "/unmapped");
    }
}

void ConceptMapReader::readElement(const rapidjson::Value& element, const std::string& system,
                                   const std::string& pointer)
{
    if (!element.IsObject()) {
        fail(pointer, "expected an object");
    }
    const std::string code = optionalString(element, "code", pointer);
    if (code.empty()) {
        fail(pointer + "/code", "missing: every element needs a source code");
    }
    const rapidjson::Value* targets = optionalArray(element, "target", pointer);
    if (targets == nullptr) {
        return; // no target: the code is listed but unmapped
    }
    for (rapidjson::SizeType i = 0; i < targets->Size(); ++i) {
        const std::string at = pointer + "/target/" + std::to_string(i);
        const rapidjson::Value& target = (*targets)[i];
        if (!target.IsObject()) {
            fail(at, "expected an object");
        }
        // R4 `unmatched` says there is no target (ConceptMap.group.element.target.equivalence).
        if (optionalString(target, "equivalence", at) == "unmatched") {
            continue;
        }
        MappedCode mapped{optionalString(target, "code", at), optionalString(target, "display", at),
                          system};
        if (mapped.code.empty()) {
            fail(at + "/code", "missing: a target that is not 'unmatched' needs a code");
        }
        const auto [previous, inserted] = seen_.emplace(code, pointer);
        if (!inserted) {
            fail(pointer + "/code", "the source code is already mapped at " + previous->second);
        }
        rows.emplace_back(code, std::move(mapped));
        return; // the first target is the mapping
    }
}

void ConceptMapReader::readUnmapped(const rapidjson::Value& unmapped, const std::string& system,
                                    const std::string& pointer)
{
    if (!unmapped.IsObject()) {
        fail(pointer, "expected an object");
    }
    const std::string mode = optionalString(unmapped, "mode", pointer);
    // `provided` (pass the source code through) and `other-map` cannot be a fixed default row;
    // refusing them beats turning an unmapped code into a silent success.
    if (mode != "fixed") {
        fail(pointer + "/mode", "only mode 'fixed' is supported for a code table");
    }
    MappedCode fixed{optionalString(unmapped, "code", pointer),
                     optionalString(unmapped, "display", pointer), system};
    if (fixed.code.empty()) {
        fail(pointer + "/code", "missing: mode 'fixed' needs a code");
    }
    if (hasDefault) {
        fail(pointer, "a second fixed 'unmapped' default in the same ConceptMap");
    }
    hasDefault = true;
    defaultRow = std::move(fixed);
}

} // namespace

// --- CodeTables -------------------------------------------------------------------------------

CodeTables CodeTables::loadDirectory(const std::string& mappingsDir)
{
    CodeTables tables;
    const std::filesystem::path dir(mappingsDir);
    for (const std::string& file : filesWithExtension(dir / "tables", ".tsv")) {
        tables.loadFile(file);
    }
    for (const std::string& file : filesWithExtension(dir / "conceptmaps", ".json")) {
        tables.loadFile(file);
    }
    return tables;
}

void CodeTables::loadFile(const std::string& path)
{
    const std::string extension = extensionOf(path);
    if (extension == ".tsv") {
        addTsv(detail::readDataFile(path), path, std::filesystem::path(path).stem().string());
        return;
    }
    if (extension != ".json") {
        throw MappingLoadError(path, 0, 0, "a code table file ends in .tsv or .json");
    }
    const std::string content = detail::readDataFile(path);
    rapidjson::Document document;
    detail::parseJsonText(detail::withoutBom(content), path, false, document);
    ConceptMapReader reader(path);
    reader.read(document);
    auto table = std::make_shared<CodeTable>();
    table->name_ = reader.name;
    table->targetSystem_ = reader.targetSystem;
    table->sourceSystem_ = reader.sourceSystem;
    table->origin_ = path;
    table->rows_ = std::move(reader.rows);
    table->default_ = std::move(reader.defaultRow);
    table->hasDefault_ = reader.hasDefault;
    indexRows(table->rows_, table->index_, table->folded_);
    add(std::move(table));
}

void CodeTables::addTsv(std::string_view text, const std::string& origin,
                        const std::string& defaultName)
{
    auto table = std::make_shared<CodeTable>();
    TsvReader reader(origin);
    text = detail::withoutBom(text);
    unsigned number = 1;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = text.find('\n', start);
        reader.readLine(text.substr(start, end == std::string_view::npos ? end : end - start),
                        number);
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
        ++number;
    }
    reader.finish(defaultName);
    table->name_ = reader.name;
    table->targetSystem_ = reader.system;
    table->sourceSystem_ = reader.sourceSystem;
    table->origin_ = origin;
    table->nameLine_ = reader.nameLine;
    table->rows_ = std::move(reader.rows);
    table->default_ = std::move(reader.defaultRow);
    table->hasDefault_ = reader.hasDefault;
    indexRows(table->rows_, table->index_, table->folded_);
    add(std::move(table));
}

void CodeTables::add(std::shared_ptr<CodeTable> table)
{
    const auto existing = tables_.find(table->name());
    if (existing != tables_.end()) {
        throw MappingLoadError(table->origin(), table->nameLine_, 0,
                               "table '" + table->name() + "' is already defined in " +
                                   existing->second->origin());
    }
    const std::string name = table->name();
    tables_.emplace(name, std::move(table));
}

const CodeTable* CodeTables::find(std::string_view name) const
{
    const auto it = tables_.find(name);
    return it == tables_.end() ? nullptr : it->second.get();
}

std::vector<std::string> CodeTables::names() const
{
    std::vector<std::string> out;
    out.reserve(tables_.size());
    for (const auto& entry : tables_) {
        out.push_back(entry.first);
    }
    return out;
}

} // namespace hl7gw::mapping
