#!/bin/sh
# The dependency rules of docs/ARCHITECTURE.md hold: a common/ folder includes headers only
# from its own folder and the ones below it (common/Makefile.inc lists them lowest first),
# no header includes itself through others, and no two .c files call each other, directly
# or round a longer loop (checked on the built objects with nm).
. "$top_srcdir/tests/lib.sh"
need nm python3
python3 - "$top_srcdir" "$top_builddir" <<'PY' || fail "see above"
import collections, glob, os, re, subprocess, sys

src, build = sys.argv[1], sys.argv[2]
bad = []

# Layers: the order of the COMMON_*_SOURCES folders in common/Makefile.inc.
order = []
for m in re.finditer(r"^(?:\t| )*common/([a-z]+)/[a-z_0-9]+\.c", open(os.path.join(src, "common/Makefile.inc")).read(), re.M):
    if m.group(1) not in order:
        order.append(m.group(1))
if len(order) < 5:
    sys.exit("cannot read the layers from common/Makefile.inc: %s" % order)
headers = {}
for d in ("common/*", "agent", "milter"):
    for h in glob.glob(os.path.join(src, d, "*.h")):
        headers[os.path.basename(h)] = os.path.relpath(h, src)
includes = {}
for f in glob.glob(os.path.join(src, "common/*/*.[ch]")) + glob.glob(os.path.join(src, "agent/*.[ch]")) + glob.glob(os.path.join(src, "milter/*.[ch]")):
    rel = os.path.relpath(f, src)
    includes[rel] = [headers[i] for i in re.findall(r'^#include "([^"]+)"', open(f).read(), re.M) if i in headers]
for f, incs in includes.items():
    for h in incs:
        if h.startswith(("agent/", "milter/")) and f.startswith("common/"):
            bad.append("%s includes %s: the library includes nothing of the programs" % (f, h))
        if f.startswith("common/") and h.startswith("common/"):
            lf, lh = f.split("/")[1], h.split("/")[1]
            if lf in order and lh in order and order.index(lh) > order.index(lf):
                bad.append("%s includes %s: %s is above %s" % (f, h, lh, lf))

def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in list(graph):
        if v not in index:
            visit(v)
    return out

hgraph = {f: [h for h in incs if h.endswith(".h")] for f, incs in includes.items() if f.endswith(".h")}
for c in cycles(hgraph):
    bad.append("headers include each other: " + " ".join(c))

# Calls between files, from the objects of the library and the two programs.
objs = [o for d in ("common", "agent", "milter")
        for o in glob.glob(os.path.join(build, d, "**", "*.o"), recursive=True)]
if len(objs) < 40:
    sys.exit("only %d objects under %s: build first" % (len(objs), build))
defs, uses = {}, collections.defaultdict(set)
for o in objs:
    name = re.sub(r"^.*?-", "", os.path.basename(o))  # libopentlsrpt_a-spool.o -> spool.o
    key = os.path.join(os.path.relpath(os.path.dirname(o), build), name)
    for line in subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "TDBR":
            defs[p[2]] = key
        elif len(p) == 2 and p[0] == "U":
            uses[key].add(p[1])
cgraph = {k: {defs[s] for s in syms if s in defs and defs[s] != k} for k, syms in uses.items()}
for c in cycles(cgraph):
    bad.append("files call each other: " + " ".join(c))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
pass "layers kept, no include or call cycles"
