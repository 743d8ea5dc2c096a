// End to end: resources indexed into real SQLite and PostgreSQL databases, searched with the
// SQL of search_sql.h; every case asserts exactly which ids come back, on each backend.

#include "gateway/fhir/search/search_sql.h"

#include "tests/unit/fhir_search/search_test_db.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

using namespace hl7gw::fhir::search;
using namespace hl7gw::fhir::search::test;

namespace {

using Ids = std::set<std::string>;
using Params = std::vector<std::pair<std::string, std::string>>;

constexpr std::int64_t LoadTime = 1714521600000000; // 2024-05-01T00:00:00Z
constexpr std::int64_t Now = 1714953600000000;      // 2024-05-06T00:00:00Z

ParseOptions options()
{
    ParseOptions parseOptions;
    parseOptions.baseUrl = "https://gw.example.org/fhir";
    parseOptions.nowMicros = Now;
    return parseOptions;
}

/// Every corpus example plus our Chinese examples, loaded once per backend.
std::vector<std::unique_ptr<TestDb>>& corpusDatabases()
{
    static std::vector<std::unique_ptr<TestDb>> databases = [] {
        std::vector<std::unique_ptr<TestDb>> fresh = freshDatabases();
        std::vector<rapidjson::Document> resources;
        const std::filesystem::path dir =
            std::filesystem::path(HL7GW_CORPUS_DIR) / "fhir-r4/examples/json";
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            resources.push_back(parse(readFile(file)));
        }
        const rapidjson::Document ours = parse(
            readFile(std::filesystem::path(HL7GW_TEST_DATA_DIR) / "fhir-search/zh-examples.json"));
        for (TestDb* db : [&] {
                 std::vector<TestDb*> all;
                 for (auto& d : fresh) {
                     all.push_back(d.get());
                 }
                 return all;
             }()) {
            std::int64_t time = LoadTime;
            for (const rapidjson::Document& resource : resources) {
                db->put(resource, time += 1000000);
            }
            for (const auto& resource : ours.GetArray()) {
                db->put(resource, time += 1000000);
            }
        }
        return fresh;
    }();
    return databases;
}

SearchQuery parsed(std::string_view type, const Params& params)
{
    hl7gw::core::IssueList issues;
    SearchQuery query = parseSearch(type, params, options(), issues);
    for (const auto& issue : issues) {
        BOOST_ERROR("unexpected issue at " << issue.location.path << ": " << issue.text);
    }
    BOOST_TEST(query.unknown.empty());
    return query;
}

Ids idsOf(const std::vector<Row>& rows, std::size_t column = 2)
{
    Ids ids;
    for (const Row& row : rows) {
        ids.insert(std::get<std::string>(row.at(column)));
    }
    return ids;
}

Ids search(TestDb& db, std::string_view type, const Params& params)
{
    SearchQuery query = parsed(type, params);
    query.count = 500;
    return idsOf(db.query(pageQuery(query, db.dialect())));
}

std::vector<std::int64_t> ridsOf(TestDb& db, std::string_view type, const Params& params)
{
    std::vector<std::int64_t> rids;
    for (const Row& row : db.query(matchQuery(parsed(type, params), db.dialect(), 100))) {
        rids.push_back(std::get<std::int64_t>(row.at(0)));
    }
    return rids;
}

template <typename Body> void onEachBackend(Body body)
{
    for (auto& db : corpusDatabases()) {
        BOOST_TEST_CONTEXT("backend " << db->name())
        {
            body(*db);
        }
    }
}

const std::string ZhIds = "urn:oid:2.16.156.10011.1.3|";

} // namespace

BOOST_AUTO_TEST_SUITE(search_sql)

