#include "gateway/hl7v2/structure_validator.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <string>
#include <vector>

namespace hl7gw::hl7v2 {

namespace {

using core::Location;
using core::Severity;

constexpr std::size_t NoNode = static_cast<std::size_t>(-1);

bool isDigits(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view s)
{
    int n = 0;
    std::from_chars(s.data(), s.data() + s.size(), n);
    return n;
}

// NM: optional sign, digits, optional decimal point (HL7 v2.5.1 §2.A.47).
bool isNumeric(std::string_view s)
{
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        s.remove_prefix(1);
    }
    const std::size_t dot = s.find('.');
    if (dot == std::string_view::npos) {
        return isDigits(s);
    }
    const std::string_view whole = s.substr(0, dot);
    const std::string_view fraction = s.substr(dot + 1);
    return (whole.empty() || isDigits(whole)) && (fraction.empty() || isDigits(fraction)) &&
           !(whole.empty() && fraction.empty());
}

// The +/-ZZZZ offset of DTM and TM (STANDARDS.md §1.4).
bool splitZone(std::string_view& s, std::size_t minPosition)
{
    const std::size_t sign = s.find_first_of("+-", minPosition);
    if (sign == std::string_view::npos) {
        return true;
    }
    const std::string_view zone = s.substr(sign + 1);
    s = s.substr(0, sign);
    return zone.size() == 4 && isDigits(zone) && number(zone.substr(0, 2)) <= 14 &&
           number(zone.substr(2)) <= 59;
}

// HH[MM[SS[.S{1,4}]]] after the zone is removed.
bool isClock(std::string_view s)
{
    const std::size_t dot = s.find('.');
    if (dot != std::string_view::npos) {
        const std::string_view fraction = s.substr(dot + 1);
        if (dot != 6 || fraction.empty() || fraction.size() > 4 || !isDigits(fraction)) {
            return false;
        }
        s = s.substr(0, dot);
    }
    if (!isDigits(s) || (s.size() != 2 && s.size() != 4 && s.size() != 6)) {
        return false;
    }
    return number(s.substr(0, 2)) <= 23 && (s.size() < 4 || number(s.substr(2, 2)) <= 59) &&
           (s.size() < 6 || number(s.substr(4, 2)) <= 59);
}

bool isDate(std::string_view s)
{
    if (!isDigits(s) || (s.size() != 4 && s.size() != 6 && s.size() != 8)) {
        return false;
    }
    if (s.size() >= 6) {
        const int month = number(s.substr(4, 2));
        if (month < 1 || month > 12) {
            return false;
        }
    }
    if (s.size() == 8) {
        const int day = number(s.substr(6, 2));
        if (day < 1 || day > 31) {
            return false;
        }
    }
    return true;
}

// YYYY[MM[DD[HH[MM[SS[.S{1,4}]]]]]][+/-ZZZZ]
bool isDateTime(std::string_view s)
{
    if (!splitZone(s, 4)) {
        return false;
    }
    if (s.size() <= 8) {
        return isDate(s);
    }
    return isDate(s.substr(0, 8)) && isClock(s.substr(8));
}

bool isTime(std::string_view s)
{
    return splitZone(s, 2) && isClock(s);
}

// Which primitive format a data type must follow; "" for free text and codes.
std::string_view formatProblem(std::string_view type, std::string_view text)
{
    if (type == "NM") {
        return isNumeric(text) ? "" : "not a valid NM (number)";
    }
    if (type == "SI") {
        return isDigits(text) ? "" : "not a valid SI (non-negative integer)";
    }
    if (type == "DT") {
        return isDate(text) ? "" : "not a valid DT (YYYY[MM[DD]])";
    }
    if (type == "DTM") {
        return isDateTime(text) ? "" : "not a valid DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ])";
    }
    if (type == "TM") {
        return isTime(text) ? "" : "not a valid TM (HH[MM[SS[.S]]][+/-ZZZZ])";
    }
    return "";
}

// -1, 0, 1 comparing dotted version numbers ("2.3.1" < "2.5" < "2.5.1").
int compareVersions(std::string_view a, std::string_view b)
{
    while (!a.empty() || !b.empty()) {
        const std::size_t da = a.find('.');
        const std::size_t db = b.find('.');
        const int na = a.empty() ? 0 : number(a.substr(0, da));
        const int nb = b.empty() ? 0 : number(b.substr(0, db));
        if (na != nb) {
            return na < nb ? -1 : 1;
        }
        a = da == std::string_view::npos ? std::string_view() : a.substr(da + 1);
        b = db == std::string_view::npos ? std::string_view() : b.substr(db + 1);
    }
    return 0;
}

bool isZSegment(std::string_view id)
{
    return !id.empty() && id.front() == 'Z';
}

// True when the element holds anything besides separators: `^^` or `~` sends nothing.
bool isValued(const Element& e)
{
    if (!e.present()) {
        return false;
    }
    const Message* m = e.message();
    const Delimiters& d = m->delimiters();
    for (const char c : e.raw()) {
        if (c != d.component && c != d.repetition && c != d.subcomponent) {
            return true;
        }
    }
    return false;
}

// Does a group instance start with segment `id`? Children before the first required one may
// each start it.
bool groupStartsWith(const StructureNode& group, std::string_view id)
{
    for (const StructureNode& child : group.children) {
        if (child.kind == StructureNode::Kind::Segment ? child.name == id
                                                       : groupStartsWith(child, id)) {
            return true;
        }
        if (child.required) {
            return false;
        }
    }
    return false;
}

std::string firstSegmentOf(const StructureNode& node)
{
    if (node.kind == StructureNode::Kind::Segment) {
        return node.name;
    }
    for (const StructureNode& child : node.children) {
        if (child.required) {
            return firstSegmentOf(child);
        }
    }
    return node.children.empty() ? std::string() : firstSegmentOf(node.children.front());
}

class Run {
public:
    Run(const StructureTable& table, TextDecoder& decoder, const Message& message,
        core::IssueList& issues, const ConformanceProfile* profile)
        : table_(table), decoder_(decoder), message_(message), issues_(issues), profile_(profile)
    {
    }

