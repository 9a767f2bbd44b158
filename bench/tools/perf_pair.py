#!/usr/bin/env python3
"""CPU µs per request by frame from bench/proxy-floor.sh's perf passes (FLOOR_PERF_SECONDS):
    perf_pair.py TMPDIR VARIANT...
Reads TMPDIR/perf-VARIANT.script.gz (perf script -F comm,tid,ip,sym,dso of a cpu-clock -F 999 -g recording) and
TMPDIR/perf-VARIANT.requests (bench/profile.sh writes the same two files with BENCH_PROFILE_PAIR_DIR). Prints, per
variant, where the time goes by layer, by assembly (self; a native build's frames by their mangled names' prefix, its
runtime helpers and GC apart) and by thread, and by "owner": the innermost frame of our own
code on the stack (Gatehouse, ProxyWasm, or bench/tools/proxyfloor's handler), so work a Gatehouse frame asked the
framework for counts against that frame; then, for the last two variants (base, other), the frames whose cost differs
most: self (the frame on the CPU) and inclusive (the frame anywhere on the stack, counted once per sample). A sample is
1/999 s of CPU; per request = samples x that / requests. Differences under ~0.1 µs are within sampling noise."""
import gzip, re, sys
from collections import Counter

SAMPLE_US = 1e6 / 999
OWN = re.compile(r"\[(gatehouse|ProxyWasm|proxyfloor)\]|^(gatehouse_Gatehouse|ProxyWasm_ProxyWasm|proxyfloor)_")
ASSEMBLY = re.compile(r"(?<![\w`])\[([\w.]+)\]")  # "[Assembly] Type", not a generic argument "`1[System.__Canon]"
# A native (NativeAOT) build names "[Assembly] Namespace.Type::Method" as "Assembly_Namespace_Type__Method", dots made
# underscores; most assemblies' namespaces start with the assembly's name, so the prefix repeats.
NATIVE_REPEAT = re.compile(r"^([A-Za-z]\w*?)_\1_", re.IGNORECASE)
NATIVE_PREFIXES = (("S_P_CoreLib_", "System.Private.CoreLib"), ("S_P_Uri_", "System.Private.Uri"),
                   ("Wasmtime_Dotnet_", "Wasmtime.Dotnet"), ("Internal_CompilerGenerated_", "(compiler-generated stubs)"))
TIER = re.compile(r"\[(Optimized|OptimizedTier1|OptimizedTier1OSR|Tier0|Tier1|QuickJitted|Instrumented\w*|PreJIT)\]$")


def frame(line):
    # "\t    ffffffff8134b7cc flush_tlb_mm_range ([kernel.kallsyms])"
    body = line.strip().split(" ", 1)
    if len(body) < 2:
        return None
    sym, _, dso = body[1].rpartition(" (")
    dso = dso.rstrip(")")
    sym = TIER.sub("", sym.strip())
    if dso.startswith("/tmp/perf-") or dso.endswith(".map"):
        dso = "managed (JIT)"
    elif dso == "[kernel.kallsyms]":
        dso = "kernel"
    else:
        dso = dso.rsplit("/", 1)[-1]
    if sym == "[unknown]":
        sym = f"[unknown in {dso}]"
    return sym, dso


def native_assembly(sym):
    """The assembly of a native build's managed frame; None for the runtime's own code (Rhp* helpers, the GC)."""
    for prefix, name in NATIVE_PREFIXES:
        if sym.startswith(prefix):
            return name
    m = NATIVE_REPEAT.match(sym)
    return m.group(1).replace("_", ".") if m else None


def assembly_of(sym, dso):
    if dso == "managed (JIT)":
        # the method's own assembly is the last one named before "::" (a return type may name another first:
        # "valuetype [System.Runtime]System.Threading.Tasks.ValueTask`1<…> [Yarp.ReverseProxy] Yarp…::SendAsync")
        found = ASSEMBLY.findall(sym.split("::")[0])
        return found[-1] if found else dso
    if not dso.startswith("[") and not dso.endswith((".so", ".dll")) and ".so." not in dso and dso != "kernel":
        return native_assembly(sym) or f"runtime ({dso})"  # an executable: a native build
    return dso


def short(sym):
    sym = re.sub(r"\[[\w.]+\]", "", sym)
    sym = re.sub(r"\b(instance|valuetype|class) ", "", sym)
    return re.sub(r"\(.*\)", "()", sym).strip()[-110:]


