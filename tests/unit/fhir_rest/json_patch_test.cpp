#include "gateway/fhir/rest/json_patch.h"

#include "gateway/fhir/model/json_io.h"

#include <boost/test/unit_test.hpp>

#include <string>

using hl7gw::core::Issue;
using hl7gw::fhir::parseJson;
using hl7gw::fhir::writeJson;
using hl7gw::fhir::rest::applyJsonPatch;
using hl7gw::fhir::rest::jsonEqual;
using hl7gw::fhir::rest::parseJsonPointer;

namespace {

rapidjson::Document parse(const std::string& text)
{
    rapidjson::Document document;
    Issue issue;
    BOOST_REQUIRE_MESSAGE(parseJson(text, document, issue), issue.text + ": " + text);
    return document;
}

/// Applies `patch` to `target`; the patched document as compact JSON, or "error:CODE:TEXT"
/// (after checking that the target was left exactly as it was).
std::string patched(const std::string& target, const std::string& patch)
{
    rapidjson::Document document = parse(target);
    const std::string before = writeJson(document);
    const rapidjson::Document operations = parse(patch);
    Issue issue;
    if (!applyJsonPatch(operations, document, issue)) {
        BOOST_TEST(writeJson(document) == before); // atomic: unchanged
        return "error:" + issue.code + ":" + issue.text;
    }
    return writeJson(document);
}

bool failsWith(const std::string& result, const std::string& code)
{
    return result.rfind("error:" + code + ":", 0) == 0;
}

} // namespace

// RFC 6902 appendix A, each example in our words; expected documents are written in the
// member order we produce (new members go last, others keep their place).
BOOST_AUTO_TEST_SUITE(json_patch_rfc6902_appendix_a)

BOOST_AUTO_TEST_CASE(a1_adds_an_object_member)
{
    BOOST_TEST(patched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])") ==
               R"({"foo":"bar","baz":"qux"})");
}

BOOST_AUTO_TEST_CASE(a2_adds_an_array_element)
{
    BOOST_TEST(
        patched(R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])") ==
        R"({"foo":["bar","qux","baz"]})");
}

BOOST_AUTO_TEST_CASE(a3_removes_an_object_member)
{
    BOOST_TEST(patched(R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])") ==
               R"({"foo":"bar"})");
}

BOOST_AUTO_TEST_CASE(a4_removes_an_array_element)
{
    BOOST_TEST(patched(R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])") ==
               R"({"foo":["bar","baz"]})");
}

BOOST_AUTO_TEST_CASE(a5_replaces_a_value)
{
    BOOST_TEST(patched(R"({"baz":"qux","foo":"bar"})",
                       R"([{"op":"replace","path":"/baz","value":"boo"}])") ==
               R"({"baz":"boo","foo":"bar"})");
}

BOOST_AUTO_TEST_CASE(a6_moves_a_value)
{
    BOOST_TEST(patched(R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                       R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])") ==
               R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})");
}

BOOST_AUTO_TEST_CASE(a7_moves_an_array_element)
{
    BOOST_TEST(patched(R"({"foo":["all","grass","cows","eat"]})",
                       R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])") ==
               R"({"foo":["all","cows","eat","grass"]})");
}

BOOST_AUTO_TEST_CASE(a8_test_succeeds)
{
    BOOST_TEST(patched(R"({"baz":"qux","foo":["a",2,"c"]})",
                       R"([{"op":"test","path":"/baz","value":"qux"},)"
                       R"({"op":"test","path":"/foo/1","value":2}])") ==
               R"({"baz":"qux","foo":["a",2,"c"]})");
}

BOOST_AUTO_TEST_CASE(a9_test_fails)
{
    const std::string result =
        patched(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])");
    BOOST_TEST(failsWith(result, "processing"), result);
    BOOST_TEST(result.find("operation 0 (test /baz)") != std::string::npos, result);
}

BOOST_AUTO_TEST_CASE(a10_adds_a_nested_member_object)
{
    BOOST_TEST(patched(R"({"foo":"bar"})",
                       R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])") ==
               R"({"foo":"bar","child":{"grandchild":{}}})");
}

BOOST_AUTO_TEST_CASE(a11_ignores_unrecognised_members)
{
    BOOST_TEST(
        patched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])") ==
        R"({"foo":"bar","baz":"qux"})");
}

BOOST_AUTO_TEST_CASE(a12_fails_to_add_to_a_nonexistent_target)
{
    const std::string result =
        patched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])");
    BOOST_TEST(failsWith(result, "processing"), result);
    BOOST_TEST(result.find("/baz/bat") != std::string::npos, result);
}

BOOST_AUTO_TEST_CASE(a13_rejects_an_operation_with_two_ops)
{
    const std::string result =
        patched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","op":"remove"}])");
    BOOST_TEST(failsWith(result, "invalid"), result);
}

BOOST_AUTO_TEST_CASE(a14_unescapes_tilde_before_slash)
{
    BOOST_TEST(patched(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])") ==
               R"({"/":9,"~1":10})");
}

BOOST_AUTO_TEST_CASE(a15_does_not_equate_strings_and_numbers)
{
    const std::string result =
        patched(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])");
    BOOST_TEST(failsWith(result, "processing"), result);
}

BOOST_AUTO_TEST_CASE(a16_appends_an_array_value)
{
    BOOST_TEST(
        patched(R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])") ==
        R"({"foo":["bar",["abc","def"]]})");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(json_patch)