    void execute();

private:
    struct SegmentInfo {
        std::string_view id;
        std::uint32_t occurrence = 0;
        const SegmentDefinition* definition = nullptr;
        std::size_t scope = 0; // the group instance a repeated set ID or key must be unique in
    };

    struct Frame {
        const std::vector<StructureNode>* nodes;
        std::size_t cursor = 0;
        std::vector<std::uint32_t> counts;
        std::size_t instance = 0;
        std::string_view firstId;
    };

    // ---- locations and issues ----
    const FieldDefinition* fieldDefinition(std::size_t s, std::uint32_t f) const
    {
        const SegmentDefinition* def = segments_[s].definition;
        return def != nullptr && f >= 1 && f <= def->fields.size() ? &def->fields[f - 1] : nullptr;
    }

    // Repetitions are shown for repeating fields and past the first, so single fields read
    // `MSH[1]-4.2` and repeating ones `PID[1]-5[1].7`.
    std::uint32_t shownRepetition(std::size_t s, std::uint32_t f, std::uint32_t r) const
    {
        const FieldDefinition* fd = fieldDefinition(s, f);
        return (fd != nullptr && fd->repeating) || r > 1 ? r : 0;
    }

    Location at(std::size_t s, std::uint32_t f = 0, std::uint32_t r = 0, std::uint32_t c = 0,
                std::uint32_t sub = 0) const
    {
        Location loc;
        loc.segment = std::string(segments_[s].id);
        loc.segmentOccurrence = segments_[s].occurrence;
        loc.field = f;
        loc.repetition = f != 0 && r != 0 ? shownRepetition(s, f, r) : 0;
        loc.component = c;
        loc.subcomponent = c != 0 ? sub : 0;
        loc.offset = message_.segmentSpans()[s].offset;
        return loc;
    }

    std::string label(std::size_t s, std::uint32_t f, std::uint32_t c = 0,
                      std::uint32_t sub = 0) const
    {
        std::string out = std::string(segments_[s].id) + '-' + std::to_string(f);
        if (c != 0) {
            out += '.' + std::to_string(c);
            if (sub != 0) {
                out += '.' + std::to_string(sub);
            }
        }
        return out;
    }

    void add(Severity severity, const char* code, Location loc, std::string text)
    {
        if (trialDepth_ > 0) {
            ++trialProblems_;
            return;
        }
        issues_.add(severity, code, std::move(loc), std::move(text));
    }

    // Order and required-segment findings are only Warnings for versions newer than the
    // tables (their structures grew segments the v2.5.1 ones lack).
    Severity structureSeverity() const
    {
        return newerThanTables_ ? Severity::Warning : Severity::Error;
    }

    std::string decoded(const Element& e)
    {
        return std::string(decoder_.decode(e));
    }

    bool requiredNow(const FieldDefinition& fd) const
    {
        return fd.required && (fd.requiredSince.empty() || version_.empty() ||
                               compareVersions(version_, fd.requiredSince) >= 0);
    }

