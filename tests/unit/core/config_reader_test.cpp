#include "gateway/core/config_reader.h"

#include <boost/test/unit_test.hpp>

using hl7gw::core::ConfigError;
using hl7gw::core::ConfigReader;

namespace {

rapidjson::Document parse(const std::string& text)
{
    rapidjson::Document d;
    hl7gw::core::parseConfigText(text, "gw.json", d);
    return d;
}

std::string errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const ConfigError& e) {
        return e.message();
    }
    return "(no error)";
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_reader)

BOOST_AUTO_TEST_CASE(syntax_error_names_line_and_column)
{
    const std::string message = errorOf([] { parse("{\n  \"a\": 1,\n  \"b\" 2\n}"); });
    BOOST_TEST(message.rfind("gw.json:3:", 0) == 0, message);
}

BOOST_AUTO_TEST_CASE(unknown_key_is_an_error_with_its_path)
{
    rapidjson::Document d = parse(R"({"mllp": [{"name": "a", "lisen": "x"}]})");
    ConfigReader root = ConfigReader::root(d, "gw.json");
    const rapidjson::Value* list = root.array("mllp");
    BOOST_REQUIRE(list != nullptr);
    ConfigReader item = root.element(*list, "mllp", 0);
    BOOST_TEST(item.string("name", "") == "a");
    BOOST_TEST(errorOf([&] { item.finish(); }) == "gw.json: mllp.0.lisen: unknown key");
}

BOOST_AUTO_TEST_CASE(wrong_type_and_range_are_errors)
{
    rapidjson::Document d = parse(R"({"store": {"url": 5, "max_batch": 0}})");
    ConfigReader root = ConfigReader::root(d, "gw.json");
    ConfigReader store = *root.object("store");
    BOOST_TEST(errorOf([&] { store.string("url", ""); }) ==
               "gw.json: store.url: expected a string, found a number");
    BOOST_TEST(errorOf([&] { store.integer("max_batch", 1, 1, 10); }) ==
               "gw.json: store.max_batch: must be between 1 and 10, found 0");
}

BOOST_AUTO_TEST_CASE(override_sets_nested_values_and_array_elements)
{
    rapidjson::Document d = parse(R"({"mllp": [{"listen": "127.0.0.1:2575"}]})");
    hl7gw::core::applyOverride(d, "mllp.0.listen=127.0.0.1:0");
    hl7gw::core::applyOverride(d, "store.url=sqlite:/tmp/x.db");
    hl7gw::core::applyOverride(d, "store.max_batch=64");
    hl7gw::core::applyOverride(d, "mllp.1.name=second");
    BOOST_TEST(std::string(d["mllp"][0]["listen"].GetString()) == "127.0.0.1:0");
    BOOST_TEST(std::string(d["store"]["url"].GetString()) == "sqlite:/tmp/x.db");
    BOOST_TEST(d["store"]["max_batch"].GetInt() == 64);
    BOOST_TEST(std::string(d["mllp"][1]["name"].GetString()) == "second");
}

BOOST_AUTO_TEST_CASE(override_rejects_malformed_assignments)
{
    rapidjson::Document d = parse(R"({"mllp": []})");
    BOOST_TEST(errorOf([&] { hl7gw::core::applyOverride(d, "novalue"); }).find("PATH=VALUE") !=
               std::string::npos);
    BOOST_TEST(errorOf([&] {
                   hl7gw::core::applyOverride(d, "mllp.3.listen=x");
               }).find("past the end") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
