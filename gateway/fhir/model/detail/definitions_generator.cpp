#include "gateway/fhir/model/detail/definitions_generator.h"

#include "gateway/fhir/model/detail/xerces_init.h"

#include <rapidjson/document.h>
#include <xercesc/dom/DOM.hpp>
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/parsers/XercesDOMParser.hpp>
#include <xercesc/sax/HandlerBase.hpp>

#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace hl7gw::fhir::detail {

namespace {

using xercesc::DOMElement;
using xercesc::DOMNode;

struct GenError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string attr(const DOMElement* element, const char* name)
{
    const std::u16string key = toXmlCh(name);
    return toUtf8(element->getAttribute(key.c_str()));
}

std::string localName(const DOMNode* node)
{
    return toUtf8(node->getLocalName());
}

std::vector<const DOMElement*> childElements(const DOMElement* parent, const char* local = nullptr)
{
    std::vector<const DOMElement*> out;
    for (const DOMNode* n = parent->getFirstChild(); n != nullptr; n = n->getNextSibling()) {
        if (n->getNodeType() != DOMNode::ELEMENT_NODE) {
            continue;
        }
        if (local == nullptr || localName(n) == local) {
            out.push_back(static_cast<const DOMElement*>(n));
        }
    }
    return out;
}

const DOMElement* firstChild(const DOMElement* parent, const char* local)
{
    const auto all = childElements(parent, local);
    return all.empty() ? nullptr : all.front();
}

/// One member as the XSD declares it, before type names are mapped.
struct RawMember {
    std::string name;                  // JSON name, "value[x]" for a choice
    std::vector<std::string> xsdTypes; // one, or one per choice alternative
    std::vector<std::string> variants; // choice alternatives' element names
    int min = 0;
    bool many = false;
    bool attribute = false;
};

struct OutMember {
    std::string name;
    std::vector<std::string> types;
    int min = 0;
    bool many = false;
    bool attribute = false;
    std::vector<std::string> codes;
};

struct OutType {
    std::string kind; // primitive, datatype, abstract, resource, domainresource, backbone
    std::string name;
    std::string jsonKind; // primitives
    std::string pattern;  // primitives
    std::vector<OutMember> members;
};

std::string upperFirst(std::string s)
{
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') {
        s[0] = static_cast<char>(s[0] - 'a' + 'A');
    }
    return s;
}

class Generator {
  public:
    Generator(const rapidjson::Document& schema, const DOMElement* xsdRoot)
        : schema_(schema), defs_(schema["definitions"])
    {
        for (const DOMElement* e : childElements(xsdRoot)) {
            const std::string kind = localName(e);
            const std::string name = attr(e, "name");
            if (kind == "complexType") {
                complexTypes_[name] = e;
            } else if (kind == "simpleType") {
                simpleTypes_[name] = e;
            }
        }
    }

    std::string run()
    {
        std::vector<std::string> resources;
        for (auto it = defs_.MemberBegin(); it != defs_.MemberEnd(); ++it) {
            const std::string name = it->name.GetString();
            const rapidjson::Value& def = it->value;
            if (name == "ResourceList") {
                continue;
            }
            if (!def.HasMember("properties")) {
                primitives_.insert(name);
                OutType t;
                t.kind = "primitive";
                t.name = name;
                const std::string jsonType =
                    def.HasMember("type") ? def["type"].GetString() : std::string("string");
                t.jsonKind = jsonType;
                if (def.HasMember("pattern")) {
                    t.pattern = def["pattern"].GetString();
                }
                out_.push_back(std::move(t));
            } else if (name.find('_') == std::string::npos &&
                       def["properties"].HasMember("resourceType")) {
                resources.push_back(name);
            } else if (name.find('_') == std::string::npos) {
                datatypes_.insert(name);
                datatypeOrder_.push_back(name);
            }
        }
        for (const std::string& name : datatypeOrder_) {
            emitComplex("datatype", name, name, name);
        }
        emitComplex("abstract", "Resource", "Resource", "");
        emitComplex("abstract", "DomainResource", "DomainResource", "");
        for (const std::string& name : resources) {
            const DOMElement* ct = complexType(name);
            const DOMElement* ext = extensionOf(ct);
            const std::string base = ext != nullptr ? attr(ext, "base") : "";
            emitComplex(base == "DomainResource" ? "domainresource" : "resource", name, name, name);
        }
        checkJsonCoverage();
        return render();
    }

