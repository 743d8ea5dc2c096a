#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace hl7gw::mapping::detail {

/// The bytes of a mapping, table or dialect file; MappingLoadError when it cannot be read.
std::string readDataFile(const std::string& path);

/// `text` without a leading UTF-8 byte order mark.
std::string_view withoutBom(std::string_view text);

/// The 1-based line and column of a byte offset; columns count characters, not bytes, so they
/// match what an editor shows for Chinese text.
void positionOf(std::string_view text, std::size_t offset, unsigned& line, unsigned& column);

/// Parses JSON text of `path` (comments and trailing commas allowed when `lenient`); a syntax
/// error is a MappingLoadError with its line and column.
void parseJsonText(std::string_view text, const std::string& path, bool lenient,
                   rapidjson::Document& out);

} // namespace hl7gw::mapping::detail
