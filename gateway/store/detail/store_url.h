#pragma once

#include <string>
#include <string_view>

namespace hl7gw::store::detail {

enum class Backend { Sqlite, Postgresql };

/// A parsed StoreConfig::url.
struct StoreUrl {
    Backend backend = Backend::Sqlite;
    /// Sqlite: the database file, as written in the URL (relative to the working directory).
    std::string sqlitePath;
    /// Postgresql: a libpq keyword/value string (what POCO's connector takes), password
    /// included. Never log it.
    std::string connectString;
    /// What describe() shows: "sqlite:PATH" or "postgresql://user@host:port/db", never a
    /// password.
    std::string description;
};

/// Accepts
///   sqlite:PATH                                  (sqlite:///abs/path also works)
///   postgresql://[user[:password]@][host][:port][/db][?keyword=value&...]  (or postgres://)
///   postgresql:KEYWORD=VALUE ...                 (a libpq keyword/value string)
/// Query keywords are passed to libpq as they are (sslmode, options, connect_timeout, ...).
/// Throws core::ConfigError, naming the problem but not the password, for any other scheme or
/// a malformed URL.
StoreUrl parseStoreUrl(std::string_view url);

} // namespace hl7gw::store::detail
