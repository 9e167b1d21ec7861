"""What the pieces of a stage playbook cost on this machine (no lab needed).

    .venv/bin/python bench/profile_costs.py [--rounds 5]

1. Per task kind: playbooks of 1 and 11 tasks of one kind (ping, set_fact, assert, debug, stat,
   include_role, a task skipped by `when`), run interleaved; the cost of one task is the slope
   (11 tasks - 1 task) / 10, the start-up is what the 1-task playbook costs beyond one task.
2. Module start-up: the AnsiballZ payload of rollout_promote and of ping, exploded, and the time
   of importing what each imports (`python -X importtime`), grouped by top-level package; the
   fastest of several runs.

Numbers are medians (or minima, for imports) of this run; compare them with each other, not
with another machine's.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
from tools.lab.lab import Lab  # noqa: E402  (the lab's inventory: inventories/lab for four members)

INVENTORY = Lab().inventory()

TASKS = {
    "ping": {"ansible.builtin.ping": None},
    "set_fact": {"ansible.builtin.set_fact": {"bench_x": "{{ 1 + 1 }}"}},
    "assert": {"ansible.builtin.assert": {"that": ["1 == 1"], "quiet": True}},
    "debug": {"ansible.builtin.debug": {"msg": "hi"}},
    "stat": {"ansible.builtin.stat": {"path": "/tmp"}},
    "include_role": {"ansible.builtin.include_role": {"name": "bench_empty"}},
    "skipped": {"ansible.builtin.debug": {"msg": "hi"}, "when": "false"},
}


def env():
    site = [p for p in sys.path if p.endswith("site-packages")]
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(ROOT / "build" / "collections")] + site),
                ANSIBLE_NOCOLOR="1")


def write_playbooks(tmp: Path):
    role = tmp / "roles" / "bench_empty" / "tasks"
    role.mkdir(parents=True)
    (role / "main.yml").write_text("---\n- name: Nothing\n  ansible.builtin.meta: noop\n")
    files = {}
    for kind, task in TASKS.items():
        for n in (1, 11):
            tasks = [dict({"name": "{0} {1}".format(kind, i)}, **task) for i in range(n)]
            path = tmp / "{0}_{1}.yml".format(kind, n)
            path.write_text(yaml.safe_dump([{"name": "p", "hosts": "karmada", "gather_facts": False, "tasks": tasks}]))
            files[(kind, n)] = path
    return files


def task_costs(rounds):
    with tempfile.TemporaryDirectory() as tmp:
        files = write_playbooks(Path(tmp))
        times = defaultdict(list)
        for _round in range(rounds):
            for key, path in files.items():
                t0 = time.perf_counter()
                proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(path)],
                                      cwd=tmp, env=env(), capture_output=True, text=True, check=False)
                times[key].append(time.perf_counter() - t0)
                if proc.returncode != 0:
                    raise SystemExit("{0}: {1}".format(path.name, proc.stdout[-2000:]))
    print("one task, by kind (median of {0}; slope of 11 tasks over 1 task):".format(rounds))
    base = statistics.median(times[("ping", 1)])
    print("  {0:<14} {1:>9}  {2}".format("kind", "per task", "1-task playbook"))
    for kind in TASKS:
        one, eleven = statistics.median(times[(kind, 1)]), statistics.median(times[(kind, 11)])
        print("  {0:<14} {1:>7.3f} s  {2:.2f} s".format(kind, (eleven - one) / 10, one))
    print("  (the ping playbook of 1 task: {0:.2f} s)".format(base))


def payload(module_playbook: str, args: dict, tmp: Path) -> Path:
    """Run one task with ANSIBLE_KEEP_REMOTE_FILES and return the exploded AnsiballZ directory."""
    keep = tmp / "keep"
    keep.mkdir(exist_ok=True)
    play = [{"name": "p", "hosts": "karmada", "gather_facts": False, "tasks": [{"name": "t", module_playbook: args}]}]
    path = tmp / "one.yml"
    path.write_text(yaml.safe_dump(play))
    subprocess.run([str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(path)], cwd=tmp,
                   env=dict(env(), ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(keep)),
                   capture_output=True, text=True, check=False)
    found = sorted(glob.glob(str(keep / "ansible-tmp-*" / "AnsiballZ_*.py")), key=os.path.getmtime)
    if not found:
        raise SystemExit("no AnsiballZ payload kept for " + module_playbook)
    wrapper = Path(found[-1])
    subprocess.run([sys.executable, str(wrapper), "explode"], cwd=wrapper.parent, capture_output=True, check=True)
    for old in found[:-1]:
        subprocess.run(["rm", "-rf", str(Path(old).parent)], check=False)
    return wrapper


def import_profile(wrapper: Path, runs: int):
    """(wall seconds of the fastest run, {package: self seconds} of that run) of `execute` (imports, then main)."""
    best = None
    for _run in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-X", "importtime", str(wrapper), "execute"], cwd=wrapper.parent,
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if best is None or wall < best[0]:
            best = (wall, proc.stderr)
    groups = defaultdict(float)
    for line in best[1].splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, _cum, name = line[len("import time:"):].split("|")
        if not self_us.strip().isdigit():
            continue
        parts = name.strip().split(".")
        if parts[0] == "ansible_collections":
            key = ".".join(parts[:3])
        elif parts[0] in ("ansible", "kubernetes"):
            key = ".".join(parts[:2])
        else:
            key = parts[0]
        groups[key] += int(self_us) / 1e6
    return best[0], groups


def module_costs(runs):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for sub in ("ping", "promote"):
            (tmp / sub).mkdir()
        ping = payload("ansible.builtin.ping", None, tmp / "ping")
        promote = payload("multicluster.canary.rollout_promote",
                          {"kubeconfig": str(tmp / "absent"), "name": "x", "namespace": "x"}, tmp / "promote")
        results = {}
        for name, wrapper in (("ping", ping), ("rollout_promote", promote)):
            results[name] = import_profile(wrapper, runs)
    print("")
    print("module start-up, AnsiballZ payload run by hand (fastest of {0}; rollout_promote stops at its".format(runs))
    print("kubeconfig check, after every import and before any request):")
    for name, (wall, _groups) in results.items():
        print("  {0:<16} {1:.3f} s".format(name, wall))
    wall, groups = results["rollout_promote"]
    ping_groups = results["ping"][1]
    print("  imports of rollout_promote by package (self time, s; ping's in brackets):")
    total = sum(groups.values())
    for key, value in sorted(groups.items(), key=lambda kv: -kv[1])[:18]:
        print("    {0:<44} {1:6.3f}  [{2:.3f}]".format(key, value, ping_groups.get(key, 0.0)))
    print("    {0:<44} {1:6.3f}  [{2:.3f}]".format("all imports", total, sum(ping_groups.values())))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-tasks", action="store_true")
    args = parser.parse_args()
    print("load average at the start: {0}".format(open("/proc/loadavg").read().split()[0]))
    if not args.skip_tasks:
        task_costs(args.rounds)
    module_costs(max(3, args.rounds))
    print("load average at the end: {0}".format(open("/proc/loadavg").read().split()[0]))


if __name__ == "__main__":
    main()
