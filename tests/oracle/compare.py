#!/usr/bin/env python3
"""Compares emqx-render's render of an EMQX resource with the objects the EMQX Operator's own code
generates for it (the oracle), object by object and field by field, and checks every remaining
difference against the committed list of deliberate differences (differences.yaml).

Usage: compare.py RENDER.yaml ORACLE.yaml DIFFERENCES.yaml [--generation V] [--used FILE] [--all]
Exit 0: every difference is on the list; 1: some are not (printed with object and path);
--used FILE appends the ids of the entries that matched; --all prints listed differences too;
--generation V (v2beta1, v2alpha1) is the compared resource's, for entries that apply to some
generations only (their `generations` list); an entry with `emqx-versions` (shell patterns) applies
only when the rendered EMQX version matches one: the version Settings state on the core
StatefulSet (`emqx-render/emqx-version`), else the tag of its `emqx` container's image.

Normalization, before comparing (and nothing else is normalized):
  1. The oracle's `status`, `metadata.creationTimestamp` and pod template `creationTimestamp`
     are dropped: the operator's in-memory objects carry them empty, the API server fills them.
  2. The operator's label `apps.emqx.io/pod-template-hash` is dropped from labels, selectors and
     pod templates, and its hash-suffixed names `<n>-core-<hash>` / `<n>-replicant-<hash>` become
     `<n>-core` / `<n>-replicant`.
  3. The operator's replicant ReplicaSet is compared with emqx-render's Deployment: `kind`,
     `apiVersion` and the fields only a Deployment has (its `spec.strategy`,
     `progressDeadlineSeconds`, `revisionHistoryLimit`, `paused`) are not compared; the rest
     (replicas, selector, minReadySeconds, the whole pod template) is.
  4. Empty maps, empty lists and nulls count as absent on both sides (Go writes `resources: {}`);
     a map that only one side has is compared key by key with an empty one.
  5. Lists of named items (containers, env, ports, volumes, mounts, ...) are paired by name; a
     different order of the same names is its own difference (`...env: order`).
"""
import fnmatch
import json
import sys

import yaml

HASH_LABEL = "apps.emqx.io/pod-template-hash"


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def prune(v):
    if isinstance(v, dict):
        out = {k: prune(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x not in (None, {}, [])}
    if isinstance(v, list):
        return [prune(x) for x in v]
    return v


def strip_hash(labels):
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)


def normalize_oracle(o):
    o.pop("status", None)
    meta = o.setdefault("metadata", {})
    meta.pop("creationTimestamp", None)
    strip_hash(meta.get("labels"))
    spec = o.get("spec") or {}
    strip_hash((spec.get("selector") or {}).get("matchLabels"))
    tmeta = (spec.get("template") or {}).get("metadata") or {}
    tmeta.pop("creationTimestamp", None)
    strip_hash(tmeta.get("labels"))
    name = meta.get("name", "")
    if o.get("kind") == "StatefulSet":
        meta["name"] = name.rsplit("-", 1)[0]
    if o.get("kind") == "ReplicaSet":
        meta["name"] = name.rsplit("-", 1)[0]
        o["kind"], o["apiVersion"] = "Deployment", "apps/v1"
        o["_from_replicaset"] = True
    return o


DEPLOYMENT_ONLY = ("strategy", "progressDeadlineSeconds", "revisionHistoryLimit", "paused")


def is_named_list(a, b):
    items = [x for x in (a or []) + (b or [])]
    return bool(items) and all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in items)


def diff(ours, theirs, path, out):
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for k in sorted(set(ours) | set(theirs)):
            at = f"{path}.{k}" if path else k
            if k not in theirs and isinstance(ours[k], dict):
                diff(ours[k], {}, at, out)
            elif k not in ours and isinstance(theirs[k], dict):
                diff({}, theirs[k], at, out)
            elif k not in theirs:
                out.append((at, "only-ours", ours[k], None))
            elif k not in ours:
                out.append((at, "only-operator", None, theirs[k]))
            else:
                diff(ours[k], theirs[k], at, out)
    elif isinstance(ours, list) and isinstance(theirs, list) and is_named_list(ours, theirs):
        a = {x["name"]: x for x in ours}
        b = {x["name"]: x for x in theirs}
        common_a = [x["name"] for x in ours if x["name"] in b]
        common_b = [x["name"] for x in theirs if x["name"] in a]
        if common_a != common_b:
            out.append((f"{path}: order", "changed", common_a, common_b))
        for n in list(a) + [n for n in b if n not in a]:
            at = f"{path}[{n}]"
            if n not in b:
                out.append((at, "only-ours", a[n], None))
            elif n not in a:
                out.append((at, "only-operator", None, b[n]))
            else:
                diff(a[n], b[n], at, out)
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for i, (x, y) in enumerate(zip(ours, theirs)):
            diff(x, y, f"{path}[{i}]", out)
    elif ours != theirs:
        out.append((path, "changed", ours, theirs))


