#include "awf/base/platform.hpp"

#include "awf/policy/domains.hpp"
#include "awf/policy/policy_name.hpp"
#include "awf/policy/policy_options.hpp"

#include "awf/base/file.hpp"

#include "awf/base/error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace awf {

namespace {

// Every value-taking policy option; switches are listed separately (config: key = true).
constexpr const char* kValueOptions[] = {"squid",
                                         "dns-servers",
                                         "doh-proxy",
                                         "host-gateway",
                                         "allow-host-ports",
                                         "allow-host-service-ports",
                                         "api-proxy",
                                         "cli-proxy",
                                         "dangerous-ports",
                                         "inbound",
                                         "ipv6",
                                         "blocked-action",
                                         "log-group",
                                         "table",
                                         "intercept-tls-ports",
                                         "intercept-http-port",
                                         "intercept-tls-port",
                                         "role",
                                         "allow-domains",
                                         "allow-domains-file",
                                         "block-domains",
                                         "block-domains-file"};
// Options that may be given more than once (the values accumulate, in order).
constexpr const char* kRepeatable[] = {"host-gateway", "allow-domains", "allow-domains-file",
                                       "block-domains", "block-domains-file"};

bool repeatable(const std::string& name) {
    return std::any_of(std::begin(kRepeatable), std::end(kRepeatable),
                       [&](const char* r) { return name == r; });
}
constexpr const char* kSwitches[] = {"enable-host-access", "no-log", "intercept"};

std::string flag(const std::string& name) {
    return "--" + name;
}

const std::string* single(const RawOptions& raw, const std::string& name) {
    auto it = raw.find(name);
    if (it == raw.end() || it->second.empty()) return nullptr;
    if (it->second.size() > 1 && !repeatable(name))
        throw input_error(flag(name), it->second.back(), "given more than once");
    return &it->second.back();
}

bool truthy(const std::string& name, const std::string& v) {
    if (v == "true" || v == "1" || v == "yes" || v == "on" || v.empty()) return true;
    if (v == "false" || v == "0" || v == "no" || v == "off") return false;
    throw input_error(flag(name), v, "expected true or false");
}

IpAddr parse_addr(const std::string& field, const std::string& text) {
    auto a = IpAddr::parse(text);
    if (!a) throw input_error(field, text, "not an IP address");
    return *a;
}

IpAddr parse_v4(const std::string& field, const std::string& text) {
    IpAddr a = parse_addr(field, text);
    if (!a.is_v4()) throw input_error(field, text, "must be an IPv4 address");
    return a;
}

uint16_t parse_number(const std::string& field, const std::string& text, unsigned lo, unsigned hi) {
    unsigned v = 0;
    bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (!digits || ec != std::errc{} || end != text.data() + text.size() ||
        (text.size() > 1 && text[0] == '0'))
        throw input_error(field, text, "not a number");
    if (v < lo || v > hi)
        throw input_error(field, text,
                          "out of range " + std::to_string(lo) + "-" + std::to_string(hi));
    return static_cast<uint16_t>(v);
}

PortSet parse_ports(const std::string& field, const std::string& text) {
    return PortSet(parse_port_list(text, field));
}

// ADDR[:SPECS]; an IPv4 address, so the first ':' separates the ports.
ProxyEndpoint parse_proxy(const std::string& field, const std::string& text,
                          PortSet default_ports) {
    auto colon = text.find(':');
    ProxyEndpoint p;
    p.addr = parse_v4(field, text.substr(0, colon));
    p.ports =
        colon == std::string::npos ? default_ports : parse_ports(field, text.substr(colon + 1));
    if (p.ports.empty()) throw input_error(field, text, "no ports");
    return p;
}

// The intercept settings among themselves and against the web ports (policy.md).
void check_intercept(const Policy& p) {
    bool given = p.intercept_tls_ports != PortSet{{443, 443}} || p.intercept_http_port != 3129 ||
                 p.intercept_tls_port != 3130;
    if (!p.intercept && (given || p.role == Role::proxy))
        throw input_error(p.role == Role::proxy ? "--role" : "--intercept-*",
                          p.role == Role::proxy ? "proxy" : "", "needs --intercept");
    if (!p.intercept) return;
    if (p.intercept_http_port == p.intercept_tls_port)
        throw input_error("--intercept-tls-port", std::to_string(p.intercept_tls_port),
                          "the same as --intercept-http-port");
    PortSet web = PortSet{{80, 80}, {443, 443}};
    web |= p.allow_host_ports;
    web = web - p.dangerous_ports;
    if (!(p.intercept_tls_ports - web).empty())
        throw input_error("--intercept-tls-ports", p.intercept_tls_ports.str(),
                          "not all web ports (80, 443, --allow-host-ports): " +
                              (p.intercept_tls_ports - web).str() + " is never intercepted");
}

} // namespace

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto b = item.find_first_not_of(" \t");
        if (b == std::string::npos) continue;
        auto e = item.find_last_not_of(" \t");
        out.push_back(item.substr(b, e - b + 1));
    }
    return out;
}

