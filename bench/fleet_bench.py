"""What a release stage costs on the lab, against baselines measured in the same run.

    make bench                                   # the running lab (make lab-up), its member count
    make bench BENCH_ARGS='--members 8 --lab-up fresh --rounds 6'
    .venv/bin/python bench/fleet_bench.py --report bench/results/FILE.json    # a saved run's report again

Each round releases ruoyi-vue (the catalogue's frontend, four pauses) in a namespace of the bench's
own (mcc-bench) from one image to the other and promotes it pause by pause, timing, as users run
them with the lab inventory (the token identity, members through Karmada's cluster proxy):

    ping        bench/playbooks/ping.yml, one ansible.builtin.ping task: the baseline
    promote     playbooks/promote.yml -e app=ruoyi-vue (checks, promote with wait, status)
    task_wait   bench/playbooks/promote_task.yml: one rollout_promote task, wait: true
    task        the same task, wait: false
    kubectl     kubectl argo rollouts promote ruoyi-vue --context M, for each member in turn
                (the lab's admin kubeconfig, straight to each member's API server)
    status      playbooks/status.yml
    canary      playbooks/canary.yml -e image=...: a release step (new image, wait for the first pause)
    release     playbooks/release.yml -e app=ruoyi-vue again on the image that runs: a no-op

and prints medians, ratios to the ping playbook's median, API requests per cluster (from the API
servers' audit logs, when the lab runs with bench/audit-policy.yaml), the wait latency, and the
lab's memory. Results are also written to bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import audit_log  # noqa: E402

NAMESPACE = "mcc-bench"
APP = "ruoyi-vue"
AUDIT_POLICY = ROOT / "bench" / "audit-policy.yaml"
BIN = Path(sys.executable).parent
PROMOTERS = ("promote", "task_wait", "task", "kubectl")
WAITERS = ("promote", "task_wait")


def log(msg):
    print("[bench {0}] {1}".format(time.strftime("%H:%M:%S"), msg), flush=True)


class BenchError(RuntimeError):
    pass


# ---- the lab -------------------------------------------------------------------------------------

class LabInfo:
    def __init__(self, state: Path):
        self.state = state
        info = json.loads((state / "lab.json").read_text())
        self.members = info["members"]
        self.kubeconfig = info["kubeconfig"]
        self.bin = Path(info["bin"])
        self.audit = audit_log.enabled(state)
        # inventories/lab for the default four members, the lab's own for other sizes (tools/lab)
        self.inventory = Path(info.get("inventory") or ROOT / "inventories" / "lab")


def lab_command(args, members=None, audit=True, check=True, capture=True):
    cmd = [sys.executable, "-m", "tools.lab"] + (["--members", str(members)] if members else []) + list(args)
    env = dict(os.environ)
    if audit:
        env["MCC_LAB_AUDIT_POLICY"] = str(AUDIT_POLICY)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=capture, text=True, check=False)
    if check and proc.returncode != 0:
        raise BenchError("{0} failed ({1}):\n{2}{3}".format(" ".join(cmd[1:]), proc.returncode,
                                                            (proc.stdout or "")[-3000:], (proc.stderr or "")[-3000:]))
    return proc


def lab_up(mode, members):
    """Stop the lab, then time `python -m tools.lab up` (binaries cached: a warm start)."""
    log("lab: down{0}, then up with {1} members, timed".format(" --purge" if mode == "fresh" else "", members))
    lab_command(["down"] + (["--purge"] if mode == "fresh" else []), members=members)
    started = time.monotonic()
    lab_command(["up"], members=members)
    return time.monotonic() - started


def lab_memory():
    """(total RSS in MiB, running processes) as `python -m tools.lab status` prints them."""
    out = lab_command(["status"], check=False).stdout
    found = re.search(r"total RSS: (\d+) MiB across (\d+) running", out)
    return (int(found.group(1)), int(found.group(2))) if found else (None, None)


# ---- running things --------------------------------------------------------------------------------

class Sample:
    def __init__(self, what, seconds, start, end, record=None, round_no=None, slot=None):
        self.what = what
        self.seconds = seconds
        self.start = start
        self.end = end
        self.record = record or {}
        self.round = round_no
        self.slot = slot
        self.requests = None   # {cluster: Counter}, from the audit log
        self.wait = None       # wait latency figures, from the audit log

    @classmethod
    def from_dict(cls, d):
        s = cls(d["what"], d["seconds"], d["start"], d["end"], d.get("record"), d.get("round"), d.get("slot"))
        return s

    def as_dict(self):
        return dict(what=self.what, seconds=self.seconds, start=self.start, end=self.end, round=self.round,
                    slot=self.slot, record=self.record,
                    requests=dict((c, dict(v)) for c, v in (self.requests or {}).items()), wait=self.wait)


class Runner:
    def __init__(self, lab: LabInfo, inventory: Path):
        self.lab = lab
        self.inventory = inventory
        site = [p for p in sys.path if p.endswith("site-packages")]
        self.env = dict(os.environ,
                        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(ROOT / "build" / "collections")] + site),
                        ANSIBLE_CALLBACK_PLUGINS=str(ROOT / "bench" / "callback_plugins"),
                        ANSIBLE_CALLBACKS_ENABLED="bench_record",
                        ANSIBLE_NOCOLOR="1")
        self.env.pop("ANSIBLE_STDOUT_CALLBACK", None)
        self.kubectl_env = dict(os.environ, PATH=str(lab.bin) + os.pathsep + os.environ.get("PATH", ""))

    def playbook(self, what, playbook, extra, **where):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
            record_path = fh.name
        cmd = [str(BIN / "ansible-playbook"), "-i", str(self.inventory), str(ROOT / playbook)]
        for key, value in extra.items():
            cmd += ["-e", "{0}={1}".format(key, value)]
        env = dict(self.env, MCC_BENCH_RECORD=record_path)
        start, t0 = time.time(), time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        seconds, end = time.perf_counter() - t0, time.time()
        try:
            record = json.loads(Path(record_path).read_text() or "{}")
        except (OSError, ValueError):
            record = {}
        finally:
            Path(record_path).unlink(missing_ok=True)
        if proc.returncode != 0:
            raise BenchError("{0} ({1}) failed ({2}):\n{3}".format(
                what, " ".join(cmd[3:]), proc.returncode, proc.stdout[-4000:] + proc.stderr[-2000:]))
        return Sample(what, seconds, start, end, record, **where)

    def kubectl_loop(self, what, **where):
        """kubectl argo rollouts promote, once per member, one after the other."""
        cmds = [[str(self.lab.bin / "kubectl"), "argo", "rollouts", "promote", APP, "-n", NAMESPACE,
                 "--kubeconfig", self.lab.kubeconfig, "--context", member] for member in self.lab.members]
        start, t0 = time.time(), time.perf_counter()
        failed = []
        for cmd in cmds:
            proc = subprocess.run(cmd, env=self.kubectl_env, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                failed.append("{0}: {1}".format(cmd[-1], (proc.stderr or proc.stdout).strip()))
        seconds, end = time.perf_counter() - t0, time.time()
        if failed:
            raise BenchError("kubectl argo rollouts promote failed: " + "; ".join(failed))
        return Sample(what, seconds, start, end, **where)

    def admin_kubectl(self, context, *args, check=True, timeout=300):
        proc = subprocess.run([str(self.lab.bin / "kubectl"), "--kubeconfig", self.lab.kubeconfig,
                               "--context", context, *args], capture_output=True, text=True, check=False,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise BenchError("kubectl {0}: {1}".format(" ".join(args), proc.stderr.strip()))
        return proc.stdout


# ---- the fleet as the bench sees it (admin, straight to each member; never timed) -----------------

class Fleet:
    def __init__(self, lab: LabInfo, steps):
        import kubernetes  # the bench's own reads; the modules under test never share this process
        self.clients = dict((m, kubernetes.client.CustomObjectsApi(
            kubernetes.config.new_client_from_config(config_file=lab.kubeconfig, context=m)))
            for m in lab.members)
        self.pauses = [i for i, step in enumerate(steps) if "pause" in step]
        self.step_count = len(steps)

    def rollouts(self):
        found = {}
        for member, api in self.clients.items():
            try:
                found[member] = api.get_namespaced_custom_object("argoproj.io", "v1alpha1", NAMESPACE, "rollouts", APP)
            except Exception:  # pylint: disable=broad-exception-caught  # not there (yet)
                found[member] = None
        return found

    @staticmethod
    def _image(rollout):
        return rollout["spec"]["template"]["spec"]["containers"][0]["image"]

    @staticmethod
    def _observed(rollout):
        return str((rollout.get("status") or {}).get("observedGeneration")) == str(rollout["metadata"]["generation"])

    def at_pause(self, rollout, index):
        status = rollout.get("status") or {}
        return (self._observed(rollout) and status.get("phase") == "Paused" and bool(status.get("pauseConditions"))
                and status.get("currentStepIndex") == self.pauses[index])

    def healthy(self, rollout, image):
        status = rollout.get("status") or {}
        return (self._observed(rollout) and status.get("phase") == "Healthy" and self._image(rollout) == image
                and status.get("stableRS") and status.get("stableRS") == status.get("currentPodHash")
                and status.get("currentStepIndex") in (None, self.step_count))

    def where(self):
        out = []
        for member, r in sorted(self.rollouts().items()):
            if r is None:
                out.append("{0}: no Rollout".format(member))
                continue
            s = r.get("status") or {}
            out.append("{0}: {1} step {2} gen {3}/{4} image {5}".format(
                member, s.get("phase"), s.get("currentStepIndex"), s.get("observedGeneration"),
                r["metadata"]["generation"], self._image(r)))
        return "; ".join(out)

    def wait(self, predicate, what, timeout=300):
        deadline = time.monotonic() + timeout
        while True:
            found = self.rollouts()
            if all(r is not None and predicate(r) for r in found.values()):
                return found
            if time.monotonic() > deadline:
                raise BenchError("after {0}s, not every member is {1}: {2}".format(timeout, what, self.where()))
            time.sleep(0.2)


# ---- the rounds ------------------------------------------------------------------------------------

def schedule(round_no):
    """Which promotion runs at each of the four pauses: the two that wait for the next pause take two of
    the first three (the fourth promotion ends the release: nothing to wait for but Healthy), rotating
    so that each meets every step; the two that do not wait take the rest."""
    other, last = ("kubectl", "task") if round_no % 2 == 0 else ("task", "kubectl")
    first = ["promote", "task_wait", other]
    shift = round_no % 3
    return first[shift:] + first[:shift] + [last]


def run_rounds(runner, fleet, rounds, catalogue_image, alt_image, samples):
    base = {"multicluster_canary_namespace": NAMESPACE, "app": APP}
    images = [catalogue_image, alt_image]
    for round_no in range(rounds):
        old, new = images[round_no % 2], images[(round_no + 1) % 2]
        log("round {0}/{1}: {2} -> {3}".format(round_no + 1, rounds, old, new))
        fleet.wait(lambda r, image=old: fleet.healthy(r, image), "Healthy on " + old)
        where = dict(round_no=round_no)
        samples.append(runner.playbook("ping", "bench/playbooks/ping.yml", {}, **where))
        # a re-run of release.yml on the image that runs: without -e image it releases the catalogue's image
        samples.append(runner.playbook("release", "playbooks/release.yml",
                                       dict(base, **({"image": old} if old != catalogue_image else {})), **where))
        samples.append(runner.playbook("canary", "playbooks/canary.yml", dict(base, image=new), **where))
        fleet.wait(lambda r: fleet.at_pause(r, 0), "at the first pause")
        samples.append(runner.playbook("ping", "bench/playbooks/ping.yml", {}, **where))
        samples.append(runner.playbook("status", "playbooks/status.yml", base, **where))
        for slot, method in enumerate(schedule(round_no)):
            where = dict(round_no=round_no, slot=slot)
            if method == "promote":
                sample = runner.playbook(method, "playbooks/promote.yml", base, **where)
            elif method in ("task_wait", "task"):
                sample = runner.playbook(method, "bench/playbooks/promote_task.yml",
                                         {"bench_namespace": NAMESPACE, "bench_wait": method == "task_wait"},
                                         **where)
            else:
                sample = runner.kubectl_loop(method, **where)
            samples.append(sample)
            if slot + 1 < len(fleet.pauses):
                found = fleet.wait(lambda r, i=slot + 1: fleet.at_pause(r, i), "at pause {0}".format(slot + 2))
            else:
                found = fleet.wait(lambda r, image=new: fleet.healthy(r, image), "Healthy on " + new)
            # the controller's own record of when the pause began (whole seconds): the fallback without audit
            sample.record["pause_started"] = dict(
                (m, [c.get("startTime") for c in (r.get("status") or {}).get("pauseConditions") or []])
                for m, r in found.items())
            if slot in (0, 2):
                samples.append(runner.playbook("ping", "bench/playbooks/ping.yml", {}, **where))


def module_runs(runner, runs, samples):
    """bench/playbooks/module_twice.yml ``runs`` times: the first and the later runs of each module in one process."""
    for _run in range(runs):
        samples.append(runner.playbook("module_twice", "bench/playbooks/module_twice.yml",
                                       {"bench_namespace": NAMESPACE}))


def module_report(samples):
    """(label, median s) of module_twice runs: each module's first task (payload built) and the later ones."""
    rows = defaultdict(list)
    for s in samples:
        tasks = [t for t in s.record.get("tasks", []) if t.get("end")]
        for kind, prefix in (("ping", "Ping"), ("rollout_promote (action: status)", "Read the Rollout")):
            mine = [t["end"] - t["start"] for t in tasks if t["name"].startswith(prefix)]
            if len(mine) == 3:
                rows[kind + ", first task (AnsiballZ payload built)"].append(mine[0])
                rows[kind + ", 2nd and 3rd task (payload cached)"].append(statistics.mean(mine[1:]))
    return [(label, median(values)) for label, values in rows.items()]


