"""python -m tools.lab {build,up,down,status,start,stop,env}"""

from __future__ import annotations

import argparse
import sys
import time

from tools.lab import build
from tools.lab.lab import Lab, LabError, log


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.lab", description=__doc__)
    parser.add_argument("--members", type=int, default=None, help="number of member clusters (default 4)")
    parser.add_argument("--join", type=int, default=None, metavar="N",
                        help="join only the first N members to Karmada (default: all); the others run unjoined, "
                             "with a context in .lab/kubeconfig, for playbooks/onboard.yml to join")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="build (or find cached) binaries and print the cache directory")
    sub.add_parser("up", help="start the federation (idempotent; recovers a half-started lab)")
    down = sub.add_parser("down", help="stop every lab process")
    down.add_argument("--purge", action="store_true", help="also delete etcd data (next up starts fresh)")
    sub.add_parser("status", help="each component's state, the kubeconfig path and total RSS")
    for verb in ("start", "stop"):
        p = sub.add_parser(verb, help="{0} one component, e.g. k8s-master-beijing/kube-apiserver".format(verb))
        p.add_argument("component")
    args = parser.parse_args(argv)

    if args.cmd == "build":
        started = time.monotonic()
        for name, path in sorted(build.build().items()):
            print(name, path)
        log("build step took {0:.0f}s".format(time.monotonic() - started))
        return 0
    lab = Lab(members=args.members, join=args.join)
    try:
        if args.cmd == "up":
            lab.up()
        elif args.cmd == "down":
            stopped = lab.down(purge=args.purge)
            log("stopped {0} process(es)".format(len(stopped)))
        elif args.cmd == "status":
            rows = lab.status()
            width = max(len(r[0]) for r in rows)
            for cid, pid, state, rss in rows:
                print("{0:<{w}}  {1:>7}  {2:<22} {3:>8.0f} MiB".format(cid, pid or "-", state, rss / 1024, w=width))
            total = sum(r[3] for r in rows)
            print("kubeconfig: {0}".format(lab.kubeconfig))
            print("total RSS: {0:.0f} MiB across {1} running process(es)".format(
                total / 1024, sum(1 for r in rows if r[1])))
            return 0 if all(r[2] == "healthy" for r in rows) else 3
        elif args.cmd == "start":
            comp = lab.component(args.component)
            lab.start(comp)
            lab.wait_healthy([comp])
            log("started " + comp.id)
        elif args.cmd == "stop":
            comp = lab.component(args.component)
            log(("stopped " if lab.stop(comp.id) else "was not running: ") + comp.id)
    except LabError as e:
        print("lab: {0}".format(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
