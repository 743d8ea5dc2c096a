#include "gateway/app/gateway_app.h"

#include "gateway/app/parse_command.h"
#include "gateway/app/validate_command.h"
#include "gateway/core/errors.h"

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>

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
    options.addOption(Option("to", "", "parse: output form er7|xml|json|summary (default summary)")
                          .argument("FORM"));
    options.addOption(
        Option("get", "", "parse: print the decoded value at PATH (e.g. PID-5.1, OBX[3]-5); "
                          "repeatable, one tab-separated line per message")
            .argument("PATH")
            .repeatable(true));
    options.addOption(Option("charset", "",
                             "character set of messages whose MSH-18 is empty "
                             "(the channel default; default UNICODE UTF-8)")
                          .argument("NAME"));
    options.addOption(
        Option("profile", "", "validate: also check the conformance profile in FILE")
            .argument("FILE"));
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
        "  parse [--to er7|xml|json|summary] [--get PATH]... FILE...   read messages ('-' = stdin)\n"
        "  validate [--profile FILE] FILE...                           check message structure\n"
        "Exit codes: 0 success, 1 bad input, 2 usage or configuration error.");
    formatter.setUnixStyle(true);
    formatter.format(std::cout);
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
    } catch (const core::IoError& e) {
        std::cerr << "hl7gw " << command << ": " << e.message() << '\n';
        return 1;
    }
    return usage("unknown command '" + command + "'");
}

} // namespace hl7gw::app
