#include "gateway/transport/tls_context.h"

#include "gateway/transport/transport_error.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/SharedPtr.h>

#include <openssl/ssl.h>
#include <signal.h>

#include <csignal>
#include <mutex>

namespace hl7gw::transport {

namespace {

using Poco::Net::Context;

// TLS 1.2 suites with forward secrecy and AEAD first (@STRENGTH), but not only those: IHE
// ATNA names TLS_RSA_WITH_AES_128_CBC_SHA as the suite every node must offer, and older
// partner stacks speak nothing else. TLS 1.3 suites are configured separately by OpenSSL and
// all acceptable.
constexpr const char* CipherList =
    "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!PSK:!SRP:!CAMELLIA:@STRENGTH";

struct CertificateHandlers {
    Context::InvalidCertificateHandlerPtr server;
    Context::InvalidCertificateHandlerPtr client;
};

CertificateHandlers& certificateHandlers()
{
    // Never destroyed: a handler's destructor unregisters from SSLManager, whose own static
    // instance may already be gone at exit.
    static auto* handlers = new CertificateHandlers;
    return *handlers;
}

std::once_flag initialized;

template <typename Build> Context::Ptr buildContext(const char* role, Build build)
{
    initializeTransport();
    try {
        return build();
    } catch (const TransportError&) {
        throw;
    } catch (const Poco::Exception& error) {
        // SSLContextException names the file that failed and OpenSSL's reason.
        throw TransportError(std::string("TLS ") + role + ": " + error.displayText());
    }
}

void restrictProtocols(Context& context)
{
    // IHE ATNA and BCP 195: nothing below TLS 1.2.
    context.requireMinimumProtocol(Context::PROTO_TLSV1_2);
}

} // namespace

void initializeTransport()
{
    std::call_once(initialized, [] {
        Poco::Net::initializeSSL();
        // One handler per side for every context we build. POCO asks a context's own handler
        // first and then notifies every handler registered with SSLManager (each handler
        // registers itself on construction), so these also veto any accepting handler
        // someone else installs: a certificate that fails verification is never accepted
        // in this process.
        CertificateHandlers& handlers = certificateHandlers();
        handlers.server = new Poco::Net::RejectCertificateHandler(true);
        handlers.client = new Poco::Net::RejectCertificateHandler(false);

        struct sigaction current {};
        if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
            std::signal(SIGPIPE, SIG_IGN);
        }
    });
}

Context::Ptr makeServerContext(const TlsConfig& config)
{
    return buildContext("server", [&config]() -> Context::Ptr {
        if (config.cert.empty() || config.key.empty()) {
            throw TransportError("TLS server: cert and key are both required");
        }
        if (config.requireClientCert && config.ca.empty()) {
            throw TransportError(
                "TLS server: requireClientCert needs ca to verify clients against");
        }
        Context::Params params;
        params.certificateFile = config.cert;
        params.privateKeyFile = config.key;
        params.caLocation = config.ca;
        params.loadDefaultCAs = false;
        params.cipherList = CipherList;
        // POCO's built-in DHE group is 1024 bits otherwise (RFC 5114), too weak since Logjam.
        params.dhUse2048Bits = true;
        if (config.requireClientCert) {
            params.verificationMode = Context::VERIFY_STRICT;
        } else if (!config.ca.empty()) {
            params.verificationMode = Context::VERIFY_RELAXED;
        } else {
            // Requesting a certificate we could not verify would fail every client that has one.
            params.verificationMode = Context::VERIFY_NONE;
        }
        Context::Ptr context = new Context(Context::TLS_SERVER_USE, params);
        restrictProtocols(*context);
        context->setInvalidCertificateHandler(certificateHandlers().server);
        // POCO's extended verification would match the client's certificate against the
        // client's IP address; node certificates (IHE ATNA) name the node, not its address.
        // The chain is still verified by OpenSSL against ca.
        context->enableExtendedCertificateVerification(false);
        SSL_CTX* ssl = context->sslContext();
        if (SSL_CTX_check_private_key(ssl) != 1) {
            throw TransportError("TLS server: key " + config.key + " does not match cert " +
                                 config.cert);
        }
        if (!config.ca.empty()) {
            // Tells clients which CA we accept, so one holding several certificates picks
            // the right one.
            if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.ca.c_str())) {
                SSL_CTX_set_client_CA_list(ssl, names);
            }
        }
        // Sessions are never resumed (one long-lived connection per sender); TLS 1.3 tickets
        // would only be bytes the client has to read before its first answer.
        SSL_CTX_set_num_tickets(ssl, 0);
        static const unsigned char sessionContext[] = "hl7gw.mllp";
        SSL_CTX_set_session_id_context(ssl, sessionContext, sizeof(sessionContext) - 1);
        return context;
    });
}

Context::Ptr makeClientContext(const TlsConfig& config)
{
    return buildContext("client", [&config]() -> Context::Ptr {
        if (config.cert.empty() != config.key.empty()) {
            throw TransportError("TLS client: cert and key go together (client certificate)");
        }
        Context::Params params;
        params.certificateFile = config.cert;
        params.privateKeyFile = config.key;
        params.caLocation = config.ca;
        params.loadDefaultCAs = config.ca.empty();
        params.cipherList = CipherList;
        // STRICT, not RELAXED: POCO skips the host name check for loopback addresses unless
        // verification is strict, and a partner reached through a local tunnel must still
        // present the certificate of the name we dialled.
        params.verificationMode = Context::VERIFY_STRICT;
        Context::Ptr context = new Context(Context::TLS_CLIENT_USE, params);
        restrictProtocols(*context);
        context->setInvalidCertificateHandler(certificateHandlers().client);
        if (!config.cert.empty() && SSL_CTX_check_private_key(context->sslContext()) != 1) {
            throw TransportError("TLS client: key " + config.key + " does not match cert " +
                                 config.cert);
        }
        return context;
    });
}

} // namespace hl7gw::transport
