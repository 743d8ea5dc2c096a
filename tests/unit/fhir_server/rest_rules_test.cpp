// The REST rules of STANDARDS.md §3.4 and §3.5, each over real HTTP on both store backends.

#include "tests/unit/fhir_server/fhir_server_support.h"

#include "gateway/fhir/rest/negotiation.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <thread>

using hl7gw::test::Backends;
using hl7gw::test::FhirFixture;
using hl7gw::test::issueCode;
using hl7gw::test::Reply;

namespace {

const std::string Patient =
    R"({"resourceType":"Patient","id":"ignored","name":[{"text":"张三","family":"张","given":["三"]}],)"
    R"("gender":"male","birthDate":"1980-05-06","identifier":[{"system":"urn:oid:2.16.156.10011.1.3",)"
    R"("value":"110101198005060011"}]})";

std::string patientNamed(const std::string& family, const std::string& idValue,
                         const std::string& birthDate = "1990-01-01")
{
    return R"({"resourceType":"Patient","name":[{"family":")" + family + R"("}],"birthDate":")" +
           birthDate + R"(","identifier":[{"system":"urn:test","value":")" + idValue + R"("}]})";
}

std::string slot(const std::string& schedule, const std::string& start, const std::string& end,
                 const std::string& status = "free")
{
    return R"({"resourceType":"Slot","schedule":{"reference":")" + schedule + R"("},"status":")" +
           status + R"(","start":")" + start + R"(","end":")" + end + R"("})";
}

std::size_t entries(const Reply& reply)
{
    const auto& j = reply.json;
    return j.IsObject() && j.HasMember("entry") && j["entry"].IsArray() ? j["entry"].Size() : 0;
}

std::set<std::string> entryIds(const Reply& reply, const char* mode = "match")
{
    std::set<std::string> ids;
    if (!reply.json.IsObject() || !reply.json.HasMember("entry")) {
        return ids;
    }
    for (const auto& e : reply.json["entry"].GetArray()) {
        if (e.HasMember("search") && std::string(e["search"]["mode"].GetString()) == mode) {
            ids.insert(e["resource"]["id"].GetString());
        }
    }
    return ids;
}

std::string link(const Reply& reply, const std::string& relation)
{
    if (!reply.json.IsObject() || !reply.json.HasMember("link")) {
        return {};
    }
    for (const auto& l : reply.json["link"].GetArray()) {
        if (relation == l["relation"].GetString()) {
            return l["url"].GetString();
        }
    }
    return {};
}

// "http://127.0.0.1:port/fhir/Patient?..." -> "Patient?..."
std::string relative(const std::string& url)
{
    const auto at = url.find("/fhir/");
    return at == std::string::npos ? url : url.substr(at + 6);
}

} // namespace

BOOST_AUTO_TEST_SUITE(fhir_rest_rules)

