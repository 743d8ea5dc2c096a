#pragma once

#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/delimiters.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__GNUC__)
#define HL7GW_ALWAYS_INLINE __attribute__((always_inline))
#else
#define HL7GW_ALWAYS_INLINE
#endif

namespace hl7gw::hl7v2 {

class Message;

/// The level of an element in the ER7 hierarchy.
enum class Level : std::uint8_t { Field, Repetition, Component, Subcomponent };

/// A view of one field, repetition, component or sub-component: raw (still escaped,
/// still in the message's character set) bytes plus the message they belong to.
///
/// Lifetime: valid while the Message and the buffer it was parsed from are alive and
/// unchanged. Cheap to copy. Positions count from 1; asking for a position past the end
/// gives an empty, not-present element, never an error.
class Element {
public:
    Element() = default;
    Element(std::string_view raw, const Message* message, Level level, bool present)
        : raw_(raw), message_(message), level_(level), present_(present)
    {
    }

    /// A value that is never split or unescaped: MSH-1 and MSH-2 hold the delimiters.
    static Element literal(std::string_view raw, const Message* message)
    {
        Element e(raw, message, Level::Field, true);
        e.literal_ = true;
        return e;
    }

    /// The raw bytes: escapes not decoded, charset not converted.
    std::string_view raw() const { return raw_; }
    Level level() const { return level_; }
    const Message* message() const { return message_; }
    /// False when the position does not exist in the message (past the last separator).
    bool present() const { return present_; }
    /// Empty: not sent ("keep what you have").
    bool empty() const { return raw_.empty(); }
    /// HL7 explicit null `""` ("delete this value"), distinct from empty.
    bool isNull() const { return raw_ == "\"\""; }
    /// True for MSH-1/MSH-2 (and FHS/BHS): the bytes are the delimiters themselves.
    bool isLiteral() const { return literal_; }

    /// Number of children at the next level (1 for a present leaf, 0 for an absent element).
    std::size_t childCount() const;
    /// Child `n` (1-based) at the next level down. For a sub-component returns itself
    /// for n == 1.
    Element child(std::size_t n) const;
    /// Calls f(const Element&) for every child, in order, without allocating.
    template <typename F> void forEachChild(F&& f) const;

    /// Shortcuts that skip levels: on a field, component(c) means component c of the
    /// first repetition.
    Element repetition(std::size_t r) const;
    Element component(std::size_t c) const;
    Element subcomponent(std::size_t s) const;

private:
    char separator() const;

    std::string_view raw_;
    const Message* message_ = nullptr;
    Level level_ = Level::Field;
    bool present_ = false;
    bool literal_ = false;
};

/// One leaf of a segment (a sub-component, or the whole value where there are no deeper
/// separators) with its position, as SegmentView::forEachLeaf yields it.
struct Leaf {
    /// What follows the leaf: so a writer knows at a repetition's first leaf whether it has
    /// more parts, without looking ahead.
    enum class Next : std::uint8_t { Subcomponent, Component, Repetition, Field, End };

    Element element;
    std::uint32_t field;
    std::uint32_t repetition;
    std::uint32_t component;
    std::uint32_t subcomponent;
    /// Only printable ASCII other than the escape character, '"' and '\\': the raw bytes are
    /// already the decoded text (every supported charset is ASCII below 0x80) and need no
    /// escaping in JSON or XML either. Found during the same scan.
    bool plain;
    Next next;
};

/// A view of one segment. Fields count as in the standard: for MSH, field 1 is the field
/// separator and field 2 the encoding characters; for every other segment field 1 is the
/// first value after the segment id. Same lifetime rules as Element.
class SegmentView {
public:
    SegmentView() = default;
    SegmentView(std::string_view raw, std::size_t idLength, const Message* message)
        : raw_(raw), idLength_(idLength), message_(message)
    {
    }

