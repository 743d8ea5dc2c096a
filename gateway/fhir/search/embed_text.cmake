# Turns a text file into a C++ string constant in hl7gw::fhir::search::detail:
#   cmake -DINPUT=f -DOUTPUT=f.cpp -DSYMBOL=name -P this
# (scripts/embed_text.cmake does the same for the HL7 v2 codec's namespace.)
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," content "${content}")
file(WRITE ${OUTPUT}
"// Generated from ${INPUT}; do not edit.\n#include <string_view>\nnamespace hl7gw::fhir::search::detail {\nstatic const char data[] = {${content} 0};\nextern const std::string_view ${SYMBOL}(data, sizeof(data) - 1);\n}\n")
