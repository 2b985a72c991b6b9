#!/usr/bin/env python3
"""Write Fixtures/expected.json: what each fixture image holds and where.

The facts below (layer and history indexes, paths, statuses) were read off the built images
with tar/skopeo/jq and are checked against them by verify.py on every build.sh run; the
secret values are read from the build contexts here, so they are never typed twice.

    python3 Fixtures/tools/make_expected.py > Fixtures/expected.json
"""
import base64
import json
import os
import re

FIX = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DF = os.path.join(FIX, "dockerfiles")
IMAGES = "Fixtures/images"


def text(*parts):
    with open(os.path.join(DF, *parts)) as f:
        return f.read()


def value(path, key, sep="="):
    """The value of KEY in a KEY=VALUE / key = value / key: value file."""
    for line in text(*path.split("/")).splitlines():
        k, s, v = line.partition(sep)
        if s and k.strip() == key:
            return v.strip().strip('"')
    raise SystemExit(f"no {key} in {path}")


def find(path, pattern, group=1):
    m = re.search(pattern, text(*path.split("/")), re.M)
    if not m:
        raise SystemExit(f"{pattern!r} not in {path}")
    return m.group(group)


def dline(name, start):
    """The Dockerfile line of fixture NAME that starts with START."""
    for line in text(name, "Dockerfile").splitlines():
        if line.startswith(start):
            return line
    raise SystemExit(f"no line starting {start!r} in {name}/Dockerfile")


def dockerfile_value(name, pattern):
    return find(f"{name}/Dockerfile", pattern)


# ------------------------------------------------------------------------ planted secrets
def layer_file(rule, path, layer, status, history, line, secret, instruction, prefix, **extra):
    d = {"ruleId": rule, "kind": "layer-file", "path": path, "status": status, "layerIndex": layer,
         "historyIndex": history, "line": line, "instruction": instruction,
         "instructionPrefix": prefix, "secret": secret}
    d.update(extra)
    return d


def in_history(rule, history, layer, secret, instruction, prefix, created_by, also=(), **extra):
    d = {"ruleId": rule, "kind": "history", "historyIndex": history, "layerIndex": layer,
         "instruction": instruction, "instructionPrefix": prefix, "createdByPrefix": created_by,
         "secret": secret}
    if also:
        d["alsoIn"] = [{"kind": "history", "historyIndex": h} for h in also]
    d.update(extra)
    return d


def in_config(rule, kind, key, history, secret, instruction, prefix, created_by, **extra):
    d = {"ruleId": rule, "kind": kind, "key": key, "historyIndex": history, "layerIndex": None,
         "instruction": instruction, "instructionPrefix": prefix, "createdByPrefix": created_by,
         "secret": secret,
         "alsoIn": [{"kind": "history", "historyIndex": history}]}
    d.update(extra)
    return d


def build_arg_planted():
    gh = value("build-arg/build-args.env", "GITHUB_TOKEN")
    npm = value("build-arg/build-args.env", "NPM_TOKEN")
    cb = "|2 GITHUB_TOKEN=" + gh + " NPM_TOKEN=" + npm + " /bin/sh -c "
    return [
        in_history("github-pat", 4, 2, gh, "RUN", "RUN mkdir -p /app", cb, also=(5, 6),
                   buildArg="GITHUB_TOKEN", dockerfileInstruction=dline("build-arg", "ARG GITHUB_TOKEN")),
        in_history("npm-token", 4, 2, npm, "RUN", "RUN mkdir -p /app", cb, also=(5, 6),
                   buildArg="NPM_TOKEN", dockerfileInstruction=dline("build-arg", "ARG NPM_TOKEN")),
    ]


