#pragma once

// Helpers shared by the transport tests: bounded waits, a raw MLLP peer for bytes MllpClient
// would never send, HL7-like messages with their ACKs, and a throw-away PKI.

#include "gateway/transport/mllp.h"
#include "tests/unit/test_support.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/TemporaryFile.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace hl7gw::test {

using namespace std::chrono_literals;

/// Re-checks `condition` until it holds or `timeout` passes; the result of the last check.
/// For effects that land on another thread (counters, closes), never to pace a test.
inline bool waitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = 5000ms)
{
    return waitFor(condition, static_cast<double>(timeout.count()) / 1000.0);
}

/// An HL7 v2-like message with control id `controlId` (MSH-10).
inline std::string message(const std::string& controlId)
{
    return "MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A01|" + controlId +
           "|P|2.5\rPID|1||12345^^^HOSP||DOE^JANE\r";
}

/// MSH-10 of a message built by message(), or "" (tests only; production code asks hl7v2).
inline std::string controlIdOf(std::string_view bytes)
{
    std::size_t field = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < bytes.size() && bytes[i] != '\r'; ++i) {
        if (bytes[i] == '|') {
            ++field;
            if (field == 9) {
                start = i + 1;
            } else if (field == 10) {
                return std::string(bytes.substr(start, i - start));
            }
        }
    }
    return {};
}

/// The ACK-like answer the echo handler gives for `controlId`.
inline std::string ackFor(const std::string& controlId)
{
    return "MSH|^~\\&|RCV|FAC|SND|FAC|20240101120001||ACK^A01|A" + controlId + "|P|2.5\rMSA|AA|" +
           controlId + "\r";
}

/// Answers every message with ackFor(its control id).
inline std::string echoAck(std::string_view bytes, const transport::ConnectionInfo&)
{
    return ackFor(controlIdOf(bytes));
}

inline transport::MllpListenerConfig listenerConfig(const std::string& name = "test")
{
    transport::MllpListenerConfig config;
    config.name = name;
    config.listen = transport::Endpoint{"127.0.0.1", 0};
    return config;
}

inline transport::MllpClientConfig clientConfig(std::uint16_t port)
{
    transport::MllpClientConfig config;
    config.to = transport::Endpoint{"127.0.0.1", port};
    config.connectTimeoutMs = 5000;
    config.ackTimeoutMs = 5000;
    return config;
}

/// A plain TCP peer that sends exactly the bytes a test gives it.
class RawPeer {
  public:
    explicit RawPeer(std::uint16_t port)
    {
        socket_.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(5, 0));
        socket_.setReceiveTimeout(Poco::Timespan(5, 0));
    }

    void send(std::string_view bytes)
    {
        while (!bytes.empty()) {
            const int sent = socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
            if (sent <= 0) {
                throw std::runtime_error("send failed");
            }
            bytes.remove_prefix(static_cast<std::size_t>(sent));
        }
    }

    /// The next answer, or nothing when the server closed first (or 5 s passed).
    std::optional<std::string> readFrame()
    {
        for (;;) {
            for (auto event = framer_.next(); event.kind != Framer::EventKind::NeedMore;
                 event = framer_.next()) {
                if (event.kind == Framer::EventKind::Frame) {
                    return std::string(event.message);
                }
            }
            if (!receive()) {
                return std::nullopt;
            }
        }
    }

    /// True when the server closes the connection (end of stream or reset) within 5 s,
    /// without sending another complete frame first.
    bool closedByServer() { return !readFrame().has_value() && closed_; }

  private:
    using Framer = transport::MllpFramer;

    bool receive()
    {
        try {
            const auto space = framer_.prepare(4096);
            const int received = socket_.receiveBytes(space.data(), static_cast<int>(space.size()));
            if (received <= 0) {
                closed_ = true;
                return false;
            }
            framer_.commit(static_cast<std::size_t>(received));
            return true;
        } catch (const Poco::TimeoutException&) {
            return false;
        } catch (const Poco::Net::NetException&) {
            // A reset: the server closed with our bytes unread.
            closed_ = true;
            return false;
        }
    }

    Poco::Net::StreamSocket socket_;
    Framer framer_;
    bool closed_ = false;
};

