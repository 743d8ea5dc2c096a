#include "gateway/fhir/model/xml_codec.h"

#include "gateway/fhir/model/definitions.h"
#include "gateway/fhir/model/detail/primitive_format.h"
#include "gateway/fhir/model/detail/xerces_init.h"
#include "gateway/fhir/model/json_io.h"

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/sax/Locator.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/OutOfMemoryException.hpp>
#include <xercesc/util/SecurityManager.hpp>
#include <xercesc/util/XMLUni.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

namespace hl7gw::fhir {

namespace {

using core::Severity;
using rapidjson::Value;

constexpr std::string_view FhirNamespace = "http://hl7.org/fhir";
constexpr std::string_view XhtmlNamespace = "http://www.w3.org/1999/xhtml";
constexpr std::size_t MaxDepth = 128;

std::string_view keyOf(const Value& name)
{
    return {name.GetString(), name.GetStringLength()};
}

void addIssue(core::IssueList& issues, const char* code, std::string path, std::string text)
{
    core::Location location;
    location.path = std::move(path);
    issues.add(Severity::Error, code, std::move(location), std::move(text));
}

void escapeInto(std::string& out, std::string_view text, bool attribute)
{
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            if (attribute) {
                out += "&quot;";
            } else {
                out += c;
            }
            break;
        case '\n':
            out += attribute ? "&#xA;" : "\n";
            break;
        case '\r':
            out += "&#xD;";
            break;
        case '\t':
            out += attribute ? "&#x9;" : "\t";
            break;
        default:
            out += c;
        }
    }
}

// ---------------------------------------------------------------- JSON -> XML

class XmlWriter {
  public:
    XmlWriter(std::string& out, core::IssueList& issues)
        : defs_(Definitions::r4()), out_(out), issues_(issues)
    {
    }

    bool resource(const Value& value, bool root)
    {
        const Value* resourceType = value.IsObject() ? findMember(value, "resourceType") : nullptr;
        const TypeDef* type =
            resourceType != nullptr && resourceType->IsString() && !isNumber(*resourceType)
                ? defs_.type(keyOf(*resourceType))
                : nullptr;
        if (type == nullptr || !type->isResource()) {
            fail("structure", "not a resource with a known resourceType");
            return false;
        }
        if (path_.empty()) {
            path_.assign(type->name());
        }
        out_.append("<").append(type->name());
        if (root) {
            out_.append(" xmlns=\"").append(FhirNamespace).append("\"");
        }
        out_.append(">");
        if (!children(*type, value)) {
            return false;
        }
        out_.append("</").append(type->name()).append(">");
        return true;
    }

  private:
    struct Entry {
        std::uint32_t index;
        std::string_view name;
        const ElementDef* element;
        const TypeDef* type;
        const Value* value;
        const Value* extension;
    };

