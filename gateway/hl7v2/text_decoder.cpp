#include "gateway/hl7v2/text_decoder.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace hl7gw::hl7v2 {

namespace {

using core::Severity;

// The first byte in [p, end) that is the escape character or has its high bit set.
const char* findSpecial(const char* p, const char* end, char escape)
{
    const std::uint64_t escapes = 0x0101010101010101ULL * static_cast<unsigned char>(escape);
    while (end - p >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        const std::uint64_t x = w ^ escapes;
        const std::uint64_t zero = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
        if (((w & 0x8080808080808080ULL) | zero) != 0) {
            break;
        }
        p += 8;
    }
    for (; p < end; ++p) {
        if (*p == escape || (static_cast<unsigned char>(*p) & 0x80) != 0) {
            return p;
        }
    }
    return end;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

struct CharsetSwitch {
    std::string_view code;      // the text after C or M
    std::string_view iconvName; // "" = back to the message's own set
    bool setHighBit;            // 94^n sets sent as 7-bit pairs: decode as their EUC form
};

// ISO 2022 designations HL7 v2.5 §2.7.2 names for \C..\ and \M..\ (escape bytes as hex).
constexpr std::array<CharsetSwitch, 15> Switches{{
    {"2842", "", false},            // ESC ( B  ASCII
    {"284A", "ISO646-JP", false},   // ESC ( J  JIS X 0201 Roman
    {"2D41", "ISO-8859-1", false},  // ESC - A  Latin-1 upper half
    {"2D42", "ISO-8859-2", false},
    {"2D43", "ISO-8859-3", false},
    {"2D44", "ISO-8859-4", false},
    {"2D4C", "ISO-8859-5", false},
    {"2D47", "ISO-8859-6", false},
    {"2D46", "ISO-8859-7", false},
    {"2D48", "ISO-8859-8", false},
    {"2D4D", "ISO-8859-9", false},
    {"2442", "EUC-JP", true},       // ESC $ B  JIS X 0208
    {"2441", "GB18030", true},      // ESC $ A  GB 2312
    {"242843", "EUC-KR", true},     // ESC $ ( C  KS X 1001
    {"242842", "EUC-JP", true},     // ESC $ ( B  JIS X 0208 (long form)
}};

core::Location offsetLocation(const Message& message, const char* p)
{
    core::Location loc;
    loc.offset = static_cast<std::size_t>(p - message.bytes().data());
    return loc;
}

} // namespace

std::string_view TextDecoder::decode(const Element& element, core::IssueList* issues)
{
    const Message* message = element.message();
    const std::string_view raw = element.raw();
    if (message == nullptr || raw.empty()) {
        return raw;
    }
    const Charset& cs = message->charset();
    const char* end = raw.data() + raw.size();
    const char escape = element.isLiteral() ? '\0' : message->delimiters().escape;
    const char* special = escape != '\0' ? findSpecial(raw.data(), end, escape)
                                         : findSpecial(raw.data(), end, '\x80');
    if (special == end) {
        return raw; // plain ASCII, no escapes: valid in every supported set
    }
    if ((cs.id == Charset::Id::Utf8 || cs.id == Charset::Id::Ascii) &&
        (escape == '\0' || std::memchr(special, escape, static_cast<std::size_t>(end - special)) ==
                               nullptr) &&
        isValidUtf8(std::string_view(special, static_cast<std::size_t>(end - special)))) {
        return raw; // UTF-8 text without escapes
    }
    scratch_.clear();
    decodeAppend(element, scratch_, issues);
    return scratch_;
}

void TextDecoder::decodeAppend(const Element& element, std::string& out, core::IssueList* issues)
{
    const Message* message = element.message();
    const std::string_view raw = element.raw();
    if (message == nullptr || raw.empty()) {
        out.append(raw);
        return;
    }
    const Delimiters& d = message->delimiters();
    const char escape = element.isLiteral() ? '\0' : d.escape;
    std::string_view iconvName = message->charset().iconvName;
    bool setHighBit = false;
    pending_.clear();
    currentRaw_ = raw;

    const char* p = raw.data();
    const char* end = p + raw.size();
    while (p < end) {
        const char* hit = message->findSeparator(p, end, escape);
        pending_.append(p, static_cast<std::size_t>(hit - p));
        if (hit == end) {
            break;
        }
        const char* close = static_cast<const char*>(
            std::memchr(hit + 1, escape, static_cast<std::size_t>(end - hit - 1)));
        if (close == nullptr) {
            if (issues != nullptr) {
                issues->add(Severity::Warning, "102", offsetLocation(*message, hit),
                            "unterminated escape sequence; kept as written");
            }
            pending_.append(hit, static_cast<std::size_t>(end - hit));
            break;
        }
        const std::string_view seq(hit + 1, static_cast<std::size_t>(close - hit - 1));
        const std::string_view verbatim(hit, static_cast<std::size_t>(close - hit + 1));
        p = close + 1;
        if (seq.size() == 1) {
            switch (seq[0]) {
            case 'F':
                pending_ += d.field;
                continue;
            case 'S':
                pending_ += d.component;
                continue;
            case 'T':
                pending_ += d.subcomponent;
                continue;
            case 'R':
                pending_ += d.repetition;
                continue;
            case 'E':
                pending_ += d.escape;
                continue;
            case 'H':
            case 'N':
                if (options_.keepFormatting) {
                    pending_.append(verbatim);
                }
                continue;
            default:
                break;
            }
        }
        if (seq == ".br") {
            pending_ += '\n';
            continue;
        }
        if (!seq.empty() && seq[0] == '.') {
            const std::string_view command = seq.substr(1, 2);
            if (command == "sp" || command == "in" || command == "ti" || command == "sk" ||
                command == "fi" || command == "nf" || command == "ce") {
                if (options_.keepFormatting) {
                    pending_.append(verbatim);
                } else if (command == "sp" || command == "sk") {
                    int n = 0;
                    for (char c : seq.substr(3)) {
                        if (c >= '0' && c <= '9' && n < 100) {
                            n = n * 10 + (c - '0');
                        }
                    }
                    pending_.append(static_cast<std::size_t>(n == 0 ? 1 : n),
                                    command == "sp" ? '\n' : ' ');
                }
                continue;
            }
        }
        if (!seq.empty() && seq[0] == 'X') {
            const std::string_view hex = seq.substr(1);
            bool good = !hex.empty() && hex.size() % 2 == 0;
            for (std::size_t i = 0; good && i < hex.size(); ++i) {
                good = hexValue(hex[i]) >= 0;
            }
            if (good) {
                for (std::size_t i = 0; i < hex.size(); i += 2) {
                    pending_ += static_cast<char>(hexValue(hex[i]) * 16 + hexValue(hex[i + 1]));
                }
                continue;
            }
        }
        if (!seq.empty() && (seq[0] == 'C' || seq[0] == 'M')) {
            const CharsetSwitch* found = nullptr;
            for (const CharsetSwitch& s : Switches) {
                if (s.code == seq.substr(1)) {
                    found = &s;
                }
            }
            if (found != nullptr) {
                flush(pending_, *message, iconvName, setHighBit, out, issues);
                pending_.clear();
                iconvName = found->iconvName.empty() ? message->charset().iconvName
                                                     : found->iconvName;
                setHighBit = found->setHighBit;
                continue;
            }
            if (issues != nullptr) {
                issues->add(Severity::Warning, "102", offsetLocation(*message, hit),
                            "character set switch '" + std::string(seq.substr(0, 16)) +
                                "' is not one we can decode; kept as written");
            }
            pending_.append(verbatim);
            continue;
        }
        if (!seq.empty() && seq[0] == 'Z') {
            pending_.append(verbatim); // locally defined: passed through (STANDARDS.md §1.2)
            continue;
        }
        if (issues != nullptr) {
            issues->add(Severity::Warning, "102", offsetLocation(*message, hit),
                        "unknown escape sequence; kept as written");
        }
        pending_.append(verbatim);
    }
    flush(pending_, *message, iconvName, setHighBit, out, issues);
    pending_.clear();
}

void TextDecoder::flush(std::string_view bytes, const Message& message, std::string_view iconvName,
                        bool setHighBit, std::string& out, core::IssueList* issues)
{
    if (bytes.empty()) {
        return;
    }
    std::string highBytes;
    if (setHighBit) {
        highBytes.assign(bytes);
        for (char& c : highBytes) {
            if (static_cast<unsigned char>(c) >= 0x21 && static_cast<unsigned char>(c) <= 0x7E) {
                c = static_cast<char>(static_cast<unsigned char>(c) | 0x80);
            }
        }
        bytes = highBytes;
    }
    std::size_t bad = 0;
    if (!converter_.toUtf8(bytes, iconvName, out, &bad) && issues != nullptr) {
        core::Location loc;
        // Exact when no escape sequence precedes the bad byte in the value.
        loc.offset = message.offsetOf(currentRaw_) + bad;
        issues->add(Severity::Error, "102", loc,
                    "bytes invalid in character set " + std::string(iconvName) +
                        " (value byte " + std::to_string(bad) + ")");
    }
}

} // namespace hl7gw::hl7v2
