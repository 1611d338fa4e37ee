#include "awf/base/platform.hpp"

#include "awf/launch/launcher.hpp"

#include "awf/base/error.hpp"
#include "awf/base/fd.hpp"
#include "awf/base/file.hpp"
#include "awf/kernel/facts.hpp"
#include "awf/kernel/netlink_socket.hpp"
#include "awf/kernel/netns.hpp"
#include "awf/kernel/nflog.hpp"
#include "awf/launch/run_summary.hpp"
#include "awf/plan/planner.hpp"
#include "awf/plan/squid_conf.hpp"
#include "awf/sandbox/process_sandbox.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <linux/netlink.h>
#include <map>
#include <mutex>
#include <net/if.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <pwd.h>
#include <sstream>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace awf {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kIp = "/usr/sbin/ip";
constexpr const char* kIpAlt = "/sbin/ip";
constexpr const char* kSquid = "/usr/sbin/squid";
constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";
constexpr const char* kOpenssl = "/usr/bin/openssl";
// Squid's intercept port needs a certificate to start; nothing is ever decrypted, so no client
// sees it. Made once per host (a fresh key per run would cost most of a run).
constexpr const char* kSquidCert = "/var/lib/awf-net/squid-tls.pem";
constexpr size_t kLogRead = 64u << 20; // of Squid's access log, for summary and audit
constexpr size_t kSummaryLines = 40;   // names per kind in the exit summary

Error failed(const std::string& step, const std::string& why) {
    return Error(ExitCode::internal, "run: " + step, why);
}

// A process is named by its pid and its start time (field 22 of /proc/PID/stat): a pid alone
// may have been reused by the time a record is read.
std::optional<unsigned long long> start_time(long pid) {
    if (pid <= 0) return std::nullopt;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i)
        if (i == 22) return std::stoull(field);
    return std::nullopt;
}

struct Proc {
    long pid = 0;
    unsigned long long start = 0;
    bool same() const { return pid > 0 && start_time(pid) == start; }
};

json to_json(const Proc& p) {
    return {{"pid", p.pid}, {"start", p.start}};
}
Proc proc_of(const json& j) {
    Proc p;
    if (j.is_object()) {
        p.pid = j.value("pid", 0L);
        p.start = j.value("start", 0ULL);
    }
    return p;
}
Proc this_process() {
    long pid = ::getpid();
    return {pid, start_time(pid).value_or(0)};
}

// The run's record: everything it makes, written before it is made.
struct Record {
    LaunchPlan plan;
    Proc supervisor, squid, resolver, command;
    std::string command_line;

    json to_json() const {
        return {{"name", plan.name},
                {"netns", plan.netns},
                {"host_link", plan.host_link},
                {"subnet", plan.subnet.str()},
                {"host_addr", plan.host_addr.str()},
                {"sandbox_addr", plan.sandbox_addr.str()},
                {"squid_port", plan.sandbox_policy.squid_port},
                {"supervisor", awf::to_json(supervisor)},
                {"squid", awf::to_json(squid)},
                {"resolver", awf::to_json(resolver)},
                {"command", awf::to_json(command)},
                {"command_line", command_line}};
    }
};

void write_record(const Record& r) {
    const std::string path = r.plan.dir + "/record.json";
    const std::string tmp = path + ".new";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << r.to_json().dump() << "\n";
        if (!out) throw failed("write " + tmp, std::strerror(errno));
    }
    // The command line may hold what only its caller should read.
    ::chmod(tmp.c_str(), 0600);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        throw failed("rename " + tmp, std::strerror(errno));
}