    // ---- checks ----
    void checkHeader();
    void checkStructure();
    void matchGroup(const std::vector<StructureNode>& nodes, std::vector<Frame*>& stack);
    std::size_t trialProblems(const std::vector<StructureNode>& nodes, std::vector<Frame*> stack);
    bool accepts(const Frame& frame, std::size_t k, std::string_view id) const;
    std::size_t findFrom(const Frame& frame, std::string_view id) const;
    void reportMissing(const StructureNode& node);
    void assignFallbackScopes();
    void checkSegment(std::size_t s);
    void checkValues(std::size_t s, std::uint32_t f, const Element& field, std::string_view type);
    void checkLeaf(std::size_t s, std::uint32_t f, std::uint32_t r, std::uint32_t c,
                   std::uint32_t sub, const Element& leaf, std::string_view type);
    void checkObservation(std::size_t s);
    void checkSetIds();
    void applyProfile();
    bool conditionHolds(const ConformanceProfile::Condition& when, const SegmentView& segment,
                        const Element* repetition);
    Element pick(const Element& repetition, const Path& path) const;

    const StructureTable& table_;
    TextDecoder& decoder_;
    const Message& message_;
    core::IssueList& issues_;
    const ConformanceProfile* profile_;

    std::vector<SegmentInfo> segments_;
    std::string version_;
    bool newerThanTables_ = false;
    std::string structureName_;
    std::size_t pos_ = 0;
    std::size_t instances_ = 0;
    // Trial matches (see trialProblems) record nothing and only count problems; their total
    // work is bounded so a long message cannot make matching quadratic without limit.
    int trialDepth_ = 0;
    std::size_t trialProblems_ = 0;
    std::size_t trialSteps_ = 0;
    static constexpr std::size_t MaxTrialSteps = 200000;
};

void Run::execute()
{
    std::map<std::string_view, std::uint32_t> seen;
    for (std::size_t i = 0; i < message_.segmentCount(); ++i) {
        SegmentInfo info;
        info.id = message_.segment(i).id();
        info.occurrence = ++seen[info.id];
        info.definition = table_.segment(info.id);
        segments_.push_back(info);
    }
    if (segments_.empty()) {
        return;
    }
    version_ = decoded(message_.header().field(12).component(1));
    newerThanTables_ = !version_.empty() && compareVersions(version_, "2.5.1") > 0;

    checkHeader();
    checkStructure();
    for (std::size_t s = 0; s < segments_.size(); ++s) {
        checkSegment(s);
    }
    checkSetIds();
    if (profile_ != nullptr) {
        applyProfile();
    }
}

void Run::checkHeader()
{
    const SegmentView msh = message_.header();
    // The parser reports MSH-1/MSH-2 problems while reading the delimiters; do not repeat them.
    const bool parserSawEncoding = std::any_of(issues_.begin(), issues_.end(), [](const auto& i) {
        return i.location.segment == "MSH" && i.location.field <= 2;
    });
    const std::string_view encoding = msh.field(2).raw();
    if (!parserSawEncoding) {
        // HL7 v2.5.1 §2.14.9.2: four characters (five with the v2.7 truncation character),
        // all different from each other and from the field separator.
        if (encoding.size() < 4 || encoding.size() > 5) {
            add(Severity::Error, "100", at(0, 2),
                "MSH-2: " + std::to_string(encoding.size()) +
                    " encoding characters; expected 4 (or 5 with the truncation character)");
        }
        std::string all = std::string(1, message_.delimiters().field) + std::string(encoding);
        std::sort(all.begin(), all.end());
        if (std::adjacent_find(all.begin(), all.end()) != all.end()) {
            add(Severity::Error, "100", at(0, 2),
                "MSH-2: delimiters must differ from each other and from MSH-1");
        }
    }

    if (!version_.empty()) {
        const CodeTable* versions = table_.codeTable("0104");
        const bool known = versions != nullptr && versions->contains(version_) &&
                           compareVersions(version_, "2.1") >= 0;
        if (!known) {
            add(Severity::Error, "203", at(0, 12, 1, 1),
                "MSH-12.1: version is not supported (expected 2.1 to 2.8.2)");
        }
    }
    const Element type = msh.field(9);
    if (isValued(type)) {
        const std::string code = decoded(type.component(1));
        const std::string trigger = decoded(type.component(2));
        const CodeTable* codes = table_.codeTable("0076");
        const CodeTable* events = table_.codeTable("0003");
        if (code.empty()) {
            add(Severity::Error, "101", at(0, 9, 1, 1), "MSH-9.1: message code missing");
        } else if (codes != nullptr && !codes->contains(code) && !isZSegment(code)) {
            add(Severity::Error, "200", at(0, 9, 1, 1),
                "MSH-9.1: message type not in HL7 table 0076");
        }
        // v2.3.1 ACKs may leave the trigger out; Z codes and events are site-defined.
        if (trigger.empty() && code != "ACK") {
            add(Severity::Error, "101", at(0, 9, 1, 2), "MSH-9.2: trigger event missing");
        } else if (!trigger.empty() && events != nullptr && !events->contains(trigger) &&
                   !isZSegment(trigger)) {
            add(Severity::Error, "201", at(0, 9, 1, 2),
                "MSH-9.2: trigger event not in HL7 table 0003");
        }
    }
    const std::string processing = decoded(msh.field(11).component(1));
    const CodeTable* processingIds = table_.codeTable("0103");
    if (!processing.empty() && processingIds != nullptr && !processingIds->contains(processing)) {
        add(Severity::Error, "103", at(0, 11, 1, 1),
            "MSH-11.1: processing ID not in HL7 table 0103 (D, P, T)");
    }
}

void Run::checkStructure()
{
    const Element type = message_.header().field(9);
    const std::string code = decoded(type.component(1));
    const std::string trigger = decoded(type.component(2));
    const std::string declared = decoded(type.component(3));
    structureName_ = table_.structureFor(code, trigger, declared);
    const MessageStructure* structure = table_.structure(structureName_);
    if (structure == nullptr && !declared.empty()) {
        const std::string derived = table_.structureFor(code, trigger, "");
        structure = table_.structure(derived);
        if (structure != nullptr) {
            add(Severity::Warning, "200", at(0, 9, 1, 3),
                "MSH-9.3: structure " + declared + " is not in the tables; checked as " +
                    derived + " (from MSH-9.1 and MSH-9.2)");
            structureName_ = derived;
        }
    }
    if (structure == nullptr) {
        if (!code.empty()) {
            add(Severity::Warning, "200", at(0, 9),
                "MSH-9: message structure " +
                    (structureName_.empty() ? code + "^" + trigger : structureName_) +
                    " is not in the tables; segment order not checked");
        }
        assignFallbackScopes();
        return;
    }
    pos_ = 0;
    std::vector<Frame*> stack;
    matchGroup(structure->children, stack);
}

bool Run::accepts(const Frame& frame, std::size_t k, std::string_view id) const
{
    const StructureNode& node = (*frame.nodes)[k];
    const bool available = k > frame.cursor || frame.counts[k] == 0 || node.repeating;
    if (!available) {
        return false;
    }
    return node.kind == StructureNode::Kind::Segment ? node.name == id : groupStartsWith(node, id);
}

std::size_t Run::findFrom(const Frame& frame, std::string_view id) const
{
    for (std::size_t k = frame.cursor; k < frame.nodes->size(); ++k) {
        if (accepts(frame, k, id)) {
            return k;
        }
    }
    return NoNode;
}

void Run::reportMissing(const StructureNode& node)
{
    Location loc;
    loc.segment = firstSegmentOf(node);
    if (node.kind == StructureNode::Kind::Segment) {
        add(structureSeverity(), "100", loc,
            "required segment " + node.name + " missing (" + structureName_ + ")");
    } else {
        add(structureSeverity(), "100", loc,
            "required group " + structureName_ + "." + node.name + " missing");
    }
}

// Greedy match of the segments against one instance of a group (HL7 v2.5.1 §2.10 message
// construction rules): each segment goes to the first node at or after the current one that
// can take it; a segment no open group can take is out of place.
void Run::matchGroup(const std::vector<StructureNode>& nodes, std::vector<Frame*>& stack)
{
    Frame frame{&nodes, 0, std::vector<std::uint32_t>(nodes.size(), 0), instances_++,
                pos_ < segments_.size() ? segments_[pos_].id : std::string_view()};
    stack.push_back(&frame);
    auto scopeFor = [&stack](std::string_view id) {
        for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
            if ((*it)->firstId != id) {
                return (*it)->instance;
            }
        }
        return stack.front()->instance;
    };
    // The segment that opened this instance belongs to it: the caller already chose this group.
    bool opening = stack.size() > 1;
    while (pos_ < segments_.size()) {
        SegmentInfo& seg = segments_[pos_];
        if (trialDepth_ > 0) {
            ++trialSteps_;
        }
        if (isZSegment(seg.id)) {
            if (trialDepth_ == 0) {
                seg.scope = pos_ > 0 ? segments_[pos_ - 1].scope : 0;
            }
            ++pos_;
            continue;
        }
        const std::size_t k = findFrom(frame, seg.id);
        const bool fitsAbove = !opening && std::any_of(stack.begin(), stack.end() - 1,
                                                       [&](Frame* f) {
                                                           return findFrom(*f, seg.id) != NoNode;
                                                       });
        opening = false;
        // The standard's structures are ambiguous (OML_O21: a new ORC may start the next ORDER
        // or a nested PRIOR_RESULT). Prefer the nested group only when the segments that follow
        // fit it without a problem.
        if (k != NoNode && fitsAbove && nodes[k].kind == StructureNode::Kind::Group &&
            trialSteps_ < MaxTrialSteps) {
            // Leaving now costs the required nodes this instance still lacks; entering costs
            // the ones skipped to reach k plus whatever the trial match finds.
            std::size_t leaveCost = 0;
            std::size_t enterCost = 0;
            for (std::size_t j = frame.cursor; j < nodes.size(); ++j) {
                if (frame.counts[j] == 0 && nodes[j].required) {
                    ++leaveCost;
                    enterCost += j < k ? 1 : 0;
                }
            }
            if (enterCost + trialProblems(nodes[k].children, stack) > leaveCost) {
                break;
            }
        }
        if (k == NoNode) {
            if (fitsAbove) {
                break;
            }
            if (trialDepth_ == 0) {
                seg.scope = pos_ > 0 ? segments_[pos_ - 1].scope : 0;
            }
            if (seg.definition == nullptr) {
                if (trialDepth_ == 0) {
                    add(Severity::Warning, "100", at(pos_),
                    "segment " + std::string(seg.id) +
                        " is not defined in the v2.5.1 tables; passed through unchecked");
                }
            } else {
                add(structureSeverity(), "100", at(pos_),
                    "segment " + std::string(seg.id) + " not expected here in " + structureName_);
            }
            ++pos_;
            continue;
        }
        for (std::size_t j = frame.cursor; j < k; ++j) {
            if (frame.counts[j] == 0 && nodes[j].required) {
                reportMissing(nodes[j]);
            }
        }
        frame.cursor = k;
        ++frame.counts[k];
        if (nodes[k].kind == StructureNode::Kind::Segment) {
            if (trialDepth_ == 0) {
                seg.scope = scopeFor(seg.id);
            }
            ++pos_;
        } else {
            matchGroup(nodes[k].children, stack);
        }
    }
    for (std::size_t j = frame.cursor; j < nodes.size(); ++j) {
        if (frame.counts[j] == 0 && nodes[j].required) {
            reportMissing(nodes[j]);
        }
    }
    stack.pop_back();
}

