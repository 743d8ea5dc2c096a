#include "gateway/hl7v2/json_writer.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>

namespace hl7gw::hl7v2 {

namespace {

// RapidJSON's writer plus one shortcut: a string already known to need no JSON escaping
// (a plain leaf) is copied in one go instead of character by character through the
// escape table. Prefix() keeps the writer's comma and nesting bookkeeping exact.
class JsonWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
public:
    using rapidjson::Writer<rapidjson::StringBuffer>::Writer;

    void plainString(std::string_view text)
    {
        Prefix(rapidjson::kStringType);
        char* out = os_->Push(text.size() + 2);
        out[0] = '"';
        std::memcpy(out + 1, text.data(), text.size());
        out[text.size() + 1] = '"';
    }
};

void key(JsonWriter& w, const char* name)
{
    w.Key(name, static_cast<rapidjson::SizeType>(std::strlen(name)));
}

void string(JsonWriter& w, std::string_view text)
{
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// Writes the fields of one segment from its leaves, as they stream by. A repetition (or
// component) is an array exactly when its first leaf is followed by a component or
// sub-component separator, which the leaf says: nothing is buffered or looked ahead.
class FieldWriter {
public:
    FieldWriter(JsonWriter& w, TextDecoder& decoder, core::IssueList* issues)
        : w_(w), decoder_(decoder), issues_(issues)
    {
    }

    HL7GW_ALWAYS_INLINE void add(const Leaf& leaf)
    {
        using Next = Leaf::Next;
        const bool firstOfComponent = leaf.subcomponent == 1;
        const bool firstOfRepetition = firstOfComponent && leaf.component == 1;
        if (firstOfRepetition && leaf.repetition == 1) {
            w_.StartArray();
            if ((leaf.next == Next::Field || leaf.next == Next::End) && leaf.element.empty()) {
                w_.EndArray(); // not sent: no repetitions at all
                return;
            }
        }
        if (firstOfRepetition && (leaf.next == Next::Component || leaf.next == Next::Subcomponent)) {
            w_.StartArray();
            repetitionOpen_ = true;
        }
        if (firstOfComponent && leaf.next == Next::Subcomponent) {
            w_.StartArray();
            componentOpen_ = true;
        }
        value(leaf);
        if (leaf.next == Next::Subcomponent) {
            return;
        }
        if (componentOpen_) {
            w_.EndArray();
            componentOpen_ = false;
        }
        if (leaf.next == Next::Component) {
            return;
        }
        if (repetitionOpen_) {
            w_.EndArray();
            repetitionOpen_ = false;
        }
        if (leaf.next != Next::Repetition) {
            w_.EndArray(); // the field
        }
    }

private:
    HL7GW_ALWAYS_INLINE void value(const Leaf& l)
    {
        if (l.plain) {
            w_.plainString(l.element.raw());
        } else if (l.element.isNull()) {
            w_.Null();
        } else {
            string(w_, decoder_.decode(l, issues_));
        }
    }

    JsonWriter& w_;
    TextDecoder& decoder_;
    core::IssueList* issues_;
    bool repetitionOpen_ = false;
    bool componentOpen_ = false;
};

} // namespace

void writeJson(const Message& message, std::uint32_t index, TextDecoder& decoder, std::string& out,
               core::IssueList* issues)
{
    // Reused per thread: the writer allocates nothing per message once warmed up.
    thread_local rapidjson::StringBuffer buffer;
    buffer.Clear();
    JsonWriter w(buffer);
    FieldWriter fieldWriter(w, decoder, issues);
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
        // A line the parser kept as "not a segment" has an id of any bytes: it is read through
        // the charset like a value (never unescaped), so the JSON stays UTF-8.
        string(w, decoder.decode(Element::literal(segment.id(), &message), issues));
        segment.forEachLeaf([&](const Leaf& leaf) { fieldWriter.add(leaf); });
        w.EndArray();
    }
    w.EndArray();
    w.EndObject();
    out.append(buffer.GetString(), buffer.GetSize());
}

} // namespace hl7gw::hl7v2
