#pragma once

#include "gateway/store/detail/sql_connection.h"
#include "gateway/store/detail/store_url.h"
#include "gateway/store/resource_store.h"

#include <string>
#include <vector>

namespace hl7gw::store::detail {

/// Applies one ResourceStore::apply() call inside the writer's open transaction. A version
/// conflict is found before anything is written and reported in the outcome, so the other
/// writes of the group commit go on. A refused row (a unique constraint) is reported the same
/// way when `isolated` (the call runs in a savepoint of its own); otherwise it throws
/// IsolationNeeded, and the batch runs again isolated. Other database errors are thrown, and
/// fail (or retry) the whole batch as usual.
ChangeOutcome applyResourceChanges(SqlConnection& sql, Backend backend,
                                   const std::vector<ResourceChange>& changes,
                                   const std::vector<OutboxMessage>& outbox,
                                   const std::vector<std::string>& indexTables, Micros now,
                                   bool isolated);

} // namespace hl7gw::store::detail
