#include "awf/base/platform.hpp"

// Domain lists with the upstream awf CLI's semantics (run.md, DOMAINS); the cases of its
// src/domain-patterns.test.ts and src/squid-config-domains.test.ts, where run.md agrees, plus
// the spec's own (one or more characters per '*', no IP addresses, no '**').
#include "awf/base/error.hpp"
#include "awf/policy/domains.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <regex>

using namespace awf;

namespace {

DomainPattern pat(const std::string& s) {
    return parse_domain_pattern("--allow-domains", s);
}

std::string refusal(const std::string& s) {
    try {
        parse_domain_pattern("--allow-domains", s);
        return "";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::invalid_input);
        return e.what();
    }
}

bool admits(const std::string& pattern, const std::string& host) {
    return domain_matches(pat(pattern), host);
}

} // namespace

TEST(Domains, SchemePrefixesSetTheProtocol) {
    EXPECT_EQ(pat("github.com").scheme, Scheme::any);
    EXPECT_EQ(pat("http://github.com").scheme, Scheme::http);
    EXPECT_EQ(pat("https://github.com").scheme, Scheme::https);
    EXPECT_EQ(pat("http://*.example.com").name, "*.example.com");
    EXPECT_EQ(pat("https://secure.api.github.com").name, "secure.api.github.com");
    EXPECT_EQ(to_string(pat("HTTPS://API-*.Example.com")), "https://api-*.example.com");
}

TEST(Domains, CaseSpacesTrailingDotAndSlashAreNormalised) {
    for (const char* s : {"github.com", "  github.com  ", "GitHub.COM", "github.com.",
                          "github.com/", ".github.com", "\tgithub.com\t"})
        EXPECT_EQ(pat(s).name, "github.com") << s;
    EXPECT_EQ(pat("http://github.com/").name, "github.com");
    EXPECT_EQ(pat("  http://github.com  ").scheme, Scheme::http);
}

TEST(Domains, UnderscoreLabelsAreNames) {
    for (const char* s :
         {"_dmarc.example.com", "_acme-challenge.example.com", "_srv._tcp.example.com"})
        EXPECT_EQ(refusal(s), "") << s;
}

TEST(Domains, RefusedEntriesSayWhy) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "an empty entry"},
        {"   ", "an empty entry"},
        {"http://", "an empty entry"},
        {"https://", "an empty entry"},
        {".", "an empty entry"},
        {"*", "matches every name"},
        {"http://*", "matches every name"},
        {"*.*", "matches every name"},
        {"https://*.*", "matches every name"},
        {"*.*.*", "matches every name"},
        {"*.", "matches every name"},
        {".*", "matches every name"},
        {"*.*.com", "too many wildcard labels"},
        {"github..com", "a double dot"},
        {"*.github..com", "a double dot"},
        {"github.com..", "a double dot"},
        {"**.github.com", "'**' in a label"},
        {"evil.com\nhttp_access allow all", "cannot hold this character"},
        {"evil.com\rhttp_access allow all", "cannot hold this character"},
        {"evil.com\tallowed", "cannot hold this character"},
        {"evil.com allowed", "cannot hold this character"},
        {".evil.com .attacker.com", "cannot hold this character"},
        {"evil.com;rm -rf", "cannot hold this character"},
        {"evil.com#comment", "cannot hold this character"},
        {"evil.com\\n", "cannot hold this character"},
        {"evil.com'", "cannot hold this character"},
        {"evil.com\"", "cannot hold this character"},
        {"evil.com`", "cannot hold this character"},
        {"api[1].example.com", "cannot hold this character"},
        {"api+*.example.com", "cannot hold this character"},
        {"github.com:443", "cannot hold this character"},
        {"https://github.com/org/repo", "cannot hold this character"},
        {"1.2.3.4", "an IP address"},
        {"http://10.0.0.1", "an IP address"},
        {"[2001:db8::1]", "cannot hold this character"},
        {"2001:db8::1", "cannot hold this character"},
        {"example.123", "an IP address"},
    };
    for (const auto& [entry, why] : cases) {
        std::string got = refusal(entry);
        EXPECT_NE(got.find(why), std::string::npos) << "entry [" << entry << "]: " << got;
        EXPECT_EQ(got.find('\n'), std::string::npos) << "one line: " << got;
        EXPECT_EQ(got.rfind("--allow-domains: ", 0), 0u) << got;
    }
    EXPECT_NE(refusal(std::string("evil.com") + '\0').find("\\x00"), std::string::npos);
}