BOOST_DATA_TEST_CASE(create_read_update_delete_and_versions, Backends, backend)
{
    FhirFixture fhir(backend);
    Reply created = fhir.post("Patient", Patient);
    BOOST_TEST(created.status == 201);
    const std::string id = created.text("id");
    BOOST_TEST(id != "ignored");
    BOOST_TEST(created.header("etag") == "W/\"1\"");
    BOOST_TEST(created.header("location").find("/fhir/Patient/" + id + "/_history/1") !=
               std::string::npos);
    BOOST_TEST(created.header("content-type") == "application/fhir+json; charset=utf-8");

    Reply read = fhir.get("Patient/" + id);
    BOOST_TEST(read.status == 200);
    BOOST_TEST(read.header("etag") == "W/\"1\"");
    BOOST_TEST(!read.header("last-modified").empty());
    BOOST_TEST(std::string(read.json["name"][0]["text"].GetString()) == "张三");
    BOOST_TEST(fhir.get("Patient/" + id, {{"If-None-Match", "W/\"1\""}}).status == 304);

    BOOST_TEST(fhir.get("Patient/unknown").status == 404);
    BOOST_TEST(issueCode(fhir.get("Patient/unknown")) == "not-found");
    BOOST_TEST(fhir.get("NoSuchType/1").status == 404);

    // PUT: the body's id must be the URL's.
    std::string v2 = read.body;
    v2.replace(v2.find("\"male\""), 6, "\"female\"");
    Reply mismatch = fhir.put("Patient/other", v2);
    BOOST_TEST(mismatch.status == 400);
    Reply updated = fhir.put("Patient/" + id, v2);
    BOOST_TEST(updated.status == 200);
    BOOST_TEST(updated.header("etag") == "W/\"2\"");
    BOOST_TEST(std::string(updated.json["meta"]["versionId"].GetString()) == "2");
    BOOST_TEST(fhir.put("Patient/" + id, v2, {{"If-Match", "W/\"1\""}}).status == 412);
    // The same content again is no change: no new version.
    Reply same = fhir.put("Patient/" + id, v2, {{"If-Match", "W/\"2\""}});
    BOOST_TEST(same.status == 200);
    BOOST_TEST(same.header("etag") == "W/\"2\"");
    BOOST_TEST(std::string(same.json["meta"]["versionId"].GetString()) == "2");
    std::string v3 = v2;
    v3.replace(v3.find("\"female\""), 8, "\"other\"");
    BOOST_TEST(fhir.put("Patient/" + id, v3, {{"If-Match", "W/\"2\""}}).header("etag") ==
               "W/\"3\"");

    BOOST_TEST(std::string(fhir.get("Patient/" + id + "/_history/1").json["gender"].GetString()) ==
               "male");
    BOOST_TEST(fhir.get("Patient/" + id + "/_history/9").status == 404);

    // Update as create, at the client's id.
    Reply put = fhir.put("Patient/chosen-1", patientNamed("Li", "p1"));
    BOOST_TEST(put.status == 400); // no id in the body
    std::string withId = patientNamed("Li", "p1");
    withId.insert(1, R"("id":"chosen-1",)");
    BOOST_TEST(fhir.put("Patient/chosen-1", withId).status == 201);

    Reply deleted = fhir.call("DELETE", "/fhir/Patient/" + id);
    BOOST_TEST(deleted.status == 204);
    BOOST_TEST(fhir.get("Patient/" + id).status == 410);
    BOOST_TEST(issueCode(fhir.get("Patient/" + id)) == "deleted");
    BOOST_TEST(fhir.call("DELETE", "/fhir/Patient/" + id).status == 204);
    BOOST_TEST(fhir.get("Patient/" + id + "/_history/4").status == 410);

    Reply history = fhir.get("Patient/" + id + "/_history");
    BOOST_TEST(history.status == 200);
    BOOST_TEST(history.text("type") == "history");
    BOOST_REQUIRE(entries(history) == 4u);
    BOOST_TEST(std::string(history.json["entry"][0]["request"]["method"].GetString()) == "DELETE");
    BOOST_TEST(!history.json["entry"][0].HasMember("resource"));
    BOOST_TEST(std::string(history.json["entry"][3]["response"]["etag"].GetString()) == "W/\"1\"");
    BOOST_TEST(entries(fhir.get("Patient/_history")) == 5u);
    Reply paged = fhir.get("Patient/" + id + "/_history?_count=3");
    BOOST_TEST(entries(paged) == 3u);
    BOOST_TEST(entries(fhir.get(relative(link(paged, "next")))) == 1u);
}

BOOST_DATA_TEST_CASE(bookings_need_if_match, Backends, backend)
{
    FhirFixture fhir(backend);
    const std::string id = fhir.create(
        "Slot", slot("Schedule/s", "2026-12-02T08:00:00+08:00", "2026-12-02T08:15:00+08:00"));
    std::string body = fhir.get("Slot/" + id).body;
    Reply missing = fhir.put("Slot/" + id, body);
    BOOST_TEST(missing.status == 428);
    body.replace(body.find("\"free\""), 6, "\"busy\"");
    BOOST_TEST(fhir.put("Slot/" + id, body, {{"If-Match", "W/\"1\""}}).status == 200);
    BOOST_TEST(fhir.put("Slot/" + id, body, {{"If-Match", "W/\"1\""}}).status == 412);
}

