// Reading a file that a less trusted party may have placed or shaped (a container's hosts file,
// a config file named by an annotation): no link where none is expected, nothing but a regular
// file, a bounded size.
#pragma once

#include "awf/base/error.hpp"

#include <optional>
#include <string>

namespace awf {

// Where a file is. With `root` (a container's root directory: /proc/PID/root, a bundle's
// rootfs), `path` is resolved inside it as the container would and no symbolic link is
// followed on the way (an absolute link would otherwise point into the host's tree). Without,
// `path` is a host path chosen by the operator or the runtime; its last component must not be
// a link.
struct FileRef {
    std::string root;
    std::string path;
    std::string describe() const { return root.empty() ? path : root + " : " + path; }
};

// At most `max` bytes; nullopt when the file does not exist. Throws awf::Error(code, what, why)
// when it exists but is not safe to read: a link on the way, anything but a regular file
// (checked on an O_PATH descriptor, so a FIFO or a device is never opened for reading).
std::optional<std::string> read_regular_file(const FileRef& where, size_t max, ExitCode code,
                                             const std::string& what);

} // namespace awf