// Matches one instance of a group without recording anything; returns how many structure
// problems it would report.
std::size_t Run::trialProblems(const std::vector<StructureNode>& nodes, std::vector<Frame*> stack)
{
    const std::size_t pos = pos_;
    const std::size_t instances = instances_;
    const std::size_t problems = trialProblems_;
    ++trialDepth_;
    matchGroup(nodes, stack);
    --trialDepth_;
    const std::size_t found = trialProblems_ - problems;
    trialProblems_ = problems;
    pos_ = pos;
    instances_ = instances;
    return found;
}

// Without a structure, a run of OBX (and their NTE) belongs to the segment before it.
void Run::assignFallbackScopes()
{
    std::size_t scope = 0;
    for (std::size_t s = 0; s < segments_.size(); ++s) {
        const std::string_view id = segments_[s].id;
        if (id != "OBX" && id != "NTE" && !isZSegment(id)) {
            scope = s;
        }
        segments_[s].scope = scope;
    }
}

void Run::checkSegment(std::size_t s)
{
    const SegmentView segment = message_.segment(s);
    const SegmentDefinition* def = segments_[s].definition;
    const bool header = segment.isHeader();

    if (def != nullptr) {
        for (std::uint32_t f = 1; f <= def->fields.size(); ++f) {
            const FieldDefinition& fd = def->fields[f - 1];
            if (header && f <= 2) {
                continue; // MSH-1/MSH-2 are the delimiters, checked in checkHeader()
            }
            if (requiredNow(fd) && !isValued(segment.field(f))) {
                add(Severity::Error, "101", at(s, f),
                    label(s, f) + ": required field missing (" + fd.name + ")");
            }
        }
    }

    std::string obx2;
    if (segments_[s].id == "OBX") {
        obx2 = decoded(segment.field(2).component(1));
    }
    segment.forEachField([&](std::size_t n, const Element& field) {
        const auto f = static_cast<std::uint32_t>(n);
        if (header && f <= 2) {
            return;
        }
        const FieldDefinition* fd = fieldDefinition(s, f);
        if (fd != nullptr && isValued(field)) {
            const std::size_t count = field.childCount();
            if (fd->maxRepetitions != 0 && count > fd->maxRepetitions) {
                add(Severity::Error, "102", at(s, f),
                    label(s, f) + ": " + std::to_string(count) + " repetitions; at most " +
                        std::to_string(fd->maxRepetitions) + " allowed");
            }
        }
        std::string_view type = fd != nullptr ? std::string_view(fd->dataType) : std::string_view();
        if (segments_[s].id == "OBX" && f == 5 && table_.dataType(obx2) != nullptr) {
            type = obx2;
        }
        checkValues(s, f, field, type);
        if (fd == nullptr || fd->table.empty() || (fd->dataType != "ID" && fd->dataType != "IS")) {
            return;
        }
        // MSH-12 and MSH-9 carry their tables in components, checked by checkHeader().
        const CodeTable* codes = table_.codeTable(fd->table);
        if (codes == nullptr) {
            return;
        }
        std::uint32_t r = 0;
        field.forEachChild([&](const Element& repetition) {
            ++r;
            const Element value = repetition.component(1);
            if (!isValued(value) || value.isNull()) {
                return;
            }
            if (!codes->contains(decoded(value))) {
                add(codes->hl7Defined ? Severity::Error : Severity::Warning, "103", at(s, f, r),
                    label(s, f) + ": value not in " +
                        (codes->hl7Defined ? "HL7" : "user-defined") + " table " +
                        codes->number + " (" + codes->name + ")");
            }
        });
    });
    if (segments_[s].id == "OBX") {
        checkObservation(s);
    }
}

