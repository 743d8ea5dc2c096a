#include "gateway/mapping/dialect.h"

#include "gateway/core/config_reader.h"
#include "gateway/mapping/detail/data_files.h"

#include "gateway/hl7v2/charset.h"
#include "gateway/mapping/mapping_error.h"
#include "gateway/mapping/value_conversions.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace hl7gw::mapping {
namespace {

// Comments let a dialect explain its quirks next to the setting; trailing commas match
// conf/gateway.json (core::parseConfigText).
constexpr unsigned ParseFlags = rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag;

/// RFC 6901: `~` and `/` in a key are escaped in a JSON pointer.
std::string pointerKey(std::string_view key)
{
    std::string out;
    for (char c : key) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
    return out;
}

/// RapidJSON's DOM keeps no positions, so a second, SAX pass records the line of every value
/// by its JSON pointer; errors found while reading the DOM can then name the line.
class PositionRecorder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, PositionRecorder> {
  public:
    PositionRecorder(const rapidjson::StringStream& stream, std::string_view text,
                     std::map<std::string, unsigned>& lines)
        : stream_(stream), text_(text), lines_(lines)
    {
    }

    bool Default() { return value(); }
    bool String(const char*, rapidjson::SizeType, bool) { return value(); }
    bool Key(const char* key, rapidjson::SizeType length, bool)
    {
        frames_.back().key.assign(key, length);
        return true;
    }
    bool StartObject() { return open(false); }
    bool StartArray() { return open(true); }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool EndArray(rapidjson::SizeType) { return close(); }

  private:
    struct Frame {
        std::string pointer;
        bool isArray = false;
        std::size_t nextIndex = 0;
        std::string key;
    };

    std::string childPointer()
    {
        if (frames_.empty()) {
            return "";
        }
        Frame& parent = frames_.back();
        if (parent.isArray) {
            return parent.pointer + '/' + std::to_string(parent.nextIndex++);
        }
        return parent.pointer + '/' + pointerKey(parent.key);
    }
    /// The stream stands just after the token, which is on the token's own line: JSON strings
    /// cannot hold a raw line break.
    unsigned currentLine() const
    {
        const std::string_view before = text_.substr(0, std::min(stream_.Tell(), text_.size()));
        return 1 + static_cast<unsigned>(std::count(before.begin(), before.end(), '\n'));
    }
    bool value()
    {
        lines_[childPointer()] = currentLine();
        return true;
    }
    bool open(bool isArray)
    {
        std::string pointer = childPointer();
        lines_[pointer] = currentLine();
        frames_.push_back(Frame{std::move(pointer), isArray, 0, {}});
        return true;
    }
    bool close()
    {
        frames_.pop_back();
        return true;
    }

    const rapidjson::StringStream& stream_;
    std::string_view text_;
    std::map<std::string, unsigned>& lines_;
    std::vector<Frame> frames_;
};

bool isVersionText(std::string_view text)
{
    // v2 versions as written in MSH-12 (HL7 table 0104): 2.1 ... 2.8.2.
    if (text.size() < 3 || text[0] != '2' || text[1] != '.') {
        return false;
    }
    return std::all_of(text.begin() + 2, text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
           text.back() != '.';
}

bool isCodeToken(std::string_view text)
{
    return text.size() == 3 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
           });
}

/// `ADT` or `ADT^A01`: MSH-9.1 alone or with MSH-9.2 (HL7 tables 0076 and 0003).
bool isMessageTypeKey(std::string_view key)
{
    const std::size_t caret = key.find('^');
    if (caret == std::string_view::npos) {
        return isCodeToken(key);
    }
    return isCodeToken(key.substr(0, caret)) && isCodeToken(key.substr(caret + 1));
}

