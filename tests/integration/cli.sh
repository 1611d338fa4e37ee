#!/usr/bin/env bash
# The command line as an operator meets it: every command listed, `help COMMAND`, -v, one-line
# errors, and the bash completion that meson installs.
source "$(dirname "$0")/lib.sh"

out=$("$AWF" --help)
for c in apply delete dump explain watch run oci-hook version help; do
    case "$out" in *"  $c "*|*"  $c"$'\n'*) pass "--help lists $c" ;; *) fail "--help lists $c" "$out" ;; esac
done
out=$("$AWF" help apply); rc=$?
case "$rc $out" in "0 "*--dry-run*--netns*) pass "help apply prints apply's options" ;; *) fail "help apply prints apply's options" "$out" ;; esac
expect_exit "help of an unknown command is exit 2" 2 "$AWF" help no-such-command
trailing=0
for c in apply delete dump explain watch run oci-hook squid-conf cni-install; do
    n=$("$AWF" help "$c" | grep -c ' $'); trailing=$((trailing + n))
done
expect_eq "no help line ends in a space" "$trailing" 0
# squid-conf names a file that is not there at once, not when Squid starts.
touch "${TMPDIR:-/tmp}/awf-cli-list-$$"
out=$("$AWF" squid-conf --intercept --tls-cert /nonexistent/tls.pem --allow-domains-file "${TMPDIR:-/tmp}/awf-cli-list-$$" 2>&1); rc=$?
[[ $rc -eq 2 && $out == *'--tls-cert: "/nonexistent/tls.pem": no such regular file'* ]] && pass "squid-conf --tls-cert of a missing file is exit 2" || \
    fail "squid-conf --tls-cert of a missing file is exit 2" "$rc $out"
rm -f "${TMPDIR:-/tmp}/awf-cli-list-$$"
expect_eq "version" "$("$AWF" version)" "awf-net $("$AWF" --version | cut -d' ' -f2)"

p=$(new_prefix)
err=$("$AWF" apply --netns "$p-missing" 2>&1 >/dev/null); rc=$?
expect_eq "an error is one line" "$rc $(echo "$err" | wc -l)" "3 1"
err=$("$AWF" -v apply --netns "$p-missing" 2>&1 >/dev/null); rc=$?
expect_eq "-v adds the meaning of the exit code" "$rc $(echo "$err" | wc -l)" "3 2"
case "$err" in *"exit 3 (target namespace missing or unusable; kernel unchanged)"*) pass "-v names the kernel state" ;; *) fail "-v names the kernel state" "$err" ;; esac
# apply and dump name the recorded digest the same way (keyed with the host's key).
make_ns "$p-d"
sum=$("$AWF" apply --netns "$p-d" --ipv6 block | grep -o '(hmac-sha256:[0-9a-f]*' | tr -d '(')
case "$("$AWF" dump --netns "$p-d")" in *"policy $sum"*) pass "apply and dump show the same hmac-sha256 digest" ;;
    *) fail "apply and dump show the same hmac-sha256 digest" "apply: $sum; dump: $("$AWF" dump --netns "$p-d" | grep -o 'policy [^ ,]*' | head -1)" ;; esac
for bad in "apply --bogus" "apply --netns x --allow-host-ports 1-2-3" "dump --table" "explain tcp/1.2.3.4:99999"; do
    # shellcheck disable=SC2086
    err=$("$AWF" $bad 2>&1 >/dev/null)
    expect_eq "one line for: $bad" "$(echo "$err" | wc -l)" 1
done

# Bash completion, as installed by meson.
dest=$(mktemp -d)
meson install -C "$(dirname "$AWF")" --destdir "$dest" >/dev/null 2>&1
comp=$(find "$dest" -path '*bash-completion/completions/awf-net' | head -1)
[[ -n $comp ]] && pass "meson installs the bash completion" || fail "meson installs the bash completion"
complete_words() {
    PATH="$(dirname "$AWF"):$PATH" bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _awf_net; echo "${COMPREPLY[*]}"' _ "$comp" "$@"
}
expect_eq "completes commands" "$(complete_words awf-net ap)" "apply"
expect_eq "completes a command's flags" "$(complete_words awf-net dump --j)" "--json"
expect_eq "completes flag values" "$(complete_words awf-net apply --ipv6 b)" "block"
rm -rf "$dest"
finish
