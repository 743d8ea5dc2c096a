// `hl7gw serve`, `send` and `messages` as real processes over 127.0.0.1.
#include "gateway/store/message_store.h"
#include "gateway/transport/mllp.h"
#include "tests/unit/app/serve_support.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <atomic>
#include <set>
#include <sstream>

using namespace hl7gw;
namespace fs = std::filesystem;

namespace {

class Workspace {
  public:
    Workspace()
    {
        static std::atomic<int> n{0};
        dir_ = fs::temp_directory_path() /
               ("hl7gw-serve-" + std::to_string(::getpid()) + '-' + std::to_string(n++));
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "channels");
        write("gateway.json", R"({
  "store": {"url": "sqlite:)" + (dir_ / "gw.db").string() +
                                  R"("},
  "mllp": [{"name": "his-inbound", "listen": "127.0.0.1:0", "channel": "his-adt"}],
  "http": {"listen": "127.0.0.1:0"},
  "logging": {"level": "information"},
  "channels": ["channels/*.json"]
})");
        write("channels/his-adt.json", R"({
  "name": "his-adt",
  "sources": [{"type": "mllp"}, {"type": "http"}],
  "destinations": [{"name": "archive", "type": "file", "directory": ")" +
                                           (dir_ / "out").string() + R"("}]
})");
    }
    ~Workspace()
    {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    void write(const std::string& name, const std::string& text)
    {
        std::ofstream(dir_ / name, std::ios::binary) << text;
    }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    std::string config() const { return path("gateway.json"); }

  private:
    fs::path dir_;
};

std::string httpGet(std::uint16_t port, const std::string& path, int& status)
{
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    status = static_cast<int>(response.getStatus());
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> lines(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(line);
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(serve_command)

BOOST_AUTO_TEST_CASE(starts_with_one_line_serves_health_and_metrics_and_stops_on_sigterm)
{
    Workspace ws;
    test::GatewayProcess gw(ws.config(), {});
    BOOST_REQUIRE_MESSAGE(gw.waitUntilListening(), gw.log());
    const std::string line = gw.startLine();
    BOOST_TEST(line.find("mllp his-inbound 127.0.0.1:") != std::string::npos, line);
    BOOST_TEST(line.find("store sqlite:") != std::string::npos, line);
    BOOST_TEST(gw.mllpPort() != 0);
    int status = 0;
    BOOST_TEST(httpGet(gw.httpPort(), "/healthz", status) == "ok\n");
    BOOST_TEST(status == 200);
    const std::string metrics = httpGet(gw.httpPort(), "/metrics", status);
    BOOST_TEST(status == 200);
    BOOST_TEST(metrics.find("hl7gw_queue_depth") != std::string::npos);
    gw.kill(SIGTERM);
    BOOST_TEST(gw.wait() == 0);
}

BOOST_AUTO_TEST_CASE(configuration_errors_exit_2_and_name_the_path)
{
    Workspace ws;
    test::CommandRun run =
        test::runGateway({"serve", "--config", ws.config(), "--set", "mllp.0.lisen=127.0.0.1:1"});
    BOOST_TEST(run.exitCode == 2);
    BOOST_TEST(run.err.find("mllp.0.lisen: unknown key") != std::string::npos, run.err);
    run = test::runGateway({"serve", "--config", ws.config(), "--set", "http.listen=nohost"});
    BOOST_TEST(run.exitCode == 2);
    BOOST_TEST(run.err.find("http.listen:") != std::string::npos, run.err);
    run = test::runGateway({"serve", "--config", ws.config(), "--set", "store.url=mysql://x"});
    BOOST_TEST(run.exitCode == 2);
    run = test::runGateway({"serve", "--config", ws.path("missing.json")});
    BOOST_TEST(run.exitCode == 2);
}

BOOST_AUTO_TEST_CASE(send_prints_each_ack_and_messages_lists_their_fate)
{
    Workspace ws;
    ws.write("batch.hl7", test::adt("S1", "P1") + "\n" + test::adt("S2", "P2") + "\n");
    ws.write("broken.hl7", "MSH|\rPID|1||x\r"); // MSH-2 missing: unreadable
    ws.write("junk.hl7", "PID|1||x\r");
    test::GatewayProcess gw(ws.config(), {});
    BOOST_REQUIRE_MESSAGE(gw.waitUntilListening(), gw.log());
    const std::string to = "mllp://127.0.0.1:" + std::to_string(gw.mllpPort());

    test::CommandRun send = test::runGateway({"send", "--to", to, ws.path("batch.hl7")});
    BOOST_TEST(send.exitCode == 0, send.err);
    const auto out = lines(send.out);
    BOOST_REQUIRE(out.size() == 2U);
    BOOST_TEST(out[0] == ws.path("batch.hl7") + ":1\tAA\tS1\t");
    BOOST_TEST(out[1] == ws.path("batch.hl7") + ":2\tAA\tS2\t");

    send = test::runGateway({"send", "--to", to, ws.path("broken.hl7")});
    BOOST_TEST(send.exitCode == 1);
    BOOST_TEST(send.out.find(":1\tAR\t\t") != std::string::npos, send.out);

    // Lines outside any message are not sent: said on stderr with the line, exit 1.
    send = test::runGateway({"send", "--to", to, ws.path("junk.hl7")});
    BOOST_TEST(send.exitCode == 1);
    BOOST_TEST(send.err.find("junk.hl7:line 1") != std::string::npos, send.err);

    // Resending is de-duplicated: the same ACK, nothing stored twice.
    send = test::runGateway({"send", "--to", to, ws.path("batch.hl7")});
    BOOST_TEST(send.exitCode == 0);

    const std::vector<std::string> base{"--config", ws.config()};
    auto messages = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "messages");
        args.insert(args.end(), base.begin(), base.end());
        return test::runGateway(args);
    };
    BOOST_TEST(test::waitFor([&] {
        return messages({"count", "--state", "delivered"}).out == "2\n";
    }));
    BOOST_TEST(messages({"count", "--direction", "in"}).out == "3\n");
    BOOST_TEST(messages({"count", "--state", "rejected"}).out == "1\n");

    const test::CommandRun list = messages({"list", "--json", "--direction", "in"});
    BOOST_TEST(list.exitCode == 0, list.err);
    const auto rows = lines(list.out);
    BOOST_REQUIRE(rows.size() == 3U);
    std::set<std::string> states;
    std::int64_t firstId = 0;
    for (const std::string& row : rows) {
        rapidjson::Document d;
        d.Parse(row.c_str());
        BOOST_REQUIRE(!d.HasParseError());
        for (const char* key : {"id", "received_at", "channel", "direction", "sender", "control_id",
                                "type", "state", "error"}) {
            BOOST_TEST(d.HasMember(key), key << " missing in " << row);
        }
        states.insert(d["state"].GetString());
        if (std::string(d["control_id"].GetString()) == "S1") {
            firstId = d["id"].GetInt64();
            BOOST_TEST(std::string(d["sender"].GetString()) == "HIS|HOSP");
            BOOST_TEST(std::string(d["type"].GetString()) == "ADT^A01");
            BOOST_TEST(std::string(d["channel"].GetString()) == "his-adt");
        }
    }
    BOOST_TEST(states == (std::set<std::string>{"processed", "rejected"}));
    BOOST_REQUIRE(firstId != 0);

    const test::CommandRun show = messages({"show", std::to_string(firstId)});
    BOOST_TEST(show.exitCode == 0, show.err);
    BOOST_TEST(show.out.find("PID|1||P1^^^HOSP^MR") != std::string::npos, show.out);
    BOOST_TEST(show.out.find("deliveries (1):") != std::string::npos);
    BOOST_TEST(show.out.find("archive\tdelivered") != std::string::npos, show.out);

    const test::CommandRun replay = messages({"replay", std::to_string(firstId)});
    BOOST_TEST(replay.exitCode == 0, replay.err);
    BOOST_TEST(test::waitFor([&] {
        return messages({"count", "--state", "delivered"}).out == "3\n";
    }));
    BOOST_TEST(messages({"show", "999999"}).exitCode == 1);
    BOOST_TEST(messages({"list", "--state", "lost"}).exitCode == 1);

    int status = 0;
    const std::string metrics = httpGet(gw.httpPort(), "/metrics", status);
    BOOST_TEST(metrics.find("hl7gw_mllp_messages_received_total{channel=\"his-adt\"} 5") !=
                   std::string::npos,
               metrics);
    BOOST_TEST(metrics.find("hl7gw_mllp_acks_total{channel=\"his-adt\",code=\"AR\"} 1") !=
               std::string::npos);
    BOOST_TEST(
        metrics.find("hl7gw_deliveries_total{destination=\"archive\",outcome=\"delivered\"} 3") !=
        std::string::npos);
    gw.kill(SIGTERM);
    BOOST_TEST(gw.wait() == 0);
}

