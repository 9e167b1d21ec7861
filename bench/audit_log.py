"""Reading the lab's kube-apiserver audit logs (bench/audit-policy.yaml) for bench/.

Each kube-apiserver of a lab started with MCC_LAB_AUDIT_POLICY writes <state>/<cluster>/audit.log:
one JSON event per line, Metadata level (no bodies). The policy logs every request of the
collection's identity (in Karmada as itself, in a member as Karmada's karmada-impersonator acting
as it) and every request in the bench's namespace (the controllers, the kubectl plugin).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

AUTOMATION_USER = "system:serviceaccount:karmada-system:multicluster-canary"
KUBECTL_PLUGIN_AGENT = "kubectl-argo-rollouts"
READ_VERBS = ("get", "list")
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


def enabled(state: Path) -> bool:
    """Whether the running Karmada API server was started with an audit policy."""
    pid_file = state / "pids" / "karmada__kube-apiserver.pid"
    try:
        pid = int(pid_file.read_text().split()[0])  # "PID binary"
        cmdline = Path("/proc/{0}/cmdline".format(pid)).read_bytes().split(b"\0")
    except (OSError, ValueError):
        return False
    return any(arg.startswith(b"--audit-policy-file=") for arg in cmdline)


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Event:
    __slots__ = ("verb", "uri", "user", "as_user", "agent", "resource", "subresource", "namespace", "name",
                 "received", "completed", "code")

    def __init__(self, raw: dict):
        ref = raw.get("objectRef") or {}
        self.verb = raw.get("verb")
        self.uri = raw.get("requestURI", "")
        self.user = (raw.get("user") or {}).get("username")
        self.as_user = (raw.get("impersonatedUser") or {}).get("username")
        self.agent = raw.get("userAgent", "")
        self.resource = ref.get("resource")
        self.subresource = ref.get("subresource")
        self.namespace = ref.get("namespace")
        self.name = ref.get("name")
        self.received = _ts(raw["requestReceivedTimestamp"])
        self.completed = _ts(raw["stageTimestamp"])
        self.code = (raw.get("responseStatus") or {}).get("code")

    @property
    def ours(self) -> bool:
        """A request of the collection's identity, straight or through the cluster proxy."""
        return AUTOMATION_USER in (self.user, self.as_user)

    @property
    def kubectl_plugin(self) -> bool:
        return self.agent.startswith(KUBECTL_PLUGIN_AGENT)

    def category(self) -> str:
        if self.resource == "clusters" and self.subresource == "proxy":
            return "proxied"  # Karmada's side of a member request; the member counts it too
        if self.resource is None:
            return "discovery"
        if self.verb == "watch":
            return "watches"
        if self.verb in READ_VERBS:
            return "reads"
        if self.verb in WRITE_VERBS:
            return "dry_runs" if "dryRun=" in self.uri else "writes"
        return self.verb or "other"


def load(state: Path, clusters, since: float) -> dict:
    """{cluster: [Event]} of requests received after ``since`` (one event per request)."""
    found = {}
    for cluster in clusters:
        events = {}
        for path in sorted((state / cluster).glob("audit*.log")):
            with open(path) as fh:
                for line in fh:
                    try:
                        raw = json.loads(line)
                    except ValueError:
                        continue  # a line being written
                    if _ts(raw["requestReceivedTimestamp"]) < since:
                        continue
                    # a watch logs ResponseStarted then ResponseComplete: keep the last stage seen
                    events[raw["auditID"]] = Event(raw)
        found[cluster] = sorted(events.values(), key=lambda e: e.received)
    return found


def window(events, start: float, end: float, pick) -> list:
    return [e for e in events if start <= e.received <= end and pick(e)]


def counts(per_cluster: dict, start: float, end: float, pick) -> dict:
    """{cluster: Counter(category)} of the picked requests received in [start, end]."""
    return dict((c, Counter(e.category() for e in window(evs, start, end, pick))) for c, evs in per_cluster.items())


def controller_pause_write(events, namespace: str, name: str, start: float, seen: float):
    """When the member's Argo Rollouts controller last wrote the Rollout's status before ``seen``
    (the write whose watch event the wait saw), as the API server completed it; or None."""
    writes = [e for e in events
              if e.resource == "rollouts" and e.subresource == "status" and e.namespace == namespace
              and e.name == name and e.verb in ("patch", "update") and not e.ours and not e.kubectl_plugin
              and start <= e.received <= seen]
    return writes[-1].completed if writes else None


def first_write(events, namespace: str, name: str, start: float, end: float, pick):
    writes = [e for e in window(events, start, end, pick)
              if e.resource == "rollouts" and e.namespace == namespace and e.name == name and e.verb == "patch"]
    return writes[0].completed if writes else None