def env_planted():
    db = dockerfile_value("env", r"^ENV DB_PASSWORD=(\S+)")
    stripe = dockerfile_value("env", r"^ENV STRIPE_API_KEY=(\S+)")
    return [
        in_config("secret-named-variable", "config-env", "DB_PASSWORD", 3, db, "ENV",
                  "ENV DB_PASSWORD=", "/bin/sh -c #(nop) ENV DB_PASSWORD=",
                  dockerfileInstruction=dline("env", "ENV DB_PASSWORD=")),
        in_config("stripe-secret-key", "config-env", "STRIPE_API_KEY", 4, stripe, "ENV",
                  "ENV STRIPE_API_KEY=", "/bin/sh -c #(nop) ENV STRIPE_API_KEY=",
                  dockerfileInstruction=dline("env", "ENV STRIPE_API_KEY=")),
    ]


ENV_BENIGN = [
    {"kind": "config-env", "key": "PATH", "why": "a search path"},
    {"kind": "config-env", "key": "API_TOKEN_FILE", "why": "a path to a mounted secret, not a secret"},
    {"kind": "config-env", "key": "PASSWORD", "why": "the literal reference ${PASSWORD}, resolved at run time"},
]


def copy_rm_planted():
    key = text("copy-rm", "id_ed25519").strip()
    npm = find("copy-rm/.npmrc", r"_authToken=(\S+)")
    gh = dockerfile_value("copy-rm", r"^ENV GH_TOKEN=(\S+)")
    return [
        layer_file("private-key-openssh", "/root/.ssh/id_ed25519", 2, "deleted", 2, 1, key, "COPY",
                   "COPY file:", createdByPrefix="/bin/sh -c #(nop) COPY file:",
                   dockerfileInstruction=dline("copy-rm", "COPY --chmod=600 id_ed25519"),
                   deletedBy={"layerIndex": 7, "historyIndex": 7, "whiteout": "/root/.ssh/.wh.id_ed25519"}),
        layer_file("npm-token", "/root/.npmrc", 3, "deleted", 3, 2, npm, "COPY", "COPY file:",
                   createdByPrefix="/bin/sh -c #(nop) COPY file:",
                   alsoAcceptedRuleIds=["npmrc-auth-token"], dockerfileInstruction=dline("copy-rm", "COPY .npmrc"),
                   deletedBy={"layerIndex": 7, "historyIndex": 7, "whiteout": "/root/.wh..npmrc"}),
        in_config("github-pat", "config-env", "GH_TOKEN", 8, gh, "ENV", "ENV GH_TOKEN=",
                  "/bin/sh -c #(nop) ENV GH_TOKEN=", dockerfileInstruction=dline("copy-rm", "ENV GH_TOKEN=")),
    ]


def overwritten_planted():
    akid = value("overwritten/app/settings.env", "AWS_ACCESS_KEY_ID")
    secret = value("overwritten/app/settings.env", "AWS_SECRET_ACCESS_KEY")
    cb = "/bin/sh -c #(nop) COPY file:"
    over = {"layerIndex": 4, "historyIndex": 4}
    di = dline("overwritten", "COPY app/settings.env")
    return [
        layer_file("aws-access-key-id", "/app/settings.env", 2, "overwritten", 2, 3, akid, "COPY",
                   "COPY file:", createdByPrefix=cb, overwrittenBy=over, dockerfileInstruction=di),
        layer_file("aws-secret-access-key", "/app/settings.env", 2, "overwritten", 2, 4, secret, "COPY",
                   "COPY file:", createdByPrefix=cb, overwrittenBy=over, dockerfileInstruction=di),
    ]


def opaque_planted():
    tok = value("opaque/conf/.env", "SLACK_TOKEN")
    hook = value("opaque/conf/.env", "SLACK_WEBHOOK_URL")
    cb = "/bin/sh -c #(nop) COPY dir:"
    by = {"layerIndex": 3, "historyIndex": 3, "whiteout": "/srv/conf/.wh..wh..opq"}
    di = dline("opaque", "COPY conf/")
    return [
        layer_file("slack-token", "/srv/conf/.env", 2, "deleted", 2, 2, tok, "COPY", "COPY dir:",
                   createdByPrefix=cb, deletedBy=by, dockerfileInstruction=di),
        layer_file("slack-webhook", "/srv/conf/.env", 2, "deleted", 2, 3, hook, "COPY", "COPY dir:",
                   createdByPrefix=cb, deletedBy=by, dockerfileInstruction=di),
    ]


