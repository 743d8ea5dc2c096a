#include "gateway/app/input_file.h"

#include "gateway/core/errors.h"

#include <Poco/File.h>
#include <Poco/SharedMemory.h>

#include <iostream>
#include <iterator>

namespace hl7gw::app {

InputFile::InputFile(const std::string& name) : name_(name)
{
    if (name == "-") {
        stdinBytes_.assign(std::istreambuf_iterator<char>(std::cin),
                           std::istreambuf_iterator<char>());
        bytes_ = stdinBytes_;
        return;
    }
    try {
        Poco::File file(name);
        if (!file.exists()) {
            throw core::IoError(name + ": no such file");
        }
        if (file.isDirectory()) {
            throw core::IoError(name + ": is a directory");
        }
        if (file.getSize() == 0) {
            return; // nothing to map
        }
        mapping_ = std::make_unique<Poco::SharedMemory>(file, Poco::SharedMemory::AM_READ);
        bytes_ = std::string_view(mapping_->begin(),
                                  static_cast<std::size_t>(mapping_->end() - mapping_->begin()));
    } catch (const core::IoError&) {
        throw;
    } catch (const Poco::Exception& e) {
        throw core::IoError(name + ": " + e.displayText());
    }
}

InputFile::~InputFile() = default;

} // namespace hl7gw::app
