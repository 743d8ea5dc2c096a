#include "gateway/hl7v2/json_writer.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>

namespace hl7gw::hl7v2 {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

class Walker {
public:
    Walker(JsonWriter& w, TextDecoder& decoder, core::IssueList* issues)
        : w_(w), decoder_(decoder), issues_(issues)
    {
    }

    void leaf(const Element& e)
    {
        if (e.isNull()) {
            w_.Null();
            return;
        }
        const std::string_view text = decoder_.decode(e, issues_);
        w_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    }

    // A string when the element has one child, else an array of its children's forms.
    void node(const Element& e, char sep)
    {
        const std::string_view raw = e.raw();
        if (sep == '\0' || e.message()->findSeparator(raw.data(), raw.data() + raw.size(), sep) ==
                               raw.data() + raw.size()) {
            leaf(e);
            return;
        }
        w_.StartArray();
        const char next = e.level() == Level::Repetition ? e.message()->delimiters().subcomponent
                                                         : '\0';
        e.forEachChild([&](const Element& child) { node(child, next); });
        w_.EndArray();
    }

    void field(const Element& f)
    {
        w_.StartArray();
        if (f.isLiteral()) {
            leaf(f);
        } else if (!f.empty()) {
            const char sep = f.message()->delimiters().component;
            f.forEachChild([&](const Element& rep) { node(rep, sep); });
        }
        w_.EndArray();
    }

private:
    JsonWriter& w_;
    TextDecoder& decoder_;
    core::IssueList* issues_;
};

void key(JsonWriter& w, const char* name)
{
    w.Key(name, static_cast<rapidjson::SizeType>(std::strlen(name)));
}

void string(JsonWriter& w, std::string_view text)
{
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

} // namespace

void writeJson(const Message& message, std::uint32_t index, TextDecoder& decoder, std::string& out,
               core::IssueList* issues)
{
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    Walker walker(w, decoder, issues);
    w.StartObject();
    key(w, "index");
    w.Uint(index);
    key(w, "type");
    std::string type(decoder.decode(message.header().field(9).component(1)));
    type += '^';
    type += decoder.decode(message.header().field(9).component(2));
    string(w, type);
    key(w, "controlId");
    string(w, decoder.decode(message.header().field(10)));
    key(w, "version");
    string(w, decoder.decode(message.header().field(12).component(1)));
    key(w, "charset");
    string(w, message.charset().hl7Name);
    key(w, "segments");
    w.StartArray();
    for (std::size_t i = 0; i < message.segmentCount(); ++i) {
        const SegmentView segment = message.segment(i);
        w.StartArray();
        string(w, segment.id());
        segment.forEachField([&](std::size_t, const Element& f) { walker.field(f); });
        w.EndArray();
    }
    w.EndArray();
    w.EndObject();
    out.append(buffer.GetString(), buffer.GetSize());
}

} // namespace hl7gw::hl7v2