def nested_planted():
    props = "nested/src/app-jar/config/application.properties"
    spring = value(props, "spring.datasource.password")
    pg = find(props, r"postgres://app:([^@]+)@")
    hf = value("nested/src/config-bundle/.env", "HF_TOKEN")
    gl = value("nested/src/deploy-zip/ci/deploy.env", "GITLAB_TOKEN")
    cb = "/bin/sh -c #(nop) COPY file:"
    return [
        layer_file("generic-secret-assignment", "/opt/app/app.jar", 2, "present", 2, 5, spring, "COPY",
                   "COPY file:", createdByPrefix=cb, nestedPath=["config/application.properties"],
                   dockerfileInstruction=dline("nested", "COPY app.jar")),
        layer_file("url-credentials", "/opt/app/app.jar", 2, "present", 2, 6, pg, "COPY", "COPY file:",
                   createdByPrefix=cb, nestedPath=["config/application.properties"],
                   dockerfileInstruction=dline("nested", "COPY app.jar")),
        layer_file("huggingface-token", "/opt/app/config-bundle.tar.gz", 3, "present", 3, 2, hf, "COPY",
                   "COPY file:", createdByPrefix=cb, nestedPath=[".env"],
                   dockerfileInstruction=dline("nested", "COPY config-bundle.tar.gz")),
        layer_file("gitlab-pat", "/opt/release.tar.gz", 4, "present", 4, 3, gl, "COPY", "COPY file:",
                   createdByPrefix=cb, nestedPath=["release/deploy.zip", "ci/deploy.env"],
                   dockerfileInstruction=dline("nested", "COPY release.tar.gz")),
    ]


def label_cmd_planted():
    gl = dockerfile_value("label-cmd", r'deploy-token="([^"]+)"')
    aiza = dockerfile_value("label-cmd", r'"--api-key","([^"]+)"')
    return [
        in_config("gitlab-pat", "config-label", "com.example.deploy-token", 3, gl, "LABEL",
                  "LABEL com.example.deploy-token=", "/bin/sh -c #(nop) LABEL com.example.deploy-token=",
                  dockerfileInstruction=dline("label-cmd", "LABEL com.example.deploy-token")),
        in_config("google-api-key", "config-cmd", "Cmd", 6, aiza, "CMD", 'CMD ["app","--api-key",',
                  '/bin/sh -c #(nop) CMD ["app","--api-key",', argIndex=2,
                  dockerfileInstruction=dline("label-cmd", "CMD ")),
    ]


LABEL_CMD_BENIGN = [
    {"kind": "config-label", "key": "org.opencontainers.image.source", "why": "a URL without credentials"},
    {"kind": "config-entrypoint", "key": "Entrypoint", "why": "no secret"},
]


