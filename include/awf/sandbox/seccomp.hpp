// A seccomp program for the command of `awf-net run`, for what its mounts cannot stop:
//  - ioctl(TIOCSTI) and ioctl(TIOCLINUX) fail with EPERM. The command may share the caller's
//    terminal (interactive agents need it), and on kernels where dev.tty.legacy_tiocsti is 1
//    TIOCSTI pushes bytes into that terminal's input: they would run in the caller's shell, as
//    the caller, once the sandbox is gone.
//  - No set-user-ID or set-group-ID file: chmod, fchmod, fchmodat(2), open, openat, creat,
//    mknod(at) with S_ISUID or S_ISGID in their mode fail with EPERM (openat2, whose mode the
//    filter cannot read, is ENOSYS: the C library falls back to openat). A writable directory
//    outlives the run; a setuid program left there would run as the caller for anyone.
//  - x32 system calls, which would reach the same calls under other numbers, fail whole.
#pragma once

#include <linux/filter.h>
#include <vector>

namespace awf {

std::vector<sock_filter> command_syscall_filter();

} // namespace awf
