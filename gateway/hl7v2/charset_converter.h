#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::hl7v2 {

/// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or code points past
/// U+10FFFF). On failure `badOffset` (if given) receives the offset of the first bad byte.
bool isValidUtf8(std::string_view bytes, std::size_t* badOffset = nullptr);

/// Converts between a message's character set and UTF-8 with glibc iconv. Keeps one iconv
/// handle per set and direction, so create one converter per thread and reuse it.
/// Not thread-safe.
class CharsetConverter {
public:
    CharsetConverter() = default;
    ~CharsetConverter();
    CharsetConverter(const CharsetConverter&) = delete;
    CharsetConverter& operator=(const CharsetConverter&) = delete;

    /// Appends `bytes` (in the set iconv knows as `iconvName`) to `out` as UTF-8. A byte
    /// sequence invalid in that set becomes U+FFFD, and the call returns false with the
    /// offset of the first bad byte in `badOffset`. Nothing is dropped silently.
    bool toUtf8(std::string_view bytes, std::string_view iconvName, std::string& out,
                std::size_t* badOffset = nullptr);

    /// Appends UTF-8 `text` to `out` in the set `iconvName`. A character the set cannot
    /// represent (or invalid UTF-8) stops the conversion: returns false with its offset in
    /// `badOffset`; `out` then holds the text converted up to that character.
    bool fromUtf8(std::string_view text, std::string_view iconvName, std::string& out,
                  std::size_t* badOffset = nullptr);

private:
    void* handle(std::string_view to, std::string_view from);

    struct Entry {
        std::string to;
        std::string from;
        void* cd;
    };
    std::vector<Entry> handles_;
};

} // namespace hl7gw::hl7v2
