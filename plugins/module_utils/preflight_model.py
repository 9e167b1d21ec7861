# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight check's vocabulary: findings, manifests, what was read, and what exists where after a write.

Pure code on dicts. The preflight module reads what it needs once (``preflight_reader``) into an
``observed`` dict, and the checks (``preflight_references``, ``preflight_placement``,
``preflight_readiness``, ``strategy_lint``) judge the manifests against it through :class:`World`.

``observed`` has one entry per cluster - ``karmada`` and each member by name - of this shape::

    {"error": None or "why it could not be read",
     "discovery": {"preferred": {group: version}, "resources": {"group/version": {Kind: {"plural", "namespaced"}}}}
                  or None (not read) or unknown(...),
     "objects": {okey(group, kind, ns, name): object, None (absent) or unknown(...)},
     "lists": {lkey(group, kind, ns[, labelSelector]): [objects] or unknown(...)},
     "argo": {...}  (members only: what shows the Argo Rollouts controller runs there)}

A read the identity may not make is ``unknown({"what": ..., "why": ...})``: the check then says it
could not look, as a warning naming the permission, instead of guessing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib

ERROR = "error"
WARNING = "warning"
KARMADA = "karmada"
MANIFESTS = "manifests"
UNKNOWN_KEY = "_unknown"

# Kinds that have no namespace, for manifests of kinds Karmada's discovery did not describe.
CLUSTER_SCOPED = frozenset((
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "PriorityClass", "IngressClass", "GatewayClass", "ClusterPropagationPolicy", "ClusterOverridePolicy",
    "ResourceInterpreterCustomization", "ResourceInterpreterWebhookConfiguration", "Cluster",
    "ClusterTaintPolicy",
))

# API groups whose objects are Karmada's own configuration, never resource templates it propagates.
KARMADA_GROUPS = frozenset((
    "policy.karmada.io", "config.karmada.io", "work.karmada.io", "cluster.karmada.io",
    "networking.karmada.io", "autoscaling.karmada.io", "apps.karmada.io", "search.karmada.io",
    "remedy.karmada.io", "networking.karmada.io",
))

CORE_PLURALS = {
    "Service": "services", "Secret": "secrets", "Namespace": "namespaces", "ConfigMap": "configmaps",
    "ServiceAccount": "serviceaccounts", "Pod": "pods", "Endpoints": "endpoints",
    "PersistentVolumeClaim": "persistentvolumeclaims", "PersistentVolume": "persistentvolumes",
    "Node": "nodes", "LimitRange": "limitranges", "ResourceQuota": "resourcequotas", "Event": "events",
}


# --- findings ------------------------------------------------------------------------------


def finding(severity, check, cluster, obj, field, message, fix, source=None):
    """One finding: what is wrong (message), where (cluster, object, field), and what to do (fix)."""
    return {"severity": severity, "check": check, "cluster": cluster, "object": obj, "field": field,
            "message": message, "fix": fix, "source": source}


def unknown(what, why):
    """A read that could not be made: ``what`` names it (``get secrets in istio-system``), ``why`` says why."""
    return {UNKNOWN_KEY: {"what": what, "why": why}}


def is_unknown(value):
    return isinstance(value, dict) and UNKNOWN_KEY in value


def could_not_check(check, cluster, obj, field, value, about, source=None):
    """The warning for a reference that could not be checked because a read was refused or failed."""
    info = value[UNKNOWN_KEY]
    forbidden = "403" in (info.get("why") or "") or "forbidden" in (info.get("why") or "").lower()
    fix = ("grant the identity {0} there (docs/rbac.md lists what the preflight check reads)".format(info["what"])
           if forbidden else "check that {0} answers, then run the check again".format(
               "Karmada" if cluster == KARMADA else "the member"))
    return finding(WARNING, check, cluster, obj, field,
                   "could not check {0}: {1} failed ({2})".format(about, info["what"], info.get("why")), fix, source)


SEVERITY_ORDER = {ERROR: 0, WARNING: 1}


def sort_findings(findings):
    """Errors first, then by cluster (Karmada and the manifests before members), object and field; duplicates dropped."""
    seen, out = set(), []
    for f in findings:
        key = (f["severity"], f["cluster"], f["object"], f["field"], f["message"])
        if key in seen:
            continue
        seen.add(key)
        out.append(f)

    def order(f):
        cluster = f["cluster"] or ""
        return (SEVERITY_ORDER.get(f["severity"], 9), 0 if cluster == MANIFESTS else 1 if cluster == KARMADA else 2,
                cluster, f["object"] or "", f["field"] or "")
    return sorted(out, key=order)


# --- keys ----------------------------------------------------------------------------------


def group_of(api_version):
    return api_version.split("/", 1)[0] if api_version and "/" in api_version else ""


def version_of(api_version):
    return api_version.split("/", 1)[1] if api_version and "/" in api_version else (api_version or "")