BOOST_AUTO_TEST_CASE(index_ddl_and_placeholders_are_well_formed)
{
    for (Dialect dialect : {Dialect::Sqlite, Dialect::Postgres}) {
        const std::vector<std::string> ddl = indexSchema(dialect);
        BOOST_TEST(ddl.size() == 24u);
        // The url index holds only references with a url, and replaces its first form.
        BOOST_TEST((std::find(ddl.begin(), ddl.end(),
                              "DROP INDEX IF EXISTS fhir_idx_reference_url") != ddl.end()));
        BOOST_TEST((std::find_if(ddl.begin(), ddl.end(), [](const std::string& s) {
                        return s.find("fhir_idx_reference_url_set") != std::string::npos &&
                               s.find("WHERE url <> ''") != std::string::npos;
                    }) != ddl.end()));
    }
    hl7gw::core::IssueList issues;
    const SearchQuery query = parseSearch(
        "Appointment", {{"patient.name", "张"}, {"date", "ge2024-05-06"}, {"_sort", "-date"}},
        options(), issues);
    BOOST_TEST(issues.empty());
    const SqlStatement statement = pageQuery(query, Dialect::Postgres);
    // $1..$n in order of first appearance, each used.
    std::size_t next = 1;
    for (std::size_t pos = statement.text.find('$'); pos != std::string::npos;
         pos = statement.text.find('$', pos + 1)) {
        const std::size_t number = std::stoul(statement.text.substr(pos + 1));
        BOOST_TEST(number <= next);
        if (number == next) {
            ++next;
        }
    }
    BOOST_TEST(next - 1 == statement.params.size());
}

BOOST_AUTO_TEST_CASE(token_forms)
{
    onEachBackend([](TestDb& db) {
        BOOST_TEST(search(db, "Patient", {{"identifier", ZhIds + "110101199001011234"}}) ==
                   Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"identifier", "110101199001011234"}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"identifier", "|AB60001"}}) == Ids({"ihe-pcd"}));
        BOOST_TEST(search(db, "Patient", {{"identifier", "urn:oid:1.2.3.4.5|AB60001"}}).empty());
        BOOST_TEST(search(db, "Patient", {{"identifier", "urn:oid:0.1.2.3.4.5.6.7|"}}) ==
                   Ids({"pat1", "pat2", "pat3", "pat4"}));
        BOOST_TEST(search(db, "Patient", {{"identifier", ZhIds}}) == Ids({"zh1", "zh2", "zh3"}));
        BOOST_TEST(search(db, "Patient",
                          {{"identifier", "urn:oid:0.1.2.3.4.5.6.7|"},
                           {"gender", "female,other"}}) == Ids({"pat2", "pat4"}));
        BOOST_TEST(search(db, "Patient",
                          {{"identifier", "urn:oid:0.1.2.3.4.5.6.7|"}, {"gender:not", "male"}}) ==
                   Ids({"pat2", "pat4"}));
        BOOST_TEST(search(db, "Patient", {{"telecom", "13800138000"}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"phone", "phone|13800138000"}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"email", "13800138000"}}).empty());
        BOOST_TEST(
            search(db, "Patient",
                   {{"identifier:of-type", "http://terminology.hl7.org/CodeSystem/v2-0203|NI|"
                                           "110101199001011234"}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Slot",
                          {{"_tag", "https://gw.example.org/fhir/CodeSystem/"
                                    "quota-pool|general"}}) == Ids({"zh-slot-1"}));
        BOOST_TEST(search(db, "Observation", {{"code:text", "血红"}}) == Ids({"zh-obs-1"}));
        BOOST_TEST(search(db, "DiagnosticReport", {{"code:text", "血常规"}}) == Ids({"zh-dr-1"}));
        BOOST_TEST(search(db, "Encounter", {{"class", "AMB"}, {"_id", "zh-enc-1,example"}}) ==
                   Ids({"zh-enc-1"}));
        BOOST_TEST(
            search(db, "Appointment", {{"_id", "zh-appt-1,zh-appt-2"}, {"status:not", "booked"}}) ==
            Ids({"zh-appt-2"}));
        BOOST_TEST(
            search(db, "Appointment", {{"_id:not", "zh-appt-1"}, {"identifier", ZhIds}}).empty());
    });
}

