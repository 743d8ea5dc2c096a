// hl7gw_fhir_modelgen SCHEMA_JSON SINGLE_XSD OUTPUT: writes data/r4_definitions.txt from the
// official R4 JSON Schema and XSD (see gateway/fhir/model/README.md).
#include "gateway/fhir/model/detail/definitions_generator.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

namespace {

bool readFile(const char* path, std::string& out)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return false;
    }
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 4) {
        std::cerr << "usage: hl7gw_fhir_modelgen fhir.schema.json fhir-single.xsd OUTPUT\n";
        return 2;
    }
    std::string schema;
    std::string xsd;
    if (!readFile(argv[1], schema) || !readFile(argv[2], xsd)) {
        std::cerr << "hl7gw_fhir_modelgen: cannot read the inputs\n";
        return 2;
    }
    std::string table;
    std::string error;
    if (!hl7gw::fhir::detail::generateDefinitionsTable(schema, xsd, table, error)) {
        std::cerr << "hl7gw_fhir_modelgen: " << error << '\n';
        return 1;
    }
    std::ofstream out(argv[3], std::ios::binary | std::ios::trunc);
    out << table;
    return out ? 0 : 1;
}