// Decodes every leaf once (so bytes invalid in MSH-18's set surface here, located) and checks
// the primitive formats the data type asks for.
void Run::checkValues(std::size_t s, std::uint32_t f, const Element& field, std::string_view type)
{
    const DataTypeDefinition* dt = table_.dataType(type);
    const bool composite = dt != nullptr && !dt->components.empty();
    std::uint32_t r = 0;
    field.forEachChild([&](const Element& repetition) {
        ++r;
        if (repetition.isNull()) {
            return;
        }
        std::uint32_t c = 0;
        repetition.forEachChild([&](const Element& component) {
            ++c;
            std::string_view componentType;
            if (composite) {
                componentType = c <= dt->components.size() ? std::string_view(dt->components[c - 1])
                                                           : std::string_view();
            } else if (c == 1) {
                componentType = type;
            }
            const DataTypeDefinition* cdt = table_.dataType(componentType);
            const bool subcomposite = cdt != nullptr && !cdt->components.empty();
            const std::uint32_t shownComponent = composite || c > 1 ? c : 0;
            std::uint32_t sub = 0;
            component.forEachChild([&](const Element& leaf) {
                ++sub;
                std::string_view leafType;
                if (subcomposite) {
                    leafType = sub <= cdt->components.size()
                                   ? std::string_view(cdt->components[sub - 1])
                                   : std::string_view();
                    // A composite inside a sub-component (TS in DR ...) is read by its first part.
                    while (const DataTypeDefinition* inner = table_.dataType(leafType)) {
                        if (inner->components.empty()) {
                            break;
                        }
                        leafType = inner->components.front();
                    }
                } else if (sub == 1) {
                    leafType = componentType;
                }
                const std::uint32_t shownSub = subcomposite || sub > 1 ? sub : 0;
                checkLeaf(s, f, r, shownComponent, shownComponent != 0 ? shownSub : 0, leaf,
                          leafType);
            });
        });
    });
}

