#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::core {

/// How bad a problem is. Fatal: we could not finish and any result would be lossy.
/// Error: the data breaks a rule but was understood. Warning and Information do not
/// make input invalid.
enum class Severity : std::uint8_t { Fatal, Error, Warning, Information };

std::string_view toString(Severity severity);
std::ostream& operator<<(std::ostream& out, Severity severity);

/// Where a problem is. For HL7 v2 the positions count from 1 as in ERR-2 (0 = not
/// applicable); `offset` is the byte offset in the message (npos when unknown).
/// Other domains (FHIR, config, mappings) use `path` instead.
struct Location {
    static constexpr std::size_t NoOffset = static_cast<std::size_t>(-1);

    std::string segment;
    std::uint32_t segmentOccurrence = 0;
    std::uint32_t field = 0;
    std::uint32_t repetition = 0;
    std::uint32_t component = 0;
    std::uint32_t subcomponent = 0;
    std::size_t offset = NoOffset;
    /// 1-based line in a file (for problems between messages); 0 when not applicable.
    std::uint32_t line = 0;
    std::string path;

    /// "PID[1]-3[2].1.2", trailing unknown parts left out; "line 4" or "offset 17" when
    /// only those are known; `path` when set; "" when nothing is known.
    std::string toString() const;
};

/// One problem found in input. `code` is HL7 table 0357 for v2 ("101"), FHIR
/// issue-type for FHIR. `text` must never contain patient data: it names positions and
/// rules, not values.
struct Issue {
    Severity severity = Severity::Error;
    std::string code;
    Location location;
    std::string text;
};

/// An ordered collection of issues. Not thread-safe.
class IssueList {
public:
    void add(Issue issue);
    void add(Severity severity, std::string code, Location location, std::string text);

    bool hasFatal() const;
    /// True when any issue is Error or Fatal.
    bool hasErrors() const;
    std::size_t size() const { return issues_.size(); }
    bool empty() const { return issues_.empty(); }
    void clear() { issues_.clear(); }

    const Issue& operator[](std::size_t i) const { return issues_[i]; }
    std::vector<Issue>::const_iterator begin() const { return issues_.begin(); }
    std::vector<Issue>::const_iterator end() const { return issues_.end(); }

private:
    std::vector<Issue> issues_;
};

} // namespace hl7gw::core
