#include "awf/base/platform.hpp"

// Every vector of port-spec-vectors.json (normative, copied from the spec) against the parser.
#include "awf/base/error.hpp"
#include "awf/policy/port_spec.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace awf;

namespace {

nlohmann::json vectors() {
    return nlohmann::json::parse(
        test::read_file(std::string(AWF_TEST_DATA) + "/port-spec-vectors.json"));
}

} // namespace

TEST(PortSpec, EveryValidVectorParsesAndRoundTrips) {
    auto v = vectors();
    ASSERT_GE(v["valid"].size(), 10u);
    for (const auto& s : v["valid"]) {
        auto r = parse_port_spec(s.get<std::string>());
        ASSERT_TRUE(r.range) << s << ": " << r.error;
        std::string text = s;
        auto dash = text.find('-');
        EXPECT_EQ(r.range->first, std::stoi(text.substr(0, dash))) << text;
        EXPECT_EQ(r.range->last,
                  std::stoi(dash == std::string::npos ? text : text.substr(dash + 1)))
            << text;
    }
}

TEST(PortSpec, EveryInvalidVectorIsRejectedWithAReason) {
    auto v = vectors();
    ASSERT_GE(v["invalid"].size(), 40u);
    for (const auto& s : v["invalid"]) {
        auto r = parse_port_spec(s.get<std::string>());
        EXPECT_FALSE(r.range) << "accepted " << s;
        EXPECT_FALSE(r.error.empty()) << s;
    }
}

TEST(PortSpec, EveryListVectorYieldsItsSpecsOrFailsWhole) {
    auto v = vectors();
    for (const auto& c : v["lists"]) {
        std::string input = c["input"];
        if (c["yields"].is_null()) {
            EXPECT_THROW(parse_port_list(input, "--allow-host-ports"), Error) << input;
            continue;
        }
        std::vector<std::string> got;
        for (auto r : parse_port_list(input, "--allow-host-ports"))
            got.push_back(r.str());
        EXPECT_EQ(got, c["yields"].get<std::vector<std::string>>()) << input;
    }
}

TEST(PortSpec, ListErrorNamesFieldAndValueWithExitCode2) {
    try {
        parse_port_list("80,080", "--allow-host-ports");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::invalid_input);
        EXPECT_STREQ(e.what(), "--allow-host-ports: \"080\": leading zero");
    }
}

TEST(PortSet, MergesOverlapsAndAdjacentRanges) {
    PortSet s{{80, 80}, {81, 90}, {85, 100}, {443, 443}, {1, 2}};
    EXPECT_EQ(s.str(), "1-2,80-100,443");
}

TEST(PortSet, SubtractionSplitsRanges) {
    PortSet s{{1, 100}};
    PortSet cut{{1, 1}, {22, 23}, {100, 100}};
    EXPECT_EQ((s - cut).str(), "2-21,24-99");
    EXPECT_TRUE((PortSet{{22, 22}} - PortSet{{1, 65535}}).empty());
}
