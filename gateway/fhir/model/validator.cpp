#include "gateway/fhir/model/validator.h"

#include "gateway/fhir/model/definitions.h"
#include "gateway/fhir/model/detail/primitive_format.h"
#include "gateway/fhir/model/json_io.h"

#include <string>
#include <vector>

namespace hl7gw::fhir {

namespace {

using core::Severity;
using rapidjson::Value;

std::string_view keyOf(const Value& name)
{
    return {name.GetString(), name.GetStringLength()};
}

std::string_view textOf(const Value& value)
{
    return {value.GetString(), value.GetStringLength()};
}

const Value* member(const Value& object, std::string_view name)
{
    if (!object.IsObject()) {
        return nullptr;
    }
    for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
        if (keyOf(it->name) == name) {
            return &it->value;
        }
    }
    return nullptr;
}

bool hasAnyMember(const Value& object, std::string_view baseName)
{
    // True when the element (or any choice of it) is present: "value" matches valueQuantity.
    if (!object.IsObject()) {
        return false;
    }
    for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
        const std::string_view key = keyOf(it->name);
        if (key.size() > baseName.size() && key.starts_with(baseName) &&
            key[baseName.size()] >= 'A' && key[baseName.size()] <= 'Z') {
            return true;
        }
        if (key == baseName) {
            return true;
        }
    }
    return false;
}

/// Walks one resource, keeping the current FHIRPath in path_.
class Checker {
  public:
    Checker(core::IssueList& issues) : defs_(Definitions::r4()), issues_(issues) {}

    void resource(const Value& value);

  private:
    void object(const TypeDef& type, const Value& value);
    void element(const ElementMatch& match, std::string_view key, const Value* value,
                 const Value* extension);
    void primitiveElement(const ElementDef& element, const TypeDef& type, const Value* value,
                          const Value* extension);
    void primitive(const ElementDef& element, const TypeDef& type, const Value& value);
    void complex(const TypeDef& type, const Value& value);
    void invariants(const TypeDef& type, const Value& value);
    void appointment(const Value& value);
    void observation(const Value& value);

    void add(const char* code, std::string text)
    {
        core::Location location;
        location.path = path_;
        issues_.add(Severity::Error, code, std::move(location), std::move(text));
    }

    void addAt(std::string_view child, const char* code, std::string text)
    {
        const std::size_t mark = path_.size();
        path_.append(".").append(child);
        add(code, std::move(text));
        path_.resize(mark);
    }

    void pushIndex(std::size_t index)
    {
        path_.append("[").append(std::to_string(index)).append("]");
    }

    const Definitions& defs_;
    core::IssueList& issues_;
    std::string path_;
    std::string scratch_;
};

void Checker::resource(const Value& value)
{
    if (!value.IsObject()) {
        add("structure", "a resource must be a JSON object");
        return;
    }
    const Value* resourceType = member(value, "resourceType");
    if (resourceType == nullptr || !resourceType->IsString() || isNumber(*resourceType)) {
        add("structure", "resourceType is missing or not a string");
        return;
    }
    const TypeDef* type = defs_.type(textOf(*resourceType));
    if (type == nullptr || !type->isResource()) {
        if (path_.empty()) {
            path_ = "resourceType";
            add("structure", "resourceType is not an R4 resource type");
            path_.clear();
        } else {
            addAt("resourceType", "structure", "resourceType is not an R4 resource type");
        }
        return;
    }
    if (path_.empty()) {
        path_.assign(type->name());
    }
    object(*type, value);
}

void Checker::object(const TypeDef& type, const Value& value)
{
    if (!value.IsObject()) {
        add("structure", "expected a JSON object (" + std::string(type.name()) + ")");
        return;
    }
    const auto& elements = type.elements();
    // Which type each element was given (choice elements may have only one).
    std::vector<const TypeDef*> seen(elements.size(), nullptr);
    for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
        const std::string_view key = keyOf(it->name);
        if (key == "resourceType" && type.isResource()) {
            continue;
        }
        const bool underscore = !key.empty() && key[0] == '_';
        const std::string_view name = underscore ? key.substr(1) : key;
        const ElementMatch match = type.find(name);
        if (!match || (underscore && !match.type->isPrimitive())) {
            addAt(key, "structure",
                  "unknown element '" + std::string(key) + "' in " + std::string(type.name()));
            continue;
        }
        if (seen[match.index] != nullptr && seen[match.index] != match.type) {
            addAt(key, "structure",
                  "more than one type given for " + std::string(match.element->name));
        }
        seen[match.index] = match.type;
        if (underscore) {
            if (member(value, name) != nullptr) {
                continue; // checked together with its value
            }
            element(match, name, nullptr, &it->value);
            continue;
        }
        const Value* extension = nullptr;
        if (match.type->isPrimitive()) {
            scratch_.assign("_").append(name);
            extension = member(value, scratch_);
        }
        element(match, name, &it->value, extension);
    }
    for (std::size_t i = 0; i < elements.size(); ++i) {
        if (elements[i].min > 0 && seen[i] == nullptr) {
            addAt(elements[i].baseName, "required",
                  "minimum cardinality of " + std::string(elements[i].name) + " is " +
                      std::to_string(elements[i].min));
        }
    }
    invariants(type, value);
}