po::options_description policy_options_description() {
    po::options_description d("Policy");
    d.add_options()("config", po::value<std::string>()->value_name("FILE"),
                    "key = value lines with the flag names below, '#' comments")(
        "policy", po::value<std::string>()->value_name("NAME"),
        "the named policy DIR/NAME.conf (same lines as --config)")(
        "policy-dir", po::value<std::string>()->value_name("DIR"),
        ("where named policies live (default " + default_policy_dir() + ")").c_str())(
        "from-env", po::bool_switch(), "read the old script's environment variables")(
        "squid", po::value<std::string>()->value_name("ADDR:PORT"),
        "Squid proxy (default 172.30.0.10:3128)")("dns-servers",
                                                  po::value<std::string>()->value_name("LIST"),
                                                  "allowed resolvers (default 8.8.8.8,8.8.4.4)")(
        "doh-proxy", po::value<std::string>()->value_name("ADDR"), "DNS only to this address")(
        "enable-host-access", po::bool_switch(), "allow direct traffic to the host gateways")(
        "host-gateway", po::value<std::vector<std::string>>()->value_name("ADDR"),
        "host gateway (repeatable; default: discovered)")(
        "allow-host-ports", po::value<std::string>()->value_name("SPECS"),
        "ports DNAT'd to Squid, direct to gateways")("allow-host-service-ports",
                                                     po::value<std::string>()->value_name("SPECS"),
                                                     "ports reachable only on the gateways")(
        "api-proxy", po::value<std::string>()->value_name("ADDR[:SPECS]"),
        "API proxy (ports default 10000-10004)")(
        "cli-proxy", po::value<std::string>()->value_name("ADDR[:SPECS]"),
        "CLI proxy (ports default 11000)")("dangerous-ports",
                                           po::value<std::string>()->value_name("SPECS"),
                                           "replaces the default dangerous list")(
        "inbound", po::value<std::string>()->value_name("local|any|none|CIDRS"),
        "who may connect to the sandbox (default local)")(
        "ipv6", po::value<std::string>()->value_name("disable|block"),
        "IPv6 mode (default disable)")("blocked-action",
                                       po::value<std::string>()->value_name("reject|drop"),
                                       "what denied packets get (default reject)")(
        "log-group", po::value<std::string>()->value_name("N"),
        "NFLOG group for denied packets (default 1)")("no-log", po::bool_switch(),
                                                      "no NFLOG events")(
        "intercept", po::bool_switch(),
        "web traffic goes to Squid with its destination intact (transparent interception)")(
        "intercept-tls-ports", po::value<std::string>()->value_name("SPECS"),
        "destination ports Squid treats as TLS (default 443)")(
        "intercept-http-port", po::value<std::string>()->value_name("N"),
        "Squid's intercept port for HTTP (default 3129)")(
        "intercept-tls-port", po::value<std::string>()->value_name("N"),
        "Squid's intercept port for TLS (default 3130)")(
        "role", po::value<std::string>()->value_name("sandbox|proxy"),
        "sandbox (default), or proxy: Squid's own namespace in intercept mode")(
        "table", po::value<std::string>()->value_name("NAME"),
        "name of the inet table (default awf)");
    po::options_description domains("Domains (Squid's allowlist: squid-conf, run)");
    using list = std::vector<std::string>;
    domains.add_options()("allow-domains", po::value<list>()->value_name("LIST"),
                          "names to reach, comma-separated; github.com covers its subdomains, "
                          "*.github.com only them, https:// or http:// one scheme (repeatable)")(
        "allow-domains-file", po::value<list>()->value_name("FILE"),
        "the same, one per line or comma-separated, '#' comments (repeatable)")(
        "block-domains", po::value<list>()->value_name("LIST"),
        "names never to reach: wins over allow (repeatable)")(
        "block-domains-file", po::value<list>()->value_name("FILE"), "the same from a file");
    d.add(domains);
    return d;
}