def setup(runner, fleet, catalogue_image):
    log("setup: {0} in namespace {1} through release.yml (bootstrap, onboard, release)".format(APP, NAMESPACE))
    cleanup(runner, fleet)
    runner.playbook("setup", "playbooks/release.yml", {"multicluster_canary_namespace": NAMESPACE, "app": APP})
    fleet.wait(lambda r: fleet.healthy(r, catalogue_image), "Healthy on " + catalogue_image)


def cleanup(runner, fleet, timeout=240):
    """Delete the bench's namespace in Karmada (its objects go from every member with it)."""
    runner.admin_kubectl("karmada-apiserver", "delete", "namespace", NAMESPACE, "--ignore-not-found",
                         "--wait=true", "--timeout={0}s".format(timeout))
    deadline = time.monotonic() + timeout
    for member in fleet.clients:
        while runner.admin_kubectl(member, "get", "namespace", NAMESPACE, "--ignore-not-found", "-o", "name").strip():
            if time.monotonic() > deadline:
                raise BenchError("namespace {0} still in {1} after {2}s".format(NAMESPACE, member, timeout))
            time.sleep(1)


# ---- the audit log ---------------------------------------------------------------------------------

def ours(event):
    return event.ours


def kubectl_plugin(event):
    return event.kubectl_plugin


