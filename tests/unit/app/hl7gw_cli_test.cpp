// Runs the real hl7gw binary: the command line is a contract other tools rely on.
#include "tests/unit/app/serve_support.h"
#include "tests/unit/test_support.h"

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>

#include <fstream>

#include <rapidjson/document.h>

#include <sstream>
#include <thread>

namespace {

using Run = hl7gw::test::CommandRun;

Run runHl7gw(const std::vector<std::string>& args, const std::string& input = {})
{
    return hl7gw::test::runGateway(args, input);
}

std::string data(const char* name)
{
    return (hl7gw::test::dataDir() / "hl7v2" / name).string();
}

std::string corpus(const char* name)
{
    return (hl7gw::test::corpusDir() / "hl7v2" / name).string();
}

std::vector<std::string> lines(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(hl7gw_cli)

BOOST_AUTO_TEST_CASE(version_and_help_exit_zero)
{
    const Run version = runHl7gw({"--version"});
    BOOST_TEST(version.exitCode == 0);
    BOOST_TEST(version.out == std::string("hl7gw ") + HL7GW_VERSION + "\n");
    const Run help = runHl7gw({"--help"});
    BOOST_TEST(help.exitCode == 0);
    BOOST_TEST(help.out.find("parse") != std::string::npos);
    BOOST_TEST(help.out.find("--get") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_two)
{
    BOOST_TEST(runHl7gw({}).exitCode == 2);
    BOOST_TEST(runHl7gw({"frobnicate"}).exitCode == 2);
    BOOST_TEST(runHl7gw({"parse"}).exitCode == 2);
    BOOST_TEST(runHl7gw({"parse", "--no-such-option", data("custom-delimiters.hl7")}).exitCode ==
               2);
    const Run badPath = runHl7gw({"parse", "--get", "PID-x", data("custom-delimiters.hl7")});
    BOOST_TEST(badPath.exitCode == 2);
    BOOST_TEST(badPath.err.find("PID-x") != std::string::npos);
    BOOST_TEST(runHl7gw({"parse", "--to", "csv", data("custom-delimiters.hl7")}).exitCode == 2);
    BOOST_TEST(
        runHl7gw({"parse", "--charset", "KLINGON", data("custom-delimiters.hl7")}).exitCode == 2);
}

BOOST_AUTO_TEST_CASE(summary_prints_one_line_per_message_and_totals)
{
    const Run run = runHl7gw({"parse", "--to", "summary", data("gb18030-batch.hl7")});
    BOOST_TEST(run.exitCode == 0);
    const auto out = lines(run.out);
    BOOST_REQUIRE(out.size() == 3u);
    BOOST_TEST(out[0] == "1\tORU^R01\tB001\t2.5.1\tGB 18030-2000\t4");
    BOOST_TEST(out[1] == "2\tORU^R01\tB002\t2.5.1\tGB 18030-2000\t4");
    BOOST_TEST(out[2].rfind("total\tmessages=2\tbytes=", 0) == 0u);
    BOOST_TEST(out[2].find("\terrors=0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(get_prints_decoded_values_tab_separated_per_message)
{
    const Run run = runHl7gw({"parse", "--get", "PID-5.1", "--get", "OBX-5", "--get", "PID-99",
                              data("gb18030-batch.hl7")});
    BOOST_TEST(run.exitCode == 0);
    BOOST_TEST(run.out == "劉\t結果正常\t\n孫\t需復查\t\n");
}

BOOST_AUTO_TEST_CASE(get_escapes_backslash_tab_newline_and_shows_null)
{
    const std::string message = "MSH|^~\\&|A\rNTE|1|\"\"|a\\E\\b\\.br\\c\\X09\\d\\X0D\\\r";
    const Run run =
        runHl7gw({"parse", "--get", "NTE-2", "--get", "NTE-3", "--get", "NTE-4", "-"}, message);
    BOOST_TEST(run.exitCode == 0);
    BOOST_TEST(run.out == "\"\"\ta\\\\b\\nc\\td\\r\t\n");
}

BOOST_AUTO_TEST_CASE(get_reads_occurrences_and_repetitions)
{
    const Run run = runHl7gw({"parse", "--get", "PID-3[2].1", "--get", "OBX[2]-5", "--get", "MSH-9",
                              data("utf8-oru-r01.hl7")});
    BOOST_TEST(run.exitCode == 0);
    BOOST_TEST(run.out ==
               "\t\\\\H\\\\重要\\\\N\\\\：未见异常 \\\\.sp 2\\\\结束\tORU^R01^ORU_R01\n");
}

BOOST_AUTO_TEST_CASE(er7_output_keeps_the_messages_own_charset)
{
    const std::string file = data("gb18030-adt-a01.hl7");
    const Run run = runHl7gw({"parse", "--to", "er7", file});
    BOOST_TEST(run.exitCode == 0);
    BOOST_TEST(run.out == hl7gw::test::readFile(file));
}

BOOST_AUTO_TEST_CASE(er7_output_keeps_batch_envelopes)
{
    const std::string file = data("gb18030-batch.hl7");
    const Run run = runHl7gw({"parse", "--to", "er7", file});
    BOOST_TEST(run.exitCode == 0);
    std::string expected = hl7gw::test::readFile(file);
    expected.erase(expected.find("\r\r"), 1); // the blank line between the messages
    BOOST_TEST(run.out == expected);
}

BOOST_AUTO_TEST_CASE(json_output_is_one_utf8_document_per_message)
{
    const Run run = runHl7gw({"parse", "--to", "json", data("gbk-siu-s12.hl7")});
    BOOST_TEST(run.exitCode == 0);
    const auto out = lines(run.out);
    BOOST_REQUIRE(out.size() == 1u);
    rapidjson::Document doc;
    doc.Parse(out[0].c_str());
    BOOST_REQUIRE(!doc.HasParseError());
    BOOST_TEST(doc["charset"].GetString() == std::string("GB 18030-2000"));
    BOOST_TEST(doc["segments"][2][5][0][0].GetString() == std::string("張"));
}

BOOST_AUTO_TEST_CASE(charset_option_is_the_default_for_undeclared_messages)
{
    const std::string file = data("gbk-no-msh18.hl7");
    const Run asUtf8 = runHl7gw({"parse", "--get", "PID-5.1", file});
    BOOST_TEST(asUtf8.exitCode == 1); // GBK bytes are not UTF-8: an error, never silent
    BOOST_TEST(asUtf8.err.find("gbk-no-msh18.hl7:1:") != std::string::npos);
    const Run asGbk = runHl7gw({"parse", "--charset", "GBK", "--get", "PID-5.1", file});
    BOOST_TEST(asGbk.exitCode == 0);
    BOOST_TEST(asGbk.out == "王\n");
}

BOOST_AUTO_TEST_CASE(bad_input_exits_one_with_file_message_and_location)
{
    const Run run =
        runHl7gw({"parse", corpus("_malformed/cdc-data-exchange-hl7/Lyme_WithBadDelimiters.hl7")});
    BOOST_TEST(run.exitCode == 1);
    BOOST_TEST(run.err.find("Lyme_WithBadDelimiters.hl7:1:MSH[1]-2: error:") != std::string::npos);

    const Run junk = runHl7gw(
        {"parse",
         corpus("_malformed/cdc-data-exchange-hl7/Genv1-Case-TestMessage1-junk-prefix.hl7")});
    BOOST_TEST(junk.exitCode == 1);
    BOOST_TEST(junk.err.find("junk-prefix.hl7:line 1: error:") != std::string::npos);

    const Run missing = runHl7gw({"parse", "/nonexistent/file.hl7"});
    BOOST_TEST(missing.exitCode == 1);
    BOOST_TEST(missing.err.find("/nonexistent/file.hl7") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(our_fixtures_are_valid_messages)
{
    // The fixtures stand for real partner messages, so they must pass the validator; the one
    // without MSH-18 is read the way its channel would declare it.
    std::vector<std::string> args{"validate", "--charset", "GBK"};
    for (const auto& file : hl7gw::test::filesUnder(hl7gw::test::dataDir() / "hl7v2", {".hl7"})) {
        if (file.parent_path().filename() == "hl7v2") {
            args.push_back(file.string());
        }
    }
    BOOST_REQUIRE(args.size() >= 9u);
    const Run run = runHl7gw(args);
    BOOST_TEST(run.exitCode == 0, run.err);
    BOOST_TEST(run.out == "total\tmessages=7\tinvalid=0\n");
}

BOOST_AUTO_TEST_CASE(validate_also_takes_fhir_json_and_xml)
{
    const std::string examples = std::string(HL7GW_CORPUS_DIR) + "/fhir-r4/examples/";
    const Run good = runHl7gw({"validate", examples + "json/Slot-1.json",
                               examples + "xml/Appointment-example.xml", data("gbk-siu-s12.hl7")});
    BOOST_TEST(good.exitCode == 0, good.err);
    BOOST_TEST(good.out == "total\tmessages=1\tresources=2\tinvalid=0\n");

    hl7gw::test::TempDir dir;
    const auto bad = dir.path() / "bad-patient.json";
    std::ofstream(bad) << R"({"resourceType":"Patient","gender":"robot","colour":1})";
    const Run run = runHl7gw({"validate", bad.string()});
    BOOST_TEST(run.exitCode == 1);
    BOOST_TEST(run.err.find("bad-patient.json:Patient.gender: error:") != std::string::npos,
               run.err);
    BOOST_TEST(run.err.find("bad-patient.json:Patient.colour: error:") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reads_several_files_and_stdin)
{
    const std::string stdinMessage = "MSH|^~\\&|A||||||ADT^A08|S1|P|2.5\r";
    const Run run =
        runHl7gw({"parse", "--get", "MSH-10", data("custom-delimiters.hl7"), "-"}, stdinMessage);
    BOOST_TEST(run.exitCode == 0);
    BOOST_TEST(run.out == "CUS0005\nS1\n");
}

BOOST_AUTO_TEST_SUITE_END()
