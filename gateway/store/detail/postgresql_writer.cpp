#include "gateway/store/detail/columns.h"
#include "gateway/store/detail/schema.h"
#include "gateway/store/detail/writer.h"

#include <Poco/Data/Statement.h>

#include <algorithm>

namespace hl7gw::store::detail {

namespace {

using namespace Poco::Data::Keywords;
using Poco::Int64;
using Poco::Data::BLOB;
using Poco::Data::Statement;

/// POCO's PostgreSQL connector prepares a statement once (PQprepare) and re-executes it
/// (PQexecPrepared) with whatever its bound members hold, so each statement here is built
/// once with use()/into() on members, which the operations fill before execute().
class PostgresqlWriter final : public Writer {
public:
    explicit PostgresqlWriter(Poco::Data::Session session);

    void begin() override { begin_.execute(); }
    void commit() override { commit_.execute(); }
    bool tryRollback() noexcept override;
    ReceiveOutcome receive(const InboundRow& row) override;
    void route(const RoutingRow& row, Micros now) override;
    std::vector<ClaimedEntry> claim(const std::string& destination, const std::string& owner,
                                    std::size_t limit, Micros now, Micros leaseUntil) override;
    void markDelivered(MessageId entry, const std::string& response, Micros now) override;
    void markFailed(MessageId entry, const std::string& error, Micros now, Micros nextAttemptAt,
                    bool dead) override;
    bool replay(MessageId id, Micros now) override;
    PruneBatch pruneBatch(MessageId after, MessageId upTo, Micros before) override;

private:
    Statement prepare(const char* sql)
    {
        return Statement(session_) << adaptSql(Backend::Postgresql, sql);
    }

    Poco::Data::Session session_;
    Statement begin_;
    Statement commit_;
    Statement rollback_;

    Int64 inState_ = 0;
    Int64 inAt_ = 0;
    std::string inChannel_;
    std::string inPeer_;
    BLOB inSender_;
    BLOB inControlId_;
    std::string inType_;
    std::string inError_;
    BLOB inAck_;
    BLOB inRaw_;
    Int64 insertedId_ = 0;
    Statement insertInbound_;
    Int64 originalId_ = 0;
    Bytes originalAck_;
    Statement findOriginal_;

    Int64 routeState_ = 0;
    std::string routeError_;
    Int64 routeAt_ = 0;
    Int64 routeId_ = 0;
    Statement updateRouted_;
    BLOB entryControlId_;
    std::string entryType_;
    std::string entryDestination_;
    BLOB entryOrderKey_;
    BLOB entryPayload_;
    Statement insertEntry_;

    std::string claimOwner_;
    Int64 claimUntil_ = 0;
    std::string claimDestination_;
    Int64 claimNow_ = 0;
    Int64 claimLimit_ = 0;
    std::vector<ClaimedEntry> claimed_;
    Statement claim_;

    BLOB deliveredResponse_;
    Int64 deliveredAt_ = 0;
    Int64 deliveredId_ = 0;
    Statement markDelivered_;

    Int64 failedState_ = 0;
    std::string failedError_;
    Int64 failedAt_ = 0;
    Int64 failedNext_ = 0;
    Int64 failedId_ = 0;
    Statement markFailed_;

    Int64 replayAt_ = 0;
    Int64 replayId_ = 0;
    Statement replay_;

