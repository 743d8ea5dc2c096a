#pragma once

#include <Poco/Exception.h>

namespace hl7gw::core {

/// Base of the gateway's exceptions, for environment failures only (I/O, database,
/// configuration). Bad input is reported as core::Issue, never thrown across a module.
POCO_DECLARE_EXCEPTION(, Error, Poco::Exception)
/// A configuration or usage error: the process exits with code 2.
POCO_DECLARE_EXCEPTION(, ConfigError, Error)
/// Input or output that could not be read or written (files, streams).
POCO_DECLARE_EXCEPTION(, IoError, Error)

} // namespace hl7gw::core