RawOptions raw_from_variables(const po::variables_map& vm) {
    RawOptions raw;
    for (const char* name : kValueOptions) {
        auto it = vm.find(name);
        if (it == vm.end() || it->second.defaulted()) continue;
        if (repeatable(name))
            raw[name] = it->second.as<std::vector<std::string>>();
        else
            raw[name] = {it->second.as<std::string>()};
    }
    for (const char* name : kSwitches) {
        auto it = vm.find(name);
        if (it != vm.end() && it->second.as<bool>()) raw[name] = {"true"};
    }
    return raw;
}

RawOptions raw_from_config_file(const std::string& path) {
    auto text = read_regular_file({{}, path}, 1 << 20, ExitCode::invalid_input, "--config " + path);
    if (!text) throw input_error("--config", path, "cannot be read");
    return raw_from_config_text(*text, "--config " + path);
}

namespace {

// What of a bad line an error may show: a key shaped like an option name. Anything else could
// be a line of a file that was never a config file (a secret named by whoever chose the path).
std::string shown_key(const std::string& key) {
    bool option_like =
        !key.empty() && key.size() <= 40 && std::islower(static_cast<unsigned char>(key[0]));
    for (char c : key)
        option_like = option_like && (std::islower(static_cast<unsigned char>(c)) ||
                                      std::isdigit(static_cast<unsigned char>(c)) || c == '-');
    return option_like ? key : "";
}

} // namespace

// The option a malformed line most likely names: underscores for dashes, or "key: value" /
// "key value" without the '='. Empty when it names none.
std::string known_key_meant(const std::string& key, bool no_equals) {
    std::string k = key;
    if (no_equals) k = k.substr(0, k.find_first_of(": \t"));
    std::replace(k.begin(), k.end(), '_', '-');
    for (auto& c : k)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* n : kValueOptions)
        if (k == n) return k;
    for (const char* n : kSwitches)
        if (k == n) return k;
    return {};
}

RawOptions raw_from_config_text(std::string_view text, const std::string& where) {
    RawOptions raw;
    std::istringstream in{std::string(text)};
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        auto hash = line.find('#');
        if (hash != std::string::npos) line.erase(hash);
        auto b = line.find_first_not_of(" \t\r");
        if (b == std::string::npos) continue;
        auto e = line.find_last_not_of(" \t\r");
        line = line.substr(b, e - b + 1);
        auto eq = line.find('=');
        std::string key = line.substr(0, eq);
        key.erase(key.find_last_not_of(" \t") + 1);
        std::string value;
        if (eq != std::string::npos) {
            value = line.substr(eq + 1);
            auto vb = value.find_first_not_of(" \t");
            value = vb == std::string::npos ? "" : value.substr(vb);
        }
        const std::string at = where + ":" + std::to_string(lineno);
        bool is_value = false, is_switch = false;
        for (const char* n : kValueOptions)
            is_value |= key == n;
        for (const char* n : kSwitches)
            is_switch |= key == n;
        if (!is_value && !is_switch) {
            // A known key written another way (dns_servers, dns-servers: ...) is named with
            // what was meant; nothing else of the line is shown.
            std::string likely = known_key_meant(key, eq == std::string::npos);
            if (!likely.empty())
                throw Error(ExitCode::invalid_input, at,
                            "not a key = value line; did you mean \"" + likely + " = ...\"?");
            std::string shown = eq == std::string::npos ? "" : shown_key(key);
            if (shown.empty()) throw Error(ExitCode::invalid_input, at, "not a key = value line");
            throw input_error(at, shown, "unknown key");
        }
        if (is_value && (eq == std::string::npos || value.empty()))
            throw input_error(at, key, "missing value");
        if (is_switch) {
            if (!truthy(key, value)) continue;
            value = "true";
        }
        raw[key].push_back(value);
        std::string& from = raw.origin[key];
        from = from.empty() ? at : from + "," + std::to_string(lineno);
    }
    return raw;
}

