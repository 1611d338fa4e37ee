#!/usr/bin/env python3
"""What a CNI runtime does with a conflist (SPEC.md, section 3), small enough to read: the tests
run the real bridge and host-local plugins chained with awf-net through it, without a
container engine.

cni_runtime.py CONFLIST ADD|CHECK|DEL|STATUS|GC|VERSION CONTAINER_ID NETNS [--ifname IF]
    [--args K=V;...] [--annotation K=V]... [--cache DIR] [--plugin TYPE] [--trace DIR]
Plugins are looked up in CNI_PATH. ADD caches its result in --cache; CHECK and DEL hand it to
the chain as prevResult. Prints the final result (or the failing plugin's error) and exits 1 on
any plugin's failure. --trace keeps each plugin's input and output as DIR/N-TYPE-COMMAND.{in,out}.
"""
import argparse
import json
import os
import subprocess
import sys


TRACE = {"dir": None, "n": 0}


def run_plugin(ptype, command, conf, env_extra, timeout=30):
    path = None
    for d in os.environ.get("CNI_PATH", "").split(":"):
        if d and os.access(os.path.join(d, ptype), os.X_OK):
            path = os.path.join(d, ptype)
            break
    if path is None:
        sys.exit(f"cni_runtime: plugin {ptype} not in CNI_PATH")
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
           "CNI_COMMAND": command, "CNI_PATH": os.environ["CNI_PATH"], **env_extra}
    p = subprocess.run([path], input=json.dumps(conf).encode(), env=env,
                       capture_output=True, timeout=timeout)
    sys.stderr.write(p.stderr.decode(errors="replace"))
    out = p.stdout.decode(errors="replace").strip()
    if TRACE["dir"]:
        TRACE["n"] += 1
        base = os.path.join(TRACE["dir"], f"{TRACE['n']}-{ptype}-{command}")
        with open(base + ".in", "w") as f:
            json.dump(conf, f)
        with open(base + ".out", "w") as f:
            f.write(out)
    return p.returncode, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("conflist")
    ap.add_argument("command")
    ap.add_argument("container_id", nargs="?", default="")
    ap.add_argument("netns", nargs="?", default="")
    ap.add_argument("--ifname", default="eth0")
    ap.add_argument("--args", default=None)
    ap.add_argument("--annotation", action="append", default=[])
    ap.add_argument("--cache", default="/tmp")
    ap.add_argument("--plugin", default=None, help="VERSION/STATUS: only this plugin type")
    ap.add_argument("--trace", default=None)
    a = ap.parse_args()
    TRACE["dir"] = a.trace

    with open(a.conflist) as f:
        conflist = json.load(f)
    version = conflist["cniVersion"]
    plugins = conflist["plugins"]
    env = {"CNI_CONTAINERID": a.container_id, "CNI_NETNS": a.netns, "CNI_IFNAME": a.ifname}
    if a.args is not None:
        env["CNI_ARGS"] = a.args
    annotations = dict(kv.split("=", 1) for kv in a.annotation)
    cache = os.path.join(a.cache, f"{conflist['name']}-{a.container_id}-{a.ifname}.json")

    def derived(plugin, prev):
        conf = dict(plugin)
        conf["name"] = conflist["name"]
        conf["cniVersion"] = version
        caps = plugin.get("capabilities", {})
        if caps.get("io.kubernetes.cri.pod-annotations") and annotations:
            conf["runtimeConfig"] = {"io.kubernetes.cri.pod-annotations": annotations}
        if prev is not None:
            conf["prevResult"] = prev
        return conf

    if a.command in ("VERSION", "STATUS", "GC"):
        rc = 0
        for plugin in plugins:
            if a.plugin and plugin["type"] != a.plugin:
                continue
            conf = derived(plugin, None)
            if a.command == "GC":
                conf["cni.dev/valid-attachments"] = []
            if a.command == "VERSION":
                conf = {"cniVersion": version}
            code, out = run_plugin(plugin["type"], a.command, conf, {})
            if out:
                print(out)
            rc = rc or code
        sys.exit(1 if rc else 0)

    if a.command == "ADD":
        prev = None
        for plugin in plugins:
            code, out = run_plugin(plugin["type"], "ADD", derived(plugin, prev), env)
            if code != 0:
                print(out)
                # As runtimes do: a failed ADD is followed by a DEL of the whole chain.
                for p in reversed(plugins):
                    run_plugin(p["type"], "DEL", derived(p, None), env)
                sys.exit(1)
            prev = json.loads(out)
        with open(cache, "w") as f:
            json.dump(prev, f)
        print(json.dumps(prev))
        return

    prev = None
    if os.path.exists(cache):
        with open(cache) as f:
            prev = json.load(f)
    order = plugins if a.command == "CHECK" else list(reversed(plugins))
    failed = 0
    for plugin in order:
        code, out = run_plugin(plugin["type"], a.command, derived(plugin, prev), env)
        if code != 0:
            print(out)
            failed = 1
            if a.command == "CHECK":
                break
    if a.command == "DEL" and not failed and os.path.exists(cache):
        os.unlink(cache)
    sys.exit(failed)


if __name__ == "__main__":
    main()
