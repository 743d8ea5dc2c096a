#include "gateway/mapping/fhir_to_v2.h"

#include "gateway/fhir/model/definitions.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/hl7v2/er7_writer.h"
#include "gateway/mapping/detail/outbound_program.h"
#include "gateway/mapping/value_conversions.h"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/SHA1Engine.h>

#include <map>

namespace hl7gw::mapping {

using detail::FhirSource;
using detail::FhirStep;
using detail::Function;
using detail::OutboundMap;
using detail::OutCondition;
using detail::OutStatement;
using rapidjson::Value;

namespace {

struct Aborted {};

/// `-2` -> `2`, `1.50` -> `-1.50`, `+3` -> `-3`; zero keeps no sign. Text in, text out, so the
/// digits (and the precision the sender wrote) stay as they are. False when `text` is not a
/// FHIR decimal.
bool negateDecimal(std::string& text)
{
    std::size_t start = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
    std::string_view digits = std::string_view(text).substr(start);
    bool point = false, any = false, nonZero = false;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        char c = digits[i];
        if (c == '.' && !point && i > 0 && i + 1 < digits.size()) {
            point = true;
        } else if (c >= '0' && c <= '9') {
            any = true;
            nonZero = nonZero || c != '0';
        } else {
            return false;
        }
    }
    if (!any)
        return false;
    std::string magnitude(digits);
    text = !nonZero || text[0] == '-' ? magnitude : "-" + magnitude;
    return true;
}

/// Where a value goes in the segment being built.
struct Position {
    std::uint32_t field = 0, repetition = 1, component = 0, subcomponent = 0;
};

class OutRun {
  public:
    OutRun(const MapSet& maps, const Dialect& dialect, const FhirToV2::Options& options,
           core::IssueList& issues)
        : maps_(maps), dialect_(dialect), options_(options), issues_(issues)
    {
        charset_ = hl7v2::Charset::fromAnyName(dialect.charset);
        if (charset_ == nullptr)
            charset_ = &hl7v2::Charset::utf8();
    }

    void index(const Value& input)
    {
        if (!input.IsObject())
            return;
        auto type = input.FindMember("resourceType");
        if (type == input.MemberEnd() || !type->value.IsString())
            return;
        if (std::string_view(type->value.GetString()) != "Bundle") {
            addResource(input, "");
            return;
        }
        auto entries = input.FindMember("entry");
        if (entries == input.MemberEnd() || !entries->value.IsArray())
            return;
        for (const Value& entry : entries->value.GetArray()) {
            auto resource = entry.FindMember("resource");
            if (resource == entry.MemberEnd() || !resource->value.IsObject())
                continue;
            auto fullUrl = entry.FindMember("fullUrl");
            addResource(resource->value, fullUrl != entry.MemberEnd() && fullUrl->value.IsString()
                                             ? fullUrl->value.GetString()
                                             : "");
        }
    }

    const std::vector<const Value*>& resources() const { return order_; }

    void run(const OutboundMap& map, const Value& focus, std::string& er7)
    {
        focus_ = &focus;
        std::string code, event, structure;
        for (const OutStatement& s : map.body) {
            if (s.kind == OutStatement::Kind::Message) {
                code = s.code;
                event = s.event;
                structure = s.structure;
            } else if (s.kind == OutStatement::Kind::Event && holds(*s.when, focus, s)) {
                event = s.event;
                structure = s.structure;
            }
        }
        event_ = event;
        std::string out;
        writeHeader(code, event, structure, focus, out);
        for (const OutStatement& s : map.body)
            if (s.kind == OutStatement::Kind::Segment)
                writeSegment(s, focus, out);
        er7 += out;
    }

  private:
    void addResource(const Value& resource, const std::string& fullUrl)
    {
        order_.push_back(&resource);
        if (!fullUrl.empty())
            byReference_[fullUrl] = &resource;
        auto type = resource.FindMember("resourceType");
        auto id = resource.FindMember("id");
        if (type != resource.MemberEnd() && type->value.IsString() && id != resource.MemberEnd() &&
            id->value.IsString())
            byReference_[std::string(type->value.GetString()) + "/" + id->value.GetString()] =
                &resource;
    }

