#include "gateway/fhir/rest/negotiation.h"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace hl7gw::fhir::rest;

BOOST_TEST_DONT_PRINT_LOG_VALUE(hl7gw::fhir::rest::Format)
BOOST_TEST_DONT_PRINT_LOG_VALUE(hl7gw::fhir::rest::BodyFormat)

namespace {

/// "json", "xml" or the status, for compact matrices.
std::string chosen(const std::string& format, const std::string& accept)
{
    const Negotiated<Format> result = responseFormat(format, accept);
    if (!result.ok()) {
        BOOST_TEST(!result.reason.empty());
        return std::to_string(result.status);
    }
    return result.value == Format::Json ? "json" : "xml";
}

std::string body(const std::string& contentType)
{
    const Negotiated<BodyFormat> result = requestFormat(contentType);
    if (!result.ok()) {
        BOOST_TEST(!result.reason.empty());
        return std::to_string(result.status);
    }
    switch (result.value) {
    case BodyFormat::Json:
        return "json";
    case BodyFormat::Xml:
        return "xml";
    case BodyFormat::JsonPatch:
        return "json-patch";
    case BodyFormat::Form:
        return "form";
    }
    return "?";
}

} // namespace

BOOST_AUTO_TEST_SUITE(negotiation)

BOOST_AUTO_TEST_CASE(format_parameter_overrides_accept)
{
    const std::string xmlAccept = "application/fhir+xml";
    for (const char* json : {"json", "application/json", "application/fhir+json",
                             "application/fhir json", "application/fhir+json;fhirVersion=4.0"}) {
        BOOST_TEST(chosen(json, xmlAccept) == "json", json);
    }
    for (const char* xml : {"xml", "text/xml", "application/xml", "application/fhir+xml"}) {
        BOOST_TEST(chosen(xml, "application/fhir+json") == "xml", xml);
    }
    BOOST_TEST(chosen("html", "application/fhir+json") == "406");
    BOOST_TEST(chosen("turtle", "") == "406");
}

BOOST_AUTO_TEST_CASE(accept_matrix)
{
    BOOST_TEST(chosen("", "") == "json");
    BOOST_TEST(chosen("", "*/*") == "json");
    BOOST_TEST(chosen("", "application/fhir+json") == "json");
    BOOST_TEST(chosen("", "application/json") == "json");
    BOOST_TEST(chosen("", "application/fhir+xml") == "xml");
    BOOST_TEST(chosen("", "text/xml") == "xml");
    BOOST_TEST(chosen("", "application/xml, application/json") == "json");
    BOOST_TEST(chosen("", "application/fhir+xml, */*") == "xml");
    BOOST_TEST(chosen("", "application/fhir+json;q=0.5, application/fhir+xml;q=0.9") == "xml");
    BOOST_TEST(chosen("", "application/fhir+xml;q=0.5, application/fhir+json") == "json");
    BOOST_TEST(chosen("", "text/*") == "xml");
    BOOST_TEST(chosen("", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8") ==
               "xml");
    BOOST_TEST(chosen("", "application/fhir+json;q=0, */*") == "xml");
    BOOST_TEST(chosen("", "text/html") == "406");
    BOOST_TEST(chosen("", "application/fhir+json;q=0, application/fhir+xml;q=0") == "406");
    BOOST_TEST(chosen("", "image/png, text/plain") == "406");
    BOOST_TEST(chosen("", "garbage") == "json"); // no usable range: the default
}

BOOST_AUTO_TEST_CASE(request_body_formats)
{
    BOOST_TEST(body("application/fhir+json") == "json");
    BOOST_TEST(body("application/fhir+json; charset=utf-8") == "json");
    BOOST_TEST(body("Application/FHIR+JSON;charset=UTF-8") == "json");
    BOOST_TEST(body("application/json") == "json");
    BOOST_TEST(body("application/fhir+xml; charset=utf-8") == "xml");
    BOOST_TEST(body("text/xml") == "xml");
    BOOST_TEST(body("application/json-patch+json") == "json-patch");
    BOOST_TEST(body("application/x-www-form-urlencoded") == "form");
    BOOST_TEST(body("") == "415");
    BOOST_TEST(body("text/plain") == "415");
    BOOST_TEST(body("application/fhir+json; charset=iso-8859-1") == "415");
    BOOST_TEST(body("json") == "415");
}

BOOST_AUTO_TEST_CASE(pretty_and_content_types)
{
    BOOST_TEST(prettyWanted("true"));
    BOOST_TEST(!prettyWanted("false"));
    BOOST_TEST(!prettyWanted(""));
    BOOST_TEST(!prettyWanted("yes"));
    BOOST_TEST(contentTypeFor(Format::Json) == "application/fhir+json; charset=utf-8");
    BOOST_TEST(contentTypeFor(Format::Xml) == "application/fhir+xml; charset=utf-8");
}

BOOST_AUTO_TEST_CASE(gzip_from_accept_encoding)
{
    BOOST_TEST(gzipWanted("gzip"));
    BOOST_TEST(gzipWanted("deflate, gzip;q=0.5"));
    BOOST_TEST(gzipWanted("x-gzip"));
    BOOST_TEST(gzipWanted("*"));
    BOOST_TEST(!gzipWanted(""));
    BOOST_TEST(!gzipWanted("identity"));
    BOOST_TEST(!gzipWanted("gzip;q=0"));
    BOOST_TEST(!gzipWanted("gzip;q=0, *"));
    BOOST_TEST(!gzipWanted("br, deflate"));
}

BOOST_AUTO_TEST_CASE(gzip_round_trip)
{
    const std::string text(10000, 'x');
    const std::string packed = gzipCompress(text);
    BOOST_TEST(packed.size() < text.size());
    BOOST_TEST(static_cast<unsigned char>(packed[0]) == 0x1fu); // gzip magic
    BOOST_TEST(static_cast<unsigned char>(packed[1]) == 0x8bu);
    std::string back;
    BOOST_TEST(gzipDecompress(packed, back));
    BOOST_TEST(back == text);
    BOOST_TEST(!gzipDecompress("not gzip at all", back));
    BOOST_TEST(back == text); // untouched on failure
}

BOOST_AUTO_TEST_SUITE_END()
