#include "gateway/fhir/model/json_io.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>
#include <string>

namespace hl7gw::fhir {

namespace {

constexpr unsigned ParseFlags = rapidjson::kParseNumbersAsStringsFlag |
                                rapidjson::kParseValidateEncodingFlag |
                                rapidjson::kParseIterativeFlag;

enum class Refusal { None, NulInString, TooDeep };

// Forwards the reader's events to the document, turning numbers into marked strings and
// refusing what FHIR JSON cannot hold. Iterative parsing keeps deep input off the C++ stack;
// the depth limit keeps it off everyone else's (validators and writers recurse).
class MarkingHandler {
  public:
    MarkingHandler(rapidjson::Document& document, std::size_t maxDepth)
        : document_(document), maxDepth_(maxDepth)
    {
    }

    bool Null() { return document_.Null(); }
    bool Bool(bool b) { return document_.Bool(b); }
    // With kParseNumbersAsStringsFlag every number arrives as RawNumber; these are unused.
    bool Int(int) { return false; }
    bool Uint(unsigned) { return false; }
    bool Int64(std::int64_t) { return false; }
    bool Uint64(std::uint64_t) { return false; }
    bool Double(double) { return false; }

    bool RawNumber(const char* text, rapidjson::SizeType length, bool)
    {
        scratch_.assign(1, NumberMark);
        scratch_.append(text, length);
        return document_.String(scratch_.data(), static_cast<rapidjson::SizeType>(scratch_.size()),
                                true);
    }
    bool String(const char* text, rapidjson::SizeType length, bool copy)
    {
        if (std::memchr(text, '\0', length) != nullptr) {
            refusal_ = Refusal::NulInString;
            return false;
        }
        return document_.String(text, length, copy);
    }
    bool Key(const char* text, rapidjson::SizeType length, bool copy)
    {
        if (std::memchr(text, '\0', length) != nullptr) {
            refusal_ = Refusal::NulInString;
            return false;
        }
        return document_.Key(text, length, copy);
    }
    bool StartObject() { return enter() && document_.StartObject(); }
    bool EndObject(rapidjson::SizeType members)
    {
        --depth_;
        return document_.EndObject(members);
    }
    bool StartArray() { return enter() && document_.StartArray(); }
    bool EndArray(rapidjson::SizeType elements)
    {
        --depth_;
        return document_.EndArray(elements);
    }

    Refusal refusal() const { return refusal_; }

  private:
    bool enter()
    {
        if (++depth_ > maxDepth_) {
            refusal_ = Refusal::TooDeep;
            return false;
        }
        return true;
    }

    rapidjson::Document& document_;
    const std::size_t maxDepth_;
    std::size_t depth_ = 0;
    Refusal refusal_ = Refusal::None;
    std::string scratch_;
};

std::string lineAndColumn(std::string_view text, std::size_t offset)
{
    offset = std::min(offset, text.size());
    std::size_t line = 1;
    std::size_t lineStart = 0;
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            lineStart = i + 1;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(offset - lineStart + 1);
}

template <typename Writer> void writeValue(const rapidjson::Value& value, Writer& writer)
{
    switch (value.GetType()) {
    case rapidjson::kNullType:
        writer.Null();
        break;
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
        writer.Bool(value.GetBool());
        break;
    case rapidjson::kNumberType:
        // Documents built by hand may hold real numbers; print them as RapidJSON does.
        if (value.IsInt64()) {
            writer.Int64(value.GetInt64());
        } else if (value.IsUint64()) {
            writer.Uint64(value.GetUint64());
        } else {
            writer.Double(value.GetDouble());
        }
        break;
    case rapidjson::kStringType:
        if (isNumber(value)) {
            std::string_view text = numberText(value);
            writer.RawValue(text.data(), text.size(), rapidjson::kNumberType);
        } else {
            writer.String(value.GetString(), value.GetStringLength());
        }
        break;
    case rapidjson::kObjectType:
        writer.StartObject();
        for (const auto& member : value.GetObject()) {
            writer.Key(member.name.GetString(), member.name.GetStringLength());
            writeValue(member.value, writer);
        }
        writer.EndObject();
        break;
    case rapidjson::kArrayType:
        writer.StartArray();
        for (const auto& element : value.GetArray()) {
            writeValue(element, writer);
        }
        writer.EndArray();
        break;
    }
}

} // namespace

bool isNumber(const rapidjson::Value& value)
{
    return value.IsString() && value.GetStringLength() > 0 && value.GetString()[0] == NumberMark;
}

std::string_view numberText(const rapidjson::Value& value)
{
    if (!isNumber(value)) {
        return {};
    }
    return {value.GetString() + 1, value.GetStringLength() - 1};
}

std::optional<double> numberValue(const rapidjson::Value& value)
{
    if (!isNumber(value)) {
        if (value.IsNumber()) {
            return value.GetDouble();
        }
        return std::nullopt;
    }
    // The text passed the JSON number grammar, which strtod accepts whole.
    std::string text(numberText(value));
    return std::strtod(text.c_str(), nullptr);
}

rapidjson::Value makeNumber(std::string_view text, rapidjson::Document::AllocatorType& allocator)
{
    std::string marked(1, NumberMark);
    marked.append(text);
    return rapidjson::Value(marked.data(), static_cast<rapidjson::SizeType>(marked.size()),
                            allocator);
}

rapidjson::Value makeNumber(long long value, rapidjson::Document::AllocatorType& allocator)
{
    return makeNumber(std::to_string(value), allocator);
}

bool parseJson(std::string_view text, rapidjson::Document& out, core::Issue& issue,
               JsonLimits limits)
{
    rapidjson::MemoryStream stream(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> input(stream);
    rapidjson::Reader reader;
    MarkingHandler handler(out, limits.maxDepth);
    rapidjson::ParseResult result;
    auto generate = [&](rapidjson::Document&) {
        result = reader.Parse<ParseFlags>(input, handler);
        return !result.IsError();
    };
    out.Populate(generate);
    if (!result.IsError()) {
        return true;
    }
    out.SetNull();
    issue = core::Issue{};
    issue.severity = core::Severity::Error;
    issue.location.path = lineAndColumn(text, result.Offset());
    switch (handler.refusal()) {
    case Refusal::NulInString:
        issue.code = "value";
        issue.text = "a string holds U+0000, which FHIR does not allow";
        break;
    case Refusal::TooDeep:
        issue.code = "too-costly";
        issue.text = "JSON nested deeper than " + std::to_string(limits.maxDepth) + " levels";
        break;
    case Refusal::None:
        issue.code =
            result.Code() == rapidjson::kParseErrorStringInvalidEncoding ? "value" : "structure";
        issue.text = std::string("malformed JSON: ") + rapidjson::GetParseError_En(result.Code());
        break;
    }
    return false;
}

std::string writeJson(const rapidjson::Value& value, bool pretty)
{
    rapidjson::StringBuffer buffer;
    if (pretty) {
        rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
        writer.SetIndent(' ', 2);
        writeValue(value, writer);
    } else {
        rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
        writeValue(value, writer);
    }
    return {buffer.GetString(), buffer.GetSize()};
}

} // namespace hl7gw::fhir
