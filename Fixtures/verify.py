#!/usr/bin/env python3
"""Check the fixture images against Fixtures/expected.json (called by build.sh).

    python3 Fixtures/verify.py [--images Fixtures/images] [--expected Fixtures/expected.json]
    python3 Fixtures/verify.py --blobs-only --images DIR     digests and sizes only
    python3 Fixtures/verify.py --markdown                    the README tables, from expected.json

For every fixture it opens the reference the way a scanner would (OCI layout, oci-archive,
docker-archive, legacy docker save), verifies every blob against its digest and every layer
against its diff id, and then checks each planted secret: the file is in that layer, at that
line, with that status (computed from the whiteouts and rewrites of the later layers); the
history entry, config value and instruction are the ones named. Then it searches every
planted value everywhere in the image (config, history, every file of every layer, inside
zip/jar/tar/tar.gz members) and fails if it sits anywhere that expected.json does not name,
and checks that the clean fixtures hold none of the values of any fixture. Standard library
only (zstd layers go through the zstd command).
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import posixpath
import re
import subprocess
import sys
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MT_INDEXES = ("application/vnd.oci.image.index.v1+json",
              "application/vnd.docker.distribution.manifest.list.v2+json")
REF_NAME = "org.opencontainers.image.ref.name"


class Fail(Exception):
    pass


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compression(data):
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return "tar"


def decompress(data):
    kind = compression(data)
    if kind == "gzip":
        return gzip.decompress(data)
    if kind == "zstd":
        return subprocess.run(["zstd", "-dcq"], input=data, check=True, capture_output=True).stdout
    return data


# --------------------------------------------------------------------------- image model
class Image:
    def __init__(self, platform, config_bytes, layers, manifest=None):
        self.platform = platform          # "linux/amd64"
        self.config_bytes = config_bytes
        self.config = json.loads(config_bytes)
        self.layers = layers              # [(declared media type or None, blob bytes)]
        self.manifest = manifest
        self.tars = []
        diff_ids = self.config["rootfs"]["diff_ids"]
        if len(diff_ids) != len(layers):
            raise Fail(f"{platform}: {len(layers)} layers but {len(diff_ids)} diff_ids")
        for i, (_, blob) in enumerate(layers):
            tar = decompress(blob)
            if sha256(tar) != diff_ids[i]:
                raise Fail(f"{platform}: layer {i} does not match diff_id {diff_ids[i]}")
            self.tars.append(tar)
        self._files = None

    def layer_files(self):
        """[[(path, TarInfo, bytes or None)]] per layer, paths absolute and normalised."""
        if self._files is None:
            self._files = []
            for tar in self.tars:
                entries = []
                with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
                    for m in tf.getmembers():
                        p = "/" + posixpath.normpath(m.name.lstrip("./") or ".").lstrip("/")
                        data = tf.extractfile(m).read() if m.isfile() else None
                        entries.append((p, m, data))
                self._files.append(entries)
        return self._files

    def all_files(self):
        """[(layer, path, nestedPath, bytes)] for every file and every archive member, cached."""
        if getattr(self, "_all", None) is None:
            self._all = [(li, path, nested, blob)
                         for li, entries in enumerate(self.layer_files())
                         for path, _, data in entries if data is not None
                         for nested, blob in walk_file(data)]
        return self._all

    def final_view(self):
        """path -> index of the layer that provides it in the final filesystem."""
        view = {}
        for i, entries in enumerate(self.layer_files()):
            opaque = [posixpath.dirname(p) for p, _, _ in entries if posixpath.basename(p) == ".wh..wh..opq"]
            for d in opaque:
                for p in [p for p in view if p.startswith(d.rstrip("/") + "/") and view[p] < i]:
                    del view[p]
            for p, m, _ in entries:
                base = posixpath.basename(p)
                if base == ".wh..wh..opq":
                    continue
                if base.startswith(".wh."):
                    gone = posixpath.join(posixpath.dirname(p), base[4:])
                    for q in [q for q in view if q == gone or q.startswith(gone + "/")]:
                        del view[q]
                    continue
                view[p] = i
        return view

    def status(self, path, layer):
        view = self.final_view()
        if view.get(path) == layer:
            return "present"
        if path in view:
            return "overwritten"
        return "deleted"

    def history_layer(self, h):
        """layer index made by history entry h, or None for an empty_layer entry."""
        hist = self.config.get("history", [])
        if hist[h].get("empty_layer"):
            return None
        return sum(1 for e in hist[:h] if not e.get("empty_layer"))

    def layer_history(self, layer):
        n = -1
        for h, e in enumerate(self.config.get("history", [])):
            if not e.get("empty_layer"):
                n += 1
                if n == layer:
                    return h
        return None


def platform_of(desc, config):
    p = desc.get("platform") if desc else None
    if not p:
        p = {"os": config.get("os"), "architecture": config.get("architecture"), "variant": config.get("variant")}
    s = f"{p.get('os')}/{p.get('architecture')}"
    return s + (f"/{p['variant']}" if p.get("variant") else "")


class BlobStore:
    """Blobs by digest from an OCI layout (folder or tar members), each checked when read."""

    def __init__(self, reader):
        self.reader = reader  # digest -> bytes or None

    def get(self, desc):
        data = self.reader(desc["digest"])
        if data is None:
            raise Fail(f"missing blob {desc['digest']}")
        if sha256(data) != desc["digest"]:
            raise Fail(f"blob {desc['digest']} does not match its digest")
        if "size" in desc and desc["size"] != len(data):
            raise Fail(f"blob {desc['digest']} is {len(data)} bytes, descriptor says {desc['size']}")
        return data


def images_from_descriptor(store, desc, depth=0):
    if depth > 4:
        raise Fail("index nesting deeper than 4")
    data = store.get(desc)
    doc = json.loads(data)
    mt = doc.get("mediaType") or desc.get("mediaType")
    if mt in MT_INDEXES or "manifests" in doc:
        out = []
        for d in doc["manifests"]:
            out.extend(images_from_descriptor(store, d, depth + 1))
        return out
    config_bytes = store.get(doc["config"])
    layers = [(ld.get("mediaType"), store.get(ld)) for ld in doc["layers"]]
    return [Image(platform_of(desc, json.loads(config_bytes)), config_bytes, layers, doc)]


def open_oci_layout(path, ref):
    def reader(digest):
        p = os.path.join(path, "blobs", *digest.split(":", 1))
        if not os.path.exists(p):
            return None
        with open(p, "rb") as f:
            return f.read()
    with open(os.path.join(path, "index.json")) as f:
        index = json.load(f)
    return images_from_layout_index(BlobStore(reader), index, ref)


def images_from_layout_index(store, index, ref):
    descs = index["manifests"]
    if ref is not None:
        descs = [d for d in descs if d.get("annotations", {}).get(REF_NAME) == ref]
        if not descs:
            raise Fail(f"no ref {ref}")
    out = []
    for d in descs:
        out.extend(images_from_descriptor(store, d))
    return out


def tar_members(path):
    files, links = {}, {}
    with tarfile.open(path) as tf:
        for m in tf.getmembers():
            name = posixpath.normpath(m.name)
            if m.isfile():
                files[name] = tf.extractfile(m).read()
            elif m.issym():
                links[name] = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
    return files, links


def open_oci_archive(path):
    files, _ = tar_members(path)
    store = BlobStore(lambda d: files.get("blobs/" + d.replace(":", "/")))
    return images_from_layout_index(store, json.loads(files["index.json"]), None)


def open_docker_archive(path):
    files, links = tar_members(path)

    def member(name):
        name = posixpath.normpath(name)
        for _ in range(8):
            if name in files:
                return files[name]
            if name not in links:
                break
            name = links[name]
        raise Fail(f"{path}: no member {name}")
    out = []
    for item in json.loads(files["manifest.json"]):
        config_bytes = member(item["Config"])
        layers = [(None, member(l)) for l in item["Layers"]]
        out.append(Image(platform_of(None, json.loads(config_bytes)), config_bytes, layers))
    return out, files, links


def open_reference(reference):
    transport, _, rest = reference.partition(":")
    if transport == "oci":
        path, _, ref = rest.partition(":")
        return open_oci_layout(os.path.join(ROOT, path) if not os.path.isabs(path) else path, ref or None)
    if transport == "oci-archive":
        return open_oci_archive(os.path.join(ROOT, rest))
    if transport == "docker-archive":
        return open_docker_archive(os.path.join(ROOT, rest))[0]
    raise Fail(f"unknown transport in {reference}")


# ----------------------------------------------------------------------- nested archives
def archive_members(data):
    """[(name, bytes)] if data is a zip, tar or tar.gz; else None."""
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [(i.filename, zf.read(i)) for i in zf.infolist() if not i.is_dir()]
    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    if len(raw) > 262 and raw[257:262] == b"ustar":
        with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
            return [(m.name, tf.extractfile(m).read()) for m in tf.getmembers() if m.isfile()]
    return None


def walk_file(data, nested=()):
    """Yield (nestedPath tuple, bytes) for the file and, recursively, its archive members."""
    yield nested, data
    members = archive_members(data)
    if members:
        for name, inner in members:
            yield from walk_file(inner, nested + (name,))


def occurrences(image, secret):
    """Every place of the image that holds secret: a set of location tuples."""
    s = secret.encode()
    found = set()
    cfg = image.config
    c = cfg.get("config") or {}
    accounted = 0
    for i, h in enumerate(cfg.get("history", [])):
        n = h.get("created_by", "").count(secret)
        if n:
            found.add(("history", i))
            accounted += n
    for e in c.get("Env") or []:
        k, _, v = e.partition("=")
        if secret in v:
            found.add(("config-env", k))
            accounted += v.count(secret)
    for k, v in (c.get("Labels") or {}).items():
        if secret in v:
            found.add(("config-label", k))
            accounted += v.count(secret)
    for key, kind in (("Cmd", "config-cmd"), ("Entrypoint", "config-entrypoint")):
        for a in c.get(key) or []:
            if secret in a:
                found.add((kind, key))
                accounted += a.count(secret)
    raw = json.dumps(cfg, ensure_ascii=False).count(secret)
    if raw != accounted:
        found.add(("config-other", raw - accounted))
    for li, path, nested, blob in image.all_files():
        if s in blob:
            found.add(("layer-file", li, path, nested))
    return found


def planted_locations(p):
    locs = set()
    kind = p["kind"]
    if kind == "layer-file":
        locs.add(("layer-file", p["layerIndex"], p["path"], tuple(p.get("nestedPath", []))))
    elif kind == "history":
        locs.add(("history", p["historyIndex"]))
    else:
        locs.add((kind, p["key"]))
    for a in p.get("alsoIn", []):
        locs.add(("history", a["historyIndex"]))
    return locs


def normalize_instruction(created_by):
    """created_by -> 'KEYWORD rest' without the builder's decorations."""
    s = created_by.strip()
    if s.endswith("# buildkit"):
        s = s[: -len("# buildkit")].rstrip()
    if s.startswith("/bin/sh -c #(nop) "):
        return s[len("/bin/sh -c #(nop) "):].strip()
    run = False
    if s.startswith("RUN "):
        s, run = s[4:], True
    m = re.match(r"^\|(\d+) ", s)
    if m:
        tokens = s.split(" ")
        s = " ".join(tokens[int(m.group(1)) + 1:])
        run = True
    if s.startswith("/bin/sh -c "):
        return "RUN " + s[len("/bin/sh -c "):]
    if run:
        return "RUN " + s
    return s


