# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight check: what the manifests need read, and every finding about them (pure, no I/O).

The preflight module runs it in three steps, reading each cluster once:

1. :func:`karmada_reads` - what to read in Karmada (policies, interpreters, clusters, every object the
   manifests name); the reader reads it;
2. :func:`members_to_read` - the members Karmada will place the manifests on (or the ones asked for), and
   :func:`member_reads` - what to read in each of them, concurrently;
3. :func:`check` - the findings: references, Karmada placement, member readiness, the canary strategy.

A finding is ``{severity, check, cluster, object, field, message, fix, source}``: ``cluster`` is a
member's name, ``karmada`` or ``manifests`` (found in the manifests alone); ``object`` is
``Kind/namespace/name``; ``field`` a path in it (``spec.http[0].route[1].destination.host``);
``source`` the file and document it came from, when known.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils import preflight_placement as placement
from ansible_collections.multicluster.canary.plugins.module_utils import preflight_readiness as readiness
from ansible_collections.multicluster.canary.plugins.module_utils import preflight_references as references
from ansible_collections.multicluster.canary.plugins.module_utils import strategy_lint
from ansible_collections.multicluster.canary.plugins.module_utils.preflight_model import (
    ERROR,
    KARMADA,
    MANIFESTS,
    WARNING,
    World,
    finding,
    is_unknown,
    selector_string,
    sort_findings,
)

FAIL_ON = ("error", "warning", "never")
# API groups the check reads in Karmada besides the manifests' own (for servers without aggregated discovery).
KARMADA_DISCOVERY_GROUPS = ("policy.karmada.io", "config.karmada.io", "work.karmada.io", "cluster.karmada.io",
                            "networking.istio.io", "argoproj.io", "gateway.networking.k8s.io")


def namespaces_of(manifests, options):
    found = set(m.namespace for m in manifests if m.namespace)
    found.add((options or {}).get("gateway_namespace") or "istio-system")
    return sorted(found)


def karmada_reads(manifests, options, discovery=None):
    """What to read in Karmada: ``{"get": set((group, kind, ns, name)), "list": set((group, kind, ns[, selector]))}``."""
    plan = references.reads(manifests, options)
    gets, lists = set(plan["get"]), set(plan["list"])
    for ns in namespaces_of(manifests, options):
        lists.add((placement.POLICY_GROUP, "PropagationPolicy", ns))
        lists.add((placement.POLICY_GROUP, "OverridePolicy", ns))
    for kind in ("ClusterPropagationPolicy", "ClusterOverridePolicy"):
        lists.add((placement.POLICY_GROUP, kind, ""))
    for kind in ("ResourceInterpreterCustomization", "ResourceInterpreterWebhookConfiguration"):
        lists.add((placement.CONFIG_GROUP, kind, ""))
    lists.add(("cluster.karmada.io", "Cluster", ""))
    for m in manifests:
        if m.namespace:
            gets.add(("", "Namespace", "", m.namespace))
        if m.is_template():
            gets.add((m.group, m.kind, m.namespace, m.name))  # what Karmada has now (labels, spec, claims)
        if (m.group, m.kind) == ("argoproj.io", "Rollout"):
            gets.add(("work.karmada.io", "ResourceBinding", m.namespace, "{0}-rollout".format(m.name)))
        if m.group == placement.POLICY_GROUP and m.kind.endswith("PropagationPolicy"):
            for sel in m.spec.get("resourceSelectors") or []:
                api_version = sel.get("apiVersion") or ""
                group = api_version.split("/", 1)[0] if "/" in api_version else ""
                ns = sel.get("namespace") or m.namespace
                if not sel.get("kind"):
                    continue
                if sel.get("name"):
                    if ns:
                        gets.add((group, sel["kind"], ns, sel["name"]))
                    continue
                query = selector_string(sel.get("labelSelector")) if sel.get("labelSelector") is not None else ""
                if query is not None:
                    lists.add((group, sel["kind"], ns, query) if query else (group, sel["kind"], ns))
    return {"get": gets, "list": lists}


def member_reads(manifests, options):
    """What to read in each member: what the references need, the namespaces, the Rollouts as they run."""
    plan = references.reads(manifests, options)
    gets, lists = set(plan["get"]), set(plan["list"])
    for m in manifests:
        if m.namespace:
            gets.add(("", "Namespace", "", m.namespace))
        if (m.group, m.kind) == ("argoproj.io", "Rollout"):
            gets.add((m.group, m.kind, m.namespace, m.name))
    return {"get": gets, "list": lists,
            "argo": any((m.group, m.kind) == ("argoproj.io", "Rollout") for m in manifests)}