    static const Value* findMember(const Value& object, std::string_view name)
    {
        for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
            if (keyOf(it->name) == name) {
                return &it->value;
            }
        }
        return nullptr;
    }

    void fail(const char* code, std::string text)
    {
        addIssue(issues_, code, path_, std::move(text));
    }

    bool collect(const TypeDef& type, const Value& object, std::vector<Entry>& entries)
    {
        for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
            const std::string_view key = keyOf(it->name);
            if (key == "resourceType" && type.isResource()) {
                continue;
            }
            const bool underscore = !key.empty() && key[0] == '_';
            const std::string_view name = underscore ? key.substr(1) : key;
            const ElementMatch match = type.find(name);
            if (!match || (underscore && !match.type->isPrimitive())) {
                const std::size_t mark = path_.size();
                path_.append(".").append(key);
                fail("structure",
                     "unknown element '" + std::string(key) + "' in " + std::string(type.name()));
                path_.resize(mark);
                return false;
            }
            auto existing = std::find_if(entries.begin(), entries.end(),
                                         [&](const Entry& e) { return e.name == name; });
            if (existing == entries.end()) {
                entries.push_back({match.index, name, match.element, match.type, nullptr, nullptr});
                existing = entries.end() - 1;
            }
            (underscore ? existing->extension : existing->value) = &it->value;
        }
        std::stable_sort(entries.begin(), entries.end(),
                         [](const Entry& a, const Entry& b) { return a.index < b.index; });
        return true;
    }

    bool attributes(const std::vector<Entry>& entries)
    {
        for (const Entry& e : entries) {
            if (!e.element->xmlAttribute) {
                continue;
            }
            if (e.value == nullptr || !e.value->IsString() || isNumber(*e.value)) {
                fail("structure", std::string(e.name) + " must be a string");
                return false;
            }
            out_.append(" ").append(e.name).append("=\"");
            escapeInto(out_, keyOf(*e.value), true);
            out_.append("\"");
        }
        return true;
    }

    bool children(const TypeDef& type, const Value& object)
    {
        std::vector<Entry> entries;
        if (!collect(type, object, entries)) {
            return false;
        }
        for (const Entry& e : entries) {
            if (!e.element->xmlAttribute && !entry(e)) {
                return false;
            }
        }
        return true;
    }

    /// A complex element: start tag with its attributes, children, end tag.
    bool complex(std::string_view name, const TypeDef& type, const Value& value)
    {
        if (!value.IsObject()) {
            fail("structure", "expected a JSON object (" + std::string(type.name()) + ")");
            return false;
        }
        std::vector<Entry> entries;
        if (!collect(type, value, entries)) {
            return false;
        }
        out_.append("<").append(name);
        if (!attributes(entries)) {
            return false;
        }
        out_.append(">");
        for (const Entry& e : entries) {
            if (!e.element->xmlAttribute && !entry(e)) {
                return false;
            }
        }
        out_.append("</").append(name).append(">");
        return true;
    }

    bool primitive(std::string_view name, const TypeDef& type, const Value* value,
                   const Value* extension)
    {
        out_.append("<").append(name);
        if (extension != nullptr && !extension->IsNull()) {
            if (!extension->IsObject()) {
                fail("structure", "_" + std::string(name) + " must be an object");
                return false;
            }
            if (const Value* id = findMember(*extension, "id")) {
                if (!id->IsString() || isNumber(*id)) {
                    fail("structure", "id must be a string");
                    return false;
                }
                out_.append(" id=\"");
                escapeInto(out_, keyOf(*id), true);
                out_.append("\"");
            }
        }
        if (value != nullptr && !value->IsNull()) {
            out_.append(" value=\"");
            if (type.jsonKind() == JsonKind::Boolean && value->IsBool()) {
                out_.append(value->GetBool() ? "true" : "false");
            } else if (type.jsonKind() == JsonKind::Number && isNumber(*value)) {
                out_.append(numberText(*value));
            } else if (type.jsonKind() == JsonKind::String && value->IsString() &&
                       !isNumber(*value)) {
                escapeInto(out_, keyOf(*value), true);
            } else {
                fail("structure", "wrong JSON kind for " + std::string(type.name()));
                return false;
            }
            out_.append("\"");
        }
        const Value* extensions = extension != nullptr && extension->IsObject()
                                      ? findMember(*extension, "extension")
                                      : nullptr;
        if (extension != nullptr && extension->IsObject()) {
            for (auto it = extension->MemberBegin(); it != extension->MemberEnd(); ++it) {
                const std::string_view key = keyOf(it->name);
                if (key != "id" && key != "extension") {
                    fail("structure",
                         "unknown element '" + std::string(key) + "' in _" + std::string(name));
                    return false;
                }
            }
        }
        if (extensions == nullptr) {
            out_.append("/>");
            return true;
        }
        out_.append(">");
        if (!extensions->IsArray()) {
            fail("structure", "extension must be an array");
            return false;
        }
        const TypeDef& extensionType = *defs_.type("Extension");
        for (const Value& item : extensions->GetArray()) {
            if (!complex("extension", extensionType, item)) {
                return false;
            }
        }
        out_.append("</").append(name).append(">");
        return true;
    }

    bool div(const Value& value)
    {
        if (!value.IsString() || isNumber(value)) {
            fail("structure", "div must be a string");
            return false;
        }
        std::string_view text = keyOf(value);
        const std::size_t start = text.find("<div");
        if (start == std::string_view::npos) {
            fail("value", "div must start with <div");
            return false;
        }
        text.remove_prefix(start);
        const std::size_t tagEnd = text.find('>');
        const std::string_view startTag = text.substr(0, tagEnd);
        if (startTag.find("xmlns=") == std::string_view::npos) {
            out_.append("<div xmlns=\"").append(XhtmlNamespace).append("\"");
            out_.append(text.substr(4));
        } else {
            out_.append(text);
        }
        return true;
    }

    bool each(const Entry& e, const std::function<bool(const Value&)>& write)
    {
        if (e.element->many) {
            if (!e.value->IsArray()) {
                fail("structure", std::string(e.name) + " repeats: expected a JSON array");
                return false;
            }
            for (rapidjson::SizeType i = 0; i < e.value->Size(); ++i) {
                const std::size_t mark = path_.size();
                path_.append("[").append(std::to_string(i)).append("]");
                const bool ok = write((*e.value)[i]);
                path_.resize(mark);
                if (!ok) {
                    return false;
                }
            }
            return true;
        }
        return write(*e.value);
    }

    bool entry(const Entry& e)
    {
        const std::size_t mark = path_.size();
        path_.append(".").append(e.name);
        bool ok = true;
        if (e.type->name() == "xhtml") {
            ok = e.value != nullptr && div(*e.value);
        } else if (e.type->isPrimitive()) {
            ok = primitiveEntry(e);
        } else if (e.type->isResourceSlot()) {
            ok = each(e, [&](const Value& item) {
                out_.append("<").append(e.name).append(">");
                const bool written = resource(item, false);
                out_.append("</").append(e.name).append(">");
                return written;
            });
        } else {
            ok = each(e, [&](const Value& item) { return complex(e.name, *e.type, item); });
        }
        path_.resize(mark);
        return ok;
    }

    bool primitiveEntry(const Entry& e)
    {
        if (!e.element->many) {
            return primitive(e.name, *e.type, e.value, e.extension);
        }
        if ((e.value != nullptr && !e.value->IsArray()) ||
            (e.extension != nullptr && !e.extension->IsArray())) {
            fail("structure", std::string(e.name) + " repeats: expected a JSON array");
            return false;
        }
        const rapidjson::SizeType values = e.value != nullptr ? e.value->Size() : 0;
        const rapidjson::SizeType extensions = e.extension != nullptr ? e.extension->Size() : 0;
        for (rapidjson::SizeType i = 0; i < std::max(values, extensions); ++i) {
            if (!primitive(e.name, *e.type, i < values ? &(*e.value)[i] : nullptr,
                           i < extensions ? &(*e.extension)[i] : nullptr)) {
                return false;
            }
        }
        return true;
    }

    const Definitions& defs_;
    std::string& out_;
    core::IssueList& issues_;
    std::string path_;
};