    /// The segment's bytes without its terminator.
    std::string_view raw() const { return raw_; }
    std::string_view id() const { return raw_.substr(0, idLength_); }
    bool isHeader() const; // MSH, FHS or BHS: field 1 is the separator itself
    /// The number of fields present (the highest field number sent).
    std::size_t fieldCount() const;
    Element field(std::size_t n) const;
    template <typename F> void forEachField(F&& f) const; // f(std::size_t n, const Element&)
    /// Calls f(const Leaf&) for every leaf in order, finding all four separators in one pass
    /// over the segment: the way to read a whole segment (decoding, JSON, XML, validation).
    /// An empty field yields one empty leaf; MSH-1 and MSH-2 yield one literal leaf each.
    template <typename F> void forEachLeaf(F&& f) const;

private:
    std::string_view raw_;
    std::size_t idLength_ = 0;
    const Message* message_ = nullptr;
};

/// One parsed message: an index of segment positions over the caller's buffer plus the
/// message's delimiters and character set. Nothing is copied and nothing is decoded; memory
/// is O(segments). Built by Er7Parser; reuse one Message across parses to reuse its memory.
///
/// Lifetime: `bytes()` and every view point into the buffer given to the parser, which must
/// outlive the Message and its views. Not thread-safe for concurrent re-parsing; concurrent
/// reads of a finished Message are safe.
class Message {
public:
    struct SegmentSpan {
        std::uint32_t offset; // from bytes().data()
        std::uint32_t length; // without terminator
        std::uint32_t line;   // 1-based line within the message, for error locations
        std::uint32_t idLength;
    };

    /// The message bytes from the 'M' of MSH to the end of its last segment terminator.
    std::string_view bytes() const { return bytes_; }
    const Delimiters& delimiters() const { return delimiters_; }
    /// The character set values are read in: MSH-18's, else the parser's default.
    const Charset& charset() const { return *charset_; }
    /// True when the message declared its charset in MSH-18.
    bool charsetDeclared() const { return charsetDeclared_; }

    std::size_t segmentCount() const { return segments_.size(); }
    const std::vector<SegmentSpan>& segmentSpans() const { return segments_; }
    /// Segment by index, 0-based (the index in the message, not the occurrence).
    SegmentView segment(std::size_t index) const;
    /// The n-th (1-based) segment with this id, if any.
    std::optional<SegmentView> findSegment(std::string_view id, std::size_t occurrence = 1) const;
    /// Which occurrence (1-based) of its id the segment at `index` is.
    std::size_t occurrenceOf(std::size_t index) const;

    /// MSH shortcuts, raw (undecoded) values.
    SegmentView header() const { return segment(0); }
    std::string_view messageCode() const { return header().field(9).component(1).raw(); }
    std::string_view triggerEvent() const { return header().field(9).component(2).raw(); }
    std::string_view messageStructure() const { return header().field(9).component(3).raw(); }
    std::string_view controlId() const { return header().field(10).raw(); }
    std::string_view version() const { return header().field(12).component(1).raw(); }

    /// Where the first character of `inner` (a view into this message) is, as a byte offset.
    std::size_t offsetOf(std::string_view inner) const
    {
        return static_cast<std::size_t>(inner.data() - bytes_.data());
    }

    /// Finds the next occurrence of `separator` in [p, end), honouring multi-byte
    /// characters of the message's charset. Returns end when absent or separator is '\0'.
    const char* findSeparator(const char* p, const char* end, char separator) const;

private:
    friend class Er7Parser;

    std::string_view bytes_;
    Delimiters delimiters_;
    const Charset* charset_ = &Charset::utf8();
    bool charsetDeclared_ = false;
    std::vector<SegmentSpan> segments_;
};

// ---- inline implementation: these run once per field on the hot path ----

inline const char* Message::findSeparator(const char* p, const char* end, char separator) const
{
    if (separator == '\0') {
        return end;
    }
    if (!charset_->asciiTrailBytes) {
#if defined(__SSE2__)
        // Values are mostly a few bytes long, so the cost is per call, not per byte: compare 16
        // bytes at once, reading past `end` while the load stays inside the message (never past
        // its last byte), instead of one unpredictable branch per byte or a call into memchr.
        const auto first = reinterpret_cast<std::uintptr_t>(bytes_.data());
        const auto last = first + bytes_.size();
        if (reinterpret_cast<std::uintptr_t>(p) >= first &&
            reinterpret_cast<std::uintptr_t>(end) <= last) {
            const char* limit = bytes_.data() + bytes_.size();
            // Broadcast through a 32-bit register: GCC 12 builds _mm_set1_epi8 from a byte
            // stored on the stack and reloaded wider, a store-forwarding stall on every call.
            const auto repeated = 0x01010101U * static_cast<unsigned char>(separator);
            const __m128i wanted =
                _mm_shuffle_epi32(_mm_cvtsi32_si128(static_cast<int>(repeated)), 0);
            while (p < end && limit - p >= 16) {
                const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
                const auto mask =
                    static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, wanted)));
                if (mask != 0) {
                    const char* hit = p + __builtin_ctz(mask);
                    return hit < end ? hit : end;
                }
                p += 16;
            }
            for (; p < end; ++p) {
                if (*p == separator) {
                    return p;
                }
            }
            return end;
        }
