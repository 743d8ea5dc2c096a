#pragma once

#include "gateway/core/issue.h"

#include <rapidjson/document.h>

#include <string_view>

namespace hl7gw::fhir::rest {

/// The HTTP status for an OperationOutcome issue code (FHIR issue-type), per STANDARDS.md
/// §3.4: invalid/structure/value/too-costly 400; login/unknown/expired 401;
/// forbidden/security/suppressed 403; not-found 404; not-supported 405; conflict/lock-error/
/// duplicate 409; deleted 410; multiple-matches 412; business-rule/invariant/required/
/// code-invalid/extension/processing 422; throttled 429; transient/timeout/no-store 503;
/// informational 200; exception/incomplete and any code not in issue-type 500 (an unknown code
/// never reads as success). `conflict` maps to 409: a caller answering a version mismatch
/// (412) or a missing If-Match (428) passes that status itself.
int statusFor(std::string_view issueCode);

/// The status for a whole list: that of its first Fatal or Error issue; 200 when it has none.
int statusFor(const core::IssueList& issues);

/// FHIR issue-severity code for a severity: "fatal", "error", "warning", "information".
std::string_view severityCode(core::Severity severity);

/// An OperationOutcome resource (a fresh Document) with one issue per entry of `issues`, in
/// order:
/// - `severity` from Issue::severity, `code` from Issue::code;
/// - `diagnostics` = Issue::text (technical; never patient data, per core::Issue);
/// - `details.text` = a readable sentence for the code, English then Chinese ("The resource
///   was not found. 未找到该资源。");
/// - `expression` = [Location::path] when the path is a FHIRPath expression
///   (`Appointment.participant[0].status`); any other known location ("line 3, column 17", a
///   v2 position) is appended to diagnostics as " (at ...)" instead.
/// An empty list gives the single issue the spec requires: information / informational,
/// "All OK", so it also serves `Prefer: return=OperationOutcome` after a success.
rapidjson::Document makeOutcome(const core::IssueList& issues);
rapidjson::Document makeOutcome(const core::Issue& issue);

/// Appends `issue` to `outcome` (an OperationOutcome object made by makeOutcome, or any
/// object: its "issue" array is created when missing).
void appendIssue(rapidjson::Value& outcome, const core::Issue& issue,
                 rapidjson::Document::AllocatorType& allocator);

/// The readable sentence makeOutcome puts in details.text for `issueCode`.
std::string_view readableText(std::string_view issueCode);

/// True when `path` is a FHIRPath expression outcome can put in `expression`: dotted names
/// starting with a letter, each optionally indexed ([0]); no spaces, no leading '/'.
bool isFhirPathExpression(std::string_view path);

} // namespace hl7gw::fhir::rest