def line_of(data, secret):
    i = data.find(secret.encode())
    return data[:i].count(b"\n") + 1


# ------------------------------------------------------------------------------ checks
def check_planted(fx, images, p):
    plat = p.get("platform")
    cands = [im for im in images if plat is None or im.platform == plat]
    if not cands:
        raise Fail(f"no image for platform {plat}")
    for im in cands:
        hist = im.config.get("history", [])
        h = p.get("historyIndex")
        if h is not None:
            if h >= len(hist):
                raise Fail(f"{p['ruleId']}: history has no entry {h}")
            cb = hist[h].get("created_by", "")
            if "createdByPrefix" in p and not cb.startswith(p["createdByPrefix"]):
                raise Fail(f"{p['ruleId']}: history[{h}] is {cb[:80]!r}, not {p['createdByPrefix'][:60]!r}...")
            norm = normalize_instruction(cb)
            if not norm.startswith(p["instructionPrefix"]):
                raise Fail(f"{p['ruleId']}: instruction {norm[:80]!r} does not start with {p['instructionPrefix']!r}")
            if not norm.startswith(p["instruction"] + " "):
                raise Fail(f"{p['ruleId']}: instruction {norm[:40]!r} is not {p['instruction']}")
            if im.history_layer(h) != p.get("layerIndex"):
                raise Fail(f"{p['ruleId']}: history[{h}] makes layer {im.history_layer(h)}, not {p.get('layerIndex')}")
        kind = p["kind"]
        c = im.config.get("config") or {}
        if kind == "layer-file":
            li = p["layerIndex"]
            entries = {path: data for path, _, data in im.layer_files()[li]}
            if p["path"] not in entries or entries[p["path"]] is None:
                raise Fail(f"{p['ruleId']}: layer {li} has no file {p['path']}")
            data = entries[p["path"]]
            for name in p.get("nestedPath", []):
                members = dict(archive_members(data) or [])
                if name not in members:
                    raise Fail(f"{p['ruleId']}: {name} not in the archive")
                data = members[name]
            if p["secret"].encode() not in data:
                raise Fail(f"{p['ruleId']}: secret not in {p['path']} {p.get('nestedPath', '')}")
            if line_of(data, p["secret"]) != p["line"]:
                raise Fail(f"{p['ruleId']}: secret is on line {line_of(data, p['secret'])}, not {p['line']}")
            st = im.status(p["path"], li)
            if st != p["status"]:
                raise Fail(f"{p['ruleId']}: {p['path']} in layer {li} is {st}, not {p['status']}")
            if im.layer_history(li) != p["historyIndex"]:
                raise Fail(f"{p['ruleId']}: layer {li} comes from history {im.layer_history(li)}")
            by = p.get("deletedBy") or p.get("overwrittenBy")
            if by:
                later = {path for path, _, _ in im.layer_files()[by["layerIndex"]]}
                target = by.get("whiteout", p["path"])
                if target not in later:
                    raise Fail(f"{p['ruleId']}: layer {by['layerIndex']} has no {target}")
                if im.layer_history(by["layerIndex"]) != by["historyIndex"]:
                    raise Fail(f"{p['ruleId']}: layer {by['layerIndex']} is not history {by['historyIndex']}")
            if "layerBlob" in p:
                mt, blob = im.layers[li]
                if mt != p["layerBlob"]["mediaTypeSays"] or compression(blob) != p["layerBlob"]["actually"]:
                    raise Fail(f"{p['ruleId']}: layer {li} is {compression(blob)} labelled {mt}")
        elif kind == "config-env":
            env = dict(e.partition("=")[::2] for e in c.get("Env") or [])
            if env.get(p["key"]) != p["secret"]:
                raise Fail(f"{p['ruleId']}: Env {p['key']} is {env.get(p['key'])!r}")
        elif kind == "config-label":
            if p["secret"] not in (c.get("Labels") or {}).get(p["key"], ""):
                raise Fail(f"{p['ruleId']}: label {p['key']} does not hold the secret")
        elif kind == "config-cmd":
            cmd = c.get("Cmd") or []
            if cmd[p["argIndex"]] != p["secret"]:
                raise Fail(f"{p['ruleId']}: Cmd[{p['argIndex']}] is not the secret")
        elif kind == "history":
            pass
        else:
            raise Fail(f"unknown kind {kind}")
        for a in p.get("alsoIn", []):
            if p["secret"] not in hist[a["historyIndex"]].get("created_by", ""):
                raise Fail(f"{p['ruleId']}: history[{a['historyIndex']}] does not hold the secret")
        if p.get("decoded") is not None:
            import base64
            if base64.b64decode(p["secret"]).decode() != p["decoded"]:
                raise Fail(f"{p['ruleId']}: decoded value differs")
        # the sweep: the value is where expected.json says, and nowhere else
        got = occurrences(im, p["secret"])
        want = planted_locations(p)
        if got != want:
            raise Fail(f"{p['ruleId']} ({im.platform}): found at {sorted(map(str, got))}, expected {sorted(map(str, want))}")
    for im in images:
        if plat is not None and im.platform != plat and occurrences(im, p["secret"]):
            raise Fail(f"{p['ruleId']}: also found in {im.platform}")


