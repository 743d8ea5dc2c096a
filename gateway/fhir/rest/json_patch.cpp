#include "gateway/fhir/rest/json_patch.h"

#include "gateway/fhir/model/json_io.h"

#include <optional>

namespace hl7gw::fhir::rest {

namespace {

using Tokens = std::vector<std::string>;
using Allocator = rapidjson::Document::AllocatorType;

/// An error while applying one operation; `code` as documented in json_patch.h.
struct Failure {
    std::string code;
    std::string text;
};

std::optional<double> numeric(const rapidjson::Value& value)
{
    if (isNumber(value)) {
        return numberValue(value);
    }
    if (value.IsNumber()) {
        return value.GetDouble();
    }
    return std::nullopt;
}

bool isText(const rapidjson::Value& value)
{
    return value.IsString() && !isNumber(value);
}

/// An RFC 6901 array index: "0" or digits without a leading zero, within the array's range
/// type. nullopt otherwise ("-" included; callers handle it first).
std::optional<rapidjson::SizeType> arrayIndex(const std::string& token)
{
    if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0')) {
        return std::nullopt;
    }
    rapidjson::SizeType index = 0;
    for (char c : token) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        index = index * 10 + static_cast<rapidjson::SizeType>(c - '0');
    }
    return index;
}

/// The value `count` tokens deep, or nullptr when it does not exist.
rapidjson::Value* resolve(rapidjson::Value& root, const Tokens& tokens, std::size_t count)
{
    rapidjson::Value* current = &root;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string& token = tokens[i];
        if (current->IsObject()) {
            const auto member = current->FindMember(
                rapidjson::Value(rapidjson::StringRef(token.data(), token.size())));
            if (member == current->MemberEnd()) {
                return nullptr;
            }
            current = &member->value;
        } else if (current->IsArray()) {
            const std::optional<rapidjson::SizeType> index = arrayIndex(token);
            if (!index || *index >= current->Size()) {
                return nullptr;
            }
            current = &(*current)[*index];
        } else {
            return nullptr;
        }
    }
    return current;
}

std::optional<Failure> addValue(rapidjson::Document& root, const Tokens& path,
                                rapidjson::Value& value)
{
    Allocator& allocator = root.GetAllocator();
    if (path.empty()) {
        static_cast<rapidjson::Value&>(root) = value;
        return std::nullopt;
    }
    rapidjson::Value* parent = resolve(root, path, path.size() - 1);
    if (!parent) {
        return Failure{"processing", "the parent of the path does not exist"};
    }
    const std::string& last = path.back();
    if (parent->IsObject()) {
        const auto member =
            parent->FindMember(rapidjson::Value(rapidjson::StringRef(last.data(), last.size())));
        if (member != parent->MemberEnd()) {
            member->value = value;
        } else {
            parent->AddMember(rapidjson::Value(last.data(),
                                               static_cast<rapidjson::SizeType>(last.size()),
                                               allocator),
                              value, allocator);
        }
        return std::nullopt;
    }
    if (parent->IsArray()) {
        if (last == "-") {
            parent->PushBack(value, allocator);
            return std::nullopt;
        }
        const std::optional<rapidjson::SizeType> index = arrayIndex(last);
        if (!index) {
            return Failure{"processing", "'" + last + "' is not an array index"};
        }
        if (*index > parent->Size()) {
            return Failure{"processing", "index " + last + " is past the end of the array"};
        }
        // rapidjson has no insert: append, then shift the tail up by one (moves, no copies).
        parent->PushBack(rapidjson::Value(), allocator);
        for (rapidjson::SizeType j = parent->Size() - 1; j > *index; --j) {
            (*parent)[j] = (*parent)[j - 1];
        }
        (*parent)[*index] = value;
        return std::nullopt;
    }
    return Failure{"processing", "the parent of the path is neither an object nor an array"};
}

