#include "gateway/app/validate_command.h"

#include "tests/unit/test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

using namespace hl7gw::app;
namespace fs = std::filesystem;

namespace {

// A scratch directory for one test, removed afterwards.
class TempDir {
  public:
    TempDir()
        : path_(fs::temp_directory_path() /
                ("hl7gw-validate-" + std::to_string(reinterpret_cast<std::uintptr_t>(this))))
    {
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }

    std::string write(const std::string& name, const std::string& content) const
    {
        const fs::path p = path_ / name;
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }

  private:
    fs::path path_;
};

const std::string ValidAdt =
    "MSH|^~\\&|HIS|HOSP|GW|HOSP|20240506143015||ADT^A01^ADT_A01|1|P|2.5.1\r"
    "EVN||20240506143015\rPID|1||12345^^^HOSP^MR||DOE^JANE\rPV1|1|I\r";

struct Result {
    int code;
    std::string out;
    std::string err;
};

Result run(const ValidateCommandOptions& options)
{
    std::ostringstream out;
    std::ostringstream err;
    const int code = runValidate(options, out, err);
    return {code, out.str(), err.str()};
}

} // namespace

BOOST_AUTO_TEST_SUITE(ValidateCommandTest)

BOOST_AUTO_TEST_CASE(exits_0_for_valid_messages_even_with_warnings)
{
    const TempDir dir;
    ValidateCommandOptions options;
    options.inputs = {dir.write("ok.hl7", ValidAdt), dir.write("warn.hl7", ValidAdt + "ARV|1|A\r")};
    const Result r = run(options);
    BOOST_TEST(r.code == 0);
    BOOST_TEST(r.out == "total\tmessages=2\tinvalid=0\n");
    BOOST_TEST(r.err == options.inputs[1] +
                            ":1:ARV[1]: warning: segment ARV is not defined in the v2.5.1 tables; "
                            "passed through unchecked\n");
}

BOOST_AUTO_TEST_CASE(exits_1_with_one_located_line_per_problem)
{
    const TempDir dir;
    ValidateCommandOptions options;
    options.inputs = {dir.write("bad.hl7", ValidAdt + "\n" +
                                               "MSH|^~\\&|HIS|HOSP|GW|HOSP|20240506||ADT^A01|2|P|"
                                               "2.5.1\rEVN||20240506\rPID|1||||DOE\r")};
    const Result r = run(options);
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.out == "total\tmessages=2\tinvalid=1\n");
    const std::string& f = options.inputs[0];
    BOOST_TEST(r.err == f + ":2:PV1: error: required segment PV1 missing (ADT_A01)\n" + f +
                            ":2:PID[1]-3: error: PID-3: required field missing (Patient "
                            "Identifier List)\n");
}

BOOST_AUTO_TEST_CASE(applies_the_profile_given)
{
    const TempDir dir;
    ValidateCommandOptions options;
    options.inputs = {dir.write("m.hl7", ValidAdt)};
    options.profile = dir.write("p.profile", "profile LOCAL\nrequire PID-8\n");
    const Result r = run(options);
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == options.inputs[0] +
                            ":1:PID[1]-8: error: PID-8: required field missing (profile LOCAL)\n");
}

BOOST_AUTO_TEST_CASE(exits_2_for_a_missing_or_broken_profile)
{
    const TempDir dir;
    ValidateCommandOptions options;
    options.inputs = {dir.write("m.hl7", ValidAdt)};
    options.profile = (fs::path(dir.write("x", "")).parent_path() / "absent.profile").string();
    Result r = run(options);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("cannot read profile") != std::string::npos);

    options.profile = dir.write("bad.profile", "profile P\nrequire\n");
    r = run(options);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err == options.profile + ":2: error: expected 'require PATH...'\n");
    BOOST_TEST(r.out.empty());
}

BOOST_AUTO_TEST_CASE(counts_an_input_without_messages_as_invalid)
{
    const TempDir dir;
    ValidateCommandOptions options;
    options.inputs = {dir.write("empty.hl7", "")};
    const Result r = run(options);
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == options.inputs[0] + ": error: no HL7 v2 message found\n");
}

BOOST_AUTO_TEST_CASE(validates_the_phlip_negative_corpus_file_with_the_shipped_profile)
{
    ValidateCommandOptions options;
    options.inputs = {(hl7gw::test::corpusDir() /
                       "hl7v2/_malformed/cdc-phlip-flu-negative/PHLIP_FLU_2.5.1_NO_MSH21.hl7")
                          .string()};
    options.profile = (hl7gw::test::dataDir() / "hl7v2/profiles/phlip-elr.profile").string();
    const Result r = run(options);
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == options.inputs[0] +
                            ":1:MSH[1]-21: error: MSH-21: required field missing (profile "
                            "PHLIP_ELR)\n");
}

BOOST_AUTO_TEST_SUITE_END()
