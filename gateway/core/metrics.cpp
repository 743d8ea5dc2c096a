#include "gateway/core/metrics.h"

#include <cmath>
#include <cstdio>

namespace hl7gw::core {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1))
{
}

void Histogram::observe(double seconds)
{
    std::size_t i = 0;
    while (i < bounds_.size() && seconds > bounds_[i]) {
        ++i;
    }
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    // Summed in whole microseconds so that it stays a lock-free integer add.
    const double micros = seconds > 0 ? seconds * 1e6 : 0;
    sumMicros_.fetch_add(static_cast<std::uint64_t>(std::llround(micros)),
                         std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::bucketCounts() const
{
    std::vector<std::uint64_t> counts(bounds_.size() + 1);
    for (std::size_t i = 0; i < counts.size(); ++i) {
        counts[i] = buckets_[i].load(std::memory_order_relaxed);
    }
    return counts;
}

double Histogram::sum() const
{
    return static_cast<double>(sumMicros_.load(std::memory_order_relaxed)) / 1e6;
}

std::uint64_t Histogram::count() const
{
    return count_.load(std::memory_order_relaxed);
}

namespace {

// The series of `labels` in one family's map of a metric kind, made on first use.
template <typename T, typename... Args>
T& series(std::map<std::string, std::unique_ptr<T>>& map, const Labels& labels, Args&&... args)
{
    auto& slot = map[MetricsRegistry::formatLabels(labels)];
    if (!slot) {
        slot = std::make_unique<T>(std::forward<Args>(args)...);
    }
    return *slot;
}

} // namespace

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help,
                                                 const char* type)
{
    Family& f = families_[name];
    f.help = help;
    f.type = type;
    return f;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const Labels& labels)
{
    std::lock_guard lock(mutex_);
    return series(family(name, help, "counter").counters, labels);
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                              const Labels& labels)
{
    std::lock_guard lock(mutex_);
    return series(family(name, help, "gauge").gauges, labels);
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const std::vector<double>& bounds, const Labels& labels)
{
    std::lock_guard lock(mutex_);
    return series(family(name, help, "histogram").histograms, labels, bounds);
}

void MetricsRegistry::addCollector(std::function<void(std::string&)> collector)
{
    std::lock_guard lock(mutex_);
    collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::escapeLabel(const std::string& value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string MetricsRegistry::formatLabels(const Labels& labels)
{
    if (labels.empty()) {
        return {};
    }
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += labels[i].first;
        out += "=\"";
        out += escapeLabel(labels[i].second);
        out += '"';
    }
    out += '}';
    return out;
}

namespace {

std::string number(double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// Adds `le` to an already formatted label set, as the histogram buckets need.
std::string withLe(const std::string& labels, const std::string& le)
{
    if (labels.empty()) {
        return "{le=\"" + le + "\"}";
    }
    return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}

} // namespace

std::string MetricsRegistry::render() const
{
    std::string out;
    std::vector<std::function<void(std::string&)>> collectors;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [name, family] : families_) {
            out += "# HELP " + name + ' ' + family.help + '\n';
            out += "# TYPE " + name + ' ' + family.type + '\n';
            for (const auto& [labels, c] : family.counters) {
                out += name + labels + ' ' + std::to_string(c->value()) + '\n';
            }
            for (const auto& [labels, g] : family.gauges) {
                out += name + labels + ' ' + std::to_string(g->value()) + '\n';
            }
            for (const auto& [labels, h] : family.histograms) {
                const std::vector<std::uint64_t> counts = h->bucketCounts();
                std::uint64_t cumulative = 0;
                for (std::size_t i = 0; i < h->bounds().size(); ++i) {
                    cumulative += counts[i];
                    out += name + "_bucket" + withLe(labels, number(h->bounds()[i])) + ' ' +
                           std::to_string(cumulative) + '\n';
                }
                cumulative += counts.back();
                out += name + "_bucket" + withLe(labels, "+Inf") + ' ' +
                       std::to_string(cumulative) + '\n';
                out += name + "_sum" + labels + ' ' + number(h->sum()) + '\n';
                out += name + "_count" + labels + ' ' + std::to_string(cumulative) + '\n';
            }
        }
        collectors = collectors_;
    }
    for (const auto& collect : collectors) {
        std::string part;
        try {
            collect(part);
            out += part;
        } catch (...) {
            // A collector reads the store; when the store is down /metrics still answers
            // with everything else, and the failure is itself a metric.
            collectorErrors_.add();
        }
    }
    out += "# HELP hl7gw_metrics_collector_errors_total Collectors that failed while rendering\n";
    out += "# TYPE hl7gw_metrics_collector_errors_total counter\n";
    out +=
        "hl7gw_metrics_collector_errors_total " + std::to_string(collectorErrors_.value()) + '\n';
    return out;
}

} // namespace hl7gw::core
