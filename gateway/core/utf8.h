#pragma once

#include <cstddef>
#include <string_view>

namespace hl7gw::core {

/// Length of the valid UTF-8 sequence starting at text[i] (RFC 3629: no overlongs, no
/// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one. i < size.
std::size_t utf8SequenceLength(std::string_view text, std::size_t i);

} // namespace hl7gw::core
