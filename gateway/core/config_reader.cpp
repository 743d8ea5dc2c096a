#include "gateway/core/config_reader.h"

#include <rapidjson/error/en.h>

#include <cstdlib>

namespace hl7gw::core {

const char* jsonTypeName(const rapidjson::Value& v)
{
    if (v.IsNull()) {
        return "null";
    }
    if (v.IsBool()) {
        return "a boolean";
    }
    if (v.IsNumber()) {
        return "a number";
    }
    if (v.IsString()) {
        return "a string";
    }
    if (v.IsArray()) {
        return "an array";
    }
    return "an object";
}

namespace {

std::string join(const std::string& path, std::string_view key)
{
    if (path.empty()) {
        return std::string(key);
    }
    return path + '.' + std::string(key);
}

bool isIndex(std::string_view part)
{
    if (part.empty()) {
        return false;
    }
    for (char c : part) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

} // namespace

ConfigReader::ConfigReader(const rapidjson::Value& value, std::string where, std::string path)
    : value_(value), where_(std::move(where)), path_(std::move(path))
{
    if (!value_.IsObject()) {
        throw ConfigError(where_ + ": " + (path_.empty() ? std::string("(top level)") : path_) +
                          ": expected an object, found " + jsonTypeName(value_));
    }
}

ConfigReader ConfigReader::root(const rapidjson::Value& value, std::string where)
{
    return ConfigReader(value, std::move(where), "");
}

std::string ConfigReader::at(std::string_view key) const
{
    return where_ + ": " + join(path_, key) + ": ";
}

void ConfigReader::fail(std::string_view key, const std::string& what) const
{
    throw ConfigError(at(key) + what);
}

bool ConfigReader::has(std::string_view key) const
{
    return value_.FindMember(rapidjson::StringRef(key.data(), key.size())) != value_.MemberEnd();
}

const rapidjson::Value* ConfigReader::member(std::string_view key)
{
    used_.emplace(key);
    const auto it = value_.FindMember(rapidjson::StringRef(key.data(), key.size()));
    return it == value_.MemberEnd() ? nullptr : &it->value;
}

std::string ConfigReader::string(std::string_view key, std::string fallback)
{
    const rapidjson::Value* v = member(key);
    if (v == nullptr) {
        return fallback;
    }
    if (!v->IsString()) {
        fail(key, std::string("expected a string, found ") + jsonTypeName(*v));
    }
    return std::string(v->GetString(), v->GetStringLength());
}

std::string ConfigReader::requiredString(std::string_view key)
{
    if (!has(key)) {
        fail(key, "missing (a string is required)");
    }
    std::string s = string(key, {});
    if (s.empty()) {
        fail(key, "must not be empty");
    }
    return s;
}

std::int64_t ConfigReader::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                   std::int64_t max)
{
    const rapidjson::Value* v = member(key);
    if (v == nullptr) {
        return fallback;
    }
    if (!v->IsInt64()) {
        fail(key, std::string("expected an integer, found ") + jsonTypeName(*v));
    }
    const std::int64_t n = v->GetInt64();
    if (n < min || n > max) {
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                      ", found " + std::to_string(n));
    }
    return n;
}

bool ConfigReader::boolean(std::string_view key, bool fallback)
{
    const rapidjson::Value* v = member(key);
    if (v == nullptr) {
        return fallback;
    }
    if (!v->IsBool()) {
        fail(key, std::string("expected true or false, found ") + jsonTypeName(*v));
    }
    return v->GetBool();
}

std::vector<std::string> ConfigReader::strings(std::string_view key)
{
    const rapidjson::Value* v = member(key);
    std::vector<std::string> out;
    if (v == nullptr) {
        return out;
    }
    if (!v->IsArray()) {
        fail(key, std::string("expected an array of strings, found ") + jsonTypeName(*v));
    }
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
        const rapidjson::Value& e = (*v)[i];
        if (!e.IsString()) {
            fail(std::string(key) + '.' + std::to_string(i),
                 std::string("expected a string, found ") + jsonTypeName(e));
        }
        out.emplace_back(e.GetString(), e.GetStringLength());
    }
    return out;
}

