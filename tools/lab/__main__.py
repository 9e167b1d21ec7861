"""python -m tools.lab {build,up,down,status,inventory,start,stop}"""

from __future__ import annotations

import argparse
import sys
import time

from tools.lab import build
from tools.lab.lab import Lab, LabError, log, pss_kib


def _epilog() -> str:
    """The version profiles, read from versions.json so the help cannot disagree with it."""
    try:
        data = build.load_profiles()
    except (OSError, ValueError) as e:
        return "version profiles: unreadable ({0})".format(e)
    lines = ["version profiles (tools/lab/{0}), chosen by {1}=NAME or --profile NAME; without either,".format(
        build.VERSIONS_FILE.name, build.PROFILE_ENV),
        "commands act on the running lab's profile, else the default. `up` with another profile than the",
        "stopped lab's data starts from fresh etcd data:"]
    for name, versions in data["profiles"].items():
        lines.append("  {0}{1}: {2}".format(name, " (default)" if name == data["default"] else "",
                                            ", ".join("{0} {1}".format(k, v) for k, v in versions.items())))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.lab", description=__doc__, epilog=_epilog(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=None, help="number of member clusters (default 4)")
    parser.add_argument("--join", type=int, default=None, metavar="N",
                        help="join only the first N members to Karmada (default: all); the others run unjoined, "
                             "with a context in .lab/kubeconfig, for playbooks/onboard.yml to join")
    parser.add_argument("--profile", default=None,
                        help="version profile from tools/lab/versions.json (default: $MCC_LAB_PROFILE, else the "
                             "running lab's, else the file's default)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="build (or find cached) binaries and print the cache directory")
    sub.add_parser("up", help="start the federation (idempotent; recovers a half-started lab)")
    down = sub.add_parser("down", help="stop every lab process")
    down.add_argument("--purge", action="store_true", help="also delete etcd data (next up starts fresh)")
    sub.add_parser("status", help="each component's state, the kubeconfig path and total RSS")
    sub.add_parser("inventory", help="the path of the lab's Ansible inventory: inventories/lab for the default four "
                                     "members, .lab/inventory for other sizes")
    for verb in ("start", "stop"):
        p = sub.add_parser(verb, help="{0} one component, e.g. k8s-master-beijing/kube-apiserver".format(verb))
        p.add_argument("component")
    args = parser.parse_args(argv)

    try:
        if args.cmd == "build":
            started = time.monotonic()
            profile = build.profile_name(args.profile)
            for name, path in sorted(build.build(profile=profile).items()):
                print(name, path)
            log("build step ({0} profile) took {1:.0f}s".format(profile, time.monotonic() - started))
            return 0
        lab = Lab(members=args.members, join=args.join, profile=args.profile)
    except ValueError as e:
        print("lab: {0}".format(e), file=sys.stderr)
        return 2
    try:
        if args.cmd == "up":
            lab.up()
        elif args.cmd == "down":
            stopped = lab.down(purge=args.purge)
            log("stopped {0} process(es)".format(len(stopped)))
        elif args.cmd == "inventory":
            print(lab.inventory())
        elif args.cmd == "status":
            rows = lab.status()
            width = max(len(r[0]) for r in rows)
            for cid, pid, state, rss in rows:
                print("{0:<{w}}  {1:>7}  {2:<22} {3:>8.0f} MiB".format(cid, pid or "-", state, rss / 1024, w=width))
            total = sum(r[3] for r in rows)
            print("profile: {0} ({1})".format(lab.profile, ", ".join(
                "{0} {1}".format(k, v) for k, v in lab.versions.items())))
            print("kubeconfig: {0}".format(lab.kubeconfig))
            print("inventory: {0}".format(lab.inventory()))
            pss = sum(pss_kib(r[1]) for r in rows if r[1])
            print("total RSS: {0:.0f} MiB across {1} running process(es) (PSS {2:.0f} MiB)".format(
                total / 1024, sum(1 for r in rows if r[1]), pss / 1024))
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
