#pragma once

#include "gateway/hl7v2/message.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hl7gw::hl7v2 {

/// A position in a message, written `SEG[occurrence]-FIELD[repetition].COMPONENT.SUB`,
/// e.g. `PID-5.1`, `PID-3[2].1`, `OBX[3]-5`, `OBR-15.1.2`, `MSH-9`. Every number counts
/// from 1; a missing occurrence or repetition means the first; a missing component or
/// sub-component means the whole repetition or component. This is the syntax of
/// `hl7gw parse --get` and of mapping files.
struct Path {
    std::string segment;
    std::uint32_t occurrence = 1;
    std::uint32_t field = 0; // 0: the whole segment
    std::uint32_t repetition = 1;
    std::uint32_t component = 0;
    std::uint32_t subcomponent = 0;

    /// Parses `text`; on failure returns nullopt and, if `error` is given, says what is
    /// wrong and at which character.
    static std::optional<Path> parse(std::string_view text, std::string* error = nullptr);
    std::string toString() const;

    /// The element at this path, or a not-present element. A path to a whole segment
    /// gives no element (present() false); use Message::findSegment for segments.
    Element resolve(const Message& message) const;
};

} // namespace hl7gw::hl7v2
