#include "gateway/booking/his_requests.h"

#include "gateway/booking/fhir_json.h"
#include "gateway/hl7v2/ack_builder.h"
#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/path.h"
#include "gateway/hl7v2/text_decoder.h"
#include "gateway/mapping/dialect.h"
#include "gateway/mapping/fhir_to_v2.h"
#include "gateway/mapping/map_set.h"
#include "gateway/routing/destinations.h"
#include "gateway/routing/mapping_transform.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <algorithm>
#include <deque>

namespace hl7gw::booking {

using namespace json;

namespace {

constexpr std::size_t IdleConnections = 4;

Poco::Logger& logger()
{
    static Poco::Logger& l = Poco::Logger::get("hl7gw.booking.his_requests");
    return l;
}

HisRequestsConfig readOne(core::ConfigReader& config, const std::string& baseDirectory)
{
    HisRequestsConfig his;
    his.name = config.requiredString("name");
    his.schedules = config.strings("schedules");
    his.departments = config.strings("departments");
    if (his.schedules.empty() && his.departments.empty()) {
        config.fail("schedules", "name the HIS's Schedules (ids) or departments (codes)");
    }
    std::string to = config.requiredString("to");
    bool secure = false;
    if (to.rfind("mllps://", 0) == 0) {
        secure = true;
        to = to.substr(8);
    } else if (to.rfind("mllp://", 0) == 0) {
        to = to.substr(7);
    }
    try {
        his.client.to = transport::Endpoint::parse(to);
    } catch (const core::ConfigError& e) {
        config.fail("to", e.message());
    }
    his.client.tls = routing::readTls(config);
    if (secure && !his.client.tls) {
        his.client.tls = transport::TlsConfig{}; // the system CAs
    }
    his.client.connectTimeoutMs = static_cast<int>(
        config.integer("connect_timeout_ms", his.client.connectTimeoutMs, 1, 600'000));
    // The FHIR client waits while the HIS decides: seconds, not the queue's half minute.
    his.client.ackTimeoutMs =
        static_cast<int>(config.integer("answer_timeout_ms", 10'000, 1, 600'000));
    const std::string mappingName = config.string("mapping", "appointment-srm");
    if (!config.has("dialect")) {
        config.fail("dialect", "name the HIS's dialect (adapters/*/dialect.json), e.g. "
                               "his-requests: its identifier systems, charset and version");
    }
    routing::LoadedMaps loaded = routing::loadMaps(config, baseDirectory, nullptr);
    his.map = loaded.maps->outboundMap(mappingName);
    if (his.map == nullptr) {
        config.fail("mapping", "no outbound map '" + mappingName + "' in " + loaded.mappingsDir +
                                   " (mappings/fhir-to-v2/*.map)");
    }
    his.maps = std::move(loaded.maps);
    his.dialect = std::move(loaded.dialect);
    return his;
}

std::string decoded(const hl7v2::Message& message, const char* path)
{
    const std::optional<hl7v2::Path> parsed = hl7v2::Path::parse(path);
    if (!parsed) {
        return {};
    }
    const hl7v2::Element element = parsed->resolve(message);
    if (!element.present()) {
        return {};
    }
    hl7v2::TextDecoder decoder;
    return std::string(decoder.decode(element));
}

// "Patient/12" of "Patient/12", "http://host/fhir/Patient/12/_history/3"; empty for what
// names nothing in the store (urn:uuid:, a bare id).
std::string typeAndId(std::string_view reference)
{
    if (const auto history = reference.find("/_history/"); history != std::string_view::npos) {
        reference = reference.substr(0, history);
    }
    const auto slash = reference.rfind('/');
    if (reference.rfind("urn:", 0) == 0 || slash == std::string_view::npos || slash == 0 ||
        slash + 1 == reference.size()) {
        return {};
    }
    const auto before = reference.rfind('/', slash - 1);
    return std::string(reference.substr(before == std::string_view::npos ? 0 : before + 1));
}

} // namespace

bool HisRequestsConfig::owns(const std::string& scheduleId, const std::string& department) const
{
    return std::find(schedules.begin(), schedules.end(), scheduleId) != schedules.end() ||
           (!department.empty() &&
            std::find(departments.begin(), departments.end(), department) != departments.end());
}

std::vector<HisRequestsConfig> readHisRequests(core::ConfigReader& booking,
                                               const std::string& baseDirectory)
{
    std::vector<HisRequestsConfig> out;
    const rapidjson::Value* list = booking.array("his_requests");
    if (list == nullptr) {
        return out;
    }
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
        core::ConfigReader item = booking.element(*list, "his_requests", i);
        out.push_back(readOne(item, baseDirectory));
        item.finish();
    }
    return out;
}

struct HisRequests::Pool {
    std::mutex mutex;
    std::vector<std::unique_ptr<transport::MllpClient>> idle;
};

HisRequests::HisRequests(std::vector<HisRequestsConfig> config) : config_(std::move(config))
{
    for (std::size_t i = 0; i < config_.size(); ++i) {
        pools_.push_back(std::make_unique<Pool>());
    }
}

HisRequests::~HisRequests() = default;

const HisRequestsConfig* HisRequests::ownerOf(const std::string& scheduleId,
                                              const std::string& department) const
{
    for (const HisRequestsConfig& his : config_) {
        if (his.owns(scheduleId, department)) {
            return &his;
        }
    }
    return nullptr;
}

HisAnswer HisRequests::request(const HisRequestsConfig& his, const rapidjson::Value& appointment,
                               const FhirCalls& fhir) const
{
    HisAnswer answer;
    // References are followed into the store; the documents live as long as this call.
    std::deque<FhirReply> read;
    mapping::FhirToV2::Options options;
    options.forced = his.map;
    options.resolver = [&](std::string_view reference) -> const rapidjson::Value* {
        const std::string target = typeAndId(reference);
        if (target.empty()) {
            return nullptr;
        }
        FhirReply& reply = read.emplace_back(fhir.get(target));
        return reply.ok() && reply.body.IsObject() ? &reply.body : nullptr;
    };
    std::string er7;
    core::IssueList issues;
    mapping::FhirToV2 engine(his.maps, *his.dialect);
    if (!engine.map(appointment, er7, issues, options)) {
        answer.outcome = HisAnswer::Outcome::Unusable;
        answer.text = "the request for the HIS cannot be made";
        for (const core::Issue& issue : issues) {
            if (issue.severity == core::Severity::Error ||
                issue.severity == core::Severity::Fatal) {
                answer.text += ": " + issue.location.toString() + " " + issue.text;
                break;
            }
        }
        return answer;
    }
    const hl7v2::Charset* charset = hl7v2::Charset::fromHl7Name(his.dialect->charset);
    const hl7v2::Er7Parser parser(
        hl7v2::ParseOptions{charset != nullptr ? charset : &hl7v2::Charset::utf8()});
    hl7v2::Message sent;
    core::IssueList sentIssues;
    parser.parse(er7, sent, sentIssues);
    const std::string controlId = decoded(sent, "MSH-10");
    const std::string event = decoded(sent, "MSH-9.2");

    Pool& pool = *pools_[static_cast<std::size_t>(&his - config_.data())];
    std::unique_ptr<transport::MllpClient> client;
    {
        std::lock_guard lock(pool.mutex);
        if (!pool.idle.empty()) {
            client = std::move(pool.idle.back());
            pool.idle.pop_back();
        }
    }
    if (!client) {
        client = std::make_unique<transport::MllpClient>(his.client);
    }
    std::string bytes;
    try {
        bytes = client->exchange(er7);
    } catch (const Poco::Exception& e) {
        logger().warning("%s: SRM^%s %s: no answer: %s", his.name, event, controlId,
                         e.displayText());
        answer.outcome = HisAnswer::Outcome::NoAnswer;
        answer.text = "the HIS " + his.name + " did not answer within " +
                      std::to_string(his.client.ackTimeoutMs) + " ms (" + e.displayText() + ")";
        return answer;
    }
    {
        std::lock_guard lock(pool.mutex);
        if (pool.idle.size() < IdleConnections) {
            pool.idle.push_back(std::move(client));
        }
    }

    hl7v2::Message srr;
    core::IssueList srrIssues;
    const std::optional<hl7v2::SegmentView> msa =
        parser.parse(bytes, srr, srrIssues) ? srr.findSegment("MSA") : std::nullopt;
    if (!msa) {
        answer.outcome = HisAnswer::Outcome::Unusable;
        answer.text = "the HIS " + his.name + " answered with no MSA segment";
        return answer;
    }
    const std::optional<hl7v2::AckCode> code = hl7v2::parseAckCode(msa->field(1).raw());
    if (!code) {
        answer.outcome = HisAnswer::Outcome::Unusable;
        answer.text = "the HIS " + his.name + " answered MSA-1 that is no acknowledgment code";
        return answer;
    }
    if (decoded(srr, "MSA-2") != controlId) {
        answer.outcome = HisAnswer::Outcome::Unusable;
        answer.text =
            "the HIS " + his.name + " answered another request (MSA-2 is not " + controlId + ")";
        return answer;
    }
    for (const char* path : {"ERR-8", "ERR-3.2", "ERR-1.4.2", "MSA-3"}) {
        if (std::string text = decoded(srr, path); !text.empty() && text != "\"\"") {
            answer.text = std::move(text);
            break;
        }
    }
    answer.fillerValue = decoded(srr, "SCH-2.1");
    if (!answer.fillerValue.empty()) {
        answer.fillerSystem = his.dialect->identifierSystem(
            decoded(srr, "SCH-2.2"), decoded(srr, "SCH-2.3"), decoded(srr, "SCH-2.4"));
    }
    const std::string status = decoded(srr, "SCH-25.1");
    const bool accepted =
        *code == hl7v2::AckCode::ApplicationAccept || *code == hl7v2::AckCode::CommitAccept;
    if (!accepted) {
        answer.outcome = HisAnswer::Outcome::Refused;
        const std::string text = answer.text;
        answer.text = "MSA-1 " + std::string(hl7v2::toString(*code)) +
                      (text.empty() ? std::string() : ": " + text);
    } else if (event == "S01" && status != "Booked") {
        // STANDARDS.md §4.5: only SCH-25 Booked books; Pending or Waitlist is not a booking.
        answer.outcome = HisAnswer::Outcome::Refused;
        answer.text = "the HIS did not book it (SCH-25 " + (status.empty() ? "empty" : status) +
                      ")" + (answer.text.empty() ? std::string() : ": " + answer.text);
    } else {
        answer.outcome = HisAnswer::Outcome::Accepted;
    }
    logger().debug("%s: SRM^%s %s answered %s", his.name, event, controlId,
                   std::string(hl7v2::toString(*code)));
    return answer;
}

} // namespace hl7gw::booking
