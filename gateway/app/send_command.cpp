#include "gateway/app/send_command.h"

#include "gateway/app/input_file.h"
#include "gateway/core/errors.h"
#include "gateway/hl7v2/ack_builder.h"
#include "gateway/hl7v2/er7_parser.h"
#include "gateway/hl7v2/message_splitter.h"
#include "gateway/hl7v2/text_decoder.h"
#include "gateway/transport/mllp.h"

#include <ostream>

namespace hl7gw::app {

namespace {

// ERR-3.2 (v2.5+) or ERR-1.4.2 (before), per ERR segment.
std::string errText(const hl7v2::Message& ack, hl7v2::TextDecoder& decoder)
{
    std::string text;
    for (std::size_t n = 1;; ++n) {
        const std::optional<hl7v2::SegmentView> err = ack.findSegment("ERR", n);
        if (!err) {
            break;
        }
        hl7v2::Element e = err->field(3).component(2);
        if (e.empty()) {
            e = err->field(1).component(4).subcomponent(2);
        }
        if (e.empty()) {
            e = err->field(8);
        }
        if (!e.empty()) {
            text += text.empty() ? "" : "; ";
            text += decoder.decode(e);
        }
    }
    return text;
}

} // namespace

int runSend(const SendCommandOptions& options, std::ostream& out, std::ostream& err)
{
    std::string target = options.to;
    bool tls = options.tls;
    if (target.rfind("mllp://", 0) == 0) {
        target = target.substr(7);
    } else if (target.rfind("mllps://", 0) == 0) {
        target = target.substr(8);
        tls = true;
    } else {
        err << "hl7gw send: --to: expected mllp://HOST:PORT, found '" << options.to << "'\n";
        return 2;
    }
    transport::MllpClientConfig config;
    try {
        config.to = transport::Endpoint::parse(target);
    } catch (const core::ConfigError& e) {
        err << "hl7gw send: --to: " << e.message() << '\n';
        return 2;
    }
    if (!tls && (!options.ca.empty() || !options.cert.empty() || !options.key.empty())) {
        err << "hl7gw send: --ca, --cert and --key need --tls (or mllps://)\n";
        return 2;
    }
    if (options.cert.empty() != options.key.empty()) {
        err << "hl7gw send: --cert and --key go together\n";
        return 2;
    }
    if (tls) {
        transport::initializeTransport();
        config.tls = transport::TlsConfig{options.cert, options.key, options.ca, false};
    }
    config.ackTimeoutMs = options.ackTimeoutMs;
    transport::MllpClient client(config);
    const hl7v2::Er7Parser parser;
    hl7v2::TextDecoder decoder;
    bool allAccepted = true;
    for (const std::string& name : options.inputs) {
        std::unique_ptr<InputFile> input;
        try {
            input = std::make_unique<InputFile>(name);
        } catch (const core::IoError& e) {
            err << "hl7gw send: " << e.message() << '\n';
            return 1;
        }
        hl7v2::MessageSplitter splitter(input->bytes());
        hl7v2::Chunk chunk;
        core::IssueList envelopeIssues;
        while (splitter.next(chunk, envelopeIssues)) {
            if (chunk.kind == hl7v2::Chunk::Kind::Junk) {
                err << "hl7gw send: " << name << ":line " << chunk.line
                    << ": not inside a message (no MSH before it); not sent\n";
                allAccepted = false;
                continue;
            }
            if (chunk.kind != hl7v2::Chunk::Kind::Message) {
                continue;
            }
            // Segment ends go out as CR, the only terminator MLLP peers must accept.
            std::string message(chunk.bytes);
            for (std::size_t i = 0; i < message.size(); ++i) {
                if (message[i] == '\n') {
                    if (i > 0 && message[i - 1] == '\r') {
                        message.erase(i--, 1);
                    } else {
                        message[i] = '\r';
                    }
                }
            }
            const std::string where = name + ':' + std::to_string(chunk.number);
            std::string answer;
            try {
                answer = client.exchange(message);
            } catch (const Poco::Exception& e) {
                err << "hl7gw send: " << where << ": " << e.displayText() << '\n';
                out << where << "\t\t\tno answer\n";
                allAccepted = false;
                continue;
            }
            hl7v2::Message ack;
            core::IssueList issues;
            std::optional<hl7v2::SegmentView> msa;
            if (parser.parse(answer, ack, issues)) {
                msa = ack.findSegment("MSA");
            }
            if (!msa) {
                err << "hl7gw send: " << where << ": the answer is not an ACK (no MSA)\n";
                out << where << "\t\t\tanswer without MSA\n";
                allAccepted = false;
                continue;
            }
            const std::string_view code = msa->field(1).raw();
            const std::optional<hl7v2::AckCode> parsed = hl7v2::parseAckCode(code);
            out << where << '\t' << code << '\t' << decoder.decode(msa->field(2)) << '\t'
                << errText(ack, decoder) << '\n';
            if (!parsed || (*parsed != hl7v2::AckCode::ApplicationAccept &&
                            *parsed != hl7v2::AckCode::CommitAccept)) {
                allAccepted = false;
            }
        }
    }
    return allAccepted ? 0 : 1;
}

} // namespace hl7gw::app