BOOST_AUTO_TEST_CASE(string_default_exact_contains_with_chinese)
{
    onEachBackend([](TestDb& db) {
        BOOST_TEST(search(db, "Patient", {{"name", "张"}}) == Ids({"zh1", "zh3", "ch-example"}));
        BOOST_TEST(search(db, "Patient", {{"name", "张三"}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"name", "李小明"}}) == Ids({"zh2"}));
        BOOST_TEST(search(db, "Patient", {{"name", "小明"}}) == Ids({"zh2"}));
        BOOST_TEST(search(db, "Patient", {{"name", "明"}}).empty());
        BOOST_TEST(search(db, "Patient", {{"name:contains", "明"}}) == Ids({"zh2"}));
        BOOST_TEST(search(db, "Patient", {{"name:exact", "张"}}) == Ids({"zh1", "zh3"}));
        BOOST_TEST(search(db, "Patient", {{"name:contains", "无忌"}}) == Ids({"ch-example"}));
        BOOST_TEST(search(db, "Patient", {{"address-city", "上海"}}) == Ids({"ch-example"}));
        BOOST_TEST(search(db, "Patient", {{"name:exact", "张三"}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"name:exact", "张三丰"}}).empty());
        BOOST_TEST(search(db, "Patient", {{"name", "zhang"}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"name:exact", "Zhang"}}).empty());
        BOOST_TEST(search(db, "Patient", {{"name:exact", "Zhāng"}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"family", "CHALM"}}) == Ids({"example"}));
        BOOST_TEST(search(db, "Patient", {{"address", "北京"}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"address:contains", "建国门"}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"name", "张,李"}, {"name", "三,小"}}) ==
                   Ids({"zh1", "zh2"}));
        BOOST_TEST(search(db, "Practitioner", {{"name", "王建国"}}) == Ids({"zh-doc"}));
    });
}

BOOST_AUTO_TEST_CASE(dates_with_every_prefix)
{
    onEachBackend([](TestDb& db) {
        auto birth = [&](const std::string& value) {
            return search(db, "Patient", {{"identifier", ZhIds}, {"birthdate", value}});
        };
        // zh1 1990-01-01, zh2 1990-01 (the whole month), zh3 1985-06-15
        BOOST_TEST(birth("1990") == Ids({"zh1", "zh2"}));
        BOOST_TEST(birth("eq1990-01-01") == Ids({"zh1"}));
        BOOST_TEST(birth("1990-01") == Ids({"zh1", "zh2"}));
        BOOST_TEST(birth("ne1990-01-01") == Ids({"zh2", "zh3"}));
        BOOST_TEST(birth("gt1989") == Ids({"zh1", "zh2"}));
        BOOST_TEST(birth("gt1990-01-01") == Ids({"zh2"}));
        BOOST_TEST(birth("lt1990") == Ids({"zh3"}));
        BOOST_TEST(birth("ge1990-01-01") == Ids({"zh1", "zh2"}));
        BOOST_TEST(birth("le1990-01-01") == Ids({"zh1", "zh3"}));
        BOOST_TEST(birth("sa1985-06-15") == Ids({"zh1", "zh2"}));
        BOOST_TEST(birth("eb1990-01-01") == Ids({"zh3"}));
        BOOST_TEST(birth("ap1990-01-01") == Ids({"zh1", "zh2"}));
        BOOST_TEST(birth("1985-06-15,1990-01-01") == Ids({"zh1", "zh3"}));

        auto slots = [&](const Params& extra) {
            Params params{{"schedule", "Schedule/zh-sched"}};
            params.insert(params.end(), extra.begin(), extra.end());
            return search(db, "Slot", params);
        };
        BOOST_TEST(slots({{"start", "ge2024-05-06"}, {"start", "lt2024-05-07"}}) ==
                   Ids({"zh-slot-1", "zh-slot-2"}));
        BOOST_TEST(slots({{"start", "2024-05-06T09:00"}}) == Ids({"zh-slot-1"}));
        BOOST_TEST(slots({{"start", "2024-05-06T01:00:00Z"}}) == Ids({"zh-slot-1"}));
        BOOST_TEST(slots({{"start", "2024-05-06T09:00:00"}}) == Ids({"zh-slot-1"}));
        BOOST_TEST(slots({{"start", "gt2024-05-06T09:00:00+08:00"}}) ==
                   Ids({"zh-slot-2", "zh-slot-3"}));
        BOOST_TEST(slots({{"start", "2024-05-06T09:00:00+09:00"}}).empty());
        // A Period: DiagnosticReport 09:50-10:30 on 2024-05-06 (+08:00).
        BOOST_TEST(search(db, "DiagnosticReport", {{"date", "2024-05-06"}}) == Ids({"zh-dr-1"}));
        BOOST_TEST(
            search(db, "DiagnosticReport", {{"date", "ge2024-05-06T10:00"}, {"_id", "zh-dr-1"}}) ==
            Ids({"zh-dr-1"}));
        BOOST_TEST(
            search(db, "DiagnosticReport", {{"date", "eq2024-05-06T10:00"}, {"_id", "zh-dr-1"}})
                .empty());
        // An open Period end (Encounter from 09:05, not ended) reaches past any date.
        BOOST_TEST(search(db, "Encounter", {{"date", "gt2030"}, {"_id", "zh-enc-1"}}) ==
                   Ids({"zh-enc-1"}));
        // A zoneless dateTime in the index reads in the server zone (+08:00).
        BOOST_TEST(search(db, "Observation", {{"date", "2024-05-06T02:00:00Z"}}) ==
                   Ids({"zh-obs-1"}));
        // _lastUpdated reads fhir_current.last_updated.
        BOOST_TEST(search(db, "Patient",
                          {{"identifier", ZhIds}, {"_lastUpdated", "gt2024-05-01T00:02:00Z"}})
                       .size() == 3u);
        BOOST_TEST(search(db, "Patient",
                          {{"identifier", ZhIds}, {"_lastUpdated", "lt2024-05-01T00:01:00Z"}})
                       .empty());
    });
}

