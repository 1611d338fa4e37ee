// run's process sandbox: the bubblewrap arguments it plans (process_sandbox.hpp) and the seccomp
// program that keeps the command from typing into the caller's terminal.
#include "awf/sandbox/process_sandbox.hpp"
#include "awf/sandbox/seccomp.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace awf {
namespace {

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& w : v)
        s += (s.empty() ? "" : " ") + w;
    return s;
}

ProcessSandbox box(bool userns, uid_t uid) {
    ProcessSandbox b;
    b.user_namespace = userns;
    b.uid = uid;
    b.gid = uid;
    b.hidden = {"/run", "/var/lib/awf-net"};
    b.private_homes = {"/home", "/root"};
    b.read_only_files = {{"/etc/netns/sb/hosts", "/etc/hosts"}};
    b.writable = {{9, "/work"}};
    b.seccomp_fd = 7;
    b.command = {"/usr/bin/npm", "test"};
    return b;
}

TEST(ProcessSandbox, UserNamespaceRootIsMappedAndEverythingSensitiveIsCovered) {
    EXPECT_EQ(joined(bwrap_argv(box(true, 0))),
              "/usr/bin/bwrap --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try "
              "--die-with-parent --unshare-user --uid 0 --gid 0 --disable-userns --ro-bind / / "
              "--dev /dev --proc /proc --tmpfs /tmp --ro-bind /proc/sys /proc/sys --tmpfs /run "
              "--tmpfs /var/lib/awf-net --tmpfs /home --tmpfs /root "
              "--ro-bind /etc/netns/sb/hosts /etc/hosts --bind-fd 9 /work --seccomp 7 "
              "--cap-drop ALL -- /usr/bin/npm test");
}

TEST(ProcessSandbox, WithoutUserNamespacesSetprivEmptiesTheBoundingSetAndSwitchesUser) {
    std::string user = joined(bwrap_argv(box(false, 1000)));
    EXPECT_EQ(user.find("--unshare-user"), std::string::npos);
    EXPECT_NE(user.find("--cap-drop ALL --cap-add CAP_SETPCAP --cap-add CAP_SETUID --cap-add "
                        "CAP_SETGID -- /usr/bin/setpriv --reuid 1000 --regid 1000 --clear-groups "
                        "--inh-caps=-all --bounding-set=-all --no-new-privs -- /usr/bin/npm test"),
              std::string::npos)
        << user;
    std::string root = joined(bwrap_argv(box(false, 0)));
    EXPECT_NE(root.find("--cap-drop ALL --cap-add CAP_SETPCAP -- /usr/bin/setpriv "
                        "--inh-caps=-all --bounding-set=-all --no-new-privs -- /usr/bin/npm test"),
              std::string::npos)
        << root;
}

// In a child: the filter installed as bubblewrap installs it, then `call` tried; its errno
// (0 on success) is the child's status.
template <typename F> int errno_under_filter(F call) {
    pid_t child = ::fork();
    if (child == 0) {
        auto filter = command_syscall_filter();
        sock_fprog prog{static_cast<unsigned short>(filter.size()), filter.data()};
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
            std::_Exit(200);
        std::_Exit(call() == 0 ? 0 : errno);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ioctl_errno_under_filter(unsigned long request) {
    return errno_under_filter([request] {
        int fd = ::open("/dev/null", O_RDONLY);
        char c = 'x';
        return ::ioctl(fd, request, &c);
    });
}

TEST(CommandFilter, NoSetuidOrSetgidFile) {
    std::string dir = ::testing::TempDir() + "awf-suid-" + std::to_string(::getpid());
    ::mkdir(dir.c_str(), 0700);
    std::string f = dir + "/f";
    auto with = [&](auto call) { return errno_under_filter(call); };
    EXPECT_EQ(with([&] { return ::close(::open(f.c_str(), O_CREAT | O_WRONLY, 0755)); }), 0);
    EXPECT_EQ(with([&] { return ::chmod(f.c_str(), 04755); }), EPERM);
    EXPECT_EQ(with([&] { return ::chmod(f.c_str(), 02755); }), EPERM);
    EXPECT_EQ(with([&] { return ::chmod(f.c_str(), 0700); }), 0);
    EXPECT_EQ(with([&] { return ::fchmodat(AT_FDCWD, f.c_str(), 06755, 0); }), EPERM);
    EXPECT_EQ(with([&] {
                  int fd = ::open(f.c_str(), O_RDONLY);
                  return ::fchmod(fd, 04711);
              }),
              EPERM);
    std::string g = dir + "/g";
    EXPECT_EQ(with([&] {
                  int fd = ::open(g.c_str(), O_CREAT | O_WRONLY, 04755);
                  return fd < 0 ? -1 : 0;
              }),
              EPERM);
    EXPECT_EQ(with([&] { return static_cast<int>(::syscall(SYS_creat, g.c_str(), 02755)); }),
              EPERM);
    struct stat st {};
    EXPECT_EQ(::stat(f.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u);
    EXPECT_NE(::access(g.c_str(), F_OK), 0) << "no file was created with a set-id mode";
    ::unlink(f.c_str());
    ::rmdir(dir.c_str());
}

TEST(CommandFilter, RefusesTiocstiAndTioclinuxOnly) {
    EXPECT_EQ(ioctl_errno_under_filter(TIOCSTI), EPERM);
    EXPECT_EQ(ioctl_errno_under_filter(TIOCLINUX), EPERM);
    // Any other terminal request reaches the driver (/dev/null is no terminal).
    EXPECT_EQ(ioctl_errno_under_filter(TIOCGWINSZ), ENOTTY);
}

} // namespace
} // namespace awf
