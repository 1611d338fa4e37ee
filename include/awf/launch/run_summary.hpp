// What a run's Squid decided, read back from its access log (squid_conf.hpp's kSquidLogFormat)
// for the summary `awf-net run` prints at exit. Pure but for reading the file.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace awf {

struct RunSummary {
    std::map<std::string, int> allowed; // by host as the client asked for it
    std::map<std::string, int> denied;
    int total_allowed() const;
    int total_denied() const;
};

// One log's text; lines that are not in awf's format are skipped.
RunSummary summarise_access_text(std::string_view text);
RunSummary summarise_access_log(const std::string& path); // a missing file: nothing happened

// "awf-net run NAME: 3 requests allowed, 1 denied\n  allowed  github.com (3)\n ..."
std::string format_summary(const std::string& name, const RunSummary& s);

} // namespace awf
