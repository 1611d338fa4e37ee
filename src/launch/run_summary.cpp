#include "awf/base/platform.hpp"

#include "awf/launch/run_summary.hpp"

#include "awf/base/text.hpp"

#include <fstream>
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
    return out;
}

} // namespace awf
