#!/usr/bin/env python3
"""Module-level import cycles of the `raceway` crate, as cargo-modules sees them.

    cargo install cargo-modules --version 0.27.0 --locked   # once (rustc 1.95)
    cargo modules dependencies --lib -p raceway --all-features --no-externs \
        --no-sysroot --no-fns --no-types --no-traits --no-owns > /tmp/raceway.dot
    python3 scripts/module_cycles.py /tmp/raceway.dot

Prints the number of modules, of "uses" edges and of cycles (each cycle's
modules); exits 1 when there is a cycle. A module re-exporting its own
descendants is not a dependency. (`cargo modules dependencies --acyclic`
itself works at item level: it rejects any type whose method names the type,
such as `Timebase::get() -> &Timebase`, so it cannot judge modules.)

`cargo test -p raceway --test layering` checks the same property, and the
order of the layers, from the sources, in CI.
"""
import re
import sys


def main(path):
    edges = {}
    for line in open(path):
        m = re.match(r'\s*"([^"]+)" -> "([^"]+)" \[label="uses"', line)
        if not m:
            continue
        a, b = m.groups()
        edges.setdefault(a, set())
        edges.setdefault(b, set())
        if not b.startswith(a + "::"):
            edges[a].add(b)
    # Tarjan's strongly connected components, iteratively.
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    print(f"{len(edges)} modules, {sum(len(t) for t in edges.values())} uses edges, {len(cycles)} cycles")
    for cycle in cycles:
        print("cycle:", " ".join(cycle))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