void Run::checkLeaf(std::size_t s, std::uint32_t f, std::uint32_t r, std::uint32_t c,
                    std::uint32_t sub, const Element& leaf, std::string_view type)
{
    if (leaf.empty()) {
        return;
    }
    core::IssueList found;
    const std::string text(decoder_.decode(leaf, &found));
    for (const core::Issue& issue : found) {
        Location loc = at(s, f, r, c, sub);
        loc.offset = issue.location.offset;
        add(issue.severity, issue.code.c_str(), std::move(loc), label(s, f, c, sub) + ": " + issue.text);
    }
    if (leaf.isNull()) {
        return;
    }
    const std::string_view problem = formatProblem(type, text);
    if (!problem.empty()) {
        add(Severity::Error, "102", at(s, f, r, c, sub),
            label(s, f, c, sub) + ": " + std::string(problem));
    }
}

// OBX-2 names the data type of OBX-5 (HL7 v2.5.1 §7.4.2.2); the two must agree.
void Run::checkObservation(std::size_t s)
{
    const SegmentView obx = message_.segment(s);
    const Element value = obx.field(5);
    const std::string valueType = decoded(obx.field(2).component(1));
    if (isValued(value) && valueType.empty()) {
        add(Severity::Error, "101", at(s, 2), "OBX-2: required when OBX-5 is valued");
        return;
    }
    const DataTypeDefinition* dt = table_.dataType(valueType);
    if (dt == nullptr || !isValued(value)) {
        return;
    }
    const bool coded = valueType == "CE" || valueType == "CWE" || valueType == "CNE";
    std::uint32_t r = 0;
    value.forEachChild([&](const Element& repetition) {
        ++r;
        if (!isValued(repetition) || repetition.isNull()) {
            return;
        }
        if (dt->components.empty() && repetition.childCount() > 1) {
            add(Severity::Error, "102", at(s, 5, r),
                "OBX-5: value type " + valueType +
                    " has no components; a component separator in text must be escaped");
        }
        if (coded && !isValued(repetition.component(1)) && !isValued(repetition.component(4))) {
            add(Severity::Error, "102", at(s, 5, r),
                "OBX-5: value type " + valueType + " needs a code (component 1 or 4), "
                                                   "not text alone");
        }
        if (valueType == "SN") {
            const std::string comparator = decoded(repetition.component(1));
            static const char* comparators[] = {"", ">", "<", ">=", "<=", "=", "<>"};
            if (std::none_of(std::begin(comparators), std::end(comparators),
                             [&](const char* c) { return comparator == c; })) {
                add(Severity::Error, "102", at(s, 5, r, 1),
                    "OBX-5.1: SN comparator must be one of > < >= <= = <>");
            }
        }
    });
}

