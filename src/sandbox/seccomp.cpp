#include "awf/base/platform.hpp"

#include "awf/sandbox/seccomp.hpp"

#include <cerrno>
#include <cstddef>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

namespace awf {

namespace {

#if defined(__x86_64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_X86_64;
// The 32-bit entry points run the compat table, where ioctl has another number; x32 calls carry
// this bit in the number and would reach ioctl under a third.
constexpr uint32_t kCompatArch = AUDIT_ARCH_I386;
constexpr uint32_t kCompatIoctl = 54;
constexpr uint32_t kX32Bit = 0x40000000;
#elif defined(__aarch64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
constexpr uint32_t kCompatArch = AUDIT_ARCH_ARM;
constexpr uint32_t kCompatIoctl = 54;
constexpr uint32_t kX32Bit = 0;
#else
#error "terminal_injection_filter: add this architecture's audit arch and compat ioctl number"
#endif

sock_filter stmt(uint16_t code, uint32_t k) {
    return sock_filter{code, 0, 0, k};
}
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
    return sock_filter{code, jt, jf, k};
}

} // namespace

std::vector<sock_filter> terminal_injection_filter() {
    constexpr uint32_t allow = SECCOMP_RET_ALLOW;
    constexpr uint32_t eperm = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
    // The request is an unsigned int: only the low 32 bits of the argument count (little-endian
    // on both architectures above).
    constexpr uint32_t request = offsetof(seccomp_data, args) + sizeof(uint64_t);
    return {
        stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        jump(BPF_JMP | BPF_JEQ | BPF_K, kNativeArch, 0, 4),
        // native: [2]
        stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 9, 0), // x32: refused whole (nobody uses it)
        jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 4, 7),
        stmt(BPF_RET | BPF_K, allow), // unreachable; keeps the offsets below readable
        // other arch: [6]
        jump(BPF_JMP | BPF_JEQ | BPF_K, kCompatArch, 0, 5),
        stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        jump(BPF_JMP | BPF_JEQ | BPF_K, kCompatIoctl, 0, 3),
        // ioctl: [9]; allow: [12]; EPERM: [13]
        stmt(BPF_LD | BPF_W | BPF_ABS, request),
        jump(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0),
        jump(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0),
        stmt(BPF_RET | BPF_K, allow),
        stmt(BPF_RET | BPF_K, eperm),
    };
}

} // namespace awf
