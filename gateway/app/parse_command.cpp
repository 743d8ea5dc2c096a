#include "gateway/app/parse_command.h"

#include "gateway/app/message_reader.h"
#include "gateway/hl7v2/er7_writer.h"
#include "gateway/hl7v2/json_writer.h"
#include "gateway/hl7v2/path.h"
#include "gateway/hl7v2/text_decoder.h"
#include "gateway/hl7v2/xml_codec.h"

#include <ostream>

namespace hl7gw::app {

std::string escapeGetValue(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            out += c;
        }
    }
    return out;
}

int runParse(const ParseCommandOptions& options, std::ostream& out, std::ostream& err)
{
    std::vector<hl7v2::Path> paths;
    for (const std::string& text : options.gets) {
        std::string error;
        std::optional<hl7v2::Path> path = hl7v2::Path::parse(text, &error);
        if (!path) {
            err << "hl7gw parse: --get " << error << '\n';
            return 2;
        }
        paths.push_back(*path);
    }
    const std::string& to = options.to;
    if (to != "er7" && to != "xml" && to != "json" && to != "summary") {
        err << "hl7gw parse: --to must be er7, xml, json or summary (got '" << to << "')\n";
        return 2;
    }

    hl7v2::ParseOptions parseOptions;
    parseOptions.defaultCharset = options.defaultCharset;
    MessageReader reader(parseOptions, err);
    hl7v2::TextDecoder decoder;
    std::string buffer;

    auto onMessage = [&](MessageContext& ctx) {
        const hl7v2::Message* message = ctx.message;
        if (!paths.empty()) {
            buffer.clear();
            for (std::size_t i = 0; i < paths.size(); ++i) {
                if (i > 0) {
                    buffer += '\t';
                }
                if (message == nullptr) {
                    continue;
                }
                const hl7v2::Element e = paths[i].resolve(*message);
                if (e.isNull()) {
                    buffer += "\"\"";
                } else if (e.present()) {
                    buffer += escapeGetValue(decoder.decode(e, &ctx.issues));
                }
            }
            out << buffer << '\n';
            return;
        }
        if (to == "summary") {
            out << ctx.number << '\t';
            if (message == nullptr) {
                out << "-\t-\t-\t-\t0\n";
                return;
            }
            out << escapeGetValue(decoder.decode(message->header().field(9).component(1))) << '^'
                << escapeGetValue(decoder.decode(message->header().field(9).component(2))) << '\t'
                << escapeGetValue(decoder.decode(message->header().field(10))) << '\t'
                << escapeGetValue(decoder.decode(message->header().field(12).component(1))) << '\t'
                << message->charset().hl7Name << '\t' << message->segmentCount() << '\n';
            return;
        }
        if (message == nullptr) {
            return;
        }
        if (to == "er7") {
            out << hl7v2::writeEr7(*message);
        } else if (to == "json") {
            buffer.clear();
            hl7v2::writeJson(*message, ctx.number, decoder, buffer, &ctx.issues);
            out << buffer << '\n';
        } else if (to == "xml") {
            buffer.clear();
            if (hl7v2::writeXml(*message, decoder, buffer, &ctx.issues)) {
                out << buffer; // one document per message
            }
        }
    };
    auto onEnvelope = [&](const std::string&, const hl7v2::Chunk& chunk) {
        if (to == "er7" && paths.empty()) {
            out << chunk.bytes << '\r'; // batch envelopes are kept in an ER7 round trip
        }
    };

    const ReadTotals totals = reader.read(options.inputs, onMessage, onEnvelope);
    if (to == "summary" && paths.empty()) {
        out << "total\tmessages=" << totals.messages << "\tbytes=" << totals.bytes
            << "\terrors=" << totals.errors << '\n';
    }
    out.flush();
    return totals.errors > 0 ? 1 : 0;
}

} // namespace hl7gw::app