void Checker::element(const ElementMatch& match, std::string_view key, const Value* value,
                      const Value* extension)
{
    const std::size_t mark = path_.size();
    path_.append(".").append(key);
    const ElementDef& def = *match.element;
    const TypeDef& type = *match.type;
    if (type.isPrimitive()) {
        primitiveElement(def, type, value, extension);
    } else if (def.many) {
        if (!value->IsArray()) {
            add("structure", std::string(def.name) + " repeats: expected a JSON array");
        } else if (value->Empty()) {
            add("structure", "an array must not be empty");
        } else {
            std::size_t index = 0;
            for (const Value& item : value->GetArray()) {
                const std::size_t itemMark = path_.size();
                pushIndex(index++);
                complex(type, item);
                path_.resize(itemMark);
            }
        }
    } else if (value->IsArray()) {
        add("structure", std::string(def.name) + " does not repeat: expected a single value");
    } else {
        complex(type, *value);
    }
    path_.resize(mark);
}

void Checker::complex(const TypeDef& type, const Value& value)
{
    if (type.isResourceSlot()) {
        resource(value);
    } else {
        object(type, value);
    }
}

void Checker::primitiveElement(const ElementDef& def, const TypeDef& type, const Value* value,
                               const Value* extension)
{
    const TypeDef& elementType = *defs_.type("Element");
    if (!def.many) {
        if ((value != nullptr && value->IsArray()) ||
            (extension != nullptr && extension->IsArray())) {
            add("structure", std::string(def.name) + " does not repeat: expected a single value");
            return;
        }
        if (value != nullptr) {
            if (value->IsNull()) {
                add("structure", "null is not a value");
            } else {
                primitive(def, type, *value);
            }
        }
        if (extension != nullptr) {
            object(elementType, *extension);
        }
        return;
    }
    if ((value != nullptr && !value->IsArray()) ||
        (extension != nullptr && !extension->IsArray())) {
        add("structure", std::string(def.name) + " repeats: expected a JSON array");
        return;
    }
    const std::size_t valueCount = value != nullptr ? value->Size() : 0;
    const std::size_t extensionCount = extension != nullptr ? extension->Size() : 0;
    if ((value != nullptr && valueCount == 0) || (extension != nullptr && extensionCount == 0)) {
        add("structure", "an array must not be empty");
        return;
    }
    if (value != nullptr && extension != nullptr && valueCount != extensionCount) {
        add("structure", "the arrays of " + std::string(def.name) + " and its _" +
                             std::string(def.name) + " extensions differ in length");
        return;
    }
    const std::size_t count = std::max(valueCount, extensionCount);
    for (std::size_t i = 0; i < count; ++i) {
        const Value* v = i < valueCount ? &(*value)[static_cast<rapidjson::SizeType>(i)] : nullptr;
        const Value* x =
            i < extensionCount ? &(*extension)[static_cast<rapidjson::SizeType>(i)] : nullptr;
        const std::size_t mark = path_.size();
        pushIndex(i);
        const bool noValue = v == nullptr || v->IsNull();
        const bool noExtension = x == nullptr || x->IsNull();
        if (noValue && noExtension) {
            add("structure", "null in an array needs a non-null entry in the other array");
        }
        if (!noValue) {
            primitive(def, type, *v);
        }
        if (!noExtension) {
            object(elementType, *x);
        }
        path_.resize(mark);
    }
}

void Checker::primitive(const ElementDef& def, const TypeDef& type, const Value& value)
{
    const std::string typeName(type.name());
    switch (type.jsonKind()) {
    case JsonKind::Boolean:
        if (!value.IsBool()) {
            add("structure", "expected a JSON boolean (boolean)");
        }
        return;
    case JsonKind::Number:
        if (!isNumber(value)) {
            add("structure", "expected a JSON number (" + typeName + ")");
        } else if (!detail::isValidPrimitiveText(type, numberText(value))) {
            add("value", "not a valid " + typeName);
        }
        return;
    default:
        break;
    }
    if (!value.IsString() || isNumber(value)) {
        add("structure", "expected a JSON string (" + typeName + ")");
        return;
    }
    const std::string_view text = textOf(value);
    if (typeName == "xhtml") {
        std::size_t start = 0;
        while (start < text.size() && (text[start] == ' ' || text[start] == '\n' ||
                                       text[start] == '\r' || text[start] == '\t')) {
            ++start;
        }
        if (text.substr(start, 4) != "<div") {
            add("value", "narrative div must be XHTML starting with <div");
        }
        return;
    }
    if (!detail::isValidPrimitiveText(type, text)) {
        add("value", "not a valid " + typeName);
        return;
    }
    if (!def.codes.empty() && !def.allowsCode(text)) {
        add("code-invalid", "code is not in the required value set of " + std::string(def.name));
    }
}