  private:
    const DOMElement* complexType(const std::string& name) const
    {
        const auto it = complexTypes_.find(name);
        if (it == complexTypes_.end()) {
            throw GenError("XSD has no complexType " + name);
        }
        return it->second;
    }

    static const DOMElement* extensionOf(const DOMElement* ct)
    {
        const DOMElement* cc = firstChild(ct, "complexContent");
        return cc != nullptr ? firstChild(cc, "extension") : nullptr;
    }

    static int parseMin(const DOMElement* e)
    {
        const std::string v = attr(e, "minOccurs");
        return v.empty() ? 1 : std::stoi(v);
    }

    static bool parseMany(const DOMElement* e)
    {
        const std::string v = attr(e, "maxOccurs");
        return v == "unbounded" || (!v.empty() && v != "1" && v != "0");
    }

    void collectSequence(const DOMElement* seq, std::vector<RawMember>& out) const
    {
        for (const DOMElement* item : childElements(seq)) {
            const std::string kind = localName(item);
            if (kind == "element") {
                RawMember m;
                const std::string ref = attr(item, "ref");
                if (ref == "xhtml:div") {
                    m.name = "div";
                    m.xsdTypes = {"xhtml"};
                } else if (!ref.empty()) {
                    throw GenError("unexpected element ref " + ref);
                } else {
                    m.name = attr(item, "name");
                    m.xsdTypes = {attr(item, "type")};
                }
                m.min = parseMin(item);
                m.many = parseMany(item);
                out.push_back(std::move(m));
            } else if (kind == "choice") {
                RawMember m;
                m.min = parseMin(item);
                m.many = parseMany(item);
                std::string base;
                for (const DOMElement* alt : childElements(item, "element")) {
                    const std::string name = attr(alt, "name");
                    const std::string type = attr(alt, "type");
                    const std::string suffix = upperFirst(type);
                    if (name.size() <= suffix.size() ||
                        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
                        throw GenError("choice alternative " + name + " does not end in its type");
                    }
                    const std::string stem = name.substr(0, name.size() - suffix.size());
                    if (!base.empty() && stem != base) {
                        throw GenError("choice mixes " + base + " and " + stem);
                    }
                    base = stem;
                    m.xsdTypes.push_back(type);
                    m.variants.push_back(name);
                }
                m.name = base + "[x]";
                out.push_back(std::move(m));
            } else if (kind != "annotation") {
                throw GenError("unexpected " + kind + " in a sequence");
            }
        }
    }

    void collectOwn(const DOMElement* holder, std::vector<RawMember>& out) const
    {
        for (const DOMElement* a : childElements(holder, "attribute")) {
            RawMember m;
            m.name = attr(a, "name");
            m.xsdTypes = {attr(a, "type")};
            m.min = attr(a, "use") == "required" ? 1 : 0;
            m.attribute = true;
            if (m.name == "value") {
                continue; // the primitive's own value: its JSON value, not a member
            }
            out.push_back(std::move(m));
        }
        for (const DOMElement* seq : childElements(holder, "sequence")) {
            collectSequence(seq, out);
        }
    }

    void collectMembers(const DOMElement* ct, std::vector<RawMember>& out) const
    {
        if (const DOMElement* ext = extensionOf(ct)) {
            collectMembers(complexType(attr(ext, "base")), out);
            collectOwn(ext, out);
        } else {
            collectOwn(ct, out);
        }
    }

    /// Maps an XSD type name to the table's type name, naming backbone types on first use.
    std::string mapType(const std::string& xsdType, const std::string& path)
    {
        if (xsdType == "ResourceContainer") {
            return "Resource";
        }
        if (xsdType == "xhtml") {
            return "xhtml";
        }
        if (xsdType == "xs:string") {
            return "string"; // SampledData.data: a string with its own XSD pattern
        }
        const std::string suffix = "-primitive";
        if (xsdType.size() > suffix.size() &&
            xsdType.compare(xsdType.size() - suffix.size(), suffix.size(), suffix) == 0) {
            const std::string base = xsdType.substr(0, xsdType.size() - suffix.size());
            if (primitives_.count(base) == 0) {
                throw GenError("unknown primitive " + base);
            }
            return base;
        }
        if (primitives_.count(xsdType) != 0 || datatypes_.count(xsdType) != 0) {
            return xsdType;
        }
        if (xsdType.find('.') != std::string::npos) {
            const auto named = backboneNames_.find(xsdType);
            if (named != backboneNames_.end()) {
                return named->second;
            }
            backboneNames_[xsdType] = path;
            pendingBackbones_.push_back({xsdType, path});
            return path;
        }
        // An enumerated code: a complexType over Element whose value is a restricted list.
        const DOMElement* ct = complexType(xsdType);
        if (const DOMElement* ext = extensionOf(ct)) {
            for (const DOMElement* a : childElements(ext, "attribute")) {
                if (attr(a, "name") != "value") {
                    continue;
                }
                const std::string listType = attr(a, "type");
                const auto st = simpleTypes_.find(listType);
                if (st == simpleTypes_.end()) {
                    throw GenError("no simpleType " + listType);
                }
                const DOMElement* restriction = firstChild(st->second, "restriction");
                if (restriction == nullptr) {
                    throw GenError("simpleType " + listType + " is not a restriction");
                }
                return mapType(attr(restriction, "base"), path);
            }
        }
        throw GenError("cannot map XSD type " + xsdType);
    }