TEST(Domains, ListsAreCommaSeparatedAndRefuseEmptyEntries) {
    auto l = parse_domain_list("--allow-domains", "github.com, *.gitlab.com,https://x.org");
    ASSERT_EQ(l.size(), 3u);
    EXPECT_EQ(l[1].name, "*.gitlab.com");
    EXPECT_EQ(l[2].scheme, Scheme::https);
    EXPECT_THROW(parse_domain_list("--allow-domains", "github.com,,x.org"), Error);
    EXPECT_THROW(parse_domain_list("--allow-domains", "github.com,"), Error);
    EXPECT_THROW(parse_domain_list("--allow-domains", ""), Error);
}

TEST(Domains, FilesTakeLinesCommasAndCommentsAndNeverShowAnEntry) {
    auto l = parse_domain_file("# mine\ngithub.com\n\n  npmjs.org, *.pypi.org # python\n", "--f");
    ASSERT_EQ(l.size(), 3u);
    EXPECT_EQ(l[2].name, "*.pypi.org");
    try {
        parse_domain_file("github.com\nroot:$6$SECRET:19000:0:99999:7:::\n",
                          "--allow-domains-file F");
        FAIL();
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_EQ(m.rfind("--allow-domains-file F:2: ", 0), 0u) << m;
        EXPECT_EQ(m.find("SECRET"), std::string::npos) << m;
        EXPECT_EQ(m.find("root"), std::string::npos) << m;
    }
}

TEST(Domains, APlainNameCoversItselfAndItsSubdomainsOnly) {
    EXPECT_TRUE(admits("github.com", "github.com"));
    EXPECT_TRUE(admits("github.com", "api.github.com"));
    EXPECT_TRUE(admits("github.com", "a.b.github.com"));
    EXPECT_TRUE(admits("github.com", "GitHub.Com."));
    EXPECT_FALSE(admits("github.com", "notgithub.com"));
    EXPECT_FALSE(admits("github.com", "github.com.evil.com"));
    EXPECT_FALSE(admits("github.com", "github.co"));
    EXPECT_FALSE(admits("api.github.com", "github.com"));
}

TEST(Domains, WildcardsMatchWhatTheSpecSays) {
    // *.name: subdomains only, at any depth.
    EXPECT_TRUE(admits("*.github.com", "api.github.com"));
    EXPECT_TRUE(admits("*.github.com", "raw.github.com"));
    EXPECT_TRUE(admits("*.github.com", "sub.api.github.com"));
    EXPECT_FALSE(admits("*.github.com", "github.com"));
    EXPECT_FALSE(admits("*.github.com", "notgithub.com"));
    EXPECT_FALSE(admits("*.github.com", "github.com.evil.com"));
    EXPECT_TRUE(admits("*.co.uk", "bbc.co.uk"));
    // A '*' inside a label: one or more characters of that label, never a dot.
    EXPECT_TRUE(admits("api-*.example.com", "api-v1.example.com"));
    EXPECT_TRUE(admits("api-*.example.com", "api-test.example.com"));
    EXPECT_FALSE(admits("api-*.example.com", "api-.example.com"));
    EXPECT_FALSE(admits("api-*.example.com", "api.example.com"));
    EXPECT_FALSE(admits("api-*.example.com", "other.example.com"));
    EXPECT_FALSE(admits("api-*.example.com", "api-a.b.example.com"));
    EXPECT_TRUE(admits("*-cdn.example.com", "img-cdn.example.com"));
    EXPECT_TRUE(admits("*-api-*.example.com", "x-api-y.example.com"));
    EXPECT_FALSE(admits("*-api-*.example.com", "x-api-.example.com"));
    // A '*' label elsewhere: exactly one label.
    EXPECT_TRUE(admits("api.*.com", "api.github.com"));
    EXPECT_FALSE(admits("api.*.com", "api.a.b.com"));
    EXPECT_TRUE(admits("github.*", "github.com"));
    EXPECT_FALSE(admits("github.*", "github.com.evil.com"));
    // Many stars never cost exponential time.
    EXPECT_FALSE(
        admits("a*a*a*a*a*a*a*a*a*a*b.example.com", std::string(60, 'a') + ".example.com"));
}

