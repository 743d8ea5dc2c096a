#include "gateway/fhir/rest/outcome.h"

#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace hl7gw::fhir::rest {

namespace {

struct CodeInfo {
    std::string_view code;
    int status;
    std::string_view text;
};

// FHIR R4 issue-type (http://hl7.org/fhir/issue-type), every code, with the status of
// STANDARDS.md §3.4 and the readable sentence for details.text.
constexpr std::array<CodeInfo, 31> Codes{{
    {"invalid", 400, "The content is not valid. 内容无效。"},
    {"structure", 400,
     "The content could not be parsed or breaks the FHIR structure. "
     "内容无法解析或结构不符合 FHIR 规范。"},
    {"required", 422, "A required element is missing. 缺少必填元素。"},
    {"value", 400, "An element has a value that is not allowed. 元素取值不合法。"},
    {"invariant", 422, "A rule that relates elements is broken. 元素之间的约束不满足。"},
    {"security", 403, "The request breaks a security rule. 请求违反安全规则。"},
    {"login", 401, "Authentication is required. 需要身份认证。"},
    {"unknown", 401, "The user or client is not known. 用户或客户端未知。"},
    {"expired", 401, "The session or credentials have expired. 会话或凭据已过期。"},
    {"forbidden", 403, "The client may not do this. 无权执行此操作。"},
    {"suppressed", 403, "Some information was withheld. 部分信息未予提供。"},
    {"processing", 422, "The request could not be processed. 请求无法处理。"},
    {"not-supported", 405, "This is not supported here. 不支持此操作。"},
    {"duplicate", 409, "A record with the same identity already exists. 记录已存在。"},
    {"multiple-matches", 412, "The criteria match more than one resource. 条件匹配到多个资源。"},
    {"not-found", 404, "The resource was not found. 未找到该资源。"},
    {"deleted", 410, "The resource has been deleted. 该资源已被删除。"},
    {"too-long", 400, "The content is too long. 内容过长。"},
    {"code-invalid", 422, "A code is not known or not allowed here. 编码无效或不允许使用。"},
    {"extension", 422, "An extension is not recognised or not allowed. 扩展无法识别或不允许。"},
    {"too-costly", 400, "The request would take too many resources. 请求代价过高。"},
    {"business-rule", 422, "A business rule is not met. 不符合业务规则。"},
    {"conflict", 409, "The request conflicts with the current state. 与当前状态冲突。"},
    {"transient", 503, "A temporary problem; try again later. 临时故障,请稍后重试。"},
    {"lock-error", 409, "The resource is locked by another change. 资源正被其他操作锁定。"},
    {"no-store", 503, "The data store is not available. 数据存储不可用。"},
    {"exception", 500, "An unexpected error occurred on the server. 服务器发生意外错误。"},
    {"timeout", 503, "The operation timed out. 操作超时。"},
    {"incomplete", 500, "The result is incomplete. 结果不完整。"},
    {"throttled", 429, "Too many requests; slow down. 请求过多,请降低频率。"},
    {"informational", 200, "All OK. 操作成功。"},
}};

const CodeInfo* find(std::string_view code)
{
    for (const CodeInfo& info : Codes) {
        if (info.code == code) {
            return &info;
        }
    }
    return nullptr;
}

rapidjson::Value text(std::string_view value, rapidjson::Document::AllocatorType& allocator)
{
    return rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()),
                            allocator);
}

bool isNameStart(char c)
{
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
}

bool isNameChar(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

} // namespace

int statusFor(std::string_view issueCode)
{
    const CodeInfo* info = find(issueCode);
    return info ? info->status : 500;
}

int statusFor(const core::IssueList& issues)
{
    for (const core::Issue& issue : issues) {
        if (issue.severity == core::Severity::Fatal || issue.severity == core::Severity::Error) {
            return statusFor(issue.code);
        }
    }
    return 200;
}

std::string_view severityCode(core::Severity severity)
{
    switch (severity) {
    case core::Severity::Fatal:
        return "fatal";
    case core::Severity::Error:
        return "error";
    case core::Severity::Warning:
        return "warning";
    case core::Severity::Information:
        return "information";
    }
    return "error";
}

std::string_view readableText(std::string_view issueCode)
{
    const CodeInfo* info = find(issueCode);
    return info ? info->text : std::string_view("The request failed. 请求失败。");
}

bool isFhirPathExpression(std::string_view path)
{
    // name ( '[' digits ']' )? ( '.' name ( '[' digits ']' )? )*
    std::size_t i = 0;
    for (;;) {
        if (i >= path.size() || !isNameStart(path[i])) {
            return false;
        }
        while (i < path.size() && isNameChar(path[i])) {
            ++i;
        }
        if (i < path.size() && path[i] == '[') {
            const std::size_t digits = ++i;
            while (i < path.size() && std::isdigit(static_cast<unsigned char>(path[i])) != 0) {
                ++i;
            }
            if (i == digits || i >= path.size() || path[i] != ']') {
                return false;
            }
            ++i;
        }
        if (i == path.size()) {
            return true;
        }
        if (path[i] != '.') {
            return false;
        }
        ++i;
    }
}

void appendIssue(rapidjson::Value& outcome, const core::Issue& issue,
                 rapidjson::Document::AllocatorType& allocator)
{
    if (!outcome.HasMember("issue") || !outcome["issue"].IsArray()) {
        outcome.RemoveMember("issue");
        outcome.AddMember("issue", rapidjson::Value(rapidjson::kArrayType), allocator);
    }
    rapidjson::Value entry(rapidjson::kObjectType);
    entry.AddMember("severity", text(severityCode(issue.severity), allocator), allocator);
    const std::string code = issue.code.empty() ? "exception" : issue.code;
    entry.AddMember("code", text(code, allocator), allocator);
    rapidjson::Value details(rapidjson::kObjectType);
    details.AddMember("text", text(readableText(code), allocator), allocator);
    entry.AddMember("details", details, allocator);

    std::string diagnostics = issue.text;
    const bool expression = isFhirPathExpression(issue.location.path);
    if (!expression) {
        const std::string where = issue.location.toString();
        if (!where.empty()) {
            diagnostics += diagnostics.empty() ? where : " (at " + where + ")";
        }
    }
    if (!diagnostics.empty()) {
        entry.AddMember("diagnostics", text(diagnostics, allocator), allocator);
    }
    if (expression) {
        rapidjson::Value expressions(rapidjson::kArrayType);
        expressions.PushBack(text(issue.location.path, allocator), allocator);
        entry.AddMember("expression", expressions, allocator);
    }
    outcome["issue"].PushBack(entry, allocator);
}

rapidjson::Document makeOutcome(const core::IssueList& issues)
{
    rapidjson::Document outcome(rapidjson::kObjectType);
    auto& allocator = outcome.GetAllocator();
    outcome.AddMember("resourceType", "OperationOutcome", allocator);
    outcome.AddMember("issue", rapidjson::Value(rapidjson::kArrayType), allocator);
    if (issues.empty()) {
        core::Issue ok;
        ok.severity = core::Severity::Information;
        ok.code = "informational";
        ok.text = "All OK";
        appendIssue(outcome, ok, allocator);
    }
    for (const core::Issue& issue : issues) {
        appendIssue(outcome, issue, allocator);
    }
    return outcome;
}

rapidjson::Document makeOutcome(const core::Issue& issue)
{
    core::IssueList issues;
    issues.add(issue);
    return makeOutcome(issues);
}

} // namespace hl7gw::fhir::rest
