// MLLP over mutual TLS through the real binaries: `serve` with a TLS listener that requires
// client certificates, `send --tls` with and without one. Certificates made by the test.
#include "tests/unit/app/serve_support.h"
#include "tests/unit/transport/transport_test_support.h"

#include <boost/test/unit_test.hpp>

using namespace hl7gw;

BOOST_AUTO_TEST_SUITE(tls_serve)

BOOST_AUTO_TEST_CASE(mutual_tls_listener_takes_certified_clients_only)
{
    test::TempDir dir;
    test::TestPki pki(dir, "alliance-ca");
    const test::TestPki::Issued server = pki.issueServer("gateway", "IP:127.0.0.1");
    const test::TestPki::Issued clinic = pki.issueClient("clinic");
    {
        std::ofstream(dir.file("gateway.json")) << R"({
  "store": {"url": "sqlite:)" + dir.file("gw.db") + R"("},
  "mllp": [{"name": "clinics", "listen": "127.0.0.1:0", "channel": "c",
            "tls": {"cert": ")" + server.cert + R"(", "key": ")" +
                                                       server.key + R"(",
                    "ca": ")" + pki.caFile() + R"(", "require_client_cert": true}}],
  "http": {"listen": "127.0.0.1:0"},
  "channels": [{"name": "c"}]
})";
        std::ofstream(dir.file("m.hl7"))
            << "MSH|^~\\&|CLINIC|C1|GW|GW|20261201||ADT^A04^ADT_A01|T1|P|2.5.1\rPID|1||X1\r";
    }
    test::GatewayProcess gw(dir.file("gateway.json"), {});
    BOOST_REQUIRE_MESSAGE(gw.waitUntilListening(), gw.log());
    BOOST_TEST(gw.startLine().find("mllps clinics") != std::string::npos, gw.startLine());
    BOOST_TEST(gw.startLine().find("client certificate required") != std::string::npos);
    const std::string to = "mllp://127.0.0.1:" + std::to_string(gw.mllpPort());

    test::CommandRun ok =
        test::runGateway({"send", "--to", to, "--tls", "--ca", pki.caFile(), "--cert", clinic.cert,
                          "--key", clinic.key, dir.file("m.hl7")});
    BOOST_TEST(ok.exitCode == 0, ok.err);
    BOOST_TEST(ok.out.find("\tAA\tT1\t") != std::string::npos, ok.out);

    test::CommandRun anonymous =
        test::runGateway({"send", "--to", to, "--tls", "--ca", pki.caFile(), "--ack-timeout", "5",
                          dir.file("m.hl7")});
    BOOST_TEST(anonymous.exitCode == 1);
    BOOST_TEST(anonymous.out.find("no answer") != std::string::npos, anonymous.out);

    test::CommandRun plain =
        test::runGateway({"send", "--to", to, "--ack-timeout", "5", dir.file("m.hl7")});
    BOOST_TEST(plain.exitCode == 1);
    gw.kill(SIGTERM);
    BOOST_TEST(gw.wait() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