#endif
        const void* hit = std::memchr(p, separator, static_cast<std::size_t>(end - p));
        return hit != nullptr ? static_cast<const char*>(hit) : end;
    }
    while (p < end) {
        if (*p == separator) {
            return p;
        }
        p += gbCharLength(p, end);
    }
    return end;
}

inline char Element::separator() const
{
    if (message_ == nullptr) {
        return '\0';
    }
    const Delimiters& d = message_->delimiters();
    switch (level_) {
    case Level::Field:
        return d.repetition;
    case Level::Repetition:
        return d.component;
    case Level::Component:
        return d.subcomponent;
    case Level::Subcomponent:
        return '\0';
    }
    return '\0';
}

template <typename F> void Element::forEachChild(F&& f) const
{
    if (!present_) {
        return;
    }
    if (literal_) {
        f(*this);
        return;
    }
    const auto next = level_ == Level::Subcomponent ? Level::Subcomponent
                                                    : static_cast<Level>(static_cast<int>(level_) + 1);
    const char sep = separator();
    const char* p = raw_.data();
    const char* end = p + raw_.size();
    for (;;) {
        const char* hit = message_->findSeparator(p, end, sep);
        f(Element(std::string_view(p, static_cast<std::size_t>(hit - p)), message_, next, true));
        if (hit == end) {
            return;
        }
        p = hit + 1;
    }
}

template <typename F> void SegmentView::forEachField(F&& f) const
{
    const char sep = message_->delimiters().field;
    const char* p = raw_.data() + idLength_;
    const char* end = raw_.data() + raw_.size();
    if (p >= end) {
        return;
    }
    std::size_t n = 1;
    if (isHeader()) {
        // MSH-1 is the separator itself; MSH-2 runs to the next separator.
        f(std::size_t{1}, Element::literal(std::string_view(p, 1), message_));
        const char* encodingEnd = message_->findSeparator(p + 1, end, sep);
        f(std::size_t{2},
          Element::literal(std::string_view(p + 1, static_cast<std::size_t>(encodingEnd - p - 1)),
                           message_));
        if (encodingEnd == end) {
            return;
        }
        p = encodingEnd + 1;
        n = 3;
    } else {
        ++p; // skip the separator after the id
    }
    for (;;) {
        const char* hit = message_->findSeparator(p, end, sep);
        f(n, Element(std::string_view(p, static_cast<std::size_t>(hit - p)), message_, Level::Field,
                     true));
        if (hit == end) {
            return;
        }
        p = hit + 1;
        ++n;
    }
}

