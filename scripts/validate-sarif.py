#!/usr/bin/env python3
"""Validates SARIF files against the official SARIF 2.1.0 JSON schema (OASIS, draft-04).

    scripts/validate-sarif.py SCHEMA FILE...

Prints every violation as FILE: JSON-PATH: message and exits 1 when there is one; exits 3
when the jsonschema module is missing (scripts/install-deps.sh --test installs it).
"""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("validate-sarif: the python3 jsonschema module is missing (scripts/install-deps.sh --test installs python3-jsonschema)", file=sys.stderr)
    sys.exit(3)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as handle:
        schema = json.load(handle)
    validator = jsonschema.Draft4Validator(schema)
    failed = 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
        for error in errors[:20]:
            where = "/".join(str(part) for part in error.absolute_path) or "(root)"
            print(f"{path}: {where}: {error.message[:300]}")
        if errors:
            failed += 1
        elif not document.get("runs"):
            print(f"{path}: no runs")
            failed += 1
    print(f"validate-sarif: {len(sys.argv) - 2 - failed} valid, {failed} invalid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