bool isResourceTypeKey(std::string_view key)
{
    return !key.empty() && key[0] >= 'A' && key[0] <= 'Z' &&
           std::all_of(key.begin(), key.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
}

/// An OID as HD.2 carries it (ISO/IEC 8824): digit arcs joined by dots, at least two arcs.
bool looksLikeOid(std::string_view text)
{
    if (text.empty() || text.find('.') == std::string_view::npos || text.front() == '.' ||
        text.back() == '.' || text.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

/// RFC 3986 percent-encoding of a namespace id placed in a URN, so that a namespace with
/// spaces or non-ASCII characters still gives a valid FHIR `uri` (no whitespace allowed).
std::string uriComponent(std::string_view text)
{
    static constexpr char Hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += Hex[byte >> 4];
            out += Hex[byte & 0x0F];
        }
    }
    return out;
}

/// Reads the dialect document, checking every key and type; each error names the line (from
/// the recorded positions) and the JSON pointer.
class DialectReader {
  public:
    DialectReader(const std::string& origin, const std::map<std::string, unsigned>& lines)
        : origin_(origin), lines_(lines)
    {
    }

    void read(const rapidjson::Value& root, Dialect& out) const;

  private:
    [[noreturn]] void fail(const std::string& pointer, const std::string& text) const
    {
        const auto line = lines_.find(pointer);
        throw MappingLoadError(origin_, line == lines_.end() ? 0 : line->second, 0,
                               (pointer.empty() ? std::string("(top level)") : pointer) + ": " +
                                   text);
    }
    std::string string(const rapidjson::Value& v, const std::string& pointer) const;
    void readTimezone(const rapidjson::Value& v, Dialect& out) const;
    void readSexCoding(const rapidjson::Value& v, Dialect& out) const;
    void readCharset(const rapidjson::Value& v, Dialect& out) const;
    using KeyCheck = bool (*)(std::string_view);
    void readStringMap(const rapidjson::Value& v, const std::string& pointer, KeyCheck check,
                       const char* keyRule,
                       std::map<std::string, std::string, std::less<>>& out) const;
    void readMember(std::string_view key, const rapidjson::Value& v, Dialect& out) const;

    const std::string& origin_;
    const std::map<std::string, unsigned>& lines_;
};

std::string DialectReader::string(const rapidjson::Value& v, const std::string& pointer) const
{
    if (!v.IsString()) {
        fail(pointer, std::string("expected a string, found ") + core::jsonTypeName(v));
    }
    return std::string(v.GetString(), v.GetStringLength());
}

void DialectReader::readTimezone(const rapidjson::Value& v, Dialect& out) const
{
    if (!parseOffset(string(v, "/timezone"), out.offsetMinutes)) {
        fail("/timezone", "expected an offset such as \"+08:00\" (at most ±14:00)");
    }
}

void DialectReader::readSexCoding(const rapidjson::Value& v, Dialect& out) const
{
    const std::string coding = string(v, "/sex_coding");
    if (coding == "hl7-0001") {
        out.sexCoding = Dialect::SexCoding::Hl7Table0001;
    } else if (coding == "gb-t-2261.1") {
        out.sexCoding = Dialect::SexCoding::GbT2261;
    } else {
        fail("/sex_coding", "expected \"hl7-0001\" or \"gb-t-2261.1\"");
    }
}

void DialectReader::readCharset(const rapidjson::Value& v, Dialect& out) const
{
    out.charset = string(v, "/charset");
    // Checked here so that a misspelt charset stops the load instead of every message.
    if (hl7v2::Charset::fromAnyName(out.charset) == nullptr) {
        fail("/charset", "not a character set the codec supports (STANDARDS.md §1.3)");
    }
}

void DialectReader::readStringMap(const rapidjson::Value& v, const std::string& pointer,
                                  KeyCheck check, const char* keyRule,
                                  std::map<std::string, std::string, std::less<>>& out) const
{
    if (!v.IsObject()) {
        fail(pointer, std::string("expected an object of strings, found ") + core::jsonTypeName(v));
    }
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
        const std::string key(it->name.GetString(), it->name.GetStringLength());
        const std::string at = pointer + '/' + pointerKey(key);
        if (!check(key)) {
            fail(at, std::string("the key must be ") + keyRule);
        }
        std::string value = string(it->value, at);
        if (value.empty()) {
            fail(at, "must not be empty");
        }
        // RapidJSON keeps duplicate keys; a second one would silently win.
        if (!out.emplace(key, std::move(value)).second) {
            fail(at, "the key is given twice");
        }
    }
}

bool anyKey(std::string_view key)
{
    return !key.empty();
}

