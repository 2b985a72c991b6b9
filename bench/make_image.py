#!/usr/bin/env python3
"""Builds the benchmark image: an OCI layout of real files from this machine, gzip layers,
plus planted fake secrets. Nothing here is committed: the layout goes to the folder given.

    bench/make_image.py OUT_DIR [--size-mb 1200] [--layers 8]

Layers, bottom-up:
  0..N-1  real files (from /usr/share, /usr/lib, /opt/swift…), about SIZE/N bytes each;
          layer 2 also carries one planted secret among them
  N       one big real binary (hundreds of MB, a single file) with a private key spliced in
          across a 4 MiB window boundary, plus a planted .env
  N+1     planted credential files, and a tar.gz holding a settings file
  N+2     deletes two of them (whiteouts): their secrets are still in layer N+1

Writes OUT_DIR/planted.json: the (ruleId, path) pairs a scan must report. Deterministic for a
given machine: file lists are sorted, tar headers use mtime 0, gzip headers carry no name or time.
"""
import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Fixtures", "tools"))
from gen_secrets import make as fake  # noqa: E402  (deterministic fake credentials)

# Where real files come from, in order; each is walked in sorted order until the size is reached.
ROOTS = [
    "/usr/share/doc", "/usr/share/man", "/usr/share/perl", "/usr/share/vim", "/usr/share/locale",
    "/usr/lib/python3.11", "/usr/lib/python3", "/usr/lib/google-cloud-sdk/lib",
    "/usr/lib/x86_64-linux-gnu", "/opt/swift/usr/lib/swift", "/usr/lib/jvm", "/usr/lib/llvm-14",
]
BIG_FILE_CANDIDATES = ["/opt/swift/usr/bin/swift-package", "/opt/swift/usr/lib/liblldb.so.21.0.0",
                       "/opt/swift/usr/bin/swift-frontend"]
WINDOW = 4 << 20


class LayerWriter(io.RawIOBase):
    """A file object for tarfile: hashes the tar (diff_id), gzips it (no name, mtime 0), hashes
    the gzip (digest), writes it to a file. Streams: a layer never sits in memory."""

    def __init__(self, path, level=6):
        self.out = open(path, "wb")
        self.diff = hashlib.sha256()
        self.blob = hashlib.sha256()
        self.size = 0
        self.raw = 0
        self.z = zlib.compressobj(level, zlib.DEFLATED, 31)  # gzip wrapper, no name, mtime 0

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        self.diff.update(data)
        self.raw += len(data)
        self._emit(self.z.compress(data))
        return len(data)

    def _emit(self, chunk):
        if chunk:
            self.blob.update(chunk)
            self.size += len(chunk)
            self.out.write(chunk)

    def finish(self):
        self._emit(self.z.flush())
        self.out.close()


def walk_files(roots, budget):
    """Regular files and symlinks under roots, sorted, until `budget` bytes of regular files."""
    total = 0
    for root in roots:
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if os.path.islink(path):
                    yield path, 0
                elif tarfile.stat.S_ISREG(st.st_mode) and os.access(path, os.R_OK):
                    if st.st_size > 64 << 20:
                        continue  # the big-file layer has its own
                    yield path, st.st_size
                    total += st.st_size
                    if total >= budget:
                        return


def tarinfo(name, size=0, kind=tarfile.REGTYPE, mode=0o644, link=""):
    info = tarfile.TarInfo(name.lstrip("/"))
    info.size, info.type, info.mode, info.mtime, info.linkname = size, kind, mode, 0, link
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def add_bytes(tar, name, data, mode=0o644):
    tar.addfile(tarinfo(name, len(data), mode=mode), io.BytesIO(data))


def add_real(tar, path):
    if os.path.islink(path):
        tar.addfile(tarinfo(path, kind=tarfile.SYMTYPE, mode=0o777, link=os.readlink(path)))
        return
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            tar.addfile(tarinfo(path, size, mode=0o755 if os.access(path, os.X_OK) else 0o644), handle)
    except OSError:
        pass