    const Value* resolve(std::string_view reference)
    {
        auto it = byReference_.find(std::string(reference));
        if (it != byReference_.end())
            return it->second;
        // An absolute URL ending in Type/id.
        std::size_t slash = reference.rfind('/');
        if (slash != std::string_view::npos && slash > 0) {
            std::size_t before = reference.rfind('/', slash - 1);
            std::string_view tail =
                reference.substr(before == std::string_view::npos ? 0 : before + 1);
            it = byReference_.find(std::string(tail));
            if (it != byReference_.end())
                return it->second;
        }
        return options_.resolver ? options_.resolver(reference) : nullptr;
    }

    // ---- header ----

    void writeHeader(const std::string& code, const std::string& event,
                     const std::string& structure, const Value& focus, std::string& out)
    {
        hl7v2::Delimiters delimiters;
        hl7v2::SegmentBuilder msh("MSH", delimiters, *charset_);
        msh.setRaw(1, "|");
        msh.setRaw(2, "^~\\&");
        msh.set(3, "HL7GW");
        msh.set(5, 1, 1, 0, dialect_.name.empty() ? "HL7GW-PEER" : dialect_.name);
        std::string stamp = lastUpdated(focus);
        std::string v2Time, error;
        if (stamp.empty() || !fhirToV2Timestamp(stamp, v2Time, error))
            v2Time = Poco::DateTimeFormatter::format(Poco::DateTime(), "%Y%m%d%H%M%S") + "+0000";
        msh.set(7, 1, 1, 0, v2Time);
        msh.set(9, 1, 1, 0, code);
        msh.set(9, 1, 2, 0, event);
        if (!structure.empty())
            msh.set(9, 1, 3, 0, structure);
        msh.set(10, controlId(focus, event));
        msh.set(11, 1, 1, 0, "P");
        msh.set(12, 1, 1, 0, dialect_.version);
        if (charset_ != &hl7v2::Charset::ascii())
            msh.set(18, hl7Charset());
        core::IssueList issues;
        msh.write(out, issues);
        out += '\r';
    }

    std::string hl7Charset() const
    {
        if (charset_ == &hl7v2::Charset::gb18030())
            return "GB 18030-2000";
        if (charset_ == &hl7v2::Charset::latin1())
            return "8859/1";
        return "UNICODE UTF-8";
    }

    static std::string lastUpdated(const Value& resource)
    {
        auto meta = resource.FindMember("meta");
        if (meta == resource.MemberEnd() || !meta->value.IsObject())
            return {};
        auto updated = meta->value.FindMember("lastUpdated");
        return updated != meta->value.MemberEnd() && updated->value.IsString()
                   ? updated->value.GetString()
                   : std::string();
    }

    /// Deterministic: the same resource version and event always give the same MSH-10, so a
    /// resend is recognised as a duplicate by the receiver.
    std::string controlId(const Value& resource, const std::string& event)
    {
        std::string seed = fhir::writeJson(resource) + "|" + event;
        Poco::SHA1Engine sha1;
        sha1.update(seed);
        return Poco::DigestEngine::digestToHex(sha1.digest()).substr(0, 20);
    }

    // ---- segments ----

    void writeSegment(const OutStatement& s, const Value& focus, std::string& out)
    {
        std::vector<const Value*> contexts;
        if (s.context.kind == FhirSource::Kind::Current && s.context.steps.empty())
            contexts.push_back(&focus);
        else
            evaluatePath(s.context.steps, focus, contexts);
        if (!s.repeat && contexts.size() > 1)
            contexts.resize(1);
        int index = 0;
        for (const Value* context : contexts) {
            if (s.when && !holds(*s.when, *context, s))
                continue;
            index_ = ++index;
            hl7v2::SegmentBuilder builder(s.segment, hl7v2::Delimiters{}, *charset_);
            bool any = false;
            for (const OutStatement& field : s.body)
                any = writeField(field, *context, builder,
                                 Position{field.field, 1, field.component, field.subcomponent}) ||
                      any;
            if (!any)
                continue;
            core::IssueList issues;
            if (!builder.write(out, issues)) {
                for (const core::Issue& issue : issues)
                    issues_.add(issue);
                throw Aborted{};
            }
            out += '\r';
        }
    }