/// A certificate authority and the certificates it issues, written as PEM files: P-256 keys,
/// SHA-256 signatures, valid from an hour ago for a day. Built with the OpenSSL API, so the
/// tests need no openssl command.
class TestPki {
  public:
    struct Issued {
        std::string cert;
        std::string key;
    };

    /// A self-signed CA whose files are `name`.crt and `name`.key in `dir`.
    TestPki(const TempDir& dir, const std::string& name) : dir_(dir)
    {
        key_.reset(newKey());
        cert_.reset(X509_new());
        build(cert_.get(), key_.get(), "hl7gw test CA " + name, nullptr);
        addExtension(cert_.get(), cert_.get(), NID_basic_constraints, "critical,CA:TRUE");
        addExtension(cert_.get(), cert_.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
        addExtension(cert_.get(), cert_.get(), NID_subject_key_identifier, "hash");
        sign(cert_.get(), key_.get());
        ca_ = write(name, cert_.get(), key_.get()).cert;
    }

    /// The CA certificate file (what TlsConfig::ca names).
    const std::string& caFile() const { return ca_; }

    /// A server certificate for `subjectAltName` ("IP:127.0.0.1", "DNS:host").
    Issued issueServer(const std::string& name, const std::string& subjectAltName) const
    {
        return issue(name, "serverAuth", subjectAltName);
    }

    /// A client (node) certificate.
    Issued issueClient(const std::string& name) const { return issue(name, "clientAuth", ""); }

  private:
    struct KeyFree {
        void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
    };
    struct CertFree {
        void operator()(X509* cert) const { X509_free(cert); }
    };
    using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
    using CertPtr = std::unique_ptr<X509, CertFree>;

    static EVP_PKEY* newKey()
    {
        EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        if (!key) {
            throw std::runtime_error("EC key generation failed");
        }
        return key;
    }

    static void build(X509* cert, EVP_PKEY* key, const std::string& commonName, X509* issuer)
    {
        static long serial = 1;
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
        X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* subject = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("hl7gw tests"), -1, -1,
                                   0);
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(commonName.c_str()), -1,
                                   -1, 0);
        X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : subject);
    }

    static void addExtension(X509* cert, X509* issuer, int nid, const std::string& value)
    {
        X509V3_CTX context;
        X509V3_set_ctx_nodb(&context);
        X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
        X509_EXTENSION* extension = X509V3_EXT_nconf_nid(nullptr, &context, nid, value.c_str());
        if (!extension) {
            throw std::runtime_error("bad extension " + value);
        }
        X509_add_ext(cert, extension, -1);
        X509_EXTENSION_free(extension);
    }

    static void sign(X509* cert, EVP_PKEY* key)
    {
        if (X509_sign(cert, key, EVP_sha256()) <= 0) {
            throw std::runtime_error("signing failed");
        }
    }

    Issued issue(const std::string& name, const std::string& usage,
                 const std::string& subjectAltName) const
    {
        KeyPtr key(newKey());
        CertPtr cert(X509_new());
        build(cert.get(), key.get(), name, cert_.get());
        addExtension(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE");
        addExtension(cert.get(), cert_.get(), NID_key_usage, "critical,digitalSignature");
        addExtension(cert.get(), cert_.get(), NID_ext_key_usage, usage);
        addExtension(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid:always");
        if (!subjectAltName.empty()) {
            addExtension(cert.get(), cert_.get(), NID_subject_alt_name, subjectAltName);
        }
        sign(cert.get(), key_.get());
        return write(name, cert.get(), key.get());
    }

    Issued write(const std::string& name, X509* cert, EVP_PKEY* key) const
    {
        Issued files{dir_.file(name + ".crt"), dir_.file(name + ".key")};
        BIO* certOut = BIO_new_file(files.cert.c_str(), "w");
        BIO* keyOut = BIO_new_file(files.key.c_str(), "w");
        const bool written =
            certOut && keyOut && PEM_write_bio_X509(certOut, cert) == 1 &&
            PEM_write_bio_PrivateKey(keyOut, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
        BIO_free(certOut);
        BIO_free(keyOut);
        if (!written) {
            throw std::runtime_error("cannot write " + files.cert);
        }
        return files;
    }

    const TempDir& dir_;
    KeyPtr key_;
    CertPtr cert_;
    std::string ca_;
};

} // namespace hl7gw::test
