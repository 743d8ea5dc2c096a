// A full disk under the running server: once the database cannot grow, senders get AR 207
// and nothing is acknowledged that was not stored. The database lives on a 8 MiB tmpfs that
// the test mounts (the tests run as root, as scripts/test.sh and CI do).
#include "gateway/store/message_store.h"
#include "gateway/transport/mllp.h"
#include "tests/unit/app/serve_support.h"

#include <boost/test/unit_test.hpp>

#include <sys/mount.h>

using namespace hl7gw;

namespace {

class SmallDisk {
  public:
    explicit SmallDisk(const std::string& path) : path_(path)
    {
        std::filesystem::create_directories(path_);
        mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=8m") == 0;
        BOOST_REQUIRE_MESSAGE(mounted_, "cannot mount a tmpfs on " << path_ << " (errno " << errno
                                                                   << "): run the tests as root");
    }
    ~SmallDisk()
    {
        if (mounted_) {
            ::umount2(path_.c_str(), MNT_DETACH);
        }
    }

  private:
    std::string path_;
    bool mounted_ = false;
};

} // namespace

BOOST_AUTO_TEST_SUITE(disk_full)

BOOST_AUTO_TEST_CASE(nothing_is_acknowledged_that_was_not_stored)
{
    test::TempDir dir;
    SmallDisk disk(dir.file("disk"));
    const std::string db = dir.file("disk") + "/gw.db";
    std::ofstream(dir.file("gateway.json")) << test::minimalGatewayConfig("sqlite:" + db);
    test::GatewayProcess gw(dir.file("gateway.json"), {});
    BOOST_REQUIRE_MESSAGE(gw.waitUntilListening(), gw.log());
    transport::MllpClientConfig config;
    config.to = {"127.0.0.1", gw.mllpPort()};
    transport::MllpClient client(config);
    std::vector<std::string> acknowledged;
    int refused = 0;
    for (int i = 0; i < 20000 && refused < 20; ++i) { // bounded: 8 MiB fill up long before
        const std::string id = "F" + std::to_string(i);
        const std::string ack =
            client.exchange(test::adt(id, id) + "ZPD|" + std::string(400, 'W') + "\r");
        if (ack.find("MSA|AA|" + id) != std::string::npos) {
            BOOST_REQUIRE_MESSAGE(refused == 0, "AA after the disk was full: " << id);
            acknowledged.push_back(id);
        } else {
            BOOST_TEST(ack.find("MSA|AR|" + id) != std::string::npos, ack);
            BOOST_TEST(ack.find("207") != std::string::npos, ack);
            ++refused;
        }
    }
    BOOST_TEST(refused == 20);
    BOOST_TEST_MESSAGE(acknowledged.size() << " messages acknowledged before the disk was full");
    BOOST_TEST(acknowledged.size() > 100U);
    BOOST_TEST(gw.log().find("cannot store a message") != std::string::npos);
    gw.kill(SIGTERM);
    BOOST_TEST(gw.wait() == 0);

    // Every acknowledged message is in the database, and nothing else is.
    store::MessageStorePtr store = store::openStore({"sqlite:" + db});
    store::MessageQuery all;
    all.direction = store::Direction::In;
    all.limit = 0;
    std::set<std::string> stored;
    for (const store::MessageRecord& r : store->list(all)) {
        stored.insert(r.controlId);
    }
    BOOST_TEST(stored == std::set<std::string>(acknowledged.begin(), acknowledged.end()));
}

BOOST_AUTO_TEST_SUITE_END()