RawOptions raw_from_env(const EnvLookup& env) {
    RawOptions raw;
    auto get = [&](const char* name) -> std::optional<std::string> {
        auto v = env(name);
        if (v && v->empty()) return std::nullopt;
        return v;
    };
    auto set = [&](const std::string& key, const std::string& value, const std::string& var) {
        raw[key] = {value};
        raw.origin[key] = var;
    };
    auto host = get("SQUID_PROXY_HOST");
    auto port = get("SQUID_PROXY_PORT");
    if (host || port)
        set("squid", host.value_or("172.30.0.10") + ":" + port.value_or("3128"),
            "SQUID_PROXY_HOST/SQUID_PROXY_PORT");
    if (auto v = get("AWF_DNS_SERVERS")) set("dns-servers", *v, "AWF_DNS_SERVERS");
    if (auto v = get("AWF_DOH_PROXY_IP");
        v && env("AWF_DOH_ENABLED") != std::optional<std::string>("false"))
        set("doh-proxy", *v, "AWF_DOH_PROXY_IP");
    if (get("AWF_ENABLE_HOST_ACCESS")) set("enable-host-access", "true", "AWF_ENABLE_HOST_ACCESS");
    if (auto v = get("AWF_HOST_GATEWAY_IP")) raw["fallback-gateway"] = {*v};
    for (const char* var : {"AWF_VALID_ALLOW_HOST_PORTS", "AWF_ALLOW_HOST_PORTS"})
        if (auto v = get(var); v && !raw.count("allow-host-ports"))
            set("allow-host-ports", *v, var);
    for (const char* var : {"AWF_VALID_HOST_SERVICE_PORTS", "AWF_HOST_SERVICE_PORTS"})
        if (auto v = get(var); v && !raw.count("allow-host-service-ports"))
            set("allow-host-service-ports", *v, var);
    if (auto v = get("AWF_API_PROXY_IP")) set("api-proxy", *v, "AWF_API_PROXY_IP");
    if (auto v = get("AWF_CLI_PROXY_IP")) set("cli-proxy", *v, "AWF_CLI_PROXY_IP");
    return raw;
}

void merge_lower_precedence(RawOptions& higher, const RawOptions& lower) {
    // Keys that set the same thing: the higher source's choice of either wins over both.
    auto same_setting = [](const std::string& a, const std::string& b) {
        auto logging = [](const std::string& k) { return k == "log-group" || k == "no-log"; };
        return a == b || (logging(a) && logging(b));
    };
    for (const auto& [k, v] : lower) {
        bool set_above = false;
        for (const auto& [hk, hv] : higher)
            set_above |= same_setting(k, hk);
        if (set_above) continue;
        higher.emplace(k, v);
        if (auto o = lower.origin.find(k); o != lower.origin.end()) higher.origin[k] = o->second;
    }
}