def credential_files_planted():
    R = "credential-files/rootfs/"
    cfg = json.loads(text(*(R + "root/.docker/config.json").split("/")))
    auth = cfg["auths"]["registry.example.com"]["auth"]
    kube = R + "root/.kube/config"
    cb = "/bin/sh -c #(nop) COPY dir:"

    def f(rule, path, line, secret, **extra):
        return layer_file(rule, path, 2, "present", 2, line, secret, "COPY", "COPY dir:",
                          createdByPrefix=cb, dockerfileInstruction=dline("credential-files", "COPY "), **extra)

    return [
        f("docker-config-auth", "/root/.docker/config.json", 4, auth,
          decoded=base64.b64decode(auth).decode()),
        f("github-pat", "/root/.git-credentials", 1, find(R + "root/.git-credentials", r"(ghp_[A-Za-z0-9]{36})"),
          alsoAcceptedRuleIds=["url-credentials"]),
        f("netrc-password", "/root/.netrc", 3, find(R + "root/.netrc", r"password (\S+)")),
        f("url-credentials", "/etc/pip.conf", 2, find(R + "etc/pip.conf", r"https://deploy:([^@]+)@")),
        f("aws-access-key-id", "/root/.aws/credentials", 2, value(R + "root/.aws/credentials", "aws_access_key_id")),
        f("aws-secret-access-key", "/root/.aws/credentials", 3,
          value(R + "root/.aws/credentials", "aws_secret_access_key")),
        f("kubeconfig-token", "/root/.kube/config", 18, find(kube, r"^\s+token: (\S+)"),
          alsoAcceptedRuleIds=["jwt"]),
        f("kubeconfig-client-key", "/root/.kube/config", 22, find(kube, r"client-key-data: (\S+)"),
          alsoAcceptedRuleIds=["private-key-pem"]),
        f("sendgrid-api-key", "/app/.env", 3, value(R + "app/.env", "SENDGRID_API_KEY")),
        f("generic-secret-assignment", "/app/.env", 4, value(R + "app/.env", "JWT_SECRET")),
        f("pypi-token", "/root/.pypirc", 7, value(R + "root/.pypirc", "password")),
        f("github-fine-grained-pat", "/root/.config/gh/hosts.yml", 3,
          value(R + "root/.config/gh/hosts.yml", "oauth_token", sep=":")),
        f("private-key-pem", "/etc/ssl/private/server.key", 1, text(*(R + "etc/ssl/private/server.key").split("/")).strip()),
    ]


CREDENTIAL_FILES_BENIGN = [
    {"kind": "layer-file", "path": "/srv/web/package-lock.json", "why": "integrity sha512- hashes"},
    {"kind": "layer-file", "path": "/opt/tool/go.sum", "why": "h1: module hashes"},
    {"kind": "layer-file", "path": "/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/RECORD",
     "why": "sha256= file hashes"},
    {"kind": "layer-file", "path": "/opt/tool/SHA256SUMS", "why": "hex digests"},
    {"kind": "layer-file", "path": "/srv/web/request-ids.txt", "why": "UUIDs"},
    {"kind": "layer-file", "path": "/app/settings.py", "why": "password = os.environ[\"DB_PASSWORD\"]: a reference"},
    {"kind": "layer-file", "path": "/app/README.md",
     "why": "placeholders: <your-token>, changeme, ${AWS_SECRET_ACCESS_KEY}"},
    {"kind": "layer-file", "path": "/root/.kube/config", "lines": [5, 21],
     "why": "certificate-authority-data and client-certificate-data are certificates, not keys"},
]


def zstd_planted():
    tok = value("zstd/ci/dockerhub.env", "DOCKERHUB_TOKEN")
    return [layer_file("dockerhub-pat", "/ci/dockerhub.env", 0, "present", 0, 2, tok, "COPY", "COPY dir:",
                       createdByPrefix="/bin/sh -c #(nop) COPY dir:", dockerfileInstruction=dline("zstd", "COPY "))]


def multi_platform_planted():
    openai = value("multi-platform/config-amd64/llm.env", "OPENAI_API_KEY")
    anthropic = value("multi-platform/config-arm64/llm.env", "ANTHROPIC_API_KEY")
    cb = "/bin/sh -c #(nop) COPY dir:"
    di = dline("multi-platform", "COPY config-")
    return [
        layer_file("openai-api-key", "/app/config/llm.env", 1, "present", 2, 2, openai, "COPY", "COPY dir:",
                   createdByPrefix=cb, platform="linux/amd64", dockerfileInstruction=di),
        layer_file("anthropic-api-key", "/app/config/llm.env", 1, "present", 2, 2, anthropic, "COPY",
                   "COPY dir:", createdByPrefix=cb, platform="linux/arm64", dockerfileInstruction=di),
    ]


def buildkit_planted():
    npm = value("buildkit/build-args.env", "NPM_TOKEN")
    return [
        in_history("npm-token", 2, None, npm, "ARG", "ARG NPM_TOKEN=" + npm, "ARG NPM_TOKEN=" + npm,
                   also=(3,), buildArg="NPM_TOKEN", dockerfileInstruction=dline("buildkit", "ARG NPM_TOKEN")),
    ]