BOOST_AUTO_TEST_CASE(is_atomic_when_a_later_operation_fails)
{
    // The first operation succeeds on the working copy, the second fails: nothing applies
    // (patched() also checks the target is byte-identical afterwards).
    const std::string result = patched(R"({"a":1})", R"([{"op":"replace","path":"/a","value":2},)"
                                                     R"({"op":"remove","path":"/missing"}])");
    BOOST_TEST(failsWith(result, "processing"), result);
    BOOST_TEST(result.find("operation 1 (remove /missing)") != std::string::npos, result);
}

BOOST_AUTO_TEST_CASE(reports_malformed_operations_as_invalid)
{
    BOOST_TEST(failsWith(patched(R"({})", R"({"op":"add"})"), "invalid"));
    BOOST_TEST(failsWith(patched(R"({})", R"([{"path":"/a","value":1}])"), "invalid"));
    BOOST_TEST(failsWith(patched(R"({})", R"([{"op":"add","value":1}])"), "invalid"));
    BOOST_TEST(failsWith(patched(R"({})", R"([{"op":"add","path":"/a"}])"), "invalid"));
    BOOST_TEST(failsWith(patched(R"({})", R"([{"op":"move","path":"/a"}])"), "invalid"));
    BOOST_TEST(failsWith(patched(R"({})", R"([{"op":"frob","path":"/a"}])"), "invalid"));
    BOOST_TEST(failsWith(patched(R"({})", R"([{"op":"add","path":"a","value":1}])"), "invalid"));
    BOOST_TEST(failsWith(patched(R"({})", R"([{"op":"add","path":"/~2","value":1}])"), "invalid"));
    BOOST_TEST(failsWith(patched(R"({})", R"([7])"), "invalid"));
    const std::string result = patched(R"({})", R"([{"op":"add","path":"/a","value":1},)"
                                                R"({"op":"remove"}])");
    BOOST_TEST(result.find("operation 1 (remove") != std::string::npos, result);
}

BOOST_AUTO_TEST_CASE(checks_array_indexes)
{
    BOOST_TEST(failsWith(patched(R"({"a":[1]})", R"([{"op":"add","path":"/a/2","value":0}])"),
                         "processing"));
    BOOST_TEST(patched(R"({"a":[1]})", R"([{"op":"add","path":"/a/1","value":0}])") ==
               R"({"a":[1,0]})");
    BOOST_TEST(
        failsWith(patched(R"({"a":[1,2]})", R"([{"op":"remove","path":"/a/01"}])"), "processing"));
    BOOST_TEST(
        failsWith(patched(R"({"a":[1]})", R"([{"op":"remove","path":"/a/-"}])"), "processing"));
    BOOST_TEST(failsWith(patched(R"({"a":[1]})", R"([{"op":"replace","path":"/a/1","value":0}])"),
                         "processing"));
    BOOST_TEST(patched(R"({"a":[1,2,3]})", R"([{"op":"add","path":"/a/0","value":0}])") ==
               R"({"a":[0,1,2,3]})");
}

BOOST_AUTO_TEST_CASE(keeps_member_order_on_remove_and_replace_in_place)
{
    BOOST_TEST(patched(R"({"a":1,"b":2,"c":3})", R"([{"op":"remove","path":"/a"}])") ==
               R"({"b":2,"c":3})");
    BOOST_TEST(patched(R"({"a":1,"b":2,"c":3})", R"([{"op":"add","path":"/a","value":9}])") ==
               R"({"a":9,"b":2,"c":3})");
}

BOOST_AUTO_TEST_CASE(copies_and_replaces_the_whole_document)
{
    BOOST_TEST(patched(R"({"a":{"x":[1]}})", R"([{"op":"copy","from":"/a","path":"/b"}])") ==
               R"({"a":{"x":[1]},"b":{"x":[1]}})");
    BOOST_TEST(patched(R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])") ==
               R"({"b":2})");
    BOOST_TEST(
        failsWith(patched(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])"),
                  "processing"));
    BOOST_TEST(patched(R"({"a":1})", R"([{"op":"move","from":"/a","path":"/a"}])") == R"({"a":1})");
}

BOOST_AUTO_TEST_CASE(keeps_decimal_text_exactly)
{
    BOOST_TEST(patched(R"({"valueQuantity":{"value":1.50}})",
                       R"([{"op":"replace","path":"/valueQuantity/value","value":0.10}])") ==
               R"({"valueQuantity":{"value":0.10}})");
}

BOOST_AUTO_TEST_CASE(compares_by_value)
{
    BOOST_TEST(
        jsonEqual(parse(R"({"a":1,"b":[true,null]})"), parse(R"({"b":[true,null],"a":1.0})")));
    BOOST_TEST(!jsonEqual(parse(R"({"a":1})"), parse(R"({"a":1,"b":2})")));
    BOOST_TEST(!jsonEqual(parse(R"([1,2])"), parse(R"([2,1])")));
    BOOST_TEST(!jsonEqual(parse(R"([true])"), parse(R"([false])")));
    BOOST_TEST(!jsonEqual(parse(R"(["1"])"), parse(R"([1])")));
}

BOOST_AUTO_TEST_CASE(parses_pointers)
{
    std::vector<std::string> tokens;
    BOOST_TEST(parseJsonPointer("", tokens));
    BOOST_TEST(tokens.empty());
    BOOST_TEST(parseJsonPointer("/a~1b/~0c/", tokens));
    BOOST_TEST(tokens == (std::vector<std::string>{"a/b", "~c", ""}),
               boost::test_tools::per_element());
    BOOST_TEST(!parseJsonPointer("a", tokens));
    BOOST_TEST(!parseJsonPointer("/a~", tokens));
}

BOOST_AUTO_TEST_SUITE_END()