namespace {

// KEY's lists, then KEY-file's files, each in the order given. A file's errors name it and the
// line, never an entry: `sudo awf-net run --allow-domains-file /etc/shadow` shows nothing of it.
std::vector<DomainPattern> domains_of(const RawOptions& raw, const std::string& key) {
    std::vector<DomainPattern> out;
    if (auto it = raw.find(key); it != raw.end())
        for (const auto& v : it->second)
            for (auto& d : parse_domain_list(flag(key), v))
                out.push_back(std::move(d));
    if (auto it = raw.find(key + "-file"); it != raw.end())
        for (const auto& path : it->second) {
            const std::string where = flag(key + "-file") + " " + path;
            auto text = read_regular_file({{}, path}, 1 << 20, ExitCode::invalid_input, where);
            if (!text) throw input_error(flag(key + "-file"), path, "cannot be read");
            for (auto& d : parse_domain_file(*text, where))
                out.push_back(std::move(d));
        }
    // Duplicates say nothing new; the order stays the user's.
    std::vector<DomainPattern> unique;
    for (auto& d : out)
        if (std::find(unique.begin(), unique.end(), d) == unique.end()) unique.push_back(d);
    return unique;
}

Policy policy_from_values(const RawOptions& raw) {
    Policy p = Policy::defaults();
    if (auto v = single(raw, "squid")) {
        auto colon = v->rfind(':');
        if (colon == std::string::npos || colon == 0)
            throw input_error("--squid", *v, "expected ADDR:PORT");
        p.squid_host = v->substr(0, colon);
        auto port = parse_port_spec(v->substr(colon + 1));
        if (!port.range || port.range->first != port.range->last)
            throw input_error("--squid", *v,
                              "bad port: " + (port.error.empty() ? "a range" : port.error));
        p.squid_port = port.range->first;
        if (auto lit = IpAddr::parse(p.squid_host); lit && !lit->is_v4())
            throw input_error("--squid", *v, "must be an IPv4 address");
    }
    if (auto v = single(raw, "dns-servers")) {
        p.dns_servers.clear();
        for (const auto& s : split_list(*v))
            p.dns_servers.push_back(parse_addr("--dns-servers", s));
        if (p.dns_servers.empty()) throw input_error("--dns-servers", *v, "no servers");
    }
    if (auto v = single(raw, "doh-proxy")) p.doh_proxy = parse_v4("--doh-proxy", *v);
    if (auto v = single(raw, "enable-host-access"))
        p.host_access = truthy("enable-host-access", *v);
    if (auto it = raw.find("host-gateway"); it != raw.end())
        for (const auto& g : it->second)
            p.host_gateways.push_back(parse_addr("--host-gateway", g));
    if (auto v = single(raw, "fallback-gateway"))
        p.fallback_gateway = parse_addr("AWF_HOST_GATEWAY_IP", *v);
    if (auto v = single(raw, "allow-host-ports"))
        p.allow_host_ports = parse_ports("--allow-host-ports", *v);
    if (auto v = single(raw, "allow-host-service-ports"))
        p.host_service_ports = parse_ports("--allow-host-service-ports", *v);
    if (auto v = single(raw, "api-proxy"))
        p.api_proxy = parse_proxy("--api-proxy", *v, PortSet{{10000, 10004}});
    if (auto v = single(raw, "cli-proxy"))
        p.cli_proxy = parse_proxy("--cli-proxy", *v, PortSet{{11000, 11000}});
    if (auto v = single(raw, "dangerous-ports"))
        p.dangerous_ports = parse_ports("--dangerous-ports", *v);
    if (auto v = single(raw, "inbound")) {
        if (*v == "local")
            p.inbound.kind = Inbound::Kind::local;
        else if (*v == "any")
            p.inbound.kind = Inbound::Kind::any;
        else if (*v == "none")
            p.inbound.kind = Inbound::Kind::none;
        else {
            p.inbound.kind = Inbound::Kind::cidrs;
            for (const auto& s : split_list(*v)) {
                auto c = Cidr::parse(s);
                if (!c) throw input_error("--inbound", s, "not local, any, none or a CIDR");
                p.inbound.cidrs.push_back(*c);
            }
            if (p.inbound.cidrs.empty()) throw input_error("--inbound", *v, "no CIDRs");
        }
    }
    if (auto v = single(raw, "ipv6")) {
        if (*v == "disable")
            p.ipv6 = Ipv6Mode::disable;
        else if (*v == "block")
            p.ipv6 = Ipv6Mode::block;
        else
            throw input_error("--ipv6", *v, "expected disable or block");
    }
    if (auto v = single(raw, "blocked-action")) {
        if (*v == "reject")
            p.blocked_action = BlockedAction::reject;
        else if (*v == "drop")
            p.blocked_action = BlockedAction::drop;
        else
            throw input_error("--blocked-action", *v, "expected reject or drop");
    }
    auto group = single(raw, "log-group");
    auto nolog = single(raw, "no-log");
    if (group && nolog) throw input_error("--no-log", "true", "conflicts with --log-group");
    if (group) p.log_group = parse_number("--log-group", *group, 0, 65535);
    if (nolog && truthy("no-log", *nolog)) p.log_group.reset();
    if (auto v = single(raw, "intercept")) p.intercept = truthy("intercept", *v);
    if (auto v = single(raw, "intercept-tls-ports"))
        p.intercept_tls_ports = parse_ports("--intercept-tls-ports", *v);
    if (auto v = single(raw, "intercept-http-port"))
        p.intercept_http_port = parse_number("--intercept-http-port", *v, 1, 65535);
    if (auto v = single(raw, "intercept-tls-port"))
        p.intercept_tls_port = parse_number("--intercept-tls-port", *v, 1, 65535);
    if (auto v = single(raw, "role")) p.role = parse_role(*v);
    p.domains.allow = domains_of(raw, "allow-domains");
    p.domains.block = domains_of(raw, "block-domains");
    check_intercept(p);
    if (auto v = single(raw, "table")) {
        bool ok = !v->empty() && v->size() <= 64 &&
                  v->find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                      std::string::npos &&
                  !std::isdigit(static_cast<unsigned char>((*v)[0]));
        if (!ok)
            throw input_error("--table", *v, "expected a name of letters, digits, '_' and '-'");
        p.table = *v;
    }
    return p;
}

} // namespace

