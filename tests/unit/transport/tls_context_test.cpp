#include "gateway/transport/tls_context.h"

#include "tests/unit/transport/transport_test_support.h"

#include <boost/test/unit_test.hpp>

#include <Poco/Net/Context.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>

using namespace hl7gw::transport;
using namespace hl7gw::test;

namespace {

/// Two unrelated CAs and certificates from the first, generated once for the suite.
struct Pki {
    Pki()
        : ca(dir, "ca"), otherCa(dir, "other-ca"),
          server(ca.issueServer("server", "IP:127.0.0.1,DNS:localhost")),
          wrongName(ca.issueServer("wrong-name", "DNS:gateway.invalid")),
          client(ca.issueClient("client")), strangerClient(otherCa.issueClient("stranger"))
    {
    }

    TempDir dir;
    TestPki ca;
    TestPki otherCa;
    TestPki::Issued server;
    TestPki::Issued wrongName;
    TestPki::Issued client;
    TestPki::Issued strangerClient;
};

const Pki& pki()
{
    static const Pki instance;
    return instance;
}

struct TlsServer {
    explicit TlsServer(TlsConfig tls, const TestPki::Issued& identity = pki().server)
    {
        tls.cert = identity.cert;
        tls.key = identity.key;
        auto config = listenerConfig("tls-in");
        config.tls = tls;
        server = std::make_unique<MllpServer>(
            config, [this](std::string_view bytes, const ConnectionInfo& info) {
                ++calls;
                sawTls = info.tls;
                return echoAck(bytes, info);
            });
        server->start();
    }

    MllpClientConfig client(TlsConfig tls) const
    {
        auto config = clientConfig(server->port());
        config.tls = tls;
        return config;
    }

