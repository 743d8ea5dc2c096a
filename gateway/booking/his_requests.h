#pragma once

#include "gateway/booking/fhir_calls.h"
#include "gateway/core/config_reader.h"
#include "gateway/transport/mllp_client.h"

#include <rapidjson/document.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace hl7gw::mapping {
class MapSet;
struct Dialect;
namespace detail {
struct OutboundMap;
}
} // namespace hl7gw::mapping

namespace hl7gw::booking {

/// One HIS that owns its Schedules (号源在院内) and only takes requests (STANDARDS.md §2.1
/// SRM/SRR, §4.5): `booking.his_requests[]`
///   {"name": "partner-his", "schedules": ["12"], "departments": ["XNK"],
///    "to": "mllp://10.1.2.5:6670", "tls": {"ca", "cert", "key"},
///    "connect_timeout_ms": 5000, "answer_timeout_ms": 10000,
///    "mapping": "appointment-srm", "dialect": "his-requests",
///    "mappings_dir": "mappings", "adapters_dir": "adapters"}
/// A Slot is the HIS's when its Schedule's id is in `schedules` or its department (the
/// Schedule's first specialty code, else serviceType: booking_config.h) is in `departments`.
/// `to` is HOST:PORT, `mllp://HOST:PORT`, or `mllps://HOST:PORT` (TLS, as `tls` alone).
struct HisRequestsConfig {
    std::string name;
    std::vector<std::string> schedules;
    std::vector<std::string> departments;
    transport::MllpClientConfig client; // ackTimeoutMs is answer_timeout_ms
    std::shared_ptr<const mapping::MapSet> maps;
    std::shared_ptr<const mapping::Dialect> dialect;
    const mapping::detail::OutboundMap* map = nullptr; // in `maps`

    /// This HIS owns the Schedule (`scheduleId` without "Schedule/", `department` its code).
    bool owns(const std::string& scheduleId, const std::string& department) const;
};

/// Reads `booking.his_requests` (an array of the objects above); the maps load here, relative
/// directories from `baseDirectory` (the configuration file's folder). Unknown keys, a bad
/// address, a map or dialect that does not load, an entry that names no Schedule or
/// department: core::ConfigError naming the path.
std::vector<HisRequestsConfig> readHisRequests(core::ConfigReader& booking,
                                               const std::string& baseDirectory);

/// What the HIS answered a request.
struct HisAnswer {
    enum class Outcome {
        Accepted, // MSA-1 AA/CA (and, for a booking, SCH-25 Booked)
        Refused,  // MSA-1 AE/AR/CE/CR, or a booking answered without SCH-25 Booked
        NoAnswer, // no connection, no answer within the timeout
        Unusable, // an answer that is no SRR/ACK for this request, or a request we cannot map
    };
    Outcome outcome = Outcome::NoAnswer;
    std::string text;        // why, for the OperationOutcome: ERR-8, else ERR-3.2, else MSA-3
    std::string fillerValue; // SCH-2.1: the HIS's appointment number, when it gave one
    std::string fillerSystem;
};

/// Sends an SRM for an Appointment to the HIS that owns its Slot and waits for the SRR,
/// synchronously (the caller holds the Slot meanwhile). Thread-safe: each call borrows an
/// idle MLLP connection of that HIS or opens one; a connection that failed is dropped.
class HisRequests {
  public:
    explicit HisRequests(std::vector<HisRequestsConfig> config);
    ~HisRequests();

    /// The HIS owning the Schedule; nullptr when it is the pool's own.
    const HisRequestsConfig* ownerOf(const std::string& scheduleId,
                                     const std::string& department) const;

    /// Maps `appointment` with the HIS's map (S01 for a new request: give it without
    /// meta.versionId; S04 when its status is cancelled), references read through `fhir`,
    /// sends it and reads the answer. `appointment` is not changed.
    HisAnswer request(const HisRequestsConfig& his, const rapidjson::Value& appointment,
                      const FhirCalls& fhir) const;

  private:
    struct Pool;
    const std::vector<HisRequestsConfig> config_;
    std::vector<std::unique_ptr<Pool>> pools_; // by index of config_
};

} // namespace hl7gw::booking