BOOST_DATA_TEST_CASE(conditional_create_and_update, Backends, backend)
{
    FhirFixture fhir(backend);
    const std::pair<std::string, std::string> ifNoneExist{"If-None-Exist",
                                                          "identifier=urn:test|c1"};
    Reply first = fhir.post("Patient", patientNamed("Wang", "c1"), {ifNoneExist});
    BOOST_TEST(first.status == 201);
    Reply second = fhir.post("Patient", patientNamed("Wang", "c1"), {ifNoneExist});
    BOOST_TEST(second.status == 200);
    BOOST_TEST(second.text("id") == first.text("id"));
    BOOST_TEST(second.header("location").find(first.text("id")) != std::string::npos);
    fhir.create("Patient", patientNamed("Wang", "c1"));
    BOOST_TEST(fhir.post("Patient", patientNamed("Wang", "c1"), {ifNoneExist}).status == 412);

    Reply created = fhir.put("Patient?identifier=urn:test|u1", patientNamed("Zhao", "u1"));
    BOOST_TEST(created.status == 201);
    Reply updated = fhir.put("Patient?identifier=urn:test|u1", patientNamed("Zhao2", "u1"));
    BOOST_TEST(updated.status == 200);
    BOOST_TEST(updated.text("id") == created.text("id"));
    BOOST_TEST(updated.header("etag") == "W/\"2\"");
    BOOST_TEST(fhir.put("Patient?identifier=urn:test|c1", patientNamed("X", "c1")).status == 412);
    // An unknown criterion must not widen the match.
    BOOST_TEST(fhir.put("Patient?nonsense=1", patientNamed("X", "z")).status == 400);
}

BOOST_DATA_TEST_CASE(json_patch, Backends, backend)
{
    FhirFixture fhir(backend);
    const std::string id = fhir.create("Patient", Patient);
    const std::pair<std::string, std::string> patchType{"Content-Type",
                                                        "application/json-patch+json"};
    Reply patched = fhir.call(
        "PATCH", "/fhir/Patient/" + id,
        R"([{"op":"replace","path":"/gender","value":"female"},{"op":"add","path":"/active","value":true}])",
        {patchType});
    BOOST_TEST(patched.status == 200);
    BOOST_TEST(patched.header("etag") == "W/\"2\"");
    BOOST_TEST(std::string(fhir.get("Patient/" + id).json["gender"].GetString()) == "female");
    Reply failedTest = fhir.call("PATCH", "/fhir/Patient/" + id,
                                 R"([{"op":"test","path":"/gender","value":"male"}])", {patchType});
    BOOST_TEST(failedTest.status >= 400);
    Reply invalid =
        fhir.call("PATCH", "/fhir/Patient/" + id,
                  R"([{"op":"replace","path":"/gender","value":"robot"}])", {patchType});
    BOOST_TEST(invalid.status == 422);
    BOOST_TEST(fhir.get("Patient/" + id).header("etag") == "W/\"2\"");
}

BOOST_DATA_TEST_CASE(formats_and_compression, Backends, backend)
{
    FhirFixture fhir(backend);
    const std::string id = fhir.create("Patient", Patient);
    Reply xml = fhir.get("Patient/" + id + "?_format=xml");
    BOOST_TEST(xml.status == 200);
    BOOST_TEST(xml.header("content-type") == "application/fhir+xml; charset=utf-8");
    BOOST_TEST(xml.body.find("<Patient xmlns=\"http://hl7.org/fhir\">") != std::string::npos);
    BOOST_TEST(xml.body.find("<family value=\"张\"/>") != std::string::npos);
    BOOST_TEST(
        fhir.get("Patient/" + id, {{"Accept", "application/fhir+xml"}}).header("content-type") ==
        "application/fhir+xml; charset=utf-8");
    BOOST_TEST(fhir.get("Patient/" + id, {{"Accept", "image/png"}}).status == 406);

    // XML in, JSON out.
    Reply fromXml = fhir.post("Patient", xml.body, {{"Content-Type", "application/fhir+xml"}});
    BOOST_TEST(fromXml.status == 201);
    BOOST_TEST(std::string(fromXml.json["name"][0]["text"].GetString()) == "张三");
    BOOST_TEST(fhir.post("Patient", Patient, {{"Content-Type", "text/plain"}}).status == 415);

    Reply pretty = fhir.get("Patient/" + id + "?_pretty=true");
    BOOST_TEST(pretty.body.find("\n  \"resourceType\"") != std::string::npos);

    Reply summary = fhir.get("Patient/" + id + "?_elements=gender");
    BOOST_TEST(summary.json.HasMember("gender"));
    BOOST_TEST(!summary.json.HasMember("name"));

    // Large answers are gzipped when asked.
    for (int i = 0; i < 30; ++i) {
        fhir.create("Patient", patientNamed("Big" + std::to_string(i), "g" + std::to_string(i)));
    }
    Reply gzipped = fhir.get("Patient?_count=30", {{"Accept-Encoding", "gzip"}});
    BOOST_TEST(gzipped.header("content-encoding") == "gzip");
    std::string plain;
    BOOST_TEST(hl7gw::fhir::rest::gzipDecompress(gzipped.body, plain));
    BOOST_TEST(plain.find("\"searchset\"") != std::string::npos);
}

