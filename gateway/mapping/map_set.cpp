#include "gateway/mapping/map_set.h"

#include "gateway/fhir/model/definitions.h"
#include "gateway/hl7v2/structure_table.h"
#include "gateway/mapping/detail/map_parser.h"
#include "gateway/mapping/dialect.h"
#include "gateway/mapping/mapping_error.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hl7gw::mapping {

using detail::Condition;
using detail::Function;
using detail::Materialize;
using detail::MessageMap;
using detail::ResourceMap;
using detail::Source;
using detail::SourcePosition;
using detail::Statement;
using detail::TargetStep;
using detail::TypeMap;

namespace {

[[noreturn]] void fail(const SourcePosition& at, const std::string& what)
{
    throw MappingLoadError(at.file ? *at.file : std::string(), at.line, at.column, what);
}

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw MappingLoadError(path, 0, 0, "cannot read the file");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool isPrimitiveV2(std::string_view type)
{
    if (type.empty() || type == "varies")
        return true;
    const hl7v2::DataTypeDefinition* def = hl7v2::StructureTable::builtin().dataType(type);
    return def == nullptr || def->components.empty();
}

/// The v2 type of component `n` of `type` ("" when unknown or out of range).
std::string componentType(const std::string& type, std::uint32_t n, const SourcePosition& at,
                          const std::string& spelling)
{
    if (type.empty() || type == "varies")
        return {};
    const hl7v2::DataTypeDefinition* def = hl7v2::StructureTable::builtin().dataType(type);
    if (def == nullptr || def->components.empty())
        return n == 1 ? type : std::string(); // a primitive is its own first component
    if (n > def->components.size())
        fail(at, "`" + spelling + "`: " + type + " has " + std::to_string(def->components.size()) +
                     " components");
    return def->components[n - 1];
}

} // namespace

/// Checks and links parsed maps: every target against the R4 definitions, every v2 path
/// against the segment tables, every name (map, table, binding form) against what exists.
class MapResolver {
  public:
    explicit MapResolver(MapSet& set) : set_(set) {}

    struct Context {
        const fhir::TypeDef* type = nullptr; // the object the statements build
        std::string v2Type;                  // the value relative paths read ("" = none)
        bool hasCurrent = false;
        enum class Where { Message, Resource, Type } where = Where::Resource;
    };

    void resolveType(TypeMap& map)
    {
        map.type = fhir::Definitions::r4().type(map.fhirType);
        if (map.type == nullptr || map.type->isPrimitive() || map.type->isResource())
            fail(map.position, "`" + map.fhirType + "` is not a FHIR R4 complex data type");
        for (const std::string& v2 : map.v2Types)
            if (hl7v2::StructureTable::builtin().dataType(v2) == nullptr)
                fail(map.position, "`" + v2 + "` is not a v2 data type");
        Context context;
        context.type = map.type;
        context.v2Type = map.v2Types.front();
        context.hasCurrent = true;
        context.where = Context::Where::Type;
        resolveBody(map.body, context);
    }

    void resolveResource(ResourceMap& map)
    {
        const fhir::Definitions& definitions = fhir::Definitions::r4();
        if (!definitions.isResourceType(map.resourceType))
            fail(map.position, "`" + map.resourceType + "` is not a FHIR R4 resource type");
        map.type = definitions.type(map.resourceType);
        Context context;
        context.type = map.type;
        // A resource map may be run on a field value (resource(NAME) on an XCN): relative
        // paths then read it; their type is not known here.
        context.hasCurrent = true;
        context.where = Context::Where::Resource;
        for (Statement& s : map.body)
            if (s.kind == Statement::Kind::Key) {
                fhir::ElementMatch m = map.type->find(s.name);
                if (!m || m.type->name() != "Identifier")
                    fail(s.position,
                         "the key must be an Identifier element of " + map.resourceType);
                map.key = s.name;
                map.createOnly = s.text == "create";
                map.matchOnly = s.text == "match";
            }
        resolveBody(map.body, context);
    }

