#include "gateway/store/detail/sql_store.h"

#include "gateway/store/detail/ack_codec.h"
#include "gateway/store/detail/columns.h"
#include "gateway/store/detail/resource_changes.h"
#include "gateway/store/detail/schema.h"
#include "gateway/store/detail/writer.h"

#include <Poco/Bugcheck.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Statement.h>
#include <Poco/String.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <system_error>
#include <unordered_map>

namespace hl7gw::store::detail {

using namespace Poco::Data::Keywords;
using Poco::Int64;
using Poco::Data::Session;
using Poco::Data::Statement;

namespace {

// FHIR reads are one short statement each: 16 connections keep both cores busy while a
// quarter of the HTTP server's threads (http.max_threads) read, and each costs a page cache.
constexpr std::size_t MaxReaders = 16;
// Current versions kept for reads by id (SQLite only, detail/resource_cache.h): some 20 MB
// of typical 2 KB resources.
constexpr std::size_t ResourceCacheEntries = 10000;
// How long a batch waits for the callers of the previous one to come back (GroupCommitter).
// A commit costs an fsync (150-300 us on the disks we measured), so waiting a fraction of
// that for seven more messages pays; a lone caller never waits.
constexpr std::chrono::microseconds GatherWindow{200};
constexpr int SqliteBusyTimeoutMs = 10000;
// The writer's page cache: the hot pages of the messages and the FHIR tables and their
// indexes, so that a write reads none of them back from the OS.
constexpr int SqliteWriterCacheKiB = 32 * 1024;
// WAL checkpoints run on their own thread (wal_checkpointer.h) this often; the writer's own
// automatic checkpoint, which lets the WAL start over, waits for this many frames (64 MiB of
// 8 KiB pages; SQLite's default is 1,000), and a WAL that starts over is cut back to 64 MiB.
constexpr std::chrono::milliseconds CheckpointInterval{200};
constexpr int WriterCheckpointFrames = 8192;
constexpr long long WalSizeLimitBytes = 64LL * 1024 * 1024;

const int Received = stateCode(MessageState::Received);
const int Queued = stateCode(MessageState::Queued);
const int Delivered = stateCode(MessageState::Delivered);
const int Dead = stateCode(MessageState::Dead);

std::string recordColumns(bool bodies)
{
    std::string columns =
        "m.id, m.parent_id, m.direction, m.state, m.received_at, m.updated_at, m.channel, "
        "m.peer, m.sender, m.control_id, m.type, m.error, m.destination, m.order_key, "
        "m.attempts, m.next_attempt_at, m.ack_format, ";
    columns += bodies ? "COALESCE(m.raw, (SELECT p.raw FROM messages p WHERE p.id = m.parent_id)), "
                        "m.ack"
                      : "NULL, NULL";
    return columns;
}

void execute(Session& session, const std::string& sql)
{
    Statement statement(session);
    statement << sql;
    statement.execute();
}

// Per-connection settings.
void configure(Session& session, Backend backend)
{
    if (backend == Backend::Sqlite) {
        execute(session, "PRAGMA busy_timeout = " + std::to_string(SqliteBusyTimeoutMs));
        // FULL: in WAL mode the WAL is fsync'd before COMMIT returns, so a committed receive
        // survives power loss (NORMAL would only survive a process crash).
        execute(session, "PRAGMA synchronous = FULL");
        // Statement journals and temporary B-trees in memory: a file for each was a write() of
        // every page a statement touched, on the one writer thread.
        execute(session, "PRAGMA temp_store = MEMORY");
        return;
    }
    routePostgresqlNotices(session);
    // IF NOT EXISTS and friends send NOTICEs; only warnings and worse are worth a log line.
    execute(session, "SET client_min_messages TO warning");
    // The server default is on, but a database or role setting could have turned it off;
    // a commit must be on disk (and on any synchronous standby) before we acknowledge.
    execute(session, "SET synchronous_commit TO on");
    execute(session, "SET bytea_output TO hex"); // what TypeHandler<Bytes> decodes
}

/// Values bound to a statement built at run time (list, count), in placeholder order. Deques
/// keep the addresses POCO's bindings point at stable.
class QueryParams {
  public:
    std::string add(Int64 value)
    {
        ints_.push_back(value);
        order_.push_back({false, ints_.size() - 1});
        return placeholder();
    }
    std::string add(std::string value)
    {
        texts_.push_back(std::move(value));
        order_.push_back({true, texts_.size() - 1});
        return placeholder();
    }
    void bindTo(Statement& statement)
    {
        for (const auto& [text, index] : order_) {
            if (text) {
                statement, use(texts_[index]);
            } else {
                statement, use(ints_[index]);
            }
        }
    }

