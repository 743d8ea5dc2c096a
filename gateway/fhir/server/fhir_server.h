#pragma once

#include "gateway/core/clock.h"
#include "gateway/store/resource_store.h"

#include <rapidjson/document.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hl7gw::fhir {

struct FhirServerConfig {
    std::string base = "/fhir"; // path prefix of every FHIR request target
    /// Absolute base for Location headers and fullUrls, e.g. "http://127.0.0.1:8080/fhir";
    /// empty: taken from each request's Host header.
    std::string publicBase;
    int offsetMinutes = 480; // server zone (dates without one), STANDARDS.md §1.4
    std::size_t defaultCount = 20;
    std::size_t maxCount = 500;
    std::size_t maxBodyBytes = 8 * 1024 * 1024;
    std::size_t maxBundleEntries = 1000;
    /// Updates and deletes of these types need If-Match (428 without): no lost update on
    /// bookings (STANDARDS.md §3.4).
    std::vector<std::string> requireIfMatch{"Appointment", "Slot"};
};

/// Ends the diagnostics of the 409 that refuses a second holder of a Slot (STANDARDS.md §3.6),
/// so that in-process writers (a channel's fhir_store) can tell it from a version race.
inline constexpr const char* SlotTaken = "a Slot it names is already held by another "
                                         "appointment (号源已被占用)";

/// The new versions of the resources one commit writes, for hooks that follow references
/// (an Appointment and the Patient created by the same transaction are not stored yet).
struct CommitView {
    std::vector<std::pair<std::string, const rapidjson::Value*>> resources; // "Type/id"
    /// The resource `reference` names ("Patient/12", or a full URL ending so); nullptr when
    /// this commit does not write it.
    const rapidjson::Value* find(std::string_view reference) const;
};

/// Called for every resource write, inside the request, before the commit: messages it
/// appends are queued in the same transaction as the write (the outbox), so that a booked
/// Appointment and the SIU^S12 for the HIS commit together or not at all. `resource` is the
/// new version (null for a delete); `commit` holds every resource of the same commit.
/// Must be thread-safe; must not throw for bad content (a message it cannot make is
/// appended with its `error` set, and kept as an error row); it may throw to fail the
/// request with 500.
using OutboxHook =
    std::function<void(const store::ResourceChange& change, const rapidjson::Value& resource,
                       const CommitView& commit, std::vector<store::OutboxMessage>& outbox)>;

/// Told after a commit is durable, with what it wrote: `changes` (versions are
/// expectedVersion + 1; a Delete has no resource) and the new versions in `commit`. For
/// in-memory views of the store (booking's free Slots) that must not run ahead of it, as an
/// OutboxHook, called before the commit, would. Called on the writing request's thread, so
/// two commits of one resource may be told out of order: compare versions. Must be
/// thread-safe and quick; must not throw.
using CommitObserver = std::function<void(const std::vector<store::ResourceChange>& changes,
                                          const CommitView& commit)>;

/// One HTTP request as the FHIR server sees it; header names in lower case.
struct FhirRequest {
    std::string method;
    std::string target; // path and query as sent: "/fhir/Patient/1?_format=xml"
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string host; // the Host header, for absolute links when publicBase is empty
    /// Set only by in-process writers (a channel's fhir_store) whose Bundles carry the
    /// sender's current state, e.g. an SIU^S13 from the HIS: an update of a requireIfMatch
    /// type without If-Match is checked against the version the server reads (a concurrent
    /// change is still a 409/412), instead of 428. Requests from HTTP never set it.
    bool ifMatchImplied = false;
    /// Set only by in-process writers: a transaction Bundle's changes commit together with
    /// this queue entry's Delivered mark (settles->applied tells whether they did; a Bundle
    /// that changes nothing, or a batch, leaves it to the caller). The caller owns it.
    store::Settlement* settles = nullptr;

    std::string_view header(std::string_view lowerName) const;
};

struct FhirResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers; // Content-Type included
    std::string body;
};

/// One call of a named operation (`POST /fhir/Appointment/$book`) that a module above the
/// server implements (booking). The server has parsed the target and the body.
struct OperationCall {
    const FhirRequest& request;
    std::string type; // "Appointment"; empty at system level
    std::string id;   // instance operations only
    std::string name; // without the '$'
    /// The body as JSON (a Parameters resource, XML converted); null when there is none.
    rapidjson::Document parameters;
    std::string base; // the absolute FHIR base, for references and links
};

/// What an operation answers: a status and a resource (Bundle, Parameters, OperationOutcome),
/// which the server writes in the format the request negotiated.
struct OperationResult {
    int status = 200;
    rapidjson::Document body;
};

/// Must be thread-safe; an exception becomes a 500 (a StoreError a 503).
using Operation = std::function<OperationResult(OperationCall& call)>;

/// The FHIR R4 REST server (STANDARDS.md §3.4–3.5) over the resource store: read, vread,
/// create (conditional), update (conditional, If-Match), patch, delete, history, search,
/// batch and transaction, metadata. Independent of the HTTP library: the console's HTTP
/// server hands each request under /fhir to handle(). Thread-safe.
class FhirServer {
  public:
    FhirServer(FhirServerConfig config, store::ResourceStore& store,
               const core::Clock& clock = core::SystemClock::instance(), OutboxHook outbox = {});
    ~FhirServer();
    FhirServer(const FhirServer&) = delete;
    FhirServer& operator=(const FhirServer&) = delete;

    /// Never throws: a store failure is a 503 OperationOutcome, anything unexpected a 500.
    FhirResponse handle(const FhirRequest& request);

    /// An OperationOutcome answer in the format the request asks for, for refusals made
    /// before handle() (a body over the HTTP server's limit).
    FhirResponse refuse(const FhirRequest& request, int status, std::string code, std::string text);

    const FhirServerConfig& config() const;

    /// Serves `POST [base]/TYPE/$NAME` (and `TYPE/[id]/$NAME`; `type` empty: `[base]/$NAME`)
    /// with `operation`. Call before the server takes requests; a second registration of the
    /// same name replaces the first. Also listed in the CapabilityStatement.
    void addOperation(const std::string& type, const std::string& name, Operation operation);

    /// Adds an observer of every commit. Call before the server takes requests.
    void addCommitObserver(CommitObserver observer);

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace hl7gw::fhir
