#include "awf/base/platform.hpp"

#include "awf/sandbox/seccomp.hpp"

#include <cerrno>
#include <cstddef>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

namespace awf {

namespace {

// A call whose mode argument must carry neither S_ISUID nor S_ISGID.
struct ModeCall {
    uint32_t nr;
    uint32_t mode_arg;
};

struct ArchCalls {
    uint32_t arch;
    uint32_t ioctl;
    uint32_t openat2; // 0: none
    std::vector<ModeCall> mode_calls;
};

#if defined(__x86_64__)
// The 32-bit entry points run the compat table (i386 numbers); x32 calls carry this bit.
constexpr uint32_t kX32Bit = 0x40000000;
const ArchCalls kNative{AUDIT_ARCH_X86_64,
                        __NR_ioctl,
                        437,
                        {{__NR_chmod, 1},
                         {__NR_fchmod, 1},
                         {__NR_fchmodat, 2},
                         {452, 2}, // fchmodat2
                         {__NR_open, 2},
                         {__NR_openat, 3},
                         {__NR_creat, 1},
                         {__NR_mknod, 1},
                         {__NR_mknodat, 2}}};
const ArchCalls kCompat{
    AUDIT_ARCH_I386,
    54,
    437,
    {{15, 1}, {94, 1}, {306, 2}, {452, 2}, {5, 2}, {295, 3}, {8, 1}, {14, 1}, {297, 2}}};
#elif defined(__aarch64__)
constexpr uint32_t kX32Bit = 0;
const ArchCalls kNative{
    AUDIT_ARCH_AARCH64,
    __NR_ioctl,
    437,
    {{__NR_fchmod, 1}, {__NR_fchmodat, 2}, {452, 2}, {__NR_openat, 3}, {__NR_mknodat, 2}}};
const ArchCalls kCompat{
    AUDIT_ARCH_ARM,
    54,
    437,
    {{15, 1}, {94, 1}, {333, 2}, {452, 2}, {5, 2}, {322, 3}, {8, 1}, {14, 1}, {324, 2}}};
#else
#error "command_syscall_filter: add this architecture's audit arch and system call numbers"
#endif

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kEperm = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
constexpr uint32_t kEnosys = SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA);

sock_filter stmt(uint16_t code, uint32_t k) {
    return sock_filter{code, 0, 0, k};
}
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
    return sock_filter{code, jt, jf, k};
}
// The low 32 bits of argument i (little-endian on both architectures above): modes and ioctl
// requests are 32-bit.
uint32_t arg_low(uint32_t i) {
    return static_cast<uint32_t>(offsetof(seccomp_data, args) + i * sizeof(uint64_t));
}

// One architecture's checks, each a self-contained block that returns or falls through to the
// next; the number is loaded first. Relative jumps only, so blocks need no labels.
void append_arch(std::vector<sock_filter>& f, const ArchCalls& a, bool x32_check) {
    f.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    if (x32_check && kX32Bit) {
        f.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 0, 1));
        f.push_back(stmt(BPF_RET | BPF_K, kEperm));
    }
    // ioctl: TIOCSTI and TIOCLINUX refused.
    f.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, a.ioctl, 0, 5));
    f.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, arg_low(1)));
    f.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0));
    f.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0));
    f.push_back(stmt(BPF_RET | BPF_K, kAllow));
    f.push_back(stmt(BPF_RET | BPF_K, kEperm));
    if (a.openat2) {
        f.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, a.openat2, 0, 1));
        f.push_back(stmt(BPF_RET | BPF_K, kEnosys));
    }
    for (const auto& c : a.mode_calls) {
        // The accumulator holds the number until a block matches; a matching block returns.
        f.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, c.nr, 0, 4));
        f.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, arg_low(c.mode_arg)));
        f.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, S_ISUID | S_ISGID, 0, 1));
        f.push_back(stmt(BPF_RET | BPF_K, kEperm));
        f.push_back(stmt(BPF_RET | BPF_K, kAllow));
    }
    f.push_back(stmt(BPF_RET | BPF_K, kAllow));
}

} // namespace

std::vector<sock_filter> command_syscall_filter() {
    std::vector<sock_filter> native, compat;
    append_arch(native, kNative, true);
    append_arch(compat, kCompat, false);
    std::vector<sock_filter> f;
    f.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
    // Native: the next block; else skip it to the compat check.
    f.push_back(
        jump(BPF_JMP | BPF_JEQ | BPF_K, kNative.arch, 0, static_cast<uint8_t>(native.size())));
    f.insert(f.end(), native.begin(), native.end());
    f.push_back(
        jump(BPF_JMP | BPF_JEQ | BPF_K, kCompat.arch, 0, static_cast<uint8_t>(compat.size())));
    f.insert(f.end(), compat.begin(), compat.end());
    f.push_back(stmt(BPF_RET | BPF_K, kAllow));
    return f;
}

} // namespace awf