    /// Writes one statement's values at `base`; repetitions for several values of a field.
    bool writeField(const OutStatement& s, const Value& context, hl7v2::SegmentBuilder& builder,
                    Position base)
    {
        if (s.when && !holds(*s.when, context, s))
            return false;
        std::vector<std::string> texts;
        std::vector<const Value*> values;
        evaluate(s.source, context, values, texts, s);
        applyFunctions(s, values, texts);
        bool wrote = false;
        std::uint32_t repetition = base.repetition;
        bool repeats = base.component == 0 && base.subcomponent == 0 && isFieldLevel(base);
        auto next = [&]() {
            wrote = true;
            if (repeats)
                ++repetition;
        };
        if (s.writer != nullptr && texts.empty()) {
            for (const Value* v : values) {
                Position at = base;
                at.repetition = repetition;
                bool any = false;
                for (const OutStatement& part : s.writer->body) {
                    Position inner = at;
                    if (at.component == 0) {
                        inner.component = part.component;
                        inner.subcomponent = part.subcomponent;
                    } else {
                        inner.subcomponent = part.component;
                    }
                    any = writeField(part, *v, builder, inner) || any;
                }
                if (any)
                    next();
                if (!repeats && wrote)
                    break;
            }
            return wrote;
        }
        if (texts.empty())
            for (const Value* v : values) {
                std::string text = primitiveText(*v, s);
                if (!text.empty())
                    texts.push_back(std::move(text));
            }
        for (const std::string& text : texts) {
            if (text.empty())
                continue;
            builder.set(base.field, repetition, base.component, base.subcomponent, text);
            next();
            if (!repeats)
                break;
        }
        return wrote;
    }

    bool isFieldLevel(const Position& p) const { return p.field != 0; }

    std::string primitiveText(const Value& v, const OutStatement& s)
    {
        std::string text;
        if (v.IsBool())
            return v.GetBool() ? "Y" : "N";
        if (fhir::isNumber(v))
            return std::string(fhir::numberText(v));
        if (v.IsString())
            text = v.GetString();
        else
            return {};
        const std::string& type = s.primitive;
        if (type == "date" || type == "dateTime" || type == "instant") {
            std::string out, error;
            if (!fhirToV2Timestamp(text, out, error))
                fail(s, error);
            return out;
        }
        if (type == "time") {
            std::string out, error;
            if (!fhirToV2Time(text, out, error))
                fail(s, error);
            return out;
        }
        return text;
    }

    void applyFunctions(const OutStatement& s, std::vector<const Value*>& values,
                        std::vector<std::string>& texts)
    {
        auto toTexts = [&]() {
            if (!texts.empty())
                return;
            for (const Value* v : values) {
                std::string t = primitiveText(*v, s);
                if (!t.empty())
                    texts.push_back(std::move(t));
            }
            values.clear();
        };
        for (const Function& f : s.functions) {
            switch (f.kind) {
            case Function::Kind::Table:
            case Function::Kind::Lookup: {
                toTexts();
                const CodeTable* table = f.table;
                std::string_view swapped = dialect_.tableFor(f.argument);
                if (swapped != f.argument && maps_.tables().find(swapped) != nullptr)
                    table = maps_.tables().find(swapped);
                std::vector<std::string> mapped;
                for (const std::string& t : texts) {
                    const MappedCode* m = table->lookup(t);
                    if (m == nullptr) {
                        if (f.kind == Function::Kind::Lookup)
                            continue;
                        fail(s, "the code is not in table `" + table->name() + "` (" +
                                    table->origin() + ")");
                    }
                    std::size_t star = m->code.find('*');
                    mapped.push_back(star == std::string::npos
                                         ? m->code
                                         : m->code.substr(0, star) + t + m->code.substr(star + 1));
                }
                texts = std::move(mapped);
                break;
            }
            case Function::Kind::System:
                toTexts();
                for (std::string& t : texts)
                    t = namespaceOf(t);
                break;
            case Function::Kind::Oid: {
                toTexts();
                std::vector<std::string> oids;
                for (const std::string& t : texts)
                    if (t.rfind("urn:oid:", 0) == 0)
                        oids.push_back(t.substr(8));
                texts = std::move(oids);
                break;
            }
            case Function::Kind::Join: {
                toTexts();
                std::string joined;
                for (std::size_t i = 0; i < texts.size(); ++i)
                    joined += (i ? f.argument : std::string()) + texts[i];
                texts.assign(texts.empty() ? 0 : 1, joined);
                break;
            }
            case Function::Kind::First:
                if (values.size() > 1)
                    values.resize(1);
                if (texts.size() > 1)
                    texts.resize(1);
                break;
            case Function::Kind::Default:
                if (values.empty() && texts.empty())
                    texts.push_back(f.argument);
                break;
            case Function::Kind::Required:
                if (values.empty() && texts.empty())
                    fail(s,
                         "`" + s.source.spelling + "` is required by the mapping and has no value");
                break;
            case Function::Kind::Negate:
                toTexts();
                for (std::string& t : texts)
                    if (!negateDecimal(t))
                        fail(s, "`negate` needs a decimal number");
                break;
            default:
                break;
            }
        }
    }

