#include "gateway/mapping/detail/data_files.h"

#include "gateway/mapping/mapping_error.h"

#include <rapidjson/error/en.h>

#include <fstream>
#include <iterator>

namespace hl7gw::mapping::detail {

std::string readDataFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw MappingLoadError(path, 0, 0, "cannot read the file");
    }
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string_view withoutBom(std::string_view text)
{
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    if (text.substr(0, bom.size()) == bom) {
        text.remove_prefix(bom.size());
    }
    return text;
}

void positionOf(std::string_view text, std::size_t offset, unsigned& line, unsigned& column)
{
    line = 1;
    column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++column; // a UTF-8 continuation byte is part of the previous character
        }
    }
}

void parseJsonText(std::string_view text, const std::string& path, bool lenient,
                   rapidjson::Document& out)
{
    constexpr unsigned lenientFlags =
        rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag;
    if (lenient) {
        out.Parse<lenientFlags>(text.data(), text.size());
    } else {
        out.Parse(text.data(), text.size());
    }
    if (out.HasParseError()) {
        unsigned line = 0;
        unsigned column = 0;
        positionOf(text, out.GetErrorOffset(), line, column);
        throw MappingLoadError(path, line, column,
                               std::string("malformed JSON: ") +
                                   rapidjson::GetParseError_En(out.GetParseError()));
    }
}

} // namespace hl7gw::mapping::detail