    void resolveMessage(MessageMap& map)
    {
        Context context;
        context.where = Context::Where::Message;
        resolveBody(map.body, context);
    }

  private:
    void resolveBody(std::vector<Statement>& body, const Context& context)
    {
        for (Statement& s : body)
            resolveStatement(s, context);
    }

    void resolveStatement(Statement& s, const Context& context)
    {
        bool inMessage = context.where == Context::Where::Message;
        switch (s.kind) {
        case Statement::Kind::Key:
            if (context.where != Context::Where::Resource)
                fail(s.position, "`key` belongs in a resource map");
            return;
        case Statement::Kind::Error:
            resolveCondition(*s.when, context, s.position);
            return;
        case Statement::Kind::Resource: {
            if (!inMessage)
                fail(s.position, "`resource NAME` belongs in a message map (use `| resource(NAME)` "
                                 "to make a resource from a value)");
            s.resource = set_.resourceMap(s.name);
            if (s.resource == nullptr)
                fail(s.position, "no resource map `" + s.name + "`");
            if (s.when)
                resolveCondition(*s.when, context, s.position);
            return;
        }
        case Statement::Kind::Each: {
            if (!inMessage)
                fail(s.position, "`each` belongs in a message map");
            s.eachGroup = s.name.size() != 3;
            if (!s.eachGroup && hl7v2::StructureTable::builtin().segment(s.name) == nullptr &&
                s.name[0] != 'Z')
                fail(s.position, "`" + s.name + "` is not a segment id or a group name");
            if (s.when)
                resolveCondition(*s.when, context, s.position);
            resolveBody(s.body, context);
            return;
        }
        case Statement::Kind::Assign:
        case Statement::Kind::Block:
            break;
        }
        if (inMessage)
            fail(s.position, "a message map holds `resource`, `each` and `error` statements; "
                             "element statements go in resource maps");
        resolveTarget(s, context);
        if (s.when)
            resolveCondition(*s.when, context, s.position);
        const fhir::TypeDef* target = s.target.back().type;
        Context inner;
        inner.type = target;
        inner.where = context.where;
        if (s.kind == Statement::Kind::Block) {
            if (target->isPrimitive())
                fail(s.position, "`" + s.targetSpelling + "` is a " + std::string(target->name()) +
                                     ": give it a value with `=`");
            s.materialize = Materialize::ObjectOnly;
            if (s.source.kind != Source::Kind::None) {
                resolveSource(s.source, context, s.position);
                inner.v2Type = s.source.v2Type;
                inner.hasCurrent =
                    s.source.kind == Source::Kind::V2Path ? s.source.field != 0 : true;
                if (s.source.kind == Source::Kind::V2Path && s.source.field == 0)
                    inner.hasCurrent = context.hasCurrent, inner.v2Type = context.v2Type;
            } else {
                inner.v2Type = context.v2Type;
                inner.hasCurrent = context.hasCurrent;
            }
            resolveBody(s.body, inner);
            return;
        }
        resolveSource(s.source, context, s.position);
        std::string v2Type = resolveFunctions(s, context);
        decideMaterialize(s, v2Type);
        if (!s.body.empty()) {
            if (target->isPrimitive())
                fail(s.body.front().position, "a primitive element has no elements to set");
            inner.v2Type = v2Type;
            inner.hasCurrent = true;
            resolveBody(s.body, inner);
        }
    }

