#pragma once

#include "gateway/store/detail/sql_connection.h"
#include "gateway/store/detail/store_url.h"
#include "gateway/store/resource_store.h"

#include <string>
#include <vector>

namespace hl7gw::store::detail {

/// Applies one ResourceStore::apply() call inside the writer's open transaction, within a
/// savepoint of its own: a version conflict or a refused row (a unique constraint) undoes this
/// call only and is reported in the outcome, so the other writes of the group commit go on.
/// Other database errors are thrown, and fail (or retry) the whole batch as usual.
ChangeOutcome applyResourceChanges(SqlConnection& sql, Backend backend,
                                   const std::vector<ResourceChange>& changes,
                                   const std::vector<OutboxMessage>& outbox,
                                   const std::vector<std::string>& indexTables, Micros now);

} // namespace hl7gw::store::detail