def check_fixture(fx, all_secrets):
    images = open_reference(fx["reference"])
    plats = sorted(im.platform for im in images)
    if fx.get("platforms") and plats != sorted(fx["platforms"]):
        raise Fail(f"platforms {plats}, expected {fx['platforms']}")
    for im in images:
        if "layerCount" in fx and len(im.layers) != fx["layerCount"]:
            raise Fail(f"{im.platform}: {len(im.layers)} layers, expected {fx['layerCount']}")
        if fx.get("layerCompression"):
            kinds = {compression(b) for _, b in im.layers}
            if kinds != {fx["layerCompression"]}:
                raise Fail(f"layer compression {kinds}")
        if fx.get("historyFormat") == "buildkit":
            bk = [h for h in im.config["history"] if h.get("comment") == "buildkit.dockerfile.v0"]
            if not bk:
                raise Fail("no BuildKit history entries")
    for p in fx["planted"]:
        check_planted(fx, images, p)
    own = {p["secret"] for p in fx["planted"]}
    for im in images:
        for name, secret in all_secrets:
            if secret in own:
                continue
            if occurrences(im, secret):
                raise Fail(f"{im.platform}: holds a secret planted in {name}")
        if fx["clean"]:
            for secret in fx.get("absentSecrets", []):
                blobs = [im.config_bytes] + [b for _, b in im.layers] + im.tars
                if any(secret.encode() in b for b in blobs) or occurrences(im, secret):
                    raise Fail(f"{im.platform}: the clean image holds {secret[:8]}...")
        for b in fx.get("benign", []):
            if b["kind"] == "layer-file" and b["path"] not in im.final_view():
                raise Fail(f"benign file {b['path']} is not in the image")
            if b["kind"] == "config-env" and not any(e.startswith(b["key"] + "=") for e in im.config["config"].get("Env", [])):
                raise Fail(f"benign Env {b['key']} is not in the config")
    check_format(fx)
    return images