    void resolveTarget(Statement& s, const Context& context)
    {
        const fhir::TypeDef* type = context.type;
        for (const std::string& step : detail::splitTarget(s.targetSpelling)) {
            TargetStep out;
            std::string name = step;
            if (step.rfind("extension(", 0) == 0 || step.rfind("modifierExtension(", 0) == 0) {
                std::size_t open = step.find('(');
                if (step.back() != ')' || step.size() < open + 3)
                    fail(s.position, "write an extension as extension(URL)");
                out.extensionUrl = step.substr(open + 1, step.size() - open - 2);
                name = step.substr(0, open);
            }
            if (name.empty())
                fail(s.position, "empty step in target `" + s.targetSpelling + "`");
            if (type->isPrimitive())
                fail(s.position, "`" + s.targetSpelling + "`: " + std::string(type->name()) +
                                     " is a primitive and has no `" + name + "`");
            fhir::ElementMatch m = type->find(name);
            if (!m && type->element(name + "[x]") != nullptr)
                fail(s.position,
                     "`" + name + "` is a choice: name the type (e.g. " + name + "String)");
            if (!m)
                fail(s.position, std::string(type->name()) + " has no element `" + name + "`");
            if (m.element->isChoice() && name == m.element->baseName)
                fail(s.position,
                     "`" + name + "` is a choice: name the type (e.g. " + name + "String)");
            out.name = name;
            out.type = m.type;
            out.many = m.element->many;
            if (name == "resourceType" || name == "id")
                fail(s.position, "`" + name + "` is set by the engine");
            s.target.push_back(std::move(out));
            type = m.type;
        }
    }

    void resolveSource(Source& source, const Context& context, const SourcePosition& at)
    {
        switch (source.kind) {
        case Source::Kind::None:
        case Source::Kind::Literal:
            return;
        case Source::Kind::Binding:
            if (context.where == Context::Where::Type)
                fail(at, "a type map cannot refer to resources (`" + source.spelling + "`)");
            return;
        case Source::Kind::Variable: {
            static const char* known[] = {"event",    "message-type", "control-id", "mapping",
                                          "timezone", "sender",       "version"};
            if (std::find_if(std::begin(known), std::end(known),
                             [&](const char* k) { return source.text == k; }) == std::end(known))
                fail(at, "unknown variable `$" + source.text +
                             "` (known: $event, $message-type, $control-id, $mapping, $timezone, "
                             "$sender, $version)");
            return;
        }
        case Source::Kind::Relative: {
            if (!context.hasCurrent)
                fail(at, "`" + source.spelling +
                             "` reads the value in hand, and there is none here "
                             "(use a v2 path such as PID-3, or a `for` block)");
            std::string type = context.v2Type;
            if (source.component != 0)
                type = componentType(type, source.component, at, source.spelling);
            if (source.subcomponent != 0)
                type = componentType(type, source.subcomponent, at, source.spelling);
            source.v2Type = type;
            return;
        }
        case Source::Kind::V2Path: {
            if (source.text.size() > 3)
                return; // a group name, only in conditions (`when PATIENT`)
            const hl7v2::SegmentDefinition* segment =
                hl7v2::StructureTable::builtin().segment(source.text);
            if (segment == nullptr) {
                if (source.text[0] != 'Z')
                    fail(at, "`" + source.text + "` is not a v2 segment (Z-segments are allowed)");
                return; // Z-segment: types unknown, read as text
            }
            if (source.field == 0) {
                if (source.component != 0)
                    fail(at, "`" + source.spelling + "`: a component needs a field");
                return;
            }
            if (source.field > segment->fields.size() && source.text != "MSH")
                fail(at, "`" + source.spelling + "`: " + source.text + " has " +
                             std::to_string(segment->fields.size()) + " fields");
            std::string type = source.field <= segment->fields.size()
                                   ? segment->fields[source.field - 1].dataType
                                   : std::string();
            if (source.component != 0)
                type = componentType(type, source.component, at, source.spelling);
            if (source.subcomponent != 0)
                type = componentType(type, source.subcomponent, at, source.spelling);
            source.v2Type = type;
            return;
        }
        }
    }

