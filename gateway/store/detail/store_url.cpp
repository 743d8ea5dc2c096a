#include "gateway/store/detail/store_url.h"

#include "gateway/core/errors.h"
#include "gateway/store/detail/columns.h"

#include <cctype>
#include <map>
#include <optional>

namespace hl7gw::store::detail {

namespace {

bool startsWith(std::string_view text, std::string_view prefix)
{
    return text.substr(0, prefix.size()) == prefix;
}

// RFC 3986 percent-decoding, as libpq applies it to connection URIs.
std::string percentDecode(std::string_view text, std::string_view what)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        const int high = i + 2 < text.size() ? hexDigit(text[i + 1]) : -1;
        const int low = i + 2 < text.size() ? hexDigit(text[i + 2]) : -1;
        if (high < 0 || low < 0) {
            throw core::ConfigError("store.url: bad percent-encoding in the " + std::string(what));
        }
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

// POCO 1.11's connector splits the keyword string at every space before libpq sees it, so a
// value can be neither quoted nor contain white space; libpq's backslash escape covers ' and \.
std::string escapeValue(const std::string& key, std::string_view value)
{
    std::string out;
    for (char c : value) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            throw core::ConfigError("store.url: the PostgreSQL parameter '" + key +
                                    "' contains white space, which POCO's connector cannot pass "
                                    "on (for a password, use ~/.pgpass or PGPASSFILE)");
        }
        if (c == '\'' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

using Keywords = std::map<std::string, std::string>;

// Splits "host=a port='5 4' ..." the way libpq's conninfo_parse does (without its error
// detail): keywords, optional spaces around '=', values bare or single-quoted.
Keywords parseKeywordString(std::string_view text)
{
    Keywords keywords;
    std::size_t i = 0;
    const auto skipSpace = [&] {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
    };
    while (true) {
        skipSpace();
        if (i == text.size()) {
            break;
        }
        std::string key;
        while (i < text.size() && text[i] != '=' &&
               !std::isspace(static_cast<unsigned char>(text[i]))) {
            key += text[i++];
        }
        skipSpace();
        if (i == text.size() || text[i] != '=' || key.empty()) {
            throw core::ConfigError("store.url: expected keyword=value in the PostgreSQL "
                                    "connection string");
        }
        ++i;
        skipSpace();
        std::string value;
        if (i < text.size() && text[i] == '\'') {
            ++i;
            bool closed = false;
            while (i < text.size()) {
                if (text[i] == '\\' && i + 1 < text.size()) {
                    value += text[i + 1];
                    i += 2;
                } else if (text[i] == '\'') {
                    ++i;
                    closed = true;
                    break;
                } else {
                    value += text[i++];
                }
            }
            if (!closed) {
                throw core::ConfigError("store.url: unterminated quoted value for '" + key + "'");
            }
        } else {
            while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
                value += text[i++];
            }
        }
        keywords[key] = value;
    }
    return keywords;
}

std::string toKeywordString(const Keywords& keywords)
{
    std::string out;
    for (const auto& [key, value] : keywords) {
        if (value.empty()) {
            continue; // libpq's default, as if not given
        }
        if (!out.empty()) {
            out += ' ';
        }
        out += key;
        out += '=';
        out += escapeValue(key, value);
    }
    return out;
}

std::string describePostgresql(const Keywords& keywords)
{
    const auto get = [&](const char* key) -> std::string {
        const auto it = keywords.find(key);
        return it == keywords.end() ? std::string() : it->second;
    };
    std::string text = "postgresql://";
    if (!get("user").empty()) {
        text += get("user") + "@";
    }
    const std::string host = get("host").empty() ? get("hostaddr") : get("host");
    text += host.find(':') != std::string::npos && host.find(',') == std::string::npos
                ? "[" + host + "]"
                : host;
    if (!get("port").empty()) {
        text += ":" + get("port");
    }
    if (!get("dbname").empty()) {
        text += "/" + get("dbname");
    }
    return text;
}

void checkPort(const std::string& port)
{
    if (port.empty()) {
        return;
    }
    for (char c : port) {
        if (!std::isdigit(static_cast<unsigned char>(c)) && c != ',') {
            throw core::ConfigError("store.url: the PostgreSQL port '" + port +
                                    "' is not a number");
        }
    }
}

// Defaults we want unless the URL says otherwise: a bounded connect (so /healthz and start-up
// do not hang on a black-holed host) and a name in pg_stat_activity.
void addDefaults(Keywords& keywords)
{
    keywords.emplace("connect_timeout", "10");
    keywords.emplace("application_name", "hl7gw");
}

Keywords parsePostgresqlUri(std::string_view rest)
{
    Keywords keywords;
    std::string_view query;
    if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    std::string_view authority = rest;
    std::string_view path;
    if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
        authority = rest.substr(0, slash);
        path = rest.substr(slash + 1);
    }
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
        const std::string_view userInfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        const std::size_t colon = userInfo.find(':');
        keywords["user"] = percentDecode(userInfo.substr(0, colon), "user name");
        if (colon != std::string_view::npos) {
            keywords["password"] = percentDecode(userInfo.substr(colon + 1), "password");
        }
    }
    std::string_view host = authority;
    std::string_view port;
    if (startsWith(authority, "[")) {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            throw core::ConfigError("store.url: unterminated [IPv6] host");
        }
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (startsWith(after, ":")) {
            port = after.substr(1);
        } else if (!after.empty()) {
            throw core::ConfigError("store.url: unexpected text after the [IPv6] host");
        }
    } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (!host.empty()) {
        keywords["host"] = percentDecode(host, "host");
    }
    if (!port.empty()) {
        keywords["port"] = std::string(port);
        checkPort(keywords["port"]);
    }
    if (!path.empty()) {
        keywords["dbname"] = percentDecode(path, "database name");
    }
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            throw core::ConfigError("store.url: expected keyword=value after '?'");
        }
        keywords[percentDecode(pair.substr(0, eq), "parameters")] =
            percentDecode(pair.substr(eq + 1), "parameters");
    }
    return keywords;
}

} // namespace

