#include "gateway/fhir/rest/negotiation.h"

#include <Poco/DeflatingStream.h>
#include <Poco/Exception.h>
#include <Poco/InflatingStream.h>
#include <Poco/Net/MediaType.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>

#include <array>
#include <optional>
#include <sstream>
#include <vector>

namespace hl7gw::fhir::rest {

namespace {

using Poco::Net::MediaType;

struct MimeName {
    std::string_view type;
    std::string_view subType;
};

// The MIME types of each format (FHIR R4 http.html#mime-type: application/json and
// application/xml are accepted as well; the +fhir suffixes are the DSTU2 names, still sent by
// older clients).
constexpr std::array<MimeName, 3> JsonTypes{
    {{"application", "fhir+json"}, {"application", "json"}, {"application", "json+fhir"}}};
constexpr std::array<MimeName, 4> XmlTypes{{{"application", "fhir+xml"},
                                            {"application", "xml"},
                                            {"application", "xml+fhir"},
                                            {"text", "xml"}}};

template <std::size_t N>
bool oneOf(const std::array<MimeName, N>& names, const std::string& type,
           const std::string& subType)
{
    for (const MimeName& name : names) {
        if (Poco::icompare(type, std::string(name.type)) == 0 &&
            Poco::icompare(subType, std::string(name.subType)) == 0) {
            return true;
        }
    }
    return false;
}

std::optional<MediaType> parseMediaType(const std::string& text)
{
    const std::string trimmed = Poco::trim(text);
    const std::size_t slash = trimmed.find('/');
    if (trimmed.empty() || slash == 0 || slash == std::string::npos) {
        return std::nullopt;
    }
    MediaType media(trimmed);
    if (media.getType().empty() || media.getSubType().empty()) {
        return std::nullopt;
    }
    return media;
}

/// The q parameter of an Accept element: 1 when absent, nullopt when malformed.
std::optional<double> quality(const MediaType& media)
{
    if (!media.hasParameter("q")) {
        return 1.0;
    }
    double q = 0;
    if (!Poco::NumberParser::tryParseFloat(media.getParameter("q"), q) || q < 0 || q > 1) {
        return std::nullopt;
    }
    return q;
}

struct Match {
    int specificity = -1; // -1 none, 0 */*, 1 type/*, 2 exact
    double q = 0;
};

template <std::size_t N>
Match bestMatch(const std::vector<std::string>& elements, const std::array<MimeName, N>& names,
                bool& anyValid)
{
    Match best;
    for (const std::string& element : elements) {
        const std::optional<MediaType> media = parseMediaType(element);
        if (!media) {
            continue;
        }
        const std::optional<double> q = quality(*media);
        if (!q) {
            continue;
        }
        anyValid = true;
        int specificity = -1;
        if (media->getType() == "*" && media->getSubType() == "*") {
            specificity = 0;
        } else if (media->getSubType() == "*") {
            for (const MimeName& name : names) {
                if (Poco::icompare(media->getType(), std::string(name.type)) == 0) {
                    specificity = 1;
                }
            }
        } else if (oneOf(names, media->getType(), media->getSubType())) {
            specificity = 2;
        }
        if (specificity > best.specificity ||
            (specificity == best.specificity && specificity >= 0 && *q > best.q)) {
            best.specificity = specificity;
            best.q = *q;
        }
    }
    return best;
}

std::optional<Format> formatFromParam(const std::string& value)
{
    std::string name = Poco::toLower(Poco::trim(value.substr(0, value.find(';'))));
    if (name == "json" || name == "application/json" || name == "application/fhir+json" ||
        name == "application/fhir json" || name == "application/json+fhir") {
        return Format::Json;
    }
    if (name == "xml" || name == "text/xml" || name == "application/xml" ||
        name == "application/fhir+xml" || name == "application/fhir xml" ||
        name == "application/xml+fhir") {
        return Format::Xml;
    }
    return std::nullopt;
}

} // namespace

Negotiated<Format> responseFormat(std::string_view formatParam, std::string_view accept)
{
    Negotiated<Format> result;
    result.value = Format::Json;
    if (!formatParam.empty()) {
        if (const std::optional<Format> format = formatFromParam(std::string(formatParam))) {
            result.value = *format;
        } else {
            result.status = 406;
            result.reason = "_format names no format this server writes (json, xml, "
                            "application/fhir+json, application/fhir+xml)";
        }
        return result;
    }
    std::vector<std::string> elements;
    Poco::Net::MessageHeader::splitElements(std::string(accept), elements);
    bool anyValid = false;
    const Match json = bestMatch(elements, JsonTypes, anyValid);
    const Match xml = bestMatch(elements, XmlTypes, anyValid);
    if (!anyValid) {
        return result; // no usable Accept: the default, JSON
    }
    const bool jsonOk = json.specificity >= 0 && json.q > 0;
    const bool xmlOk = xml.specificity >= 0 && xml.q > 0;
    if (!jsonOk && !xmlOk) {
        result.status = 406;
        result.reason = "Accept takes neither application/fhir+json nor application/fhir+xml";
        return result;
    }
    if (!jsonOk) {
        result.value = Format::Xml;
    } else if (xmlOk &&
               (xml.q > json.q || (xml.q == json.q && xml.specificity > json.specificity))) {
        result.value = Format::Xml;
    }
    return result;
}

Negotiated<BodyFormat> requestFormat(std::string_view contentType)
{
    Negotiated<BodyFormat> result;
    const std::optional<MediaType> media = parseMediaType(std::string(contentType));
    if (!media) {
        result.status = 415;
        result.reason = contentType.empty() ? "the request has a body but no Content-Type"
                                            : "Content-Type is not a MIME type";
        return result;
    }
    if (media->hasParameter("charset") &&
        Poco::icompare(media->getParameter("charset"), "utf-8") != 0 &&
        Poco::icompare(media->getParameter("charset"), "utf8") != 0) {
        result.status = 415;
        result.reason = "charset " + media->getParameter("charset") +
                        " is not supported: FHIR content is UTF-8";
        return result;
    }
    const std::string& type = media->getType();
    const std::string& subType = media->getSubType();
    if (oneOf(JsonTypes, type, subType)) {
        result.value = BodyFormat::Json;
    } else if (oneOf(XmlTypes, type, subType)) {
        result.value = BodyFormat::Xml;
    } else if (media->matches("application", "json-patch+json")) {
        result.value = BodyFormat::JsonPatch;
    } else if (media->matches("application", "x-www-form-urlencoded")) {
        result.value = BodyFormat::Form;
    } else {
        result.status = 415;
        result.reason = "Content-Type " + type + "/" + subType +
                        " is not supported (application/fhir+json, application/fhir+xml, "
                        "application/json-patch+json, application/x-www-form-urlencoded)";
    }
    return result;
}

bool prettyWanted(std::string_view prettyParam)
{
    return prettyParam == "true";
}

bool gzipWanted(std::string_view acceptEncoding)
{
    std::vector<std::string> elements;
    Poco::Net::MessageHeader::splitElements(std::string(acceptEncoding), elements);
    std::optional<bool> gzip;
    bool star = false;
    for (const std::string& element : elements) {
        std::string coding;
        Poco::Net::NameValueCollection parameters;
        Poco::Net::MessageHeader::splitParameters(element, coding, parameters);
        double q = 1.0;
        if (parameters.has("q") && !Poco::NumberParser::tryParseFloat(parameters.get("q"), q)) {
            continue;
        }
        coding = Poco::toLower(Poco::trim(coding));
        if (coding == "gzip" || coding == "x-gzip") {
            gzip = gzip.value_or(false) || q > 0;
        } else if (coding == "*") {
            star = q > 0;
        }
    }
    return gzip ? *gzip : star;
}

std::string_view contentTypeFor(Format format)
{
    return format == Format::Xml ? "application/fhir+xml; charset=utf-8"
                                 : "application/fhir+json; charset=utf-8";
}

std::string gzipCompress(std::string_view bytes)
{
    std::ostringstream out;
    Poco::DeflatingOutputStream deflater(out, Poco::DeflatingStreamBuf::STREAM_GZIP);
    deflater.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    deflater.close();
    return std::move(out).str();
}

bool gzipDecompress(std::string_view bytes, std::string& out)
{
    std::istringstream in{std::string(bytes)};
    Poco::InflatingInputStream inflater(in, Poco::InflatingStreamBuf::STREAM_GZIP);
    std::string result;
    char buffer[8192];
    try {
        // zlib errors surface as POCO exceptions from the stream buffer, which istream turns
        // into badbit (or rethrows, depending on the library); both mean "not gzip".
        while (inflater.read(buffer, sizeof buffer) || inflater.gcount() > 0) {
            result.append(buffer, static_cast<std::size_t>(inflater.gcount()));
            if (!inflater) {
                break;
            }
        }
    } catch (const Poco::Exception&) {
        return false;
    } catch (const std::ios_base::failure&) {
        return false;
    }
    if (inflater.bad()) {
        return false;
    }
    out = std::move(result);
    return true;
}

} // namespace hl7gw::fhir::rest
