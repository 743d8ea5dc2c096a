#include "gateway/routing/destinations.h"

#include "gateway/core/clock.h"
#include "gateway/hl7v2/ack_builder.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/transport/mllp.h"

#include <Poco/Bugcheck.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Path.h>
#include <Poco/URI.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <istream>
#include <ostream>
#include <unistd.h>

namespace hl7gw::routing {

std::optional<transport::TlsConfig> readTls(core::ConfigReader& config)
{
    std::optional<core::ConfigReader> tls = config.object("tls");
    if (!tls) {
        return std::nullopt;
    }
    transport::TlsConfig out;
    out.ca = tls->string("ca", {});
    out.cert = tls->string("cert", {});
    out.key = tls->string("key", {});
    tls->finish();
    if (out.cert.empty() != out.key.empty()) {
        config.fail("tls", "cert and key go together");
    }
    return out;
}

namespace {

// ---- MLLP ----

class MllpSender : public Sender {
  public:
    explicit MllpSender(const transport::MllpClientConfig& config) : client_(config) {}

    DeliveryResult send(std::string_view payload) override
    {
        DeliveryResult result;
        if (isAck(payload)) {
            // An application ACK (enhanced mode): never acknowledged, so none is awaited.
            try {
                client_.send(payload);
            } catch (const Poco::Exception& e) {
                result.outcome = DeliveryResult::Outcome::Retry;
                result.error = e.displayText();
                return result;
            }
            result.outcome = DeliveryResult::Outcome::Delivered;
            result.response = "sent (an ACK is not acknowledged)";
            return result;
        }
        std::string answer;
        try {
            answer = client_.exchange(payload);
        } catch (const Poco::Exception& e) {
            result.outcome = DeliveryResult::Outcome::Retry;
            result.error = e.displayText();
            return result;
        }
        result.response = answer;
        hl7v2::Message ack;
        core::IssueList issues;
        if (!parser_.parse(answer, ack, issues) || !ack.findSegment("MSA")) {
            result.outcome = DeliveryResult::Outcome::Retry;
            result.error = "the answer is not an ACK (no MSA segment)";
            return result;
        }
        const std::string_view code = ack.findSegment("MSA")->field(1).raw();
        const std::optional<hl7v2::AckCode> parsed = hl7v2::parseAckCode(code);
        if (!parsed) {
            result.outcome = DeliveryResult::Outcome::Retry;
            result.error = "MSA-1 is not an acknowledgment code";
            return result;
        }
        switch (*parsed) {
        case hl7v2::AckCode::ApplicationAccept:
        case hl7v2::AckCode::CommitAccept:
            result.outcome = DeliveryResult::Outcome::Delivered;
            break;
        case hl7v2::AckCode::ApplicationError:
        case hl7v2::AckCode::CommitError:
            result.outcome = DeliveryResult::Outcome::Reject;
            result.error = "peer answered " + std::string(code);
            break;
        case hl7v2::AckCode::ApplicationReject:
        case hl7v2::AckCode::CommitReject:
            result.outcome = DeliveryResult::Outcome::Retry;
            result.error = "peer answered " + std::string(code);
            break;
        }
        return result;
    }

  private:
    // MSH-9.1 is ACK. Read off the bytes: only the header's delimiters are needed.
    static bool isAck(std::string_view payload)
    {
        if (payload.size() < 8 || payload.substr(0, 3) != "MSH") {
            return false;
        }
        const char separator = payload[3];
        std::size_t at = 0;
        for (int field = 1; field < 9; ++field) { // MSH-9 follows the 8th separator
            at = payload.find(separator, at + 1);
            if (at == std::string_view::npos) {
                return false;
            }
        }
        return payload.substr(at + 1, 3) == "ACK" &&
               (payload.size() == at + 4 || payload[at + 4] == separator ||
                payload[at + 4] == payload[4] || payload[at + 4] == '\r');
    }