// Set IDs number the OBX of one group (HL7 v2.5.1 §7.4.2.1): a repeat means two results
// claim the same place.
void Run::checkSetIds()
{
    std::map<std::pair<std::size_t, std::string>, std::size_t> first;
    for (std::size_t s = 0; s < segments_.size(); ++s) {
        if (segments_[s].id != "OBX") {
            continue;
        }
        const Element setId = message_.segment(s).field(1);
        if (!isValued(setId)) {
            continue;
        }
        const auto key = std::make_pair(segments_[s].scope, decoded(setId));
        const auto [it, inserted] = first.emplace(key, s);
        if (!inserted) {
            add(Severity::Error, "100", at(s, 1),
                "OBX-1: set ID already used by OBX[" +
                    std::to_string(segments_[it->second].occurrence) + "] in the same group");
        }
    }
}

Element Run::pick(const Element& repetition, const Path& path) const
{
    if (path.component == 0) {
        return repetition;
    }
    const Element component = repetition.component(path.component);
    return path.subcomponent == 0 ? component : component.subcomponent(path.subcomponent);
}

bool Run::conditionHolds(const ConformanceProfile::Condition& when, const SegmentView& segment,
                         const Element* repetition)
{
    const Element target = repetition != nullptr
                               ? pick(*repetition, when.path)
                               : pick(segment.field(when.path.field).repetition(1), when.path);
    if (when.values.empty()) {
        return isValued(target);
    }
    const std::string value = decoded(target);
    return std::find(when.values.begin(), when.values.end(), value) != when.values.end();
}