// What a record names, checked before any of it is used to remove something: a record is
// root's own file, but a name that is not one awf-net makes is never acted on.
std::optional<json> read_record(const std::string& dir) {
    auto text =
        read_regular_file({{}, dir + "/record.json"}, 1 << 16, ExitCode::internal, "run record");
    if (!text) return std::nullopt;
    json j = json::parse(*text, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    try {
        check_run_name(j.value("name", ""));
    } catch (const Error&) {
        return std::nullopt;
    }
    const std::string name = j["name"];
    if (j.value("netns", "") != "awf-" + name || j.value("host_link", "") != "awf" + name)
        return std::nullopt;
    return j;
}

std::string ip_binary() {
    return ::access(kIp, X_OK) == 0 ? kIp : kIpAlt;
}

// In a forked child: standard input from `in`, output and errors to `out`, then argv (an
// absolute path first). Never returns: 127 when the exec fails, as a shell would say.
[[noreturn]] void exec_with(const std::vector<std::string>& argv, int in, int out) {
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
}

// Runs a tool to completion with `input` on stdin; its first line of stderr names a failure.
void tool(const std::vector<std::string>& argv, const std::string& input = {}) {
    int in[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        throw failed("pipe", std::strerror(errno));
    Fd in_r(in[0]), in_w(in[1]), err_r(err[0]), err_w(err[1]);
    pid_t pid = ::fork();
    if (pid < 0) throw failed("fork", std::strerror(errno));
    if (pid == 0) {
        exec_with(argv, in_r.get(), err_w.get());
    }
    in_r = Fd();
    err_w = Fd();
    if (!input.empty() && ::write(in_w.get(), input.data(), input.size()) < 0) {
    }
    in_w = Fd();
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(err_r.get(), buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string first = out.substr(0, out.find('\n'));
        throw failed(argv[0] + (argv.size() > 1 ? " " + argv[1] : ""),
                     first.empty() ? "failed" : first);
    }
}

// A helper process of the run (Squid, the resolver): its output in the run's directory, its
// own process group (a terminal's ^C is for COMMAND), and dead when awf-net dies. PDEATHSIG
// alone does not do that: the kernel clears it when a process changes its user, which Squid
// and dnsmasq both do. So a keeper, our own code, holds it: it dies with awf-net and kills the
// helper then. Returns the helper (pid and start), its keeper in `keeper`.
Proc spawn(const std::vector<std::string>& argv, const std::string& log, pid_t& keeper) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw failed("pipe", std::strerror(errno));
    Fd rd(p[0]), wr(p[1]);
    pid_t parent = ::getpid();
    keeper = ::fork();
    if (keeper < 0) throw failed("fork", std::strerror(errno));
    if (keeper == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) std::_Exit(1);
        ::setpgid(0, 0);
        sigset_t wait_for;
        sigemptyset(&wait_for);
        sigaddset(&wait_for, SIGTERM);
        sigaddset(&wait_for, SIGCHLD);
        ::sigprocmask(SIG_BLOCK, &wait_for, nullptr);
        pid_t helper = ::fork();
        if (helper == 0) {
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
            int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0 || null < 0) std::_Exit(126);
            exec_with(argv, null, fd);
        }
        if (::write(wr.get(), &helper, sizeof helper) != sizeof helper) std::_Exit(1);
        while (true) {
            int sig = 0;
            if (::sigwait(&wait_for, &sig) != 0) continue;
            int status = 0;
            if (sig == SIGTERM) {
                ::kill(helper, SIGKILL);
                ::waitpid(helper, &status, 0);
                std::_Exit(1);
            }
            if (::waitpid(helper, &status, WNOHANG) == helper) std::_Exit(0);
        }
    }
    wr = Fd();
    pid_t helper = 0;
    if (::read(rd.get(), &helper, sizeof helper) != sizeof helper || helper <= 0)
        throw failed("start " + argv[0], "its keeper failed");
    return {helper, start_time(helper).value_or(0)};
}