    std::atomic<int> calls{0};
    std::atomic<bool> sawTls{false};
    std::unique_ptr<MllpServer> server;
};

TlsConfig trusting(const std::string& ca)
{
    TlsConfig tls;
    tls.ca = ca;
    return tls;
}

TlsConfig presenting(const TestPki::Issued& identity, const std::string& ca)
{
    TlsConfig tls = trusting(ca);
    tls.cert = identity.cert;
    tls.key = identity.key;
    return tls;
}

TlsConfig requiringClients()
{
    TlsConfig tls = trusting(pki().ca.caFile());
    tls.requireClientCert = true;
    return tls;
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls_context)

BOOST_AUTO_TEST_CASE(exchanges_over_tls)
{
    TlsServer tls(TlsConfig{});
    MllpClient client(tls.client(trusting(pki().ca.caFile())));
    for (int i = 0; i < 3; ++i) {
        const std::string id = "TLS" + std::to_string(i);
        BOOST_TEST(client.exchange(message(id)) == ackFor(id));
    }
    BOOST_TEST(tls.sawTls.load());
    BOOST_TEST(tls.server->stats().connectionsAccepted == 1u);
}

BOOST_AUTO_TEST_CASE(stop_closes_idle_tls_connections)
{
    TlsServer tls(TlsConfig{});
    MllpClient client(tls.client(trusting(pki().ca.caFile())));
    BOOST_TEST(client.exchange(message("IDLE")) == ackFor("IDLE"));
    BOOST_TEST(tls.server->stats().connectionsOpen == 1);
    // The connection waits inside OpenSSL's read; stop() must still wake it.
    tls.server->stop();
    BOOST_TEST(tls.server->stats().connectionsOpen == 0);
    BOOST_CHECK_THROW(client.exchange(message("LATE")), TransportError);
}

BOOST_AUTO_TEST_CASE(mutual_tls_accepts_a_client_with_a_certificate)
{
    TlsServer tls(requiringClients());
    MllpClient client(tls.client(presenting(pki().client, pki().ca.caFile())));
    BOOST_TEST(client.exchange(message("MTLS")) == ackFor("MTLS"));
}

BOOST_AUTO_TEST_CASE(mutual_tls_refuses_a_client_without_a_certificate)
{
    TlsServer tls(requiringClients());
    MllpClient client(tls.client(trusting(pki().ca.caFile())));
    BOOST_CHECK_THROW(client.exchange(message("ANON")), TransportError);
    BOOST_TEST(waitUntil([&] { return tls.server->stats().connectionsRefused == 1u; }));
    BOOST_TEST(tls.calls == 0);
    BOOST_TEST(tls.server->stats().connectionsAccepted == 0u);
}

BOOST_AUTO_TEST_CASE(mutual_tls_refuses_a_client_certificate_from_another_ca)
{
    TlsServer tls(requiringClients());
    MllpClient client(tls.client(presenting(pki().strangerClient, pki().ca.caFile())));
    BOOST_CHECK_THROW(client.exchange(message("STRANGER")), TransportError);
    BOOST_TEST(waitUntil([&] { return tls.server->stats().connectionsRefused == 1u; }));
    BOOST_TEST(tls.calls == 0);
}

BOOST_AUTO_TEST_CASE(client_rejects_a_server_certificate_from_another_ca)
{
    TlsServer tls(TlsConfig{});
    MllpClient client(tls.client(trusting(pki().otherCa.caFile())));
    BOOST_CHECK_THROW(client.exchange(message("WRONGCA")), TransportError);
    BOOST_TEST(waitUntil([&] { return tls.server->stats().connectionsRefused == 1u; }));
    BOOST_TEST(tls.calls == 0);
}

BOOST_AUTO_TEST_CASE(client_rejects_a_server_certificate_for_another_name)
{
    // Loopback included: the certificate must name the host dialled.
    TlsServer tls(TlsConfig{}, pki().wrongName);
    MllpClient client(tls.client(trusting(pki().ca.caFile())));
    BOOST_CHECK_THROW(client.exchange(message("WRONGNAME")), TransportError);
    BOOST_TEST(tls.calls == 0);
}

BOOST_AUTO_TEST_CASE(refuses_plain_mllp_on_a_tls_listener)
{
    TlsServer tls(TlsConfig{});
    MllpClient client(clientConfig(tls.server->port()));
    BOOST_CHECK_THROW(client.exchange(message("PLAIN")), TransportError);
    BOOST_TEST(waitUntil([&] { return tls.server->stats().connectionsRefused == 1u; }));
    BOOST_TEST(tls.calls == 0);
}

BOOST_AUTO_TEST_CASE(server_context_needs_a_certificate_and_a_matching_key)
{
    BOOST_CHECK_THROW(makeServerContext(TlsConfig{}), TransportError);
    TlsConfig missing{pki().dir.file("absent.crt"), pki().server.key, "", false};
    BOOST_CHECK_THROW(makeServerContext(missing), TransportError);
    TlsConfig mismatched{pki().server.cert, pki().client.key, "", false};
    BOOST_CHECK_THROW(makeServerContext(mismatched), TransportError);
    TlsConfig noCa{pki().server.cert, pki().server.key, "", true};
    BOOST_CHECK_THROW(makeServerContext(noCa), TransportError);
    TlsConfig good{pki().server.cert, pki().server.key, pki().ca.caFile(), true};
    BOOST_TEST(makeServerContext(good)->isForServerUse());
}

BOOST_AUTO_TEST_CASE(listener_with_unloadable_certificates_fails_to_start)
{
    auto config = listenerConfig("bad-tls");
    config.tls = TlsConfig{pki().dir.file("absent.crt"), pki().dir.file("absent.key"), "", false};
    MllpServer server(config, echoAck);
    BOOST_CHECK_THROW(server.start(), TransportError);
}

BOOST_AUTO_TEST_CASE(client_context_takes_a_certificate_only_with_its_key)
{
    TlsConfig certOnly{pki().client.cert, "", pki().ca.caFile(), false};
    BOOST_CHECK_THROW(makeClientContext(certOnly), TransportError);
    BOOST_TEST(!makeClientContext(trusting(pki().ca.caFile()))->isForServerUse());
}

BOOST_AUTO_TEST_SUITE_END()