BOOST_AUTO_TEST_CASE(numbers_and_quantities)
{
    onEachBackend([](TestDb& db) {
        BOOST_TEST(
            search(db, "Observation", {{"value-quantity", "135|http://unitsofmeasure.org|g/L"}}) ==
            Ids({"zh-obs-1"}));
        BOOST_TEST(search(db, "Observation", {{"value-quantity", "gt130||g/L"}}) ==
                   Ids({"zh-obs-1"}));
        BOOST_TEST(search(db, "Observation", {{"value-quantity", "135||mg/L"}}).empty());
        BOOST_TEST(search(db, "Observation", {{"value-quantity", "820"}}) == Ids({"656"}));
        BOOST_TEST(search(db, "Observation", {{"value-quantity", "ap800"}}) == Ids({"656"}));
        BOOST_TEST(
            search(db, "Observation", {{"value-quantity", "le0.9"}, {"subject", "Patient/pat2"}}) ==
            Ids({"bmd"}));
        BOOST_TEST(
            search(db, "Observation", {{"value-quantity", "0.88"}, {"subject", "Patient/pat2"}})
                .empty());
        // 0.89 stands for [0.885, 0.895), which holds 0.887.
        BOOST_TEST(
            search(db, "Observation", {{"value-quantity", "0.89"}, {"subject", "Patient/pat2"}}) ==
            Ids({"bmd"}));
        BOOST_TEST(
            search(db, "Observation", {{"value-quantity", "0.887"}, {"subject", "Patient/pat2"}}) ==
            Ids({"bmd"}));
    });
}

BOOST_AUTO_TEST_CASE(reference_forms)
{
    onEachBackend([](TestDb& db) {
        BOOST_TEST(search(db, "Appointment", {{"patient", "Patient/zh1"}}) == Ids({"zh-appt-1"}));
        BOOST_TEST(search(db, "Appointment", {{"patient", "zh1"}}) == Ids({"zh-appt-1"}));
        BOOST_TEST(search(db, "Appointment", {{"actor", "Practitioner/zh-doc"}}) ==
                   Ids({"zh-appt-1"}));
        BOOST_TEST(search(db, "Appointment", {{"patient", "zh-doc"}}).empty());
        // An absolute reference into our base is local, both stored and searched.
        BOOST_TEST(search(db, "Appointment", {{"patient", "zh2"}}) == Ids({"zh-appt-2"}));
        BOOST_TEST(
            search(db, "Appointment", {{"slot", "https://gw.example.org/fhir/Slot/zh-slot-2"}}) ==
            Ids({"zh-appt-2"}));
        BOOST_TEST(search(db, "Observation", {{"subject:Patient", "zh1"}}) == Ids({"zh-obs-1"}));
        BOOST_TEST(search(db, "DiagnosticReport",
                          {{"subject:identifier", ZhIds + "110101199001011234"}}) ==
                   Ids({"zh-dr-1"}));
        BOOST_TEST(search(db, "DiagnosticReport", {{"result", "Observation/zh-obs-1"}}) ==
                   Ids({"zh-dr-1"}));
        BOOST_TEST(search(db, "Appointment", {{"patient", "Patient/example"}}) ==
                   Ids({"example", "2docs", "examplereq"}));
    });
}