def analyse_audit(lab, samples, since):
    events = audit_log.load(lab.state, ["karmada"] + lab.members, since)
    for s in samples:
        pick = kubectl_plugin if s.what == "kubectl" else ours
        s.requests = audit_log.counts(events, s.start, s.end, pick)
        if s.what not in WAITERS:
            continue
        task = next((t for t in s.record.get("tasks", []) if t.get("action", "").endswith("rollout_promote")), None)
        settled = (task or {}).get("settled_at") or {}
        if not settled:
            continue
        writes = dict((m, audit_log.controller_pause_write(events[m], NAMESPACE, APP, s.start, t))
                      for m, t in settled.items())
        patched = [audit_log.first_write(events[m], NAMESPACE, APP, s.start, s.end, ours) for m in settled]
        if None in writes.values() or None in patched:
            continue
        s.wait = dict(
            notice=max(settled[m] - writes[m] for m in settled),          # written -> the wait saw it
            returned=task["end"] - max(writes.values()),                   # last member's pause -> task result
            controller=max(writes.values()) - min(patched),                   # our first patch -> last pause written
            module=task["end"] - task["start"])


# ---- the report ------------------------------------------------------------------------------------

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def by_what(samples):
    found = defaultdict(list)
    for s in samples:
        found[s.what].append(s)
    return found