std::optional<Failure> removeValue(rapidjson::Document& root, const Tokens& path)
{
    if (path.empty()) {
        return Failure{"processing", "the whole document cannot be removed"};
    }
    rapidjson::Value* parent = resolve(root, path, path.size() - 1);
    const std::string& last = path.back();
    if (parent && parent->IsObject()) {
        const auto member =
            parent->FindMember(rapidjson::Value(rapidjson::StringRef(last.data(), last.size())));
        if (member != parent->MemberEnd()) {
            parent->EraseMember(member); // keeps the order of the other members
            return std::nullopt;
        }
    } else if (parent && parent->IsArray()) {
        const std::optional<rapidjson::SizeType> index = arrayIndex(last);
        if (index && *index < parent->Size()) {
            parent->Erase(parent->Begin() + *index);
            return std::nullopt;
        }
    }
    return Failure{"processing", "the path does not exist"};
}

bool isProperPrefix(const Tokens& prefix, const Tokens& path)
{
    if (prefix.size() >= path.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (prefix[i] != path[i]) {
            return false;
        }
    }
    return true;
}

std::string describe(std::size_t index, std::string_view op, std::string_view path)
{
    std::string text = "operation " + std::to_string(index);
    if (!op.empty()) {
        text += " (" + std::string(op) + " " + std::string(path) + ")";
    }
    return text;
}

/// Reads member `name` of `operation` as a string; nullptr when absent or not a string.
const rapidjson::Value* stringMember(const rapidjson::Value& operation, const char* name)
{
    const auto member = operation.FindMember(name);
    if (member == operation.MemberEnd() || !isText(member->value)) {
        return nullptr;
    }
    return &member->value;
}

std::optional<Failure> applyOne(const rapidjson::Value& operation, rapidjson::Document& work,
                                std::string& op, std::string& pathText)
{
    if (!operation.IsObject()) {
        return Failure{"invalid", "is not an object"};
    }
    // RFC 6902 appendix A.13: a repeated op (or path, from, value) makes the document invalid,
    // whichever one a JSON parser would keep.
    for (const char* name : {"op", "path", "from", "value"}) {
        int count = 0;
        for (const auto& member : operation.GetObject()) {
            count += member.name == name ? 1 : 0;
        }
        if (count > 1) {
            return Failure{"invalid", std::string("has \"") + name + "\" more than once"};
        }
    }
    const rapidjson::Value* opValue = stringMember(operation, "op");
    const rapidjson::Value* pathValue = stringMember(operation, "path");
    if (!opValue) {
        return Failure{"invalid", "has no \"op\" string"};
    }
    op.assign(opValue->GetString(), opValue->GetStringLength());
    if (!pathValue) {
        return Failure{"invalid", "has no \"path\" string"};
    }
    pathText.assign(pathValue->GetString(), pathValue->GetStringLength());
    Tokens path;
    if (!parseJsonPointer(pathText, path)) {
        return Failure{"invalid", "path is not a JSON Pointer"};
    }
    Allocator& allocator = work.GetAllocator();

    const auto valueMember = operation.FindMember("value");
    const bool hasValue = valueMember != operation.MemberEnd();
    Tokens from;
    if (op == "move" || op == "copy") {
        const rapidjson::Value* fromValue = stringMember(operation, "from");
        if (!fromValue) {
            return Failure{"invalid", "has no \"from\" string"};
        }
        if (!parseJsonPointer(
                std::string_view(fromValue->GetString(), fromValue->GetStringLength()), from)) {
            return Failure{"invalid", "from is not a JSON Pointer"};
        }
    } else if (op == "add" || op == "replace" || op == "test") {
        if (!hasValue) {
            return Failure{"invalid", "has no \"value\""};
        }
    } else if (op != "remove") {
        return Failure{"invalid", "op is not one of add, remove, replace, move, copy, test"};
    }

    if (op == "add") {
        rapidjson::Value value(valueMember->value, allocator);
        return addValue(work, path, value);
    }
    if (op == "remove") {
        return removeValue(work, path);
    }
    if (op == "replace") {
        rapidjson::Value* existing = resolve(work, path, path.size());
        if (!existing) {
            return Failure{"processing", "the path does not exist"};
        }
        *existing = rapidjson::Value(valueMember->value, allocator);
        return std::nullopt;
    }
    if (op == "test") {
        const rapidjson::Value* existing = resolve(work, path, path.size());
        if (!existing) {
            return Failure{"processing", "the path does not exist"};
        }
        if (!jsonEqual(*existing, valueMember->value)) {
            return Failure{"processing", "test failed: the value differs"};
        }
        return std::nullopt;
    }
    rapidjson::Value* source = resolve(work, from, from.size());
    if (!source) {
        return Failure{"processing", "from does not exist"};
    }
    if (op == "copy") {
        rapidjson::Value value(*source, allocator);
        return addValue(work, path, value);
    }
    // move (§4.4): from may not be a proper prefix of path (a value into its own child).
    if (isProperPrefix(from, path)) {
        return Failure{"processing", "a value cannot be moved into one of its children"};
    }
    if (from == path) {
        return std::nullopt;
    }
    rapidjson::Value value;
    value = *source; // moves; the source is then null until removed below
    if (std::optional<Failure> failure = removeValue(work, from)) {
        return failure;
    }
    return addValue(work, path, value);
}

} // namespace