def lying_planted():
    jwt = text("lying-mediatype", "app", "id_token").strip()
    gl = value("lying-mediatype/app/gitlab.env", "GITLAB_TOKEN")
    return [
        layer_file("jwt", "/app/.cache/id_token", 0, "present", 0, 1, jwt, "COPY", "COPY file:",
                   createdByPrefix="/bin/sh -c #(nop) COPY file:", dockerfileInstruction=dline("lying-mediatype", "COPY app/id_token"),
                   layerBlob={"mediaTypeSays": "application/vnd.oci.image.layer.v1.tar+gzip", "actually": "tar"}),
        layer_file("gitlab-pat", "/app/gitlab.env", 1, "present", 1, 1, gl, "COPY", "COPY file:",
                   createdByPrefix="/bin/sh -c #(nop) COPY file:", dockerfileInstruction=dline("lying-mediatype", "COPY app/gitlab.env"),
                   layerBlob={"mediaTypeSays": "application/vnd.oci.image.layer.v1.tar", "actually": "gzip"}),
    ]


def oci(ref):
    return f"oci:{IMAGES}/oci:{ref}"


def fixture(name, reference, leak, planted=None, dockerfile=None, layers=None, **extra):
    d = {"name": name, "reference": reference, "leakPath": leak}
    if dockerfile:
        d["dockerfile"] = f"Fixtures/dockerfiles/{dockerfile}/Dockerfile"
    if layers is not None:
        d["layerCount"] = layers
    if planted is None:
        d["clean"] = True
        d["planted"] = []
    else:
        d["clean"] = False
        d["planted"] = planted
    d.update(extra)
    return d


