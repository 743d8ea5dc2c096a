#include "gateway/app/map_command.h"

#include "gateway/app/fhir_input.h"
#include "gateway/app/message_reader.h"
#include "gateway/fhir/model/json_io.h"
#include "gateway/fhir/model/xml_codec.h"
#include "gateway/mapping/detail/outbound_program.h"
#include "gateway/mapping/fhir_to_v2.h"
#include "gateway/mapping/mapping_error.h"
#include "gateway/mapping/v2_to_fhir.h"

#include <Poco/Path.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <ostream>

namespace hl7gw::app {
namespace {

namespace fs = std::filesystem;

/// `name` in the working directory when it is there (a checkout), else beside the binary
/// (build/bin/hl7gw -> ../../name).
std::string defaultDirectory(const std::string& name)
{
    std::error_code ec;
    if (fs::is_directory(name, ec))
        return name;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        fs::path candidate = exe.parent_path().parent_path().parent_path() / name;
        if (fs::is_directory(candidate, ec))
            return candidate.string();
    }
    return name;
}

/// Maps, dialects and the chosen dialect, loaded once per command.
struct Loaded {
    std::shared_ptr<const mapping::MapSet> maps;
    std::map<std::string, mapping::Dialect> dialects;
    const mapping::Dialect* dialect = &mapping::Dialect::standard();
    const mapping::detail::MessageMap* forced = nullptr;
    const mapping::detail::OutboundMap* forcedOutbound = nullptr;
};

/// FHIR -> v2 for one FHIR input file; prints the ER7 message. False when it did not map.
/// Where one result goes: standard output, or a file in --out DIR named after the input.
class ResultSink {
  public:
    ResultSink(std::ostream& out, std::string dir) : out_(out), dir_(std::move(dir)) {}

    void write(const std::string& input, std::uint32_t number, bool several,
               const std::string& extension, const std::string& text)
    {
        if (dir_.empty()) {
            out_ << text;
            return;
        }
        std::string stem = fs::path(input).stem().string();
        if (several)
            stem += "-" + std::to_string(number);
        std::ofstream(fs::path(dir_) / (stem + extension), std::ios::binary) << text;
    }

