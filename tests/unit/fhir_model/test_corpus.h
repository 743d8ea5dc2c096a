#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace hl7gw::fhir::test {

inline std::filesystem::path fhirCorpus()
{
    return std::filesystem::path(HL7GW_CORPUS_DIR) / "fhir-r4";
}

inline std::string readFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The official JSON examples, sorted by name.
inline std::vector<std::filesystem::path> jsonExamples()
{
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(fhirCorpus() / "examples/json")) {
        if (entry.path().extension() == ".json") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace hl7gw::fhir::test
