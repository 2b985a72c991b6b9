#!/usr/bin/env python3
"""Print well-formed *fake* credentials, derived deterministically from a label.

Used once to write the values planted in Fixtures/dockerfiles/*; kept so more fakes of the
same shape can be made (`python3 gen_secrets.py LABEL...`). Every value is
sha256-derived from "residue-fixture:" + label, so it is random-looking (high entropy,
right prefix, length and alphabet) but reproducible, and it is not a real credential.
"""
import base64
import hashlib
import json
import sys

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
DIGITS = "0123456789"


def stream(label):
    counter = 0
    while True:
        block = hashlib.sha256(f"residue-fixture:{label}:{counter}".encode()).digest()
        yield from block
        counter += 1


def chars(label, alphabet, n):
    out = []
    for byte in stream(label):
        # rejection sampling keeps the distribution uniform
        limit = 256 - (256 % len(alphabet))
        if byte < limit:
            out.append(alphabet[byte % len(alphabet)])
            if len(out) == n:
                return "".join(out)


def make(label):
    kind = label.split(":", 1)[0]
    if kind == "ghp":
        return "ghp_" + chars(label, ALNUM, 36)
    if kind == "github_pat":
        return "github_pat_" + chars(label + "a", ALNUM, 22) + "_" + chars(label + "b", ALNUM, 59)
    if kind == "npm":
        return "npm_" + chars(label, ALNUM, 36)
    if kind == "stripe":
        return "sk_live_" + chars(label, ALNUM, 30)
    if kind == "akia":
        return "AKIA" + chars(label, B32, 16)
    if kind == "awssecret":
        return chars(label, B64, 40)
    if kind == "xoxb":
        return "xoxb-" + chars(label + "a", DIGITS, 13) + "-" + chars(label + "b", DIGITS, 13) + "-" + chars(label + "c", ALNUM, 24)
    if kind == "slackhook":
        return ("https://hooks.slack.com/services/T" + chars(label + "a", B32.replace("2", "").upper(), 8)
                + "/B" + chars(label + "b", B32, 10) + "/" + chars(label + "c", ALNUM, 24))
    if kind == "hf":
        return "hf_" + chars(label, LETTERS, 34)
    if kind == "glpat":
        return "glpat-" + chars(label, ALNUM, 20)
    if kind == "aiza":
        return "AIza" + chars(label, ALNUM, 35)
    if kind == "sendgrid":
        return "SG." + chars(label + "a", ALNUM, 22) + "." + chars(label + "b", ALNUM, 43)
    if kind == "dckr":
        return "dckr_pat_" + chars(label, ALNUM, 27)
    if kind == "openai":
        return "sk-proj-" + chars(label + "a", ALNUM, 74) + "T3BlbkFJ" + chars(label + "b", ALNUM, 74)
    if kind == "anthropic":
        return "sk-ant-api03-" + chars(label, URLSAFE.replace("-", "").replace("_", "") , 93) + "AA"
    if kind == "pypi":
        return "pypi-AgEIcHlwaS5vcmc" + chars(label, URLSAFE, 70)
    if kind == "pw":       # pw:LABEL:N  random password of N alnum chars
        n = int(label.rsplit(":", 1)[1])
        return chars(label, ALNUM, n)
    if kind == "jwt":
        def b64(obj):
            return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()
        head = b64({"alg": "RS256", "kid": chars(label + "k", URLSAFE, 43)})
        body = b64({"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "ci",
                    "kubernetes.io/serviceaccount/service-account.name": "deployer",
                    "sub": "system:serviceaccount:ci:deployer"})
        sig = chars(label + "s", URLSAFE, 342)
        return f"{head}.{body}.{sig}"
    raise SystemExit(f"unknown kind {kind!r}")


if __name__ == "__main__":
    print(json.dumps({label: make(label) for label in sys.argv[1:]}, indent=2))