// ---------------------------------------------------------------- XML -> JSON

struct XmlNode {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attributes;
    std::vector<std::unique_ptr<XmlNode>> children;
    std::string xhtml; // the serialised div, for the narrative
    bool isXhtml = false;
    std::uint32_t line = 0;
};

struct Abort {};

class TreeBuilder : public xercesc::DefaultHandler {
  public:
    explicit TreeBuilder(core::IssueList& issues) : issues_(issues) {}

    std::unique_ptr<XmlNode>& root() { return root_; }

    void setDocumentLocator(const xercesc::Locator* const locator) override { locator_ = locator; }

    void startDTD(const XMLCh* const, const XMLCh* const, const XMLCh* const) override
    {
        error("DOCTYPE is not allowed in FHIR XML");
    }

    void startElement(const XMLCh* const uri, const XMLCh* const localname, const XMLCh* const,
                      const xercesc::Attributes& attrs) override
    {
        const std::string ns = detail::toUtf8(uri);
        const std::string name = detail::toUtf8(localname);
        if (xhtmlDepth_ > 0) {
            closePendingTag();
            ++xhtmlDepth_;
            xhtml_.append("<").append(name);
            appendAttributes(attrs);
            pendingTag_ = true;
            return;
        }
        if (stack_.size() >= MaxDepth) {
            error("elements nested too deeply");
        }
        auto node = std::make_unique<XmlNode>();
        node->name = name;
        node->line =
            locator_ != nullptr ? static_cast<std::uint32_t>(locator_->getLineNumber()) : 0;
        if (ns == XhtmlNamespace && name == "div" && !stack_.empty()) {
            node->isXhtml = true;
            xhtmlDepth_ = 1;
            xhtml_.assign("<div xmlns=\"").append(XhtmlNamespace).append("\"");
            appendAttributes(attrs);
            pendingTag_ = true;
        } else if (ns != FhirNamespace) {
            error("element " + name + " is not in the FHIR namespace");
        } else {
            for (XMLSize_t i = 0; i < attrs.getLength(); ++i) {
                const std::string attrNs = detail::toUtf8(attrs.getURI(i));
                if (!attrNs.empty()) {
                    error("attribute " + detail::toUtf8(attrs.getQName(i)) +
                          " is not a FHIR attribute");
                }
                node->attributes.emplace_back(detail::toUtf8(attrs.getLocalName(i)),
                                              detail::toUtf8(attrs.getValue(i)));
            }
        }
        XmlNode* raw = node.get();
        if (stack_.empty()) {
            root_ = std::move(node);
        } else {
            stack_.back()->children.push_back(std::move(node));
        }
        stack_.push_back(raw);
    }

