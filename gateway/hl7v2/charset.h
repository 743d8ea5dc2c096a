#pragma once

#include <string_view>

namespace hl7gw::hl7v2 {

/// A character set the codec can read and write (STANDARDS.md §1.3). Instances are
/// static and immutable; compare by address or by `id`.
struct Charset {
    enum class Id { Ascii, Utf8, Latin1, Latin2, Latin3, Latin4, Cyrillic, Arabic, Greek, Hebrew,
                    Latin5, Latin9, Gb18030 };

    Id id;
    /// The name written to MSH-18 when we produce a message in this set.
    std::string_view hl7Name;
    /// The name glibc iconv knows it by.
    std::string_view iconvName;
    /// True for sets whose multi-byte characters contain bytes in the ASCII range
    /// (GB18030/GBK trail bytes 0x40-0x7E include | ^ ~ \ &): delimiters must then be
    /// found character by character, never by a plain byte scan (STANDARDS.md §1.1 rule 9).
    bool asciiTrailBytes;

    static const Charset& utf8();
    static const Charset& ascii();
    static const Charset& gb18030();
    static const Charset& latin1();

    /// How MSH-18 names map to sets. Returns nullptr for a name we do not support
    /// (BIG-5, UTF-16, ISO IR87 ...) or do not know. Accepts the standard names
    /// (`UNICODE UTF-8`, `8859/1`, `GB 18030-2000`, `ISO IR100` ...), the vendor aliases
    /// `GBK`, `GB2312`, `GB18030`, `CP936`, `UTF-8`, and `UNICODE` (read as UTF-8: Chinese
    /// systems use it that way). Case-insensitive, surrounding spaces ignored.
    static const Charset* fromHl7Name(std::string_view name);

    /// Same lookup for a user-facing name such as a `--charset` option or a channel's
    /// `defaultCharset`: the HL7 names plus iconv spellings (`ISO-8859-1`, `gb18030`).
    static const Charset* fromAnyName(std::string_view name);
};

/// Length in bytes of the character starting at `p` (p < end) in a set with ASCII trail
/// bytes (GB18030: 1, 2 or 4 bytes). Truncated sequences count as the bytes left.
inline std::size_t gbCharLength(const char* p, const char* end)
{
    const auto lead = static_cast<unsigned char>(*p);
    if (lead < 0x81 || lead == 0xFF || end - p < 2) {
        return 1;
    }
    const auto second = static_cast<unsigned char>(p[1]);
    if (second >= 0x30 && second <= 0x39) {
        return end - p >= 4 ? 4 : static_cast<std::size_t>(end - p);
    }
    return 2;
}

} // namespace hl7gw::hl7v2
