#include "gateway/store/resource_store.h"

#include "tests/unit/store/store_test_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

namespace store = hl7gw::store;
namespace data = boost::unit_test::data;
using hl7gw::test::Backends;
using hl7gw::test::TestDatabase;
using Status = store::ChangeOutcome::Status;

namespace {

store::ResourceChange put(std::string id, std::int64_t expected, std::string body,
                          store::Micros at = 1'000'000)
{
    store::ResourceChange change;
    change.type = "Patient";
    change.id = std::move(id);
    change.expectedVersion = expected;
    change.at = at;
    change.method = expected == 0 ? "POST" : "PUT";
    change.body = std::move(body);
    return change;
}

store::ResourceChange remove(std::string id, std::int64_t expected, store::Micros at)
{
    store::ResourceChange change;
    change.action = store::ResourceChange::Action::Delete;
    change.type = "Patient";
    change.id = std::move(id);
    change.expectedVersion = expected;
    change.at = at;
    change.method = "DELETE";
    return change;
}

// A small index table in the dialect of the store (the FHIR layer brings the real ones).
void addTokenTable(store::ResourceStore& resources)
{
    resources.ensureIndexSchema(
        {"CREATE TABLE IF NOT EXISTS test_token (rid BIGINT NOT NULL, code TEXT NOT NULL)",
         "CREATE UNIQUE INDEX IF NOT EXISTS test_token_unique ON test_token (code)"},
        {"test_token"});
}

std::vector<std::string> ridsWithCode(store::ResourceStore& resources, const std::string& code)
{
    std::vector<std::string> rids;
    for (const auto& row :
         resources.query({"SELECT rid FROM test_token WHERE code = $1 ORDER BY rid", {code}})) {
        rids.push_back(row.at(0).value_or("NULL"));
    }
    return rids;
}

} // namespace

BOOST_AUTO_TEST_SUITE(ResourceStore)

BOOST_DATA_TEST_CASE(versions_follow_each_other_and_stale_writes_conflict, Backends, backend)
{
    TestDatabase db(backend);
    auto messages = db.open();
    store::ResourceStore& resources = messages->resources();

    auto created = resources.apply({put("p1", 0, R"({"v":1})", 1'000'000)});
    BOOST_TEST(static_cast<int>(created.status) == static_cast<int>(Status::Applied));
    BOOST_TEST(created.version == 1);
    auto updated = resources.apply({put("p1", 1, R"({"v":2})", 2'000'000)});
    BOOST_TEST(updated.version == 2);
    BOOST_TEST(updated.rid == created.rid);

    auto stale = resources.apply({put("p1", 1, R"({"v":"lost"})", 3'000'000)});
    BOOST_TEST(static_cast<int>(stale.status) == static_cast<int>(Status::VersionConflict));
    BOOST_TEST(stale.version == 2);
    auto again = resources.apply({put("p1", 0, R"({"v":"dup"})", 3'000'000)});
    BOOST_TEST(static_cast<int>(again.status) == static_cast<int>(Status::VersionConflict));

    auto current = resources.current("Patient", "p1");
    BOOST_REQUIRE(current.has_value());
    BOOST_TEST(current->version == 2);
    BOOST_TEST(current->body == R"({"v":2})");
    BOOST_TEST(current->lastUpdated == 2'000'000);
    BOOST_TEST(resources.version("Patient", "p1", 1)->body == R"({"v":1})");
    BOOST_TEST(!resources.version("Patient", "p1", 3).has_value());
    BOOST_TEST(!resources.current("Patient", "nope").has_value());
    BOOST_TEST(!resources.current("Observation", "p1").has_value());

    auto deleted = resources.apply({remove("p1", 2, 4'000'000)});
    BOOST_TEST(deleted.version == 3);
    current = resources.current("Patient", "p1");
    BOOST_TEST(current->deleted);
    BOOST_TEST(current->body.empty());
    BOOST_TEST(resources.byRid({created.rid}).empty());

    // Undeleted by an update that saw the deletion.
    BOOST_TEST(resources.apply({put("p1", 3, R"({"v":4})", 5'000'000)}).version == 4);

    auto history = resources.history({"Patient", "p1", 0, 0, 10});
    BOOST_REQUIRE(history.size() == 4u);
    BOOST_TEST(history[0].resource.version == 4);
    BOOST_TEST(history[1].resource.deleted);
    BOOST_TEST(history[1].method == "DELETE");
    BOOST_TEST(history[3].method == "POST");
    auto page = resources.history({"Patient", "p1", 0, history[1].seq, 10});
    BOOST_REQUIRE(page.size() == 2u);
    BOOST_TEST(page[0].resource.version == 2);
    auto since = resources.history({"Patient", std::nullopt, 2'000'000, 0, 10});
    BOOST_TEST(since.size() == 3u);
}