def members_to_read(manifests, observed, options):
    """``(members, findings)``: the members to read (asked for, or where Karmada places the manifests)."""
    findings = []
    clusters = placement.karmada_list(observed, "cluster.karmada.io", "Cluster")
    known = None
    if isinstance(clusters, list):
        known = dict(((c.get("metadata") or {}).get("name"), placement.cluster_ready(c)) for c in clusters)
    asked = (options or {}).get("clusters") or []
    if asked:
        wanted = list(asked)
        if known is not None:
            for name in wanted:
                if name not in known:
                    findings.append(finding(ERROR, "placement", KARMADA, "", "clusters",
                                            "cluster {0} is not joined to Karmada (it knows: {1})".format(
                                                name, ", ".join(sorted(known)) or "none"),
                                            "join it (karmadactl join {0}) or fix the name".format(name)))
                elif not known[name]:
                    findings.append(finding(ERROR, "placement", KARMADA, "", "clusters",
                                            "cluster {0} is not Ready in Karmada: it is not checked, and a release "
                                            "would stop there".format(name),
                                            "bring it back (its Cluster conditions say why), or leave it out"))
    else:
        where, _chosen = placement.placements(manifests, observed, namespaces_of(manifests, options))
        wanted = sorted(set().union(*[where.get(m.key, set()) for m in manifests] or [set()]))
    if known is not None:
        wanted = [n for n in wanted if known.get(n)]
    return sorted(set(wanted)), findings


def check(manifests, observed, options=None, members=None, load_findings=None):
    """Every finding for the manifests against what was read (``observed``), sorted, errors first."""
    options = options or {}
    members = list(members or [])
    where, chosen = placement.placements(manifests, observed, namespaces_of(manifests, options))
    world = World(manifests, observed, where, chosen)
    out = list(load_findings or [])
    out += placement.check(world, manifests, observed, namespaces_of(manifests, options))
    if (observed.get(KARMADA) or {}).get("error"):
        return sort_findings(out)
    reachable = [n for n in members if not (observed.get(n) or {}).get("error")]
    out += references.check(world, manifests, reachable, options)
    out += readiness.check(world, manifests, observed, members)
    for m in manifests:
        if (m.group, m.kind) == ("argoproj.io", "Rollout"):
            for f in strategy_lint.lint(m.obj):
                out.append(finding(f["severity"], "strategy", MANIFESTS, m.label, f["field"], f["message"], f["fix"],
                                   m.source))
    return sort_findings(out)


def summary(findings):
    errors = sum(1 for f in findings if f["severity"] == ERROR)
    warnings = sum(1 for f in findings if f["severity"] == WARNING)
    return {"errors": errors, "warnings": warnings}


def one_line(f):
    """``cluster object field: message (fix: ...)``."""
    where = " ".join(p for p in (f["cluster"], f["object"], f["field"]) if p)
    return "{0}: {1} (fix: {2})".format(where, f["message"], f["fix"])


def fails(findings, fail_on):
    if fail_on == "never":
        return False
    if fail_on == "warning":
        return bool(findings)
    return any(f["severity"] == ERROR for f in findings)


def failure_message(findings, fail_on):
    counts = summary(findings)
    shown = [f for f in findings if f["severity"] == ERROR] or list(findings)
    return "preflight: {0} error(s), {1} warning(s), nothing was written: {2}".format(
        counts["errors"], counts["warnings"], "; ".join(one_line(f) for f in shown))


def unknown_reads(observed):
    """Every read that was refused or failed, as ``cluster: what (why)`` (for the module's result)."""
    out = []
    for cluster in sorted(observed):
        state = observed[cluster] or {}
        for section in ("objects", "lists"):
            for value in (state.get(section) or {}).values():
                if is_unknown(value):
                    info = value["_unknown"]
                    out.append("{0}: {1} ({2})".format(cluster, info["what"], info["why"]))
        if is_unknown(state.get("discovery")):
            info = state["discovery"]["_unknown"]
            out.append("{0}: {1} ({2})".format(cluster, info["what"], info["why"]))
    return sorted(set(out))