def key(o):
    return (o.get("kind"), (o.get("metadata") or {}).get("name"))


def compare(render, oracle):
    """All differences as (object, path, change, ours, theirs)."""
    ours = {key(o): prune(o) for o in render}
    theirs = {}
    for o in oracle:
        n = normalize_oracle(o)
        from_rs = n.pop("_from_replicaset", False)
        theirs[key(n)] = (prune(n), from_rs)
    found = []
    for k in sorted(set(ours) | set(theirs), key=lambda k: (str(k[0]), str(k[1]))):
        obj = f"{k[0]}/{k[1]}"
        if k not in theirs:
            found.append((obj, "", "only-ours", None, None))
            continue
        if k not in ours:
            found.append((obj, "", "only-operator", None, None))
            continue
        a, (b, from_rs) = ours[k], theirs[k]
        if from_rs:
            a = dict(a, spec={x: y for x, y in a.get("spec", {}).items() if x not in DEPLOYMENT_ONLY})
        out = []
        diff(a, b, "", out)
        found += [(obj, p, c, x, y) for (p, c, x, y) in out]
    return found


def literal_brackets(s):
    # `[name]` in a path is a list item, not a shell character class: compare it literally.
    return s.replace("[", "\x01").replace("]", "\x02")


def emqx_version(render):
    """The EMQX version of the render: stated on the core StatefulSet, else its image's tag."""
    for o in render:
        if o.get("kind") != "StatefulSet":
            continue
        stated = ((o.get("metadata") or {}).get("annotations") or {}).get("emqx-render/emqx-version")
        if stated:
            return str(stated)
        for c in o["spec"]["template"]["spec"].get("containers") or []:
            if c.get("name") == "emqx":
                ref = str(c.get("image", "")).split("@")[0]
                last = ref.rsplit("/", 1)[-1]
                return last.rsplit(":", 1)[1] if ":" in last else ""
    return ""


def matches(entry, obj, path, change, generation, version):
    where = entry["where"] if isinstance(entry["where"], list) else [entry["where"]]
    if entry.get("change") and entry["change"] != change:
        return False
    if entry.get("generations") and generation not in entry["generations"]:
        return False
    if entry.get("emqx-versions") and not any(
        fnmatch.fnmatchcase(version, v) for v in entry["emqx-versions"]
    ):
        return False
    subject = literal_brackets(f"{obj}:{path}")
    return any(fnmatch.fnmatchcase(subject, literal_brackets(w)) for w in where)


def short(v):
    s = json.dumps(v, sort_keys=True) if v is not None else "-"
    return s if len(s) <= 160 else s[:157] + "..."


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    used_file = argv[argv.index("--used") + 1] if "--used" in argv else None
    if used_file in args:
        args.remove(used_file)
    generation = argv[argv.index("--generation") + 1] if "--generation" in argv else "v2beta1"
    if "--generation" in argv:
        args.remove(generation)
    if len(args) != 3:
        sys.stderr.write(__doc__)
        return 2
    render, oracle, listed = load(args[0]), load(args[1]), load(args[2])[0]["differences"]
    unlisted, used = [], set()
    version = emqx_version(render)
    for obj, path, change, ours, theirs in compare(render, oracle):
        entry = next((e for e in listed if matches(e, obj, path, change, generation, version)), None)
        line = f"{obj}: {path or '(whole object)'}: {change}: emqx-render {short(ours)} | operator {short(theirs)}"
        if entry is None:
            unlisted.append(line)
        else:
            used.add(entry["id"])
            if "--all" in argv:
                print(f"listed [{entry['id']}] {line}")
    if used_file:
        with open(used_file, "a", encoding="utf-8") as f:
            f.writelines(f"{u}\n" for u in sorted(used))
    for line in unlisted:
        print(f"NOT LISTED {line}")
    if unlisted:
        print(f"{len(unlisted)} difference(s) from the operator are not in {args[2]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