StoreUrl parseStoreUrl(std::string_view url)
{
    StoreUrl parsed;
    if (startsWith(url, "sqlite:")) {
        std::string_view path = url.substr(7);
        if (startsWith(path, "//")) {
            path = path.substr(2);
        }
        if (path.empty()) {
            throw core::ConfigError(
                "store.url: sqlite: needs a file path, e.g. sqlite:var/hl7gw.db");
        }
        // Every connection of the store must see the same database; an in-memory one would
        // be private to the connection that created it.
        if (path == ":memory:" || startsWith(path, "file:")) {
            throw core::ConfigError("store.url: sqlite: needs a file path, not '" +
                                    std::string(path) + "'");
        }
        parsed.backend = Backend::Sqlite;
        parsed.sqlitePath = std::string(path);
        parsed.description = "sqlite:" + parsed.sqlitePath;
        return parsed;
    }
    std::optional<Keywords> keywords;
    if (startsWith(url, "postgresql://")) {
        keywords = parsePostgresqlUri(url.substr(13));
    } else if (startsWith(url, "postgres://")) {
        keywords = parsePostgresqlUri(url.substr(11));
    } else if (startsWith(url, "postgresql:")) {
        keywords = parseKeywordString(url.substr(11));
        checkPort(keywords->count("port") != 0 ? keywords->at("port") : std::string());
    }
    if (!keywords) {
        // Only the scheme is echoed: the rest may hold a password.
        const std::size_t colon = url.find(':');
        const std::string scheme(colon == std::string_view::npos ? std::string_view("(none)")
                                                                 : url.substr(0, colon));
        throw core::ConfigError("store.url: unknown scheme '" + scheme +
                                "'; expected sqlite:PATH or postgresql://user@host:port/db");
    }
    addDefaults(*keywords);
    parsed.backend = Backend::Postgresql;
    parsed.connectString = toKeywordString(*keywords);
    parsed.description = describePostgresql(*keywords);
    return parsed;
}

} // namespace hl7gw::store::detail
