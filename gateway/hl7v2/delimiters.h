#pragma once

namespace hl7gw::hl7v2 {

/// The encoding characters of one message, read from MSH-1 and MSH-2 (or FHS/BHS).
/// A separator that the message does not declare is '\0' and never splits anything;
/// in particular a message without an escape character has no escape sequences.
struct Delimiters {
    char field = '|';
    char component = '^';
    char repetition = '~';
    char escape = '\\';
    char subcomponent = '&';
    /// v2.7 truncation character (5th MSH-2 character); '\0' when absent. Never a separator.
    char truncation = '\0';

    bool operator==(const Delimiters&) const = default;
};

} // namespace hl7gw::hl7v2