template <typename F> void SegmentView::forEachLeaf(F&& f) const
{
    const Message& message = *message_;
    const Delimiters& d = message.delimiters();
    const char* p = raw_.data() + idLength_;
    const char* end = raw_.data() + raw_.size();
    if (p >= end) {
        return;
    }
    std::uint32_t field = 1;
    if (isHeader()) {
        f(Leaf{Element::literal(std::string_view(p, 1), message_), 1, 1, 1, 1, false, Leaf::Next::Field});
        const char* encodingEnd = message.findSeparator(p + 1, end, d.field);
        f(Leaf{Element::literal(std::string_view(p + 1, static_cast<std::size_t>(encodingEnd - p - 1)),
                                message_),
               2, 1, 1, 1, false, encodingEnd == end ? Leaf::Next::End : Leaf::Next::Field});
        if (encodingEnd == end) {
            return;
        }
        p = encodingEnd + 1;
        field = 3;
    } else {
        ++p;
    }
    // A separator the message does not declare is compared as the field separator, which is
    // already tested first, so it never matches on its own.
    const char fs = d.field;
    const char rs = d.repetition != '\0' ? d.repetition : fs;
    const char cs = d.component != '\0' ? d.component : fs;
    const char ss = d.subcomponent != '\0' ? d.subcomponent : fs;
    const char esc = d.escape != '\0' ? d.escape : fs;
    std::uint32_t repetition = 1;
    std::uint32_t component = 1;
    std::uint32_t subcomponent = 1;
    const char* leafStart = p;
    bool special = false; // an escape or a high byte since leafStart
    // Forced inline: called from the vector and the scalar loop, GCC would otherwise make it a
    // call per leaf, which costs more than the leaf's own work.
    auto boundary = [&](const char* q, bool plain) HL7GW_ALWAYS_INLINE {
        const char c = *q;
        const Leaf::Next next = c == fs   ? Leaf::Next::Field
                                : c == rs ? Leaf::Next::Repetition
                                : c == cs ? Leaf::Next::Component
                                          : Leaf::Next::Subcomponent;
        f(Leaf{Element(std::string_view(leafStart, static_cast<std::size_t>(q - leafStart)), message_,
                       Level::Subcomponent, true),
               field, repetition, component, subcomponent, plain, next});
        switch (next) {
        case Leaf::Next::Field:
            ++field;
            repetition = component = subcomponent = 1;
            break;
        case Leaf::Next::Repetition:
            ++repetition;
            component = subcomponent = 1;
            break;
        case Leaf::Next::Component:
            ++component;
            subcomponent = 1;
            break;
        default:
            ++subcomponent;
        }
        leafStart = q + 1;
    };
    auto scalar = [&](const char* q) HL7GW_ALWAYS_INLINE {
        const char c = *q;
        if (c == fs || c == rs || c == cs || c == ss) {
            boundary(q, !special);
            special = false;
        } else if (c == esc || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 ||
                   static_cast<unsigned char>(c) >= 0x7F) {
            special = true;
        }
    };
    if (message.charset().asciiTrailBytes) {
        while (p < end) {
            scalar(p);
            if (static_cast<unsigned char>(*p) >= 0x80) {
                p += gbCharLength(p, end); // trail bytes may equal a separator: skip them
            } else {
                ++p;
            }
        }
    } else {
#if defined(__SSE2__)
        // 16 bytes per step; loads may run past the segment but never past the message.
        const char* limit = message.bytes().data() + message.bytes().size();
        const __m128i vfs = _mm_set1_epi8(fs);
        const __m128i vrs = _mm_set1_epi8(rs);
        const __m128i vcs = _mm_set1_epi8(cs);
        const __m128i vss = _mm_set1_epi8(ss);
        const __m128i vesc = _mm_set1_epi8(esc);
        const __m128i vquote = _mm_set1_epi8('"');
        const __m128i vbackslash = _mm_set1_epi8('\\');
        const __m128i vspace = _mm_set1_epi8(' ');
        const __m128i vdel = _mm_set1_epi8(0x7F);
        while (p < end && limit - p >= 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            const __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vfs), _mm_cmpeq_epi8(v, vrs)),
                                              _mm_or_si128(_mm_cmpeq_epi8(v, vcs), _mm_cmpeq_epi8(v, vss)));
            auto mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
            // Signed compare: bytes >= 0x80 are negative, so "< ' '" also catches them.
            const __m128i odd = _mm_or_si128(
                _mm_or_si128(_mm_cmplt_epi8(v, vspace), _mm_cmpeq_epi8(v, vdel)),
                _mm_or_si128(_mm_cmpeq_epi8(v, vesc),
                             _mm_or_si128(_mm_cmpeq_epi8(v, vquote), _mm_cmpeq_epi8(v, vbackslash))));
            auto specials = static_cast<unsigned>(_mm_movemask_epi8(odd));
            if (end - p < 16) {
                const unsigned valid = (1U << (end - p)) - 1;
                mask &= valid;
                specials &= valid;
            }
            while (mask != 0) {
                const unsigned bit = static_cast<unsigned>(__builtin_ctz(mask));
                boundary(p + bit, !special && (specials & ((1U << bit) - 1)) == 0);
                special = false;
                specials &= ~((2U << bit) - 1);
                mask &= mask - 1;
            }
            special = special || specials != 0;
            p += 16;
        }
#endif
        for (; p < end; ++p) {
            scalar(p);
        }
    }
    f(Leaf{Element(std::string_view(leafStart, static_cast<std::size_t>(end - leafStart)), message_,
                   Level::Subcomponent, true),
           field, repetition, component, subcomponent, !special, Leaf::Next::End});
}

} // namespace hl7gw::hl7v2
