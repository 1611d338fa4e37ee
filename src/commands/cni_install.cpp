#include "awf/base/platform.hpp"

#include "awf/commands/command.hpp"
#include "awf/commands/options.hpp"

#include "awf/base/error.hpp"
#include "awf/base/fd.hpp"
#include "awf/base/file.hpp"
#include "awf/frontend/cni_conflist.hpp"
#include "awf/policy/policy_name.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <iostream>
#include <optional>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace awf::cli {

namespace {

// Regular files and links: runtimes read configurations through links too, so a link can be
// the primary configuration (and is then refused, never followed, below).
std::vector<std::string> config_candidates(const std::string& dir) {
    struct Closer {
        void operator()(DIR* d) const { ::closedir(d); }
    };
    std::unique_ptr<DIR, Closer> d(::opendir(dir.c_str()));
    if (!d)
        throw Error(ExitCode::target, "--conf-dir " + dir,
                    std::string("cannot be read: ") + std::strerror(errno));
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d.get())) {
        struct stat st {};
        if (::fstatat(::dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
            names.emplace_back(e->d_name);
    }
    return names;
}

// A runtime reading the directory at any moment sees the old file or the new one, whole.
void replace_file(const std::string& path, const std::string& text, mode_t mode) {
    std::string tmp = path + ".awf-net.tmp";
    ::unlink(tmp.c_str());
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd) throw Error(ExitCode::internal, tmp, std::strerror(errno));
    bool ok = ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fchmod(fd.get(), mode) == 0 && ::fsync(fd.get()) == 0;
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw Error(ExitCode::internal, path, std::strerror(err));
    }
}

constexpr int kAttempts = 8;

std::optional<std::string> read_config(const std::string& path) {
    return read_regular_file(FileRef{{}, path}, 1 << 20, ExitCode::invalid_input,
                             "CNI configuration");
}

Error kept_changing(const std::string& path) {
    return Error(ExitCode::internal, path,
                 "kept changing while awf-net merged into it; not changed (try again)");
}

// flock(2) on the directory itself: no file of ours beside the configurations. Bounded: an
// installer stuck holding it must not stall the next one for ever.
void lock_for_a_while(const Fd& dir_fd, const std::string& dir) {
    for (int i = 0; i < 200; ++i) {
        if (::flock(dir_fd.get(), LOCK_EX | LOCK_NB) == 0) return;
        if (errno != EWOULDBLOCK && errno != EINTR)
            throw Error(ExitCode::internal, "--conf-dir " + dir,
                        std::string("lock: ") + std::strerror(errno));
        ::usleep(50'000);
    }
    throw Error(ExitCode::internal, "--conf-dir " + dir,
                "another cni-install held its lock for 10 s; not changed");
}

std::vector<std::string> policy_names(const std::string& list, const std::string& flag) {
    std::vector<std::string> out = split_list(list);
    // An empty list would read as "any policy": the opposite of what was meant.
    if (out.empty()) throw input_error(flag, list, "no policy names");
    for (const auto& name : out)
        if (!is_policy_name(name)) throw input_error(flag, name, "not a policy name");
    return out;
}

} // namespace