def request_summary(samples, members):
    """Median per run: (per member: reads, watches, writes as min-max over members), Karmada: reads, writes, discovery."""
    if not samples or samples[0].requests is None:
        return None
    per = defaultdict(list)
    for s in samples:
        for cat in ("reads", "watches", "writes"):
            values = [s.requests.get(m, Counter())[cat] for m in members]
            per["member_" + cat + "_min"].append(min(values))
            per["member_" + cat + "_max"].append(max(values))
        for cat in ("reads", "writes", "dry_runs", "discovery", "proxied"):
            per["karmada_" + cat].append(s.requests.get("karmada", Counter())[cat])
    return dict((k, median(v)) for k, v in per.items())


def fmt_range(lo, hi):
    if lo is None:
        return "-"
    return "{0:g}".format(lo) if lo == hi else "{0:g}-{1:g}".format(lo, hi)


def report(samples, lab, meta):
    groups = by_what(samples)
    ping = median(s.seconds for s in groups["ping"])
    lines = []
    add = lines.append
    add("")
    add("multicluster.canary bench: {members} members, {rounds} rounds, {date}".format(**meta))
    add("machine: {machine}; load average {load_start} at the start, {load_end} at the end".format(**meta))
    add("")
    add("{0:<58} {1:>8} {2:>15} {3:>9} {4:>13}".format("run (as users run it)", "median s", "min-max s", "/ ping",
                                                       "tasks/modules"))
    names = [
        ("ping", "ping playbook (baseline: 1 ansible.builtin.ping task)"),
        ("promote", "promote.yml (checks, promote + wait, status)"),
        ("task_wait", "rollout_promote task, wait: true"),
        ("task", "rollout_promote task, wait: false"),
        ("kubectl", "kubectl argo rollouts promote, each member in turn"),
        ("status", "status.yml"),
        ("canary", "canary.yml (a release step: image, wait 1st pause)"),
        ("release", "release.yml re-run on the running image (no-op)"),
    ]
    medians = {}
    for key, label in names:
        runs = groups.get(key) or []
        if not runs:
            continue
        secs = [s.seconds for s in runs]
        medians[key] = median(secs)
        shape = [task_shape(r.record) for r in runs if r.record.get("tasks")]
        add("{0:<58} {1:>8.2f} {2:>15} {3:>8.2f}x {4:>13}".format(
            label, medians[key], "{0:.2f}-{1:.2f}".format(min(secs), max(secs)), medians[key] / ping,
            "{0:g}/{1:g}".format(median(t for t, _m in shape), median(m for _t, m in shape)) if shape else "-"))
    for key, label in (("promote", "promote.yml less the controllers' time to the next pause"),
                       ("task_wait", "rollout_promote task, wait: true, less the same")):
        own = [r.seconds - r.wait["controller"] for r in groups.get(key, []) if r.wait]
        if own:
            add("{0:<58} {1:>8.2f} {2:>15} {3:>8.2f}x".format(
                label, median(own), "{0:.2f}-{1:.2f}".format(min(own), max(own)), median(own) / ping))
    if "kubectl" in medians:
        add("{0:<58} {1:>8.2f}x".format("promote.yml / kubectl loop", medians["promote"] / medians["kubectl"]))
        add("{0:<58} {1:>8.2f}x".format("rollout_promote task (no wait) / kubectl loop",
                                        medians["task"] / medians["kubectl"]))
    changed = [sum(h.get("changed", 0) for h in s.record.get("recap", {}).values()) for s in groups.get("release", [])]
    add("release.yml no-op: changed = {0} (each run)".format(", ".join(str(c) for c in changed)))

    add("")
    if lab.audit:
        add("API requests per run (median over runs; the collection's identity, or the kubectl plugin; from the")
        add("API servers' audit logs). Per member: min-max over the {0} members.".format(len(lab.members)))
        add("{0:<26} {1:>10} {2:>10} {3:>10} | {4:>14} {5:>7} {6:>9} {7:>10}".format(
            "run", "mbr reads", "mbr watch", "mbr write", "karmada reads", "writes", "dry runs", "discovery"))
        for key, label in (("promote", "promote.yml"), ("task_wait", "task, wait"), ("task", "task, no wait"),
                           ("kubectl", "kubectl loop"), ("status", "status.yml"), ("canary", "canary.yml"),
                           ("release", "release.yml no-op"), ("ping", "ping")):
            r = request_summary(groups.get(key), lab.members)
            if not r:
                continue
            add("{0:<26} {1:>10} {2:>10} {3:>10} | {4:>14g} {5:>7g} {6:>9g} {7:>10g}".format(
                label, fmt_range(r["member_reads_min"], r["member_reads_max"]),
                fmt_range(r["member_watches_min"], r["member_watches_max"]),
                fmt_range(r["member_writes_min"], r["member_writes_max"]),
                r["karmada_reads"], r["karmada_writes"], r["karmada_dry_runs"], r["karmada_discovery"]))
        waits = [s.wait for key in WAITERS for s in groups.get(key, []) if s.wait]
        add("")
        add("wait latency ({0} waits to the next pause; medians, max over members within a run):".format(len(waits)))
        if waits:
            add("  controller: our first patch -> the last member's next pause written   {0:6.2f} s".format(
                median(w["controller"] for w in waits)))
            add("  notice:     a member's pause written -> the wait saw it               {0:6.3f} s".format(
                median(w["notice"] for w in waits)))
            add("  return:     the last member's pause written -> the task's result      {0:6.3f} s".format(
                median(w["returned"] for w in waits)))
    else:
        add("API requests and wait latency: not measured (the lab runs without an audit log; start it with")
        add("MCC_LAB_AUDIT_POLICY=$PWD/bench/audit-policy.yaml make lab-up, or run the bench with --lab-up)")

    prof = task_profile(groups.get("promote", []))
    if prof:
        add("")
        add("where promote.yml's time goes (median s; {0} runs):".format(len(groups.get("promote", []))))
        for label, value in prof:
            add("  {0:<100} {1:6.3f}".format(label[:100], value))
    for key in ("release", "canary", "status"):
        prof = task_profile(groups.get(key, []))
        if not prof:
            continue
        head, body, tail = prof[0], prof[1:-2], prof[-2:]
        add("")
        add("where {0}.yml's time goes: the 8 slowest of its tasks (median s; {1} runs):".format(
            key, len(groups.get(key, []))))
        for label, value in [head] + sorted(body, key=lambda lv: -lv[1])[:8] + tail:
            add("  {0:<100} {1:6.3f}".format(label[:100], value))

    prof = module_report(groups.get("module_twice", []))
    if prof:
        add("")
        add("one module task, as the callback times it (median s; {0} runs of bench/playbooks/module_twice.yml):".format(
            len(groups.get("module_twice", []))))
        for label, value in prof:
            add("  {0:<70} {1:6.3f}".format(label, value))

    add("")
    add("lab: {0} members; total RSS {1} MiB across {2} processes after the bench ({3} MiB after up)".format(
        len(lab.members), meta.get("rss_end"), meta.get("procs_end"), meta.get("rss_up", "-")))
    add("lab-up: {0}".format("{0:.0f} s ({1}; binaries cached)".format(meta["lab_up_seconds"], meta["lab_up_mode"])
                             if meta.get("lab_up_seconds") else "not measured (the lab was already up; --lab-up)"))
    return "\n".join(lines)


