#!/usr/bin/env python3
"""oci_image.py OUT.tar BUSYBOX: an OCI image archive (one layer: a static busybox and its
applets) named localhost/awf-busybox:test, for runtimes that import images (ctr) without a
registry."""
import hashlib, io, json, os, sys, tarfile, time
out, busybox = sys.argv[1], sys.argv[2]
def blob(data): return "sha256:" + hashlib.sha256(data).hexdigest(), data
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w") as t:
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp"):
        i = tarfile.TarInfo(d); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
    t.add(busybox, "bin/busybox")
    for a in ("sh", "nc", "sleep", "echo", "cat", "ip"):
        i = tarfile.TarInfo("bin/" + a); i.type = tarfile.SYMTYPE; i.linkname = "busybox"; t.addfile(i)
layer_d, layer_b = blob(layer.getvalue())
config = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
          "rootfs": {"type": "layers", "diff_ids": [layer_d]}}
config_d, config_b = blob(json.dumps(config).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_d, "size": len(config_b)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_d, "size": len(layer_b)}]}
manifest_d, manifest_b = blob(json.dumps(manifest).encode())
index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_d,
         "size": len(manifest_b), "annotations": {"org.opencontainers.image.ref.name": "localhost/awf-busybox:test"}}]}
with tarfile.open(out, "w") as t:
    def add(name, data):
        i = tarfile.TarInfo(name); i.size = len(data); i.mtime = int(time.time()); t.addfile(i, io.BytesIO(data))
    add("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
    add("index.json", json.dumps(index).encode())
    for d, b in ((layer_d, layer_b), (config_d, config_b), (manifest_d, manifest_b)):
        add("blobs/sha256/" + d.split(":")[1], b)
