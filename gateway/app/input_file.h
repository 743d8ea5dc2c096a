#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace Poco {
class SharedMemory;
}

namespace hl7gw::app {

/// The bytes of one input named on the command line: a file, mapped into memory rather
/// than copied (a 100 MB file costs no heap), or `-` for standard input, read whole.
/// Throws core::IoError when the input cannot be opened.
class InputFile {
  public:
    explicit InputFile(const std::string& name);
    ~InputFile();
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    std::string_view bytes() const { return bytes_; }
    const std::string& name() const { return name_; }

  private:
    std::string name_;
    std::unique_ptr<Poco::SharedMemory> mapping_;
    std::string stdinBytes_;
    std::string_view bytes_;
};

} // namespace hl7gw::app