    /// Links the functions; returns the v2 type the value has after them ("" once it is text).
    std::string resolveFunctions(Statement& s, const Context& context)
    {
        std::string v2Type = s.source.v2Type;
        for (Function& f : s.functions) {
            switch (f.kind) {
            case Function::Kind::Table:
            case Function::Kind::Lookup:
                f.table = set_.tables_.find(f.argument);
                if (f.table == nullptr)
                    fail(s.position,
                         "no code table `" + f.argument + "` (tables/*.tsv or conceptmaps/*.json)");
                v2Type.clear();
                break;
            case Function::Kind::Resource:
                f.resource = set_.resourceMap(f.argument);
                if (f.resource == nullptr)
                    fail(s.position, "no resource map `" + f.argument + "`");
                break;
            case Function::Kind::As:
                if (hl7v2::StructureTable::builtin().dataType(f.argument) == nullptr)
                    fail(s.position, "`" + f.argument + "` is not a v2 data type");
                v2Type = f.argument;
                break;
            case Function::Kind::Minutes:
                resolveSource(*f.unitSource, context, s.position);
                v2Type.clear();
                break;
            case Function::Kind::Coding:
                if (f.argument.empty())
                    fail(s.position, "`coding` needs a code system URI");
                v2Type.clear();
                break;
            case Function::Kind::System:
            case Function::Kind::Join:
            case Function::Kind::Components:
            case Function::Kind::Base64:
            case Function::Kind::Default:
                v2Type.clear();
                break;
            case Function::Kind::Oid:
                fail(s.position, "`oid` belongs in FHIR -> v2 maps");
            case Function::Kind::Negate:
                fail(s.position, "`negate` belongs in FHIR -> v2 maps (v2 -> FHIR turns the "
                                 "sign with table(negative))");
            case Function::Kind::First:
            case Function::Kind::Required:
                break;
            }
        }
        return v2Type;
    }

    bool hasFunction(const Statement& s, Function::Kind kind) const
    {
        return std::any_of(s.functions.begin(), s.functions.end(),
                           [&](const Function& f) { return f.kind == kind; });
    }

    void decideMaterialize(Statement& s, const std::string& v2Type)
    {
        const fhir::TypeDef* target = s.target.back().type;
        std::string_view name = target->name();
        bool makesReference =
            s.source.kind == Source::Kind::Binding || hasFunction(s, Function::Kind::Resource);
        if (makesReference) {
            if (name != "Reference")
                fail(s.position,
                     "`" + s.targetSpelling + "` is a " + std::string(name) + ", not a Reference");
            s.materialize = Materialize::Reference;
            return;
        }
        if (name == "Reference")
            fail(s.position, "a Reference is made with @BINDING or `| resource(NAME)`");
        bool coded = hasFunction(s, Function::Kind::Table) ||
                     hasFunction(s, Function::Kind::Lookup) ||
                     hasFunction(s, Function::Kind::Coding);
        if (target->isPrimitive()) {
            s.materialize = Materialize::Primitive;
            s.primitive = std::string(name);
            return;
        }
        if (coded || v2Type.empty() || isPrimitiveV2(v2Type)) {
            auto typeMap = findTypeMap(v2Type, name);
            if (!coded && typeMap != nullptr) {
                s.materialize = Materialize::TypeMap;
                s.typeMap = typeMap;
                return;
            }
            if (name == "Coding")
                s.materialize = Materialize::CodeToCoding;
            else if (name == "CodeableConcept")
                s.materialize = Materialize::CodeToConcept;
            else if (!coded && (name == "Identifier" || name == "HumanName" ||
                                name == "ContactPoint" || name == "Address" || name == "Quantity" ||
                                name == "Annotation" || name == "Attachment"))
                s.materialize = Materialize::TextToComplex;
            else if (!s.body.empty())
                s.materialize = Materialize::ObjectOnly;
            else
                fail(s.position, "cannot make a " + std::string(name) + " from " +
                                     (v2Type.empty() ? std::string("text") : v2Type));
            return;
        }
        s.typeMap = findTypeMap(v2Type, name);
        if (s.typeMap == nullptr)
            fail(s.position, "no type map from " + v2Type + " to " + std::string(name) +
                                 " (add `type " + v2Type + " -> " + std::string(name) +
                                 "` to a .map file, or read a component such as `.1`)");
        s.materialize = Materialize::TypeMap;
    }

    const TypeMap* findTypeMap(const std::string& v2Type, std::string_view fhirType) const
    {
        if (v2Type.empty())
            return nullptr;
        auto it = set_.types_.find(v2Type + ">" + std::string(fhirType));
        return it == set_.types_.end() ? nullptr : it->second;
    }

