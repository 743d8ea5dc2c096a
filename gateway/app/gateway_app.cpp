#include "gateway/app/gateway_app.h"

#include "gateway/app/map_command.h"
#include "gateway/app/messages_command.h"
#include "gateway/app/parse_command.h"
#include "gateway/app/send_command.h"
#include "gateway/app/serve_command.h"
#include "gateway/app/validate_command.h"
#include "gateway/core/errors.h"

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>

#include <cstdlib>
#include <iostream>

namespace hl7gw::app {

using Poco::Util::Option;

GatewayApp::GatewayApp()
{
    setUnixOptions(true);
}

void GatewayApp::defineOptions(Poco::Util::OptionSet& options)
{
    options.addOption(Option("help", "h", "print this help and exit"));
    options.addOption(Option("version", "", "print the version and exit"));
    options.addOption(Option("to", "",
                             "parse: output form er7|xml|json|summary (default summary); "
                             "send: mllp://HOST:PORT")
                          .argument("FORM|URL"));
    options.addOption(Option("get", "",
                             "parse: print the decoded value at PATH (e.g. PID-5.1, OBX[3]-5); "
                             "repeatable, one tab-separated line per message")
                          .argument("PATH")
                          .repeatable(true));
    options.addOption(Option("charset", "",
                             "character set of messages whose MSH-18 is empty "
                             "(the channel default; default UNICODE UTF-8)")
                          .argument("NAME"));
    options.addOption(Option("profile", "", "validate: also check the conformance profile in FILE")
                          .argument("FILE"));
    options.addOption(
        Option("config", "", "serve, messages: the configuration file").argument("FILE"));
    options.addOption(
        Option("set", "",
               "serve, messages: override a configuration value, e.g. "
               "store.url=sqlite:/var/lib/hl7gw/hl7gw.db or mllp.0.listen=127.0.0.1:2575")
            .argument("PATH=VALUE")
            .repeatable(true));
    options.addOption(Option("state", "", "messages: only this state").argument("STATE"));
    options.addOption(
        Option("type", "", "messages: only this type (ADT^A01, or ADT)").argument("TYPE"));
    options.addOption(
        Option("since", "", "messages: received at or after TS (2026-12-01T08:00:00+08:00)")
            .argument("TS"));
    options.addOption(Option("channel", "", "messages: only this channel").argument("NAME"));
    options.addOption(Option("direction", "", "messages: in or out").argument("DIR"));
    options.addOption(
        Option("limit", "", "messages list: at most N (default 100, 0 = all)").argument("N"));
    options.addOption(Option("json", "", "messages: JSON Lines"));
    options.addOption(Option("tls", "", "send: use TLS"));
    options.addOption(
        Option("ca", "", "send: verify the server against this CA file").argument("FILE"));
    options.addOption(Option("cert", "", "send: client certificate (PEM)").argument("FILE"));
    options.addOption(Option("key", "", "send: client key (PEM)").argument("FILE"));
    options.addOption(
        Option("mapping", "", "map: a message map name or a .map file (default: by message type)")
            .argument("NAME_OR_FILE"));
    options.addOption(Option("dialect", "", "map: the partner dialect (adapters/NAME/dialect.json)")
                          .argument("NAME"));
    options.addOption(Option("format", "", "map: json (default) or xml").argument("FORMAT"));
    options.addOption(
        Option("mappings", "", "map, test: the mappings directory (default ./mappings)")
            .argument("DIR"));
    options.addOption(
        Option("adapters", "", "map, test: the adapters directory (default ./adapters)")
            .argument("DIR"));
    options.addOption(Option("out", "", "map: write each result to a file in DIR").argument("DIR"));
    options.addOption(Option("update", "", "test: record the current output as the expected one"));
    options.addOption(Option("ack-timeout", "", "send: seconds to wait for each ACK (default 30)")
                          .argument("SECONDS"));
}

void GatewayApp::handleOption(const std::string& name, const std::string& value)
{
    if (name == "help") {
        helpRequested_ = true;
    } else if (name == "version") {
        versionRequested_ = true;
    } else if (name == "to") {
        to_ = value;
    } else if (name == "get") {
        gets_.push_back(value);
    } else if (name == "charset") {
        charset_ = value;
    } else if (name == "profile") {
        profile_ = value;
    } else if (name == "json" || name == "tls" || name == "update") {
        flags_.insert(name);
    } else {
        values_[name].push_back(value);
    }
}

void GatewayApp::printHelp() const
{
    Poco::Util::HelpFormatter formatter(options());
    formatter.setCommand("hl7gw");
    formatter.setUsage("COMMAND [OPTIONS] FILE...");
    formatter.setHeader(
        "HL7 v2 / FHIR R4 integration gateway.\n"
        "Commands:\n"
        "  parse [--to er7|xml|json|summary] [--get PATH]... FILE...   read messages ('-' = "
        "stdin)\n"
        "  validate [--profile FILE] FILE...                           check message structure\n"
        "  serve --config FILE [--set PATH=VALUE]...                   run the gateway\n"
        "  messages list|show|replay|count --config FILE [...]         stored messages, fate\n"
        "  send --to mllp://HOST:PORT [--tls] [--ca F] [--cert F] [--key F] FILE...\n"
        "  map [--mapping NAME_OR_FILE] [--dialect NAME] [--format json|xml] FILE...  v2 -> FHIR\n"
        "  test DIR [--update]                                         run recorded mapping pairs\n"
        "Exit codes: 0 success, 1 bad input, 2 usage or configuration error.");
    formatter.setUnixStyle(true);
    formatter.setWidth(110);
    formatter.format(std::cout);
}

std::string GatewayApp::value(const std::string& name) const
{
    const auto it = values_.find(name);
    return it == values_.end() || it->second.empty() ? std::string() : it->second.back();
}

std::vector<std::string> GatewayApp::values(const std::string& name) const
{
    const auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>() : it->second;
}

int GatewayApp::usage(const std::string& problem) const
{
    std::cerr << "hl7gw: " << problem << " (see hl7gw --help)\n";
    return 2;
}

int GatewayApp::main(const std::vector<std::string>& args)
{
    if (helpRequested_) {
        printHelp();
        return 0;
    }
    if (versionRequested_) {
        std::cout << "hl7gw " << HL7GW_VERSION << '\n';
        return 0;
    }
    if (args.empty()) {
        return usage("no command given");
    }
    const std::string& command = args[0];
    const std::vector<std::string> inputs(args.begin() + 1, args.end());
    const hl7v2::Charset* defaultCharset = &hl7v2::Charset::utf8();
    if (!charset_.empty()) {
        defaultCharset = hl7v2::Charset::fromAnyName(charset_);
        if (defaultCharset == nullptr) {
            return usage("--charset: unknown or unsupported character set '" + charset_ + "'");
        }
    }
    try {
        if (command == "parse") {
            if (inputs.empty()) {
                return usage("parse needs at least one FILE ('-' for stdin)");
            }
            ParseCommandOptions options;
            if (!to_.empty()) {
                options.to = to_;
            }
            options.gets = gets_;
            options.inputs = inputs;
            options.defaultCharset = defaultCharset;
            return runParse(options, std::cout, std::cerr);
        }
        if (command == "validate") {
            if (inputs.empty()) {
                return usage("validate needs at least one FILE ('-' for stdin)");
            }
            ValidateCommandOptions options;
            options.inputs = inputs;
            options.profile = profile_;
            options.defaultCharset = defaultCharset;
            return runValidate(options, std::cout, std::cerr);
        }
        if (command == "serve") {
            if (!inputs.empty()) {
                return usage("serve takes no FILE arguments (use --config)");
            }
            if (value("config").empty()) {
                return usage("serve needs --config FILE");
            }
            return runServe(ServeCommandOptions{value("config"), values("set")});
        }
        if (command == "messages") {
            if (inputs.empty()) {
                return usage("messages needs an action: list, show, replay or count");
            }
            MessagesCommandOptions options;
            options.action = inputs[0];
            options.arguments.assign(inputs.begin() + 1, inputs.end());
            options.config = value("config");
            options.sets = values("set");
            options.state = value("state");
            options.type = value("type");
            options.since = value("since");
            options.channel = value("channel");
            options.direction = value("direction");
            options.json = flags_.count("json") != 0;
            if (!value("limit").empty()) {
                char* end = nullptr;
                const long long n = std::strtoll(value("limit").c_str(), &end, 10);
                if (*end != '\0') {
                    return usage("--limit: expected a number");
                }
                options.limit = n;
            }
            return runMessages(options, std::cout, std::cerr);
        }
        if (command == "map") {
            if (inputs.empty()) {
                return usage("map needs at least one FILE ('-' for stdin)");
            }
            MapCommandOptions options;
            options.inputs = inputs;
            options.mapping = value("mapping");
            options.dialect = value("dialect");
            if (!value("format").empty()) {
                options.format = value("format");
            }
            options.mappingsDir = value("mappings");
            options.adaptersDir = value("adapters");
            options.outDir = value("out");
            if (!charset_.empty()) {
                options.defaultCharset = defaultCharset;
            }
            return runMap(options, std::cout, std::cerr);
        }
        if (command == "test") {
            if (inputs.size() != 1) {
                return usage("test needs one directory (e.g. hl7gw test mappings/)");
            }
            MappingTestOptions options;
            options.directory = inputs[0];
            options.mappingsDir = value("mappings");
            options.adaptersDir = value("adapters");
            options.update = flags_.count("update") != 0;
            return runMappingTests(options, std::cout, std::cerr);
        }
        if (command == "send") {
            if (inputs.empty()) {
                return usage("send needs at least one FILE ('-' for stdin)");
            }
            if (to_.empty()) {
                return usage("send needs --to mllp://HOST:PORT");
            }
            SendCommandOptions options;
            options.to = to_;
            options.tls = flags_.count("tls") != 0;
            options.ca = value("ca");
            options.cert = value("cert");
            options.key = value("key");
            if (!value("ack-timeout").empty()) {
                const int seconds = std::atoi(value("ack-timeout").c_str());
                if (seconds <= 0) {
                    return usage("--ack-timeout: expected a number of seconds");
                }
                options.ackTimeoutMs = seconds * 1000;
            }
            options.inputs = inputs;
            return runSend(options, std::cout, std::cerr);
        }
    } catch (const core::IoError& e) {
        std::cerr << "hl7gw " << command << ": " << e.message() << '\n';
        return 1;
    }
    return usage("unknown command '" + command + "'");
}

} // namespace hl7gw::app
