#include "awf/base/platform.hpp"

#include "awf/launch/run_summary.hpp"

#include "awf/base/text.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <sstream>

namespace awf {

namespace {

int sum(const std::map<std::string, int>& m) {
    return std::accumulate(m.begin(), m.end(), 0,
                           [](int a, const auto& kv) { return a + kv.second; });
}

} // namespace

int RunSummary::total_allowed() const {
    return sum(allowed);
}
int RunSummary::total_denied() const {
    return sum(denied);
}

namespace {

// One request of the access log (kSquidLogFormat: time client method host port status result
// sni); nullopt for a line in another format or a connection that never sent a request (a
// readiness probe, a port scan).
struct Access {
    std::string time, client, method, host, port, status, result, sni;
    bool denied = false;
};

std::optional<Access> parse_access(const std::string& line) {
    std::istringstream f(line);
    Access a;
    if (!(f >> a.time >> a.client >> a.method >> a.host >> a.port >> a.status >> a.result))
        return std::nullopt;
    f >> a.sni;
    if (a.method == "-") return std::nullopt;
    // Intercepted TLS: the host is the address the client dialled, the name is its SNI.
    if (!a.sni.empty() && a.sni != "-") a.host = a.sni;
    // Squid's own refusals: its ACLs (DENIED), or a request it could not serve at all (NONE
    // with an error status); an origin's 404 is an allowed request.
    a.denied = a.result.find("DENIED") != std::string::npos ||
               (a.result.rfind("NONE", 0) == 0 && a.status.size() == 3 && a.status[0] >= '4');
    return a;
}

// Intercepted TLS leaves a line at the peek (CONNECT to the address, status 0, NONE_NONE, the
// SNI) and, when spliced, a second one (TCP_TUNNEL); a terminated connection leaves the first
// only. So each peek is matched with a later tunnel of the same client and name, and a peek
// left over is a denial.
bool is_peek(const Access& a) {
    return a.method == "CONNECT" && a.status == "0" && a.result.rfind("NONE", 0) == 0 &&
           !a.sni.empty() && a.sni != "-";
}

template <typename F> void for_each_access(std::string_view text, F&& f) {
    std::vector<Access> all;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line))
        if (auto a = parse_access(line)) all.push_back(std::move(*a));
    std::map<std::pair<std::string, std::string>, int> tunnels;
    for (const auto& a : all)
        if (!is_peek(a) && a.method == "CONNECT" && a.sni == a.host && !a.denied)
            tunnels[{a.client, a.sni}]++;
    for (auto& a : all) {
        if (is_peek(a)) {
            int& left = tunnels[{a.client, a.sni}];
            if (left > 0) {
                --left;
                continue;
            }
            a.denied = true;
            a.result = "TERMINATED";
        }
        f(a);
    }
}

} // namespace

RunSummary summarise_access_text(std::string_view text) {
    RunSummary s;
    for_each_access(text, [&](const Access& a) {
        // Squid logs a host from the client: shown, so made printable.
        std::string host =
            a.host == "-" ? "(no host: not a proxy request)" : printable(a.host.substr(0, 253));
        (a.denied ? s.denied : s.allowed)[host]++;
    });
    return s;
}

RunSummary summarise_access_log(const std::string& path) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return summarise_access_text(text);
}

namespace {

// The busiest first (then by name), at most `max` lines; the rest as one line.
void list(std::string& out, const char* what, const std::map<std::string, int>& m, size_t max) {
    std::vector<std::pair<std::string, int>> v(m.begin(), m.end());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (size_t i = 0; i < v.size() && i < max; ++i)
        out += std::string("  ") + what + v[i].first + " (" + std::to_string(v[i].second) + ")\n";
    if (v.size() > max) {
        int rest = 0;
        for (size_t i = max; i < v.size(); ++i)
            rest += v[i].second;
        out += std::string("  ") + what + "... and " + std::to_string(v.size() - max) + " more (" +
               std::to_string(rest) + ")\n";
    }
}

} // namespace

std::string format_summary(const std::string& name, const RunSummary& s, size_t max_lines) {
    int allowed = s.total_allowed();
    std::string out = "awf-net run " + name + ": " + std::to_string(allowed) +
                      (allowed == 1 ? " request" : " requests") + " allowed, " +
                      std::to_string(s.total_denied()) + " denied\n";
    list(out, "allowed  ", s.allowed, max_lines);
    list(out, "denied   ", s.denied, max_lines);
    int packets = 0;
    for (const auto& kv : s.denied_packets)
        packets += kv.second;
    if (packets > 0) out += "  " + std::to_string(packets) + " packets denied by the policy:\n";
    list(out, "denied   ", s.denied_packets, max_lines);
    return out;
}

std::string iso8601_utc(double seconds) {
    double whole = std::floor(seconds);
    auto t = static_cast<time_t>(whole);
    int ms = static_cast<int>(std::lround((seconds - whole) * 1000));
    if (ms == 1000) ++t, ms = 0;
    tm parts{};
    gmtime_r(&t, &parts);
    char buf[96]; // the widest ints the format could take: no truncation at any level
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, ms);
    return buf;
}

std::vector<AuditLine> audit_requests(std::string_view text) {
    std::vector<AuditLine> out;
    for_each_access(text, [&](const Access& a) {
        double t = 0;
        try {
            t = std::stod(a.time);
        } catch (const std::exception&) {
            return;
        }
        nlohmann::json j{
            {"timestamp", iso8601_utc(t)}, {"event", "request"},
            {"_schema", kAuditSchema},     {"decision", a.denied ? "denied" : "allowed"},
            {"method", a.method},          {"domain", a.host == "-" ? "" : a.host},
            {"client", a.client},          {"status", a.status},
            {"squid_result", a.result}};
        if (a.port != "-") j["port"] = a.port;
        out.push_back({t, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
    });
    return out;
}

} // namespace awf