BOOST_DATA_TEST_CASE(bad_input_is_an_operation_outcome, Backends, backend)
{
    FhirFixture fhir(backend);
    Reply malformed = fhir.post("Patient", "{\"resourceType\":\"Patient\",\n\"name\": [}");
    BOOST_TEST(malformed.status == 400);
    BOOST_TEST(malformed.text("resourceType") == "OperationOutcome");
    BOOST_TEST(malformed.body.find("line 2") != std::string::npos);

    Reply unknown = fhir.post("Patient", R"({"resourceType":"Patient","colour":"blue"})");
    BOOST_TEST(unknown.status == 400);
    BOOST_TEST(unknown.body.find("Patient.colour") != std::string::npos);

    Reply wrongType = fhir.post("Patient", R"({"resourceType":"Patient","active":"yes"})");
    BOOST_TEST(wrongType.status == 400);

    Reply invariant = fhir.post(
        "Appointment",
        R"({"resourceType":"Appointment","status":"booked","participant":[{"status":"accepted","actor":{"reference":"Patient/1"}}]})");
    BOOST_TEST(invariant.status == 422);
    BOOST_TEST(issueCode(invariant) == "invariant");

    std::string deep = "{\"resourceType\":\"Patient\",\"extension\":";
    for (int i = 0; i < 200; ++i) {
        deep += "[";
    }
    Reply tooDeep = fhir.post("Patient", deep);
    BOOST_TEST(tooDeep.status == 400);

    Reply badUtf8 = fhir.post("Patient", "{\"resourceType\":\"Patient\",\"gender\":\"\xff\"}");
    BOOST_TEST(badUtf8.status == 400);

    Reply wrongResource = fhir.post("Observation", Patient);
    BOOST_TEST(wrongResource.status == 400);

    Reply huge = fhir.post("Patient", std::string(20 * 1024 * 1024, ' '));
    BOOST_TEST(huge.status == 413);
    BOOST_TEST(huge.text("resourceType") == "OperationOutcome");

    // Nothing of the above was stored.
    BOOST_TEST(fhir.get("Patient/_history").json["entry"].Size() == 0u);
}

