#include "gateway/core/metrics.h"

#include <boost/test/unit_test.hpp>

using hl7gw::core::MetricsRegistry;

BOOST_AUTO_TEST_SUITE(metrics_registry)

BOOST_AUTO_TEST_CASE(renders_counters_with_labels_in_prometheus_text)
{
    MetricsRegistry m;
    m.counter("hl7gw_x_total", "X", {{"channel", "his \"adt\""}}).add(3);
    m.counter("hl7gw_x_total", "X", {{"channel", "his \"adt\""}}).add();
    const std::string text = m.render();
    BOOST_TEST(text.find("# TYPE hl7gw_x_total counter\n") != std::string::npos);
    BOOST_TEST(text.find("hl7gw_x_total{channel=\"his \\\"adt\\\"\"} 4\n") != std::string::npos,
               text);
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative)
{
    MetricsRegistry m;
    auto& h = m.histogram("hl7gw_h_seconds", "H", {0.001, 0.01});
    h.observe(0.0005);
    h.observe(0.005);
    h.observe(0.5);
    const std::string text = m.render();
    BOOST_TEST(text.find("hl7gw_h_seconds_bucket{le=\"0.001\"} 1\n") != std::string::npos, text);
    BOOST_TEST(text.find("hl7gw_h_seconds_bucket{le=\"0.01\"} 2\n") != std::string::npos);
    BOOST_TEST(text.find("hl7gw_h_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
    BOOST_TEST(text.find("hl7gw_h_seconds_count 3\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failing_collector_is_counted_not_fatal)
{
    MetricsRegistry m;
    m.addCollector([](std::string&) { throw std::runtime_error("store down"); });
    m.addCollector([](std::string& out) { out += "hl7gw_y 1\n"; });
    const std::string text = m.render();
    BOOST_TEST(text.find("hl7gw_y 1\n") != std::string::npos);
    BOOST_TEST(text.find("hl7gw_metrics_collector_errors_total 1\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
