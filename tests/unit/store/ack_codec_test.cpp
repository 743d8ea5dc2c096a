#include "gateway/store/detail/ack_codec.h"

#include "gateway/store/message_store.h"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace std::string_literals;
using hl7gw::store::detail::AckFormat;
using hl7gw::store::detail::decodeAck;
using hl7gw::store::detail::encodeAck;

BOOST_TEST_DONT_PRINT_LOG_VALUE(AckFormat)

namespace {

const std::string Message = "MSH|^~\\&|HIS|HOSP_A|GATEWAY|REGIONAL_HUB|20250321085724+0800||"
                            "ADT^A01^ADT_A01|ADT00000001|P|2.5.1|||AL|NE|CHN|UNICODE UTF-8\r"
                            "EVN|A01|20250321085724+0800\rPID|1||13795017^^^HOSP_A^MR\r";
const std::string Ack = "MSH|^~\\&|GATEWAY|REGIONAL_HUB|HIS|HOSP_A|20261201120000+0800||"
                        "ACK^A01^ACK|GW00000001|P|2.5.1|||||CHN|UNICODE UTF-8\r"
                        "MSA|AA|ADT00000001\r";

} // namespace

BOOST_AUTO_TEST_SUITE(ack_codec)

BOOST_AUTO_TEST_CASE(an_ack_that_echoes_its_header_is_stored_in_far_fewer_bytes)
{
    const auto encoded = encodeAck(Ack, Message);
    BOOST_TEST(encoded.format == AckFormat::DeflatedAgainstHeader);
    BOOST_TEST(encoded.bytes.size() < Ack.size() / 2);
    BOOST_TEST(decodeAck(encoded.format, encoded.bytes, Message) == Ack);
    // Readers pass only a prefix of the message.
    BOOST_TEST(decodeAck(encoded.format, encoded.bytes, Message.substr(0, 512)) == Ack);
}

BOOST_AUTO_TEST_CASE(acks_that_do_not_shrink_stay_plain)
{
    for (const std::string& ack : {""s, "\0\xFF"s, "x"s}) {
        const auto encoded = encodeAck(ack, Message);
        BOOST_TEST(encoded.format == AckFormat::Plain);
        BOOST_TEST(encoded.bytes == ack);
        BOOST_TEST(decodeAck(encoded.format, encoded.bytes, Message) == ack);
    }
    // No header to compare with (an empty or unframed message).
    BOOST_TEST(encodeAck(Ack, "").format == AckFormat::Plain);
    BOOST_TEST(encodeAck(Ack, "\rPID|1").format == AckFormat::Plain);
}

BOOST_AUTO_TEST_CASE(segments_ending_in_lf_and_long_acks_round_trip)
{
    std::string lfMessage = Message;
    for (char& c : lfMessage) {
        c = c == '\r' ? '\n' : c;
    }
    std::string longAck = Ack; // ERR texts: little to share with the header
    for (int i = 0; i < 200; ++i) {
        longAck += "ERR|||207^Application internal error^HL70357|E||||database " +
                   std::to_string(i) + "\r";
    }
    for (const std::string* ack : {&Ack, static_cast<const std::string*>(&longAck)}) {
        const auto encoded = encodeAck(*ack, lfMessage);
        BOOST_TEST(decodeAck(encoded.format, encoded.bytes, lfMessage) == *ack);
    }
}

BOOST_AUTO_TEST_CASE(damaged_bytes_are_a_store_error)
{
    const auto encoded = encodeAck(Ack, Message);
    BOOST_CHECK_THROW(decodeAck(encoded.format, encoded.bytes.substr(0, 10), Message),
                      hl7gw::store::StoreError);
    BOOST_CHECK_THROW(decodeAck(encoded.format, "\xFF\xFF\xFF"s, Message),
                      hl7gw::store::StoreError);
    BOOST_CHECK_THROW(decodeAck(static_cast<AckFormat>(9), "x", Message), hl7gw::store::StoreError);
}

BOOST_AUTO_TEST_SUITE_END()