BOOST_DATA_TEST_CASE(search_parameters_and_paging, Backends, backend)
{
    FhirFixture fhir(backend);
    const std::string zhang = fhir.create("Patient", Patient);
    const std::string li = fhir.create("Patient", patientNamed("Li", "L1", "1975-03-02"));
    const std::string wang = fhir.create("Patient", patientNamed("Wang", "W1", "2001-11-30"));

    BOOST_TEST(entryIds(fhir.get("Patient?name=张")) == std::set<std::string>{zhang});
    BOOST_TEST(entryIds(fhir.get("Patient?name=li")) == std::set<std::string>{li});
    BOOST_TEST(entryIds(fhir.get("Patient?identifier=urn:test|W1")) == std::set<std::string>{wang});
    BOOST_TEST(entryIds(fhir.get("Patient?identifier=W1")) == std::set<std::string>{wang});
    BOOST_TEST(entryIds(fhir.get("Patient?birthdate=lt1980")).size() == 1u);
    BOOST_TEST(entryIds(fhir.get("Patient?birthdate=ge1980-01-01&birthdate=lt2000")) ==
               std::set<std::string>{zhang});
    BOOST_TEST(entryIds(fhir.get("Patient?name=li,wang")).size() == 2u);
    BOOST_TEST(entryIds(fhir.get("Patient?_id=" + li)) == std::set<std::string>{li});

    // Unknown parameters: ignored and left out of self, or 400 when the client is strict.
    Reply lenient = fhir.get("Patient?name=li&colour=blue");
    BOOST_TEST(entryIds(lenient) == std::set<std::string>{li});
    BOOST_TEST(link(lenient, "self").find("colour") == std::string::npos);
    BOOST_TEST(fhir.get("Patient?colour=blue", {{"Prefer", "handling=strict"}}).status == 400);
    BOOST_TEST(fhir.get("Patient?birthdate=notadate").status == 400);

    // Slots of one schedule, by date and status; reference and _include.
    const std::string schedule = fhir.create(
        "Schedule", R"({"resourceType":"Schedule","actor":[{"reference":"Practitioner/d1"}]})");
    std::vector<std::string> slots;
    for (int i = 0; i < 7; ++i) {
        const std::string hour = (i + 8 < 10 ? "0" : "") + std::to_string(i + 8);
        slots.push_back(fhir.create(
            "Slot", slot("Schedule/" + schedule, "2026-12-02T" + hour + ":00:00+08:00",
                         "2026-12-02T" + hour + ":15:00+08:00", i == 3 ? "busy" : "free")));
    }
    fhir.create("Slot",
                slot("Schedule/other", "2026-12-02T09:00:00+08:00", "2026-12-02T09:15:00+08:00"));
    // An absolute reference is found by its url (the partial url index), a relative one by
    // type and id.
    const std::string elsewhere =
        fhir.create("Slot", slot("http://other.org/fhir/Schedule/x", "2026-12-02T09:00:00+08:00",
                                 "2026-12-02T09:15:00+08:00"));
    BOOST_TEST(entryIds(fhir.get("Slot?schedule=http://other.org/fhir/Schedule/x")) ==
               std::set<std::string>{elsewhere});
    BOOST_TEST(entryIds(fhir.get("Slot?schedule=Schedule/other")).size() == 1u);
    // No match: no entry at all (FHIR JSON has no empty arrays), compact or pretty.
    for (const char* pretty : {"", "&_pretty=true"}) {
        Reply none = fhir.get(std::string("Slot?schedule=Schedule/nowhere") + pretty);
        BOOST_TEST(none.status == 200);
        BOOST_TEST(!none.json.HasMember("entry"));
    }
    const std::string query =
        "Slot?schedule=Schedule/" + schedule + "&start=ge2026-12-02&status=free";
    Reply free = fhir.get(query + "&_total=accurate");
    BOOST_TEST(entryIds(free).size() == 6u);
    BOOST_TEST(hl7gw::fhir::numberText(free.json["total"]) == "6");

    // Keyset paging, stable against inserts between pages, sorted by start.
    Reply page1 = fhir.get(query + "&_count=4&_sort=start");
    BOOST_REQUIRE(entries(page1) == 4u);
    const std::string next = link(page1, "next");
    BOOST_REQUIRE(!next.empty());
    fhir.create("Slot", slot("Schedule/" + schedule, "2026-12-02T07:00:00+08:00",
                             "2026-12-02T07:15:00+08:00"));
    Reply page2 = fhir.get(relative(next));
    BOOST_TEST(entries(page2) == 2u);
    std::set<std::string> seen = entryIds(page1);
    for (const auto& id : entryIds(page2)) {
        BOOST_TEST(seen.insert(id).second);
    }
    BOOST_TEST(link(page2, "next").empty());
    // Without _sort a date-ranged search comes in the server's date order (the date index
    // walked from the range's start), paged by keyset as well: the seven free slots from
    // 07:00, each once, in start order.
    std::vector<std::string> starts;
    std::set<std::string> implicitSeen;
    std::string nextPage = query + "&_count=3";
    for (int pages = 0; !nextPage.empty() && pages < 5; ++pages) {
        Reply page = fhir.get(nextPage);
        BOOST_REQUIRE(page.status == 200);
        for (const auto& e : page.json["entry"].GetArray()) {
            BOOST_TEST(implicitSeen.insert(e["resource"]["id"].GetString()).second);
            starts.push_back(e["resource"]["start"].GetString());
        }
        nextPage = relative(link(page, "next"));
    }
    BOOST_TEST(starts.size() == 7u);
    BOOST_TEST(std::is_sorted(starts.begin(), starts.end()));
    BOOST_TEST(implicitSeen.count(slots[0]) == 1u);
    BOOST_TEST(implicitSeen.count(slots[3]) == 0u); // busy

    Reply descending = fhir.get(query + "&_sort=-start&_count=1");
    BOOST_TEST(*entryIds(descending).begin() == slots[6]);

    Reply included = fhir.get("Slot?_id=" + slots[0] + "&_include=Slot:schedule");
    BOOST_TEST(entryIds(included) == std::set<std::string>{slots[0]});
    BOOST_TEST(entryIds(included, "include") == std::set<std::string>{schedule});
    Reply revIncluded = fhir.get("Schedule?_id=" + schedule + "&_revinclude=Slot:schedule");
    BOOST_TEST(entryIds(revIncluded, "include").size() == 8u);

    Reply counted = fhir.get(query + "&_summary=count");
    BOOST_TEST(entries(counted) == 0u);
    BOOST_TEST(counted.json.HasMember("total"));

    // POST _search takes the parameters as a form.
    Reply form = fhir.call("POST", "/fhir/Patient/_search", "name=li",
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
    BOOST_TEST(entryIds(form) == std::set<std::string>{li});

    // A referenced resource cannot be deleted.
    BOOST_TEST(fhir.call("DELETE", "/fhir/Schedule/" + schedule).status == 409);
}

BOOST_DATA_TEST_CASE(transactions_are_all_or_nothing, Backends, backend)
{
    FhirFixture fhir(backend);
    const std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[
        {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
         "resource":{"resourceType":"Patient","name":[{"family":"Chen"}],
                     "identifier":[{"system":"urn:test","value":"T1"}]},
         "request":{"method":"POST","url":"Patient"}},
        {"resource":{"resourceType":"Encounter","status":"planned",
                     "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
                     "subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}},
         "request":{"method":"POST","url":"Encounter"}}]})";
    Reply done = fhir.post("", bundle);
    BOOST_TEST(done.status == 200);
    BOOST_TEST(done.text("type") == "transaction-response");
    BOOST_REQUIRE(entries(done) == 2u);
    const std::string location = done.json["entry"][1]["response"]["location"].GetString();
    BOOST_TEST(location.find("http://") == 0u);
    const std::string path = relative(location);
    Reply encounter = fhir.get(path.substr(0, path.find("/_history")));
    BOOST_REQUIRE(encounter.status == 200);
    const std::string subject = encounter.json["subject"]["reference"].GetString();
    BOOST_TEST(subject.rfind("Patient/", 0) == 0u);
    BOOST_TEST(fhir.get(subject).status == 200);

    // A conditional reference resolves inside the transaction.
    const std::string conditional = R"({"resourceType":"Bundle","type":"transaction","entry":[
        {"resource":{"resourceType":"Encounter","status":"finished",
                     "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
                     "subject":{"reference":"Patient?identifier=urn:test|T1"}},
         "request":{"method":"POST","url":"Encounter"}}]})";
    Reply resolved = fhir.post("", conditional);
    BOOST_TEST(resolved.status == 200);
    BOOST_TEST(
        std::string(resolved.json["entry"][0]["resource"]["subject"]["reference"].GetString()) ==
        subject);

    // One bad entry: nothing of the Bundle is applied.
    const std::string broken = R"({"resourceType":"Bundle","type":"transaction","entry":[
        {"resource":{"resourceType":"Patient","name":[{"family":"Never"}]},
         "request":{"method":"POST","url":"Patient"}},
        {"resource":{"resourceType":"Patient","gender":"robot"},
         "request":{"method":"POST","url":"Patient"}}]})";
    Reply refused = fhir.post("", broken);
    BOOST_TEST(refused.status == 422);
    BOOST_TEST(refused.body.find("Bundle.entry[1]") != std::string::npos);
    BOOST_TEST(entryIds(fhir.get("Patient?name=never")).empty());

    const std::string unresolved = R"({"resourceType":"Bundle","type":"transaction","entry":[
        {"resource":{"resourceType":"Encounter","status":"finished",
                     "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
                     "subject":{"reference":"Patient?identifier=urn:test|nobody"}},
         "request":{"method":"POST","url":"Encounter"}}]})";
    BOOST_TEST(fhir.post("", unresolved).status == 404);

    // A batch answers entry by entry.
    const std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[
        {"resource":{"resourceType":"Patient","name":[{"family":"Batch"}]},
         "request":{"method":"POST","url":"Patient"}},
        {"request":{"method":"GET","url":"Patient/does-not-exist"}}]})";
    Reply answered = fhir.post("", batch);
    BOOST_TEST(answered.status == 200);
    BOOST_TEST(answered.text("type") == "batch-response");
    BOOST_TEST(std::string(answered.json["entry"][0]["response"]["status"].GetString()) ==
               "201 Created");
    BOOST_TEST(std::string(answered.json["entry"][1]["response"]["status"].GetString()) ==
               "404 Not Found");
    BOOST_TEST(entryIds(fhir.get("Patient?name=batch")).size() == 1u);
}

