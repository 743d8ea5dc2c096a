# Turns a text file into a C++ string constant:
#   cmake -DINPUT=f -DOUTPUT=f.cpp -DSYMBOL=name -DNAMESPACE=hl7gw::x::detail -P this
# (CMake callers use hl7gw_embed_text() from the top-level CMakeLists.txt.)
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," content "${content}")
file(WRITE ${OUTPUT}
"// Generated from ${INPUT}; do not edit.\n#include <string_view>\nnamespace ${NAMESPACE} {\nstatic const char data[] = {${content} 0};\nextern const std::string_view ${SYMBOL}(data, sizeof(data) - 1);\n}\n")
