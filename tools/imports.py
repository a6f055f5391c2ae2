#!/usr/bin/env python3
"""Module import graph of the workspace's crates: circles and upward imports.

Each `.rs` file is one module. Every `crate::…` or `super::…` path in a file
(in a `use` or inline) is an import of the longest module that path names.
A circle is a set of two or more modules that import each other (a strongly
connected component); an upward import is an import from one module of a
circle to another module of the same circle, counted once per file and
module imported. Run: `python3 tools/imports.py [crate-dir …]`; `--edges`
prints every import of a circle; `--check` fails when there is a circle
(CI runs it).
"""
import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super)((?:::\w+)+)")
USE_GROUP = re.compile(r"\buse\s+(crate|super)((?:::\w+)*)::\{([^;]*)\}", re.S)


def modules(src: Path) -> dict:
    """Map module path (tuple) -> file."""
    out = {}
    for f in sorted(src.rglob("*.rs")):
        rel = f.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] in ("mod",):
            parts = parts[:-1]
        if parts in (["lib"], ["main"]):
            parts = []
        out[tuple(parts)] = f
    return out


def strip_tests(text: str) -> str:
    # Test modules are allowed to look up; cut from `#[cfg(test)]` mod on.
    i = text.find("#[cfg(test)]\nmod ")
    return text if i < 0 else text[:i]


def resolve(mods, here, base, rest):
    start = list(here) if base == "super" else []
    if base == "super":
        start = start[:-1]
    names = [p for p in rest.split("::") if p]
    while names and names[0] == "super":
        start = start[:-1]
        names = names[1:]
    best = None
    for k in range(len(names) + 1):
        cand = tuple(start + names[:k])
        if cand in mods:
            best = cand
    return best


def graph(src: Path):
    mods = modules(src)
    edges = {m: set() for m in mods}
    for m, f in mods.items():
        text = strip_tests(f.read_text())
        text = re.sub(r"//[^\n]*", "", text)
        found = []
        for base, prefix, group in USE_GROUP.findall(text):
            for item in re.split(r",", group):
                item = item.strip().split(" as ")[0].strip("{} \n")
                if item:
                    found.append((base, prefix + "::" + item.split("::{")[0]))
        found += PATH.findall(text)
        # A parent names its children by relative paths (`features::list`).
        for child in (k for k in mods if len(k) == len(m) + 1 and k[: len(m)] == m):
            if re.search(r"(?<![:\w])" + child[-1] + r"::", text):
                found.append(("crate", "::" + "::".join(child)))
        for base, rest in found:
            t = resolve(mods, m, base, rest)
            if t is not None and t != m:
                edges[m].add(t)
    return mods, edges


def sccs(edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in edges:
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def name(m):
    return "::".join(m) or "lib"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show = "--edges" in sys.argv
    total = 0
    for crate in args or ["layers", "tiles", "server"]:
        src = Path(crate) / "src"
        mods, edges = graph(src)
        circles = sccs(edges)
        up = 0
        for c in circles:
            cs = set(c)
            for m in c:
                up += len(edges[m] & cs)
        print(f"{crate}: {len(mods)} modules, {sum(map(len, edges.values()))} imports, "
              f"{len(circles)} circles, {up} upward imports")
        total += len(circles)
        for c in circles:
            print("  circle:", ", ".join(sorted(name(m) for m in c)))
            if show:
                cs = set(c)
                for m in sorted(c):
                    for t in sorted(edges[m] & cs):
                        print(f"    {name(m)} -> {name(t)}")


    if "--check" in sys.argv and total:
        sys.exit(f"{total} import circle(s): see ARCHITECTURE.md, 'Keeping it so'")


if __name__ == "__main__":
    main()