def check_format(fx):
    fmt = fx.get("archiveFormat")
    if not fmt:
        if fx["name"] == "nested-index":
            path, _, ref = fx["reference"][4:].partition(":")
            index = json.load(open(os.path.join(ROOT, path, "index.json")))
            d = [m for m in index["manifests"] if m["annotations"][REF_NAME] == ref][0]
            outer = json.load(open(os.path.join(ROOT, path, "blobs", *d["digest"].split(":"))))
            if d["mediaType"] != MT_INDEXES[0] or outer["manifests"][0]["mediaType"] != MT_INDEXES[0]:
                raise Fail("nested-index is not an index of an index")
        return
    path = os.path.join(ROOT, fx["reference"].partition(":")[2])
    if fmt == "docker-save-legacy":
        images, files, links = open_docker_archive(path)
        item = json.loads(files["manifest.json"])[0]
        if not all(re.fullmatch(r"[0-9a-f]{64}/layer\.tar", l) for l in item["Layers"]):
            raise Fail("legacy Layers are not <id>/layer.tar")
        if not any(n.endswith("/layer.tar") for n in links):
            raise Fail("legacy archive has no layer.tar symlink")
        top = item["Layers"][-1].split("/")[0]
        gh = [p for p in fx["planted"] if p["kind"] == "config-env"][0]["secret"]
        if gh.encode() not in files[top + "/json"]:
            raise Fail("the top <id>/json does not repeat the config Env")
        for n in ("repositories", top + "/VERSION"):
            if n not in files:
                raise Fail(f"legacy archive has no {n}")
    elif fmt == "docker-save-oci":
        images, files, links = open_docker_archive(path)
        if "oci-layout" not in files or "index.json" not in files:
            raise Fail("docker 25 archive has no OCI layout")
        if not all(l.startswith("blobs/sha256/") for l in json.loads(files["manifest.json"])[0]["Layers"]):
            raise Fail("docker 25 Layers are not blobs/sha256/<hex>")
        open_oci_archive(path)  # the OCI side reads too


