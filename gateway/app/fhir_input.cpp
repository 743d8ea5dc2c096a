#include "gateway/app/fhir_input.h"

#include <fstream>
#include <iterator>

namespace hl7gw::app {

FhirFormat fhirFormatOf(const std::string& path, std::string& text)
{
    if (path == "-") {
        return FhirFormat::None;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return FhirFormat::None; // the v2 reader reports it
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::size_t start = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
    start = text.find_first_not_of(" \t\r\n", start);
    if (start == std::string::npos) {
        return FhirFormat::None;
    }
    if (text[start] == '{') {
        return FhirFormat::Json;
    }
    if (text[start] == '<' && text.find("xmlns=\"http://hl7.org/fhir\"", start) < start + 4096) {
        return FhirFormat::Xml;
    }
    return FhirFormat::None;
}

} // namespace hl7gw::app