def main():
    mp_platforms = {"platforms": ["linux/amd64", "linux/arm64"]}
    fixtures = [
        fixture("base", oci("base"), "none: the busybox base every other fixture starts from", None,
                "base", 2),
        fixture("build-arg", oci("build-arg"), "build arguments repeated in the RUN history",
                build_arg_planted(), "build-arg", 5),
        fixture("env", oci("env"), "ENV values in the config and the history", env_planted(), "env", 3,
                benign=ENV_BENIGN),
        fixture("copy-rm", oci("copy-rm"), "files copied in and deleted later (whiteouts)",
                copy_rm_planted(), "copy-rm", 8),
        fixture("overwritten", oci("overwritten"), "a file overwritten by a later layer",
                overwritten_planted(), "overwritten", 5),
        fixture("opaque", oci("opaque"), "a folder deleted and recreated (opaque whiteout)",
                opaque_planted(), "opaque", 4),
        fixture("nested", oci("nested"), "secrets inside zip/jar/tar.gz archives, nested two deep",
                nested_planted(), "nested", 5),
        fixture("label-cmd", oci("label-cmd"), "a LABEL and the CMD in the image config",
                label_cmd_planted(), "label-cmd", 3, benign=LABEL_CMD_BENIGN),
        fixture("credential-files", oci("credential-files"), "credential files present in the image",
                credential_files_planted(), "credential-files", 3, benign=CREDENTIAL_FILES_BENIGN),
        fixture("zstd", oci("zstd"), "a token file in a zstd-compressed layer", zstd_planted(), "zstd", 1,
                layerCompression="zstd"),
        fixture("multi-platform", oci("multi-platform"), "a different secret per platform (OCI index)",
                multi_platform_planted(), "multi-platform", 2, **mp_platforms),
        fixture("clean-secret-mount", oci("clean-secret-mount"),
                "none: the token is only mounted with RUN --mount=type=secret", None, "clean-secret-mount", 3,
                absentSecrets=[find("clean-secret-mount/npmrc.secret", r"_authToken=(\S+)")]),
        fixture("clean-multistage", oci("clean-multistage"),
                "none: the token is a build argument of the builder stage only", None, "clean-multistage", 3,
                absentSecrets=[value("clean-multistage/build-args.env", "GITHUB_TOKEN")]),
        fixture("buildkit", oci("buildkit"), "a build argument in BuildKit's history format",
                buildkit_planted(), "buildkit", 4, historyFormat="buildkit"),
        fixture("nested-index", oci("nested-index"),
                "the multi-platform index reached through an index that points to it",
                multi_platform_planted(), "multi-platform", 2, **mp_platforms),
        fixture("lying-mediatype", oci("lying-mediatype"),
                "layer media types that do not match the bytes (plain tar said gzip, gzip said plain tar)",
                lying_planted(), "lying-mediatype", 2),
        fixture("legacy.docker.tar", f"docker-archive:{IMAGES}/legacy.docker.tar",
                "copy-rm, saved in the docker save layout of Docker <= 24", copy_rm_planted(), "copy-rm", 8,
                sourceFixture="copy-rm", archiveFormat="docker-save-legacy",
                traps=[{"what": "the top layer's <id>/json repeats the image config, GH_TOKEN included",
                        "expect": "GH_TOKEN reported once, from the image config"},
                       {"what": "layer 6 has the same diff id as layer 5: its <id>/layer.tar is a symlink "
                                "to ../<id of layer 5>/layer.tar",
                        "expect": "8 layers read, no error"}]),
        fixture("docker25.docker.tar", f"docker-archive:{IMAGES}/docker25.docker.tar",
                "build-arg, saved in the docker save layout of Docker >= 25 (OCI layout + manifest.json)",
                build_arg_planted(), "build-arg", 5, sourceFixture="build-arg", archiveFormat="docker-save-oci",
                alsoReadableAs=f"oci-archive:{IMAGES}/docker25.docker.tar",
                traps=[{"what": "blobs/sha256 also holds the per-layer v1 JSON of docker save, referenced by "
                                "no manifest",
                        "expect": "not read as layers or config"}]),
        fixture("build-arg.docker.tar", f"docker-archive:{IMAGES}/build-arg.docker.tar",
                "build-arg, written by skopeo copy docker-archive:", build_arg_planted(), "build-arg", 5,
                sourceFixture="build-arg", archiveFormat="docker-archive-skopeo"),
        fixture("env.oci.tar", f"oci-archive:{IMAGES}/env.oci.tar",
                "env, written by skopeo copy oci-archive:", env_planted(), "env", 3,
                sourceFixture="env", archiveFormat="oci-archive", benign=ENV_BENIGN),
    ]
    doc = {
        "version": 1,
        "about": "Fixture images of residue and the secrets planted in them. See Fixtures/README.md.",
        "conventions": {
            "reference": "relative to the repository root",
            "layerIndex": "0-based, in rootfs.diff_ids order (base layers included); null for a history entry "
                          "or config value that made no layer",
            "historyIndex": "0-based index into the config's history (empty_layer entries included)",
            "path": "absolute path of the file in the image; nestedPath lists the members inside it, outermost first",
            "line": "1-based line of the secret in the (innermost) file",
            "status": "present: the final image has this file from this layer; overwritten: a later layer "
                      "wrote the path again; deleted: the path is gone from the final image (whiteout or "
                      "opaque whiteout)",
            "secret": "the planted value, exactly; a finding's secret equals it or contains it",
            "alsoIn": "other places that hold the same value: reporting it there too is not wrong, reporting "
                      "it anywhere else is",
            "alsoAcceptedRuleIds": "other rules that may legitimately claim the same bytes",
            "createdByPrefix": "the raw start of history[historyIndex].created_by",
            "dockerfileInstruction": "the line of the fixture's Dockerfile that put the secret there (for people; "
                                     "a scanner only sees created_by)",
            "instructionPrefix": "the start of the instruction as parsed from created_by: keyword, then the "
                                 "command without the builder's decorations (/bin/sh -c #(nop), |N K=V, /bin/sh -c, "
                                 "# buildkit)",
        },
        "fixtures": fixtures,
    }
    print(json.dumps(doc, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