    transport::MllpClient client_;
    hl7v2::Er7Parser parser_;
};

class MllpDestination : public DestinationKind {
  public:
    explicit MllpDestination(transport::MllpClientConfig config) : config_(std::move(config)) {}
    SenderPtr makeSender() const override { return std::make_unique<MllpSender>(config_); }
    std::string describe() const override
    {
        return std::string(config_.tls ? "mllps://" : "mllp://") + config_.to.toString();
    }

  private:
    transport::MllpClientConfig config_;
};

// ---- HTTP ----

struct HttpSettings {
    Poco::URI uri;
    std::string contentType;
    int timeoutMs = 30'000;
    std::optional<transport::TlsConfig> tls;
};

class HttpSender : public Sender {
  public:
    explicit HttpSender(const HttpSettings& settings) : settings_(settings)
    {
        if (settings_.uri.getScheme() == "https") {
            Poco::Net::Context::Ptr context = new Poco::Net::Context(
                Poco::Net::Context::TLS_CLIENT_USE, settings_.tls ? settings_.tls->key : "",
                settings_.tls ? settings_.tls->cert : "", settings_.tls ? settings_.tls->ca : "",
                Poco::Net::Context::VERIFY_RELAXED);
            session_ = std::make_unique<Poco::Net::HTTPSClientSession>(
                settings_.uri.getHost(), settings_.uri.getPort(), context);
        } else {
            session_ = std::make_unique<Poco::Net::HTTPClientSession>(settings_.uri.getHost(),
                                                                      settings_.uri.getPort());
        }
        session_->setTimeout(Poco::Timespan(static_cast<long>(settings_.timeoutMs) * 1000));
        session_->setKeepAlive(true);
    }

    DeliveryResult send(std::string_view payload) override
    {
        DeliveryResult result;
        try {
            Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST,
                                           settings_.uri.getPathAndQuery(),
                                           Poco::Net::HTTPMessage::HTTP_1_1);
            request.setContentType(settings_.contentType);
            request.setContentLength(static_cast<std::streamsize>(payload.size()));
            request.setKeepAlive(true);
            std::ostream& body = session_->sendRequest(request);
            body.write(payload.data(), static_cast<std::streamsize>(payload.size()));
            Poco::Net::HTTPResponse response;
            std::istream& in = session_->receiveResponse(response);
            std::string answer((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
            const int status = static_cast<int>(response.getStatus());
            result.response = std::to_string(status) + ' ' + response.getReason();
            if (status >= 200 && status < 300) {
                result.outcome = DeliveryResult::Outcome::Delivered;
            } else if (status == 408 || status == 429 || status >= 500) {
                result.outcome = DeliveryResult::Outcome::Retry;
                result.error = "HTTP " + result.response;
            } else {
                result.outcome = DeliveryResult::Outcome::Reject;
                result.error = "HTTP " + result.response;
            }
        } catch (const Poco::Exception& e) {
            session_->reset();
            result.outcome = DeliveryResult::Outcome::Retry;
            result.error = e.displayText();
        }
        return result;
    }

  private:
    const HttpSettings& settings_;
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

class HttpDestination : public DestinationKind {
  public:
    explicit HttpDestination(HttpSettings settings) : settings_(std::move(settings)) {}
    SenderPtr makeSender() const override { return std::make_unique<HttpSender>(settings_); }
    std::string describe() const override { return settings_.uri.toString(); }

  private:
    HttpSettings settings_;
};

// ---- file ----

class FileSender : public Sender {
  public:
    FileSender(std::string directory, std::string suffix)
        : directory_(std::move(directory)), suffix_(std::move(suffix))
    {
    }

    DeliveryResult send(std::string_view payload) override
    {
        static std::atomic<std::uint64_t> sequence{0};
        DeliveryResult result;
        try {
            Poco::File(directory_).createDirectories();
        } catch (const Poco::Exception& e) {
            result.outcome = DeliveryResult::Outcome::Retry;
            result.error = e.displayText();
            return result;
        }
        char name[96];
        std::snprintf(name, sizeof name, "%lld-%06llu%s",
                      static_cast<long long>(core::SystemClock::instance().nowMicros()),
                      static_cast<unsigned long long>(sequence.fetch_add(1) % 1000000),
                      suffix_.c_str());
        const std::string final = Poco::Path(directory_, name).toString();
        const std::string temporary = final + ".tmp";
        const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0) {
            result.outcome = DeliveryResult::Outcome::Retry;
            result.error = "cannot create " + temporary + ": " + std::strerror(errno);
            return result;
        }
        std::size_t written = 0;
        bool ok = true;
        while (written < payload.size()) {
            const ssize_t n = ::write(fd, payload.data() + written, payload.size() - written);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                ok = false;
                break;
            }
            written += static_cast<std::size_t>(n);
        }
        const int savedErrno = errno;
        ok = ok && ::fsync(fd) == 0;
        ::close(fd);
        if (!ok || ::rename(temporary.c_str(), final.c_str()) != 0) {
            ::unlink(temporary.c_str());
            result.outcome = DeliveryResult::Outcome::Retry;
            result.error = "cannot write " + final + ": " + std::strerror(ok ? errno : savedErrno);
            return result;
        }
        result.outcome = DeliveryResult::Outcome::Delivered;
        result.response = final;
        return result;
    }

