#include "gateway/core/utf8.h"

#include <boost/test/unit_test.hpp>

using hl7gw::core::utf8SequenceLength;

BOOST_AUTO_TEST_SUITE(utf8)

BOOST_AUTO_TEST_CASE(lengths_of_valid_sequences)
{
    BOOST_TEST(utf8SequenceLength("A", 0) == 1U);
    BOOST_TEST(utf8SequenceLength("\xC3\xA9", 0) == 2U);         // é
    BOOST_TEST(utf8SequenceLength("\xE9\x99\xB3", 0) == 3U);     // 陳
    BOOST_TEST(utf8SequenceLength("\xF0\x9F\x98\x80", 0) == 4U); // U+1F600
}

BOOST_AUTO_TEST_CASE(rejects_overlongs_surrogates_and_truncation)
{
    BOOST_TEST(utf8SequenceLength("\xC0\xAF", 0) == 0U);         // overlong '/'
    BOOST_TEST(utf8SequenceLength("\xE0\x80\xAF", 0) == 0U);     // overlong
    BOOST_TEST(utf8SequenceLength("\xED\xA0\x80", 0) == 0U);     // surrogate D800
    BOOST_TEST(utf8SequenceLength("\xF4\x90\x80\x80", 0) == 0U); // past U+10FFFF
    BOOST_TEST(utf8SequenceLength("\xE9\x99", 0) == 0U);         // truncated
    BOOST_TEST(utf8SequenceLength("\xB3", 0) == 0U);             // lone continuation
    BOOST_TEST(utf8SequenceLength("\xB3\xC2", 0) == 0U);         // GB18030 bytes
}

BOOST_AUTO_TEST_SUITE_END()
