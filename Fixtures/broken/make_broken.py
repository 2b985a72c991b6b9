#!/usr/bin/env python3
"""Writes the broken and hostile images residue must survive (Fixtures/broken/).

Each case is a tiny OCI layout (or archive) made from first principles, deterministic, so the
committed bytes are reproducible: `python3 Fixtures/broken/make_broken.py` rewrites them.
cases.json says, for each, what residue must do: fail with exit 2 and a one-line error that
mentions a given text, or scan to completion with given findings.
"""
import gzip, hashlib, io, json, os, shutil, struct, subprocess, tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "ghp_" + "Zt4Qw8Er2Ty6Ui0Op3As7Df1Gh5Jk9Lz2XcV"   # a well-formed fake GitHub token
cases = []


def sha(data):
    return hashlib.sha256(data).hexdigest()


def tar_bytes(entries):
    """entries: (name, data or None for dir, kind) — built by hand-rolled TarInfo, mtime 0."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                tar.addfile(info)
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = data
                tar.addfile(info)
    return bio.getvalue()


def gz(data):
    return gzip.compress(data, mtime=0)


class Layout:
    def __init__(self, name):
        self.root = os.path.join(HERE, name)
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(os.path.join(self.root, "blobs", "sha256"))
        with open(os.path.join(self.root, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data):
        digest = sha(data)
        with open(os.path.join(self.root, "blobs", "sha256", digest), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + digest, "size": len(data)}

    def image(self, layers, config=None, history=None, diff_ids=None, media="application/vnd.oci.image.layer.v1.tar+gzip",
              raw_config=None, manifest_override=None, index_extra=None):
        descriptors = []
        computed_diffs = []
        for stored, uncompressed in layers:
            d = self.blob(stored)
            d["mediaType"] = media
            descriptors.append(d)
            computed_diffs.append("sha256:" + sha(uncompressed))
        if raw_config is None:
            cfg = config or {"architecture": "amd64", "os": "linux", "config": {}}
            cfg["rootfs"] = {"type": "layers", "diff_ids": diff_ids if diff_ids is not None else computed_diffs}
            if history is not None:
                cfg["history"] = history
            raw_config = json.dumps(cfg, sort_keys=True).encode()
        c = self.blob(raw_config)
        c["mediaType"] = "application/vnd.oci.image.config.v1+json"
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": c, "layers": descriptors}
        if manifest_override:
            manifest_override(manifest)
        m = self.blob(json.dumps(manifest, sort_keys=True).encode())
        m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
        m["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
        index = {"schemaVersion": 2, "manifests": [m]}
        if index_extra:
            index_extra(index, m)
        with open(os.path.join(self.root, "index.json"), "w") as f:
            json.dump(index, f, sort_keys=True)
        return m


def case(name, expect, mentions=None, findings=None, note="", args=None, skipped=None):
    cases.append({"name": name, "reference": f"oci:Fixtures/broken/{name}", "expect": expect,
                  **({"mentions": mentions} if mentions else {}),
                  **({"findings": findings} if findings is not None else {}),
                  **({"args": args} if args else {}), **({"skipped": skipped} if skipped else {}), "note": note})


leaky = tar_bytes([("app/", None, "dir"), ("app/.env", f"GITHUB_TOKEN={TOKEN}\n".encode(), "file")])

# --- damaged streams --------------------------------------------------------------------
name = "truncated-gzip"
layout = Layout(name)
stored = gz(leaky)[:60]
layout.image([(stored, leaky)])
case(name, "error", mentions="layer 0", note="gzip stream cut short; the digest matches the cut blob")

name = "truncated-zstd"
layout = Layout(name)
zst = subprocess.run(["zstd", "-q", "-c", "--no-check"], input=leaky, stdout=subprocess.PIPE, check=True).stdout
layout.image([(zst[: len(zst) // 2], leaky)], media="application/vnd.oci.image.layer.v1.tar+zstd")
case(name, "error", mentions="layer 0", note="zstd stream cut in half")

name = "not-a-tar"
layout = Layout(name)
junk = bytes((i * 37 + 11) % 256 for i in range(4096))
layout.image([(gz(junk), junk)])
case(name, "error", mentions="layer 0", note="a gzip layer whose content is not a tar")

name = "absurd-size"
layout = Layout(name)
header = bytearray(tar_bytes([("big", b"x" * 10, "file")])[:512])
header[124:136] = b"77777777777\0"              # 8 GiB claimed, 10 bytes present
header[148:156] = b"        "
header[148:156] = ("%06o\0 " % sum(header)).encode()
absurd = bytes(header) + b"x" * 512
layout.image([(gz(absurd), absurd)])
case(name, "error", mentions="layer 0", note="a tar header claims 8 GiB; the stream ends first")

name = "negative-size"
layout = Layout(name)
header = bytearray(tar_bytes([("neg", b"x" * 10, "file")])[:512])
header[124:136] = bytes([0xFF] * 12)             # base-256 encoding of -1
header[148:156] = b"        "
header[148:156] = ("%06o\0 " % sum(header)).encode()
negative = bytes(header) + b"\0" * 1024
layout.image([(gz(negative), negative)])
case(name, "error", mentions="layer 0", note="base-256 size field that is negative")

# --- hostile names and links --------------------------------------------------------------
name = "hostile-names"
layout = Layout(name)
hostile = tar_bytes([
    ("../../../../etc/cron.d/evil", f"TOKEN={TOKEN}\n".encode(), "file"),
    ("/abs/secret.env", f"X={TOKEN}\n".encode(), "file"),
    ("loop-a", "loop-b", "symlink"), ("loop-b", "loop-a", "symlink"),
    ("escape", "../../../../etc/passwd", "symlink"),
    ("hard", "missing-target", "hardlink"),
    ("app/.wh.never-existed", b"", "file"),
    (b"bad-\xff\xfe-name.env".decode("utf-8", "surrogateescape"), f"Y={TOKEN}\n".encode(), "file"),
])
layout.image([(gz(hostile), hostile)])
case(name, "scan", findings=[
    {"ruleId": "github-pat", "path": "/etc/cron.d/evil"},
    {"ruleId": "github-pat", "path": "/abs/secret.env"},
    {"ruleId": "github-pat", "pathPrefix": "/bad-"},
], note="`..` and absolute names are normalised lexically, links never followed, non-UTF-8 names survive")

# --- lying manifests and configs ---------------------------------------------------------
name = "manifest-digest-mismatch"
layout = Layout(name)
def lie_about_manifest(index, m):
    m["digest"] = "sha256:" + "0" * 64
layout.image([(gz(leaky), leaky)], index_extra=lie_about_manifest)
case(name, "error", mentions="sha256:0000", note="index.json names a manifest that is not there")

name = "layer-digest-mismatch"
layout = Layout(name)
def lie_about_layer(manifest):
    manifest["layers"][0]["digest"] = "sha256:" + sha(b"something else")
layout.image([(gz(leaky), leaky)], manifest_override=lie_about_layer)
case(name, "error", mentions="layer", note="the manifest names a layer digest whose blob is missing")

name = "layer-size-lie"
layout = Layout(name)
def lie_about_size(manifest):
    manifest["layers"][0]["size"] += 100
layout.image([(gz(leaky), leaky)], manifest_override=lie_about_size)
case(name, "error", mentions="layer", note="the manifest claims 100 bytes more than the blob has")

name = "config-not-json"
layout = Layout(name)
layout.image([(gz(leaky), leaky)], raw_config=b"{not json")
case(name, "error", mentions="config", note="config blob is not JSON")

name = "config-missing-rootfs"
layout = Layout(name)
layout.image([(gz(leaky), leaky)], raw_config=b'{"architecture":"amd64","os":"linux"}')
case(name, "error", mentions="rootfs", note="config lacks rootfs")

name = "history-short"
layout = Layout(name)
layout.image([(gz(leaky), leaky), (gz(tar_bytes([("b", b"b", "file")])), tar_bytes([("b", b"b", "file")]))],
             history=[{"created_by": "/bin/sh -c #(nop) COPY file:x in /app/.env "}])
case(name, "scan", findings=[{"ruleId": "github-pat", "path": "/app/.env"}], note="one history entry for two layers")

name = "history-long"
layout = Layout(name)
layout.image([(gz(leaky), leaky)], history=[{"created_by": f"/bin/sh -c echo {i}"} for i in range(5)])
case(name, "scan", findings=[{"ruleId": "github-pat", "path": "/app/.env"}], note="five non-empty history entries for one layer")

name = "history-non-utf8"
layout = Layout(name)
raw = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["A=\udcff"]},
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(leaky)]},
                  "history": [{"created_by": "/bin/sh -c echo \udcff\ud800"}]}, ensure_ascii=True).encode()
layout.image([(gz(leaky), leaky)], raw_config=raw)
case(name, "scan", findings=[{"ruleId": "github-pat", "path": "/app/.env"}], note="lone surrogates in history and Env")

name = "index-too-deep"
layout = Layout(name)
m = layout.image([(gz(leaky), leaky)])
child = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{k: v for k, v in m.items() if k != "annotations"}]}
for _ in range(6):
    d = layout.blob(json.dumps(child, sort_keys=True).encode())
    d["mediaType"] = "application/vnd.oci.image.index.v1+json"
    child = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [d]}
with open(os.path.join(layout.root, "index.json"), "w") as f:
    json.dump(child, f, sort_keys=True)
case(name, "error", mentions="nest", note="indexes nested seven deep")

name = "empty-image"
layout = Layout(name)
layout.image([], config={"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/bin"]}}, history=[])
case(name, "scan", findings=[], note="no layers at all")

name = "empty-index"
layout = Layout(name)
with open(os.path.join(layout.root, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": []}, f)
case(name, "error", mentions="no image", note="index.json lists nothing")

# --- bombs and limits: bounded scans that say what they skipped ---------------------------
class Zeros(io.RawIOBase):
    """`size` zero bytes, streamed (the bomb is never held in memory)."""
    def __init__(self, size):
        self.left = size
    def readable(self):
        return True
    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n

def streamed_tar_gz(path, members):
    """members: (name, size, fileobj) — written straight into a gzip'd tar file."""
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as compressed:
            with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for member_name, size, fileobj in members:
                    info = tarfile.TarInfo(member_name)
                    info.size = size
                    info.mtime = 0
                    tar.addfile(info, fileobj)

