#!/usr/bin/env python3
"""Holds every target's `import` lines to the module graph (issue 15).

Three sources must agree, and this script fails with one line per mismatch when they do not:
  1. the imports in each target's Swift files (Sources/<Target>, Tests/<Target>);
  2. the target's direct dependencies in Package.swift (read with `swift package dump-package`);
  3. the modules table of docs/architecture.md: its row order is the data path ("a module never
     imports one further along the path"), and its "may import" column lists each library's
     in-package dependencies.

Rules:
  - every imported module is a direct dependency (a target of this package or a product named in
    the target's dependencies), or ships with the toolchain; transitive availability does not count;
  - every in-package dependency listed in Package.swift is imported somewhere in the target;
  - a library imports only modules listed above it in the table, and exactly the in-package modules
    its "may import" cell names ("the libraries above" and "everything" allow all above);
  - a test target Tests/<X>Tests imports only X and modules above X;
  - every library and executable target has a row in the table, and every row a target.

Usage: scripts/check-modules.py [--package-dump FILE]   (run from anywhere; exit 1 on a mismatch)
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLCHAIN = {
    "Swift", "CoreFoundation", "Foundation", "FoundationEssentials", "FoundationInternationalization", "FoundationNetworking",
    "FoundationXML", "Dispatch", "Synchronization", "Testing", "XCTest", "Glibc", "Musl", "Darwin", "os",
    "_Concurrency", "_StringProcessing", "RegexBuilder", "Observation", "Distributed", "Cxx", "CxxStdlib",
}
IMPORT = re.compile(
    r"^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?import\s+"
    r"(?:(?:struct|class|enum|protocol|typealias|func|var|let)\s+)?([A-Za-z_][A-Za-z0-9_]*)"
)


def load_manifest(argv):
    if "--package-dump" in argv:
        with open(argv[argv.index("--package-dump") + 1]) as f:
            return json.load(f)
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def dependency_names(target):
    """(in-package target names, product names) among the target's direct dependencies."""
    targets, products = set(), set()
    for dep in target.get("dependencies", []):
        if "byName" in dep:
            targets.add(dep["byName"][0])  # by name: a target here, or a product of the same name
        elif "target" in dep:
            targets.add(dep["target"][0])
        elif "product" in dep:
            products.add(dep["product"][0])
    return targets, products


def imports_of(directory):
    """{module: first 'file:line' importing it} over the Swift files under directory."""
    found = {}
    for base, _, files in os.walk(directory):
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(base, name)
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    m = IMPORT.match(line)
                    if m:
                        found.setdefault(m.group(1), f"{os.path.relpath(path, ROOT)}:{number}")
    return found


def architecture_table():
    """[(module, may-import cell)] in the order of docs/architecture.md's modules table."""
    rows = []
    with open(os.path.join(ROOT, "docs/architecture.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Modules", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            rows.append((re.findall(r"`([A-Za-z_]+)`", cells[0])[0], cells[-1]))
    return rows


def main(argv):
    manifest = load_manifest(argv)
    targets = {t["name"]: t for t in manifest["targets"]}
    local = set(targets)
    table = architecture_table()
    order = {name: i for i, (name, _) in enumerate(table)}
    errors = []

    for name, cell in table:
        if name not in targets:
            errors.append(f"docs/architecture.md lists the module {name}, which Package.swift does not declare")
    for name, t in targets.items():
        if t["type"] in ("regular", "executable", "system") and name not in order:
            errors.append(f"{name} is declared in Package.swift but has no row in docs/architecture.md's modules table")

    for name, t in sorted(targets.items()):
        if t["type"] == "system":
            continue
        directory = os.path.join(ROOT, t.get("path") or ("Tests" if t["type"] == "test" else "Sources"), "" if t.get("path") else name)
        imported = imports_of(directory)
        if not imported and not any(f.endswith(".swift") for _, _, fs in os.walk(directory) for f in fs):
            continue  # a C target: no Swift imports to check
        dep_targets, dep_products = dependency_names(t)
        for module, where in sorted(imported.items()):
            if module in TOOLCHAIN or module == name:
                continue
            if module in local:
                if module not in dep_targets:
                    errors.append(f"{where}: {name} imports {module}, which is not among {name}'s dependencies in Package.swift")
            elif module not in dep_products and module not in dep_targets:
                errors.append(f"{where}: {name} imports {module}, which is not a product named in {name}'s dependencies in Package.swift")
        for dep in sorted(dep_targets & local):
            if dep not in imported:
                errors.append(f"Package.swift: {name} depends on {dep}, but no file of {name} imports it (remove the dependency)")

        used_local = {m for m in imported if m in local and m != name}
        if t["type"] == "test":
            tested = name[:-len("Tests")] if name.endswith("Tests") else None
            if tested not in order:
                continue
            for module in sorted(used_local):
                if module in order and order[module] > order[tested]:
                    errors.append(f"{imported[module]}: {name} imports {module}, which is further along the path than {tested} (docs/architecture.md)")
            continue
        if name not in order:
            continue
        for module in sorted(used_local):
            if module in order and order[module] > order[name]:
                errors.append(f"{imported[module]}: {name} imports {module}, a module further along the path (below it in docs/architecture.md's table)")
        cell = table[order[name]][1]
        if "above" in cell or "everything" in cell:
            continue
        allowed = set(re.findall(r"`([A-Za-z_]+)`", cell)) & local
        for module in sorted(used_local - allowed):
            errors.append(f"{imported[module]}: {name} imports {module}, which docs/architecture.md's \"may import\" cell for {name} does not list")
        for module in sorted(allowed - used_local):
            errors.append(f"docs/architecture.md says {name} may import {module}, but {name} does not: update the table")

    if errors:
        print("module graph check failed:", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    print(f"module graph check: {len(targets)} targets agree with Package.swift and docs/architecture.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
