#pragma once

#include "gateway/fhir/rest/headers.h"
#include "gateway/fhir/rest/negotiation.h"
#include "gateway/fhir/rest/request_path.h"
#include "gateway/fhir/search/search_query.h"
#include "gateway/fhir/server/detail/search_runner.h"
#include "gateway/fhir/server/fhir_server.h"

#include <rapidjson/document.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace hl7gw::fhir::server {

/// What every interaction needs to know about its request.
struct Context {
    const FhirRequest& request;
    rest::RequestPath path;
    rest::Format format = rest::Format::Json;
    bool pretty = false;
    rest::Preferences prefer;
    std::string base; // absolute: "http://host:8080/fhir"
    store::Micros now = 0;
};

/// A write the server has checked and turned into a store change.
struct PreparedWrite {
    store::ResourceChange change;
    rapidjson::Document resource; // with id and meta set; null for a delete
};

/// The interactions of FhirServer (fhir_server.h), one method each. bundle_processor.cpp has
/// batch and transaction, capability.cpp the CapabilityStatement.
class Interactions {
  public:
    Interactions(FhirServerConfig config, store::ResourceStore& store, const core::Clock& clock,
                 OutboxHook outbox);

    FhirResponse handle(const FhirRequest& request);
    FhirResponse refuse(const FhirRequest& request, int status, std::string code, std::string text);
    const FhirServerConfig& config() const { return config_; }
    void addOperation(const std::string& type, const std::string& name, Operation operation);
    void addCommitObserver(CommitObserver observer) { observers_.push_back(std::move(observer)); }
    /// "Appointment/$book" ..., for the CapabilityStatement.
    std::vector<std::pair<std::string, std::string>> operationNames() const;

  private:
    /// Parses the target and negotiates the format; false (with the answer) when either fails.
    bool begin(Context& context, FhirResponse& refused);
    FhirResponse dispatch(Context& context);

    FhirResponse read(Context& context);
    FhirResponse vread(Context& context);
    FhirResponse create(Context& context);
    FhirResponse update(Context& context);
    FhirResponse conditionalUpdate(Context& context);
    FhirResponse patch(Context& context);
    FhirResponse remove(Context& context);
    FhirResponse history(Context& context);
    FhirResponse search(Context& context, const rest::QueryParams& params);
    FhirResponse bundle(Context& context);
    FhirResponse batch(Context& context, const rapidjson::Value& bundle);
    FhirResponse transaction(Context& context, rapidjson::Document& bundle);
    FhirResponse metadata(Context& context);
    FhirResponse operation(Context& context);

    // Shared steps.
    bool decodeBody(Context& context, rapidjson::Document& resource, FhirResponse& failure);
    /// Validates the resource as `type`/`id`, version expected+1, and makes the change.
    bool prepare(Context& context, rapidjson::Document& resource, const std::string& type,
                 const std::string& id, std::int64_t expectedVersion, const char* method,
                 PreparedWrite& write, core::IssueList& issues);
    /// Matches of a conditional interaction's criteria, at most 2; false with a failure.
    bool conditionalMatches(Context& context, const std::string& type,
                            const rest::QueryParams& params,
                            std::vector<store::StoredResource>& matches, FhirResponse& failure);
    search::SearchQuery parseQuery(Context& context, const std::string& type,
                                   const rest::QueryParams& params, core::IssueList& issues);
    FhirResponse writeResponse(Context& context, int status, const PreparedWrite& write);
    FhirResponse resourceResponse(Context& context, int status, const store::StoredResource& stored,
                                  const rest::QueryParams& shaping);
    FhirResponse respond(Context& context, int status, const rapidjson::Value& body);
    FhirResponse failure(Context& context, int status, std::string code, std::string text,
                         std::string path = {});
    FhirResponse failure(Context& context, const core::IssueList& issues, int status = 0);
    std::string newId();
    /// Commits the writes (and what the outbox hook queues for them) in one transaction.
    /// `settles`: a queue entry marked Delivered with the writes (FhirRequest::settles).
    /// Takes the writes' bodies and index rows (the response needs neither).
    store::ChangeOutcome commit(const std::vector<PreparedWrite*>& writes,
                                store::Settlement* settles = nullptr);

    const FhirServerConfig config_;
    store::ResourceStore& store_;
    const core::Clock& clock_;
    const OutboxHook outbox_;
    std::vector<CommitObserver> observers_; // registered before requests, read-only after
    SearchRunner runner_;
    std::once_flag schemaOnce_;

    /// Conditional writes (If-None-Exist, conditional update, and their transaction entries)
    /// search and then write: two concurrent requests with the same criteria would both find
    /// nothing and both create. Each criteria string maps to one of these stripes, held from
    /// the search to the commit, so on one node the second request sees the first's resource.
    /// Nodes sharing one PostgreSQL are not covered by it.
    class ConditionalLocks {
      public:
        /// Locks the stripes of `criteria` ("Type?query" each), in stripe order (no deadlock).
        std::vector<std::unique_lock<std::mutex>> lock(const std::vector<std::string>& criteria);

      private:
        static constexpr std::size_t Stripes = 64;
        std::mutex stripes_[Stripes];
    };
    ConditionalLocks conditionalLocks_;
    /// (type, name) -> the module's implementation; filled before serving, then read only.
    std::map<std::pair<std::string, std::string>, Operation> operations_;
};

/// The key conditional writes are serialised on: `Type?` and the query's decoded name=value
/// pairs, each followed by `&` (`_format` and `_pretty` left out).
std::string conditionalKey(const std::string& type, std::string_view query);

/// True when `prepared` (a PUT's resource after prepare()) says what the stored current
/// version says, meta.versionId and meta.lastUpdated aside: such an update writes nothing
/// (no new version, no outbox message), as FHIR lets a server do. Feeds that send the same
/// Practitioner or Location with every message would otherwise add a version each time.
bool sameContent(const rapidjson::Value& prepared, const store::StoredResource& stored);

/// Micros as a FHIR instant ("2026-12-01T19:23:36.123456Z").
std::string fhirInstant(store::Micros micros);

} // namespace hl7gw::fhir::server