class SplicedFile(io.RawIOBase):
    """A real file read with `insert` spliced in at `offset` (never held whole in memory)."""

    def __init__(self, path, offset, insert):
        self.handle, self.offset, self.insert, self.pos = open(path, "rb"), offset, insert, 0

    def readable(self):
        return True

    def read(self, n=-1):
        parts = []
        while n > 0:
            part = self._read_some(n)
            if not part:
                break
            parts.append(part)
            n -= len(part)
        return b"".join(parts)

    def _read_some(self, n):
        if self.pos < self.offset:
            data = self.handle.read(min(n, self.offset - self.pos))
        elif self.pos < self.offset + len(self.insert):
            start = self.pos - self.offset
            data = self.insert[start:start + n]
        else:
            data = self.handle.read(n)
        self.pos += len(data)
        return data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--size-mb", type=int, default=1200, help="bytes of real files over the first layers")
    parser.add_argument("--layers", type=int, default=8)
    args = parser.parse_args()

    out = args.out
    blobs = os.path.join(out, "blobs", "sha256")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(blobs)
    layers = []  # (digest, size, diff_id, created_by)
    planted = []

    def write_layer(created_by, fill):
        tmp = os.path.join(out, "layer.tmp")
        writer = LayerWriter(tmp)
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            fill(tar)
        writer.finish()
        digest = writer.blob.hexdigest()
        os.replace(tmp, os.path.join(blobs, digest))
        layers.append((digest, writer.size, writer.diff.hexdigest(), created_by, writer.raw))
        print(f"  layer {len(layers) - 1}: {writer.raw / 1e6:8.1f} MB tar, {writer.size / 1e6:8.1f} MB gzip  {created_by}",
              file=sys.stderr)

    # Real files, split into layers of about equal size.
    files = list(walk_files(ROOTS, args.size_mb * 1_000_000))
    total = sum(size for _, size in files)
    per_layer = total / args.layers
    groups, current, acc = [], [], 0
    for path, size in files:
        current.append(path)
        acc += size
        if acc >= per_layer * (len(groups) + 1) and len(groups) < args.layers - 1:
            groups.append(current)
            current = []
    groups.append(current)

    glpat = fake("glpat:bench")
    for index, group in enumerate(groups):
        def fill(tar, group=group, index=index):
            for path in group:
                add_real(tar, path)
            if index == 2:
                name = "/usr/share/doc/residue-bench/NOTES"
                add_bytes(tar, name, f"deploy notes\nGITLAB_TOKEN={glpat}\n".encode())
                planted.append({"ruleId": "gitlab-pat", "path": name, "layer": index})
        write_layer(f"/bin/sh -c #(nop) COPY dir:real-files-{index} in / ", fill)

    # One big real binary with an OpenSSH key spliced across a window boundary.
    big = next(p for p in BIG_FILE_CANDIDATES if os.path.exists(p))
    key = open(os.path.join(HERE, "..", "Fixtures", "dockerfiles", "copy-rm", "id_ed25519"), "rb").read()
    big_size = os.path.getsize(big)
    offset = (big_size // 2 // WINDOW) * WINDOW - 200
    ghp = fake("ghp:bench-env")

    def fill_big(tar):
        name = "/opt/tools/bin/" + os.path.basename(big)
        tar.addfile(tarinfo(name, big_size + len(key), mode=0o755), SplicedFile(big, offset, key))
        planted.append({"ruleId": "private-key-openssh", "path": name, "layer": len(layers)})
        add_bytes(tar, "/opt/tools/.env", f"GITHUB_TOKEN={ghp}\n".encode())
        planted.append({"ruleId": "github-pat", "path": "/opt/tools/.env", "layer": len(layers)})
    write_layer("/bin/sh -c #(nop) COPY file:tools in /opt/tools/ ", fill_big)

    # Credential files, one archive, then a layer that deletes two of them.
    akia, stripe, npm, xoxb = fake("akia:bench"), fake("stripe:bench"), fake("npm:bench"), fake("xoxb:bench")

    def fill_secrets(tar):
        index = len(layers)
        add_bytes(tar, "/root/.ssh/id_ed25519", key, mode=0o600)
        planted.append({"ruleId": "private-key-openssh", "path": "/root/.ssh/id_ed25519", "layer": index})
        add_bytes(tar, "/root/.npmrc", f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={npm}\n".encode())
        planted.append({"ruleId": "npm-token", "path": "/root/.npmrc", "layer": index})
        add_bytes(tar, "/etc/app/aws.yaml", f"region: eu-west-1\naws_access_key_id: {akia}\n".encode())
        planted.append({"ruleId": "aws-access-key-id", "path": "/etc/app/aws.yaml", "layer": index})
        add_bytes(tar, "/srv/billing/stripe.conf", f"STRIPE_KEY={stripe}\n".encode())
        planted.append({"ruleId": "stripe-secret-key", "path": "/srv/billing/stripe.conf", "layer": index})
        inner = io.BytesIO()
        with tarfile.open(fileobj=inner, mode="w:gz") as bundle:
            add_bytes(bundle, "config/settings.py", f'DEBUG = False\nSLACK_BOT = "{xoxb}"\n'.encode())
        add_bytes(tar, "/opt/app/bundle.tar.gz", inner.getvalue())
        planted.append({"ruleId": "slack-token", "path": "/opt/app/bundle.tar.gz!config/settings.py", "layer": index})
    write_layer("/bin/sh -c #(nop) COPY dir:secrets in / ", fill_secrets)

    def fill_delete(tar):
        tar.addfile(tarinfo("/root/.ssh/.wh.id_ed25519"))
        tar.addfile(tarinfo("/root/.wh..npmrc"))
    write_layer("/bin/sh -c rm /root/.ssh/id_ed25519 /root/.npmrc", fill_delete)

    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer[2] for layer in layers]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": layer[3]} for layer in layers],
    }

    def blob(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as handle:
            handle.write(data)
        return digest, len(data)

    config_digest, config_size = blob(json.dumps(config, separators=(",", ":")).encode())
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + layer[0], "size": layer[1]} for layer in layers],
    }
    manifest_digest, manifest_size = blob(json.dumps(manifest, separators=(",", ":")).encode())
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "digest": "sha256:" + manifest_digest, "size": manifest_size,
                            "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}
    with open(os.path.join(out, "index.json"), "w") as handle:
        json.dump(index, handle)
    with open(os.path.join(out, "oci-layout"), "w") as handle:
        json.dump({"imageLayoutVersion": "1.0.0"}, handle)
    with open(os.path.join(out, "planted.json"), "w") as handle:
        json.dump(planted, handle, indent=1)
    with open(os.path.join(out, "layers.txt"), "w") as handle:
        for layer in layers:
            handle.write(f"blobs/sha256/{layer[0]} {layer[4]}\n")
    raw = sum(layer[4] for layer in layers)
    packed = sum(layer[1] for layer in layers)
    print(f"image: {len(layers)} layers, {raw / 1e6:.0f} MB uncompressed, {packed / 1e6:.0f} MB gzip, "
          f"{len(planted)} planted secrets", file=sys.stderr)


if __name__ == "__main__":
    main()
