// Errors carry where they happened, what went wrong and the offending value, up to the one
// place (main) that prints them as one line and picks the exit code (cli.md, Exit codes).
#pragma once

#include <stdexcept>
#include <string>

namespace awf {

enum class ExitCode : int {
    ok = 0,
    internal = 1,
    invalid_input = 2,
    target = 3,
    kernel_refused = 4,
    restored = 5,
    tampered = 6,
};

// cli.md's table: what the code says about the kernel state.
inline const char* exit_code_meaning(ExitCode c) {
    switch (c) {
    case ExitCode::ok:
        return "done";
    case ExitCode::internal:
        return "internal error; kernel unchanged or restored unless the message says otherwise";
    case ExitCode::invalid_input:
        return "invalid usage or policy input; kernel unchanged";
    case ExitCode::target:
        return "target namespace missing or unusable; kernel unchanged";
    case ExitCode::kernel_refused:
        return "the kernel refused the transaction; kernel unchanged";
    case ExitCode::restored:
        return "a step after the commit failed; previous state restored";
    case ExitCode::tampered:
        return "the installed table differs from its recorded policy";
    }
    return "unknown";
}

class Error : public std::runtime_error {
public:
    Error(ExitCode code, std::string where, std::string what, std::string value = {})
        : std::runtime_error(format(where, what, value)), code_(code), where_(std::move(where)),
          what_(std::move(what)), value_(std::move(value)) {}

    ExitCode code() const noexcept { return code_; }
    const std::string& where() const noexcept { return where_; }
    const std::string& reason() const noexcept { return what_; }
    const std::string& value() const noexcept { return value_; }

private:
    static std::string format(const std::string& where, const std::string& what,
                              const std::string& value) {
        std::string s = where.empty() ? what : where + ": " + what;
        if (!value.empty()) s += " (" + value + ")";
        return s;
    }

    ExitCode code_;
    std::string where_;
    std::string what_;
    std::string value_;
};

// Input errors all share exit code 2 and the `--flag: "value": reason` shape of cli.md.
inline Error input_error(const std::string& field, const std::string& value,
                         const std::string& reason) {
    return Error(ExitCode::invalid_input, field, "\"" + value + "\": " + reason);
}

} // namespace awf
