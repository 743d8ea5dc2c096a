#include "gateway/hl7v2/path.h"

#include "gateway/hl7v2/detail/scan.h"

namespace hl7gw::hl7v2 {

namespace {

class Reader {
public:
    explicit Reader(std::string_view text) : text_(text) {}

    bool atEnd() const { return pos_ >= text_.size(); }
    char peek() const { return atEnd() ? '\0' : text_[pos_]; }
    std::size_t position() const { return pos_; }
    bool accept(char c)
    {
        if (peek() == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool number(std::uint32_t& out)
    {
        std::uint64_t value = 0;
        const std::size_t start = pos_;
        while (!atEnd() && text_[pos_] >= '0' && text_[pos_] <= '9' && pos_ - start < 9) {
            value = value * 10 + static_cast<std::uint64_t>(text_[pos_] - '0');
            ++pos_;
        }
        out = static_cast<std::uint32_t>(value);
        if (pos_ == start || value == 0) {
            pos_ = start; // report the error where the number starts
            return false;
        }
        return true;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

bool fail(std::string* error, std::string_view text, std::size_t at, const char* what)
{
    if (error != nullptr) {
        *error = "path '" + std::string(text) + "': " + what + " at character " +
                 std::to_string(at + 1);
    }
    return false;
}

} // namespace

std::optional<Path> Path::parse(std::string_view text, std::string* error)
{
    Path path;
    Reader r(text);
    if (text.size() < 3 || !(text[0] >= 'A' && text[0] <= 'Z') || !detail::isUpperAlnum(text[1]) ||
        !detail::isUpperAlnum(text[2])) {
        fail(error, text, 0, "expected a 3-character segment id such as PID");
        return std::nullopt;
    }
    path.segment = std::string(text.substr(0, 3));
    for (int i = 0; i < 3; ++i) {
        r.accept(text[static_cast<std::size_t>(i)]);
    }
    if (r.accept('[')) {
        if (!r.number(path.occurrence) || !r.accept(']')) {
            fail(error, text, r.position(), "expected a segment occurrence like [2] (from 1)");
            return std::nullopt;
        }
    }
    if (r.atEnd()) {
        return path;
    }
    if (!r.accept('-') || !r.number(path.field)) {
        fail(error, text, r.position(), "expected '-' and a field number (from 1)");
        return std::nullopt;
    }
    if (r.accept('[')) {
        if (!r.number(path.repetition) || !r.accept(']')) {
            fail(error, text, r.position(), "expected a repetition like [2] (from 1)");
            return std::nullopt;
        }
    }
    if (r.accept('.')) {
        if (!r.number(path.component)) {
            fail(error, text, r.position(), "expected a component number (from 1)");
            return std::nullopt;
        }
        if (r.accept('.') && !r.number(path.subcomponent)) {
            fail(error, text, r.position(), "expected a sub-component number (from 1)");
            return std::nullopt;
        }
    }
    if (!r.atEnd()) {
        fail(error, text, r.position(), "unexpected character");
        return std::nullopt;
    }
    return path;
}

std::string Path::toString() const
{
    std::string out = segment;
    if (occurrence != 1) {
        out += '[' + std::to_string(occurrence) + ']';
    }
    if (field != 0) {
        out += '-' + std::to_string(field);
        if (repetition != 1) {
            out += '[' + std::to_string(repetition) + ']';
        }
        if (component != 0) {
            out += '.' + std::to_string(component);
            if (subcomponent != 0) {
                out += '.' + std::to_string(subcomponent);
            }
        }
    }
    return out;
}

Element Path::resolve(const Message& message) const
{
    const std::optional<SegmentView> segmentView = message.findSegment(segment, occurrence);
    if (!segmentView || field == 0) {
        return {};
    }
    Element e = segmentView->field(field);
    if (e.isLiteral()) {
        return e; // MSH-1 and MSH-2 are not split
    }
    e = e.child(repetition);
    if (component != 0) {
        e = e.child(component);
        if (subcomponent != 0) {
            e = e.child(subcomponent);
        }
    }
    return e;
}

} // namespace hl7gw::hl7v2