bool parseJsonPointer(std::string_view pointer, std::vector<std::string>& tokens)
{
    tokens.clear();
    if (pointer.empty()) {
        return true;
    }
    if (pointer.front() != '/') {
        return false;
    }
    std::string token;
    for (std::size_t i = 1; i <= pointer.size(); ++i) {
        if (i == pointer.size() || pointer[i] == '/') {
            tokens.push_back(std::move(token));
            token.clear();
            continue;
        }
        if (pointer[i] == '~') {
            if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) {
                tokens.clear();
                return false;
            }
            token += pointer[i + 1] == '0' ? '~' : '/';
            ++i;
            continue;
        }
        token += pointer[i];
    }
    return true;
}

bool jsonEqual(const rapidjson::Value& a, const rapidjson::Value& b)
{
    const std::optional<double> numberA = numeric(a);
    const std::optional<double> numberB = numeric(b);
    if (numberA || numberB) {
        if (isNumber(a) && isNumber(b) && numberText(a) == numberText(b)) {
            return true;
        }
        return numberA && numberB && *numberA == *numberB;
    }
    if (a.GetType() != b.GetType()) {
        // rapidjson gives true and false different types; both are booleans.
        return false;
    }
    switch (a.GetType()) {
    case rapidjson::kNullType:
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
        return true;
    case rapidjson::kStringType:
        return a.GetStringLength() == b.GetStringLength() &&
               std::string_view(a.GetString(), a.GetStringLength()) ==
                   std::string_view(b.GetString(), b.GetStringLength());
    case rapidjson::kArrayType:
        if (a.Size() != b.Size()) {
            return false;
        }
        for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
            if (!jsonEqual(a[i], b[i])) {
                return false;
            }
        }
        return true;
    case rapidjson::kObjectType: {
        if (a.MemberCount() != b.MemberCount()) {
            return false;
        }
        for (const auto& member : a.GetObject()) {
            const auto other = b.FindMember(member.name);
            if (other == b.MemberEnd() || !jsonEqual(member.value, other->value)) {
                return false;
            }
        }
        return true;
    }
    case rapidjson::kNumberType:
        break; // handled above
    }
    return false;
}

bool applyJsonPatch(const rapidjson::Value& patch, rapidjson::Document& target, core::Issue& issue)
{
    issue = core::Issue{};
    issue.severity = core::Severity::Error;
    if (!patch.IsArray()) {
        issue.code = "invalid";
        issue.text = "a JSON Patch document is an array of operations";
        return false;
    }
    rapidjson::Document work;
    work.CopyFrom(target, work.GetAllocator());
    for (rapidjson::SizeType i = 0; i < patch.Size(); ++i) {
        std::string op;
        std::string path;
        if (std::optional<Failure> failure = applyOne(patch[i], work, op, path)) {
            issue.code = failure->code;
            issue.text = describe(i, op, path) + ": " + failure->text;
            return false;
        }
    }
    target.Swap(work);
    return true;
}

} // namespace hl7gw::fhir::rest