BOOST_DATA_TEST_CASE(writes_queue_their_outbox_messages_in_the_same_transaction, Backends, backend)
{
    auto hook = [](const hl7gw::store::ResourceChange& change, const rapidjson::Value&,
                   const hl7gw::fhir::CommitView&,
                   std::vector<hl7gw::store::OutboxMessage>& outbox) {
        if (change.type == "Appointment") {
            outbox.push_back({"fhir-booking",
                              "his",
                              "SIU^S12",
                              change.id,
                              "c-" + change.id,
                              "MSH|^~\\&|GW|" + change.id,
                              {}});
        }
    };
    FhirFixture fhir(backend, {}, hook);
    const std::string appointment =
        R"({"resourceType":"Appointment","status":"booked","start":"2026-12-02T08:00:00+08:00",)"
        R"("end":"2026-12-02T08:15:00+08:00","participant":[{"status":"accepted","actor":{"reference":"Patient/p"}}]})";
    const std::string id = fhir.create("Appointment", appointment);
    fhir.create("Patient", Patient);
    auto queued = fhir.store().claim("his", "test", 10, INT64_MAX / 2, INT64_MAX / 2 + 1);
    BOOST_REQUIRE(queued.size() == 1u);
    BOOST_TEST(queued[0].payload == "MSH|^~\\&|GW|" + id);
    BOOST_TEST(queued[0].orderKey == id);

    // A write that is refused queues nothing.
    BOOST_TEST(
        fhir.post("Appointment", R"({"resourceType":"Appointment","status":"booked"})").status ==
        422);
    BOOST_TEST(fhir.store().claim("his", "test", 10, INT64_MAX / 2, INT64_MAX / 2 + 1).empty());
}