    void resolveCondition(Condition& c, const Context& context, const SourcePosition& at)
    {
        if (c.left)
            resolveCondition(*c.left, context, at);
        if (c.right)
            resolveCondition(*c.right, context, at);
        if (c.kind != Condition::Kind::And && c.kind != Condition::Kind::Or &&
            c.kind != Condition::Kind::Not)
            resolveSource(c.source, context, at);
    }

    MapSet& set_;
};

/// Checks and links outbound (FHIR -> v2) maps: FHIR paths against the R4 definitions, v2
/// positions against the segment tables, writers by (FHIR type, v2 type).
class OutboundResolver {
  public:
    explicit OutboundResolver(MapSet& set) : set_(set) {}

    void resolveOutType(detail::OutType& map)
    {
        map.type = fhir::Definitions::r4().type(map.fhirType);
        if (map.type == nullptr || map.type->isPrimitive())
            fail(map.position, "`" + map.fhirType + "` is not a FHIR R4 complex type or resource");
        for (const std::string& v2 : map.v2Types) {
            const hl7v2::DataTypeDefinition* def = hl7v2::StructureTable::builtin().dataType(v2);
            if (def == nullptr || def->components.empty())
                fail(map.position, "`" + v2 + "` is not a composite v2 data type");
        }
        for (detail::OutStatement& s : map.body)
            resolveField(s, map.type, map.v2Types.front(), true);
    }

    void resolveOutbound(detail::OutboundMap& map)
    {
        const fhir::Definitions& definitions = fhir::Definitions::r4();
        if (!definitions.isResourceType(map.resourceType))
            fail(map.position, "`" + map.resourceType + "` is not a FHIR R4 resource type");
        map.type = definitions.type(map.resourceType);
        bool hasMessage = false;
        const detail::OutStatement* message = nullptr;
        for (detail::OutStatement& s : map.body) {
            if (s.kind != detail::OutStatement::Kind::Message)
                continue;
            if (hasMessage)
                fail(s.position, "one `message` line per outbound map");
            hasMessage = true;
            if (s.structure.empty())
                s.structure = hl7v2::StructureTable::builtin().structureFor(s.code, s.event, "");
            message = &s;
        }
        for (detail::OutStatement& s : map.body) {
            switch (s.kind) {
            case detail::OutStatement::Kind::Message:
                break;
            case detail::OutStatement::Kind::Event:
                resolveCondition(*s.when, map.type, s.position);
                // The event's own structure (ADT^A40 is ADT_A39, not the ADT_A05 of A28);
                // the message's when the event table has none.
                if (s.structure.empty() && message != nullptr)
                    s.structure =
                        hl7v2::StructureTable::builtin().structureFor(message->code, s.event, "");
                if (s.structure.empty() && message != nullptr)
                    s.structure = message->structure;
                break;
            case detail::OutStatement::Kind::Segment:
                resolveSegment(s, map.type);
                break;
            case detail::OutStatement::Kind::Field:
                fail(s.position, "a field statement belongs inside a `segment` block");
            }
        }
        if (!hasMessage)
            fail(map.position, "an outbound map needs `message CODE EVENT` (e.g. message SIU S12)");
    }

  private:
    void resolveSegment(detail::OutStatement& s, const fhir::TypeDef* resourceType)
    {
        const hl7v2::SegmentDefinition* def = hl7v2::StructureTable::builtin().segment(s.segment);
        if (def == nullptr && s.segment[0] != 'Z')
            fail(s.position, "`" + s.segment + "` is not a v2 segment (Z-segments are allowed)");
        if (s.segment == "MSH")
            fail(s.position, "MSH is written by the engine from the dialect");
        const fhir::TypeDef* contextType = resolveSource(s.context, resourceType, s.position);
        if (contextType == nullptr || contextType->isPrimitive())
            fail(s.position, "a segment's `from`/`for` must give a resource or a complex element");
        if (s.when)
            resolveCondition(*s.when, contextType, s.position);
        for (detail::OutStatement& field : s.body) {
            if (field.kind != detail::OutStatement::Kind::Field)
                fail(field.position, "a segment block holds field statements (N = PATH)");
            std::string v2Type;
            if (def != nullptr) {
                if (field.field > def->fields.size())
                    fail(field.position,
                         s.segment + " has " + std::to_string(def->fields.size()) + " fields");
                v2Type = def->fields[field.field - 1].dataType;
            }
            resolveField(field, contextType, v2Type, false);
        }
    }

