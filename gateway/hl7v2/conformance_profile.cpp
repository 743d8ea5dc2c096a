#include "gateway/hl7v2/conformance_profile.h"

#include <algorithm>
#include <sstream>

namespace hl7gw::hl7v2 {

namespace {

std::vector<std::string> splitWords(std::string_view line)
{
    std::vector<std::string> out;
    std::istringstream in{std::string(line)};
    std::string word;
    while (in >> word) {
        out.push_back(word);
    }
    return out;
}

std::vector<std::string> splitCommas(const std::string& s)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = s.find(',', start);
        out.push_back(s.substr(start, comma - start));
        if (comma == std::string::npos) {
            return out;
        }
        start = comma + 1;
    }
}

} // namespace

std::optional<ConformanceProfile> ConformanceProfile::parse(std::string_view text,
                                                            const std::string& file,
                                                            core::IssueList& problems)
{
    ConformanceProfile profile;
    std::uint32_t lineNumber = 0;
    bool ok = true;
    auto fail = [&](const std::string& what) {
        core::Location loc;
        loc.path = file + ":" + std::to_string(lineNumber);
        loc.line = lineNumber;
        problems.add(core::Severity::Error, "100", loc, what);
        ok = false;
    };
    // A rule path names positions in every repetition, so it must not pick one.
    auto readPath = [&](const std::string& word) -> std::optional<Path> {
        std::string error;
        std::optional<Path> path = Path::parse(word, &error);
        if (!path) {
            fail("bad path '" + word + "': " + error);
            return std::nullopt;
        }
        if (word.find('[') != std::string::npos || path->field == 0) {
            fail("path '" + word + "' must name a field, component or sub-component of every "
                 "occurrence and repetition (no [n], no bare segment)");
            return std::nullopt;
        }
        return path;
    };

    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        ++lineNumber;
        line = line.substr(0, line.find('#'));
        std::vector<std::string> w = splitWords(line);
        if (w.empty()) {
            continue;
        }
        const std::string keyword = w[0];
        // Every rule may end in `when PATH [= V1,V2]`, a condition on the same segment.
        std::optional<Condition> when;
        const auto whenAt = std::find(w.begin(), w.end(), "when");
        if (whenAt != w.end()) {
            const std::size_t at = static_cast<std::size_t>(whenAt - w.begin());
            const bool valued = w.size() == at + 2;
            const bool equals = w.size() == at + 4 && w[at + 2] == "=";
            if (!valued && !equals) {
                fail("expected 'when PATH' or 'when PATH = V1,V2'");
                continue;
            }
            std::optional<Path> path = readPath(w[at + 1]);
            if (!path) {
                continue;
            }
            when = Condition{*path, equals ? splitCommas(w[at + 3]) : std::vector<std::string>{}};
            w.resize(at);
        }
        if (when && w.size() > 1 && w[1].substr(0, 3) != when->path.segment) {
            fail("a 'when' condition must be on the segment the rule checks");
            continue;
        }
        Rule rule;
        rule.line = lineNumber;
        rule.when = when;
        if (keyword == "profile") {
            if (w.size() != 2) {
                fail("expected 'profile NAME'");
                continue;
            }
            profile.name_ = w[1];
            continue;
        }
        if (keyword == "values") {
            if (w.size() < 3) {
                fail("expected 'values NAME CODE...'");
                continue;
            }
            std::vector<std::string> values(w.begin() + 2, w.end());
            std::sort(values.begin(), values.end());
            profile.valueSets_.emplace_back(w[1], std::move(values));
            continue;
        }
        if (keyword == "require" || keyword == "forbid") {
            if (w.size() < 2) {
                fail("expected '" + keyword + " PATH...'");
                continue;
            }
            for (std::size_t i = 1; i < w.size(); ++i) {
                std::optional<Path> path = readPath(w[i]);
                if (!path) {
                    break;
                }
                Rule one = rule;
                one.kind = keyword == "require" ? Rule::Kind::Require : Rule::Kind::Forbid;
                one.paths.push_back(*path);
                profile.rules_.push_back(std::move(one));
            }
            continue;
        }
        if (keyword == "in") {
            if (w.size() != 3) {
                fail("expected 'in PATH VALUESET'");
                continue;
            }
            std::optional<Path> path = readPath(w[1]);
            if (!path) {
                continue;
            }
            if (profile.valueSet(w[2]) == nullptr) {
                fail("value set '" + w[2] + "' is not defined above");
                continue;
            }
            rule.kind = Rule::Kind::InValueSet;
            rule.paths.push_back(*path);
            rule.valueSet = w[2];
            profile.rules_.push_back(std::move(rule));
            continue;
        }
        if (keyword == "unique" || keyword == "distinguish") {
            const bool distinguish = keyword == "distinguish";
            if (distinguish && (w.size() != 4 || w[2] != "by")) {
                fail("expected 'distinguish PATH by PATH'");
                continue;
            }
            if (!distinguish && w.size() < 2) {
                fail("expected 'unique PATH...'");
                continue;
            }
            rule.kind = distinguish ? Rule::Kind::Distinguish : Rule::Kind::Unique;
            for (std::size_t i = 1; i < w.size(); ++i) {
                if (distinguish && i == 2) {
                    continue;
                }
                std::optional<Path> path = readPath(w[i]);
                if (!path) {
                    break;
                }
                rule.paths.push_back(*path);
            }
            const std::size_t expected = distinguish ? 2 : w.size() - 1;
            if (rule.paths.size() != expected) {
                continue;
            }
            const bool sameSegment =
                std::all_of(rule.paths.begin(), rule.paths.end(),
                            [&](const Path& p) { return p.segment == rule.paths[0].segment; });
            if (!sameSegment) {
                fail("all paths of '" + keyword + "' must be in one segment");
                continue;
            }
            profile.rules_.push_back(std::move(rule));
            continue;
        }
        fail("unknown keyword '" + keyword +
             "' (expected profile, values, require, forbid, in, unique or distinguish)");
    }
    if (ok && profile.name_.empty()) {
        lineNumber = 1;
        fail("missing 'profile NAME' line");
    }
    if (!ok) {
        return std::nullopt;
    }
    return profile;
}

const std::vector<std::string>* ConformanceProfile::valueSet(std::string_view name) const
{
    for (const auto& [setName, values] : valueSets_) {
        if (setName == name) {
            return &values;
        }
    }
    return nullptr;
}

} // namespace hl7gw::hl7v2
