#pragma once

#include "gateway/core/errors.h"

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::core {

/// "a string", "an array" ...: a JSON value's kind, for messages like "expected an integer,
/// found a string".
const char* jsonTypeName(const rapidjson::Value& value);

/// Reads one JSON object of a configuration file, checking types and rejecting unknown
/// keys, so that a typo never falls back to a default silently (STYLE.md §5). Every error
/// is a ConfigError whose text starts with `where` ("conf/gateway.json") and the dotted path
/// of the value ("mllp.0.listen"), the same path `--set` takes.
///
/// Call the getters for every key the object may hold, then finish(), which throws for any
/// key that was not asked for. The reader keeps a reference to the value: the document must
/// outlive it.
class ConfigReader {
  public:
    ConfigReader(const rapidjson::Value& value, std::string where, std::string path);

    /// The reader of the document's root (path "").
    static ConfigReader root(const rapidjson::Value& value, std::string where);

    bool has(std::string_view key) const;
    std::string string(std::string_view key, std::string fallback);
    std::string requiredString(std::string_view key);
    std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                         std::int64_t max);
    bool boolean(std::string_view key, bool fallback);
    std::vector<std::string> strings(std::string_view key);
    /// A nested object; nullopt when absent. Its own unknown keys are checked by its finish().
    std::optional<ConfigReader> object(std::string_view key);
    /// The raw value of an array key (nullptr when absent); its elements are read with
    /// element().
    const rapidjson::Value* array(std::string_view key);
    ConfigReader element(const rapidjson::Value& arrayValue, std::string_view key,
                         std::size_t index) const;
    /// The raw value (for factories that take the whole object), marked as used.
    const rapidjson::Value* raw(std::string_view key);

    void finish() const;

    const std::string& where() const { return where_; }
    const std::string& path() const { return path_; }
    /// "where: path.key: "
    std::string at(std::string_view key) const;
    [[noreturn]] void fail(std::string_view key, const std::string& what) const;

  private:
    const rapidjson::Value* member(std::string_view key);

    const rapidjson::Value& value_;
    std::string where_;
    std::string path_;
    std::set<std::string, std::less<>> used_;
};

/// Parses JSON text; a syntax error is a ConfigError with `where:LINE:COLUMN` and the reason.
void parseConfigText(const std::string& text, const std::string& where, rapidjson::Document& out);

/// Applies `--set PATH=VALUE`: PATH is dotted with numeric array indexes (mllp.0.listen);
/// VALUE is read as JSON when it parses as JSON (numbers, true/false, objects), else as a
/// string. Missing objects on the way are created; an index may be one past the end
/// (appends). A malformed assignment is a ConfigError.
void applyOverride(rapidjson::Document& document, const std::string& assignment);

} // namespace hl7gw::core