void DialectReader::readMember(std::string_view key, const rapidjson::Value& v, Dialect& out) const
{
    const std::string at = '/' + pointerKey(key);
    if (key == "name") {
        out.name = string(v, at);
    } else if (key == "description") {
        out.description = string(v, at);
    } else if (key == "charset") {
        readCharset(v, out);
    } else if (key == "timezone") {
        readTimezone(v, out);
    } else if (key == "sex_coding") {
        readSexCoding(v, out);
    } else if (key == "identifier_systems") {
        readStringMap(v, at, anyKey, "a namespace id", out.identifierSystems);
    } else if (key == "identifier_system_base") {
        out.identifierSystemBase = string(v, at);
    } else if (key == "tables") {
        readStringMap(v, at, anyKey, "a table name", out.tables);
    } else if (key == "maps") {
        readStringMap(v, at, isMessageTypeKey, "a message type (ADT) or type^event (ADT^A01)",
                      out.maps);
    } else if (key == "outbound") {
        readStringMap(v, at, isResourceTypeKey, "a FHIR resource type (Appointment)", out.outbound);
    } else if (key == "version") {
        out.version = string(v, at);
        if (!isVersionText(out.version)) {
            fail(at, "expected an HL7 v2 version such as \"2.5.1\" (table 0104)");
        }
    } else {
        fail(at, "unknown key");
    }
}

void DialectReader::read(const rapidjson::Value& root, Dialect& out) const
{
    if (!root.IsObject()) {
        fail("", std::string("expected an object, found ") + core::jsonTypeName(root));
    }
    std::map<std::string, bool, std::less<>> seen;
    for (auto it = root.MemberBegin(); it != root.MemberEnd(); ++it) {
        const std::string key(it->name.GetString(), it->name.GetStringLength());
        if (!seen.emplace(key, true).second) {
            fail('/' + pointerKey(key), "the key is given twice");
        }
        readMember(key, it->value, out);
    }
    if (out.name.empty()) {
        fail("/name", "missing: every dialect has a name");
    }
}

} // namespace

std::string Dialect::identifierSystem(std::string_view namespaceId, std::string_view universalId,
                                      std::string_view universalIdType) const
{
    if (!namespaceId.empty()) {
        if (const auto it = identifierSystems.find(namespaceId); it != identifierSystems.end()) {
            return it->second;
        }
    }
    // HD.3 `ISO` says HD.2 is an OID (HL7 table 0301); many senders leave HD.3 empty.
    if (universalIdType == "ISO" || looksLikeOid(universalId)) {
        if (!universalId.empty()) {
            const bool hasPrefix = universalId.substr(0, 8) == "urn:oid:";
            return (hasPrefix ? "" : "urn:oid:") + std::string(universalId);
        }
    }
    if (namespaceId.empty()) {
        return {};
    }
    return identifierSystemBase + uriComponent(namespaceId);
}

std::string_view Dialect::tableFor(std::string_view name) const
{
    const auto it = tables.find(name);
    return it == tables.end() ? name : std::string_view(it->second);
}

const Dialect& Dialect::standard()
{
    static const Dialect dialect = [] {
        Dialect d;
        d.name = "standard";
        d.description = "HL7 v2.5.1 as written, UTF-8, +08:00, HL7 table 0001 sex codes";
        return d;
    }();
    return dialect;
}

Dialect Dialect::loadFile(const std::string& path)
{
    const std::string content = detail::readDataFile(path);
    const std::string_view text = detail::withoutBom(content);
    rapidjson::Document document;
    detail::parseJsonText(text, path, true, document);
    std::map<std::string, unsigned> lines;
    {
        const std::string terminated(text); // StringStream reads up to a NUL
        rapidjson::StringStream stream(terminated.c_str());
        PositionRecorder recorder(stream, terminated, lines);
        rapidjson::Reader reader;
        reader.Parse<ParseFlags>(stream, recorder);
    }
    Dialect dialect;
    dialect.origin = path;
    DialectReader(path, lines).read(document, dialect);
    return dialect;
}

std::map<std::string, Dialect> Dialect::loadDirectory(const std::string& adaptersDir)
{
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    if (std::filesystem::is_directory(adaptersDir, ec)) {
        for (const auto& entry : std::filesystem::directory_iterator(adaptersDir)) {
            const std::filesystem::path file = entry.path() / "dialect.json";
            if (entry.is_directory() && std::filesystem::is_regular_file(file, ec)) {
                files.push_back(file);
            }
        }
    }
    // Sorted, so which of two clashing files is reported does not depend on the file system.
    std::sort(files.begin(), files.end());
    std::map<std::string, Dialect> dialects;
    for (const std::filesystem::path& file : files) {
        Dialect dialect = loadFile(file.generic_string());
        const auto existing = dialects.find(dialect.name);
        if (existing != dialects.end()) {
            throw MappingLoadError(dialect.origin, 0, 0,
                                   "dialect '" + dialect.name + "' is already defined in " +
                                       existing->second.origin);
        }
        std::string name = dialect.name;
        dialects.emplace(std::move(name), std::move(dialect));
    }
    return dialects;
}

} // namespace hl7gw::mapping