// Kills a recorded helper (its keeper, when it is our child, is reaped). A record's process
// that is not ours (gc) is polled until gone, bounded.
void stop(const Proc& p, pid_t keeper = 0) {
    if (p.same()) ::kill(static_cast<pid_t>(p.pid), SIGKILL);
    if (keeper > 0) {
        while (::waitpid(keeper, nullptr, 0) < 0 && errno == EINTR) {
        }
        return;
    }
    for (int i = 0; i < 200 && p.same(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

// Waits until something accepts TCP connections at addr:port, the process still alive;
// bounded. Squid takes most of a run's set-up time here.
void wait_listening(const IpAddr& addr, uint16_t port, pid_t keeper, const std::string& what,
                    const std::string& log) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    std::memcpy(&sa.sin_addr, addr.bytes.data(), 4);
    while (std::chrono::steady_clock::now() < deadline) {
        Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return;
        int status = 0;
        if (::waitpid(keeper, &status, WNOHANG) != 0)
            throw failed("start " + what, "it exited; see " + log);
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    throw failed("start " + what, "not listening after 20 s; see " + log);
}

void write_file(const std::string& path, const std::string& text, mode_t mode);

// The certificate Squid's https_port needs, made on first use: an EC key (fast), readable by
// root and Squid's group only.
std::string squid_certificate(const passwd* proxy_user) {
    struct stat st {};
    if (::lstat(kSquidCert, &st) == 0 && S_ISREG(st.st_mode)) return kSquidCert;
    if (::access(kOpenssl, X_OK) != 0)
        throw Error(ExitCode::internal, "run",
                    "interception needs openssl to make Squid's "
                    "certificate once (or give --no-intercept)",
                    kOpenssl);
    std::error_code ec;
    fs::create_directories("/var/lib/awf-net", ec);
    ::chmod("/var/lib/awf-net", 0755);
    const std::string tmp = std::string(kSquidCert) + ".new";
    tool({kOpenssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-subj", "/CN=awf-net squid (never shown to a client)", "-days", "3650",
          "-keyout", tmp, "-out", tmp + ".crt"});
    std::ifstream key(tmp), crt(tmp + ".crt");
    std::string pem((std::istreambuf_iterator<char>(crt)), std::istreambuf_iterator<char>());
    pem.append((std::istreambuf_iterator<char>(key)), std::istreambuf_iterator<char>());
    ::unlink((tmp + ".crt").c_str());
    write_file(tmp, pem, 0640);
    if (proxy_user && ::chown(tmp.c_str(), 0, proxy_user->pw_gid) != 0)
        throw failed("chown " + tmp, std::strerror(errno));
    if (::rename(tmp.c_str(), kSquidCert) != 0) throw failed("rename " + tmp, std::strerror(errno));
    return kSquidCert;
}

std::string host_table_name(const std::string& run) {
    return "awf_link_" + run;
}

bool link_exists(const std::string& name) {
    return ::if_nametoindex(name.c_str()) != 0;
}

// Takes down what a record names. Each step is skipped when its object is already gone, so
// this is also what gc runs, any number of times.
void take_down(const json& j, pid_t squid_keeper = 0, pid_t resolver_keeper = 0) {
    const std::string name = j["name"];
    stop(proc_of(j.value("squid", json())), squid_keeper);
    stop(proc_of(j.value("resolver", json())), resolver_keeper);
    const std::string netns = "awf-" + name, link = "awf" + name;
    std::error_code ec;
    // The host's wall first (in this namespace: the one the run was made in, when gc runs
    // there too; elsewhere there is none of that name).
    try {
        remove_host_table(host_table_name(name));
    } catch (const Error&) {
    }
    // Deleting the namespace destroys the sandbox's end of the link, and the pair with it.
    if (fs::exists("/run/netns/" + netns, ec)) try {
            tool({ip_binary(), "netns", "delete", netns});
        } catch (const Error&) {
        }
    if (link_exists(link)) try {
            tool({ip_binary(), "link", "delete", link});
        } catch (const Error&) {
        }
    fs::remove_all("/etc/netns/" + netns, ec);
    fs::remove_all(std::string(kRunStateDir) + "/" + name, ec);
}

// Serialises runs picking subnets and names (and gc): one lock on the state directory.
class RunsLock {
public:
    RunsLock() {
        std::error_code ec;
        fs::create_directories(kRunStateDir, ec);
        ::chmod("/run/awf-net", 0755);
        ::chmod(kRunStateDir, 0755);
        fd_ = Fd(::open(kRunStateDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd_ || ::flock(fd_.get(), LOCK_EX) != 0)
            throw failed("lock " + std::string(kRunStateDir), std::strerror(errno));
    }

private:
    Fd fd_;
};

std::vector<std::string> run_dirs() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(kRunStateDir, ec))
        if (e.is_directory(ec) && !e.is_symlink(ec)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

int sweep_locked() {
    int swept = 0;
    for (const auto& dir : run_dirs()) {
        auto j = read_record(dir);
        if (!j) continue;
        if (proc_of((*j)["supervisor"]).same()) continue;
        take_down(*j);
        ++swept;
    }
    return swept;
}

std::string random_name() {
    uint32_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != sizeof r) r = static_cast<uint32_t>(::getpid());
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", r);
    return buf;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v)
        s += (s.empty() ? "" : " ") + x;
    return s;
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) throw failed("write " + path, std::strerror(errno));
    ::chmod(path.c_str(), mode);
}

// The signals a terminal or a supervisor sends: held while the sandbox is built (a run
// interrupted then is taken down, not left half-made), read from a signalfd afterwards.
class HeldSignals {
public:
    HeldSignals() {
        sigemptyset(&set_);
        for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTTOU, SIGTTIN})
            sigaddset(&set_, s);
        ::sigprocmask(SIG_BLOCK, &set_, &old_);
        fd_ = Fd(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
        if (!fd_) throw failed("signalfd", std::strerror(errno));
    }
    ~HeldSignals() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
    HeldSignals(const HeldSignals&) = delete;
    HeldSignals& operator=(const HeldSignals&) = delete;

    int fd() const { return fd_.get(); }
    const sigset_t& old_mask() const { return old_; }
    // The next pending terminating signal, 0 when none.
    int pending() {
        signalfd_siginfo si{};
        while (::read(fd_.get(), &si, sizeof si) == sizeof si)
            if (si.ssi_signo != SIGTTOU && si.ssi_signo != SIGTTIN)
                return static_cast<int>(si.ssi_signo);
        return 0;
    }

private:
    sigset_t set_{}, old_{};
    Fd fd_;
};

