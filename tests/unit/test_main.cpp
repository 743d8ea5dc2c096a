#define BOOST_TEST_MODULE hl7gw
#include <boost/test/unit_test.hpp>
