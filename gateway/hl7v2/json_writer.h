#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/message.h"
#include "gateway/hl7v2/text_decoder.h"

#include <cstdint>
#include <string>

namespace hl7gw::hl7v2 {

/// Writes a message as the JSON form of `hl7gw parse --to json` (documented in
/// gateway/hl7v2/README.md): one object with the header facts and `segments`, an array of
/// arrays `[id, field1, field2, ...]`. A field is an array of repetitions (`[]` when
/// empty); a repetition is a string, or an array of components when it has more than one;
/// a component is a string, or an array of sub-components. Values are decoded UTF-8; HL7
/// null `""` is JSON null. MSH-1 and MSH-2 are their literal characters.
///
/// Appends to `out`; decoding problems go to `issues`. Uses the caller's decoder, so one
/// writer per thread.
void writeJson(const Message& message, std::uint32_t index, TextDecoder& decoder,
               std::string& out, core::IssueList* issues = nullptr);

} // namespace hl7gw::hl7v2