// A feed sends the same doctor with every message: an unchanged conditional PUT keeps its
// version and queues nothing; a changed one makes a version and queues its message.
BOOST_DATA_TEST_CASE(unchanged_updates_write_no_version_and_queue_nothing, Backends, backend)
{
    auto hook = [](const hl7gw::store::ResourceChange& change, const rapidjson::Value&,
                   const hl7gw::fhir::CommitView&,
                   std::vector<hl7gw::store::OutboxMessage>& outbox) {
        // One order key per message, so that a claim sees them all at once.
        const std::string key = change.id + "-" + std::to_string(change.expectedVersion);
        outbox.push_back({"feed", "his", "ADT^A31", key, "c-" + key, "MSH|^~\\&|GW", {}});
    };
    FhirFixture fhir(backend, {}, hook);
    auto bundle = [](const std::string& family) {
        return R"({"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Practitioner","identifier":[{"system":"urn:hl7gw:id:HIS","value":"D7"}],
                       "name":[{"family":")" +
               family + R"("}]},
           "request":{"method":"PUT","url":"Practitioner?identifier=urn:hl7gw:id:HIS%7CD7"}}]})";
    };
    auto etag = [](const Reply& reply) {
        return std::string(reply.json["entry"][0]["response"]["etag"].GetString());
    };
    const Reply first = fhir.post("", bundle("王"));
    BOOST_REQUIRE(first.status == 200);
    BOOST_TEST(etag(first) == "W/\"1\"");
    const Reply again = fhir.post("", bundle("王"));
    BOOST_REQUIRE(again.status == 200);
    BOOST_TEST(etag(again) == "W/\"1\"");
    const Reply changed = fhir.post("", bundle("李"));
    BOOST_REQUIRE(changed.status == 200);
    BOOST_TEST(etag(changed) == "W/\"2\"");
    const std::string path = relative(first.json["entry"][0]["response"]["location"].GetString());
    const std::string id =
        path.substr(std::string("Practitioner/").size(),
                    path.find("/_history") - std::string("Practitioner/").size());
    BOOST_TEST(entries(fhir.get("Practitioner/" + id + "/_history")) == 2u);
    // Two messages: the create and the change, none for the repeat.
    BOOST_TEST(fhir.store().claim("his", "test", 10, INT64_MAX / 2, INT64_MAX / 2 + 1).size() ==
               2u);
}

