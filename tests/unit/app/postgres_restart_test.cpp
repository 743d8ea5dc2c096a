// PostgreSQL restarted under the running server: while it is down, senders get AR 207 (keep
// the message, resend later) and nothing is acknowledged; once it is back the gateway
// resumes by itself, without a restart of its own.
#include "gateway/store/message_store.h"
#include "gateway/transport/mllp.h"
#include "tests/unit/app/serve_support.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <boost/test/unit_test.hpp>

using namespace hl7gw;
namespace fs = std::filesystem;

namespace {

// scripts/pg.sh, which started the cluster the tests use.
int pg(const std::string& action)
{
    const std::string script = (test::dataDir() / "../../scripts/pg.sh").string();
    Poco::Pipe out;
    Poco::ProcessHandle h = Poco::Process::launch("bash", {script, action}, nullptr, &out, &out);
    Poco::PipeInputStream in(out);
    std::string ignored;
    Poco::StreamCopier::copyToString(in, ignored);
    return h.wait();
}

int health(std::uint16_t port)
{
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", port);
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/healthz");
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        session.receiveResponse(response);
        return static_cast<int>(response.getStatus());
    } catch (const Poco::Exception&) {
        return 0;
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(postgres_restart)

BOOST_AUTO_TEST_CASE(gateway_resumes_by_itself_when_postgresql_comes_back)
{
    const std::string url =
        test::freshPostgresDatabase("hl7gw_restart_" + std::to_string(::getpid()));
    test::TempDir dir;
    std::ofstream(dir.file("gateway.json")) << test::minimalGatewayConfig(url);
    test::GatewayProcess gw(dir.file("gateway.json"), {});
    BOOST_REQUIRE_MESSAGE(gw.waitUntilListening(), gw.log());
    transport::MllpClientConfig config;
    config.to = {"127.0.0.1", gw.mllpPort()};
    config.ackTimeoutMs = 10'000;
    transport::MllpClient client(config);
    for (int i = 0; i < 50; ++i) {
        BOOST_TEST(client.exchange(test::adt("B" + std::to_string(i))).find("MSA|AA|") !=
                   std::string::npos);
    }

    BOOST_REQUIRE(pg("stop") == 0);
    const std::string whileDown = client.exchange(test::adt("DOWN1"));
    BOOST_TEST(whileDown.find("MSA|AR|DOWN1") != std::string::npos, whileDown);
    BOOST_TEST(whileDown.find("207") != std::string::npos);
    BOOST_TEST(health(gw.httpPort()) == 503);

    BOOST_REQUIRE(pg("start") == 0);
    BOOST_TEST(test::waitFor([&] { return health(gw.httpPort()) == 200; }, 30));
    // The sender resends what was refused, then carries on.
    BOOST_TEST(test::waitFor(
        [&] {
            return client.exchange(test::adt("DOWN1")).find("MSA|AA|DOWN1") != std::string::npos;
        },
        30));
    for (int i = 0; i < 50; ++i) {
        BOOST_TEST(client.exchange(test::adt("A" + std::to_string(i))).find("MSA|AA|") !=
                   std::string::npos);
    }
    store::MessageStorePtr store = store::openStore({url});
    store::MessageQuery in;
    in.direction = store::Direction::In;
    BOOST_TEST(store->count(in) == 101);
    gw.kill(SIGTERM);
    BOOST_TEST(gw.wait() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
