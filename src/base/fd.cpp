#include "awf/base/platform.hpp"

#include "awf/base/fd.hpp"

#include <unistd.h>

namespace awf {

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

} // namespace awf
