#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace hl7gw::core {

/// Label pairs of one series, e.g. {{"channel", "his-adt"}, {"code", "AA"}}, in the order
/// they are printed.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing count. Lock-free; safe from any thread.
class Counter {
  public:
    void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down.
class Gauge {
  public:
    void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
    void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::int64_t> value_{0};
};

/// A histogram with fixed upper bounds (seconds), Prometheus style: cumulative buckets,
/// sum and count. Lock-free observe().
class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double seconds);

    const std::vector<double>& bounds() const { return bounds_; }
    /// Per-bucket counts (not cumulative), one more than bounds (the +Inf bucket).
    std::vector<std::uint64_t> bucketCounts() const;
    double sum() const;
    std::uint64_t count() const;

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
    std::atomic<std::uint64_t> sumMicros_{0};
    std::atomic<std::uint64_t> count_{0};
};

/// Every metric of the process, rendered as Prometheus text (exposition format 0.0.4).
/// Metrics are created on first use and live as long as the registry, so callers may keep
/// the returned references. Gauges whose value is read elsewhere (queue depth from the store)
/// are collectors: a function called at render time that appends whole series.
/// Thread-safe.
class MetricsRegistry {
  public:
    Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
    Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
    Histogram& histogram(const std::string& name, const std::string& help,
                         const std::vector<double>& bounds, const Labels& labels = {});

    /// Appends text lines (with their own # HELP / # TYPE) at render time. A collector that
    /// throws is skipped and counted in hl7gw_metrics_collector_errors_total.
    void addCollector(std::function<void(std::string& out)> collector);

    std::string render() const;

    /// Escapes a label value for the text format (backslash, double quote, newline).
    static std::string escapeLabel(const std::string& value);
    static std::string formatLabels(const Labels& labels);

  private:
    struct Family {
        std::string help;
        std::string type;
        std::map<std::string, std::unique_ptr<Counter>> counters;
        std::map<std::string, std::unique_ptr<Gauge>> gauges;
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
    };

    Family& family(const std::string& name, const std::string& help, const char* type);

    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
    std::vector<std::function<void(std::string&)>> collectors_;
    mutable Counter collectorErrors_;
};

} // namespace hl7gw::core