def check_blobs(images_dir):
    """Every blob of the shared layout matches its name; every archive opens."""
    oci = os.path.join(images_dir, "oci")
    n = 0
    for name in sorted(os.listdir(os.path.join(oci, "blobs", "sha256"))):
        with open(os.path.join(oci, "blobs", "sha256", name), "rb") as f:
            if sha256(f.read()) != "sha256:" + name:
                raise Fail(f"blob {name} does not match its name")
        n += 1
    index = json.load(open(os.path.join(oci, "index.json")))
    for d in index["manifests"]:
        open_oci_layout(oci, d["annotations"][REF_NAME])
    return n


# ---------------------------------------------------------------------------- markdown
def markdown(doc):
    out = ["Rule coverage (rule: fixtures that plant it):\n\n"]
    cover = {}
    for fx in doc["fixtures"]:
        if fx.get("sourceFixture") or fx["name"] == "nested-index":
            continue
        for p in fx["planted"]:
            cover.setdefault(p["ruleId"], [])
            if fx["name"] not in cover[p["ruleId"]]:
                cover[p["ruleId"]].append(fx["name"])
    for rule in sorted(cover):
        out.append(f"- `{rule}`: " + ", ".join(f"`{n}`" for n in cover[rule]) + "\n")
    out.append("\n")
    for fx in doc["fixtures"]:
        out.append(f"### `{fx['name']}`\n")
        out.append(f"`{fx['reference']}` — {fx['leakPath']}.")
        if fx.get("dockerfile"):
            out.append(f" Dockerfile: [`{fx['dockerfile'][9:]}`]({fx['dockerfile'][9:]}).")
        if fx.get("layerCount") is not None:
            out.append(f" {fx['layerCount']} layer" + ("s" if fx["layerCount"] != 1 else "") + (f" per platform ({', '.join(fx['platforms'])})" if fx.get("platforms") else "") + ".")
        out.append("\n")
        if fx["clean"]:
            out.append("\n**Clean**: a scan must report nothing.")
            if fx.get("absentSecrets"):
                out.append(" The token used during the build must appear nowhere in the image.")
            out.append("\n\n")
        else:
            out.append("\n| rule | where | path / key | status | layer | history | Dockerfile instruction |\n")
            out.append("|---|---|---|---|---|---|---|\n")
            for p in fx["planted"]:
                where = p["kind"]
                if p["kind"] == "layer-file":
                    loc = f"`{p['path']}`" + "".join(f" → `{n}`" for n in p.get("nestedPath", [])) + f" line {p['line']}"
                    status = p["status"]
                elif p["kind"] == "history":
                    loc = f"build arg `{p['buildArg']}`" if p.get("buildArg") else ""
                    status = "—"
                else:
                    loc = f"`{p['key']}`" + (f"[{p['argIndex']}]" if "argIndex" in p else "")
                    status = "—"
                    where += " + history"
                if p.get("platform"):
                    where += f" ({p['platform']})"
                hist = str(p["historyIndex"])
                extra = [a["historyIndex"] for a in p.get("alsoIn", []) if a["historyIndex"] != p["historyIndex"]]
                if extra:
                    hist += " (also " + ", ".join(map(str, extra)) + ")"
                rule = f"`{p['ruleId']}`" + "".join(f" / `{r}`" for r in p.get("alsoAcceptedRuleIds", []))
                layer = "—" if p.get("layerIndex") is None else str(p["layerIndex"])
                instr = p["dockerfileInstruction"]
                instr = instr.replace(p["secret"], p["secret"][:12] + "…")
                instr = instr.replace("|", "\\|")
                if len(instr) > 60:
                    instr = instr[:57] + "…"
                out.append(f"| {rule} | {where} | {loc} | {status} | {layer} | {hist} | `{instr}` |\n")
            out.append("\n")
        if fx.get("benign"):
            out.append("Must not be reported: " + "; ".join(
                (f"`{b['path']}`" if "path" in b else f"{b['kind']} `{b['key']}`") + f" ({b['why']})"
                for b in fx["benign"]) + ".\n\n")
        for t in fx.get("traps", []):
            out.append(f"Trap: {t['what']} — expect: {t['expect']}.\n\n")
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", default=os.path.join(HERE, "images"))
    ap.add_argument("--expected", default=os.path.join(HERE, "expected.json"))
    ap.add_argument("--blobs-only", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="print the README tables")
    ap.add_argument("--update-readme", action="store_true",
                    help="rewrite the tables of Fixtures/README.md between its markers")
    a = ap.parse_args()
    with open(a.expected) as f:
        doc = json.load(f)
    if a.markdown:
        sys.stdout.write(markdown(doc))
        return 0
    if a.update_readme:
        path = os.path.join(HERE, "README.md")
        with open(path) as f:
            readme = f.read()
        begin, end = "<!-- tables:begin -->\n", "<!-- tables:end -->"
        i, j = readme.index(begin) + len(begin), readme.index(end)
        with open(path, "w") as f:
            f.write(readme[:i] + "\n" + markdown(doc) + readme[j:])
        return 0
    images_dir = os.path.abspath(a.images)
    try:
        n = check_blobs(images_dir)
    except Fail as e:
        print(f"verify: FAIL blobs: {e}", file=sys.stderr)
        return 1
    if a.blobs_only:
        print(f"verify: {n} blobs ok")
        return 0
    # references in expected.json are relative to the repository root and name Fixtures/images:
    # point them at the folder being checked
    prefix = "Fixtures/images"
    all_secrets = [(fx["name"], p["secret"]) for fx in doc["fixtures"] for p in fx["planted"]]
    all_secrets += [(fx["name"], s) for fx in doc["fixtures"] for s in fx.get("absentSecrets", [])]
    failed = 0
    for fx in doc["fixtures"]:
        fx = json.loads(json.dumps(fx).replace(prefix, images_dir))
        try:
            check_fixture(fx, all_secrets)
            print(f"verify: ok   {fx['name']} ({len(fx['planted'])} planted)")
        except Fail as e:
            failed += 1
            print(f"verify: FAIL {fx['name']}: {e}", file=sys.stderr)
    print(f"verify: {len(doc['fixtures']) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
