#!/usr/bin/env python3
"""Writes an OCI image layout for the benchmarks: busybox (a static binary with sh, dd, true
symlinks) then LAYERS gzip layers of FILES files of 64 KiB each, half random, half base64
text. Usage: make_image.py OUT LAYERS FILES. Prints the compressed and uncompressed sizes."""
import base64, gzip, hashlib, io, json, os, random, sys, tarfile

out, nlayers, nfiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{out}/blobs/sha256")


def blob(b):
    h = hashlib.sha256(b).hexdigest()
    open(f"{out}/blobs/sha256/{h}", "wb").write(b)
    return "sha256:" + h


def layer(fill):
    bio = io.BytesIO()
    t = tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT)
    fill(t)
    t.close()
    raw = bio.getvalue()
    return raw, gzip.compress(raw, 6, mtime=0)


def add(t, name, data=None, mode=0o755, kind=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.linkname, ti.mtime = kind, mode, link, 1700000000
    ti.size = len(data) if data else 0
    t.addfile(ti, io.BytesIO(data) if data else None)


def base(t):
    add(t, "bin", kind=tarfile.DIRTYPE)
    add(t, "bin/busybox", open("/bin/busybox", "rb").read())
    for a in ["sh", "true", "sleep", "dd", "cp"]:
        add(t, "bin/" + a, kind=tarfile.SYMTYPE, link="busybox")
    add(t, "etc", kind=tarfile.DIRTYPE)
    add(t, "etc/passwd", b"root:x:0:0::/root:/bin/sh\n", 0o644)
    add(t, "tmp", kind=tarfile.DIRTYPE, mode=0o1777)
    add(t, "data", kind=tarfile.DIRTYPE)


rng = random.Random(42)


def files(n):
    def fill(t):
        for i in range(nfiles):
            raw = rng.randbytes(65536)
            add(t, f"layer{n}/d{i % 20}/f{i}", raw if i % 2 else base64.b64encode(raw)[:65536], 0o644)
    return fill


layers = [layer(base)] + [layer(files(n)) for n in range(nlayers)]
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
cfg = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(r).hexdigest() for r, _ in layers]}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(cfg), "size": len(cfg)},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(g), "size": len(g)}
                             for _, g in layers]}).encode()
md = blob(man)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
                                             "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
          open(f"{out}/index.json", "w"))
open(f"{out}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
print("compressed MB:", round(sum(len(g) for _, g in layers) / 1e6, 1),
      "uncompressed MB:", round(sum(len(r) for r, _ in layers) / 1e6, 1))