// The processes below `root` other than bubblewrap's own: COMMAND and its children. A signal
// for COMMAND goes to them; bubblewrap would take it as its own death and SIGKILL the rest.
std::vector<pid_t> command_processes(pid_t root) {
    std::map<pid_t, pid_t> parent;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        const std::string n = e.path().filename();
        if (n.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        std::string state;
        long ppid = 0;
        rest >> state >> ppid;
        parent[static_cast<pid_t>(std::stol(n))] = static_cast<pid_t>(ppid);
    }
    std::vector<pid_t> out;
    for (const auto& [pid, pp] : parent) {
        pid_t up = pp;
        for (int depth = 0; depth < 64 && up > 1 && up != root; ++depth)
            up = parent.count(up) ? parent[up] : 0;
        if (up != root) continue;
        std::error_code e2;
        auto exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", e2);
        if (!e2 && exe == kBwrap) continue;
        out.push_back(pid);
    }
    return out;
}

std::string proto_key(const LogEvent& e) {
    std::string proto = e.proto == 6    ? "tcp"
                        : e.proto == 17 ? "udp"
                        : e.proto == 1  ? "icmp"
                        : e.proto == 58 ? "icmpv6"
                                        : "protocol " + std::to_string(e.proto);
    std::string dst = e.dst.is_v4() ? e.dst.str() : "[" + e.dst.str() + "]";
    return proto + " " + dst + (e.dport ? ":" + std::to_string(*e.dport) : "");
}

double epoch_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// The policy's denied-packet events during the run: a listener bound in the sandbox's
// namespace, read by a thread of its own until the run ends.
class PacketLog {
public:
    PacketLog(const Target& target, uint16_t group) {
        NamespaceHandle ns = NamespaceHandle::open(target);
        NamespaceScope in(ns);
        listener_.emplace(group);
    }
    void start() {
        wake_ = Fd(::eventfd(0, EFD_CLOEXEC));
        if (!wake_) throw failed("eventfd", std::strerror(errno));
        thread_ = std::thread([this] {
            std::vector<LogEvent> got;
            uint64_t lost = 0;
            while (true) {
                pollfd fds[2] = {{listener_->fd(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
                if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
                got.clear();
                try {
                    // What arrived before the wake-up is read too.
                    while (listener_->wait(got, 0, lost)) {
                    }
                } catch (const Error&) {
                    return;
                }
                {
                    std::lock_guard<std::mutex> hold(mu_);
                    events_.insert(events_.end(), got.begin(), got.end());
                }
                if (fds[1].revents & POLLIN) return;
            }
        });
    }
    std::vector<LogEvent> finish() {
        if (wake_) {
            uint64_t one = 1;
            if (::write(wake_.get(), &one, sizeof one) != sizeof one) {
            }
        }
        if (thread_.joinable()) thread_.join();
        std::lock_guard<std::mutex> hold(mu_);
        return events_;
    }
    ~PacketLog() { finish(); }
    PacketLog(const PacketLog&) = delete;
    PacketLog& operator=(const PacketLog&) = delete;

private:
    std::optional<NflogListener> listener_;
    std::thread thread_;
    Fd wake_; // written once: the run is over
    std::mutex mu_;
    std::vector<LogEvent> events_;
};

// The audit file, opened before the run makes anything: created or truncated, never through a
// symbolic link, a regular file only.
Fd open_audit_log(const std::string& path) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
                 0640));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw input_error("--audit-log", path,
                          fd ? "not a regular file" : std::string(std::strerror(errno)));
    return fd;
}

