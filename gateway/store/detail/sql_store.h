#pragma once

#include "gateway/store/detail/group_commit.h"
#include "gateway/store/detail/resource_cache.h"
#include "gateway/store/detail/store_url.h"
#include "gateway/store/detail/wal_checkpointer.h"
#include "gateway/store/detail/writer.h"
#include "gateway/store/message_store.h"
#include "gateway/store/resource_store.h"

#include <Poco/Data/Session.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace hl7gw::store::detail {

/// MessageStore over POCO Data, for SQLite and PostgreSQL alike; the SQL differs only where
/// adaptSql() says.
///
/// Writes go through one GroupCommitter: a writer thread with its own connection and
/// prepared statements that commits each batch in one transaction. Reads use a small pool of
/// other connections (SQLite WAL lets them read while the writer writes).
class SqlMessageStore final : public MessageStore,
                              public ResourceStore,
                              private GroupCommitter::Target {
  public:
    /// Opens the writer connection and creates the schema when missing. Throws StoreError.
    SqlMessageStore(StoreUrl url, const StoreConfig& config);
    ~SqlMessageStore() override;

    ReceiveOutcome receive(const InboundMessage& message) override;
    std::optional<ReceiveOutcome> original(std::string_view sender,
                                           std::string_view controlId) override;
    std::vector<MessageRecord> pendingRouting(std::size_t limit) override;
    void commitRouting(const std::vector<RoutingResult>& results, Micros now) override;
    std::vector<ClaimedEntry> claim(std::string_view destination, std::string_view owner,
                                    std::size_t limit, Micros now, Micros leaseUntil) override;
    void markDelivered(MessageId entry, std::string_view response, Micros now) override;
    void markFailed(MessageId entry, std::string_view error, Micros now, Micros nextAttemptAt,
                    bool dead) override;
    std::optional<MessageRecord> find(MessageId id) override;
    std::vector<MessageRecord> list(const MessageQuery& query) override;
    std::int64_t count(const MessageQuery& query) override;
    std::vector<MessageRecord> deliveriesOf(MessageId parent) override;
    bool replay(MessageId id, Micros now) override;
    std::vector<DestinationDepth> queueDepths() override;
    std::int64_t prune(Micros before) override;
    void ping() override;
    std::string describe() const override;
    ResourceStore& resources() override { return *this; }

    // ResourceStore
    void ensureIndexSchema(const std::vector<std::string>& statements,
                           const std::vector<std::string>& tables) override;
    ChangeOutcome apply(const std::vector<ResourceChange>& changes,
                        const std::vector<OutboxMessage>& outbox, Settlement* settles) override;
    std::optional<StoredResource> current(const std::string& type, const std::string& id) override;
    std::optional<StoredResource> version(const std::string& type, const std::string& id,
                                          std::int64_t version) override;
    std::vector<StoredResource> byRid(const std::vector<std::int64_t>& rids) override;
    std::vector<HistoryEntry> history(const HistoryQuery& query) override;
    SqlRows query(const SqlQuery& query) override;
    bool isPostgresql() const override { return url_.backend == Backend::Postgresql; }

  private:
    class ReadLease;
    /// A reader connection and, once a generic statement ran on it, its SqlConnection
    /// (declared after the session: its prepared statements go before the connection does).
    struct Reader {
        explicit Reader(Poco::Data::Session s) : session(std::move(s)) {}
        SqlConnection& sql(Backend backend);
        Poco::Data::Session session;
        std::unique_ptr<SqlConnection> generic;
    };

    Poco::Data::Session connect() const;
    WriterPtr makeWriter(Poco::Data::Session session) const;
    [[noreturn]] void rethrowAsStoreError() const;

    // GroupCommitter::Target, on the committer's thread:
    void begin() override;
    void apply(WriteOp& op) override;
    void commit() override;
    void rollback() noexcept override;
    bool retryable(const Poco::Exception& error) const override;
    void isolate(bool on) noexcept override { isolated_ = on; }
    template <typename Fn> void write(Fn&& fn);
    template <typename Fn> auto read(Fn&& fn) -> decltype(fn(std::declval<Poco::Data::Session&>()));
    template <typename Fn> auto readSql(Fn&& fn) -> decltype(fn(std::declval<SqlConnection&>()));

    const StoreUrl url_;
    WriterPtr writer_; // used by the committer's thread only
    std::mutex readersMutex_;
    std::condition_variable readerFree_;
    std::vector<std::unique_ptr<Reader>> idleReaders_;
    std::size_t openReaders_ = 0;
    std::unique_ptr<ResourceCache> cache_; // SQLite only: no other process writes resources
    std::mutex indexTablesMutex_;
    bool isolated_ = false;                // the committer thread's: IsolationNeeded reruns
    std::vector<std::string> indexTables_; // the FHIR layer's, for resource writes
    std::unique_ptr<WalCheckpointer> checkpointer_; // SQLite only
    std::unique_ptr<GroupCommitter> committer_;     // last: its thread stops before the rest goes
};

} // namespace hl7gw::store::detail
