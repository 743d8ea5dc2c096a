#include "gateway/routing/filters.h"

#include "gateway/hl7v2/path.h"

#include <algorithm>
#include <optional>

namespace hl7gw::routing {

bool matchesType(std::string_view pattern, std::string_view code, std::string_view trigger)
{
    if (pattern == "*") {
        return true;
    }
    const std::size_t caret = pattern.find('^');
    const std::string_view patternCode = pattern.substr(0, caret);
    if (patternCode != code) {
        return false;
    }
    if (caret == std::string_view::npos) {
        return true;
    }
    const std::string_view patternTrigger = pattern.substr(caret + 1);
    if (!patternTrigger.empty() && patternTrigger.back() == '*') {
        const std::string_view prefix = patternTrigger.substr(0, patternTrigger.size() - 1);
        return trigger.substr(0, prefix.size()) == prefix;
    }
    return patternTrigger == trigger;
}

bool matchesAnyType(const std::vector<std::string>& patterns, std::string_view code,
                    std::string_view trigger)
{
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& p) { return matchesType(p, code, trigger); });
}

namespace {

class MessageTypeFilter : public Filter {
  public:
    explicit MessageTypeFilter(std::vector<std::string> types) : types_(std::move(types)) {}

    StageStatus apply(StageContext& context) const override
    {
        return matchesAnyType(types_, context.message.messageCode(), context.message.triggerEvent())
                   ? StageStatus::Continue
                   : StageStatus::Filtered;
    }

  private:
    std::vector<std::string> types_;
};

class SenderFilter : public Filter {
  public:
    explicit SenderFilter(std::vector<std::string> senders) : senders_(std::move(senders)) {}

    StageStatus apply(StageContext& context) const override
    {
        const hl7v2::SegmentView msh = context.message.header();
        const std::string_view application = msh.field(3).raw();
        const std::string_view facility = msh.field(4).raw();
        for (const std::string& s : senders_) {
            const std::size_t caret = s.find('^');
            if (caret == std::string::npos) {
                if (application == s) {
                    return StageStatus::Continue;
                }
            } else if (application == std::string_view(s).substr(0, caret) &&
                       facility == std::string_view(s).substr(caret + 1)) {
                return StageStatus::Continue;
            }
        }
        return StageStatus::Filtered;
    }

  private:
    std::vector<std::string> senders_;
};

class PathFilter : public Filter {
  public:
    enum class Op { Equals, NotEquals, In, Exists };

    PathFilter(hl7v2::Path path, Op op, std::vector<std::string> values, bool exists)
        : path_(std::move(path)), op_(op), values_(std::move(values)), exists_(exists)
    {
    }

    StageStatus apply(StageContext& context) const override
    {
        const hl7v2::Element e = path_.resolve(context.message);
        const bool present = e.present() && !e.empty();
        bool pass = false;
        if (op_ == Op::Exists) {
            pass = present == exists_;
        } else {
            const std::string_view value = present ? context.decoder.decode(e) : std::string_view();
            switch (op_) {
            case Op::Equals:
                pass = value == values_.front();
                break;
            case Op::NotEquals:
                pass = value != values_.front();
                break;
            case Op::In:
                pass = std::find(values_.begin(), values_.end(), value) != values_.end();
                break;
            case Op::Exists:
                break;
            }
        }
        return pass ? StageStatus::Continue : StageStatus::Filtered;
    }

  private:
    hl7v2::Path path_;
    Op op_;
    std::vector<std::string> values_;
    bool exists_;
};

} // namespace

FilterPtr makeMessageTypeFilter(core::ConfigReader& config)
{
    std::vector<std::string> types = config.strings("types");
    if (types.empty()) {
        config.fail("types", "needs at least one message type pattern, e.g. \"ADT^A01\"");
    }
    return std::make_shared<MessageTypeFilter>(std::move(types));
}

FilterPtr makeSenderFilter(core::ConfigReader& config)
{
    std::vector<std::string> senders = config.strings("senders");
    if (senders.empty()) {
        config.fail("senders", "needs at least one sender, e.g. \"HIS^HOSP\"");
    }
    return std::make_shared<SenderFilter>(std::move(senders));
}

FilterPtr makePathFilter(core::ConfigReader& config)
{
    const std::string text = config.requiredString("path");
    std::string error;
    std::optional<hl7v2::Path> path = hl7v2::Path::parse(text, &error);
    if (!path) {
        config.fail("path", "not a path like PID-3.1: " + error);
    }
    int ops = 0;
    PathFilter::Op op = PathFilter::Op::Equals;
    std::vector<std::string> values;
    bool exists = true;
    if (config.has("equals")) {
        ++ops;
        values.push_back(config.string("equals", {}));
    }
    if (config.has("not_equals")) {
        ++ops;
        op = PathFilter::Op::NotEquals;
        values.push_back(config.string("not_equals", {}));
    }
    if (config.has("in")) {
        ++ops;
        op = PathFilter::Op::In;
        values = config.strings("in");
    }
    if (config.has("exists")) {
        ++ops;
        op = PathFilter::Op::Exists;
        exists = config.boolean("exists", true);
    }
    if (ops != 1) {
        config.fail("path", "needs exactly one of equals, not_equals, in, exists");
    }
    return std::make_shared<PathFilter>(std::move(*path), op, std::move(values), exists);
}

} // namespace hl7gw::routing