    Int64 pruneAfter_ = 0;
    Int64 pruneUpTo_ = 0;
    Int64 pruneBefore_ = 0;
    std::vector<Int64> pruneIds_;
    Statement prunable_;
};

PostgresqlWriter::PostgresqlWriter(Poco::Data::Session session)
    : session_(std::move(session)), begin_(prepare("BEGIN")), commit_(prepare("COMMIT")),
      rollback_(prepare("ROLLBACK")), insertInbound_(prepare(sql::InsertInbound)),
      findOriginal_(prepare(sql::FindOriginal)), updateRouted_(prepare(sql::UpdateRouted)),
      insertEntry_(prepare(sql::InsertEntry)), claim_(prepare(sql::Claim)),
      markDelivered_(prepare(sql::MarkDelivered)), markFailed_(prepare(sql::MarkFailed)),
      replay_(prepare(sql::Replay)), prunable_(prepare(sql::Prunable))
{
    insertInbound_, use(inState_), use(inAt_), use(inChannel_), use(inPeer_), use(inSender_),
        use(inControlId_), use(inType_), use(inError_), use(inAck_), use(inRaw_),
        into(insertedId_);
    findOriginal_, use(inSender_), use(inControlId_), into(originalId_), into(originalAck_);
    updateRouted_, use(routeState_), use(routeError_), use(routeAt_), use(routeId_);
    insertEntry_, use(routeAt_), use(entryControlId_), use(entryType_), use(entryDestination_),
        use(entryOrderKey_), use(entryPayload_), use(routeId_);
    claim_, use(claimOwner_), use(claimUntil_), use(claimDestination_), use(claimNow_),
        use(claimLimit_), into(claimed_);
    markDelivered_, use(deliveredResponse_), use(deliveredAt_), use(deliveredId_);
    markFailed_, use(failedState_), use(failedError_), use(failedAt_), use(failedNext_),
        use(failedId_);
    replay_, use(replayAt_), use(replayId_);
    prunable_, use(pruneAfter_), use(pruneUpTo_), use(pruneBefore_), into(pruneIds_);
}

bool PostgresqlWriter::tryRollback() noexcept
{
    try {
        rollback_.execute();
        return true;
    } catch (...) {
        return false;
    }
}

ReceiveOutcome PostgresqlWriter::receive(const InboundRow& row)
{
    inState_ = row.state;
    inAt_ = row.receivedAt;
    inChannel_ = row.channel;
    inPeer_ = row.peer;
    inSender_ = toBlob(row.sender);
    inControlId_ = toBlob(row.controlId);
    inType_ = row.type;
    inError_ = row.error;
    inAck_ = toBlob(row.ack);
    inRaw_ = toBlob(row.raw);
    ReceiveOutcome outcome;
    if (insertInbound_.execute() == 1) {
        outcome.id = insertedId_;
        outcome.ack = row.ack;
        return outcome;
    }
    originalAck_.value.clear();
    if (findOriginal_.execute() != 1) {
        throw StoreError("an inbound insert did nothing, yet there is no earlier message with "
                         "its sender and control id");
    }
    outcome.id = originalId_;
    outcome.duplicate = true;
    outcome.ack = std::move(originalAck_.value);
    return outcome;
}

void PostgresqlWriter::route(const RoutingRow& row, Micros now)
{
    routeState_ = row.state;
    routeError_ = row.error;
    routeAt_ = now;
    routeId_ = row.messageId;
    if (updateRouted_.execute() != 1) {
        return; // unknown, or no longer Received (routed elsewhere, or replayed meanwhile)
    }
    for (const EntryRow& entry : row.entries) {
        entryControlId_ = toBlob(entry.controlId);
        entryType_ = entry.type;
        entryDestination_ = entry.destination;
        entryOrderKey_ = toBlob(entry.orderKey);
        entryPayload_ = toBlob(entry.payload);
        insertEntry_.execute();
    }
}

std::vector<ClaimedEntry> PostgresqlWriter::claim(const std::string& destination,
                                                  const std::string& owner, std::size_t limit,
                                                  Micros now, Micros leaseUntil)
{
    claimOwner_ = owner;
    claimUntil_ = leaseUntil;
    claimDestination_ = destination;
    claimNow_ = now;
    claimLimit_ = static_cast<Int64>(limit);
    claimed_.clear();
    claim_.execute();
    std::vector<ClaimedEntry> entries = std::move(claimed_);
    claimed_.clear();
    std::sort(entries.begin(), entries.end(),
              [](const ClaimedEntry& a, const ClaimedEntry& b) { return a.id < b.id; });
    return entries;
}

void PostgresqlWriter::markDelivered(MessageId entry, const std::string& response, Micros now)
{
    deliveredResponse_ = toBlob(response);
    deliveredAt_ = now;
    deliveredId_ = entry;
    markDelivered_.execute();
}

void PostgresqlWriter::markFailed(MessageId entry, const std::string& error, Micros now,
                                  Micros nextAttemptAt, bool dead)
{
    failedState_ = stateCode(dead ? MessageState::Dead : MessageState::Queued);
    failedError_ = error;
    failedAt_ = now;
    failedNext_ = nextAttemptAt;
    failedId_ = entry;
    markFailed_.execute();
}

bool PostgresqlWriter::replay(MessageId id, Micros now)
{
    replayAt_ = now;
    replayId_ = id;
    return replay_.execute() == 1;
}

PruneBatch PostgresqlWriter::pruneBatch(MessageId after, MessageId upTo, Micros before)
{
    pruneAfter_ = after;
    pruneUpTo_ = upTo;
    pruneBefore_ = before;
    pruneIds_.clear();
    prunable_.execute();
    PruneBatch batch;
    if (pruneIds_.empty()) {
        return batch;
    }
    const std::vector<std::int64_t> ids(pruneIds_.begin(), pruneIds_.end());
    for (const std::string& text : {sql::deleteEntriesOf(ids), sql::deleteMessages(ids)}) {
        Statement deletion(session_);
        deletion << text;
        batch.rows += static_cast<std::int64_t>(deletion.execute());
    }
    batch.messages = ids.size();
    batch.lastMessage = ids.back();
    return batch;
}

} // namespace

WriterPtr makePostgresqlWriter(Poco::Data::Session session)
{
    return std::make_unique<PostgresqlWriter>(std::move(session));
}

} // namespace hl7gw::store::detail
