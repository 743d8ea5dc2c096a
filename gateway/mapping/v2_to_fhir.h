#pragma once

#include "gateway/core/issue.h"
#include "gateway/hl7v2/message.h"
#include "gateway/hl7v2/text_decoder.h"
#include "gateway/mapping/dialect.h"
#include "gateway/mapping/map_set.h"

#include <rapidjson/document.h>

#include <memory>
#include <string>

namespace hl7gw::mapping {

namespace detail {
struct MessageMap;
class V2Run;
} // namespace detail

/// Runs v2 -> FHIR maps: one parsed HL7 v2 message becomes one transaction Bundle
/// (mappings/README.md "What a message becomes"). Numbers in the Bundle are kept as their text
/// in the FHIR model's JSON form (fhir/model/json_io.h), so fhir::writeJson prints it and the
/// FHIR server can take it as it is.
///
/// Holds decoding scratch memory: one instance per thread. The MapSet and the Dialect must
/// outlive it.
class V2ToFhir {
  public:
    V2ToFhir(std::shared_ptr<const MapSet> maps, const Dialect& dialect);
    ~V2ToFhir();

    /// Maps `message` with the message map chosen by MSH-9 (or `forced`). Returns false when
    /// no map applies or the data broke a rule (`issues` then hold Errors naming the v2
    /// position and the mapping file and line); `bundle` is complete only when true.
    bool map(const hl7v2::Message& message, rapidjson::Document& bundle, core::IssueList& issues,
             const detail::MessageMap* forced = nullptr);

    const MapSet& maps() const { return *maps_; }
    const Dialect& dialect() const { return dialect_; }

  private:
    std::shared_ptr<const MapSet> maps_;
    const Dialect& dialect_;
    hl7v2::TextDecoder decoder_;
};

} // namespace hl7gw::mapping