BOOST_AUTO_TEST_CASE(sighup_reloads_the_channel_files_and_keeps_connections)
{
    Workspace ws;
    test::GatewayProcess gw(ws.config(), {});
    BOOST_REQUIRE_MESSAGE(gw.waitUntilListening(), gw.log());
    transport::MllpClientConfig config;
    config.to = {"127.0.0.1", gw.mllpPort()};
    transport::MllpClient client(config);
    BOOST_TEST(client.exchange(test::adt("R1")).find("MSA|AA|R1") != std::string::npos);

    // A broken file is refused: the running channels stay.
    ws.write("channels/his-adt.json", R"({"name": "his-adt", "destinatons": []})");
    gw.kill(SIGHUP);
    BOOST_TEST(test::waitFor([&] { return gw.log().find("reload refused") != std::string::npos; }));
    BOOST_TEST(gw.log().find("destinatons: unknown key") != std::string::npos, gw.log());

    // Now the channel takes only A04: the same connection gets AR 201 for an A01.
    ws.write("channels/his-adt.json", R"({"name": "his-adt", "accept": {"types": ["ADT^A04"]}})");
    gw.kill(SIGHUP);
    BOOST_TEST(
        test::waitFor([&] { return gw.log().find("channels reloaded") != std::string::npos; }));
    const std::string ack = client.exchange(test::adt("R2"));
    BOOST_TEST(ack.find("MSA|AR|R2") != std::string::npos, ack);
    BOOST_TEST(ack.find("201") != std::string::npos);
    gw.kill(SIGTERM);
    BOOST_TEST(gw.wait() == 0);
}

BOOST_AUTO_TEST_CASE(http_source_answers_with_the_ack)
{
    Workspace ws;
    test::GatewayProcess gw(ws.config(), {});
    BOOST_REQUIRE_MESSAGE(gw.waitUntilListening(), gw.log());
    Poco::Net::HTTPClientSession session("127.0.0.1", gw.httpPort());
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/hl7/his-adt");
    const std::string body = test::adt("H1");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    const std::string ack((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    BOOST_TEST(static_cast<int>(response.getStatus()) == 200);
    BOOST_TEST(ack.find("MSA|AA|H1") != std::string::npos, ack);
}

BOOST_AUTO_TEST_SUITE_END()