# Actions that run on the controller, in the worker, without a module run of their own.
CONTROLLER_ACTIONS = ("assert", "set_fact", "debug", "fail", "meta", "include_role", "include_tasks", "import_role",
                      "import_tasks", "validate_argument_spec", "set_stats", "include_vars")


def task_shape(record):
    """(tasks run, module runs) of one playbook run: tasks skipped by `when` are not counted."""
    ran = [t for t in record.get("tasks", []) if t.get("status") not in (None, "skipped")]
    modules = [t for t in ran if t["action"].split(".")[-1] not in CONTROLLER_ACTIONS]
    return len(ran), len(modules)


def task_profile(samples):
    """(label, median seconds) of promote.yml: start-up, every task, the end."""
    if not samples:
        return []
    rows = defaultdict(list)
    order = []
    for s in samples:
        tasks = [t for t in s.record.get("tasks", []) if t.get("end")]
        if not tasks:
            continue
        rows["ansible-playbook start-up (process start -> first task)"].append(tasks[0]["start"] - s.start)
        seen = Counter()
        for t in tasks:
            seen[t["name"]] += 1
            label = "{0} [{1}]".format(t["name"], t["action"].split(".")[-1])
            if seen[t["name"]] > 1:
                label += " #{0}".format(seen[t["name"]])
            if label not in order:
                order.append(label)
            rows[label].append(t["end"] - t["start"])
        rows["after the last task (-> process exit)"].append(s.end - tasks[-1]["end"])
        rows["tasks: {0} (sum of their times)".format(len(tasks))].append(sum(t["end"] - t["start"] for t in tasks))
    labels = ["ansible-playbook start-up (process start -> first task)"] + order + \
        [k for k in rows if k.startswith("tasks:")] + ["after the last task (-> process exit)"]
    return [(label, median(rows[label])) for label in labels if label in rows]


