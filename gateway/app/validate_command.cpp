#include "gateway/app/validate_command.h"

#include "gateway/app/fhir_input.h"
#include "gateway/app/message_reader.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/model/validator.h"
#include "gateway/fhir/model/xml_codec.h"
#include "gateway/hl7v2/conformance_profile.h"
#include "gateway/hl7v2/structure_validator.h"

#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>

namespace hl7gw::app {

namespace {

/// Validates one FHIR resource file; prints `FILE:PATH: severity: text` per issue. Returns
/// true when it has no errors.
bool validateFhir(const std::string& path, const std::string& text, FhirFormat format,
                  std::ostream& err)
{
    core::IssueList issues;
    rapidjson::Document resource;
    bool parsed = false;
    if (format == FhirFormat::Json) {
        core::Issue issue;
        parsed = fhir::parseJson(text, resource, issue);
        if (!parsed) {
            issues.add(std::move(issue));
        }
    } else {
        parsed = fhir::xmlToJson(text, resource, issues);
    }
    if (parsed) {
        fhir::validateResource(resource, issues);
    }
    for (const core::Issue& issue : issues) {
        err << path << ':' << issue.location.toString() << ": " << core::toString(issue.severity)
            << ": " << issue.text << " [" << issue.code << "]\n";
    }
    return !issues.hasErrors();
}

} // namespace

int runValidate(const ValidateCommandOptions& options, std::ostream& out, std::ostream& err)
{
    std::optional<hl7v2::ConformanceProfile> profile;
    if (!options.profile.empty()) {
        std::ifstream in(options.profile, std::ios::binary);
        if (!in) {
            err << "hl7gw validate: cannot read profile '" << options.profile << "'\n";
            return 2;
        }
        const std::string text((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        core::IssueList problems;
        profile = hl7v2::ConformanceProfile::parse(text, options.profile, problems);
        for (const core::Issue& problem : problems) {
            err << problem.location.toString() << ": " << core::toString(problem.severity) << ": "
                << problem.text << '\n';
        }
        if (!profile) {
            return 2;
        }
    }

    hl7v2::ParseOptions parseOptions;
    parseOptions.defaultCharset = options.defaultCharset;
    MessageReader reader(parseOptions, err);
    hl7v2::StructureValidator validator;
    auto onMessage = [&](MessageContext& ctx) {
        if (ctx.message != nullptr) {
            validator.validate(*ctx.message, ctx.issues, profile ? &*profile : nullptr);
        }
    };
    ReadTotals totals;
    std::size_t resources = 0;
    for (const std::string& input : options.inputs) {
        std::string text;
        if (const FhirFormat format = fhirFormatOf(input, text); format != FhirFormat::None) {
            ++resources;
            totals.errors += validateFhir(input, text, format, err) ? 0 : 1;
            continue;
        }
        const ReadTotals one = reader.read({input}, onMessage);
        totals.messages += one.messages;
        totals.errors += one.errors;
        // An input without a single message cannot be valid (empty file, only junk).
        if (one.messages == 0) {
            err << input << ": error: no HL7 v2 message found\n";
            totals.errors += one.errors == 0 ? 1 : 0;
        }
    }
    out << "total\tmessages=" << totals.messages;
    if (resources > 0) {
        out << "\tresources=" << resources;
    }
    out << "\tinvalid=" << totals.errors << '\n';
    out.flush();
    return totals.errors > 0 ? 1 : 0;
}

} // namespace hl7gw::app
