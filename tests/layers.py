#!/usr/bin/env python3
"""layers.py — the library's dependency rule (src/lib/LAYERS).

A module may include and call the modules of its own folder and of the
folders of lower layers only, and modules call each other in one direction:
no cycle between modules (the files of one module family — sp_x.c and
sp_x_*.c sharing the private header sp_x_int.h — count as one).  Includes are read from the sources; calls
from the symbols the compiled objects (BUILD/obj/lib/*.o, when built) use
and define.  Prints one "ok"/"not ok" line per rule in TAP style and exits
1 on any violation, naming the file, the line or symbol and both folders.

usage: tests/layers.py [BUILD]     (BUILD defaults to build)
"""
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
LIB = os.path.join(ROOT, 'src', 'lib')


def read_layers():
    rank = {}
    with open(os.path.join(LIB, 'LAYERS')) as f:
        n = 0
        for line in f:
            line = line.split('#', 1)[0].split()
            if not line:
                continue
            for folder in line:
                rank[folder] = n
            n += 1
    return rank


def allowed(rank, src, dst):
    return src == dst or rank[dst] < rank[src]


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else 'build'
    rank = read_layers()
    bad = []
    # every folder is a layer, every layer a folder, no loose files
    dirs = sorted(d for d in os.listdir(LIB) if os.path.isdir(os.path.join(LIB, d)))
    for d in dirs:
        if d not in rank:
            bad.append('src/lib/%s/: folder not in src/lib/LAYERS' % d)
    for d in rank:
        if d not in dirs:
            bad.append('src/lib/LAYERS: %s: no such folder' % d)
    for f in os.listdir(LIB):
        if f.endswith(('.c', '.h')):
            bad.append('src/lib/%s: a module outside the layer folders' % f)
    # file name -> folder (names are unique: objects are built flat)
    where = {}
    for d in dirs:
        for f in sorted(os.listdir(os.path.join(LIB, d))):
            if not f.endswith(('.c', '.h')):
                continue
            if f in where:
                bad.append('src/lib/%s/%s: name also used in src/lib/%s/' % (d, f, where[f]))
            where[f] = d
    if bad:
        print('not ok - layer folders'); print('\n'.join('  ' + b for b in bad))
        return 1
    print('ok - layer folders match src/lib/LAYERS (%d folders, %d files)' % (len(dirs), len(where)))
    status = 0
    # includes
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
    for f, d in sorted(where.items()):
        if d not in rank:
            continue
        with open(os.path.join(LIB, d, f), encoding='utf-8', errors='replace') as fh:
            for no, line in enumerate(fh, 1):
                m = inc.match(line)
                if not m:
                    continue
                h = os.path.basename(m.group(1))
                t = where.get(h)
                if t and not allowed(rank, d, t):
                    bad.append('src/lib/%s/%s:%d: includes %s (%s/ may not use %s/)' % (d, f, no, h, d, t))
    if bad:
        print('not ok - includes go down the layers'); print('\n'.join('  ' + b for b in bad))
        status = 1
    else:
        print('ok - includes go down the layers')
    # calls: undefined symbols of each object against the defining object
    objdir = os.path.join(ROOT, build, 'obj', 'lib')
    if not os.path.isdir(objdir):
        print('ok - calls not checked (no %s)' % os.path.relpath(objdir, ROOT))
        return status
    defs, uses = {}, {}
    for o in sorted(os.listdir(objdir)):
        if not o.endswith('.o'):
            continue
        mod = o[:-2]
        d = where.get(mod + '.c')
        if not d:
            continue  # an object left from a removed source
        out = subprocess.run(['nm', '-P', os.path.join(objdir, o)], capture_output=True,
                             text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) < 2:
                continue
            if p[1] == 'U':
                uses.setdefault(mod, set()).add(p[0])
            elif p[1] in 'TDBRCV':
                defs[p[0]] = mod
    bad = []
    for mod, syms in sorted(uses.items()):
        d = where[mod + '.c']
        for s in sorted(syms):
            t_mod = defs.get(s)
            if not t_mod or t_mod == mod:
                continue
            t = where[t_mod + '.c']
            if not allowed(rank, d, t):
                bad.append('src/lib/%s/%s.c: calls %s of src/lib/%s/%s.c (%s/ may not use %s/)'
                           % (d, mod, s, t, t_mod, d, t))
    if bad:
        print('not ok - calls go down the layers'); print('\n'.join('  ' + b for b in bad))
        status = 1
    else:
        print('ok - calls go down the layers (%d objects)' % len(uses))
    # no cycles between module families
    fam = {}
    for f, d in where.items():
        if not f.endswith('.c'):
            continue
        mod = f[:-2]
        fam[mod] = mod
        # the private header, included by the source or by its own header
        for src in (f, mod + '.h'):
            if src not in where:
                continue
            with open(os.path.join(LIB, where[src], src), encoding='utf-8', errors='replace') as fh:
                for line in fh:
                    m = inc.match(line)
                    if not (m and m.group(1).endswith('_int.h')):
                        continue
                    prefix = os.path.basename(m.group(1))[:-6]
                    if mod == prefix or mod.startswith(prefix + '_'):
                        fam[mod] = prefix
                        break
            if fam[mod] != mod:
                break
    graph = {}
    for mod, syms in uses.items():
        for s_ in syms:
            t_mod = defs.get(s_)
            if t_mod and fam.get(t_mod, t_mod) != fam.get(mod, mod):
                graph.setdefault(fam.get(mod, mod), set()).add(fam.get(t_mod, t_mod))
    cycles = sccs(graph)
    if cycles:
        print('not ok - modules call each other in one direction')
        for c in cycles:
            print('  cycle: ' + ' <-> '.join(c))
        status = 1
    else:
        print('ok - modules call each other in one direction (%d families)' % len(set(fam.values())))
    return status


def sccs(graph):
    """the strongly connected components of more than one node (Tarjan)"""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


if __name__ == '__main__':
    sys.exit(main())
