#include "awf/base/platform.hpp"

#include "awf/launch/run_summary.hpp"

#include "awf/base/text.hpp"

#include <cmath>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
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

RunSummary summarise_access_text(std::string_view text) {
    RunSummary s;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        // time client method host port status result sni
        std::istringstream f(line);
        std::string time, client, method, host, port, status, result, sni;
        if (!(f >> time >> client >> method >> host >> port >> status >> result)) continue;
        f >> sni;
        // A connection that never sent a request (a readiness probe, a port scan).
        if (method == "-") continue;
        if (host == "-" && !sni.empty() && sni != "-") host = sni;
        // Squid logs a host from the client: shown, so made printable.
        host = host == "-" ? "(no host: not a proxy request)" : printable(host.substr(0, 253));
        // Squid's own refusals: its ACLs (DENIED), or a request it could not serve at all
        // (NONE with an error status); an origin's 404 is an allowed request.
        bool denied = result.find("DENIED") != std::string::npos ||
                      (result.rfind("NONE", 0) == 0 && status.size() == 3 && status[0] >= '4');
        (denied ? s.denied : s.allowed)[host]++;
    }
    return s;
}

RunSummary summarise_access_log(const std::string& path) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return summarise_access_text(text);
}

std::string format_summary(const std::string& name, const RunSummary& s) {
    int allowed = s.total_allowed();
    std::string out = "awf-net run " + name + ": " + std::to_string(allowed) +
                      (allowed == 1 ? " request" : " requests") + " allowed, " +
                      std::to_string(s.total_denied()) + " denied\n";
    for (const auto& [host, n] : s.allowed)
        out += "  allowed  " + host + " (" + std::to_string(n) + ")\n";
    for (const auto& [host, n] : s.denied)
        out += "  denied   " + host + " (" + std::to_string(n) + ")\n";
    int packets = 0;
    for (const auto& kv : s.denied_packets)
        packets += kv.second;
    if (packets > 0) out += "  " + std::to_string(packets) + " packets denied by the policy:\n";
    for (const auto& [where, n] : s.denied_packets)
        out += "  denied   " + where + " (" + std::to_string(n) + ")\n";
    return out;
}

std::string iso8601_utc(double seconds) {
    double whole = std::floor(seconds);
    auto t = static_cast<time_t>(whole);
    int ms = static_cast<int>(std::lround((seconds - whole) * 1000));
    if (ms == 1000) ++t, ms = 0;
    tm parts{};
    gmtime_r(&t, &parts);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, ms);
    return buf;
}

std::vector<AuditLine> audit_requests(std::string_view text) {
    std::vector<AuditLine> out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string time, client, method, host, port, status, result, sni;
        if (!(f >> time >> client >> method >> host >> port >> status >> result)) continue;
        f >> sni;
        if (method == "-") continue;
        double t = 0;
        try {
            t = std::stod(time);
        } catch (const std::exception&) {
            continue;
        }
        RunSummary one = summarise_access_text(line);
        bool denied = !one.denied.empty();
        nlohmann::json j{{"timestamp", iso8601_utc(t)},
                         {"event", "request"},
                         {"_schema", kAuditSchema},
                         {"decision", denied ? "denied" : "allowed"},
                         {"method", method},
                         {"domain", host == "-" ? (sni.empty() || sni == "-" ? "" : sni) : host},
                         {"client", client},
                         {"status", status},
                         {"squid_result", result}};
        if (port != "-") j["port"] = port;
        out.push_back({t, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
    }
    return out;
}

} // namespace awf
