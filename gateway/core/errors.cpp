#include "gateway/core/errors.h"

#include <typeinfo>

namespace hl7gw::core {

POCO_IMPLEMENT_EXCEPTION(Error, Poco::Exception, "hl7gw error")
POCO_IMPLEMENT_EXCEPTION(ConfigError, Error, "Configuration error")
POCO_IMPLEMENT_EXCEPTION(IoError, Error, "I/O error")

} // namespace hl7gw::core