    static std::vector<std::string> enumOf(const rapidjson::Value* property)
    {
        std::vector<std::string> codes;
        if (property == nullptr) {
            return codes;
        }
        const rapidjson::Value* holder = property;
        if (!holder->HasMember("enum") && holder->HasMember("items")) {
            holder = &(*holder)["items"];
        }
        if (holder->IsObject() && holder->HasMember("enum")) {
            for (const auto& code : (*holder)["enum"].GetArray()) {
                codes.emplace_back(code.GetString());
            }
        }
        return codes;
    }

    const rapidjson::Value* jsonProperties(const std::string& jsonDef) const
    {
        if (jsonDef.empty()) {
            return nullptr;
        }
        const auto it = defs_.FindMember(jsonDef.c_str());
        if (it == defs_.MemberEnd() || !it->value.HasMember("properties")) {
            throw GenError("JSON schema has no definition " + jsonDef);
        }
        return &it->value["properties"];
    }

    void emitComplex(const std::string& kind, const std::string& name, const std::string& xsdType,
                     const std::string& jsonDef)
    {
        const std::size_t index = out_.size();
        out_.push_back({});
        out_[index].kind = kind;
        out_[index].name = name;
        const rapidjson::Value* props = jsonProperties(jsonDef);
        if (!jsonDef.empty()) {
            covered_[jsonDef];
        }
        std::vector<RawMember> raw;
        collectMembers(complexType(xsdType), raw);
        const std::size_t pendingBefore = pendingBackbones_.size();
        std::vector<OutMember> members;
        for (const RawMember& m : raw) {
            OutMember o;
            o.name = m.name;
            o.min = m.min;
            o.many = m.many;
            o.attribute = m.attribute;
            const std::string stem =
                m.variants.empty() ? m.name : m.name.substr(0, m.name.size() - 3);
            for (const std::string& t : m.xsdTypes) {
                o.types.push_back(mapType(t, name + "." + stem));
            }
            if (props != nullptr) {
                const std::vector<std::string> jsonNames =
                    m.variants.empty() ? std::vector<std::string>{m.name} : m.variants;
                for (const std::string& jn : jsonNames) {
                    const auto p = props->FindMember(jn.c_str());
                    if (p == props->MemberEnd()) {
                        throw GenError("JSON schema " + jsonDef + " lacks " + jn);
                    }
                    covered_[jsonDef].insert(jn);
                    if (m.variants.empty()) {
                        o.codes = enumOf(&p->value);
                        const bool jsonArray =
                            p->value.HasMember("type") && p->value["type"] == "array";
                        if (jsonArray != o.many) {
                            throw GenError("JSON schema and XSD disagree on " + jsonDef + "." + jn +
                                           " repeating");
                        }
                    }
                }
            }
            members.push_back(std::move(o));
        }
        out_[index].members = std::move(members);
        // Backbone types first used here follow their owner, depth first.
        std::vector<std::pair<std::string, std::string>> mine(
            pendingBackbones_.begin() + static_cast<std::ptrdiff_t>(pendingBefore),
            pendingBackbones_.end());
        pendingBackbones_.resize(pendingBefore);
        for (const auto& [xsdName, path] : mine) {
            std::string jsonName = xsdName;
            for (char& c : jsonName) {
                if (c == '.') {
                    c = '_';
                }
            }
            emitComplex("backbone", path, xsdName, jsonName);
        }
    }