  private:
    std::string placeholder() const { return "$" + std::to_string(order_.size()); }

    std::deque<Int64> ints_;
    std::deque<std::string> texts_;
    std::vector<std::pair<bool, std::size_t>> order_;
};

std::string whereClause(const MessageQuery& query, QueryParams& params)
{
    std::vector<std::string> terms;
    if (query.state) {
        terms.push_back("m.state = " + params.add(Int64(stateCode(*query.state))));
    }
    if (query.direction) {
        terms.push_back("m.direction = " + params.add(Int64(directionCode(*query.direction))));
    }
    if (query.type) {
        const std::string type = toText(*query.type);
        if (type.find('^') != std::string::npos) {
            terms.push_back("m.type = " + params.add(type));
        } else {
            // "ADT" matches "ADT" and every "ADT^...": '_' is the byte after '^', so the
            // range is exactly the strings that start with "ADT^", and it uses the index.
            std::string first = "(m.type = " + params.add(type);
            first += " OR (m.type >= " + params.add(type + "^");
            first += " AND m.type < " + params.add(type + "_") + "))";
            terms.push_back(first);
        }
    }
    if (query.channel) {
        terms.push_back("m.channel = " + params.add(toText(*query.channel)));
    }
    if (query.since) {
        terms.push_back("m.received_at >= " + params.add(Int64(*query.since)));
    }
    std::string where;
    for (const std::string& term : terms) {
        where += where.empty() ? " WHERE " : " AND ";
        where += term;
    }
    return where;
}

template <typename Fn> class LambdaOp final : public WriteOp {
  public:
    explicit LambdaOp(Fn& fn) : fn_(fn) {}
    void apply(Writer& writer) override { fn_(writer); }

  private:
    Fn& fn_;
};

} // namespace

/// A reader connection borrowed from the pool for one call. An SQLite connection is dropped
/// when the call failed (it may be the reason); a PostgreSQL one is kept and reconnected on
/// its next use, since POCO leaks the PGconn of a session it closes after a failure.
class SqlMessageStore::ReadLease {
  public:
    explicit ReadLease(SqlMessageStore& store) : store_(store)
    {
        std::unique_lock lock(store_.readersMutex_);
        store_.readerFree_.wait(lock, [this] {
            return !store_.idleReaders_.empty() || store_.openReaders_ < MaxReaders;
        });
        if (!store_.idleReaders_.empty()) {
            reader_ = std::move(store_.idleReaders_.back());
            store_.idleReaders_.pop_back();
            lock.unlock();
            if (store_.url_.backend == Backend::Postgresql) {
                try {
                    revivePostgresql(reader_->session);
                } catch (const StoreError& e) {
                    // Back to the pool as it is (a constructor that throws runs no destructor).
                    lock.lock();
                    store_.idleReaders_.push_back(std::move(reader_));
                    store_.readerFree_.notify_one();
                    throw StoreError(store_.url_.description + ": " + e.message());
                }
            }
            return;
        }
        ++store_.openReaders_;
        lock.unlock();
        try {
            reader_ = std::make_unique<Reader>(store_.connect());
        } catch (...) {
            lock.lock();
            --store_.openReaders_;
            store_.readerFree_.notify_one();
            throw;
        }
    }

