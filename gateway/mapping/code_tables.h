#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::mapping {

/// One target of a code mapping.
struct MappedCode {
    std::string code;
    std::string display; // may be empty
    std::string system;  // the table's target system unless the row names its own; may be empty
};

/// A named code table: source code -> target code. Built from a TSV file or a ConceptMap.
/// Immutable after loading; thread-safe.
class CodeTable {
  public:
    const std::string& name() const { return name_; }
    /// The target code system (`# system:` / ConceptMap group.target), may be empty.
    const std::string& targetSystem() const { return targetSystem_; }
    /// The source code system (`# source-system:` / ConceptMap group.source), may be empty.
    const std::string& sourceSystem() const { return sourceSystem_; }
    /// Where it was loaded from, for messages ("mappings/tables/sex.tsv").
    const std::string& origin() const { return origin_; }

    /// The mapping of `code` (exact match first, then case-insensitive ASCII), else the `*`
    /// row, else nullptr.
    const MappedCode* lookup(std::string_view code) const;
    /// The inverse, for FHIR -> v2: the first source code (file order) whose target is
    /// `targetCode` (exact), else nullptr. `*` rows are not inverted.
    const std::string* reverse(std::string_view targetCode) const;
    bool hasDefault() const { return hasDefault_; }
    std::size_t size() const { return rows_.size(); }

  private:
    friend class CodeTables;
    std::string name_, targetSystem_, sourceSystem_, origin_;
    std::vector<std::pair<std::string, MappedCode>> rows_;   // in file order
    std::map<std::string, std::size_t, std::less<>> index_;  // exact code -> row
    std::map<std::string, std::size_t, std::less<>> folded_; // ASCII-lowercased code -> row
    MappedCode default_;
    bool hasDefault_ = false;
    unsigned nameLine_ = 0; // the `# table:` line, for the duplicate-name error
};

/// Every code table of a mappings directory, by name.
///
/// TSV (`tables/NAME.tsv`, UTF-8): header lines `# table: NAME` (optional: the file stem),
/// `# system: URI`, `# source-system: URI`, other `#` lines are comments; then one row per
/// line `SOURCE<TAB>TARGET[<TAB>DISPLAY[<TAB>SYSTEM]]`; `*` as SOURCE is the default row. A
/// duplicate source code, a missing target, or a row with more than four columns is an error.
///
/// ConceptMap (`conceptmaps/*.json`): an R4 ConceptMap resource; the table is named by
/// `name` (else `id`); each group's `element[].code` -> `target[0]` (`code`, `display`,
/// system = `group.target`), `equivalence` `unmatched` targets are skipped;
/// `group.unmapped` with mode `fixed` becomes the `*` row.
///
/// Load errors throw MappingLoadError with `file:line[:column]: what` (line 0 when a JSON
/// position is not known: the JSON offset is turned into a line where RapidJSON gives one).
class CodeTables {
  public:
    /// Loads `DIR/tables/*.tsv` and `DIR/conceptmaps/*.json` (either may be missing). Two
    /// tables with the same name are an error naming both files.
    static CodeTables loadDirectory(const std::string& mappingsDir);
    /// Loads one table file (.tsv or .json) into this set.
    void loadFile(const std::string& path);
    /// Adds a table from TSV text (tests, dialect-embedded tables); `origin` names it in errors.
    void addTsv(std::string_view text, const std::string& origin, const std::string& defaultName);

    const CodeTable* find(std::string_view name) const;
    std::vector<std::string> names() const;

  private:
    void add(std::shared_ptr<CodeTable> table);
    std::map<std::string, std::shared_ptr<const CodeTable>, std::less<>> tables_;
};

} // namespace hl7gw::mapping
