#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Validates every golden Traefik configuration against the official file-provider JSON Schemas.

usage: validate_schema.py <repo root> [<expected dir>]

The schemas come from ../shared/schemas/traefik relative to the repository root (or ../../shared
for a worktree in wt/<name>; SchemaStore, draft-07). Each expected/<case>/v{2,3}.json is validated with jsonschema's Draft7Validator against
the schema of its version, and expected/<case>/v{2,3}.yaml must load (PyYAML) to the same value.

The SchemaStore schemas are stricter than Traefik (../shared/schemas/README.md). The points our
output can hit are handled here explicitly, never by skipping validation:

  P1  `loadBalancer.servers` has minItems 1 (http, tcp, udp). Traefik 2.9.1+ and 3.x accept an
      empty list and answer 503 (their Docker provider emits one with allowEmptyServices), which
      is what EmptyServices::Keep renders for a service without a routable server. Only for the
      cases whose options keep empty services, the patched schema (minItems removed) is used;
      every other case, and every file without an empty server list, is validated against the
      unmodified schema.

Each patch must change the schema it patches, so a future schema that fixes the point makes this
script fail until the patch is removed. Exit 77 (skipped) when the schemas or jsonschema/PyYAML
are not available.
"""
import copy
import json
import pathlib
import sys

SKIP = 77
SCHEMA_DIR = None


def load_schemas(root):
    # ../shared relative to the repository root; a worktree one level deeper (wt/<name>) finds it
    # one level further up.
    candidates = [root.parent / "shared", root.parent.parent / "shared"]
    shared = next((c for c in candidates if (c / "schemas" / "traefik").is_dir()), candidates[0])
    schema_dir = shared / "schemas" / "traefik"
    global SCHEMA_DIR
    SCHEMA_DIR = schema_dir
    schemas = {}
    for version in ("v2", "v3"):
        path = schema_dir / f"traefik-{version}-file-provider.json"
        if not path.is_file():
            print(f"SKIP: {path} not found (the Traefik schemas live in ../shared/schemas relative to the repository root)")
            sys.exit(SKIP)
        schemas[version] = json.loads(path.read_text())
    return schemas


def patch_empty_servers(schema):
    """P1: allow `servers: []` in the http, tcp and udp load balancers."""
    patched = copy.deepcopy(schema)
    changed = 0
    for name in ("httpLoadBalancerService", "tcpLoadBalancerService", "udpLoadBalancerService"):
        servers = patched["definitions"][name]["properties"]["servers"]
        if servers.pop("minItems", None) == 1:
            changed += 1
    if changed != 3:
        raise SystemExit("P1 no longer changes the schema: servers minItems is gone; remove the patch")
    return patched


def has_empty_servers(config):
    for protocol in ("http", "tcp", "udp"):
        for service in config.get(protocol, {}).get("services", {}).values():
            if service.get("loadBalancer", {}).get("servers") == []:
                return True
    return False


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    root = pathlib.Path(sys.argv[1]).resolve()
    expected = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else root / "tests/golden/provider/expected"
    cases_dir = expected.parent / "cases"
    try:
        import jsonschema
        import yaml
    except ImportError as e:
        print(f"SKIP: {e.name} is not installed (Debian: python3-jsonschema, python3-yaml; see .ci/bootstrap)")
        return SKIP
    schemas = load_schemas(root)
    validators = {v: jsonschema.Draft7Validator(s) for v, s in schemas.items()}
    patched = {v: jsonschema.Draft7Validator(patch_empty_servers(s)) for v, s in schemas.items()}
    for s in schemas.values():
        jsonschema.Draft7Validator.check_schema(s)
    # The validator itself must reject what the schema rejects (the shared fixtures).
    fixtures = SCHEMA_DIR / "fixtures"
    if (fixtures / "constellation-v3.invalid.json").is_file():
        bad = json.loads((fixtures / "constellation-v3.invalid.json").read_text())
        good = json.loads((fixtures / "constellation-v3.valid.json").read_text())
        if validators["v3"].is_valid(bad) or not validators["v3"].is_valid(good):
            print("the schema validator does not tell the shared valid and invalid fixtures apart")
            return 1

    failures = 0
    checked = 0
    case_dirs = sorted(p for p in expected.iterdir() if p.is_dir())
    if not case_dirs:
        print(f"no golden outputs in {expected}")
        return 1
    for case in case_dirs:
        options = json.loads((cases_dir / f"{case.name}.json").read_text()).get("options", {})
        keeps_empty = options.get("empty_services", "keep") == "keep"
        for version in ("v2", "v3"):
            config = json.loads((case / f"{version}.json").read_text())
            empty = has_empty_servers(config)
            if empty and not keeps_empty:
                print(f"{case.name} {version}: empty server list although the case drops empty services")
                failures += 1
            validator = patched[version] if empty else validators[version]
            errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
            for e in errors:
                where = "/".join(str(p) for p in e.absolute_path) or "(root)"
                print(f"{case.name} {version}.json: {where}: {e.message}")
            failures += len(errors)
            as_yaml = yaml.safe_load((case / f"{version}.yaml").read_text())
            if as_yaml != config:
                print(f"{case.name} {version}.yaml does not load to the same value as {version}.json")
                failures += 1
            checked += 1
            note = " (P1: empty server list)" if empty else ""
            print(f"ok {case.name} {version}{note}" if not errors else f"FAIL {case.name} {version}")
    print(f"validated {checked} configurations, {failures} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
