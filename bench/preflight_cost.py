"""What the preflight check adds to a stage (run with the lab up).

Prints ratios against baselines measured in the same process, never absolute claims:
  - check ratio: one `preflight` task over every member (a frontend's six objects, all four kinds of
    check) over one `release_info` task over the same members - the one module run a stage pays to read
    its members; about 1 means the check costs one more module run, whatever it reads;
  - member ratio: the same `preflight` task with every member over it with one member (its reads
    go to the members concurrently);
  - reads ratio: the check's reads and judging alone (in this process, no Ansible) over the whole task.

    make lab-up && .venv/bin/python bench/preflight_cost.py [--rounds 5]
"""

import argparse
import json
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "build" / "collections"))
sys.path.insert(0, str(ROOT))

from ansible_collections.multicluster.canary.plugins.module_utils import fleet as fl  # noqa: E402
from ansible_collections.multicluster.canary.plugins.module_utils import preflight_reader  # noqa: E402
from tests.integration.test_preflight import frontend  # noqa: E402
from bench.stage_cost import _Module, median_seconds, task_seconds  # noqa: E402  (one timing rule for every bench)

NAMESPACE = "bench-preflight"


def module_seconds(info, module, args, rounds):
    args = dict(args, kubeconfig=info["automation_kubeconfig"], context=info["karmada_context"])
    return task_seconds({"multicluster.canary." + module: args}, rounds, warm=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    info = json.loads((ROOT / ".lab" / "lab.json").read_text())
    members = info["members"]
    manifests = frontend(NAMESPACE, "bench-tls")
    check = {"manifests": manifests, "fail_on": "never"}
    preflight_all = module_seconds(info, "preflight", dict(check, clusters=members), args.rounds)
    preflight_one = module_seconds(info, "preflight", dict(check, clusters=members[:1]), args.rounds)
    status = module_seconds(info, "release_info", {"name": "web", "namespace": NAMESPACE, "clusters": members},
                            args.rounds)
    params = dict((k, None) for k in fl.AUTH_ARG_SPEC)
    params.update(kubeconfig=info["automation_kubeconfig"], context=info["karmada_context"], validate_certs=True)
    fleet = fl.Fleet(_Module(params))
    options = {"namespace": NAMESPACE, "clusters": members}
    reads = median_seconds(lambda: preflight_reader.check_fleet(fleet, manifests, options), args.rounds * 2)
    print("members: {0}".format(len(members)))
    print("check ratio  (preflight task / release_info task, N members): {0:.2f}".format(preflight_all / status))
    print("member ratio (preflight task, N members / 1 member):           {0:.2f}".format(preflight_all / preflight_one))
    print("reads ratio  (reads and judging alone / preflight task):       {0:.2f}".format(reads / preflight_all))


if __name__ == "__main__":
    main()