    ~ReadLease()
    {
        std::lock_guard lock(store_.readersMutex_);
        if (reader_) {
            store_.idleReaders_.push_back(std::move(reader_));
        } else {
            --store_.openReaders_;
        }
        store_.readerFree_.notify_one();
    }

    ReadLease(const ReadLease&) = delete;
    ReadLease& operator=(const ReadLease&) = delete;

    Session& session() { return reader_->session; }
    SqlConnection& sql() { return reader_->sql(store_.url_.backend); }
    void discard()
    {
        if (store_.url_.backend == Backend::Sqlite) {
            reader_.reset();
        }
    }

  private:
    SqlMessageStore& store_;
    std::unique_ptr<Reader> reader_;
};

SqlMessageStore::SqlMessageStore(StoreUrl url, const StoreConfig& config) : url_(std::move(url))
{
    if (url_.backend == Backend::Sqlite) {
        cache_ = std::make_unique<ResourceCache>(ResourceCacheEntries);
        const std::filesystem::path parent = std::filesystem::path(url_.sqlitePath).parent_path();
        std::error_code error;
        if (!parent.empty()) {
            std::filesystem::create_directories(parent, error);
        }
        if (error) {
            throw StoreError("cannot create the directory " + parent.string() + " for " +
                             url_.description + ": " + error.message());
        }
    }
    Session session = connect();
    try {
        if (url_.backend == Backend::Sqlite) {
            execute(session, "PRAGMA page_size = " + std::to_string(config.sqlitePageSize));
            std::string mode;
            session << "PRAGMA journal_mode = WAL", into(mode), now;
            if (Poco::icompare(mode, "wal") != 0) {
                throw StoreError(url_.description +
                                 ": SQLite cannot use WAL mode here (journal "
                                 "mode is '" +
                                 mode + "'; a network file system?)");
            }
        }
        ensureSchema(session, url_.backend);
        writer_ = makeWriter(session);
        if (url_.backend == Backend::Sqlite) {
            checkpointer_ =
                std::make_unique<WalCheckpointer>([this] { return connect(); }, CheckpointInterval);
        }
    } catch (const StoreError&) {
        throw;
    } catch (const Poco::Exception& e) {
        throw StoreError(url_.description + ": " + e.displayText());
    }
    GroupCommitter::Target& target = *this;
    committer_ = std::make_unique<GroupCommitter>(target, config.maxBatch, GatherWindow);
}

SqlMessageStore::~SqlMessageStore()
{
    committer_.reset();
}

WriterPtr SqlMessageStore::makeWriter(Session session) const
{
    if (url_.backend == Backend::Sqlite) {
        // The writer touches the hot end of every index at each write; with SQLite's 2 MiB
        // default it reads them back from the OS page cache again and again.
        execute(session, "PRAGMA cache_size = -" + std::to_string(SqliteWriterCacheKiB));
        // Checkpoints are mostly the WalCheckpointer's, off this connection's commits.
        execute(session, "PRAGMA wal_autocheckpoint = " + std::to_string(WriterCheckpointFrames));
        execute(session, "PRAGMA journal_size_limit = " + std::to_string(WalSizeLimitBytes));
    }
    return url_.backend == Backend::Sqlite ? makeSqliteWriter(std::move(session))
                                           : makePostgresqlWriter(std::move(session));
}

Session SqlMessageStore::connect() const
{
    try {
        if (url_.backend == Backend::Postgresql) {
            probePostgresql(url_.connectString);
        }
        Session session = url_.backend == Backend::Sqlite
                              ? Session("SQLite", url_.sqlitePath)
                              : Session("PostgreSQL", url_.connectString);
        configure(session, url_.backend);
        return session;
    } catch (const StoreError& e) {
        // libpq's messages name host and port, never the password.
        throw StoreError("cannot open " + url_.description + ": " + e.message());
    } catch (const Poco::Exception& e) {
        throw StoreError("cannot open " + url_.description + ": " + e.displayText());
    }
}

void SqlMessageStore::rethrowAsStoreError() const
{
    try {
        throw;
    } catch (const StoreError&) {
        throw;
    } catch (const Poco::Exception& e) {
        throw StoreError(url_.description + ": " + e.displayText());
    }
}

void SqlMessageStore::begin()
{
    try {
        // A writer dropped after a failure reconnects here, so the store recovers by itself
        // once the database is back.
        if (!writer_) {
            writer_ = makeWriter(connect());
        }
        writer_->begin();
    } catch (const Poco::Exception&) {
        rethrowAsStoreError();
    }
}

void SqlMessageStore::apply(WriteOp& op)
{
    try {
        op.apply(*writer_);
    } catch (const Poco::Exception&) {
        rethrowAsStoreError();
    }
}

void SqlMessageStore::commit()
{
    try {
        writer_->commit();
    } catch (const Poco::Exception&) {
        rethrowAsStoreError();
    }
}

void SqlMessageStore::rollback() noexcept
{
    // A writer whose ROLLBACK fails has lost its connection; the next begin() opens another.
    if (writer_ && !writer_->tryRollback()) {
        writer_.reset();
    }
}

bool SqlMessageStore::retryable(const Poco::Exception& error) const
{
    // The writer puts the SQLSTATE into the message text: 40P01 deadlock_detected, 40001
    // serialization_failure (two nodes storing the same duplicates in opposite order can
    // deadlock; the retry then finds the other's rows).
    const std::string text = error.displayText();
    return url_.backend == Backend::Postgresql && (text.find("State: 40P01") != std::string::npos ||
                                                   text.find("State: 40001") != std::string::npos);
}

template <typename Fn> void SqlMessageStore::write(Fn&& fn)
{
    LambdaOp<std::remove_reference_t<Fn>> op(fn);
    committer_->submit(op);
}

SqlConnection& SqlMessageStore::Reader::sql(Backend backend)
{
    if (!generic) {
        generic =
            backend == Backend::Sqlite
                ? makeSqliteConnection(Poco::Data::SQLite::Utility::dbHandle(session))
                : makePostgresqlConnection(
                      dynamic_cast<Poco::Data::PostgreSQL::SessionImpl&>(*session.impl()).handle());
    }
    return *generic;
}

template <typename Fn>
auto SqlMessageStore::readSql(Fn&& fn) -> decltype(fn(std::declval<SqlConnection&>()))
{
    ReadLease lease(*this);
    try {
        return fn(lease.sql());
    } catch (const StoreError&) {
        lease.discard();
        throw;
    } catch (const Poco::Exception& e) {
        lease.discard();
        throw StoreError(url_.description + ": " + e.displayText());
    }
}

template <typename Fn> auto SqlMessageStore::read(Fn&& fn) -> decltype(fn(std::declval<Session&>()))
{
    ReadLease lease(*this);
    try {
        return fn(lease.session());
    } catch (const StoreError&) {
        lease.discard();
        throw;
    } catch (const Poco::Exception& e) {
        lease.discard();
        throw StoreError(url_.description + ": " + e.displayText());
    }
}

ReceiveOutcome SqlMessageStore::receive(const InboundMessage& message)
{
    poco_assert_msg(message.state == MessageState::Received ||
                        message.state == MessageState::Rejected,
                    "receive() takes Received or Rejected messages");
    // Converted here, on the caller's thread, so the writer thread only executes.
    InboundRow row;
    row.state = stateCode(message.state);
    row.receivedAt = message.receivedAt;
    row.channel = toText(message.channel);
    row.peer = toText(message.peer);
    row.type = toText(message.type);
    row.error = toText(message.error);
    row.sender = message.sender;
    row.controlId = message.controlId;
    EncodedAck ack = encodeAck(message.ack, message.raw);
    row.ackFormat = static_cast<std::int64_t>(ack.format);
    row.ack = std::move(ack.bytes);
    row.raw = message.raw;
    // Routed on arrival: the state and the queue entries go into the insert's transaction
    // (outbox), so a stored message never waits for a second commit to be routed.
    RoutingRow routing;
    const bool routed = message.routed && message.state == MessageState::Received;
    // A rejected message may still queue an entry: its application ACK (enhanced mode).
    const bool replies = message.state == MessageState::Rejected && !message.entries.empty();
    if (routed) {
        poco_assert_msg(message.routedState == MessageState::Processed ||
                            message.routedState == MessageState::Filtered ||
                            message.routedState == MessageState::Error,
                        "a routing result is Processed, Filtered or Error");
        routing.state = stateCode(message.routedState);
        routing.error = toText(message.routedError);
    }
    if (routed || replies) {
        for (const OutboundEntry& entry : message.entries) {
            routing.entries.push_back({toText(entry.destination), toText(entry.type),
                                       entry.orderKey, entry.controlId, entry.payload,
                                       entry.delivered ? Delivered : Queued, entry.response});
        }
    }
    ReceiveOutcome outcome;
    write([&](Writer& writer) {
        outcome = writer.receive(row);
        if (routed && !outcome.duplicate) {
            routing.messageId = outcome.id;
            writer.route(routing, message.receivedAt);
        } else if (replies && !outcome.duplicate) {
            routing.messageId = outcome.id;
            writer.queue(routing, message.receivedAt);
        }
    });
    if (!outcome.duplicate) {
        outcome.ack = message.ack;
    }
    return outcome;
}

std::optional<ReceiveOutcome> SqlMessageStore::original(std::string_view sender,
                                                        std::string_view controlId)
{
    if (controlId.empty()) {
        return std::nullopt;
    }
    // The columns receive() keys duplicates on (index messages_dedupe), as bytes.
    SqlRows rows = readSql([&](SqlConnection& sql) {
        return sql.query("SELECT id FROM messages WHERE sender = $1 AND control_id = $2 "
                         "AND direction = 0",
                         {SqlBlob{std::string(sender)}, SqlBlob{std::string(controlId)}});
    });
    if (rows.empty() || !rows.front().at(0)) {
        return std::nullopt;
    }
    const std::optional<MessageRecord> record = find(std::stoll(*rows.front().at(0)));
    if (!record) {
        return std::nullopt; // pruned in between
    }
    ReceiveOutcome outcome;
    outcome.id = record->id;
    outcome.duplicate = true;
    outcome.ack = record->ack;
    return outcome;
}

std::vector<MessageRecord> SqlMessageStore::pendingRouting(std::size_t limit)
{
    if (limit == 0) {
        return {};
    }
    return read([&](Session& session) {
        std::vector<MessageRecord> records;
        Int64 state = Received;
        Int64 max = static_cast<Int64>(limit);
        session << "SELECT " + recordColumns(true) +
                       " FROM messages m WHERE m.state = $1 ORDER BY m.id LIMIT $2",
            use(state), use(max), into(records), now;
        return records;
    });
}

void SqlMessageStore::commitRouting(const std::vector<RoutingResult>& results, Micros now)
{
    if (results.empty()) {
        return;
    }
    std::vector<RoutingRow> rows;
    rows.reserve(results.size());
    for (const RoutingResult& result : results) {
        poco_assert_msg(result.state == MessageState::Processed ||
                            result.state == MessageState::Filtered ||
                            result.state == MessageState::Error,
                        "a routing result is Processed, Filtered or Error");
        poco_assert_msg(result.entries.empty() || result.state == MessageState::Processed,
                        "only a Processed message has queue entries");
        RoutingRow row;
        row.messageId = result.messageId;
        row.state = stateCode(result.state);
        row.error = toText(result.error);
        for (const OutboundEntry& entry : result.entries) {
            // Routing after receipt (replay, recovery) always queues: at_receipt is receipt's.
            row.entries.push_back({toText(entry.destination),
                                   toText(entry.type),
                                   entry.orderKey,
                                   entry.controlId,
                                   entry.payload,
                                   Queued,
                                   {}});
        }
        rows.push_back(std::move(row));
    }
    write([&](Writer& writer) {
        for (const RoutingRow& row : rows) {
            writer.route(row, now);
        }
    });
}

std::vector<ClaimedEntry> SqlMessageStore::claim(std::string_view destination,
                                                 std::string_view owner, std::size_t limit,
                                                 Micros now, Micros leaseUntil)
{
    if (limit == 0) {
        return {};
    }
    const std::string destinationText = toText(destination);
    const std::string ownerText = toText(owner);
    std::vector<ClaimedEntry> entries;
    write([&](Writer& writer) {
        entries = writer.claim(destinationText, ownerText, limit, now, leaseUntil);
    });
    return entries;
}

void SqlMessageStore::markDelivered(MessageId entry, std::string_view response, Micros now)
{
    const std::string bytes(response);
    write([&](Writer& writer) { writer.markDelivered(entry, bytes, now); });
}

void SqlMessageStore::markFailed(MessageId entry, std::string_view error, Micros now,
                                 Micros nextAttemptAt, bool dead)
{
    const std::string text = toText(error);
    write([&](Writer& writer) { writer.markFailed(entry, text, now, nextAttemptAt, dead); });
}

std::optional<MessageRecord> SqlMessageStore::find(MessageId id)
{
    std::vector<MessageRecord> records = read([&](Session& session) {
        std::vector<MessageRecord> found;
        Int64 key = id;
        session << "SELECT " + recordColumns(true) + " FROM messages m WHERE m.id = $1", use(key),
            into(found), now;
        return found;
    });
    if (records.empty()) {
        return std::nullopt;
    }
    return std::move(records.front());
}

std::vector<MessageRecord> SqlMessageStore::list(const MessageQuery& query)
{
    return read([&](Session& session) {
        QueryParams params;
        std::string sql = "SELECT " + recordColumns(query.withBodies) + " FROM messages m" +
                          whereClause(query, params) + " ORDER BY m.id DESC";
        if (query.limit != 0) {
            sql += " LIMIT " + std::to_string(query.limit);
        }
        std::vector<MessageRecord> records;
        Statement statement(session);
        statement << sql;
        params.bindTo(statement);
        statement, into(records);
        statement.execute();
        return records;
    });
}

std::int64_t SqlMessageStore::count(const MessageQuery& query)
{
    return read([&](Session& session) {
        QueryParams params;
        const std::string sql = "SELECT COUNT(*) FROM messages m" + whereClause(query, params);
        Int64 total = 0;
        Statement statement(session);
        statement << sql;
        params.bindTo(statement);
        statement, into(total);
        statement.execute();
        return static_cast<std::int64_t>(total);
    });
}

std::vector<MessageRecord> SqlMessageStore::deliveriesOf(MessageId parent)
{
    return read([&](Session& session) {
        std::vector<MessageRecord> records;
        Int64 key = parent;
        session << "SELECT " + recordColumns(true) +
                       " FROM messages m WHERE m.parent_id = $1 AND m.direction = 1 "
                       "ORDER BY m.id",
            use(key), into(records), now;
        return records;
    });
}

bool SqlMessageStore::replay(MessageId id, Micros now)
{
    bool found = false;
    write([&](Writer& writer) { found = writer.replay(id, now); });
    return found;
}

std::vector<DestinationDepth> SqlMessageStore::queueDepths()
{
    return read([&](Session& session) {
        std::vector<DestinationDepth> depths;
        Int64 queued = Queued;
        Int64 dead = Dead;
        session << "SELECT destination, "
                   "SUM(CASE WHEN state = $1 THEN 1 ELSE 0 END), "
                   "MIN(CASE WHEN state = $1 THEN received_at END), "
                   "SUM(CASE WHEN state = $2 THEN 1 ELSE 0 END) "
                   "FROM messages WHERE state IN ($1, $2) GROUP BY destination "
                   "ORDER BY destination",
            use(queued), use(dead), into(depths), now;
        return depths;
    });
}

std::int64_t SqlMessageStore::prune(Micros before)
{
    // Batches run through the writer like any write, each in its own commit, so a large
    // prune never holds the write lock for long and receive() keeps its latency.
    const MessageId upTo = read([&](Session& session) {
        Int64 max = 0;
        Int64 limit = before;
        session << "SELECT COALESCE(MAX(id), 0) FROM messages WHERE received_at < $1 "
                   "AND direction = 0",
            use(limit), into(max), now;
        return static_cast<MessageId>(max);
    });
    std::int64_t deleted = 0;
    MessageId after = 0;
    while (after < upTo) {
        PruneBatch batch;
        write([&](Writer& writer) { batch = writer.pruneBatch(after, upTo, before); });
        deleted += batch.rows;
        if (batch.messages < PruneBatchRows) {
            break;
        }
        after = batch.lastMessage;
    }
    return deleted;
}

void SqlMessageStore::ping()
{
    read([&](Session& session) {
        Int64 one = 0;
        session << "SELECT 1", into(one), now;
        if (one != 1) {
            throw StoreError(url_.description + ": SELECT 1 did not answer 1");
        }
        return 0;
    });
}

std::string SqlMessageStore::describe() const
{
    return url_.description;
}

// --- FHIR resources ---

namespace {

constexpr const char* ResourceColumns =
    "c.rid, c.type, c.id, v.version, v.last_updated, v.deleted, v.body";

std::int64_t integerAt(const SqlRow& row, std::size_t column)
{
    return row.at(column) ? std::stoll(*row[column]) : 0;
}

// A row of ResourceColumns.
StoredResource resourceFrom(SqlRow& row)
{
    StoredResource resource;
    resource.rid = integerAt(row, 0);
    resource.type = row.at(1).value_or("");
    resource.id = row.at(2).value_or("");
    resource.version = integerAt(row, 3);
    resource.lastUpdated = integerAt(row, 4);
    resource.deleted = integerAt(row, 5) != 0;
    resource.body = std::move(row.at(6)).value_or("");
    return resource;
}

} // namespace

void SqlMessageStore::ensureIndexSchema(const std::vector<std::string>& statements,
                                        const std::vector<std::string>& tables)
{
    write([&](Writer& writer) {
        for (const std::string& statement : statements) {
            writer.sql().execute(statement, {});
        }
    });
    std::lock_guard lock(indexTablesMutex_);
    for (const std::string& table : tables) {
        if (std::find(indexTables_.begin(), indexTables_.end(), table) == indexTables_.end()) {
            indexTables_.push_back(table);
        }
    }
}

ChangeOutcome SqlMessageStore::apply(const std::vector<ResourceChange>& changes,
                                     const std::vector<OutboxMessage>& outbox, Settlement* settles)
{
    std::vector<std::string> tables;
    {
        std::lock_guard lock(indexTablesMutex_);
        tables = indexTables_;
    }
    const Micros now = changes.empty() ? 0 : changes.front().at;
    ChangeOutcome outcome;
    // After the commit (or its failure), whatever the outcome: a read that began before it
    // must not leave the old version cached (ResourceCache).
    struct Forget {
        ResourceCache* cache;
        const std::vector<ResourceChange>& changes;
        ~Forget()
        {
            if (cache != nullptr) {
                for (const ResourceChange& change : changes) {
                    cache->forget(change.type, change.id);
                }
            }
        }
    } forget{cache_.get(), changes};
    write([&](Writer& writer) {
        outcome = applyResourceChanges(writer.sql(), url_.backend, changes, outbox, tables, now,
                                       isolated_);
        if (settles != nullptr && outcome.status == ChangeOutcome::Status::Applied) {
            writer.markDelivered(settles->entry, settles->response, now);
        }
    });
    if (settles != nullptr) {
        settles->applied = outcome.status == ChangeOutcome::Status::Applied;
    }
    return outcome;
}

std::optional<StoredResource> SqlMessageStore::current(const std::string& type,
                                                       const std::string& id)
{
    const std::uint64_t epoch = cache_ ? cache_->epoch() : 0;
    if (cache_) {
        if (auto cached = cache_->find(type, id)) {
            return cached;
        }
    }
    auto found = readSql([&](SqlConnection& sql) -> std::optional<StoredResource> {
        SqlRows rows = sql.query(std::string("SELECT ") + ResourceColumns +
                                     " FROM fhir_current c JOIN fhir_versions v ON v.seq = c.seq "
                                     "WHERE c.type = $1 AND c.id = $2",
                                 {type, id});
        if (rows.empty()) {
            return std::nullopt;
        }
        return resourceFrom(rows.front());
    });
    if (cache_ && found) {
        cache_->fill(*found, epoch);
    }
    return found;
}

std::optional<StoredResource> SqlMessageStore::version(const std::string& type,
                                                       const std::string& id, std::int64_t version)
{
    return readSql([&](SqlConnection& sql) -> std::optional<StoredResource> {
        SqlRows rows = sql.query(std::string("SELECT ") + ResourceColumns +
                                     " FROM fhir_current c JOIN fhir_versions v ON v.rid = c.rid "
                                     "WHERE c.type = $1 AND c.id = $2 AND v.version = $3",
                                 {type, id, version});
        if (rows.empty()) {
            return std::nullopt;
        }
        return resourceFrom(rows.front());
    });
}

std::vector<StoredResource> SqlMessageStore::byRid(const std::vector<std::int64_t>& rids)
{
    std::vector<StoredResource> resources;
    if (rids.empty()) {
        return resources;
    }
    // Integer literals: one statement per page, not per resource.
    std::string list;
    for (std::int64_t rid : rids) {
        list += (list.empty() ? "" : ", ") + std::to_string(rid);
    }
    SqlRows rows = readSql([&](SqlConnection& sql) {
        return sql.query(std::string("SELECT ") + ResourceColumns +
                             " FROM fhir_current c JOIN fhir_versions v ON v.seq = c.seq "
                             "WHERE c.rid IN (" +
                             list + ") AND c.deleted = 0",
                         {});
    });
    std::unordered_map<std::int64_t, StoredResource> found;
    for (SqlRow& row : rows) {
        StoredResource resource = resourceFrom(row);
        found.emplace(resource.rid, std::move(resource));
    }
    for (std::int64_t rid : rids) {
        auto it = found.find(rid);
        if (it != found.end()) {
            resources.push_back(std::move(it->second));
            found.erase(it);
        }
    }
    return resources;
}

std::vector<HistoryEntry> SqlMessageStore::history(const HistoryQuery& query)
{
    std::string sql = "SELECT v.rid, v.type, v.id, v.version, v.last_updated, v.deleted, v.body, "
                      "v.seq, v.method FROM fhir_versions v WHERE v.last_updated >= $1";
    std::vector<SqlValue> params{query.since};
    if (query.type && query.id) {
        // By rid, so that fhir_versions_key finds the versions.
        params.emplace_back(*query.type);
        params.emplace_back(*query.id);
        sql += " AND v.rid = (SELECT rid FROM fhir_current WHERE type = $2 AND id = $3)";
    } else if (query.type) {
        params.emplace_back(*query.type);
        sql += " AND v.type = $2";
    }
    if (query.beforeSeq > 0) {
        params.emplace_back(query.beforeSeq);
        sql += " AND v.seq < $" + std::to_string(params.size());
    }
    sql += " ORDER BY v.seq DESC LIMIT " + std::to_string(query.limit);
    SqlRows rows =
        readSql([&](SqlConnection& connection) { return connection.query(sql, params); });
    std::vector<HistoryEntry> entries;
    entries.reserve(rows.size());
    for (SqlRow& row : rows) {
        HistoryEntry entry;
        entry.seq = integerAt(row, 7);
        entry.method = row.at(8).value_or("");
        entry.resource = resourceFrom(row);
        entries.push_back(std::move(entry));
    }
    return entries;
}

SqlRows SqlMessageStore::query(const SqlQuery& query)
{
    return readSql([&](SqlConnection& sql) { return sql.query(query.text, query.params); });
}

} // namespace hl7gw::store::detail
