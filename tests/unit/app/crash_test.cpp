// kill -9 of the real server under load: no acknowledged message is lost, none stored twice.
#include "gateway/store/message_store.h"
#include "gateway/transport/mllp.h"
#include "tests/unit/app/serve_support.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <map>
#include <set>

using namespace hl7gw;
namespace bdata = boost::unit_test::data;
namespace fs = std::filesystem;

namespace {

std::string storeUrl(const std::string& backend, const fs::path& dir)
{
    if (backend == "sqlite") {
        return "sqlite:" + (dir / "gw.db").string();
    }
    return test::freshPostgresDatabase("hl7gw_crash_" + std::to_string(::getpid()));
}

} // namespace

BOOST_AUTO_TEST_SUITE(crash)

BOOST_DATA_TEST_CASE(kill_9_under_load_loses_no_acknowledged_message,
                     bdata::make(std::vector<std::string>{"sqlite", "postgresql"}), backend)
{
    const fs::path dir = fs::temp_directory_path() / ("hl7gw-crash-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string url = storeUrl(backend, dir);
    {
        std::ofstream(dir / "gateway.json") << R"({
  "mllp": [{"name": "in", "listen": "127.0.0.1:0", "channel": "c"}],
  "http": {"listen": "127.0.0.1:0"},
  "channels": [{"name": "c"}]
})";
    }
    const std::vector<std::string> sets{"store.url=" + url};

    constexpr int Clients = 4;
    constexpr int PerClient = 3000; // bound: the loop stops by itself
    std::vector<std::vector<std::string>> acked(Clients);
    std::vector<int> sent(Clients, 0);
    {
        test::GatewayProcess gw((dir / "gateway.json").string(), sets);
        BOOST_REQUIRE_MESSAGE(gw.waitUntilListening(), gw.log());
        std::atomic<int> total{0};
        std::vector<std::thread> threads;
        for (int c = 0; c < Clients; ++c) {
            threads.emplace_back([&, c] {
                transport::MllpClientConfig config;
                config.to = {"127.0.0.1", gw.mllpPort()};
                config.ackTimeoutMs = 5000;
                transport::MllpClient client(config);
                for (int i = 0; i < PerClient; ++i) {
                    const std::string id = "K" + std::to_string(c) + "-" + std::to_string(i);
                    sent[c] = i + 1;
                    try {
                        const std::string ack = client.exchange(test::adt(id, id));
                        if (ack.find("MSA|AA|" + id) == std::string::npos) {
                            return;
                        }
                    } catch (const std::exception&) {
                        return; // the server is gone
                    }
                    acked[c].push_back(id);
                    ++total;
                }
            });
        }
        BOOST_TEST(test::waitFor([&] { return total.load() >= 1500; }, 60));
        gw.kill(SIGKILL);
        for (auto& t : threads) {
            t.join();
        }
        gw.wait();
    }
    std::size_t ackedCount = 0;
    for (const auto& a : acked) {
        ackedCount += a.size();
    }
    BOOST_TEST_MESSAGE(backend << ": " << ackedCount << " messages acknowledged before kill -9");
    BOOST_TEST(ackedCount >= 1500U);

    // Every acknowledged message is in the store, once.
    store::MessageStorePtr store = store::openStore({url});
    store::MessageQuery all;
    all.direction = store::Direction::In;
    all.limit = 0;
    std::map<std::string, int> stored;
    for (const store::MessageRecord& r : store->list(all)) {
        ++stored[r.controlId];
    }
    for (const auto& list : acked) {
        for (const std::string& id : list) {
            BOOST_TEST(stored.count(id) == 1U, id << " was acknowledged but is not stored");
        }
    }
    for (const auto& [id, n] : stored) {
        BOOST_TEST(n == 1, id << " stored " << n << " times");
    }

    // After a restart, the senders resend what was not acknowledged (and the last one that
    // was in flight): all are answered AA, and still each is stored once.
    test::GatewayProcess again((dir / "gateway.json").string(), sets);
    BOOST_REQUIRE_MESSAGE(again.waitUntilListening(), again.log());
    transport::MllpClientConfig config;
    config.to = {"127.0.0.1", again.mllpPort()};
    transport::MllpClient client(config);
    std::size_t distinct = 0;
    for (int c = 0; c < Clients; ++c) {
        const int from = std::max<int>(0, static_cast<int>(acked[c].size()) - 1);
        for (int i = from; i < sent[c]; ++i) {
            const std::string id = "K" + std::to_string(c) + "-" + std::to_string(i);
            BOOST_TEST(client.exchange(test::adt(id, id)).find("MSA|AA|" + id) !=
                       std::string::npos);
        }
        distinct += static_cast<std::size_t>(sent[c]);
    }
    BOOST_TEST(store->count(all) == static_cast<std::int64_t>(distinct));
    again.kill(SIGTERM);
    BOOST_TEST(again.wait() == 0);
    store.reset();
    fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