name = "bomb-gzip"
layout = Layout(name)
secret_file = f"API_TOKEN={TOKEN}\n".encode()
bomb_size = 300 << 20
streamed_tar_gz("/tmp/residue-bomb.tar.gz", [("app/.env", len(secret_file), io.BytesIO(secret_file)),
                                             ("var/zeros.img", bomb_size, Zeros(bomb_size))])
stored = open("/tmp/residue-bomb.tar.gz", "rb").read()
os.remove("/tmp/residue-bomb.tar.gz")
# The uncompressed digest, computed as a stream too.
digest = hashlib.sha256()
inflated = gzip.GzipFile(fileobj=io.BytesIO(stored))
while True:
    chunk = inflated.read(1 << 20)
    if not chunk:
        break
    digest.update(chunk)
layout.image([(stored, b"")], diff_ids=["sha256:" + digest.hexdigest()])
case(name, "scan", findings=[{"ruleId": "github-pat", "path": "/app/.env"}], skipped="decompression bomb",
     note="300 MiB of zeros in a 300 KiB layer, after a real secret: the secret is reported, the bomb is cut short")

name = "nested-too-deep"
layout = Layout(name)
inner = tar_bytes([("deepest/.env", f"TOKEN={TOKEN}\n".encode(), "file")])
for level in range(5):
    inner = tar_bytes([(f"level{level}.tar.gz", gz(inner), "file")])