def okey(group, kind, namespace, name):
    """The key of one object in ``observed[...]["objects"]``: ``group/Kind/namespace/name`` (core group ``core``)."""
    return "/".join((group or "core", kind, namespace or "", name))


def lkey(group, kind, namespace, label_selector=None):
    """The key of one list in ``observed[...]["lists"]``: ``group/Kind/namespace[?labelSelector]``."""
    key = "/".join((group or "core", kind, namespace or ""))
    return key + "?" + label_selector if label_selector else key


def describe(kind, namespace, name):
    """``Kind/namespace/name`` (``Kind/name`` for a cluster-scoped object): how findings name objects."""
    return "/".join(p for p in (kind, namespace, name) if p)


def selector_string(label_selector):
    """A labelSelector as the API's query string (matchLabels only; None when it has expressions)."""
    if not label_selector:
        return ""
    if label_selector.get("matchExpressions"):
        return None
    return ",".join("{0}={1}".format(k, v) for k, v in sorted((label_selector.get("matchLabels") or {}).items()))


def close_names(name, candidates):
    """Names that look like ``name`` (a typo, a renamed object), for a finding's fix."""
    return difflib.get_close_matches(name, sorted(set(c for c in candidates if c and c != name)), n=3, cutoff=0.5)


# --- label selectors -----------------------------------------------------------------------


