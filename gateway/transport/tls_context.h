#pragma once

#include <Poco/AutoPtr.h>

#include <string>

namespace Poco::Net {
class Context;
}

namespace hl7gw::transport {

/// Certificates and keys as PEM file paths. TLS 1.2 is the minimum (IHE ATNA).
struct TlsConfig {
    std::string cert;
    std::string key;
    std::string ca;                 // verify the peer against this CA file
    bool requireClientCert = false; // server side: refuse clients without a valid certificate
};

/// Process-wide set-up the transport needs, done once however often it is called, from any
/// thread: Poco::Net::initializeSSL(); the rejecting InvalidCertificateHandlers our contexts
/// use; and SIGPIPE ignored when it still has its default action (POCO and OpenSSL write to
/// sockets without MSG_NOSIGNAL, so a peer that resets mid-answer would end the process).
/// MllpServer and MllpClient call it themselves; app/ may call it first at start-up.
void initializeTransport();

/// A server Context for `config`, independent of SSLManager's default contexts and config
/// files: certificate chain + key (both required, and checked to match), TLS 1.2 minimum.
/// Client certificates: with requireClientCert, required and verified against `ca` (which is
/// then required); otherwise, with `ca`, verified when a client offers one; without `ca`, not
/// requested. Throws TransportError naming the file that could not be loaded.
Poco::AutoPtr<Poco::Net::Context> makeServerContext(const TlsConfig& config);

/// A client Context for `config`: the server's certificate is always verified (against `ca`,
/// or the system's CAs when `ca` is empty) and must name the host connected to, loopback
/// included; a failure rejects the connection. `cert` + `key`, when given, are presented as
/// the client certificate (mutual TLS). TLS 1.2 minimum. Throws TransportError.
Poco::AutoPtr<Poco::Net::Context> makeClientContext(const TlsConfig& config);

} // namespace hl7gw::transport
