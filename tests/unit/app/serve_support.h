#pragma once

#include "tests/unit/test_support.h"

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace hl7gw::test {

struct CommandRun {
    int exitCode = -1;
    std::string out;
    std::string err;
};

/// Runs build/bin/hl7gw to completion with `args`.
inline CommandRun runGateway(const std::vector<std::string>& args, const std::string& input = {})
{
    Poco::Pipe inPipe;
    Poco::Pipe outPipe;
    Poco::Pipe errPipe;
    Poco::ProcessHandle handle =
        Poco::Process::launch(HL7GW_BINARY, args, &inPipe, &outPipe, &errPipe);
    {
        Poco::PipeOutputStream in(inPipe);
        in << input;
        in.close();
    }
    CommandRun run;
    std::thread errReader([&]() {
        Poco::PipeInputStream err(errPipe);
        Poco::StreamCopier::copyToString(err, run.err);
    });
    Poco::PipeInputStream out(outPipe);
    Poco::StreamCopier::copyToString(out, run.out);
    errReader.join();
    run.exitCode = handle.wait();
    return run;
}

/// The PostgreSQL server the test scripts start (scripts/pg.sh), as a URL; fails the test
/// when it is not set, so that a missing database is never a silent pass.
inline std::string postgresUrl()
{
    const char* url = std::getenv("HL7GW_TEST_PG_URL");
    BOOST_REQUIRE_MESSAGE(url != nullptr && *url != '\0',
                          "HL7GW_TEST_PG_URL is not set: run the tests with scripts/test.sh, "
                          "which starts PostgreSQL (scripts/pg.sh)");
    return url;
}

/// A fresh, empty PostgreSQL database on the test server; returns its URL.
inline std::string freshPostgresDatabase(const std::string& name)
{
    const std::string base = postgresUrl();
    const std::string admin = base.substr(0, base.rfind('/')) + "/postgres";
    for (const std::string& sql :
         {"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "CREATE DATABASE " + name}) {
        Poco::ProcessHandle h =
            Poco::Process::launch("psql", {"-q", "-v", "ON_ERROR_STOP=1", "-d", admin, "-c", sql});
        BOOST_REQUIRE_MESSAGE(h.wait() == 0, "psql failed: " << sql);
    }
    return base.substr(0, base.rfind('/')) + "/" + name;
}

/// A gateway.json for one MLLP listener "in" (port 0) feeding channel "c", HTTP on port 0,
/// and the given store.
inline std::string minimalGatewayConfig(const std::string& storeUrl)
{
    return R"({
  "store": {"url": ")" +
           storeUrl + R"("},
  "mllp": [{"name": "in", "listen": "127.0.0.1:0", "channel": "c"}],
  "http": {"listen": "127.0.0.1:0"},
  "channels": [{"name": "c"}]
})";
}

/// `hl7gw serve` as a child process on ports chosen by the system (port 0), with the ports
/// read back from its start line.
class GatewayProcess {
  public:
    GatewayProcess(const std::string& config, const std::vector<std::string>& sets)
    {
        std::vector<std::string> args{"serve", "--config", config};
        for (const std::string& s : sets) {
            args.push_back("--set");
            args.push_back(s);
        }
        handle_ = std::make_unique<Poco::ProcessHandle>(
            Poco::Process::launch(HL7GW_BINARY, args, nullptr, nullptr, &errPipe_));
        reader_ = std::thread([this] { readLog(); });
    }

    ~GatewayProcess()
    {
        if (running()) {
            kill(SIGKILL);
        }
        wait();
    }

    /// Waits for the start line; false when the process ended or said nothing in time.
    bool waitUntilListening(double seconds = 20)
    {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::milliseconds(static_cast<long>(seconds * 1000)),
                                 [this] { return listening_ || ended_; }) &&
               listening_;
    }

    std::uint16_t mllpPort(std::size_t i = 0) const { return mllpPorts_.at(i); }
    std::uint16_t httpPort() const { return httpPort_; }
    std::string log() const
    {
        std::lock_guard lock(mutex_);
        return log_;
    }
    std::string startLine() const
    {
        std::lock_guard lock(mutex_);
        return startLine_;
    }

    void kill(int signal) { ::kill(static_cast<pid_t>(handle_->id()), signal); }
    bool running() const { return exitCode_ < 0 && !ended_; }
    int wait()
    {
        if (exitCode_ < 0 && handle_) {
            exitCode_ = handle_->wait();
        }
        if (reader_.joinable()) {
            reader_.join();
        }
        return exitCode_;
    }

  private:
    void readLog()
    {
        Poco::PipeInputStream err(errPipe_);
        std::string line;
        static const std::regex mllp(R"(mllps? \S+ [0-9.:\[\]a-f]+:(\d+))");
        static const std::regex http(R"(http [0-9.:\[\]a-f]+:(\d+))");
        while (std::getline(err, line)) {
            std::lock_guard lock(mutex_);
            log_ += line + '\n';
            if (!listening_ && line.find(" listening:") != std::string::npos) {
                startLine_ = line;
                for (auto it = std::sregex_iterator(line.begin(), line.end(), mllp);
                     it != std::sregex_iterator(); ++it) {
                    mllpPorts_.push_back(static_cast<std::uint16_t>(std::stoi((*it)[1])));
                }
                std::smatch m;
                if (std::regex_search(line, m, http)) {
                    httpPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
                }
                listening_ = true;
                changed_.notify_all();
            }
        }
        std::lock_guard lock(mutex_);
        ended_ = true;
        changed_.notify_all();
    }

    Poco::Pipe errPipe_;
    std::unique_ptr<Poco::ProcessHandle> handle_;
    std::thread reader_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::string log_;
    std::string startLine_;
    std::vector<std::uint16_t> mllpPorts_;
    std::uint16_t httpPort_ = 0;
    bool listening_ = false;
    bool ended_ = false;
    int exitCode_ = -1;
};

} // namespace hl7gw::test
