#include "gateway/transport/transport_error.h"

#include <typeinfo>

namespace hl7gw::transport {

POCO_IMPLEMENT_EXCEPTION(TransportError, core::Error, "Transport error")

} // namespace hl7gw::transport