Policy policy_from_raw(const RawOptions& raw) {
    try {
        return policy_from_values(raw);
    } catch (const Error& e) {
        // A value from a file is reported at its line: the flag alone would send the reader to
        // a command line that never held it.
        if (e.code() != ExitCode::invalid_input || !e.where().starts_with("--")) throw;
        auto o = raw.origin.find(e.where().substr(2));
        if (o == raw.origin.end()) throw;
        throw Error(e.code(), o->second + ": " + e.where(), e.reason(), e.value());
    }
}

RawOptions raw_from_config_flags(const po::variables_map& vm) {
    if (vm.count("config") && vm.count("policy"))
        throw input_error("--policy", vm["policy"].as<std::string>(),
                          "conflicts with --config (both name a config file)");
    if (vm.count("config")) return raw_from_config_file(vm["config"].as<std::string>());
    if (vm.count("policy"))
        return raw_from_named_policy(policy_dir(vm), vm["policy"].as<std::string>(), "--policy");
    return {};
}

std::string policy_dir(const po::variables_map& vm) {
    return vm.count("policy-dir") ? vm["policy-dir"].as<std::string>() : default_policy_dir();
}

Role parse_role(const std::string& v) {
    if (v == "sandbox") return Role::sandbox;
    if (v == "proxy") return Role::proxy;
    throw input_error("--role", v, "expected sandbox or proxy");
}

Policy read_policy(const po::variables_map& vm, const EnvLookup& env) {
    RawOptions raw = raw_from_variables(vm);
    merge_lower_precedence(raw, raw_from_config_flags(vm));
    if (vm.count("from-env") && vm["from-env"].as<bool>())
        merge_lower_precedence(raw, raw_from_env(env));
    return policy_from_raw(raw);
}

} // namespace awf