layout.image([(gz(inner), inner)])
case(name, "scan", findings=[], skipped="nested deeper than 3",
     note="tar.gz inside tar.gz six levels down: the default depth stops at 3 and says so")

name = "many-entries"
layout = Layout(name)
import zipfile
zip_buffer = io.BytesIO()
with zipfile.ZipFile(zip_buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    for number in range(3000):
        archive.writestr(zipfile.ZipInfo(f"f{number:05}.txt", date_time=(1980, 1, 1, 0, 0, 0)), b"x")
many = tar_bytes([("app/many.zip", zip_buffer.getvalue(), "file")])
layout.image([(gz(many), many)])
case(name, "scan", findings=[], args=["--max-entries", "1000"], skipped="first 1000 entries",
     note="a zip with 3000 entries read with --max-entries 1000")

name = "big-file"
layout = Layout(name)
big = (b"filler line of text\n" * 160000) + f"TOKEN={TOKEN}\n".encode()
big_tar = tar_bytes([("data/big.log", big, "file")])
layout.image([(gz(big_tar), big_tar)])
case(name, "scan", findings=[], args=["--max-file-size", "1MiB"], skipped="first 1048576 bytes",
     note="a 3 MiB file whose secret sits past --max-file-size 1MiB: not found, and the report says so")

with open(os.path.join(HERE, "cases.json"), "w") as f:
    json.dump({"cases": cases}, f, indent=1, sort_keys=True)
    f.write("\n")
print(f"wrote {len(cases)} cases")