int cmd_cni_install(const Args& args, const Context& ctx) {
    po::options_description desc("awf-net cni-install [--conf-dir DIR] [--policy NAME] "
                                 "[--allowed-policies LIST] [--uninstall] [--dry-run]");
    desc.add_options()("conf-dir", po::value<std::string>()->value_name("DIR"),
                       "the node's CNI configuration directory (default /etc/cni/net.d)")(
        "policy", po::value<std::string>()->value_name("NAME"),
        "the network's policy (default: default)")(
        "allowed-policies", po::value<std::string>()->value_name("LIST"),
        "policies a pod may pick by annotation or CNI_ARGS (default: any)")(
        "policy-dir", po::value<std::string>()->value_name("DIR"),
        ("where the plugin finds named policies on the node (default " + default_policy_dir() + ")")
            .c_str())("uninstall", po::bool_switch(), "take awf-net's entry out again")(
        "dry-run", po::bool_switch(), "print the new configuration, change nothing")("help,h",
                                                                                     "this help");
    auto vm = parse(args, desc, "cni-install");
    if (printed_help(vm, desc)) return 0;

    std::string dir = vm.count("conf-dir") ? vm["conf-dir"].as<std::string>() : "/etc/cni/net.d";
    CniEntry entry;
    if (vm.count("policy")) {
        entry.policy = vm["policy"].as<std::string>();
        if (!is_policy_name(entry.policy))
            throw input_error("--policy", entry.policy, "not a policy name");
    }
    if (vm.count("allowed-policies"))
        entry.allowed_policies =
            policy_names(vm["allowed-policies"].as<std::string>(), "--allowed-policies");
    if (vm.count("policy-dir")) {
        entry.policy_dir = vm["policy-dir"].as<std::string>();
        if (entry.policy_dir.empty() || entry.policy_dir[0] != '/')
            throw input_error("--policy-dir", entry.policy_dir, "not an absolute path");
    }
    bool uninstall = vm["uninstall"].as<bool>();

    // Two installers at once (a DaemonSet rollout overlaps the old pod and the new) take turns.
    Fd conf_dir(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!conf_dir)
        throw Error(ExitCode::target, "--conf-dir " + dir,
                    std::string("cannot be read: ") + std::strerror(errno));
    lock_for_a_while(conf_dir, dir);

    static constexpr const char* said[] = {"merged into", "updated in", "already in",
                                           "removed from", "not in"};
    // The network plugin owns the file and rewrites it when it likes, without our lock: read,
    // merge, and before each step that replaces or removes what was read, check it is still
    // what was read; if not, decide again from the new file.
    for (int attempt = 1;; ++attempt) {
        // No configuration yet: the node's network plugin has not written it (retry later).
        auto primary = primary_cni_config(config_candidates(dir));
        if (!primary)
            throw Error(ExitCode::target, "--conf-dir " + dir,
                        "holds no CNI configuration (.conf, .conflist, .json) yet");
        std::string path = dir + "/" + *primary;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0)
            throw Error(ExitCode::target, path, std::strerror(errno));
        // Writing through it would change whatever file it names, wherever that is.
        if (S_ISLNK(st.st_mode))
            throw Error(ExitCode::invalid_input, path,
                        "is a symbolic link; merge awf-net into the file it names by hand");
        auto text = read_config(path);
        if (!text) throw Error(ExitCode::target, path, "vanished");
        ConflistChange c =
            uninstall ? remove_awf_entry(*text, path) : merge_awf_entry(*text, path, entry);

        if (vm["dry-run"].as<bool>()) {
            std::cout << c.text;
            return 0;
        }
        std::string target = path;
        bool changed = c.action != ConflistChange::Action::unchanged &&
                       c.action != ConflistChange::Action::absent;
        if (changed) {
            // A .conf holding a chain must be named .conflist; the name sorts in the same place.
            if (c.from_conf) {
                target = path.substr(0, path.rfind('.')) + ".conflist";
                struct stat other {};
                if (target != path && ::lstat(target.c_str(), &other) == 0)
                    throw Error(ExitCode::invalid_input, path,
                                "would become " + target + ", which exists; not changed");
            }
            auto still_as_read = [&] {
                ctx.apply_hooks().before_replace(path);
                return read_config(path) == text;
            };
            if (!still_as_read()) {
                if (attempt == kAttempts) throw kept_changing(path);
                continue;
            }
            replace_file(target, c.text, st.st_mode & 0777);
            if (target != path) {
                // The .conf sorts first, so until it goes runtimes still read it: a rewrite of
                // it meanwhile is the plugin's newest word, and ours is taken back.
                if (!still_as_read()) {
                    ::unlink(target.c_str());
                    if (attempt == kAttempts) throw kept_changing(path);
                    continue;
                }
                ::unlink(path.c_str());
            }
        }
        std::cout << "cni-install: awf-net " << said[static_cast<int>(c.action)] << " " << target;
        if (!uninstall) std::cout << " (policy " << entry.policy << ")";
        std::cout << "\n";
        return 0;
    }
}
} // namespace awf::cli