BOOST_DATA_TEST_CASE(capability_statement_tells_what_we_do, Backends, backend)
{
    FhirFixture fhir(backend);
    Reply metadata = fhir.get("metadata");
    BOOST_TEST(metadata.status == 200);
    BOOST_TEST(metadata.text("resourceType") == "CapabilityStatement");
    BOOST_TEST(metadata.text("fhirVersion") == "4.0.1");
    const auto& resources = metadata.json["rest"][0]["resource"];
    bool slotFound = false;
    for (const auto& r : resources.GetArray()) {
        if (std::string(r["type"].GetString()) != "Slot") {
            continue;
        }
        slotFound = true;
        std::set<std::string> params;
        for (const auto& p : r["searchParam"].GetArray()) {
            params.insert(p["name"].GetString());
        }
        for (const char* name :
             {"schedule", "status", "start", "identifier", "_id", "_lastUpdated"}) {
            BOOST_TEST(params.count(name) == 1u, name);
        }
    }
    BOOST_TEST(slotFound);
}

// Two Bundles naming the same doctor at once (a mapping channel's deliveries): the conditional
// create must make the Practitioner once, not once per Bundle (ConditionalLocks).
BOOST_DATA_TEST_CASE(concurrent_conditional_creates_make_one_resource, Backends, backend)
{
    FhirFixture fhir(backend);
    const std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:0c3f1f46-7a4b-4d0e-9a59-0c7b3f1a2e11",
       "resource":{"resourceType":"Practitioner","identifier":[{"system":"urn:hl7gw:id:HIS","value":"D42"}]},
       "request":{"method":"POST","url":"Practitioner","ifNoneExist":"identifier=urn:hl7gw:id:HIS%7CD42"}},
      {"resource":{"resourceType":"Encounter","status":"in-progress",
        "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
        "participant":[{"individual":{"reference":"urn:uuid:0c3f1f46-7a4b-4d0e-9a59-0c7b3f1a2e11"}}]},
       "request":{"method":"POST","url":"Encounter"}}]})";
    constexpr int threads = 8;
    std::vector<int> statuses(threads, 0);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            Poco::Net::HTTPClientSession session("127.0.0.1", fhir.port());
            Poco::Net::HTTPRequest request("POST", "/fhir", Poco::Net::HTTPMessage::HTTP_1_1);
            request.setContentType("application/fhir+json");
            request.setContentLength(static_cast<std::streamsize>(bundle.size()));
            session.sendRequest(request) << bundle;
            Poco::Net::HTTPResponse response;
            std::string body;
            Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
            statuses[static_cast<std::size_t>(t)] = response.getStatus();
        });
    }
    for (std::thread& w : workers) {
        w.join();
    }
    for (int status : statuses) {
        BOOST_TEST(status == 200);
    }
    Reply doctors = fhir.get("Practitioner?identifier=urn:hl7gw:id:HIS%7CD42&_total=accurate");
    BOOST_TEST(hl7gw::fhir::numberText(doctors.json["total"]) == "1");
    Reply encounters = fhir.get("Encounter?_total=accurate");
    BOOST_TEST(hl7gw::fhir::numberText(encounters.json["total"]) == std::to_string(threads));
}

BOOST_AUTO_TEST_SUITE_END()
