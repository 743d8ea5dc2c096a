#include "gateway/fhir/server/detail/slot_holds.h"

#include "gateway/fhir/search/index_extractor.h"

#include <algorithm>
#include <array>

namespace hl7gw::fhir::server::slot_holds {

namespace {

// STANDARDS.md §7.2: these keep their Slot; cancelled, noshow, entered-in-error (and the
// unstored proposed) release it.
constexpr std::array<std::string_view, 5> Holding{"pending", "booked", "checked-in", "arrived",
                                                  "fulfilled"};

} // namespace

std::vector<std::string> schema(bool postgresql)
{
    const std::string id = postgresql ? "BIGINT NOT NULL" : "INTEGER NOT NULL";
    return {
        std::string("CREATE TABLE IF NOT EXISTS ") + Table + " (rid " + id +
            ", slot TEXT NOT NULL)",
        std::string("CREATE UNIQUE INDEX IF NOT EXISTS fhir_slot_holds_slot ON ") + Table +
            " (slot)",
        std::string("CREATE INDEX IF NOT EXISTS fhir_slot_holds_rid ON ") + Table + " (rid)",
    };
}

std::optional<store::IndexRows> rows(const rapidjson::Value& resource, std::string_view baseUrl)
{
    if (!resource.IsObject()) {
        return std::nullopt;
    }
    const auto type = resource.FindMember("resourceType");
    const auto status = resource.FindMember("status");
    const auto slots = resource.FindMember("slot");
    if (type == resource.MemberEnd() || !type->value.IsString() ||
        std::string_view(type->value.GetString()) != "Appointment" ||
        status == resource.MemberEnd() || !status->value.IsString() ||
        slots == resource.MemberEnd() || !slots->value.IsArray()) {
        return std::nullopt;
    }
    if (std::find(Holding.begin(), Holding.end(), std::string_view(status->value.GetString())) ==
        Holding.end()) {
        return std::nullopt;
    }
    store::IndexRows out{Table, "slot", {}};
    std::vector<std::string> seen;
    for (const rapidjson::Value& slot : slots->value.GetArray()) {
        if (!slot.IsObject() || !slot.HasMember("reference") || !slot["reference"].IsString()) {
            continue;
        }
        const auto parsed = search::parseReference(slot["reference"].GetString(), baseUrl);
        // A Slot of another server is not ours to guard (validation refuses other types).
        if (!parsed || !parsed->local() || parsed->type != "Slot") {
            continue;
        }
        std::string key = "Slot/" + parsed->id;
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
            continue; // the same Slot twice in one Appointment is one hold
        }
        seen.push_back(key);
        out.rows.push_back({store::SqlValue(std::move(key))});
    }
    if (out.rows.empty()) {
        return std::nullopt;
    }
    return out;
}

bool isTaken(const std::string& storeError)
{
    // SQLite: "UNIQUE constraint failed: fhir_slot_holds.slot"; PostgreSQL names the index.
    return storeError.find("fhir_slot_holds") != std::string::npos;
}

} // namespace hl7gw::fhir::server::slot_holds
