#include "gateway/booking/fhir_json.h"

#include "gateway/core/clock.h"

#include <Poco/UUIDGenerator.h>

#include <cctype>

namespace hl7gw::booking::json {

std::string_view str(const Value& object, const char* name)
{
    const Value* value = member(object, name);
    return value != nullptr && value->IsString()
               ? std::string_view(value->GetString(), value->GetStringLength())
               : std::string_view();
}

const Value* member(const Value& object, const char* name)
{
    if (!object.IsObject()) {
        return nullptr;
    }
    const auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

void set(Value& object, const char* name, Value value, Allocator& a)
{
    if (object.HasMember(name)) {
        object[name] = std::move(value);
    } else {
        object.AddMember(Value(name, a), std::move(value), a);
    }
}

void setString(Value& object, const char* name, std::string_view text, Allocator& a)
{
    set(object, name, Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), a), a);
}

std::optional<std::int64_t> instant(std::string_view text)
{
    std::string value(text);
    if (value.size() == 10) {
        value += "T00:00:00+08:00";
    }
    std::int64_t micros = 0;
    if (value.empty() || !core::parseIsoTime(value, micros)) {
        return std::nullopt;
    }
    return micros;
}

std::string utcQuery(std::int64_t micros)
{
    return core::formatIsoUtc(micros).substr(0, 19) + "Z";
}

std::string encode(std::string_view text)
{
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' ||
            c == ':') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string newUuid()
{
    return Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
}

std::string departmentOf(const Value& resource)
{
    for (const char* element : {"specialty", "serviceType"}) {
        const Value* list = member(resource, element);
        if (list == nullptr || !list->IsArray()) {
            continue;
        }
        for (const Value& codeable : list->GetArray()) {
            const Value* codings = member(codeable, "coding");
            if (codings != nullptr && codings->IsArray() && !codings->Empty()) {
                return std::string(str((*codings)[0], "code"));
            }
        }
    }
    return {};
}

std::string poolOf(const Value& slot)
{
    const Value* meta = member(slot, "meta");
    const Value* tags = meta != nullptr ? member(*meta, "tag") : nullptr;
    if (tags != nullptr && tags->IsArray()) {
        for (const Value& tag : tags->GetArray()) {
            if (str(tag, "system") == PoolSystem) {
                return std::string(str(tag, "code"));
            }
        }
    }
    return {};
}

std::string personName(const Value& person)
{
    const Value* names = member(person, "name");
    if (names == nullptr || !names->IsArray() || names->Empty()) {
        return {};
    }
    const Value& name = (*names)[0];
    if (const std::string_view whole = str(name, "text"); !whole.empty()) {
        return std::string(whole);
    }
    std::string joined(str(name, "family"));
    if (const Value* given = member(name, "given"); given != nullptr && given->IsArray()) {
        for (const Value& part : given->GetArray()) {
            if (part.IsString()) {
                joined += part.GetString();
            }
        }
    }
    return joined;
}

} // namespace hl7gw::booking::json
