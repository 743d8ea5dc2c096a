#pragma once

#include <xercesc/util/XercesDefs.hpp>

#include <string>
#include <string_view>

namespace hl7gw::fhir::detail {

/// Initializes Xerces once per process (Xerces counts Initialize calls, so other modules doing
/// the same is harmless). Call before any Xerces use.
void ensureXercesInitialized();

/// UTF-8 text of a Xerces string (nullptr gives "").
std::string toUtf8(const XMLCh* text);
/// Xerces string of UTF-8 text.
std::u16string toXmlCh(std::string_view text);

} // namespace hl7gw::fhir::detail