void write_audit(const Fd& fd, std::vector<AuditLine> lines) {
    std::stable_sort(lines.begin(), lines.end(),
                     [](const AuditLine& a, const AuditLine& b) { return a.time < b.time; });
    std::string text;
    for (const auto& l : lines)
        text += l.json + "\n";
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n <= 0) throw failed("write the audit log", std::strerror(errno));
        done += static_cast<size_t>(n);
    }
}

int status_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

} // namespace

std::vector<LiveRun> recorded_runs() {
    std::vector<LiveRun> out;
    for (const auto& dir : run_dirs()) {
        auto j = read_record(dir);
        if (!j) continue;
        LiveRun r;
        r.name = (*j)["name"];
        r.netns = (*j)["netns"];
        r.sandbox_addr = j->value("sandbox_addr", "");
        r.squid = j->value("host_addr", "") + ":" + std::to_string(j->value("squid_port", 0));
        Proc cmd = proc_of(j->value("command", json()));
        r.command_pid = cmd.same() ? cmd.pid : 0;
        r.command = j->value("command_line", "");
        r.alive = proc_of((*j)["supervisor"]).same();
        out.push_back(std::move(r));
    }
    return out;
}

int sweep_dead_runs() {
    RunsLock lock;
    return sweep_locked();
}