    /// `v2Type` is the type at the statement's base (the field, or the writer's composite).
    void resolveField(detail::OutStatement& s, const fhir::TypeDef* contextType, std::string v2Type,
                      bool inWriter)
    {
        if (s.kind != detail::OutStatement::Kind::Field)
            fail(s.position, "a writer holds position statements (C = PATH)");
        for (std::uint32_t n : {s.component, s.subcomponent}) {
            if (n == 0 || v2Type.empty())
                continue;
            const hl7v2::DataTypeDefinition* def =
                hl7v2::StructureTable::builtin().dataType(v2Type);
            if (def == nullptr || def->components.empty()) {
                if (n != 1)
                    fail(s.position,
                         "`" + s.targetSpelling + "`: " + v2Type + " has no components");
                continue;
            }
            if (n > def->components.size())
                fail(s.position, "`" + s.targetSpelling + "`: " + v2Type + " has " +
                                     std::to_string(def->components.size()) + " components");
            v2Type = def->components[n - 1];
        }
        (void)inWriter;
        s.v2Type = v2Type;
        const fhir::TypeDef* sourceType = resolveSource(s.source, contextType, s.position);
        bool becomesText = false;
        for (Function& f : s.functions) {
            switch (f.kind) {
            case Function::Kind::Table:
            case Function::Kind::Lookup:
                f.table = set_.tables_.find(f.argument);
                if (f.table == nullptr)
                    fail(s.position, "no code table `" + f.argument + "`");
                becomesText = true;
                break;
            case Function::Kind::System:
            case Function::Kind::Oid:
            case Function::Kind::Join:
            case Function::Kind::Default:
            case Function::Kind::Negate:
                becomesText = true;
                break;
            case Function::Kind::First:
            case Function::Kind::Required:
                break;
            default:
                fail(s.position, "in an outbound map the functions are table, lookup, system, oid, "
                                 "join, first, default, required and negate");
            }
        }
        if (sourceType == nullptr || becomesText) {
            s.primitive = "string";
            return;
        }
        if (sourceType->isPrimitive()) {
            s.primitive = std::string(sourceType->name());
            return;
        }
        s.writer = set_.outType(sourceType->name(), v2Type);
        if (s.writer == nullptr)
            fail(s.position, "no writer from " + std::string(sourceType->name()) + " to " +
                                 (v2Type.empty() ? std::string("this position") : v2Type) +
                                 " (add `outtype " + std::string(sourceType->name()) + " -> " +
                                 v2Type + "`, or name a primitive element)");
        if (s.subcomponent != 0)
            fail(s.position, "a composite value cannot go into a sub-component");
    }

    const fhir::TypeDef* resolveSource(detail::FhirSource& source, const fhir::TypeDef* context,
                                       const SourcePosition& at)
    {
        if (source.kind == detail::FhirSource::Kind::Literal)
            return nullptr;
        if (source.kind == detail::FhirSource::Kind::Variable) {
            static const char* known[] = {"event", "index", "id", "resource-type", "timezone"};
            if (std::find_if(std::begin(known), std::end(known),
                             [&](const char* k) { return source.text == k; }) == std::end(known))
                fail(at, "unknown variable `$" + source.text +
                             "` (known: $event, $index, $id, "
                             "$resource-type, $timezone)");
            return nullptr;
        }
        source.type = resolvePath(source.steps, context, at, source.spelling);
        return source.type;
    }

