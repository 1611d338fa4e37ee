// What a run's Squid decided, read back from its access log (squid_conf.hpp's kSquidLogFormat)
// for the summary `awf-net run` prints at exit. Pure but for reading the file.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace awf {

struct RunSummary {
    std::map<std::string, int> allowed; // by host as the client asked for it
    std::map<std::string, int> denied;
    std::map<std::string, int> denied_packets; // by "proto destination[:port]" (NFLOG)
    int total_allowed() const;
    int total_denied() const;
};

// One log's text; lines that are not in awf's format are skipped.
RunSummary summarise_access_text(std::string_view text);
RunSummary summarise_access_log(const std::string& path); // a missing file: nothing happened

// "awf-net run NAME: 3 requests allowed, 1 denied\n  allowed  github.com (3)\n ..."
// At most `max_lines` names per kind, the busiest first; the rest counted in one line.
std::string format_summary(const std::string& name, const RunSummary& s, size_t max_lines = 40);

// One line of --audit-log: a JSON object with timestamp (ISO 8601 UTC), event, _schema, then
// the event's fields; `time` orders the lines.
struct AuditLine {
    double time = 0; // seconds since the epoch
    std::string json;
};
inline constexpr const char* kAuditSchema = "awf-net.audit/1";
// Squid's decisions (event "request": decision, method, domain, port, status, client, result).
std::vector<AuditLine> audit_requests(std::string_view access_text);
// "2026-12-03T15:04:05.123Z"
std::string iso8601_utc(double seconds);

} // namespace awf