    /// Identifier system URI -> the dialect's namespace id (the inverse of its table), an OID
    /// for `urn:oid:`, else the part after our own base.
    std::string namespaceOf(const std::string& uri) const
    {
        for (const auto& [ns, system] : dialect_.identifierSystems)
            if (system == uri)
                return ns;
        if (uri.rfind("urn:oid:", 0) == 0)
            return {}; // no namespace id: the OID goes to the universal id (`| oid`)
        if (!dialect_.identifierSystemBase.empty() &&
            uri.rfind(dialect_.identifierSystemBase, 0) == 0)
            return uri.substr(dialect_.identifierSystemBase.size());
        return uri;
    }

    // ---- FHIR paths ----

    void evaluate(const FhirSource& source, const Value& context, std::vector<const Value*>& values,
                  std::vector<std::string>& texts, const OutStatement& s)
    {
        switch (source.kind) {
        case FhirSource::Kind::Literal:
            texts.push_back(source.text);
            return;
        case FhirSource::Kind::Variable:
            if (source.text == "event")
                texts.push_back(event_);
            else if (source.text == "index")
                texts.push_back(std::to_string(index_));
            else if (source.text == "timezone")
                texts.push_back(offsetText(dialect_.offsetMinutes));
            else if (source.text == "id" || source.text == "resource-type") {
                auto m = focus_->FindMember(source.text == "id" ? "id" : "resourceType");
                if (m != focus_->MemberEnd() && m->value.IsString())
                    texts.push_back(m->value.GetString());
            }
            return;
        case FhirSource::Kind::Current:
            if (source.steps.empty()) {
                values.push_back(&context);
                return;
            }
            [[fallthrough]];
        case FhirSource::Kind::Path:
            evaluatePath(source.steps, context, values);
            return;
        }
        (void)s;
    }

    void evaluatePath(const std::vector<FhirStep>& steps, const Value& start,
                      std::vector<const Value*>& out)
    {
        std::vector<const Value*> current{&start};
        for (const FhirStep& step : steps) {
            std::vector<const Value*> next;
            for (const Value* node : current) {
                if (!node->IsObject())
                    continue;
                auto member = node->FindMember(step.name.c_str());
                if (member == node->MemberEnd())
                    continue;
                std::vector<const Value*> found;
                if (member->value.IsArray()) {
                    for (const Value& item : member->value.GetArray())
                        found.push_back(&item);
                } else {
                    found.push_back(&member->value);
                }
                if (!step.filterPath.empty()) {
                    std::vector<const Value*> kept;
                    for (const Value* item : found) {
                        std::vector<const Value*> probe;
                        evaluatePath(step.filterPath, *item, probe);
                        bool match = !step.filterHasValue ? !probe.empty() : false;
                        for (const Value* p : probe)
                            match = match ||
                                    (fhir::isNumber(*p)
                                         ? step.filterValue == fhir::numberText(*p)
                                         : p->IsString() && step.filterValue == p->GetString());
                        if (match)
                            kept.push_back(item);
                    }
                    found = std::move(kept);
                }
                if (step.index >= 0) {
                    if (static_cast<std::size_t>(step.index) < found.size())
                        found = {found[static_cast<std::size_t>(step.index)]};
                    else
                        found.clear();
                }
                for (const Value* item : found) {
                    if (step.follow.empty()) {
                        next.push_back(item);
                        continue;
                    }
                    auto reference = item->FindMember("reference");
                    if (reference == item->MemberEnd() || !reference->value.IsString())
                        continue;
                    const Value* target = resolve(reference->value.GetString());
                    if (target == nullptr)
                        continue;
                    auto type = target->FindMember("resourceType");
                    if (type != target->MemberEnd() && type->value.IsString() &&
                        step.follow == type->value.GetString())
                        next.push_back(target);
                }
            }
            current = std::move(next);
            if (current.empty())
                break;
        }
        out.insert(out.end(), current.begin(), current.end());
    }