    const fhir::TypeDef* resolvePath(std::vector<detail::FhirStep>& steps,
                                     const fhir::TypeDef* type, const SourcePosition& at,
                                     const std::string& spelling)
    {
        const fhir::Definitions& definitions = fhir::Definitions::r4();
        for (detail::FhirStep& step : steps) {
            if (type == nullptr || type->isPrimitive())
                fail(at, "`" + spelling + "`: `" + step.name + "` follows a primitive");
            fhir::ElementMatch m = type->find(step.name);
            if (!m) {
                if (step.name == "id" || step.name == "resourceType") {
                    step.type = definitions.type("string");
                    type = step.type;
                    continue;
                }
                fail(at, "`" + spelling + "`: " + std::string(type->name()) + " has no element `" +
                             step.name + "`");
            }
            step.type = m.type;
            step.many = m.element->many;
            if (!step.filterPath.empty())
                resolvePath(step.filterPath, m.type, at, spelling);
            type = m.type;
            if (!step.follow.empty()) {
                if (type->name() != "Reference")
                    fail(at, "`" + spelling + "`: `->` follows a Reference, and `" + step.name +
                                 "` is a " + std::string(type->name()));
                if (!definitions.isResourceType(step.follow))
                    fail(at, "`" + spelling + "`: `" + step.follow + "` is not a resource type");
                type = definitions.type(step.follow);
                step.type = type;
            }
        }
        return type;
    }

    void resolveCondition(detail::OutCondition& c, const fhir::TypeDef* context,
                          const SourcePosition& at)
    {
        if (c.left)
            resolveCondition(*c.left, context, at);
        if (c.right)
            resolveCondition(*c.right, context, at);
        if (c.kind != detail::OutCondition::Kind::And && c.kind != detail::OutCondition::Kind::Or &&
            c.kind != detail::OutCondition::Kind::Not)
            resolveSource(c.source, context, at);
    }

    MapSet& set_;
};

MapSet::MapSet() = default;
MapSet::~MapSet() = default;

std::shared_ptr<const MapSet> MapSet::load(const std::string& mappingsDir,
                                           const std::vector<std::string>& extraFiles)
{
    namespace fs = std::filesystem;
    auto set = std::make_shared<MapSet>();
    set->tables_ = CodeTables::loadDirectory(mappingsDir);
    std::vector<std::string> paths;
    std::error_code ec;
    for (const char* direction : {"v2-to-fhir", "fhir-to-v2"}) {
        fs::path root = fs::path(mappingsDir) / direction;
        if (fs::is_directory(root, ec))
            for (const auto& entry : fs::recursive_directory_iterator(root))
                if (entry.is_regular_file() && entry.path().extension() == ".map")
                    paths.push_back(entry.path().string());
    }
    std::sort(paths.begin(), paths.end());
    paths.insert(paths.end(), extraFiles.begin(), extraFiles.end());
    for (const std::string& path : paths) {
        auto name = std::make_shared<const std::string>(path);
        set->files_.push_back(
            std::make_unique<detail::ParsedFile>(detail::parseMapFile(readFile(path), name)));
    }
    set->resolve();
    return set;
}