    void endElement(const XMLCh* const, const XMLCh* const localname, const XMLCh* const) override
    {
        if (xhtmlDepth_ > 0) {
            if (pendingTag_) {
                xhtml_.append("/>");
                pendingTag_ = false;
            } else {
                xhtml_.append("</").append(detail::toUtf8(localname)).append(">");
            }
            if (--xhtmlDepth_ > 0) {
                return;
            }
            stack_.back()->xhtml = std::move(xhtml_);
            xhtml_.clear();
        }
        stack_.pop_back();
    }

    void characters(const XMLCh* const chars, const XMLSize_t length) override
    {
        const std::u16string_view text(chars, length);
        if (xhtmlDepth_ > 0) {
            closePendingTag();
            escapeInto(xhtml_, detail::toUtf8(std::u16string(text).c_str()), false);
            return;
        }
        for (const char16_t c : text) {
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                error("text content is not allowed in FHIR elements");
            }
        }
    }

    void fatalError(const xercesc::SAXParseException& e) override { report(e); }
    void error(const xercesc::SAXParseException& e) override { report(e); }
    void warning(const xercesc::SAXParseException&) override {}

  private:
    void closePendingTag()
    {
        if (pendingTag_) {
            xhtml_.append(">");
            pendingTag_ = false;
        }
    }

    void appendAttributes(const xercesc::Attributes& attrs)
    {
        for (XMLSize_t i = 0; i < attrs.getLength(); ++i) {
            xhtml_.append(" ").append(detail::toUtf8(attrs.getQName(i))).append("=\"");
            escapeInto(xhtml_, detail::toUtf8(attrs.getValue(i)), true);
            xhtml_.append("\"");
        }
    }

    std::string where() const
    {
        if (locator_ == nullptr) {
            return {};
        }
        return "line " + std::to_string(locator_->getLineNumber()) + ", column " +
               std::to_string(locator_->getColumnNumber());
    }

    [[noreturn]] void error(std::string text)
    {
        addIssue(issues_, "structure", where(), std::move(text));
        throw Abort{};
    }

    [[noreturn]] void report(const xercesc::SAXParseException& e)
    {
        addIssue(issues_, "structure",
                 "line " + std::to_string(e.getLineNumber()) + ", column " +
                     std::to_string(e.getColumnNumber()),
                 "malformed XML: " + detail::toUtf8(e.getMessage()));
        throw Abort{};
    }

    core::IssueList& issues_;
    const xercesc::Locator* locator_ = nullptr;
    std::unique_ptr<XmlNode> root_;
    std::vector<XmlNode*> stack_;
    std::string xhtml_;
    std::size_t xhtmlDepth_ = 0;
    bool pendingTag_ = false;
};

class JsonBuilder {
  public:
    JsonBuilder(rapidjson::Document& doc, core::IssueList& issues)
        : defs_(Definitions::r4()), alloc_(doc.GetAllocator()), issues_(issues)
    {
    }

    bool resource(const XmlNode& node, Value& out)
    {
        const TypeDef* type = defs_.type(node.name);
        if (type == nullptr || !type->isResource()) {
            fail("structure", "element " + node.name + " is not a resource type");
            return false;
        }
        if (path_.empty()) {
            path_ = node.name;
        }
        if (!node.attributes.empty()) {
            fail("structure", "a resource element has no attributes");
            return false;
        }
        out.SetObject();
        out.AddMember("resourceType", Value(node.name.c_str(), alloc_), alloc_);
        return children(*type, node, out);
    }

  private:
    void fail(const char* code, std::string text)
    {
        addIssue(issues_, code, path_, std::move(text));
    }

