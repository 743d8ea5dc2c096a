#include "gateway/hl7v2/charset.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace hl7gw::hl7v2 {

namespace {

constexpr std::array<Charset, 13> Sets{{
    {Charset::Id::Ascii, "ASCII", "ASCII", false},
    {Charset::Id::Utf8, "UNICODE UTF-8", "UTF-8", false},
    {Charset::Id::Latin1, "8859/1", "ISO-8859-1", false},
    {Charset::Id::Latin2, "8859/2", "ISO-8859-2", false},
    {Charset::Id::Latin3, "8859/3", "ISO-8859-3", false},
    {Charset::Id::Latin4, "8859/4", "ISO-8859-4", false},
    {Charset::Id::Cyrillic, "8859/5", "ISO-8859-5", false},
    {Charset::Id::Arabic, "8859/6", "ISO-8859-6", false},
    {Charset::Id::Greek, "8859/7", "ISO-8859-7", false},
    {Charset::Id::Hebrew, "8859/8", "ISO-8859-8", false},
    {Charset::Id::Latin5, "8859/9", "ISO-8859-9", false},
    {Charset::Id::Latin9, "8859/15", "ISO-8859-15", false},
    {Charset::Id::Gb18030, "GB 18030-2000", "GB18030", true},
}};

const Charset& set(Charset::Id id)
{
    return Sets[static_cast<std::size_t>(id)];
}

struct Alias {
    std::string_view name;
    Charset::Id id;
};

// HL7 table 0211 names, then the aliases Chinese vendors send (STANDARDS.md §1.3).
constexpr std::array<Alias, 37> Hl7Aliases{{
    {"ASCII", Charset::Id::Ascii},
    {"ISO IR6", Charset::Id::Ascii},
    {"US-ASCII", Charset::Id::Ascii},
    {"UNICODE UTF-8", Charset::Id::Utf8},
    {"UTF-8", Charset::Id::Utf8},
    {"UTF8", Charset::Id::Utf8},
    {"UNICODE", Charset::Id::Utf8},
    {"8859/1", Charset::Id::Latin1},
    {"ISO IR100", Charset::Id::Latin1},
    {"8859/2", Charset::Id::Latin2},
    {"ISO IR101", Charset::Id::Latin2},
    {"8859/3", Charset::Id::Latin3},
    {"ISO IR109", Charset::Id::Latin3},
    {"8859/4", Charset::Id::Latin4},
    {"ISO IR110", Charset::Id::Latin4},
    {"8859/5", Charset::Id::Cyrillic},
    {"ISO IR144", Charset::Id::Cyrillic},
    {"8859/6", Charset::Id::Arabic},
    {"ISO IR127", Charset::Id::Arabic},
    {"8859/7", Charset::Id::Greek},
    {"ISO IR126", Charset::Id::Greek},
    {"8859/8", Charset::Id::Hebrew},
    {"ISO IR138", Charset::Id::Hebrew},
    {"8859/9", Charset::Id::Latin5},
    {"ISO IR148", Charset::Id::Latin5},
    {"8859/15", Charset::Id::Latin9},
    {"GB 18030-2000", Charset::Id::Gb18030},
    {"GB18030", Charset::Id::Gb18030},
    {"GB18030-2000", Charset::Id::Gb18030},
    {"GB 18030", Charset::Id::Gb18030},
    {"GB18030-2005", Charset::Id::Gb18030},
    {"GBK", Charset::Id::Gb18030},
    {"GB2312", Charset::Id::Gb18030},
    {"GB 2312", Charset::Id::Gb18030},
    {"CP936", Charset::Id::Gb18030},
    {"EUC-CN", Charset::Id::Gb18030},
    {"ISO IR58", Charset::Id::Gb18030},
}};

std::string normalise(std::string_view name)
{
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.front()))) {
        name.remove_prefix(1);
    }
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) {
        name.remove_suffix(1);
    }
    std::string out(name);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

} // namespace

const Charset& Charset::utf8()
{
    return set(Id::Utf8);
}

const Charset& Charset::ascii()
{
    return set(Id::Ascii);
}

const Charset& Charset::gb18030()
{
    return set(Id::Gb18030);
}

const Charset& Charset::latin1()
{
    return set(Id::Latin1);
}

const Charset* Charset::fromHl7Name(std::string_view name)
{
    const std::string key = normalise(name);
    for (const Alias& alias : Hl7Aliases) {
        if (alias.name == key) {
            return &set(alias.id);
        }
    }
    return nullptr;
}

const Charset* Charset::fromAnyName(std::string_view name)
{
    if (const Charset* cs = fromHl7Name(name)) {
        return cs;
    }
    const std::string key = normalise(name);
    for (const Charset& cs : Sets) {
        if (cs.iconvName == key) {
            return &cs;
        }
    }
    if (key == "LATIN1" || key == "ISO8859-1" || key == "ISO_8859-1") {
        return &latin1();
    }
    return nullptr;
}

} // namespace hl7gw::hl7v2