    void checkJsonCoverage() const
    {
        for (const auto& [jsonDef, names] : covered_) {
            const rapidjson::Value& props = defs_[jsonDef.c_str()]["properties"];
            for (auto it = props.MemberBegin(); it != props.MemberEnd(); ++it) {
                const std::string p = it->name.GetString();
                // The JSON schema gives datatypes' nested elements (DataRequirement.codeFilter)
                // a modifierExtension that the XSD, like the specification, does not have.
                if (p == "resourceType" || p[0] == '_' || names.count(p) != 0 ||
                    p == "modifierExtension") {
                    continue;
                }
                throw GenError("XSD lacks JSON schema member " + jsonDef + "." + p);
            }
        }
        for (auto it = defs_.MemberBegin(); it != defs_.MemberEnd(); ++it) {
            const std::string name = it->name.GetString();
            if (it->value.HasMember("properties") && covered_.count(name) == 0) {
                throw GenError("JSON schema definition " + name + " was not reached");
            }
        }
    }

    std::string render() const
    {
        std::ostringstream s;
        s << "# FHIR R4 (4.0.1) definitions. Generated by hl7gw_fhir_modelgen from\n"
             "# fhir.schema.json and fhir-single.xsd; do not edit (see "
             "gateway/fhir/model/README.md).\n"
             "# primitive NAME JSON-KIND [PATTERN]   datatype|backbone|abstract|resource|"
             "domainresource NAME\n"
             "#   ELEMENT TYPE[|TYPE...] MIN..MAX [attr] [codes=C|C...] [targets=T|T...]\n";
        for (const OutType& t : out_) {
            s << t.kind << ' ' << t.name;
            if (t.kind == "primitive") {
                s << ' ' << t.jsonKind;
                if (!t.pattern.empty()) {
                    s << ' ' << t.pattern;
                }
            }
            s << '\n';
            for (const OutMember& m : t.members) {
                s << "  " << m.name << ' ';
                for (std::size_t i = 0; i < m.types.size(); ++i) {
                    s << (i == 0 ? "" : "|") << m.types[i];
                }
                s << ' ' << m.min << ".." << (m.many ? "*" : "1");
                if (m.attribute) {
                    s << " attr";
                }
                if (!m.codes.empty()) {
                    s << " codes=";
                    for (std::size_t i = 0; i < m.codes.size(); ++i) {
                        s << (i == 0 ? "" : "|") << m.codes[i];
                    }
                }
                s << '\n';
            }
        }
        return s.str();
    }

    const rapidjson::Document& schema_;
    const rapidjson::Value& defs_;
    std::unordered_map<std::string, const DOMElement*> complexTypes_;
    std::unordered_map<std::string, const DOMElement*> simpleTypes_;
    std::set<std::string> primitives_;
    std::set<std::string> datatypes_;
    std::vector<std::string> datatypeOrder_;
    std::map<std::string, std::string> backboneNames_;
    std::vector<std::pair<std::string, std::string>> pendingBackbones_;
    std::map<std::string, std::set<std::string>> covered_;
    std::vector<OutType> out_;
};

} // namespace

bool generateDefinitionsTable(std::string_view schemaJson, std::string_view singleXsd,
                              std::string& table, std::string& error)
{
    rapidjson::Document schema;
    schema.Parse(schemaJson.data(), schemaJson.size());
    if (schema.HasParseError() || !schema.IsObject() || !schema.HasMember("definitions")) {
        error = "fhir.schema.json is not a JSON schema with definitions";
        return false;
    }
    ensureXercesInitialized();
    xercesc::XercesDOMParser parser;
    parser.setDoNamespaces(true);
    parser.setValidationScheme(xercesc::XercesDOMParser::Val_Never);
    parser.setDisableDefaultEntityResolution(true);
    xercesc::HandlerBase errors;
    parser.setErrorHandler(&errors);
    try {
        const xercesc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(singleXsd.data()),
                                                singleXsd.size(), "fhir-single.xsd");
        parser.parse(source);
    } catch (const xercesc::SAXException& e) {
        error = "fhir-single.xsd does not parse: " + toUtf8(e.getMessage());
        return false;
    } catch (const xercesc::XMLException& e) {
        error = "fhir-single.xsd does not parse: " + toUtf8(e.getMessage());
        return false;
    }
    const xercesc::DOMDocument* doc = parser.getDocument();
    if (doc == nullptr || doc->getDocumentElement() == nullptr) {
        error = "fhir-single.xsd is empty";
        return false;
    }
    try {
        Generator generator(schema, doc->getDocumentElement());
        table = generator.run();
    } catch (const GenError& e) {
        error = e.what();
        return false;
    }
    return true;
}

} // namespace hl7gw::fhir::detail
