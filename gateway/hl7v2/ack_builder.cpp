#include "gateway/hl7v2/ack_builder.h"

#include "gateway/hl7v2/er7_writer.h"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace hl7gw::hl7v2 {

namespace {

constexpr std::array<std::string_view, 6> Codes{"AA", "AE", "AR", "CA", "CE", "CR"};

// True when MSH-12 names version major.minor or later ("2.5.1" >= 2.5). Unreadable: false.
bool versionAtLeast(std::string_view version, int major, int minor)
{
    const std::size_t dot = version.find('.');
    const int vMajor = std::atoi(std::string(version.substr(0, dot)).c_str());
    const int vMinor = dot == std::string_view::npos
                           ? 0
                           : std::atoi(std::string(version.substr(dot + 1)).c_str());
    return vMajor > major || (vMajor == major && vMinor >= minor);
}

std::string_view severityCode(core::Severity severity)
{
    switch (severity) {
    case core::Severity::Warning:
        return "W";
    case core::Severity::Information:
        return "I";
    default:
        return "E";
    }
}

std::string number(std::uint32_t n)
{
    return n == 0 ? std::string() : std::to_string(n);
}

} // namespace

std::string_view toString(AckCode code)
{
    return Codes[static_cast<std::size_t>(code)];
}

std::optional<AckCode> parseAckCode(std::string_view text)
{
    for (std::size_t i = 0; i < Codes.size(); ++i) {
        if (Codes[i] == text) {
            return static_cast<AckCode>(i);
        }
    }
    return std::nullopt;
}

AckMode ackModeOf(const Message& received)
{
    const SegmentView msh = received.header();
    return msh.field(15).empty() && msh.field(16).empty() ? AckMode::Original : AckMode::Enhanced;
}

bool AckBuilder::build(const Message* received, const AckRequest& request, std::string& out,
                       core::IssueList& issues) const
{
    const Delimiters delimiters = received != nullptr ? received->delimiters() : Delimiters{};
    const Charset& charset = received != nullptr ? received->charset() : Charset::utf8();
    std::string version = "2.5.1";
    std::string_view trigger;
    if (received != nullptr) {
        const std::string_view v = received->version();
        version = v.empty() ? std::string() : std::string(v);
        trigger = received->triggerEvent();
    }
    const std::string effectiveVersion = version.empty() ? std::string("2.5.1") : version;
    // ERR-1 (ELD) before v2.5, ERR-2..8 from v2.5 on (HL7 v2.5 chapter 2, ERR segment).
    const bool modernError = versionAtLeast(effectiveVersion, 2, 5);

    SegmentBuilder msh("MSH", delimiters, charset);
    if (received != nullptr) {
        const SegmentView in = received->header();
        // MSH-2 exactly as sent: rebuilding it from the parsed delimiters would change a
        // declaration whose duplicates the parser switched off.
        msh.setRaw(2, in.field(2).raw());
        msh.setRaw(3, in.field(5).raw());
        msh.setRaw(4, in.field(6).raw());
        msh.setRaw(5, in.field(3).raw());
        msh.setRaw(6, in.field(4).raw());
        msh.setRaw(11, in.field(11).raw());
        msh.setRaw(12, in.field(12).raw());
        msh.setRaw(17, in.field(17).raw());
        msh.setRaw(18, in.field(18).raw());
    } else {
        msh.set(11, "P");
        msh.set(12, version);
    }
    msh.set(7, request.timestamp);
    msh.set(9, 1, 1, 0, "ACK");
    msh.setRaw(9, 1, 2, 0, trigger);
    if (versionAtLeast(effectiveVersion, 2, 4)) {
        msh.set(9, 1, 3, 0, "ACK"); // 2.3.1 receivers expect ACK^<trigger> (STANDARDS.md §1.6)
    }
    msh.set(10, request.controlId);

    core::IssueList buildIssues;
    std::string result;
    msh.write(result, buildIssues);
    result += '\r';

    SegmentBuilder msa("MSA", delimiters, charset);
    msa.set(1, toString(request.code));
    if (received != nullptr) {
        msa.setRaw(2, received->controlId());
    }
    msa.set(3, request.text);
    msa.write(result, buildIssues);
    result += '\r';

    if (request.problems != nullptr) {
        for (const core::Issue& problem : *request.problems) {
            const core::Location& loc = problem.location;
            SegmentBuilder err("ERR", delimiters, charset);
            if (modernError) {
                err.set(2, 1, 1, 0, loc.segment);
                err.set(2, 1, 2, 0, number(loc.segment.empty() ? 0 : std::max(1u, loc.segmentOccurrence)));
                err.set(2, 1, 3, 0, number(loc.field));
                err.set(2, 1, 4, 0, number(loc.field == 0 ? 0 : std::max(1u, loc.repetition)));
                err.set(2, 1, 5, 0, number(loc.component));
                err.set(2, 1, 6, 0, number(loc.subcomponent));
                err.set(3, 1, 1, 0, problem.code);
                err.set(3, 1, 2, 0, problem.text);
                err.set(3, 1, 3, 0, "HL70357");
                err.set(4, severityCode(problem.severity));
                err.set(5, request.applicationCode);
                err.set(8, request.userMessage);
            } else {
                err.set(1, 1, 1, 0, loc.segment);
                err.set(1, 1, 2, 0, number(loc.segment.empty() ? 0 : std::max(1u, loc.segmentOccurrence)));
                err.set(1, 1, 3, 0, number(loc.field));
                err.set(1, 1, 4, 1, problem.code);
                err.set(1, 1, 4, 2, problem.text);
                err.set(1, 1, 4, 3, "HL70357");
            }
            err.write(result, buildIssues);
            result += '\r';
        }
    }
    for (const core::Issue& issue : buildIssues) {
        issues.add(issue);
    }
    if (buildIssues.hasErrors()) {
        return false;
    }
    out = std::move(result);
    return true;
}

} // namespace hl7gw::hl7v2