BOOST_DATA_TEST_CASE(a_failed_change_undoes_the_whole_call, Backends, backend)
{
    TestDatabase db(backend);
    auto messages = db.open();
    store::ResourceStore& resources = messages->resources();
    addTokenTable(resources);

    auto first = put("a", 0, "{}");
    first.indexes = {{"test_token", "code", {{std::string("x")}}}};
    BOOST_TEST(resources.apply({first}).version == 1);

    auto b = put("b", 0, "{}");
    auto staleA = put("a", 0, "{}");
    auto outcome = resources.apply({b, staleA});
    BOOST_TEST(static_cast<int>(outcome.status) == static_cast<int>(Status::VersionConflict));
    BOOST_TEST(outcome.failedChange == 1u);
    BOOST_TEST(!resources.current("Patient", "b").has_value());

    // A unique index refuses the second row: nothing of that call stays, the store goes on.
    auto c = put("c", 0, "{}");
    c.indexes = {{"test_token", "code", {{std::string("x")}}}};
    auto refused = resources.apply({c});
    BOOST_TEST(static_cast<int>(refused.status) == static_cast<int>(Status::Failed));
    BOOST_TEST(!refused.error.empty());
    BOOST_TEST(!resources.current("Patient", "c").has_value());
    BOOST_TEST(resources.apply({put("d", 0, "{}")}).version == 1);
}

