#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/path.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::hl7v2 {

/// The rules a partner adds on top of the base standard (a conformance profile), kept as
/// data: one rule per line of a `.profile` file (format: gateway/hl7v2/README.md,
/// "Conformance profiles"). StructureValidator applies them after the base checks.
/// Immutable after parse(); safe to share between threads.
class ConformanceProfile {
public:
    /// A condition on another position of the same segment: valued, or one of `values`.
    struct Condition {
        Path path;
        std::vector<std::string> values; // empty: "is valued"
    };

    struct Rule {
        enum class Kind : std::uint8_t {
            Require,     // the position must be valued
            Forbid,      // the position must not be valued
            InValueSet,  // the value must be in `valueSet`
            Unique,      // the combination of `paths` is unique within the group
            Distinguish, // segments sharing paths[0] in a group need distinct, valued paths[1]
        };
        Kind kind = Kind::Require;
        std::vector<Path> paths; // Require/Forbid/InValueSet: one; Unique: one or more
        std::string valueSet;
        std::optional<Condition> when;
        std::uint32_t line = 0; // in the profile file, for messages
    };

    /// Reads a profile; problems go to `problems` located as `file:line` and make the result
    /// empty. Never throws on bad input.
    static std::optional<ConformanceProfile> parse(std::string_view text, const std::string& file,
                                                   core::IssueList& problems);

    const std::string& name() const { return name_; }
    const std::vector<Rule>& rules() const { return rules_; }
    /// Values of a named value set; nullptr when the profile does not define it.
    const std::vector<std::string>* valueSet(std::string_view name) const;

private:
    std::string name_;
    std::vector<Rule> rules_;
    std::vector<std::pair<std::string, std::vector<std::string>>> valueSets_;
};

} // namespace hl7gw::hl7v2
