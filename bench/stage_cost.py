"""How a stage's cost grows with the number of member clusters (run with the lab up).

Prints ratios against a baseline measured in the same process, never absolute claims:
  - fleet ratio: reading one Rollout list from N members concurrently (Fleet.run), over 1 member;
  - loop ratio: the same N reads one member after another, over 1 member (what a per-cluster
    Ansible loop pays, before its ~0.5-0.9 s per task of module start-up);
  - module ratio: one `rollout_promote action=status` task over N clusters, over the same task
    over 1 cluster (a whole ansible-playbook run each, as a user pays it).

    make lab-up && .venv/bin/python bench/stage_cost.py [--rounds 5]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "build" / "collections"))

from ansible_collections.multicluster.canary.plugins.module_utils import fleet as fl  # noqa: E402


class _Module:  # what kubernetes.core's auth helpers read from a module
    def __init__(self, params):
        self.params = params


def median_seconds(fn, rounds):
    times = []
    for _round in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def task_seconds(task, rounds, warm=False):
    """Median seconds of `ansible-playbook` running one task on localhost (the collection from this checkout)."""
    play = [{"hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable}, "tasks": [task]}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as fh:
        yaml.safe_dump(play, fh)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(
        [str(ROOT / "build" / "collections"), *[p for p in sys.path if p.endswith("site-packages")]]))
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", fh.name]

    def run():
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise SystemExit(proc.stdout[-2000:])
    if warm:
        run()  # warm caches (collection loading, TLS sessions of the API servers)
    return median_seconds(run, rounds)


def playbook_seconds(info, clusters, namespace, rounds):
    return task_seconds({"multicluster.canary.rollout_promote": {
        "kubeconfig": info["kubeconfig"], "context": info["karmada_context"], "clusters": clusters,
        "name": "bench", "namespace": namespace, "action": "status"}}, rounds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    info = json.loads((ROOT / ".lab" / "lab.json").read_text())
    members = info["members"]
    params = dict((k, None) for k in fl.AUTH_ARG_SPEC)
    params.update(kubeconfig=info["kubeconfig"], context=info["karmada_context"], validate_certs=True)
    fleet = fl.Fleet(_Module(params))
    rollouts = fl.kind("Rollout")

    def read(endpoint):
        return endpoint.list(rollouts, "default")

    for m in members:  # connections and TLS sessions warm, as inside one module run
        read(fleet.member(m))
    one = median_seconds(lambda: fleet.run(members[:1], read), args.rounds * 4)
    concurrent = median_seconds(lambda: fleet.run(members, read), args.rounds * 4)
    loop = median_seconds(lambda: [read(fleet.member(m)) for m in members], args.rounds * 4)
    print("members: {0}".format(len(members)))
    print("fleet ratio  (N concurrent reads / 1 read):      {0:.2f}".format(concurrent / one))
    print("loop ratio   (N sequential reads / 1 read):      {0:.2f}".format(loop / one))

    # a Rollout to read in every member, so the module has real work
    namespace = "bench-stage-cost"
    kubectl = [str(ROOT / ".lab" / "bin" / "kubectl"), "--kubeconfig", info["kubeconfig"]]
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "bench", "namespace": namespace},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "bench"}},
                        "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}},
                        "template": {"metadata": {"labels": {"app": "bench"}},
                                     "spec": {"containers": [{"name": "bench", "image": "bench:1"}]}}}}
    for m in members:
        subprocess.run(kubectl + ["--context", m, "create", "namespace", namespace], capture_output=True, check=False)
        subprocess.run(kubectl + ["--context", m, "apply", "-f", "-"], input=json.dumps(rollout),
                       capture_output=True, text=True, check=True)
    try:
        single = playbook_seconds(info, members[:1], namespace, args.rounds)
        fleet_run = playbook_seconds(info, members, namespace, args.rounds)
        print("module ratio (status task, N clusters / 1 cluster): {0:.2f}".format(fleet_run / single))
    finally:
        for m in members:
            subprocess.run(kubectl + ["--context", m, "delete", "namespace", namespace, "--wait=false"],
                           capture_output=True, check=False)


if __name__ == "__main__":
    main()