// Writes go without a savepoint; a refused row makes the writer run its batch again with one
// around each call. Concurrent callers share batches, so the refused calls meet the others.
BOOST_DATA_TEST_CASE(refused_calls_in_shared_batches_leave_the_others_applied, Backends, backend)
{
    TestDatabase db(backend);
    auto messages = db.open();
    store::ResourceStore& resources = messages->resources();
    addTokenTable(resources);
    auto taken = put("taken", 0, "{}");
    taken.indexes = {{"test_token", "code", {{std::string("dup")}}}};
    BOOST_TEST(resources.apply({taken}).version == 1);

    constexpr int Threads = 8;
    constexpr int Each = 20;
    auto clashes = [](int i) { return i % 5 == 0; };
    std::atomic<int> applied{0};
    std::atomic<int> refused{0};
    std::latch start(Threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < Threads; ++t) {
        workers.emplace_back([&, t] {
            start.arrive_and_wait();
            for (int i = 0; i < Each; ++i) {
                const std::string id = "w" + std::to_string(t) + "-" + std::to_string(i);
                std::vector<store::ResourceChange> changes{put(id, 0, "{}")};
                if (clashes(i)) {
                    // A change of its own first, then the taken code: both must go.
                    auto second = put(id + "-x", 0, "{}");
                    second.indexes = {{"test_token", "code", {{std::string("dup")}}}};
                    changes.push_back(second);
                }
                const auto outcome = resources.apply(changes);
                ++(outcome.status == Status::Applied ? applied : refused);
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    BOOST_TEST(refused.load() == Threads * Each / 5);
    BOOST_TEST(applied.load() == Threads * Each - refused.load());
    for (int t = 0; t < Threads; ++t) {
        for (int i = 0; i < Each; ++i) {
            const std::string id = "w" + std::to_string(t) + "-" + std::to_string(i);
            BOOST_TEST(resources.current("Patient", id).has_value() == !clashes(i), id);
            BOOST_TEST(!resources.current("Patient", id + "-x").has_value(), id);
        }
    }
}

BOOST_DATA_TEST_CASE(index_rows_follow_the_current_version, Backends, backend)
{
    TestDatabase db(backend);
    auto messages = db.open();
    store::ResourceStore& resources = messages->resources();
    addTokenTable(resources);

    auto v1 = put("p", 0, "{}");
    v1.indexes = {{"test_token", "code", {{std::string("old")}}}};
    const auto rid = std::to_string(resources.apply({v1}).rid);
    BOOST_TEST(ridsWithCode(resources, "old") == std::vector<std::string>{rid});

    auto v2 = put("p", 1, "{}");
    v2.indexes = {{"test_token", "code", {{std::string("new")}}}};
    resources.apply({v2});
    BOOST_TEST(ridsWithCode(resources, "old").empty());
    BOOST_TEST(ridsWithCode(resources, "new") == std::vector<std::string>{rid});

    resources.apply({remove("p", 2, 2'000'000)});
    BOOST_TEST(ridsWithCode(resources, "new").empty());
}

BOOST_DATA_TEST_CASE(the_outbox_queues_with_the_change, Backends, backend)
{
    TestDatabase db(backend);
    auto messages = db.open();
    store::ResourceStore& resources = messages->resources();

    store::OutboxMessage siu{"fhir-booking", "his", "SIU^S12", "patient-1", "ctl-1", "MSH|...", {}};
    BOOST_TEST(resources.apply({put("p", 0, "{}")}, {siu}).version == 1);
    auto claimed = messages->claim("his", "test", 10, 2'000'000, 3'000'000);
    BOOST_REQUIRE(claimed.size() == 1u);
    BOOST_TEST(claimed[0].payload == "MSH|...");
    BOOST_TEST(claimed[0].orderKey == "patient-1");
    auto parent = messages->find(claimed[0].parentId);
    BOOST_REQUIRE(parent.has_value());
    BOOST_TEST(parent->type == "FHIR");
    BOOST_TEST(parent->raw == "POST Patient/p");

    // A conflicting change queues nothing.
    BOOST_TEST(static_cast<int>(resources.apply({put("p", 0, "{}")}, {siu}).status) ==
               static_cast<int>(Status::VersionConflict));
    BOOST_TEST(messages->claim("his", "test", 10, 2'000'000, 3'000'000).empty());
}

BOOST_DATA_TEST_CASE(concurrent_updates_of_one_version_have_one_winner, Backends, backend)
{
    TestDatabase db(backend);
    auto messages = db.open();
    store::ResourceStore& resources = messages->resources();
    resources.apply({put("slot", 0, "{}")});

    constexpr int Writers = 16;
    std::atomic<int> applied{0};
    std::latch start(Writers);
    std::vector<std::thread> threads;
    for (int i = 0; i < Writers; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            auto outcome = resources.apply({put("slot", 1, "{\"w\":" + std::to_string(i) + "}")});
            if (outcome.status == Status::Applied) {
                ++applied;
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    BOOST_TEST(applied.load() == 1);
    BOOST_TEST(resources.current("Patient", "slot")->version == 2);
}

BOOST_DATA_TEST_CASE(reads_never_see_an_older_version_than_the_last_write, Backends, backend)
{
    TestDatabase db(backend);
    auto messages = db.open();
    store::ResourceStore& resources = messages->resources();
    resources.apply({put("r", 0, "{\"v\":1}")});
    BOOST_TEST(resources.current("Patient", "r")->version == 1); // cached now (SQLite)

    // Readers race the writer; once a write has returned, every later read sees it.
    std::atomic<bool> stop{false};
    std::atomic<int> backwards{0};
    std::atomic<std::int64_t> written{1};
    std::vector<std::thread> readers;
    for (int i = 0; i < 4; ++i) {
        readers.emplace_back([&] {
            while (!stop) {
                const std::int64_t floor = written.load();
                if (resources.current("Patient", "r")->version < floor) {
                    ++backwards;
                }
            }
        });
    }
    for (std::int64_t v = 1; v < 60; ++v) {
        BOOST_REQUIRE(resources.apply({put("r", v, "{}")}).status == Status::Applied);
        written = v + 1;
    }
    stop = true;
    for (auto& reader : readers) {
        reader.join();
    }
    BOOST_TEST(backwards.load() == 0);
    BOOST_TEST(resources.current("Patient", "r")->version == 60);
}

BOOST_AUTO_TEST_SUITE_END()