int launch_and_run(const LaunchRequest& req, const ApplyHooks& hooks) {
    for (const char* needed : {kBwrap, kSquid, kDnsmasq})
        if (::access(needed, X_OK) != 0)
            throw Error(ExitCode::internal, "run", "needs this program, which is missing", needed);
    const passwd* proxy_user = ::getpwnam("proxy");
    Fd audit = req.audit_log.empty() ? Fd() : open_audit_log(req.audit_log);
    HeldSignals signals;

    Record rec;
    rec.supervisor = this_process();
    rec.command_line = joined(req.sandbox.command);
    {
        RunsLock lock;
        sweep_locked();
        std::vector<Cidr> taken;
        NetlinkSocket route(NETLINK_ROUTE);
        for (const auto& c : routed_prefixes_v4(route))
            taken.push_back(c);
        for (const auto& ia : interface_addresses(route))
            if (ia.local.is_v4()) taken.push_back(Cidr::of(ia.local, 32));
        std::vector<std::string> names;
        for (const auto& dir : run_dirs())
            if (auto j = read_record(dir)) {
                names.push_back((*j)["name"]);
                if (auto c = Cidr::parse(j->value("subnet", ""))) taken.push_back(*c);
            }
        std::string name = req.name.value_or(random_name());
        if (std::find(names.begin(), names.end(), name) != names.end() ||
            fs::exists("/run/netns/awf-" + name) || link_exists("awf" + name))
            throw input_error("--name", name, "a sandbox of that name exists");
        auto subnet = pick_link_subnet(req.pool, taken);
        if (!subnet)
            throw input_error("--subnet", req.pool.str(),
                              "no free /30 left: every one collides with a route, an address or "
                              "another sandbox");
        rec.plan = plan_launch(name, *subnet, req.policy);
        rec.plan.sandbox_policy.intercept = req.intercept;
        if (::mkdir(rec.plan.dir.c_str(), 0755) != 0)
            throw failed("mkdir " + rec.plan.dir, std::strerror(errno));
        write_record(rec);
    }
    const LaunchPlan& plan = rec.plan;
    int result = 1;
    pid_t squid_keeper = 0, resolver_keeper = 0;
    std::optional<PacketLog> packets;
    std::vector<LogEvent> events;
    try {
        const std::string ip = ip_binary();
        tool({ip, "netns", "add", plan.netns});
        // The host's end: no forwarding of what arrives from the sandbox, no IPv6 (a wall in
        // the host's namespace that nothing inside the sandbox can reach).
        tool({ip, "-batch", "-"}, "link add " + plan.host_link + " type veth peer name " +
                                      plan.sandbox_link + " netns " + plan.netns + "\n" +
                                      "addr add " + plan.host_addr.str() + "/30 dev " +
                                      plan.host_link + "\n");
        write_file("/proc/sys/net/ipv4/conf/" + plan.host_link + "/forwarding", "0\n", 0644);
        write_file("/proc/sys/net/ipv6/conf/" + plan.host_link + "/disable_ipv6", "1\n", 0644);
        tool({ip, "link", "set", plan.host_link, "up"});
        // The wall on the host's end, before anything listens there.
        HostLinkInputs wall;
        wall.table = host_table_name(plan.name);
        wall.ifindex = ::if_nametoindex(plan.host_link.c_str());
        wall.host_addr = plan.host_addr;
        wall.services.add({plan.sandbox_policy.squid_port, plan.sandbox_policy.squid_port});
        if (plan.sandbox_policy.host_access) {
            for (const auto& r : plan.sandbox_policy.allow_host_ports.ranges())
                wall.services.add(r);
            for (const auto& r : plan.sandbox_policy.host_service_ports.ranges())
                wall.services.add(r);
        }
        if (wall.ifindex == 0) throw failed("find " + plan.host_link, std::strerror(errno));
        if (req.intercept) {
            wall.intercept = true;
            PortSet web{{80, 80}, {443, 443}};
            web |= plan.sandbox_policy.allow_host_ports;
            wall.web_ports = web - plan.sandbox_policy.dangerous_ports;
            wall.intercept_tls_ports = plan.sandbox_policy.intercept_tls_ports;
            wall.intercept_http_port = plan.sandbox_policy.intercept_http_port;
            wall.intercept_tls_port = plan.sandbox_policy.intercept_tls_port;
        }
        apply_host_table(plan_host_link(wall));
        tool({ip, "-n", plan.netns, "-batch", "-"},
             "link set lo up\naddr add " + plan.sandbox_addr.str() + "/30 dev " +
                 plan.sandbox_link + "\nlink set " + plan.sandbox_link +
                 " up\nroute add default via " + plan.host_addr.str() + "\n");
        std::error_code ec;
        fs::create_directories("/etc/netns/" + plan.netns, ec);
        write_file("/etc/netns/" + plan.netns + "/resolv.conf", sandbox_resolv_conf(plan), 0644);
        write_file("/etc/netns/" + plan.netns + "/hosts", sandbox_hosts(plan), 0644);

        // Squid, its own directory writable by the user it switches to.
        const std::string squid_dir = plan.dir + "/squid";
        ::mkdir(squid_dir.c_str(), 0750);
        if (proxy_user && ::chown(squid_dir.c_str(), proxy_user->pw_uid, proxy_user->pw_gid) != 0)
            throw failed("chown " + squid_dir, std::strerror(errno));
        SquidConfPaths paths;
        paths.state_dir = squid_dir;
        paths.listen = plan.host_addr.str();
        paths.dns = req.upstream_dns;
        paths.clients = {Cidr::of(plan.sandbox_addr, 32)};
        {
            NetlinkSocket route(NETLINK_ROUTE);
            for (const auto& ia : interface_addresses(route))
                if (!ia.host_scope)
                    paths.internal.push_back(Cidr::of(ia.local, ia.local.is_v4() ? 32 : 128));
        }
        Policy squid_policy = req.policy;
        squid_policy.intercept = req.intercept;
        if (req.intercept) paths.tls_cert = squid_certificate(proxy_user);
        write_file(plan.dir + "/squid.conf", squid_conf(squid_policy, paths), 0644);
        rec.squid = spawn({kSquid, "-N", "-f", plan.dir + "/squid.conf"}, plan.dir + "/squid.out",
                          squid_keeper);
        write_record(rec);

        // The resolver at the host end: forwards to --dns-servers, else to the host's own.
        std::vector<std::string> dns = {
            kDnsmasq,      "--keep-in-foreground", "--conf-file=/dev/null",
            "--no-hosts",  "--bind-interfaces",    "--listen-address=" + plan.host_addr.str(),
            "--pid-file=", "--user=nobody"};
        if (req.dns_given) dns.push_back("--no-resolv");
        for (auto& a : resolver_domain_args(req.policy.domains, req.upstream_dns))
            dns.push_back(std::move(a));
        rec.resolver = spawn(dns, plan.dir + "/dnsmasq.out", resolver_keeper);
        write_record(rec);

        // The sandbox's policy, while Squid starts.
        Target target;
        target.netns = plan.netns;
        ApplyResult applied = apply(resolve_for(plan.sandbox_policy, target), target, hooks);
        for (const auto& w : applied.warnings)
            std::cerr << "awf-net: warning: " << w << "\n";
        if (plan.sandbox_policy.log_group) {
            packets.emplace(target, *plan.sandbox_policy.log_group);
            packets->start();
        }
        wait_listening(plan.host_addr, plan.sandbox_policy.squid_port, squid_keeper, "Squid",
                       plan.dir + "/squid.out");
        wait_listening(plan.host_addr, 53, resolver_keeper, "the resolver",
                       plan.dir + "/dnsmasq.out");
        if (int sig = signals.pending())
            throw Error(ExitCode::internal, "run", "interrupted", strsignal(sig));

        // COMMAND: a child in its own process group, the terminal's foreground while it runs.
        SandboxSpec spec = req.sandbox;
        spec.target = target;
        char cwd[4096];
        if (::getcwd(cwd, sizeof cwd)) {
            std::string here = cwd;
            bool hidden = here == "/" ||
                          std::any_of(sensitive_directories().begin(),
                                      sensitive_directories().end(), [&](const std::string& h) {
                                          return here == h || here.rfind(h + "/", 0) == 0;
                                      });
            if (!hidden &&
                std::find(spec.writable.begin(), spec.writable.end(), here) == spec.writable.end())
                spec.writable.push_back(here);
        }
        bool tty = ::isatty(0) == 1;
        // What COMMAND does to the terminal's modes (no echo, another interrupt key) does not
        // outlive it.
        termios saved{};
        bool have_modes = tty && ::tcgetattr(0, &saved) == 0;
        pid_t parent = ::getpid();
        pid_t child = ::fork();
        if (child < 0) throw failed("fork", std::strerror(errno));
        if (child == 0) {
            ::setpgid(0, 0);
            if (::getppid() != parent) std::_Exit(1);
            ::sigprocmask(SIG_SETMASK, &signals.old_mask(), nullptr);
            for (const auto& [k, v] : proxy_environment(plan))
                ::setenv(k.c_str(), v.c_str(), 1);
            try {
                enter_sandbox_and_exec(spec);
            } catch (const Error& e) {
                std::cerr << "awf-net: error: " << e.what() << "\n";
                std::_Exit(static_cast<int>(e.code()));
            }
        }
        ::setpgid(child, child);
        if (tty) ::tcsetpgrp(0, child);
        rec.command = {child, start_time(child).value_or(0)};
        write_record(rec);

        int status = 0;
        Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
        while (true) {
            pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {signals.fd(), POLLIN, 0}};
            int n = ::poll(fds, pidfd ? 2 : 1, pidfd ? -1 : 50);
            if (n < 0 && errno != EINTR) break;
            if (fds[1].revents & POLLIN || !pidfd)
                if (int sig = signals.pending())
                    for (pid_t p : command_processes(child))
                        ::kill(p, sig);
            if (::waitpid(child, &status, WNOHANG) == child) break;
        }
        if (tty) ::tcsetpgrp(0, ::getpgrp());
        if (have_modes) ::tcsetattr(0, TCSADRAIN, &saved);
        result = status_code(status);
        if (packets) events = packets->finish();
    } catch (...) {
        RunsLock lock;
        take_down(rec.to_json(), squid_keeper, resolver_keeper);
        throw;
    }
    // Squid's log, read (at most kLogRead of it: the sandbox chose how much it wrote) before
    // the directory goes, and used after everything is down.
    std::string text;
    {
        std::ifstream in(plan.dir + "/squid/access.log");
        text.resize(kLogRead);
        in.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<size_t>(in.gcount()));
    }
    {
        RunsLock lock;
        take_down(rec.to_json(), squid_keeper, resolver_keeper);
    }
    RunSummary summary = summarise_access_text(text);
    for (const auto& e : events)
        summary.denied_packets[proto_key(e)]++;
    if (audit) {
        std::vector<AuditLine> lines = audit_requests(text);
        for (const auto& e : events) {
            json j{{"timestamp", iso8601_utc(epoch_seconds(e.time))},
                   {"event", "packet"},
                   {"_schema", kAuditSchema},
                   {"decision", "denied"},
                   {"destination", proto_key(e)},
                   {"client", e.src.str()},
                   {"rule", e.prefix}};
            if (e.uid) j["uid"] = *e.uid;
            lines.push_back(
                {epoch_seconds(e.time), j.dump(-1, ' ', false, json::error_handler_t::replace)});
        }
        write_audit(audit, std::move(lines));
    }
    if (!req.quiet) std::cerr << format_summary(plan.name, summary, kSummaryLines);
    return result;
}

} // namespace awf
