#include "gateway/hl7v2/message_splitter.h"

#include "tests/unit/test_support.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw::hl7v2;
using hl7gw::core::IssueList;
using hl7gw::core::Severity;

namespace {

struct Split {
    std::vector<Chunk> chunks;
    IssueList issues;
    std::size_t messages() const
    {
        return static_cast<std::size_t>(std::count_if(chunks.begin(), chunks.end(), [](const Chunk& c) {
            return c.kind == Chunk::Kind::Message;
        }));
    }
};

Split split(std::string_view buffer)
{
    Split s;
    MessageSplitter splitter(buffer);
    Chunk chunk;
    while (splitter.next(chunk, s.issues)) {
        s.chunks.push_back(chunk);
    }
    splitter.finish(s.issues);
    return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(message_splitter)

BOOST_AUTO_TEST_CASE(one_message_per_msh_with_blank_lines_between)
{
    const std::string text = "MSH|^~\\&|A\rPID|1\r\n\r\nMSH|^~\\&|B\nPID|2\n\n";
    const Split s = split(text);
    BOOST_TEST(s.issues.empty());
    BOOST_REQUIRE(s.chunks.size() == 2u);
    BOOST_TEST(s.chunks[0].bytes == "MSH|^~\\&|A\rPID|1\r\n");
    BOOST_TEST(s.chunks[0].number == 1u);
    BOOST_TEST(s.chunks[1].bytes == "MSH|^~\\&|B\nPID|2\n");
    BOOST_TEST(s.chunks[1].line == 4u);
    BOOST_TEST(s.chunks[1].offset == text.find("MSH|^~\\&|B"));
}

BOOST_AUTO_TEST_CASE(reads_fhs_bhs_envelopes_and_checks_counts)
{
    const std::string text = "FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\rBTS|2\rFTS|1\r";
    const Split s = split(text);
    BOOST_TEST(s.issues.empty());
    BOOST_REQUIRE(s.chunks.size() == 6u);
    BOOST_TEST(static_cast<int>(s.chunks[0].kind) == static_cast<int>(Chunk::Kind::FileHeader));
    BOOST_TEST(static_cast<int>(s.chunks[1].kind) == static_cast<int>(Chunk::Kind::BatchHeader));
    BOOST_TEST(static_cast<int>(s.chunks[4].kind) == static_cast<int>(Chunk::Kind::BatchTrailer));
    BOOST_TEST(s.messages() == 2u);
}

BOOST_AUTO_TEST_CASE(wrong_batch_count_is_an_error_on_the_trailer_line)
{
    const Split s = split("BHS|^~\\&\rMSH|^~\\&|A\rBTS|3\r");
    BOOST_REQUIRE(s.issues.size() == 1u);
    BOOST_TEST(s.issues[0].severity == Severity::Error);
    BOOST_TEST(s.issues[0].location.line == 3u);
    BOOST_TEST(s.issues[0].text == "BTS-1 says 3 messages; the batch has 1");
}

BOOST_AUTO_TEST_CASE(missing_trailers_are_warnings)
{
    const Split s = split("FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&|A\r");
    BOOST_TEST(s.issues.size() == 2u);
    BOOST_TEST(!s.issues.hasErrors());
}

BOOST_AUTO_TEST_CASE(junk_before_msh_is_one_located_error)
{
    const Split s = split("junk\r\njunk again\r\nMSH|^~\\&|A\r\n");
    BOOST_REQUIRE(s.issues.size() == 1u);
    BOOST_TEST(s.issues[0].location.line == 1u);
    BOOST_REQUIRE(s.chunks.size() == 2u);
    BOOST_TEST(static_cast<int>(s.chunks[0].kind) == static_cast<int>(Chunk::Kind::Junk));
    BOOST_TEST(s.chunks[0].bytes == "junk\r\njunk again");
    BOOST_TEST(s.messages() == 1u);
}

BOOST_AUTO_TEST_CASE(nested_batch_header_is_an_error)
{
    const Split s = split("BHS|^~\\&\rMSH|^~\\&|A\rBHS|^~\\&\rMSH|^~\\&|B\rBTS|1\r");
    BOOST_TEST(s.issues.hasErrors());
    BOOST_TEST(s.issues[0].location.line == 3u);
}

BOOST_AUTO_TEST_CASE(splits_the_python_hl7_and_oie_batch_files)
{
    const auto dir = hl7gw::test::corpusDir() / "hl7v2/_batch_and_multi";
    const Split batch = split(hl7gw::test::readFile(dir / "python-hl7/sample_batch.hl7"));
    BOOST_TEST(batch.messages() == 1u);
    BOOST_TEST(!batch.issues.hasErrors());
    const Split adt = split(hl7gw::test::readFile(dir / "oie-engine/simplesender-TestADT.txt"));
    BOOST_TEST(adt.messages() == 124u);
    BOOST_TEST(!adt.issues.hasErrors());
    const Split two = split(hl7gw::test::readFile(dir / "oie-engine/filereader-batch01.hl7"));
    BOOST_TEST(two.messages() == 3u);
}

BOOST_AUTO_TEST_CASE(broken_python_hl7_envelopes_are_errors)
{
    const auto dir = hl7gw::test::corpusDir() / "hl7v2/_malformed/python-hl7";
    for (const char* name : {"sample_bad_batch.hl7", "sample_bad_batch1.hl7", "sample_bad_file.hl7",
                             "sample_bad_file1.hl7", "sample_bad_file2.hl7", "sample_bad_file3.hl7"}) {
        BOOST_TEST_CONTEXT(name)
        {
            const Split s = split(hl7gw::test::readFile(dir / name));
            BOOST_TEST(s.issues.hasErrors());
            for (const auto& issue : s.issues) {
                BOOST_TEST(issue.location.line > 0u);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(empty_input_has_no_chunks)
{
    const Split s = split("");
    BOOST_TEST(s.chunks.empty());
    BOOST_TEST(s.issues.empty());
}

BOOST_AUTO_TEST_SUITE_END()
