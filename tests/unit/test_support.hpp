// Shared helpers of the unit tests: parsing policy flags exactly as the CLI does.
#pragma once

#include "awf/policy/policy_options.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace awf::test {

// A file with the given content, removed when the test ends.
class TempFile {
public:
    explicit TempFile(const std::string& content) {
        path_ =
            std::filesystem::temp_directory_path() /
            ("awf-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".conf");
        std::ofstream(path_) << content;
    }
    ~TempFile() { std::filesystem::remove(path_); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
    static inline int counter_ = 0;
};

inline std::vector<std::string> split_args(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    std::string w;
    while (in >> w)
        out.push_back(w);
    return out;
}

inline Policy policy_from_args(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env = {}) {
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(policy_options_description()).run(), vm);
    po::notify(vm);
    return read_policy(vm, [&](const std::string& k) -> std::optional<std::string> {
        auto it = env.find(k);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
}

struct NamedPolicy {
    std::string name;
    std::string args;
};

inline std::vector<NamedPolicy> policy_list() {
    std::ifstream in(std::string(AWF_TEST_DATA) + "/policies.txt");
    std::vector<NamedPolicy> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto bar = line.find('|');
        auto trim = [](std::string s) {
            auto b = s.find_first_not_of(' ');
            auto e = s.find_last_not_of(' ');
            return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
        };
        out.push_back({trim(line.substr(0, bar)), trim(line.substr(bar + 1))});
    }
    return out;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Compares `text` with tests/golden/NAME (AWF_UPDATE_GOLDEN=1 rewrites it, deliberately).
inline void expect_golden(const std::string& name, const std::string& text) {
    std::string path = std::string(AWF_GOLDEN_DIR) + "/" + name;
    if (std::getenv("AWF_UPDATE_GOLDEN")) std::ofstream(path) << text;
    std::string golden = read_file(path);
    ASSERT_FALSE(golden.empty()) << "missing golden file " << path;
    EXPECT_EQ(text, golden) << "golden " << name;
}

} // namespace awf::test