def selector_matches(label_selector, labels):
    """Whether a Kubernetes LabelSelector (matchLabels, matchExpressions) selects these labels."""
    labels = labels or {}
    if label_selector is None:
        return True
    for k, v in (label_selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in label_selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


# --- manifests -----------------------------------------------------------------------------


def api_groups(items):
    """The API groups of raw manifest items (dicts, or ``(source, dict)`` pairs)."""
    out = set()
    for item in items or []:
        obj = item[1] if isinstance(item, (list, tuple)) and len(item) == 2 else item
        if isinstance(obj, dict):
            out.add(group_of(obj.get("apiVersion") or ""))
            for sub in obj.get("items") or [] if obj.get("kind") == "List" else []:
                if isinstance(sub, dict):
                    out.add(group_of(sub.get("apiVersion") or ""))
    return out


class Addressed(object):
    """An object's key, its label in findings, and its labels; from ``group, kind, namespace, name, obj``."""

    @property
    def key(self):
        return okey(self.group, self.kind, self.namespace, self.name)

    @property
    def label(self):
        return describe(self.kind, self.namespace, self.name)

    @property
    def labels(self):
        return (self.obj.get("metadata") or {}).get("labels") or {}


class Manifest(Addressed):
    """One object the release is about to write (or the user would ``kubectl apply``), and where it came from."""

    def __init__(self, obj, source, namespaced=True, default_namespace="default"):
        self.obj = obj
        self.source = source
        self.api_version = obj.get("apiVersion") or ""
        self.group = group_of(self.api_version)
        self.version = version_of(self.api_version)
        self.kind = obj.get("kind") or ""
        meta = obj.get("metadata") or {}
        self.name = meta.get("name") or ""
        self.namespaced = namespaced
        self.namespace = (meta.get("namespace") or default_namespace) if namespaced else ""
        if namespaced and not meta.get("namespace"):
            # What kubectl apply does with an object that names no namespace.
            self.obj = copy.deepcopy(obj)
            self.obj.setdefault("metadata", {})["namespace"] = self.namespace

    @property
    def spec(self):
        return self.obj.get("spec") or {}

    def is_template(self):
        """Whether Karmada treats it as a resource template (something it propagates), not its own configuration."""
        return self.group not in KARMADA_GROUPS and self.kind != "Namespace"


def load_manifests(items, default_namespace="default", karmada_discovery=None):
    """Manifest objects from ``items`` (dicts, or ``(source, dict)`` pairs), and a finding per unusable item.

    A ``v1`` ``List`` is unpacked (what ``kubectl get -o yaml`` and our RBAC files hold).
    """
    manifests, findings = [], []
    resources = (karmada_discovery or {}).get("resources") or {} if not is_unknown(karmada_discovery) else {}

    def namespaced(api_version, kind):
        info = (resources.get(api_version) or {}).get(kind)
        if info is not None:
            return bool(info.get("namespaced"))
        return kind not in CLUSTER_SCOPED

    def add(source, obj):
        if obj is None:
            return
        if not isinstance(obj, dict):
            findings.append(finding(ERROR, "manifests", MANIFESTS, source, "", "not a Kubernetes object (a mapping), "
                                    "but {0}".format(type(obj).__name__), "give one object per YAML document", source))
            return
        if obj.get("kind") == "List" and isinstance(obj.get("items"), list):
            for i, item in enumerate(obj["items"]):
                add("{0} items[{1}]".format(source, i), item)
            return
        missing = [f for f in ("apiVersion", "kind") if not obj.get(f)]
        if not (obj.get("metadata") or {}).get("name"):
            missing.append("metadata.name")
        if missing:
            findings.append(finding(ERROR, "manifests", MANIFESTS, describe(obj.get("kind") or "?", "", "?"),
                                    missing[0], "the object has no {0}".format(", ".join(missing)),
                                    "every object needs apiVersion, kind and metadata.name", source))
            return
        manifests.append(Manifest(obj, source, namespaced(obj["apiVersion"], obj["kind"]), default_namespace))

    for i, item in enumerate(items or []):
        if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
            add(item[0], item[1])
        else:
            add("manifests[{0}]".format(i), item)
    seen = {}
    for m in manifests:
        if m.key in seen:
            findings.append(finding(WARNING, "manifests", MANIFESTS, m.label, "metadata.name",
                                    "the object is given twice ({0} and {1}): the last one wins".format(
                                        seen[m.key].source, m.source),
                                    "keep one of them", m.source))
        seen[m.key] = m
    return manifests, findings


# --- what exists where after the write -----------------------------------------------------


class World(object):
    """What exists in Karmada and in each member once the manifests are written.

    In Karmada: the manifests over the templates Karmada has. In a member: a template Karmada places
    there (``placements``: template key -> set of member names) over what the member has now.
    Lookups answer an object, None (it will not be there), or ``unknown(...)`` (it could not be read).
    """

    def __init__(self, manifests, observed, placements=None, chosen=None):
        self.manifests = {}
        for m in manifests:
            self.manifests[m.key] = m
        self.observed = observed or {}
        self.placements = placements or {}
        self.chosen = chosen or {}  # template key -> the policy that places it

    def cluster(self, name):
        return self.observed.get(name) or {}

    def manifest(self, key):
        return self.manifests.get(key)

    def template(self, group, kind, namespace, name):
        """The object in Karmada after the write: the manifest, else what Karmada has."""
        key = okey(group, kind, namespace, name)
        if key in self.manifests:
            return self.manifests[key].obj
        return self._observed(KARMADA, key, group, kind, namespace, name)

    def _observed(self, cluster, key, group, kind, namespace, name):
        state = self.cluster(cluster)
        if state.get("error"):
            return unknown("read {0}".format(describe(kind, namespace, name)), state["error"])
        objects = state.get("objects") or {}
        if key in objects:
            return objects[key]
        return unknown("read {0}".format(describe(kind, namespace, name)), "not read")

    def placed(self, key):
        """The members Karmada places a template on (empty when no policy selects it)."""
        return set(self.placements.get(key) or ())

    def in_member(self, member, group, kind, namespace, name):
        """The object in a member after the write: a template placed there wins over what the member has."""
        key = okey(group, kind, namespace, name)
        if member in self.placed(key):
            template = self.template(group, kind, namespace, name)
            if isinstance(template, dict) and not is_unknown(template):
                return template
        return self._observed(member, key, group, kind, namespace, name)

    def lookup(self, cluster, group, kind, namespace, name):
        """``template`` for Karmada, ``in_member`` for a member."""
        if cluster == KARMADA:
            return self.template(group, kind, namespace, name)
        return self.in_member(cluster, group, kind, namespace, name)

    def listing(self, cluster, group, kind, namespace):
        """Every object of a kind in a namespace of a cluster after the write, or ``unknown(...)``."""
        found = {}
        state = self.cluster(cluster)
        listed = (state.get("lists") or {}).get(lkey(group, kind, namespace)) if not state.get("error") else None
        if is_unknown(listed):
            return listed
        if listed is None and state.get("error"):
            return unknown("list {0} in {1}".format(kind, namespace), state["error"])
        for obj in listed or []:
            found[(obj.get("metadata") or {}).get("name")] = obj
        for key, m in self.manifests.items():
            if m.group != group or m.kind != kind or m.namespace != namespace:
                continue
            if cluster == KARMADA or cluster in self.placed(key):
                found[m.name] = m.obj
        if cluster != KARMADA:
            karmada = (self.cluster(KARMADA).get("lists") or {}).get(lkey(group, kind, namespace))
            for obj in karmada or [] if not is_unknown(karmada) else []:
                name = (obj.get("metadata") or {}).get("name")
                if cluster in self.placed(okey(group, kind, namespace, name)) and name not in found:
                    found[name] = obj
        return [found[n] for n in sorted(found, key=lambda n: n or "")]

    def names(self, group, kind, namespace):
        """Names of that kind in that namespace the manifests and Karmada's lists know (for "did you mean")."""
        out = set(m.name for m in self.manifests.values()
                  if m.group == group and m.kind == kind and m.namespace == namespace)
        for state in self.observed.values():
            listed = (state.get("lists") or {}).get(lkey(group, kind, namespace))
            if isinstance(listed, list):
                out.update((o.get("metadata") or {}).get("name") for o in listed)
            for key, obj in (state.get("objects") or {}).items():
                if isinstance(obj, dict) and not is_unknown(obj) and key.startswith(
                        "/".join((group or "core", kind, namespace, ""))):
                    out.add((obj.get("metadata") or {}).get("name"))
        return out
