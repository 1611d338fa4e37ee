// A seccomp program for the command of `awf-net run`: ioctl(TIOCSTI) and ioctl(TIOCLINUX) fail
// with EPERM. The command may share the caller's terminal (interactive agents need it), and on
// kernels where dev.tty.legacy_tiocsti is 1 TIOCSTI pushes bytes into that terminal's input: they
// would run in the caller's shell, as the caller, once the sandbox is gone.
#pragma once

#include <linux/filter.h>
#include <vector>

namespace awf {

std::vector<sock_filter> terminal_injection_filter();

} // namespace awf