    bool children(const TypeDef& type, const XmlNode& node, Value& out)
    {
        // Group repeats by name, in order of first appearance.
        std::vector<std::pair<ElementMatch, std::vector<const XmlNode*>>> groups;
        std::vector<std::string_view> names;
        for (const auto& child : node.children) {
            const ElementMatch match = type.find(child->name);
            if (!match || match.element->xmlAttribute) {
                const std::size_t mark = path_.size();
                path_.append(".").append(child->name);
                fail("structure", "unknown element " + child->name + " in " +
                                      std::string(type.name()) + " (line " +
                                      std::to_string(child->line) + ")");
                path_.resize(mark);
                return false;
            }
            const auto it = std::find(names.begin(), names.end(), child->name);
            if (it == names.end()) {
                names.push_back(child->name);
                groups.push_back({match, {child.get()}});
            } else {
                groups[static_cast<std::size_t>(it - names.begin())].second.push_back(child.get());
            }
        }
        for (std::size_t g = 0; g < groups.size(); ++g) {
            const std::size_t mark = path_.size();
            path_.append(".").append(names[g]);
            const bool ok = group(groups[g].first, names[g], groups[g].second, out);
            path_.resize(mark);
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    bool attributes(const TypeDef& type, const XmlNode& node, Value& out)
    {
        for (const auto& [name, value] : node.attributes) {
            const ElementMatch match = type.find(name);
            if (!match || !match.element->xmlAttribute) {
                fail("structure", "unknown attribute " + name + " in " + std::string(type.name()));
                return false;
            }
            out.AddMember(Value(name.c_str(), alloc_), Value(value.c_str(), alloc_), alloc_);
        }
        return true;
    }

    bool group(const ElementMatch& match, std::string_view name,
               const std::vector<const XmlNode*>& nodes, Value& out)
    {
        const ElementDef& def = *match.element;
        const TypeDef& type = *match.type;
        if (!def.many && nodes.size() > 1) {
            fail("structure", std::string(def.name) + " does not repeat");
            return false;
        }
        const Value key(name.data(), static_cast<rapidjson::SizeType>(name.size()), alloc_);
        if (type.name() == "xhtml") {
            if (!nodes.front()->isXhtml) {
                fail("structure", "div must be an XHTML div");
                return false;
            }
            out.AddMember(Value(key, alloc_), Value(nodes.front()->xhtml.c_str(), alloc_), alloc_);
            return true;
        }
        if (type.isPrimitive()) {
            Value values(rapidjson::kArrayType);
            Value extensions(rapidjson::kArrayType);
            bool anyValue = false;
            bool anyExtension = false;
            for (const XmlNode* node : nodes) {
                Value v;
                Value x;
                if (!primitive(type, *node, v, x)) {
                    return false;
                }
                anyValue = anyValue || !v.IsNull();
                anyExtension = anyExtension || !x.IsNull();
                values.PushBack(v, alloc_);
                extensions.PushBack(x, alloc_);
            }
            std::string extensionKey = "_" + std::string(name);
            if (anyValue) {
                out.AddMember(Value(key, alloc_), def.many ? values : values[0], alloc_);
            }
            if (anyExtension) {
                Value xKey(extensionKey.c_str(), alloc_);
                out.AddMember(xKey, def.many ? extensions : extensions[0], alloc_);
            }
            return true;
        }
        Value items(rapidjson::kArrayType);
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            const XmlNode& node = *nodes[i];
            const std::size_t mark = path_.size();
            if (def.many) {
                path_.append("[").append(std::to_string(i)).append("]");
            }
            Value item;
            bool ok = true;
            if (type.isResourceSlot()) {
                if (node.children.size() != 1 || !node.attributes.empty()) {
                    fail("structure", "must hold exactly one resource");
                    ok = false;
                } else {
                    ok = resource(*node.children.front(), item);
                }
            } else {
                item.SetObject();
                ok = attributes(type, node, item) && children(type, node, item);
            }
            path_.resize(mark);
            if (!ok) {
                return false;
            }
            items.PushBack(item, alloc_);
        }
        out.AddMember(Value(key, alloc_), def.many ? items : items[0], alloc_);
        return true;
    }

    bool primitive(const TypeDef& type, const XmlNode& node, Value& value, Value& extension)
    {
        for (const auto& [name, text] : node.attributes) {
            if (name == "value") {
                if (type.jsonKind() == JsonKind::Boolean) {
                    if (text != "true" && text != "false") {
                        fail("value", "not a valid boolean");
                        return false;
                    }
                    value.SetBool(text == "true");
                } else if (type.jsonKind() == JsonKind::Number) {
                    if (!detail::isValidPrimitiveText(type, text)) {
                        fail("value", "not a valid " + std::string(type.name()));
                        return false;
                    }
                    value = makeNumber(text, alloc_);
                } else {
                    value.SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()),
                                    alloc_);
                }
            } else if (name == "id") {
                if (extension.IsNull()) {
                    extension.SetObject();
                }
                extension.AddMember("id", Value(text.c_str(), alloc_), alloc_);
            } else {
                fail("structure", "unknown attribute " + name + " on a primitive");
                return false;
            }
        }
        if (!node.children.empty()) {
            const TypeDef& extensionType = *defs_.type("Extension");
            Value list(rapidjson::kArrayType);
            for (std::size_t i = 0; i < node.children.size(); ++i) {
                const XmlNode& child = *node.children[i];
                if (child.name != "extension") {
                    fail("structure", "a primitive holds only extension elements");
                    return false;
                }
                const std::size_t mark = path_.size();
                path_.append(".extension[").append(std::to_string(i)).append("]");
                Value item(rapidjson::kObjectType);
                const bool ok =
                    attributes(extensionType, child, item) && children(extensionType, child, item);
                path_.resize(mark);
                if (!ok) {
                    return false;
                }
                list.PushBack(item, alloc_);
            }
            if (extension.IsNull()) {
                extension.SetObject();
            }
            extension.AddMember("extension", list, alloc_);
        }
        return true;
    }

    const Definitions& defs_;
    rapidjson::Document::AllocatorType& alloc_;
    core::IssueList& issues_;
    std::string path_;
};

} // namespace