// The Squid regex and the matcher are one semantics: checked on every pattern and host here.
TEST(Domains, TheSquidRegexAgreesWithTheMatcher) {
    const char* patterns[] = {
        "*.github.com",      "api-*.example.com", "*-cdn.example.com", "*-api-*.example.com",
        "api.*.com",         "github.*",          "*.co.uk",           "a*b.x.org",
        "*._tcp.example.com"};
    const char* hosts[] = {"github.com",
                           "api.github.com",
                           "a.b.github.com",
                           "github.com.evil.com",
                           "api-v1.example.com",
                           "api-.example.com",
                           "api-a.b.example.com",
                           "img-cdn.example.com",
                           "-cdn.example.com",
                           "x-api-y.example.com",
                           "api.github.com",
                           "api.a.b.com",
                           "github.org",
                           "bbc.co.uk",
                           "co.uk",
                           "ab.x.org",
                           "axb.x.org",
                           "a.b.x.org",
                           "_srv._tcp.example.com",
                           "API.GitHub.com",
                           "api.github.com.",
                           "a/b.github.com"};
    for (const char* p : patterns) {
        std::string re = domain_regex(pat(p));
        std::regex r(re, std::regex::extended | std::regex::icase);
        for (const char* h : hosts) {
            std::string host = h;
            // Squid compares the host without a trailing dot, in any case (-i).
            if (host.ends_with('.')) host.pop_back();
            EXPECT_EQ(std::regex_search(host, r), domain_matches(pat(p), h))
                << p << " (" << re << ") vs " << h;
        }
    }
    EXPECT_EQ(domain_regex(pat("*.github.com")), "^([a-z0-9_-]+\\.)+github\\.com$");
    EXPECT_EQ(domain_regex(pat("api-*.example.com")), "^api-[a-z0-9_-]+\\.example\\.com$");
}

TEST(Domains, BlockWinsAndSchemesSplit) {
    DomainLists l;
    l.allow = {pat("github.com"), pat("https://secure.org"), pat("http://plain.org")};
    l.block = {pat("gist.github.com")};
    EXPECT_TRUE(domain_allowed(l, "api.github.com", Scheme::https));
    EXPECT_FALSE(domain_allowed(l, "gist.github.com", Scheme::https));
    EXPECT_FALSE(domain_allowed(l, "x.gist.github.com", Scheme::http));
    EXPECT_TRUE(domain_allowed(l, "secure.org", Scheme::https));
    EXPECT_FALSE(domain_allowed(l, "secure.org", Scheme::http));
    EXPECT_TRUE(domain_allowed(l, "plain.org", Scheme::http));
    EXPECT_FALSE(domain_allowed(l, "plain.org", Scheme::https));
    EXPECT_FALSE(domain_allowed(l, "example.com", Scheme::http));
}

TEST(Domains, AreKeysOfThePolicy) {
    test::TempFile file("# team list\nnpmjs.org\nregistry.yarnpkg.com, *.pypi.org\n");
    Policy p = test::policy_from_args({"--allow-domains", "github.com,https://api.x.org",
                                       "--allow-domains", "github.com", "--allow-domains-file",
                                       file.path(), "--block-domains", "gist.github.com"});
    ASSERT_EQ(p.domains.allow.size(), 5u); // the repeated github.com once
    EXPECT_EQ(p.domains.allow[3].name, "registry.yarnpkg.com");
    EXPECT_EQ(p.domains.block.at(0).name, "gist.github.com");
    test::TempFile conf("allow-domains = github.com\nblock-domains = *\n");
    try {
        test::policy_from_args({"--config", conf.path()});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "--config " + conf.path() +
                      ":2: --block-domains: \"*\": matches every name: a pattern needs a fixed "
                      "label");
    }
    EXPECT_THROW(test::policy_from_args({"--allow-domains-file", "/nonexistent/list"}), Error);
}
