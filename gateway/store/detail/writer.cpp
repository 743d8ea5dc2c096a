#include "gateway/store/detail/writer.h"

#include "gateway/store/detail/ack_codec.h"

namespace hl7gw::store::detail::sql {

// ON CONFLICT DO NOTHING is the dedupe. On PostgreSQL it waits for a concurrent insert of the
// same key by another node and does nothing if that one commits, so two nodes never both
// store one message; within one batch, the second copy conflicts with the first. No row back
// means a duplicate.
const char* const InsertInbound =
    "INSERT INTO messages (direction, state, received_at, updated_at, channel, peer, sender, "
    "control_id, type, error, ack, raw, ack_format) VALUES (0, $1, $2, $2, $3, $4, "
    "COALESCE($5, {EMPTY_BLOB}), COALESCE($6, {EMPTY_BLOB}), $7, $8, "
    "COALESCE($9, {EMPTY_BLOB}), COALESCE($10, {EMPTY_BLOB}), $11) "
    "ON CONFLICT (sender, control_id) WHERE direction = 0 AND length(control_id) > 0 "
    "DO NOTHING RETURNING id";

const char* const FindOriginal = "SELECT id, ack, ack_format, substr(raw, 1, 512) FROM messages "
                                 "WHERE sender = COALESCE($1, {EMPTY_BLOB}) AND control_id = $2 "
                                 "AND direction = 0 AND length(control_id) > 0";

// Only a message still Received is routed: when two nodes route the same message, the second
// finds it Processed (PostgreSQL re-checks the row once the first commits) and queues nothing.
const char* const UpdateRouted = "UPDATE messages SET state = $1, error = $2, updated_at = $3 "
                                 "WHERE id = $4 AND direction = 0 AND state = 0";

// A payload equal to the inbound bytes (a pass-through destination) is stored as NULL and
// read back from the parent: the bytes are on disk once.
// An entry applied at receipt (a destination with `at_receipt`) is inserted Delivered with
// its response ($7, $8), so no dispatcher ever claims it.
const char* const InsertEntry =
    "INSERT INTO messages (parent_id, direction, received_at, updated_at, next_attempt_at, "
    "channel, control_id, type, destination, order_key, raw, state, ack) "
    "SELECT p.id, 1, $1, $1, $1, p.channel, COALESCE($2, {EMPTY_BLOB}), $3, $4, "
    "COALESCE($5, {EMPTY_BLOB}), CASE WHEN p.raw = COALESCE($6, {EMPTY_BLOB}) THEN NULL "
    "ELSE COALESCE($6, {EMPTY_BLOB}) END, $7, COALESCE($8, {EMPTY_BLOB}) FROM messages p "
    "WHERE p.id = $9";

// The head of each order key is its oldest Queued entry (no Queued entry of the same key
// before it); a head is claimable when due and not leased. The queue is walked in id order
// (index messages_due) and each candidate's headship is one probe of messages_queue, so a
// claim reads about LIMIT entries however many keys wait, instead of grouping every queued
// entry per key first. On PostgreSQL, SKIP LOCKED passes over heads another node is claiming
// right now, and the state and lease conditions are re-checked on rows changed since the
// snapshot, so two nodes never take the same entry and a key's next entry waits until its
// head is Delivered or Dead.
const char* const Claim =
    "UPDATE messages SET lease_owner = $1, lease_until = $2 WHERE id IN ("
    "SELECT m.id FROM messages m WHERE m.destination = $3 AND m.state = 5 "
    "AND m.next_attempt_at <= $4 AND m.lease_until <= $4 "
    "AND NOT EXISTS (SELECT 1 FROM messages q WHERE q.destination = m.destination "
    "AND q.state = 5 AND q.order_key = m.order_key AND q.id < m.id) "
    "ORDER BY m.id LIMIT $5{SKIP_LOCKED}) "
    "RETURNING id, parent_id, destination, order_key, attempts, "
    "COALESCE(raw, (SELECT p.raw FROM messages p WHERE p.id = messages.parent_id))";

const char* const MarkDelivered =
    "UPDATE messages SET state = 6, ack = COALESCE($1, {EMPTY_BLOB}), updated_at = $2, "
    "lease_owner = '', lease_until = 0 WHERE id = $3 AND direction = 1";

// Only a Queued entry can fail: a late report from a node whose lease ran out must not undo
// the delivery another node made meanwhile.
const char* const MarkFailed =
    "UPDATE messages SET state = $1, attempts = attempts + 1, error = $2, updated_at = $3, "
    "next_attempt_at = $4, lease_owner = '', lease_until = 0 "
    "WHERE id = $5 AND direction = 1 AND state = 5";

// $1 is cast: PostgreSQL would otherwise take its type from the CASE's other branch (the
// literal 0, an integer) and refuse a real time in microseconds as out of range.
const char* const Replay =
    "UPDATE messages SET state = CASE WHEN direction = 0 THEN 0 ELSE 5 END, attempts = 0, "
    "next_attempt_at = CASE WHEN direction = 0 THEN 0 ELSE CAST($1 AS {INT}) END, "
    "lease_owner = '', lease_until = 0, updated_at = CAST($1 AS {INT}) WHERE id = $2";

static_assert(PruneBatchRows == 1000, "Prunable's LIMIT is PruneBatchRows");
static_assert(AckDictionaryLimit == 512, "FindOriginal reads substr(raw, 1, AckDictionaryLimit)");

// Processed (every entry Delivered), Filtered and Rejected messages may go; Received and Error
// ones, and any with a Queued or Dead entry, stay.
const char* const Prunable =
    "SELECT m.id FROM messages m WHERE m.id > $1 AND m.id <= $2 AND m.direction = 0 "
    "AND m.received_at < $3 AND m.state IN (1, 2, 3) AND NOT EXISTS (SELECT 1 FROM messages c "
    "WHERE c.parent_id = m.id AND c.direction = 1 AND c.state <> 6) ORDER BY m.id LIMIT 1000";

namespace {

// Integer literals, at most PruneBatchRows of them: one statement per batch, not per row.
std::string idList(const std::vector<std::int64_t>& ids)
{
    std::string list;
    for (std::int64_t id : ids) {
        if (!list.empty()) {
            list += ',';
        }
        list += std::to_string(id);
    }
    return list;
}

} // namespace

std::string deleteEntriesOf(const std::vector<std::int64_t>& messages)
{
    return "DELETE FROM messages WHERE direction = 1 AND parent_id IN (" + idList(messages) + ")";
}

std::string deleteMessages(const std::vector<std::int64_t>& messages)
{
    return "DELETE FROM messages WHERE direction = 0 AND id IN (" + idList(messages) + ")";
}

} // namespace hl7gw::store::detail::sql
