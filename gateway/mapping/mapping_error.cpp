#include "gateway/mapping/mapping_error.h"

namespace hl7gw::mapping {
namespace {

// The GNU error-message convention (`file:line:column: text`), so editors and CI jump to the
// spot; a part that is not known is left out rather than printed as 0.
std::string locatedText(const std::string& file, unsigned line, unsigned column,
                        const std::string& text)
{
    std::string out = file;
    if (line != 0) {
        out += ':' + std::to_string(line);
        if (column != 0) {
            out += ':' + std::to_string(column);
        }
    }
    if (!out.empty()) {
        out += ": ";
    }
    return out + text;
}

} // namespace

MappingLoadError::MappingLoadError(const std::string& file, unsigned line, unsigned column,
                                   const std::string& text)
    : std::runtime_error(locatedText(file, line, column, text)), file_(file), line_(line),
      column_(column), text_(text)
{
}

} // namespace hl7gw::mapping