bool jsonToXml(const rapidjson::Value& resource, std::string& xmlOut, core::IssueList& issues)
{
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    core::IssueList found;
    XmlWriter writer(out, found);
    const bool ok = writer.resource(resource, true);
    for (const core::Issue& issue : found) {
        issues.add(issue);
    }
    if (ok) {
        xmlOut = std::move(out);
    }
    return ok;
}

bool xmlToJson(std::string_view xml, rapidjson::Document& out, core::IssueList& issues)
{
    detail::ensureXercesInitialized();
    core::IssueList found;
    std::unique_ptr<XmlNode> root;
    try {
        TreeBuilder tree(found);
        std::unique_ptr<xercesc::SAX2XMLReader> reader(
            xercesc::XMLReaderFactory::createXMLReader());
        reader->setFeature(xercesc::XMLUni::fgSAX2CoreNameSpaces, true);
        reader->setFeature(xercesc::XMLUni::fgSAX2CoreValidation, false);
        reader->setFeature(xercesc::XMLUni::fgXercesLoadExternalDTD, false);
        reader->setFeature(xercesc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
        xercesc::SecurityManager security;
        security.setEntityExpansionLimit(100);
        reader->setProperty(xercesc::XMLUni::fgXercesSecurityManager, &security);
        reader->setContentHandler(&tree);
        reader->setErrorHandler(&tree);
        reader->setLexicalHandler(&tree);
        const xercesc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(xml.data()),
                                                xml.size(), "fhir-xml");
        reader->parse(source);
        root = std::move(tree.root());
    } catch (const Abort&) {
        // reported by the handler
    } catch (const xercesc::SAXException& e) {
        addIssue(found, "structure", "", "malformed XML: " + detail::toUtf8(e.getMessage()));
    } catch (const xercesc::XMLException& e) {
        addIssue(found, "structure", "", "malformed XML: " + detail::toUtf8(e.getMessage()));
    } catch (const xercesc::OutOfMemoryException&) {
        addIssue(found, "too-costly", "", "XML: out of memory");
    }
    bool ok = false;
    if (root && found.empty()) {
        rapidjson::Document doc;
        JsonBuilder builder(doc, found);
        ok = builder.resource(*root, doc);
        if (ok) {
            out.Swap(doc);
        }
    } else if (!root && found.empty()) {
        addIssue(found, "structure", "", "no document element");
    }
    for (const core::Issue& issue : found) {
        issues.add(issue);
    }
    return ok && !found.hasErrors();
}

} // namespace hl7gw::fhir
