#pragma once

#include <Poco/Util/Application.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace hl7gw::app {

/// The `hl7gw` command line: `--help`, `--version` and the commands (parse, validate ...).
/// Exit codes: 0 success, 1 bad input (with what and where on stderr), 2 usage or
/// configuration error.
class GatewayApp : public Poco::Util::Application {
  public:
    GatewayApp();

  protected:
    void defineOptions(Poco::Util::OptionSet& options) override;
    void handleOption(const std::string& name, const std::string& value) override;
    int main(const std::vector<std::string>& args) override;

  private:
    void printHelp() const;
    int usage(const std::string& problem) const;
    /// The last value given for an option (empty when not given), and all of them.
    std::string value(const std::string& name) const;
    std::vector<std::string> values(const std::string& name) const;

    bool helpRequested_ = false;
    bool versionRequested_ = false;
    std::string to_;
    std::vector<std::string> gets_;
    std::string charset_;
    std::string profile_;
    std::map<std::string, std::vector<std::string>> values_;
    std::set<std::string> flags_;
};

} // namespace hl7gw::app