    bool holds(const OutCondition& c, const Value& context, const OutStatement& s)
    {
        switch (c.kind) {
        case OutCondition::Kind::And:
            return holds(*c.left, context, s) && holds(*c.right, context, s);
        case OutCondition::Kind::Or:
            return holds(*c.left, context, s) || holds(*c.right, context, s);
        case OutCondition::Kind::Not:
            return !holds(*c.left, context, s);
        default:
            break;
        }
        std::vector<const Value*> values;
        std::vector<std::string> texts;
        evaluate(c.source, context, values, texts, s);
        for (const Value* v : values) {
            // A number is a string with a mark (fhir/model/json_io.h): test it first.
            if (fhir::isNumber(*v))
                texts.push_back(std::string(fhir::numberText(*v)));
            else if (v->IsString())
                texts.push_back(v->GetString());
            else if (v->IsBool())
                texts.push_back(v->GetBool() ? "true" : "false");
            else
                texts.push_back("{}");
        }
        switch (c.kind) {
        case OutCondition::Kind::Valued:
            return !texts.empty();
        case OutCondition::Kind::NotValued:
            return texts.empty();
        case OutCondition::Kind::Equals:
        case OutCondition::Kind::In:
        case OutCondition::Kind::NotEquals: {
            bool found = false;
            for (const std::string& t : texts)
                for (const std::string& v : c.values)
                    found = found || t == v;
            return c.kind == OutCondition::Kind::NotEquals ? !found : found;
        }
        case OutCondition::Kind::StartsWith: {
            for (const std::string& t : texts)
                if (t.rfind(c.values.front(), 0) == 0)
                    return true;
            return false;
        }
        default:
            return false;
        }
    }

    [[noreturn]] void fail(const OutStatement& s, const std::string& text)
    {
        core::Location location;
        location.path = s.source.spelling;
        std::string where = s.position.file
                                ? *s.position.file + ":" + std::to_string(s.position.line)
                                : std::string("mapping");
        issues_.add(core::Severity::Error, "processing", location,
                    where + " (" + s.targetSpelling + "): " + text);
        throw Aborted{};
    }

    const MapSet& maps_;
    const Dialect& dialect_;
    const FhirToV2::Options& options_;
    core::IssueList& issues_;
    const hl7v2::Charset* charset_ = nullptr;
    std::vector<const Value*> order_;
    std::map<std::string, const Value*> byReference_;
    const Value* focus_ = nullptr;
    std::string event_;
    int index_ = 0;
};

} // namespace

FhirToV2::FhirToV2(std::shared_ptr<const MapSet> maps, const Dialect& dialect)
    : maps_(std::move(maps)), dialect_(dialect)
{
}

FhirToV2::~FhirToV2() = default;

bool FhirToV2::map(const rapidjson::Value& input, std::string& er7, core::IssueList& issues,
                   const Options& options)
{
    OutRun run(*maps_, dialect_, options, issues);
    run.index(input);
    const OutboundMap* map = options.forced;
    const Value* focus = nullptr;
    for (const Value* resource : run.resources()) {
        auto type = resource->FindMember("resourceType");
        if (type == resource->MemberEnd() || !type->value.IsString())
            continue;
        std::string_view name = type->value.GetString();
        if (map != nullptr) {
            if (name == map->resourceType) {
                focus = resource;
                break;
            }
            continue;
        }
        auto configured = dialect_.outbound.find(name);
        const OutboundMap* candidate = configured != dialect_.outbound.end()
                                           ? maps_->outboundMap(configured->second)
                                           : maps_->outboundMapFor(name);
        if (candidate != nullptr) {
            map = candidate;
            focus = resource;
            break;
        }
    }
    if (map == nullptr || focus == nullptr) {
        core::Location location;
        location.path = "resourceType";
        issues.add(core::Severity::Error, "not-supported", location,
                   "no outbound map for this resource (mappings/fhir-to-v2/)");
        return false;
    }
    try {
        run.run(*map, *focus, er7);
    } catch (const Aborted&) {
        return false;
    }
    return true;
}

} // namespace hl7gw::mapping