std::optional<ConfigReader> ConfigReader::object(std::string_view key)
{
    const rapidjson::Value* v = member(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    return ConfigReader(*v, where_, join(path_, key));
}

const rapidjson::Value* ConfigReader::array(std::string_view key)
{
    const rapidjson::Value* v = member(key);
    if (v != nullptr && !v->IsArray()) {
        fail(key, std::string("expected an array, found ") + jsonTypeName(*v));
    }
    return v;
}

ConfigReader ConfigReader::element(const rapidjson::Value& arrayValue, std::string_view key,
                                   std::size_t index) const
{
    return ConfigReader(arrayValue[static_cast<rapidjson::SizeType>(index)], where_,
                        join(path_, key) + '.' + std::to_string(index));
}

const rapidjson::Value* ConfigReader::raw(std::string_view key)
{
    return member(key);
}

void ConfigReader::finish() const
{
    for (auto it = value_.MemberBegin(); it != value_.MemberEnd(); ++it) {
        const std::string_view key(it->name.GetString(), it->name.GetStringLength());
        if (used_.find(key) == used_.end()) {
            fail(key, "unknown key");
        }
    }
}

void parseConfigText(const std::string& text, const std::string& where, rapidjson::Document& out)
{
    out.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(text.data(),
                                                                                   text.size());
    if (!out.HasParseError()) {
        return;
    }
    const std::size_t offset = out.GetErrorOffset();
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    throw ConfigError(where + ':' + std::to_string(line) + ':' + std::to_string(column) + ": " +
                      rapidjson::GetParseError_En(out.GetParseError()));
}

void applyOverride(rapidjson::Document& document, const std::string& assignment)
{
    const std::size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw ConfigError("--set " + assignment + ": expected PATH=VALUE");
    }
    const std::string path = assignment.substr(0, eq);
    const std::string text = assignment.substr(eq + 1);
    auto& alloc = document.GetAllocator();

    rapidjson::Value value;
    {
        rapidjson::Document parsed;
        parsed.Parse(text.data(), text.size());
        if (!parsed.HasParseError() && !text.empty()) {
            value.CopyFrom(parsed, alloc);
        } else {
            value.SetString(text.data(), static_cast<rapidjson::SizeType>(text.size()), alloc);
        }
    }

    if (!document.IsObject()) {
        document.SetObject();
    }
    rapidjson::Value* node = &document;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = path.find('.', start);
        const std::string part = path.substr(start, dot == std::string::npos ? dot : dot - start);
        const bool last = dot == std::string::npos;
        if (part.empty()) {
            throw ConfigError("--set " + path + ": empty part in the path");
        }
        rapidjson::Value* next = nullptr;
        if (node->IsArray() && isIndex(part)) {
            const std::size_t index = std::strtoul(part.c_str(), nullptr, 10);
            if (index > node->Size()) {
                throw ConfigError("--set " + path + ": index " + part + " is past the end (" +
                                  std::to_string(node->Size()) + " elements)");
            }
            if (index == node->Size()) {
                node->PushBack(rapidjson::Value(rapidjson::kObjectType), alloc);
            }
            next = &(*node)[static_cast<rapidjson::SizeType>(index)];
        } else if (node->IsObject()) {
            auto it = node->FindMember(part.c_str());
            if (it == node->MemberEnd()) {
                node->AddMember(rapidjson::Value(part.c_str(), alloc),
                                rapidjson::Value(rapidjson::kObjectType), alloc);
                it = node->FindMember(part.c_str());
            }
            next = &it->value;
        } else {
            throw ConfigError("--set " + path + ": '" + part +
                              "' is inside a value that is neither an object nor an array");
        }
        if (last) {
            *next = value;
            return;
        }
        node = next;
        start = dot + 1;
    }
}

} // namespace hl7gw::core
