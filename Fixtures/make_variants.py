#!/usr/bin/env python3
"""Hand-made fixture variants, written from images that buildah built (called by build.sh).

Writes into OUT (the folder that becomes Fixtures/images):
  legacy.docker.tar    `docker save` layout of Docker <= 24, from ref copy-rm
  docker25.docker.tar  `docker save` layout of Docker >= 25 (OCI layout + manifest.json), from build-arg
  env.oci.tar          skopeo's oci-archive of env, re-packed with mtime 0 (skopeo keeps temp mtimes)
  oci refs:
    buildkit           the buildkit source image with its history rewritten in BuildKit's format
    lying-mediatype    layer 0 plain tar labelled tar+gzip, layer 1 gzip labelled plain tar
    nested-index       an index whose only entry is the multi-platform index
and finally sorts OUT/oci/index.json by ref name.

Everything is derived from bytes already built, with fixed mtimes and orders: the output is
the same on every run. Standard library only.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"
EPOCH = "1970-01-01T00:00:00Z"


# ----------------------------------------------------------------------------- helpers
def go_json(obj):
    """json.Marshal as Go writes it: compact, HTML characters escaped, UTF-8 kept."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    s = s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return s.encode()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hexof(digest):
    return digest.split(":", 1)[1]


class Layout:
    """An OCI image layout folder."""

    def __init__(self, path):
        self.path = path
        with open(os.path.join(path, "index.json"), "rb") as f:
            self.index = json.load(f)

    def blob_path(self, digest):
        algo, hx = digest.split(":", 1)
        return os.path.join(self.path, "blobs", algo, hx)

    def read(self, digest):
        with open(self.blob_path(digest), "rb") as f:
            data = f.read()
        if sha256(data) != digest:
            raise SystemExit(f"make_variants: blob {digest} in {self.path} does not match its digest")
        return data

    def read_json(self, digest):
        return json.loads(self.read(digest))

    def write(self, data):
        digest = sha256(data)
        p = self.blob_path(digest)
        if not os.path.exists(p):
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
        return digest

    def ref(self, name):
        for m in self.index["manifests"]:
            if m.get("annotations", {}).get(REF_NAME) == name:
                return m
        raise SystemExit(f"make_variants: no ref {name!r} in {self.path}")

    def has_ref(self, name):
        return any(m.get("annotations", {}).get(REF_NAME) == name for m in self.index["manifests"])

    def set_ref(self, name, descriptor):
        descriptor = dict(descriptor)
        descriptor["annotations"] = {REF_NAME: name}
        self.index["manifests"] = [m for m in self.index["manifests"]
                                   if m.get("annotations", {}).get(REF_NAME) != name]
        self.index["manifests"].append(descriptor)

    def save_index(self):
        self.index["manifests"].sort(key=lambda m: m.get("annotations", {}).get(REF_NAME, ""))
        with open(os.path.join(self.path, "index.json"), "wb") as f:
            f.write(go_json(self.index))

    def image(self, name):
        """(manifest, config bytes, [(layer descriptor, uncompressed tar bytes)]) of a single-platform ref."""
        desc = self.ref(name)
        manifest = self.read_json(desc["digest"])
        config_bytes = self.read(manifest["config"]["digest"])
        config = json.loads(config_bytes)
        layers = []
        for i, ld in enumerate(manifest["layers"]):
            raw = self.read(ld["digest"])
            tar = decompress(raw)
            if sha256(tar) != config["rootfs"]["diff_ids"][i]:
                raise SystemExit(f"make_variants: layer {i} of {name} does not match its diff_id")
            layers.append((ld, tar))
        return manifest, config_bytes, layers


def decompress(raw):
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        raise SystemExit("make_variants: zstd layers are not used as sources")
    return raw


