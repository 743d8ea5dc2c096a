#pragma once

#include <stdexcept>
#include <string>

namespace hl7gw::mapping {

/// A mapping, table or dialect file that cannot be loaded. what() is
/// `file:line:column: text` (column or line left out when unknown). The CLI prints it and
/// exits 2; a reload keeps the previous maps.
class MappingLoadError : public std::runtime_error {
  public:
    MappingLoadError(const std::string& file, unsigned line, unsigned column,
                     const std::string& text);
    const std::string& file() const { return file_; }
    unsigned line() const { return line_; }
    unsigned column() const { return column_; }
    const std::string& text() const { return text_; }

  private:
    std::string file_;
    unsigned line_;
    unsigned column_;
    std::string text_;
};

} // namespace hl7gw::mapping
