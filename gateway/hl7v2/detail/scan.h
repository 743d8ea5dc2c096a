#pragma once

#include <cstddef>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hl7gw::hl7v2::detail {

/// First CR or LF in [p, end), or end. CR and LF never occur inside a GB18030 or UTF-8
/// character, so a byte scan is safe for every supported charset.
inline const char* findLineEnd(const char* p, const char* end)
{
#if defined(__SSE2__)
    const __m128i cr = _mm_set1_epi8('\r');
    const __m128i lf = _mm_set1_epi8('\n');
    while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const int mask =
            _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
        if (mask != 0) {
            return p + __builtin_ctz(static_cast<unsigned>(mask));
        }
        p += 16;
    }
#endif
    while (p < end && *p != '\r' && *p != '\n') {
        ++p;
    }
    return p;
}

/// Past one segment terminator (CR, LF or CRLF) at p; p itself when there is none.
inline const char* skipTerminator(const char* p, const char* end)
{
    if (p < end && *p == '\r') {
        ++p;
        if (p < end && *p == '\n') {
            ++p;
        }
    } else if (p < end && *p == '\n') {
        ++p;
    }
    return p;
}

inline bool isBlank(const char* p, const char* end)
{
    for (; p < end; ++p) {
        if (*p != ' ' && *p != '\t') {
            return false;
        }
    }
    return true;
}

inline bool isUpperAlnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

inline bool isAlnum(char c)
{
    return isUpperAlnum(c) || (c >= 'a' && c <= 'z');
}

} // namespace hl7gw::hl7v2::detail
