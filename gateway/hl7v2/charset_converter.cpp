#include "gateway/hl7v2/charset_converter.h"

#include "gateway/core/utf8.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iconv.h>

namespace hl7gw::hl7v2 {

namespace {

constexpr std::string_view ReplacementCharacter = "\xEF\xBF\xBD";

bool isUtf8Name(std::string_view name)
{
    return name == "UTF-8";
}

} // namespace

bool isValidUtf8(std::string_view bytes, std::size_t* badOffset)
{
    const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    std::size_t i = 0;
    while (i < n) {
        // ASCII runs dominate real messages: check 8 bytes at a time.
        while (i + 8 <= n) {
            std::uint64_t w;
            std::memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ULL) != 0) {
                break;
            }
            i += 8;
        }
        if (i >= n) {
            break;
        }
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        const std::size_t len = core::utf8SequenceLength(bytes, i);
        if (len == 0) {
            if (badOffset != nullptr) {
                *badOffset = i;
            }
            return false;
        }
        i += len;
    }
    return true;
}

CharsetConverter::~CharsetConverter()
{
    for (Entry& e : handles_) {
        iconv_close(static_cast<iconv_t>(e.cd));
    }
}

void* CharsetConverter::handle(std::string_view to, std::string_view from)
{
    for (Entry& e : handles_) {
        if (e.to == to && e.from == from) {
            iconv(static_cast<iconv_t>(e.cd), nullptr, nullptr, nullptr, nullptr); // reset state
            return e.cd;
        }
    }
    const std::string toName(to);
    const std::string fromName(from);
    iconv_t cd = iconv_open(toName.c_str(), fromName.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) {
        return nullptr;
    }
    handles_.push_back(Entry{toName, fromName, cd});
    return cd;
}

bool CharsetConverter::toUtf8(std::string_view bytes, std::string_view iconvName, std::string& out,
                              std::size_t* badOffset)
{
    if (isUtf8Name(iconvName) || iconvName == "ASCII") {
        // ASCII is read as UTF-8, its superset: senders that declare ASCII and send UTF-8
        // are common, and valid UTF-8 loses nothing (ours; see gateway/hl7v2/README.md).
        const char* origin = bytes.data();
        std::size_t bad = 0;
        bool ok = true;
        while (!isValidUtf8(bytes, &bad)) {
            if (ok && badOffset != nullptr) {
                *badOffset = bad + static_cast<std::size_t>(bytes.data() - origin);
            }
            ok = false;
            out.append(bytes.data(), bad);
            out.append(ReplacementCharacter);
            bytes.remove_prefix(bad + 1);
        }
        out.append(bytes);
        return ok;
    }
    void* cd = handle("UTF-8", iconvName);
    if (cd == nullptr) {
        if (badOffset != nullptr) {
            *badOffset = 0;
        }
        return false;
    }
    bool ok = true;
    const std::size_t base = out.size();
    out.resize(base + bytes.size() * 4 + 8);
    char* in = const_cast<char*>(bytes.data());
    std::size_t inLeft = bytes.size();
    char* dst = out.data() + base;
    std::size_t dstLeft = out.size() - base;
    while (inLeft > 0) {
        const std::size_t r = iconv(static_cast<iconv_t>(cd), &in, &inLeft, &dst, &dstLeft);
        if (r != static_cast<std::size_t>(-1)) {
            break;
        }
        if (errno == E2BIG) {
            const std::size_t used = static_cast<std::size_t>(dst - out.data());
            out.resize(out.size() * 2);
            dst = out.data() + used;
            dstLeft = out.size() - used;
            continue;
        }
        // EILSEQ or EINVAL: a byte sequence the set does not define, or one cut short.
        if (ok && badOffset != nullptr) {
            *badOffset = static_cast<std::size_t>(in - bytes.data());
        }
        ok = false;
        if (dstLeft < ReplacementCharacter.size()) {
            const std::size_t used = static_cast<std::size_t>(dst - out.data());
            out.resize(out.size() * 2);
            dst = out.data() + used;
            dstLeft = out.size() - used;
        }
        std::memcpy(dst, ReplacementCharacter.data(), ReplacementCharacter.size());
        dst += ReplacementCharacter.size();
        dstLeft -= ReplacementCharacter.size();
        ++in;
        --inLeft;
        iconv(static_cast<iconv_t>(cd), nullptr, nullptr, nullptr, nullptr);
    }
    out.resize(static_cast<std::size_t>(dst - out.data()));
    return ok;
}

bool CharsetConverter::fromUtf8(std::string_view text, std::string_view iconvName,
                                std::string& out, std::size_t* badOffset)
{
    std::size_t bad = 0;
    if (!isValidUtf8(text, &bad)) {
        if (badOffset != nullptr) {
            *badOffset = bad;
        }
        out.append(text.data(), bad);
        return false;
    }
    if (isUtf8Name(iconvName)) {
        out.append(text);
        return true;
    }
    void* cd = handle(iconvName, "UTF-8");
    if (cd == nullptr) {
        if (badOffset != nullptr) {
            *badOffset = 0;
        }
        return false;
    }
    const std::size_t base = out.size();
    out.resize(base + text.size() * 2 + 8);
    char* in = const_cast<char*>(text.data());
    std::size_t inLeft = text.size();
    char* dst = out.data() + base;
    std::size_t dstLeft = out.size() - base;
    while (inLeft > 0) {
        const std::size_t r = iconv(static_cast<iconv_t>(cd), &in, &inLeft, &dst, &dstLeft);
        if (r != static_cast<std::size_t>(-1)) {
            break;
        }
        if (errno == E2BIG) {
            const std::size_t used = static_cast<std::size_t>(dst - out.data());
            out.resize(out.size() * 2);
            dst = out.data() + used;
            dstLeft = out.size() - used;
            continue;
        }
        if (badOffset != nullptr) {
            *badOffset = static_cast<std::size_t>(in - text.data());
        }
        out.resize(static_cast<std::size_t>(dst - out.data()));
        return false;
    }
    out.resize(static_cast<std::size_t>(dst - out.data()));
    return true;
}

} // namespace hl7gw::hl7v2
