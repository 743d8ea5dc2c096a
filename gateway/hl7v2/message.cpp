#include "gateway/hl7v2/message.h"

namespace hl7gw::hl7v2 {

std::size_t Element::childCount() const
{
    if (!present_) {
        return 0;
    }
    std::size_t count = 0;
    forEachChild([&count](const Element&) { ++count; });
    return count;
}

Element Element::child(std::size_t n) const
{
    if (!present_ || n == 0) {
        return Element({}, message_, level_, false);
    }
    if (literal_ || level_ == Level::Subcomponent) {
        return n == 1 ? *this : Element({}, message_, level_, false);
    }
    const auto next = static_cast<Level>(static_cast<int>(level_) + 1);
    const char sep = separator();
    const char* p = raw_.data();
    const char* end = p + raw_.size();
    for (std::size_t i = 1;; ++i) {
        const char* hit = message_->findSeparator(p, end, sep);
        if (i == n) {
            return Element(std::string_view(p, static_cast<std::size_t>(hit - p)), message_, next,
                           true);
        }
        if (hit == end) {
            return Element({}, message_, next, false);
        }
        p = hit + 1;
    }
}

Element Element::repetition(std::size_t r) const
{
    return level_ == Level::Field ? child(r) : (r == 1 ? *this : Element({}, message_, level_, false));
}

Element Element::component(std::size_t c) const
{
    switch (level_) {
    case Level::Field:
        return child(1).child(c);
    case Level::Repetition:
        return child(c);
    default:
        return c == 1 ? *this : Element({}, message_, level_, false);
    }
}

Element Element::subcomponent(std::size_t s) const
{
    switch (level_) {
    case Level::Field:
        return child(1).child(1).child(s);
    case Level::Repetition:
        return child(1).child(s);
    case Level::Component:
        return child(s);
    case Level::Subcomponent:
        return s == 1 ? *this : Element({}, message_, level_, false);
    }
    return {};
}

bool SegmentView::isHeader() const
{
    const std::string_view segmentId = id();
    return segmentId == "MSH" || segmentId == "FHS" || segmentId == "BHS";
}

std::size_t SegmentView::fieldCount() const
{
    std::size_t count = 0;
    forEachField([&count](std::size_t n, const Element&) { count = n; });
    return count;
}

Element SegmentView::field(std::size_t n) const
{
    Element found({}, message_, Level::Field, false);
    if (n == 0 || message_ == nullptr) {
        return found;
    }
    const char sep = message_->delimiters().field;
    if (isHeader() && n <= 2) {
        forEachField([&](std::size_t i, const Element& e) {
            if (i == n) {
                found = e;
            }
        });
        return found;
    }
    // Skip to field n directly: cheaper than visiting every field.
    const char* p = raw_.data() + idLength_;
    const char* end = raw_.data() + raw_.size();
    if (p >= end) {
        return found;
    }
    std::size_t i = 1;
    if (isHeader()) {
        p = message_->findSeparator(p + 1, end, sep); // end of MSH-2
        if (p == end) {
            return found;
        }
        i = 3;
    }
    ++p;
    for (;; ++i) {
        const char* hit = message_->findSeparator(p, end, sep);
        if (i == n) {
            return Element(std::string_view(p, static_cast<std::size_t>(hit - p)), message_,
                           Level::Field, true);
        }
        if (hit == end) {
            return found;
        }
        p = hit + 1;
    }
}

SegmentView Message::segment(std::size_t index) const
{
    if (index >= segments_.size()) {
        return SegmentView({}, 0, this);
    }
    const SegmentSpan& span = segments_[index];
    return SegmentView(bytes_.substr(span.offset, span.length), span.idLength, this);
}

std::optional<SegmentView> Message::findSegment(std::string_view id, std::size_t occurrence) const
{
    std::size_t seen = 0;
    for (std::size_t i = 0; i < segments_.size(); ++i) {
        const SegmentSpan& span = segments_[i];
        if (span.idLength == id.size() && bytes_.compare(span.offset, span.idLength, id) == 0) {
            if (++seen == occurrence) {
                return segment(i);
            }
        }
    }
    return std::nullopt;
}

std::size_t Message::occurrenceOf(std::size_t index) const
{
    if (index >= segments_.size()) {
        return 0;
    }
    const std::string_view id = segment(index).id();
    std::size_t occurrence = 0;
    for (std::size_t i = 0; i <= index; ++i) {
        if (segment(i).id() == id) {
            ++occurrence;
        }
    }
    return occurrence;
}

} // namespace hl7gw::hl7v2