void Run::applyProfile()
{
    using Kind = ConformanceProfile::Rule::Kind;
    const std::string suffix = " (profile " + profile_->name() + ")";
    for (const ConformanceProfile::Rule& rule : profile_->rules()) {
        const Path& path = rule.paths.front();
        if (rule.kind == Kind::Unique || rule.kind == Kind::Distinguish) {
            // key -> first segment index, per group instance
            std::map<std::pair<std::size_t, std::string>, std::size_t> seen;
            std::map<std::pair<std::size_t, std::string>, std::vector<std::size_t>> byFirst;
            for (std::size_t s = 0; s < segments_.size(); ++s) {
                if (segments_[s].id != path.segment) {
                    continue;
                }
                const SegmentView segment = message_.segment(s);
                if (rule.when && !conditionHolds(*rule.when, segment, nullptr)) {
                    continue;
                }
                std::string key;
                bool any = false;
                for (const Path& p : rule.paths) {
                    const Element e = pick(segment.field(p.field).repetition(1), p);
                    any = any || isValued(e);
                    key += decoded(e);
                    key += '\x1F';
                }
                if (rule.kind == Kind::Distinguish) {
                    const Element a = pick(segment.field(path.field).repetition(1), path);
                    if (isValued(a)) {
                        byFirst[{segments_[s].scope, decoded(a)}].push_back(s);
                    }
                    continue;
                }
                if (!any) {
                    continue;
                }
                const auto [it, inserted] = seen.emplace(std::make_pair(segments_[s].scope, key), s);
                if (!inserted) {
                    std::string names;
                    for (const Path& p : rule.paths) {
                        names += (names.empty() ? "" : "+") + p.toString();
                    }
                    add(Severity::Error, "100", at(s, path.field, 0, path.component, path.subcomponent),
                        names + ": combination repeats " + std::string(segments_[s].id) + "[" +
                            std::to_string(segments_[it->second].occurrence) +
                            "] in the same group" + suffix);
                }
            }
            const Path& by = rule.kind == Kind::Distinguish ? rule.paths[1] : path;
            for (const auto& [key, group] : byFirst) {
                if (group.size() < 2) {
                    continue;
                }
                std::map<std::string, std::size_t> seenBy;
                for (const std::size_t s : group) {
                    const Element b =
                        pick(message_.segment(s).field(by.field).repetition(1), by);
                    const Location loc = at(s, by.field, 0, by.component, by.subcomponent);
                    if (!isValued(b)) {
                        add(Severity::Error, "101", loc,
                            by.toString() + ": required to tell apart " + path.segment +
                                " segments with the same " + path.toString() +
                                " in one group" + suffix);
                        continue;
                    }
                    const auto [it, inserted] = seenBy.emplace(decoded(b), s);
                    if (!inserted) {
                        add(Severity::Error, "100", loc,
                            by.toString() + ": repeats " + path.segment + "[" +
                                std::to_string(segments_[it->second].occurrence) +
                                "], which has the same " + path.toString() + " in the same group" +
                                suffix);
                    }
                }
            }
            continue;
        }

        const bool perRepetition = rule.when && rule.when->path.field == path.field;
        for (std::size_t s = 0; s < segments_.size(); ++s) {
            if (segments_[s].id != path.segment) {
                continue;
            }
            const SegmentView segment = message_.segment(s);
            if (rule.when && !perRepetition && !conditionHolds(*rule.when, segment, nullptr)) {
                continue;
            }
            const Element field = segment.field(path.field);
            const std::string where = label(s, path.field, path.component, path.subcomponent);
            if (path.component == 0 && !perRepetition) {
                if (rule.kind == Kind::Require && !isValued(field)) {
                    add(Severity::Error, "101", at(s, path.field),
                        where + ": required field missing" + suffix);
                    continue;
                }
                if (rule.kind == Kind::Forbid && isValued(field)) {
                    add(Severity::Error, "102", at(s, path.field),
                        where + ": must not be valued" + suffix);
                    continue;
                }
            }
            std::uint32_t r = 0;
            field.forEachChild([&](const Element& repetition) {
                ++r;
                if (!isValued(repetition)) {
                    return;
                }
                if (perRepetition && !conditionHolds(*rule.when, segment, &repetition)) {
                    return;
                }
                const Element e = pick(repetition, path);
                const Location loc = at(s, path.field, r, path.component, path.subcomponent);
                if (rule.kind == Kind::Require && !isValued(e)) {
                    add(Severity::Error, "101", loc,
                        where + (path.subcomponent != 0 ? ": required sub-component missing"
                                                        : ": required component missing") +
                            suffix);
                } else if (rule.kind == Kind::Forbid && isValued(e)) {
                    add(Severity::Error, "102", loc, where + ": must not be valued" + suffix);
                } else if (rule.kind == Kind::InValueSet && isValued(e) && !e.isNull()) {
                    const std::vector<std::string>* values = profile_->valueSet(rule.valueSet);
                    if (values != nullptr &&
                        !std::binary_search(values->begin(), values->end(), decoded(e))) {
                        add(Severity::Error, "103", loc,
                            where + ": code not in value set " + rule.valueSet + suffix);
                    }
                }
            });
        }
    }
}

} // namespace

StructureValidator::StructureValidator(const StructureTable& table) : table_(table) {}

bool StructureValidator::validate(const Message& message, core::IssueList& issues,
                                  const ConformanceProfile* profile)
{
    core::IssueList found;
    // Parser issues decide which MSH-2 findings are new, so the run sees them first.
    for (const core::Issue& issue : issues) {
        if (issue.location.segment == "MSH" && issue.location.field <= 2) {
            found.add(issue);
        }
    }
    const std::size_t already = found.size();
    Run(table_, decoder_, message, found, profile).execute();
    bool clean = true;
    for (std::size_t i = already; i < found.size(); ++i) {
        clean = clean && found[i].severity != Severity::Error && found[i].severity != Severity::Fatal;
        issues.add(found[i]);
    }
    return clean;
}

} // namespace hl7gw::hl7v2