void MapSet::resolve()
{
    for (auto& file : files_) {
        for (TypeMap& map : file->types)
            for (const std::string& v2 : map.v2Types) {
                std::string key = v2 + ">" + map.fhirType;
                if (types_.count(key) != 0)
                    fail(map.position, "a second type map from " + v2 + " to " + map.fhirType);
                types_.emplace(key, &map);
            }
        for (ResourceMap& map : file->resources)
            if (!resources_.emplace(map.name, &map).second)
                fail(map.position, "a second resource map named `" + map.name + "`");
        for (MessageMap& map : file->messages) {
            if (!messages_.emplace(map.name, &map).second)
                fail(map.position, "a second message map named `" + map.name + "`");
            for (const std::string& trigger : map.triggers) {
                auto [it, added] = byTrigger_.emplace(trigger, &map);
                if (!added)
                    fail(map.position,
                         trigger + " is already mapped by `" + it->second->name + "`");
            }
        }
    }
    for (auto& file : files_) {
        for (detail::OutType& map : file->outtypes)
            for (const std::string& v2 : map.v2Types) {
                std::string key = map.fhirType + ">" + v2;
                if (!outTypes_.emplace(key, &map).second)
                    fail(map.position, "a second writer from " + map.fhirType + " to " + v2);
            }
        for (detail::OutboundMap& map : file->outbounds) {
            if (!outbounds_.emplace(map.name, &map).second)
                fail(map.position, "a second outbound map named `" + map.name + "`");
            outboundByType_.emplace(map.resourceType, &map);
        }
    }
    OutboundResolver outbound(*this);
    for (auto& file : files_) {
        for (detail::OutType& map : file->outtypes)
            outbound.resolveOutType(map);
        for (detail::OutboundMap& map : file->outbounds)
            outbound.resolveOutbound(map);
    }
    MapResolver resolver(*this);
    for (auto& file : files_) {
        for (TypeMap& map : file->types)
            resolver.resolveType(map);
        for (ResourceMap& map : file->resources)
            resolver.resolveResource(map);
        for (MessageMap& map : file->messages)
            resolver.resolveMessage(map);
    }
}

const MessageMap* MapSet::messageMapFor(std::string_view code, std::string_view event) const
{
    std::string key(code);
    key += '^';
    key += event;
    auto it = byTrigger_.find(key);
    if (it == byTrigger_.end())
        it = byTrigger_.find(code);
    return it == byTrigger_.end() ? nullptr : it->second;
}

const TypeMap* MapSet::typeMap(std::string_view v2Type, std::string_view fhirType) const
{
    if (v2Type.empty())
        return nullptr;
    std::string key(v2Type);
    key += '>';
    key += fhirType;
    auto it = types_.find(key);
    return it == types_.end() ? nullptr : it->second;
}

const detail::OutboundMap* MapSet::outboundMap(std::string_view name) const
{
    auto it = outbounds_.find(name);
    return it == outbounds_.end() ? nullptr : it->second;
}

const detail::OutboundMap* MapSet::outboundMapFor(std::string_view resourceType) const
{
    auto it = outboundByType_.find(resourceType);
    return it == outboundByType_.end() ? nullptr : it->second;
}

const detail::OutType* MapSet::outType(std::string_view fhirType, std::string_view v2Type) const
{
    std::string key(fhirType);
    key += '>';
    key += v2Type;
    auto it = outTypes_.find(key);
    return it == outTypes_.end() ? nullptr : it->second;
}

const MessageMap* MapSet::messageMap(std::string_view name) const
{
    auto it = messages_.find(name);
    return it == messages_.end() ? nullptr : it->second;
}

const ResourceMap* MapSet::resourceMap(std::string_view name) const
{
    auto it = resources_.find(name);
    return it == resources_.end() ? nullptr : it->second;
}

void MapSet::check(const Dialect& dialect) const
{
    for (const auto& [type, name] : dialect.maps)
        if (messageMap(name) == nullptr)
            throw MappingLoadError(dialect.origin, 0, 0,
                                   "/maps/" + type + ": no message map `" + name +
                                       "` in mappings/v2-to-fhir/");
    for (const auto& [type, name] : dialect.outbound)
        if (outboundMap(name) == nullptr)
            throw MappingLoadError(dialect.origin, 0, 0,
                                   "/outbound/" + type + ": no outbound map `" + name +
                                       "` in mappings/fhir-to-v2/");
    for (const auto& [from, to] : dialect.tables)
        if (tables_.find(from) == nullptr || tables_.find(to) == nullptr)
            throw MappingLoadError(dialect.origin, 0, 0,
                                   "/tables/" + from + ": both tables must exist");
}

std::vector<std::string> MapSet::describeMessageMaps() const
{
    std::vector<std::string> out;
    for (const auto& [name, map] : messages_) {
        std::string line = name + " for";
        for (const std::string& t : map->triggers)
            line += " " + t;
        out.push_back(line);
    }
    return out;
}

} // namespace hl7gw::mapping