void Checker::invariants(const TypeDef& type, const Value& value)
{
    const std::string_view name = type.name();
    if (name == "Extension") {
        // ext-1: extension or value[x], not both (and not neither).
        const bool hasValue = hasAnyMember(value, "value");
        const bool hasExtension = member(value, "extension") != nullptr;
        if (hasValue == hasExtension) {
            add("invariant",
                "ext-1: an extension must have either extensions or value[x], not both");
        }
    } else if (name == "Appointment") {
        appointment(value);
    } else if (name == "Appointment.participant") {
        if (member(value, "type") == nullptr && member(value, "actor") == nullptr) {
            add("invariant", "app-1: a participant must have a type or an actor");
        }
    } else if (name == "Observation") {
        observation(value);
    } else if (name == "Slot" || name == "Task") {
        const bool slot = name == "Slot";
        const Value* early = member(value, slot ? "start" : "authoredOn");
        const Value* late = member(value, slot ? "end" : "lastModified");
        std::int64_t earlyFrom = 0;
        std::int64_t earlyTo = 0;
        std::int64_t lateFrom = 0;
        std::int64_t lateTo = 0;
        if (early != nullptr && late != nullptr && early->IsString() && late->IsString() &&
            detail::timeRange(textOf(*early), earlyFrom, earlyTo) &&
            detail::timeRange(textOf(*late), lateFrom, lateTo) && lateTo <= earlyFrom) {
            addAt(slot ? "end" : "lastModified", "invariant",
                  slot ? "Slot.end must not be before Slot.start"
                       : "Task.lastModified must not be before Task.authoredOn");
        }
    } else if (name == "Organization") {
        if (member(value, "identifier") == nullptr && member(value, "name") == nullptr) {
            add("invariant", "org-1: an organization must have an identifier or a name");
        }
    }
}

void Checker::appointment(const Value& value)
{
    const Value* status = member(value, "status");
    const std::string_view code =
        status != nullptr && status->IsString() ? textOf(*status) : std::string_view();
    const bool start = member(value, "start") != nullptr;
    const bool end = member(value, "end") != nullptr;
    if (start != end) {
        add("invariant", "app-2: start and end must both be present or both be absent");
    } else if (!start && !code.empty() && code != "proposed" && code != "cancelled" &&
               code != "waitlist") {
        add("invariant", "app-3: only proposed, cancelled or waitlist appointments may lack "
                         "start and end");
    }
    if (member(value, "cancelationReason") != nullptr && !code.empty() && code != "cancelled" &&
        code != "noshow") {
        addAt("cancelationReason", "invariant",
              "app-4: cancelationReason only when the status is cancelled or noshow");
    }
}

void Checker::observation(const Value& value)
{
    const bool hasValue = hasAnyMember(value, "value");
    if (hasValue && member(value, "dataAbsentReason") != nullptr) {
        addAt("dataAbsentReason", "invariant",
              "obs-6: dataAbsentReason only when there is no value[x]");
    }
    const Value* components = member(value, "component");
    const Value* code = member(value, "code");
    const Value* codings = code != nullptr ? member(*code, "coding") : nullptr;
    if (!hasValue || components == nullptr || !components->IsArray() || codings == nullptr ||
        !codings->IsArray()) {
        return;
    }
    // obs-7: value.empty() or component.code.where(coding.intersect(%resource.code.coding)
    // .exists()).empty(): no component may carry the Observation's own code.
    for (rapidjson::SizeType i = 0; i < components->Size(); ++i) {
        const Value* componentCode = member((*components)[i], "code");
        const Value* componentCodings =
            componentCode != nullptr ? member(*componentCode, "coding") : nullptr;
        if (componentCodings == nullptr || !componentCodings->IsArray()) {
            continue;
        }
        bool shared = false;
        for (const Value& a : componentCodings->GetArray()) {
            for (const Value& b : codings->GetArray()) {
                shared = shared || a == b;
            }
        }
        if (shared) {
            const std::size_t mark = path_.size();
            path_.append(".component");
            pushIndex(i);
            add("invariant", "obs-7: a component has the Observation's own code, so the "
                             "Observation must not have a value[x]");
            path_.resize(mark);
        }
    }
}

} // namespace

void validateResource(const rapidjson::Value& resource, core::IssueList& issues)
{
    Checker(issues).resource(resource);
}

bool isValidPrimitive(std::string_view typeName, std::string_view text)
{
    const TypeDef* type = Definitions::r4().type(typeName);
    return type != nullptr && type->isPrimitive() && detail::isValidPrimitiveText(*type, text);
}

} // namespace hl7gw::fhir