def machine():
    cores = os.cpu_count()
    mem = next((int(line.split()[1]) // 1024 // 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    return "{0} cores ({1}), {2} GiB, {3} {4}".format(cores, model, mem, platform.system(), platform.release())


def load():
    return open("/proc/loadavg").read().split()[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--rounds", type=int, default=5, help="releases (4 promotions each); default 5")
    parser.add_argument("--members", type=int, default=None, help="expect (or, with --lab-up, start) this many")
    parser.add_argument("--lab-up", choices=("fresh", "restart"), default=None,
                        help="stop the lab and time its start: fresh (state purged) or restart (state kept)")
    parser.add_argument("--lab-down", action="store_true", help="stop the lab at the end")
    parser.add_argument("--state", default=os.environ.get("MCC_LAB_DIR") or str(ROOT / ".lab"))
    parser.add_argument("--report", metavar="RESULTS_JSON",
                        help="print the report of an earlier run again (request counts from the lab's audit logs)")
    args = parser.parse_args(argv)

    state = Path(args.state).resolve()
    if args.report:
        saved = json.loads(Path(args.report).read_text())
        lab = LabInfo(state)
        samples = [Sample.from_dict(d) for d in saved["samples"]]
        if lab.audit:
            analyse_audit(lab, samples, min(s.start for s in samples))
        print(report(samples, lab, saved["meta"]))
        return 0
    meta = dict(rounds=args.rounds, date=time.strftime("%Y-%m-%d %H:%M %Z"), machine=machine(), load_start=load())
    if args.lab_up:
        meta["lab_up_seconds"] = lab_up(args.lab_up, args.members or 4)
        meta["lab_up_mode"] = args.lab_up
        meta["rss_up"], meta["procs_up"] = lab_memory()
    elif lab_command(["status"], check=False).returncode != 0:
        raise BenchError("the lab is not up and healthy (make lab-up, or --lab-up fresh)")
    lab = LabInfo(state)
    if args.members and len(lab.members) != args.members:
        raise BenchError("the lab has {0} members, not {1} (--lab-up fresh --members {1})".format(
            len(lab.members), args.members))
    meta["members"] = len(lab.members)
    if not lab.audit:
        log("the lab runs without an audit log: no request counts, no wait latency")

    inventory = lab.inventory
    catalogue = yaml.safe_load((inventory / "group_vars" / "all.yml").read_text())["multicluster_canary_apps"][APP]
    catalogue_image = catalogue["image"]
    alt_image = catalogue_image + "-bench"
    runner = Runner(lab, inventory)
    fleet = Fleet(lab, catalogue["steps"])
    samples = []
    since = time.time()
    try:
        setup(runner, fleet, catalogue_image)
        run_rounds(runner, fleet, args.rounds, catalogue_image, alt_image, samples)
        module_runs(runner, 3, samples)
    finally:
        log("cleanup: namespace {0}".format(NAMESPACE))
        try:
            cleanup(runner, fleet)
        except BenchError as e:
            log("cleanup failed: {0}".format(e))
    meta["load_end"] = load()
    meta["rss_end"], meta["procs_end"] = lab_memory()
    if lab.audit:
        time.sleep(1)  # the audit log's last lines
        analyse_audit(lab, samples, since)
    text = report(samples, lab, meta)
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    name = out / "{0}-{1}m.json".format(time.strftime("%Y%m%d-%H%M%S"), len(lab.members))
    name.write_text(json.dumps(dict(meta=meta, samples=[s.as_dict() for s in samples], report=text), indent=1))
    log("results: {0}".format(name.relative_to(ROOT)))
    if args.lab_down:
        lab_command(["down"])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print("bench: {0}".format(e), file=sys.stderr)
        sys.exit(1)