BOOST_AUTO_TEST_CASE(chains_and_reverse_chains)
{
    onEachBackend([](TestDb& db) {
        BOOST_TEST(
            search(db, "Appointment", {{"patient.identifier", ZhIds + "110101199001011234"}}) ==
            Ids({"zh-appt-1"}));
        BOOST_TEST(search(db, "Appointment", {{"patient.name", "李"}}) == Ids({"zh-appt-2"}));
        BOOST_TEST(search(db, "Observation", {{"subject:Patient.name", "张三"}}) ==
                   Ids({"zh-obs-1"}));
        BOOST_TEST(search(db, "Encounter", {{"patient.birthdate", "1990-01-01"}}) ==
                   Ids({"zh-enc-1"}));
        BOOST_TEST(search(db, "Slot", {{"schedule.actor", "Practitioner/zh-doc"}}) ==
                   Ids({"zh-slot-1", "zh-slot-2", "zh-slot-3"}));
        BOOST_TEST(search(db, "Patient",
                          {{"_has:Observation:patient:code", "http://loinc.org|718-7"},
                           {"identifier", ZhIds}}) == Ids({"zh1"}));
        BOOST_TEST(search(db, "Patient", {{"_has:Appointment:patient:status", "cancelled"}}) ==
                   Ids({"zh2"}));
        BOOST_TEST(search(db, "Practitioner", {{"_has:Appointment:actor:date", "2024-05-06"}}) ==
                   Ids({"zh-doc"}));
    });
}

BOOST_AUTO_TEST_CASE(missing)
{
    onEachBackend([](TestDb& db) {
        BOOST_TEST(search(db, "Patient",
                          {{"identifier", "urn:oid:0.1.2.3.4.5.6.7|"},
                           {"birthdate:missing", "true"}}) == Ids({"pat1", "pat2"}));
        BOOST_TEST(search(db, "Patient",
                          {{"identifier", "urn:oid:0.1.2.3.4.5.6.7|"},
                           {"birthdate:missing", "false"}}) == Ids({"pat3", "pat4"}));
        BOOST_TEST(search(db, "Slot", {{"schedule", "zh-sched"}, {"_tag:missing", "true"}}) ==
                   Ids({"zh-slot-3"}));
    });
}

BOOST_AUTO_TEST_CASE(counts_matches_and_includes)
{
    onEachBackend([](TestDb& db) {
        const std::vector<Row> count =
            db.query(countQuery(parsed("Patient", {{"identifier", ZhIds}}), db.dialect()));
        BOOST_TEST(std::get<std::int64_t>(count.at(0).at(0)) == 3);
        BOOST_TEST(ridsOf(db, "Appointment",
                          {{"identifier", "https://gw.example.org/fhir/sid/appointment|A-1001"}})
                       .size() == 1u);

        SearchQuery appointments = parsed("Appointment", {{"_id", "zh-appt-1,zh-appt-2"},
                                                          {"_include", "Appointment:patient"},
                                                          {"_include", "Appointment:slot"}});
        std::vector<std::int64_t> pageRids;
        for (const Row& row : db.query(pageQuery(appointments, db.dialect()))) {
            pageRids.push_back(std::get<std::int64_t>(row.at(0)));
        }
        BOOST_TEST(pageRids.size() == 2u);
        BOOST_TEST(idsOf(db.query(includeQuery(pageRids, appointments.includes, db.dialect()))) ==
                   Ids({"zh1", "zh2", "zh-slot-1", "zh-slot-2"}));
        const SearchQuery wildcard =
            parsed("Appointment", {{"_id", "zh-appt-1"}, {"_include", "*"}});
        BOOST_TEST(
            idsOf(db.query(includeQuery({pageRids.front()}, wildcard.includes, db.dialect()))) ==
            Ids({"zh1", "zh-doc", "zh-slot-1"}));
        const SearchQuery typed = parsed(
            "Appointment", {{"_id", "zh-appt-1"}, {"_include", "Appointment:actor:Practitioner"}});
        BOOST_TEST(idsOf(db.query(includeQuery({pageRids.front()}, typed.includes,
                                               db.dialect()))) == Ids({"zh-doc"}));

        SearchQuery patients = parsed("Patient", {{"_id", "zh1"},
                                                  {"_revinclude", "Appointment:patient"},
                                                  {"_revinclude", "DiagnosticReport:subject"},
                                                  {"_include:iterate", "DiagnosticReport:result"}});
        const std::vector<std::int64_t> zh1 = ridsOf(db, "Patient", {{"_id", "zh1"}});
        const std::vector<Row> reverse =
            db.query(revIncludeQuery(zh1, patients.revIncludes, db.dialect()));
        BOOST_TEST(idsOf(reverse) == Ids({"zh-appt-1", "zh-dr-1"}));
        std::vector<std::int64_t> found;
        for (const Row& row : reverse) {
            found.push_back(std::get<std::int64_t>(row.at(0)));
        }
        BOOST_TEST(patients.includes.front().iterate);
        BOOST_TEST(idsOf(db.query(includeQuery(found, patients.includes, db.dialect()))) ==
                   Ids({"zh-obs-1"}));
        BOOST_TEST(includeQuery({}, patients.includes, db.dialect()).text.empty());
    });
}