  private:
    std::ostream& out_;
    std::string dir_;
};

bool mapFhirFile(const std::string& path, const std::string& text, FhirFormat format,
                 const Loaded& loaded, ResultSink& sink, std::ostream& err)
{
    rapidjson::Document resource;
    core::IssueList issues;
    bool parsed = false;
    if (format == FhirFormat::Json) {
        core::Issue issue;
        parsed = fhir::parseJson(text, resource, issue);
        if (!parsed)
            issues.add(std::move(issue));
    } else {
        parsed = fhir::xmlToJson(text, resource, issues);
    }
    std::string er7;
    bool ok = false;
    if (parsed) {
        mapping::FhirToV2 engine(loaded.maps, *loaded.dialect);
        mapping::FhirToV2::Options options;
        options.forced = loaded.forcedOutbound;
        ok = engine.map(resource, er7, issues, options);
    }
    for (const core::Issue& issue : issues)
        err << formatIssue(path, 0, issue) << '\n';
    if (ok)
        sink.write(path, 1, false, ".hl7", er7);
    return ok;
}

bool load(const std::string& mappingsDir, const std::string& adaptersDir,
          const std::string& mapping, const std::string& dialect, Loaded& out, std::ostream& err)
{
    try {
        std::vector<std::string> extra;
        std::string forcedName = mapping;
        bool mappingIsFile =
            mapping.size() > 4 && mapping.compare(mapping.size() - 4, 4, ".map") == 0;
        if (mappingIsFile)
            extra.push_back(mapping);
        out.maps = mapping::MapSet::load(mappingsDir, extra);
        std::error_code ec;
        if (fs::is_directory(adaptersDir, ec))
            out.dialects = mapping::Dialect::loadDirectory(adaptersDir);
        for (const auto& [name, d] : out.dialects)
            out.maps->check(d);
        if (!dialect.empty()) {
            auto it = out.dialects.find(dialect);
            if (it == out.dialects.end()) {
                err << "hl7gw: no dialect '" << dialect << "' in " << adaptersDir << '\n';
                return false;
            }
            out.dialect = &it->second;
        }
        if (mappingIsFile) {
            // The file's own message map: the last one it defines.
            forcedName.clear();
            std::ifstream in(mapping);
            std::string line;
            while (std::getline(in, line))
                for (const char* head : {"message ", "outbound "}) {
                    std::size_t n = std::string(head).size();
                    if (line.rfind(head, 0) == 0)
                        forcedName = line.substr(n, line.find(' ', n) - n);
                }
            if (forcedName.empty()) {
                err << mapping << ": no message map in the file\n";
                return false;
            }
        }
        if (!forcedName.empty()) {
            out.forced = out.maps->messageMap(forcedName);
            out.forcedOutbound = out.maps->outboundMap(forcedName);
            if (out.forced == nullptr && out.forcedOutbound == nullptr) {
                err << "hl7gw: no message map '" << forcedName << "'\n";
                return false;
            }
        }
    } catch (const mapping::MappingLoadError& e) {
        err << e.what() << '\n';
        return false;
    } catch (const fs::filesystem_error& e) {
        err << "hl7gw: " << e.what() << '\n';
        return false;
    }
    return true;
}

const hl7v2::Charset* charsetOf(const MapCommandOptions& options, const mapping::Dialect& dialect)
{
    if (options.defaultCharset != nullptr)
        return options.defaultCharset;
    const hl7v2::Charset* charset = hl7v2::Charset::fromAnyName(dialect.charset);
    return charset != nullptr ? charset : &hl7v2::Charset::utf8();
}

// ---- JSON comparison for recorded pairs ----

std::string shortText(const rapidjson::Value& v)
{
    std::string text = fhir::writeJson(v);
    return text.size() > 160 ? text.substr(0, 157) + "..." : text;
}

void diff(const rapidjson::Value& expected, const rapidjson::Value& actual, const std::string& at,
          std::vector<std::string>& out)
{
    if (out.size() > 40)
        return;
    if (expected.IsObject() && actual.IsObject()) {
        for (const auto& m : expected.GetObject()) {
            std::string path = at + "/" + m.name.GetString();
            auto it = actual.FindMember(m.name);
            if (it == actual.MemberEnd())
                out.push_back(path + "\n  - " + shortText(m.value) + "\n  + (missing)");
            else
                diff(m.value, it->value, path, out);
        }
        for (const auto& m : actual.GetObject())
            if (!expected.HasMember(m.name))
                out.push_back(at + "/" + m.name.GetString() + "\n  - (missing)\n  + " +
                              shortText(m.value));
        return;
    }
    if (expected.IsArray() && actual.IsArray()) {
        rapidjson::SizeType n = std::max(expected.Size(), actual.Size());
        for (rapidjson::SizeType i = 0; i < n; ++i) {
            std::string path = at + "/" + std::to_string(i);
            if (i >= actual.Size())
                out.push_back(path + "\n  - " + shortText(expected[i]) + "\n  + (missing)");
            else if (i >= expected.Size())
                out.push_back(path + "\n  - (missing)\n  + " + shortText(actual[i]));
            else
                diff(expected[i], actual[i], path, out);
        }
        return;
    }
    if (fhir::writeJson(expected) != fhir::writeJson(actual))
        out.push_back((at.empty() ? "/" : at) + "\n  - " + shortText(expected) + "\n  + " +
                      shortText(actual));
}

std::string readText(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// A v2 input (NAME.hl7 + NAME.expected.json) or a FHIR one (NAME.json + NAME.expected.hl7);
/// with --update the expected file need not exist yet.
bool isPairInput(const fs::path& path, bool update)
{
    std::string name = path.filename().string();
    auto ends = [&](const std::string& suffix) {
        return name.size() > suffix.size() &&
               name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends(".expected.json") || ends(".expected.hl7"))
        return false;
    if (ends(".hl7"))
        return update || fs::exists(fs::path(path).replace_extension(".expected.json"));
    if (ends(".json"))
        return update || fs::exists(fs::path(path).replace_extension(".expected.hl7"));
    return false;
}

std::vector<std::string> segmentsOf(const std::string& er7)
{
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < er7.size()) {
        std::size_t end = er7.find_first_of("\r\n", start);
        if (end == std::string::npos)
            end = er7.size();
        if (end > start)
            lines.push_back(er7.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

/// One FHIR -> v2 pair: the message compared segment by segment.
bool testOutbound(const fs::path& input, const MappingTestOptions& options, const Loaded& loaded,
                  const mapping::Dialect& dialect, std::ostream& out)
{
    std::error_code ec;
    fs::path expectedPath = fs::path(input).replace_extension(".expected.hl7");
    std::string name = fs::relative(input, options.directory, ec).replace_extension("").string();
    std::vector<std::string> problems;
    rapidjson::Document resource;
    core::Issue parseIssue;
    std::string er7;
    if (!fhir::parseJson(readText(input.string()), resource, parseIssue)) {
        problems.push_back(input.string() + ": " + parseIssue.location.toString() + ": " +
                           parseIssue.text);
    } else {
        mapping::FhirToV2 engine(loaded.maps, dialect);
        core::IssueList issues;
        if (!engine.map(resource, er7, issues, {}))
            for (const core::Issue& issue : issues)
                problems.push_back(formatIssue(input.string(), 0, issue));
    }
    if (options.update && problems.empty()) {
        std::ofstream(expectedPath, std::ios::binary) << er7;
        out << "recorded " << name << '\n';
        return true;
    }
    std::vector<std::string> expected = segmentsOf(readText(expectedPath.string()));
    std::vector<std::string> actual = segmentsOf(er7);
    std::vector<std::string> differences;
    for (std::size_t i = 0; problems.empty() && i < std::max(expected.size(), actual.size()); ++i) {
        std::string e = i < expected.size() ? expected[i] : "(missing)";
        std::string a = i < actual.size() ? actual[i] : "(missing)";
        if (e != a)
            differences.push_back("segment " + std::to_string(i + 1) + "\n  - " + e + "\n  + " + a);
    }
    if (problems.empty() && differences.empty()) {
        out << "ok      " << name << '\n';
        return true;
    }
    out << "FAIL    " << name << '\n';
    for (const std::string& p : problems)
        out << "  " << p << '\n';
    for (const std::string& d : differences)
        out << "  " << d << '\n';
    return false;
}

} // namespace

int runMap(const MapCommandOptions& options, std::ostream& out, std::ostream& err)
{
    Loaded loaded;
    std::string mappingsDir =
        options.mappingsDir.empty() ? defaultDirectory("mappings") : options.mappingsDir;
    std::string adaptersDir =
        options.adaptersDir.empty() ? defaultDirectory("adapters") : options.adaptersDir;
    if (!load(mappingsDir, adaptersDir, options.mapping, options.dialect, loaded, err))
        return 2;
    if (options.format != "json" && options.format != "xml") {
        err << "hl7gw map: --format is json or xml\n";
        return 2;
    }
    std::error_code ec;
    if (!options.outDir.empty() && !fs::is_directory(options.outDir, ec)) {
        err << "hl7gw map: --out " << options.outDir << " is not a directory\n";
        return 2;
    }
    ResultSink sink(out, options.outDir);
    std::vector<std::string> v2Inputs;
    std::uint64_t fhirFailed = 0;
    for (const std::string& input : options.inputs) {
        std::string text;
        FhirFormat format = fhirFormatOf(input, text);
        if (format == FhirFormat::None)
            v2Inputs.push_back(input);
        else if (!mapFhirFile(input, text, format, loaded, sink, err))
            ++fhirFailed;
    }
    if (v2Inputs.empty())
        return fhirFailed == 0 ? 0 : 1;
    mapping::V2ToFhir engine(loaded.maps, *loaded.dialect);
    MessageReader reader(hl7v2::ParseOptions{charsetOf(options, *loaded.dialect)}, err);
    std::uint64_t failed = 0;
    // The second and later messages of a file get numbered result files (STEM-2.json ...).
    auto several = [&](const MessageContext& context) { return context.number > 1; };
    ReadTotals totals = reader.read(v2Inputs, [&](MessageContext& context) {
        if (context.message == nullptr) {
            ++failed;
            return;
        }
        rapidjson::Document bundle;
        core::IssueList issues;
        bool ok = engine.map(*context.message, bundle, issues, loaded.forced);
        for (const core::Issue& issue : issues)
            err << formatIssue(context.file, context.number, issue) << '\n';
        if (!ok) {
            ++failed;
            return;
        }
        if (options.format == "xml") {
            std::string xml;
            core::IssueList xmlIssues;
            if (!fhir::jsonToXml(bundle, xml, xmlIssues)) {
                for (const core::Issue& issue : xmlIssues)
                    err << formatIssue(context.file, context.number, issue) << '\n';
                ++failed;
                return;
            }
            sink.write(context.file, context.number, several(context), ".xml", xml + "\n");
        } else {
            sink.write(context.file, context.number, several(context), ".json",
                       fhir::writeJson(bundle, true) + "\n");
        }
    });
    return failed == 0 && fhirFailed == 0 && totals.errors == 0 && totals.messages > 0 ? 0 : 1;
}

int runMappingTests(const MappingTestOptions& options, std::ostream& out, std::ostream& err)
{
    std::error_code ec;
    std::string mappingsDir = options.mappingsDir;
    if (mappingsDir.empty())
        mappingsDir = fs::is_directory(fs::path(options.directory) / "v2-to-fhir", ec)
                          ? options.directory
                          : defaultDirectory("mappings");
    std::string adaptersDir =
        options.adaptersDir.empty() ? defaultDirectory("adapters") : options.adaptersDir;
    Loaded loaded;
    if (!load(mappingsDir, adaptersDir, "", "", loaded, err))
        return 2;
    std::vector<fs::path> inputs;
    // A mappings directory keeps its pairs in tests/ (its conceptmaps/ hold JSON that is not
    // a pair); any other directory is searched as a whole.
    fs::path searched = options.directory;
    if (fs::is_directory(searched / "v2-to-fhir", ec) && fs::is_directory(searched / "tests", ec))
        searched /= "tests";
    if (fs::is_directory(searched, ec))
        for (const auto& entry : fs::recursive_directory_iterator(searched))
            if (entry.is_regular_file() && isPairInput(entry.path(), options.update))
                inputs.push_back(entry.path());
    std::sort(inputs.begin(), inputs.end());
    if (inputs.empty()) {
        err << "hl7gw test: no recorded pairs (NAME.hl7 + NAME.expected.json, NAME.json + "
               "NAME.expected.hl7) under "
            << options.directory << '\n';
        return 2;
    }
    std::size_t failedPairs = 0;
    for (const fs::path& input : inputs) {
        fs::path expectedPath = fs::path(input).replace_extension(".expected.json");
        fs::path dialectPath = fs::path(input).replace_extension(".dialect");
        const mapping::Dialect* dialect = &mapping::Dialect::standard();
        if (fs::exists(dialectPath)) {
            std::string name = readText(dialectPath.string());
            name.erase(name.find_last_not_of(" \r\n\t") + 1);
            auto it = loaded.dialects.find(name);
            if (it == loaded.dialects.end()) {
                err << dialectPath.string() << ": no dialect '" << name << "'\n";
                return 2;
            }
            dialect = &it->second;
        }
        if (input.extension() == ".json") {
            if (!testOutbound(input, options, loaded, *dialect, out))
                ++failedPairs;
            continue;
        }
        mapping::V2ToFhir engine(loaded.maps, *dialect);
        const hl7v2::Charset* charset = hl7v2::Charset::fromAnyName(dialect->charset);
        MessageReader reader(hl7v2::ParseOptions{charset ? charset : &hl7v2::Charset::utf8()}, err);
        // A file of several messages is recorded as a JSON array of Bundles.
        rapidjson::Document actual;
        actual.SetArray();
        std::vector<std::string> problems;
        reader.read({input.string()}, [&](MessageContext& context) {
            rapidjson::Document bundle;
            core::IssueList issues;
            if (context.message == nullptr || !engine.map(*context.message, bundle, issues)) {
                for (const core::Issue& issue : issues)
                    problems.push_back(formatIssue(context.file, context.number, issue));
                if (context.message == nullptr)
                    problems.push_back(context.file + ": the message cannot be parsed");
                return;
            }
            rapidjson::Value copy(bundle, actual.GetAllocator());
            actual.PushBack(copy, actual.GetAllocator());
        });
        const rapidjson::Value& produced =
            actual.Size() == 1 ? actual[0] : static_cast<const rapidjson::Value&>(actual);
        std::string name =
            fs::relative(input, options.directory, ec).replace_extension("").string();
        if (options.update && problems.empty()) {
            std::ofstream(expectedPath, std::ios::binary)
                << fhir::writeJson(produced, true) << '\n';
            out << "recorded " << name << '\n';
            continue;
        }
        rapidjson::Document expected;
        core::Issue parseIssue;
        if (!fhir::parseJson(readText(expectedPath.string()), expected, parseIssue)) {
            problems.push_back(expectedPath.string() + ": " + parseIssue.location.toString() +
                               ": " + parseIssue.text);
        }
        std::vector<std::string> differences;
        if (problems.empty())
            diff(expected, produced, "", differences);
        if (problems.empty() && differences.empty()) {
            out << "ok      " << name << '\n';
            continue;
        }
        ++failedPairs;
        out << "FAIL    " << name << '\n';
        for (const std::string& p : problems)
            out << "  " << p << '\n';
        for (const std::string& d : differences)
            out << "  " << d << '\n';
    }
    out << "total\tpairs=" << inputs.size() << "\tfailed=" << failedPairs << '\n';
    return failedPairs == 0 ? 0 : 1;
}

} // namespace hl7gw::app