  private:
    std::string directory_;
    std::string suffix_;
};

class FileDestination : public DestinationKind {
  public:
    FileDestination(std::string directory, std::string suffix)
        : directory_(std::move(directory)), suffix_(std::move(suffix))
    {
    }
    SenderPtr makeSender() const override
    {
        return std::make_unique<FileSender>(directory_, suffix_);
    }
    std::string describe() const override { return "file:" + directory_; }

  private:
    std::string directory_;
    std::string suffix_;
};

} // namespace

DestinationKindPtr makeMllpDestination(core::ConfigReader& config)
{
    transport::MllpClientConfig client;
    const std::string to = config.requiredString("to");
    try {
        client.to = transport::Endpoint::parse(to);
    } catch (const core::ConfigError& e) {
        config.fail("to", e.message());
    }
    client.tls = readTls(config);
    client.connectTimeoutMs =
        static_cast<int>(config.integer("connect_timeout_ms", client.connectTimeoutMs, 1, 600'000));
    client.ackTimeoutMs =
        static_cast<int>(config.integer("ack_timeout_ms", client.ackTimeoutMs, 1, 3'600'000));
    return std::make_shared<MllpDestination>(std::move(client));
}

DestinationKindPtr makeHttpDestination(core::ConfigReader& config)
{
    HttpSettings settings;
    const std::string url = config.requiredString("url");
    try {
        settings.uri = Poco::URI(url);
    } catch (const Poco::Exception& e) {
        config.fail("url", "not a URL: " + e.message());
    }
    if (settings.uri.getScheme() != "http" && settings.uri.getScheme() != "https") {
        config.fail("url", "must start with http:// or https://");
    }
    settings.contentType = config.string("content_type", "x-application/hl7-v2+er7");
    settings.timeoutMs = static_cast<int>(config.integer("timeout_ms", 30'000, 1, 3'600'000));
    settings.tls = readTls(config);
    return std::make_shared<HttpDestination>(std::move(settings));
}

ReceiptResult DestinationKind::applyAtReceipt(std::string_view) const
{
    // The receiver asks only kinds that say appliesAtReceipt().
    poco_bugcheck_msg("applyAtReceipt() on a destination kind that does not apply at receipt");
    return {};
}

DestinationKindPtr makeFileDestination(core::ConfigReader& config)
{
    std::string directory = config.requiredString("directory");
    std::string suffix = config.string("suffix", ".hl7");
    return std::make_shared<FileDestination>(std::move(directory), std::move(suffix));
}

} // namespace hl7gw::routing