BOOST_AUTO_TEST_CASE(sort_and_keyset_paging_stay_stable_while_rows_are_inserted)
{
    for (auto& db : freshDatabases()) {
        BOOST_TEST_CONTEXT("backend " << db->name())
        {
            auto slot = [&](const std::string& id, const std::string& start) {
                const std::string json =
                    R"({"resourceType":"Slot","id":")" + id +
                    R"(","schedule":{"reference":"Schedule/s"},"status":"free")" +
                    (start.empty() ? "" : R"(,"start":")" + start + "\"") + "}";
                db->put(parse(json), LoadTime);
            };
            slot("a", "2024-05-06T09:00:00+08:00");
            slot("b", "2024-05-06T10:00:00+08:00");
            slot("c", "2024-05-06T10:00:00+08:00"); // same start as b: rid breaks the tie
            slot("d", "2024-05-06T11:00:00+08:00");
            slot("e", "2024-05-06T12:00:00+08:00");
            slot("nostart", "");

            auto pages = [&](const std::string& sort, auto between) {
                std::vector<std::string> order;
                std::string cursor;
                for (int page = 0; page < 10; ++page) {
                    Params params{{"_sort", sort}, {"_count", "2"}};
                    if (!cursor.empty()) {
                        params.emplace_back("_cursor", cursor);
                    }
                    const SearchQuery query = parsed("Slot", params);
                    const std::vector<Row> rows = db->query(pageQuery(query, db->dialect()));
                    BOOST_TEST(rows.size() <= 3u);
                    const std::size_t shown = std::min<std::size_t>(rows.size(), 2);
                    for (std::size_t i = 0; i < shown; ++i) {
                        order.push_back(std::get<std::string>(rows[i][2]));
                    }
                    if (rows.size() <= 2) {
                        break;
                    }
                    const Row& last = rows[shown - 1];
                    cursor = makeCursor(query, Row(last.begin() + 3, last.end()),
                                        std::get<std::int64_t>(last[0]));
                    between(page);
                }
                return order;
            };
            BOOST_TEST(pages("start", [](int) {}) ==
                       std::vector<std::string>({"a", "b", "c", "d", "e", "nostart"}));
            // Rows inserted between pages: one before the cursor (never shown), one after.
            const std::vector<std::string> ascending = pages("start", [&](int page) {
                if (page == 0) {
                    slot("early", "2024-05-06T08:00:00+08:00");
                    slot("late", "2024-05-06T11:30:00+08:00");
                }
            });
            BOOST_TEST(ascending ==
                       std::vector<std::string>({"a", "b", "c", "d", "late", "e", "nostart"}));
            const std::vector<std::string> descending = pages("-start,_id", [&](int page) {
                if (page == 1) {
                    slot("later", "2024-05-06T13:00:00+08:00");
                    slot("earliest", "2024-05-06T07:00:00+08:00");
                }
            });
            BOOST_TEST(descending == std::vector<std::string>({"e", "late", "d", "b", "c", "a",
                                                               "early", "earliest", "nostart"}));
            BOOST_TEST(pages("-_id", [](int) {}) ==
                       std::vector<std::string>({"nostart", "later", "late", "early", "earliest",
                                                 "e", "d", "c", "b", "a"}));
            // A deleted resource leaves the results.
            db->remove("Slot", "c");
            BOOST_TEST(pages("_id", [](int) {}) ==
                       std::vector<std::string>(
                           {"a", "b", "d", "e", "earliest", "early", "late", "later", "nostart"}));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