def load(tmp, variant):
    requests = int(open(f"{tmp}/perf-{variant}.requests").read().split()[0])
    self_sym, incl_sym, layer, thread, assembly, owner = Counter(), Counter(), Counter(), Counter(), Counter(), Counter()
    samples = 0
    stack, comm = [], None
    for raw in gzip.open(f"{tmp}/perf-{variant}.script.gz", "rt", errors="replace"):
        if raw.strip() == "":
            if stack:
                samples += 1
                top_sym, top_dso = stack[0]
                self_sym[(top_sym, top_dso)] += 1
                layer[top_dso] += 1
                thread[comm] += 1
                assembly[assembly_of(top_sym, top_dso)] += 1
                own = next((sym for sym, _ in stack if OWN.search(sym)), None)
                owner[short(own) if own else "(no frame of our own: framework and kernel)"] += 1
                for key in set(stack):
                    incl_sym[key] += 1
            stack, comm = [], None
        elif raw[0] not in "\t ":
            # "comm tid": thread names may hold spaces (".NET TP Worker")
            comm = re.sub(r"\s+\d+\s*$", "", raw.rstrip()).strip()
            comm = re.sub(r"\s*#?\d+$", "", comm) or comm
        else:
            f = frame(raw)
            if f:
                stack.append(f)
    return dict(requests=requests, samples=samples, self=self_sym, incl=incl_sym, layer=layer, thread=thread,
                assembly=assembly, owner=owner)


def table(data, variants, key, title, rows):
    keys = {k for v in variants for k in data[v][key]}
    last, first = variants[-1], variants[0]
    order = sorted(keys, key=lambda k: -max(per_req(data[v][key][k], data[v]) for v in variants))
    if len(variants) > 1:
        order = sorted(keys, key=lambda k: -abs(per_req(data[last][key][k], data[last]) - per_req(data[first][key][k], data[first])))
    print(f"\n{title}:\n")
    diff = f" {last} − {first} |" if len(variants) > 1 else ""
    print(f"| {key} | " + " | ".join(variants) + f" |{diff}")
    print("|---|" + "---:|" * (len(variants) + (len(variants) > 1)))
    for k in order[:rows]:
        cells = [per_req(data[v][key][k], data[v]) for v in variants]
        extra = f" {cells[-1] - cells[0]:+.2f} |" if len(variants) > 1 else ""
        print(f"| {str(k).replace('|', '/')} | " + " | ".join(f"{c:.2f}" for c in cells) + f" |{extra}")


def per_req(count, v):
    return count * SAMPLE_US / max(1, v["requests"])


def main():
    tmp, variants = sys.argv[1], sys.argv[2:]
    data = {v: load(tmp, v) for v in variants}
    print("\n## Where the CPU goes (perf record -g, cpu-clock 999 Hz; µs per request)\n")
    print("| variant | samples | requests recorded | µs/request from samples |")
    print("|---|---:|---:|---:|")
    for v, d in data.items():
        print(f"| {v} | {d['samples']:,} | {d['requests']:,} | {per_req(d['samples'], d):.1f} |")
    table(data, variants, "layer", "By code the sample was in (self)", 10)
    table(data, variants, "assembly", "By assembly the sample was in (self; largest differences first)", 16)
    table(data, variants, "owner", "By owner: the innermost frame of our own code on the stack (largest differences first)", 30)
    table(data, variants, "thread", "By thread", 6)
    if len(variants) < 2:
        return
    base, other = variants[-2], variants[-1]
    a, b = data[base], data[other]
    for kind, title in (("self", "self: the frame on the CPU"), ("incl", "inclusive: the frame anywhere on the stack")):
        keys = set(a[kind]) | set(b[kind])
        diff = sorted(keys, key=lambda k: -(per_req(b[kind][k], b) - per_req(a[kind][k], a)))
        print(f"\n### {other} − {base}, {title} (largest differences; µs/request)\n")
        print(f"| frame | layer | {base} | {other} | difference |")
        print("|---|---|---:|---:|---:|")
        rows = diff[:45] + [k for k in diff[-8:] if per_req(b[kind][k], b) - per_req(a[kind][k], a) < -0.3]
        for sym, dso in rows:
            x, y = per_req(a[kind][(sym, dso)], a), per_req(b[kind][(sym, dso)], b)
            if abs(y - x) < 0.1:
                continue
            print(f"| {sym[:150].replace('|', '/')} | {dso} | {x:.2f} | {y:.2f} | {y - x:+.2f} |")


if __name__ == "__main__":
    main()
