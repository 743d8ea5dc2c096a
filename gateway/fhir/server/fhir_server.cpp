#include "gateway/fhir/server/fhir_server.h"

#include "gateway/fhir/server/detail/interactions.h"

namespace hl7gw::fhir {

std::string_view FhirRequest::header(std::string_view lowerName) const
{
    for (const auto& [name, value] : headers) {
        if (name == lowerName) {
            return value;
        }
    }
    return {};
}

class FhirServer::Impl {
  public:
    Impl(FhirServerConfig config, store::ResourceStore& store, const core::Clock& clock,
         OutboxHook outbox)
        : interactions_(std::move(config), store, clock, std::move(outbox))
    {
    }

    server::Interactions interactions_;
};

FhirServer::FhirServer(FhirServerConfig config, store::ResourceStore& store,
                       const core::Clock& clock, OutboxHook outbox)
    : impl_(std::make_unique<Impl>(std::move(config), store, clock, std::move(outbox)))
{
}

FhirServer::~FhirServer() = default;

FhirResponse FhirServer::handle(const FhirRequest& request)
{
    return impl_->interactions_.handle(request);
}

FhirResponse FhirServer::refuse(const FhirRequest& request, int status, std::string code,
                                std::string text)
{
    return impl_->interactions_.refuse(request, status, std::move(code), std::move(text));
}

const FhirServerConfig& FhirServer::config() const
{
    return impl_->interactions_.config();
}

void FhirServer::addOperation(const std::string& type, const std::string& name, Operation operation)
{
    impl_->interactions_.addOperation(type, name, std::move(operation));
}

void FhirServer::addCommitObserver(CommitObserver observer)
{
    impl_->interactions_.addCommitObserver(std::move(observer));
}

const rapidjson::Value* CommitView::find(std::string_view reference) const
{
    for (const auto& [key, resource] : resources) {
        if (reference == key || (reference.size() > key.size() &&
                                 reference.substr(reference.size() - key.size()) == key &&
                                 reference[reference.size() - key.size() - 1] == '/')) {
            return resource;
        }
    }
    return nullptr;
}

} // namespace hl7gw::fhir