class TarOut:
    """A deterministic tar: entries written in the order given, uid/gid 0, no user names."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tf = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.USTAR_FORMAT)

    def _info(self, name, mtime=0):
        info = tarfile.TarInfo(name)
        info.mtime = mtime
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    def dir(self, name, mode=0o755):
        info = self._info(name.rstrip("/") + "/")
        info.type = tarfile.DIRTYPE
        info.mode = mode
        self.tf.addfile(info)

    def file(self, name, data, mode=0o644):
        info = self._info(name)
        info.size = len(data)
        info.mode = mode
        self.tf.addfile(info, io.BytesIO(data))

    def symlink(self, name, target):
        info = self._info(name)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mode = 0o777
        self.tf.addfile(info)

    def bytes(self):
        self.tf.close()
        return self.buf.getvalue()


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def chain_ids(diff_ids):
    out = []
    for d in diff_ids:
        out.append(d if not out else sha256(f"{out[-1]} {d}".encode()))
    return out


# ------------------------------------------------------------------ docker v1 compatibility
# Field order of moby's container.Config and image.V1Image, as encoding/json writes them.
CONTAINER_CONFIG_FIELDS = [
    ("Hostname", ""), ("Domainname", ""), ("User", ""), ("AttachStdin", False),
    ("AttachStdout", False), ("AttachStderr", False), ("ExposedPorts", "omit"), ("Tty", False),
    ("OpenStdin", False), ("StdinOnce", False), ("Env", None), ("Cmd", None),
    ("Healthcheck", "omit"), ("ArgsEscaped", "omit"), ("Image", ""), ("Volumes", None),
    ("WorkingDir", ""), ("Entrypoint", None), ("NetworkDisabled", "omit"), ("MacAddress", "omit"),
    ("OnBuild", None), ("Labels", None), ("StopSignal", "omit"), ("StopTimeout", "omit"),
    ("Shell", "omit"),
]


def container_config(values):
    out = {}
    for key, zero in CONTAINER_CONFIG_FIELDS:
        if key in values and values[key] not in (None, "", False, {}, []):
            v = values[key]
            out[key] = dict(sorted(v.items())) if isinstance(v, dict) else v
        elif zero != "omit":
            out[key] = zero
    return out


def v1_image(image_config, top, v1_id=None, parent=None, with_os=True):
    """moby image.V1Image as json.Marshal writes it (struct field order)."""
    out = {}
    if v1_id:
        out["id"] = v1_id
    if parent:
        out["parent"] = parent
    if top and image_config.get("comment"):
        out["comment"] = image_config["comment"]
    out["created"] = image_config.get("created", EPOCH) if top else EPOCH
    if top and image_config.get("container"):
        out["container"] = image_config["container"]
    out["container_config"] = container_config(image_config.get("container_config") or {} if top else {})
    if top and image_config.get("docker_version"):
        out["docker_version"] = image_config["docker_version"]
    if top and image_config.get("author"):
        out["author"] = image_config["author"]
    if top and image_config.get("config") is not None:
        out["config"] = container_config(image_config["config"])
    if top and image_config.get("architecture"):
        out["architecture"] = image_config["architecture"]
    if top and image_config.get("variant"):
        out["variant"] = image_config["variant"]
    if (top or with_os) and image_config.get("os"):
        out["os"] = image_config["os"]
    return out


def v1_create_id(v1img_without_id, chain_id, parent_digest):
    """moby image/v1.CreateID: digest of the V1Image JSON (as a sorted map) + layer_id + parent."""
    m = json.loads(go_json(v1img_without_id))
    m["layer_id"] = chain_id
    if parent_digest:
        m["parent"] = parent_digest
    return sha256(go_json(dict(sorted(m.items()))))


def v1_layers(config):
    """[(v1 id hex, json bytes)] per layer, as docker save computes them."""
    out = []
    parent = None
    chains = chain_ids(config["rootfs"]["diff_ids"])
    n = len(chains)
    for i, chain in enumerate(chains):
        top = i == n - 1
        # CreateID sees the V1Image before id, parent and (below the top) os are set
        v1_id = v1_create_id(v1_image(config, top, with_os=False), chain, parent)
        data = go_json(v1_image(config, top, v1_id=hexof(v1_id), parent=hexof(parent) if parent else None))
        out.append((hexof(v1_id), data))
        parent = v1_id
    return out


def legacy_docker_tar(layout, ref, repo, out_path):
    """`docker save` of Docker <= 24: <v1id>/{VERSION,json,layer.tar}, <config>.json, manifest.json,
    repositories. A layer whose diff id was already written becomes a symlink to the first copy."""
    manifest, config_bytes, layers = layout.image(ref)
    config = json.loads(config_bytes)
    v1 = v1_layers(config)
    config_name = hexof(sha256(config_bytes)) + ".json"
    first_path = {}  # diff id -> "<v1id>/layer.tar"
    entries = {}     # name -> ("dir"|"file"|"link", payload)
    for (v1_id, v1_json), (_, tar), diff_id in zip(v1, layers, config["rootfs"]["diff_ids"]):
        entries[v1_id + "/"] = ("dir", None)
        entries[v1_id + "/VERSION"] = ("file", b"1.0")
        entries[v1_id + "/json"] = ("file", v1_json)
        if diff_id in first_path:
            entries[v1_id + "/layer.tar"] = ("link", "../" + first_path[diff_id])
        else:
            entries[v1_id + "/layer.tar"] = ("file", tar)
            first_path[diff_id] = v1_id + "/layer.tar"
    entries[config_name] = ("file", config_bytes)
    tag = "latest"
    items = [{"Config": config_name, "RepoTags": [f"{repo}:{tag}"],
              "Layers": [v1_id + "/layer.tar" for v1_id, _ in v1]}]
    entries["manifest.json"] = ("file", go_json(items) + b"\n")
    entries["repositories"] = ("file", go_json({repo: {tag: v1[-1][0]}}) + b"\n")
    write_tar(entries, out_path)


def docker25_tar(layout, ref, repo, out_path):
    """`docker save` of Docker >= 25: an OCI layout (uncompressed layers stored by diff id,
    the per-layer v1 JSON as extra blobs) plus manifest.json and repositories."""
    manifest, config_bytes, layers = layout.image(ref)
    config = json.loads(config_bytes)
    v1 = v1_layers(config)
    blobs = {}
    layer_descs = []
    sources = {}
    for (v1_id, v1_json), (_, tar), diff_id in zip(v1, layers, config["rootfs"]["diff_ids"]):
        blobs[sha256(v1_json)] = v1_json
        blobs[diff_id] = tar
        layer_descs.append({"mediaType": MT_LAYER_TAR, "digest": diff_id, "size": len(tar)})
        sources[diff_id] = {"mediaType": MT_LAYER_TAR, "size": len(tar), "digest": diff_id}
    config_digest = sha256(config_bytes)
    blobs[config_digest] = config_bytes
    oci_manifest = go_json({"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
                            "config": {"mediaType": MT_OCI_CONFIG, "digest": config_digest,
                                       "size": len(config_bytes)},
                            "layers": layer_descs})
    manifest_digest = sha256(oci_manifest)
    blobs[manifest_digest] = oci_manifest
    tag = "latest"
    index = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
             "manifests": [{"mediaType": MT_OCI_MANIFEST, "digest": manifest_digest,
                            "size": len(oci_manifest),
                            "annotations": {"io.containerd.image.name": f"docker.io/{repo}:{tag}",
                                            REF_NAME: tag}}]}
    items = [{"Config": "blobs/sha256/" + hexof(config_digest), "RepoTags": [f"{repo}:{tag}"],
              "Layers": ["blobs/sha256/" + hexof(d) for d in config["rootfs"]["diff_ids"]],
              "LayerSources": dict(sorted(sources.items()))}]
    entries = {"blobs/": ("dir", None), "blobs/sha256/": ("dir", None)}
    for digest, data in blobs.items():
        entries["blobs/sha256/" + hexof(digest)] = ("file", data)
    entries["index.json"] = ("file", go_json(index))
    entries["manifest.json"] = ("file", go_json(items) + b"\n")
    entries["oci-layout"] = ("file", b'{"imageLayoutVersion": "1.0.0"}')
    entries["repositories"] = ("file", go_json({repo: {tag: hexof(config["rootfs"]["diff_ids"][-1])}}) + b"\n")
    write_tar(entries, out_path)


def write_tar(entries, out_path):
    """Entries in the order a directory walk gives (moby's archive.Tar walks in lexical order)."""
    def walk_key(name):
        return name.rstrip("/").split("/")
    t = TarOut()
    for name in sorted(entries, key=walk_key):
        kind, payload = entries[name]
        if kind == "dir":
            t.dir(name)
        elif kind == "link":
            t.symlink(name, payload)
        else:
            t.file(name, payload)
    write_file(out_path, t.bytes())


def repack_oci_archive(src_path, out_path):
    """skopeo's oci-archive with every mtime set to 0 and no owner names: same members, same order."""
    t = TarOut()
    with tarfile.open(src_path) as tf:
        for m in tf.getmembers():
            if m.isdir():
                t.dir(m.name, m.mode & 0o7777)
            elif m.isfile():
                t.file(m.name, tf.extractfile(m).read(), m.mode & 0o7777)
            else:
                raise SystemExit(f"make_variants: unexpected member {m.name} in {src_path}")
    write_file(out_path, t.bytes())


# ------------------------------------------------------------------------------- BuildKit
def dockerfile_instructions(path):
    """The instructions after the last FROM, joined over line continuations: [(KEYWORD, rest)]."""
    lines, cur = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                cur += line[:-1]
                continue
            lines.append(cur + line)
            cur = ""
    out = []
    for line in lines:
        kw, _, rest = line.strip().partition(" ")
        if kw.upper() == "FROM":
            out = []
            continue
        out.append((kw.upper(), rest.strip()))
    return out


def read_build_args(name):
    path = os.path.join(HERE, "dockerfiles", name, "build-args.env")
    args = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    k, _, v = line.partition("=")
                    args[k] = v
    return args


def buildkit_history(instructions, build_args):
    """History entries as BuildKit's dockerfile frontend writes them (dockerfile2llb:
    commitToHistory appends " # buildkit" to entries that make a layer; runCommandString
    prefixes RUN with "|N K=V ..." for the build args in scope)."""
    entries, args_in_scope = [], []
    for kw, rest in instructions:
        if kw == "ARG":
            parts = []
            for a in rest.split():
                k, eq, v = a.partition("=")
                value = build_args.get(k, v if eq else None)
                args_in_scope.append((k, value or ""))
                parts.append(f"{k}={value}" if value is not None else k)
            entries.append(("ARG " + " ".join(parts), True))
        elif kw == "ENV":
            entries.append(("ENV " + rest, True))
        elif kw == "RUN":
            if rest.startswith("["):
                args = json.loads(rest)
            else:
                args = ["/bin/sh", "-c", rest]
            prefix = []
            if args_in_scope:
                prefix = [f"|{len(args_in_scope)}"] + [f"{k}={v}" for k, v in args_in_scope]
            entries.append(("RUN " + " ".join(prefix + args) + " # buildkit", False))
        elif kw in ("COPY", "ADD"):
            entries.append((f"{kw} {rest} # buildkit", False))
        elif kw in ("WORKDIR",):
            entries.append((f"WORKDIR {rest} # buildkit", False))
        else:  # CMD ENTRYPOINT LABEL EXPOSE USER ...: metadata only
            entries.append((f"{kw} {rest}", True))
    return entries


def make_buildkit(sources, out):
    src = Layout(os.path.join(sources, "buildkit"))
    manifest, config_bytes, layers = src.image("buildkit")
    config = json.loads(config_bytes)
    instructions = dockerfile_instructions(os.path.join(HERE, "dockerfiles", "buildkit", "Dockerfile"))
    new = buildkit_history(instructions, read_build_args("buildkit"))
    history = config["history"]
    n_base = len(history) - len(instructions)
    if n_base < 0:
        raise SystemExit("make_variants: buildkit history is shorter than its Dockerfile")
    # buildah and BuildKit agree on which instructions make a layer here; check it
    for (created_by, empty), old in zip(new, history[n_base:]):
        if bool(old.get("empty_layer")) != empty:
            raise SystemExit(f"make_variants: layer/no-layer mismatch at {created_by!r}")
    config["history"] = history[:n_base] + [
        dict({"created": EPOCH, "created_by": cb, "comment": "buildkit.dockerfile.v0"},
             **({"empty_layer": True} if empty else {}))
        for cb, empty in new]
    labels = config.get("config", {}).get("Labels") or {}
    labels.pop("io.buildah.version", None)  # a BuildKit image has no buildah label
    if not labels:
        config.get("config", {}).pop("Labels", None)
    new_config = go_json(config)
    layout = Layout(os.path.join(out, "oci"))
    for ld, _ in layers:
        layout.write(src.read(ld["digest"]))
    config_digest = layout.write(new_config)
    new_manifest = {"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
                    "config": {"mediaType": MT_OCI_CONFIG, "digest": config_digest, "size": len(new_config)},
                    "layers": manifest["layers"]}
    data = go_json(new_manifest)
    layout.set_ref("buildkit", {"mediaType": MT_OCI_MANIFEST, "digest": layout.write(data), "size": len(data)})
    layout.save_index()


def make_lying_mediatype(sources, out):
    src = Layout(os.path.join(sources, "lying-mediatype"))
    manifest, config_bytes, layers = src.image("lying-mediatype")
    if len(layers) != 2:
        raise SystemExit("make_variants: lying-mediatype source should have 2 layers")
    layout = Layout(os.path.join(out, "oci"))
    (d0, tar0), (d1, _) = layers
    plain = layout.write(tar0)  # plain tar ...
    gz = layout.write(src.read(d1["digest"]))  # gzip ...
    new_layers = [
        {"mediaType": MT_LAYER_GZIP, "digest": plain, "size": len(tar0)},  # ... said to be gzip
        {"mediaType": MT_LAYER_TAR, "digest": gz, "size": d1["size"]},     # ... said to be plain
    ]
    config_digest = layout.write(config_bytes)
    data = go_json({"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
                    "config": {"mediaType": MT_OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
                    "layers": new_layers})
    layout.set_ref("lying-mediatype", {"mediaType": MT_OCI_MANIFEST, "digest": layout.write(data), "size": len(data)})
    layout.save_index()


def make_nested_index(out):
    layout = Layout(os.path.join(out, "oci"))
    inner = layout.ref("multi-platform")
    if inner["mediaType"] != MT_OCI_INDEX:
        raise SystemExit("make_variants: multi-platform is not an OCI index")
    data = go_json({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                    "manifests": [{"mediaType": MT_OCI_INDEX, "digest": inner["digest"], "size": inner["size"]}]})
    layout.set_ref("nested-index", {"mediaType": MT_OCI_INDEX, "digest": layout.write(data), "size": len(data)})
    layout.save_index()


# ----------------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="the images folder being built")
    ap.add_argument("--sources", required=True, help="folder of the source layouts (buildkit, lying-mediatype)")
    ap.add_argument("--skopeo-oci-archive", help="skopeo's oci-archive of env, to re-pack as env.oci.tar")
    ap.add_argument("--only", nargs="*", help="only these variants (names as in build.sh --list)")
    a = ap.parse_args()

    only = set(a.only) if a.only is not None else None

    def want(name):
        return only is None or name in only

    oci = os.path.join(a.out, "oci")
    if want("legacy.docker.tar"):
        legacy_docker_tar(Layout(oci), "copy-rm", "residue/copy-rm", os.path.join(a.out, "legacy.docker.tar"))
    if want("docker25.docker.tar"):
        docker25_tar(Layout(oci), "build-arg", "residue/build-arg", os.path.join(a.out, "docker25.docker.tar"))
    if want("env.oci.tar"):
        if not a.skopeo_oci_archive:
            raise SystemExit("make_variants: env.oci.tar needs --skopeo-oci-archive")
        repack_oci_archive(a.skopeo_oci_archive, os.path.join(a.out, "env.oci.tar"))
    if not os.path.exists(os.path.join(oci, "index.json")):
        os.makedirs(os.path.join(oci, "blobs", "sha256"), exist_ok=True)
        write_file(os.path.join(oci, "oci-layout"), b'{"imageLayoutVersion": "1.0.0"}')
        write_file(os.path.join(oci, "index.json"), go_json({"schemaVersion": 2, "manifests": []}))
    if want("buildkit"):
        make_buildkit(a.sources, a.out)
    if want("lying-mediatype"):
        make_lying_mediatype(a.sources, a.out)
    if want("nested-index"):
        make_nested_index(a.out)
    Layout(oci).save_index()

if __name__ == "__main__":
    main()
