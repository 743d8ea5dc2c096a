#include "gateway/core/issue.h"

#include <algorithm>
#include <ostream>

namespace hl7gw::core {

std::string_view toString(Severity severity)
{
    switch (severity) {
    case Severity::Fatal:
        return "fatal";
    case Severity::Error:
        return "error";
    case Severity::Warning:
        return "warning";
    case Severity::Information:
        return "information";
    }
    return "error";
}

std::ostream& operator<<(std::ostream& out, Severity severity)
{
    return out << toString(severity);
}

std::string Location::toString() const
{
    if (!path.empty()) {
        return path;
    }
    if (segment.empty()) {
        if (line != 0) {
            return "line " + std::to_string(line);
        }
        return offset == NoOffset ? std::string() : "offset " + std::to_string(offset);
    }
    std::string out = segment;
    if (segmentOccurrence != 0) {
        out += '[' + std::to_string(segmentOccurrence) + ']';
    }
    if (field != 0) {
        out += '-' + std::to_string(field);
        if (repetition != 0) {
            out += '[' + std::to_string(repetition) + ']';
        }
        if (component != 0) {
            out += '.' + std::to_string(component);
            if (subcomponent != 0) {
                out += '.' + std::to_string(subcomponent);
            }
        }
    }
    return out;
}

void IssueList::add(Issue issue)
{
    issues_.push_back(std::move(issue));
}

void IssueList::add(Severity severity, std::string code, Location location, std::string text)
{
    issues_.push_back(Issue{severity, std::move(code), std::move(location), std::move(text)});
}

bool IssueList::hasFatal() const
{
    return std::any_of(issues_.begin(), issues_.end(),
                       [](const Issue& i) { return i.severity == Severity::Fatal; });
}

bool IssueList::hasErrors() const
{
    return std::any_of(issues_.begin(), issues_.end(), [](const Issue& i) {
        return i.severity == Severity::Fatal || i.severity == Severity::Error;
    });
}

} // namespace hl7gw::core
