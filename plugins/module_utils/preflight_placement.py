# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where Karmada will put each template, and what in the policies keeps it from doing what they say.

Pure code, following karmada-io/karmada v1.14 (``pkg/util/selector.go``, ``pkg/detector/compare.go``,
``pkg/util/overridemanager/imageoverride.go``):

- Karmada's detector reads every template at its API group's preferred version and matches
  ``resourceSelectors[].apiVersion`` exactly, so a selector at another version matches nothing, silently;
- a template goes to the PropagationPolicy of its namespace (before any ClusterPropagationPolicy) with the
  highest ``priority``, then the most specific selector (name, then labelSelector, then kind only), then
  the first name in alphabetical order;
- a policy places on the clusters of its (first) cluster affinity: ``clusterNames``, ``exclude``,
  ``labelSelector``, ``fieldSelector`` (provider, region, zone);
- dividing a Rollout's replicas needs a replica interpreter (there is no built-in one for Argo Rollouts):
  without it every member gets the full ``spec.replicas``, and a binding made before the interpreter
  keeps that until the template changes;
- an ``imageOverrider`` finds a Rollout's image only through ``predicate.path``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.preflight_model import (
    ERROR,
    Addressed,
    KARMADA,
    WARNING,
    could_not_check,
    describe,
    finding,
    is_unknown,
    lkey,
    selector_matches,
    selector_string,
)

CHECK = "placement"
POLICY_GROUP = "policy.karmada.io"
CONFIG_GROUP = "config.karmada.io"
ROLLOUT_API = "argoproj.io/v1alpha1"
PRIORITY_NAME, PRIORITY_LABELS, PRIORITY_ALL = 3, 2, 1
BOOTSTRAP_FIX = ("install the Rollout interpreter before any policy places a Rollout: playbooks/bootstrap.yml "
                 "(module multicluster.canary.karmada_interpreter)")


class Template(Addressed):
    """A resource template as Karmada's detector sees it (its group's preferred version)."""

    def __init__(self, group, kind, namespace, name, obj, manifest=None):
        self.group, self.kind, self.namespace, self.name = group, kind, namespace or "", name
        self.obj = obj if isinstance(obj, dict) and not is_unknown(obj) else {}
        self.manifest = manifest


class Policy(object):
    """A PropagationPolicy / ClusterPropagationPolicy / OverridePolicy as it will be after the write."""

    def __init__(self, obj, manifest=None):
        self.obj = obj
        self.manifest = manifest
        meta = obj.get("metadata") or {}
        self.kind = obj.get("kind")
        self.name = meta.get("name") or ""
        self.namespace = (meta.get("namespace") or "") if self.kind in ("PropagationPolicy", "OverridePolicy") else ""
        self.spec = obj.get("spec") or {}

    @property
    def label(self):
        return describe(self.kind, self.namespace, self.name)

    @property
    def source(self):
        return self.manifest.source if self.manifest else None

    @property
    def selectors(self):
        return self.spec.get("resourceSelectors") or []

    @property
    def priority(self):
        try:
            return int(self.spec.get("priority") or 0)
        except (TypeError, ValueError):
            return 0


# --- API versions --------------------------------------------------------------------------


def preferred(discovery, group):
    """The preferred version of a group in a cluster's discovery, '' when it does not serve it, None if unknown."""
    if not discovery or is_unknown(discovery):
        return None
    if not group:
        return "v1"
    return (discovery.get("preferred") or {}).get(group, "")


def preferred_api_version(discovery, group):
    version = preferred(discovery, group)
    if version is None or version == "":
        return version
    return "{0}/{1}".format(group, version) if group else version


# --- policy matching -----------------------------------------------------------------------


def selector_priority(template, selector, api_version):
    """Karmada's implicit priority of one resourceSelector for a template read at ``api_version`` (0: no match)."""
    if selector.get("apiVersion") != api_version or selector.get("kind") != template.kind:
        return 0
    if selector.get("namespace") and selector["namespace"] != template.namespace:
        return 0
    if selector.get("name"):
        return PRIORITY_NAME if selector["name"] == template.name else 0
    if selector.get("labelSelector") is None:
        return PRIORITY_ALL
    return PRIORITY_LABELS if selector_matches(selector["labelSelector"], template.labels) else 0


def policy_priority(template, policy, api_version):
    if policy.kind == "PropagationPolicy" and policy.namespace != template.namespace:
        return 0
    return max([selector_priority(template, s, api_version) for s in policy.selectors] or [0])


def choose_policy(template, policies, api_version):
    """The propagation policy Karmada binds the template to, or None."""
    for kind in ("PropagationPolicy", "ClusterPropagationPolicy"):
        best = None
        for policy in policies:
            if policy.kind != kind:
                continue
            implicit = policy_priority(template, policy, api_version)
            if not implicit:
                continue
            rank = (policy.priority, implicit)
            if best is None or rank > best[0] or (rank == best[0] and policy.name < best[1].name):
                best = (rank, policy)
        if best:
            return best[1]
    return None


def near_misses(template, policies, api_version):
    """Policies that would select the template but for their apiVersion: ``[(policy, index, apiVersion)]``."""
    found = []
    for policy in policies:
        if policy.kind == "PropagationPolicy" and policy.namespace != template.namespace:
            continue
        if policy.kind not in ("PropagationPolicy", "ClusterPropagationPolicy"):
            continue
        for i, sel in enumerate(policy.selectors):
            if not sel.get("apiVersion") or sel.get("apiVersion") == api_version:
                continue
            moved = dict(sel, apiVersion=api_version)
            if selector_priority(template, moved, api_version):
                found.append((policy, i, sel["apiVersion"]))
    return found


# --- clusters ------------------------------------------------------------------------------


def _affinity(spec):
    placement = spec.get("placement") or {}
    if placement.get("clusterAffinity"):
        return placement["clusterAffinity"], "spec.placement.clusterAffinity"
    groups = placement.get("clusterAffinities") or []
    if groups:
        # The first group is where Karmada schedules while its clusters can take the workload.
        return groups[0], "spec.placement.clusterAffinities[0]"
    return {}, "spec.placement.clusterAffinity"


def _field_matches(expressions, cluster):
    spec = cluster.get("spec") or {}
    fields = {"provider": spec.get("provider"), "region": spec.get("region")}
    for expr in expressions or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if key == "zone":
            have = set(spec.get("zones") or ([spec["zone"]] if spec.get("zone") else []))
            if op == "In" and not have & set(values):
                return False
            if op == "NotIn" and have & set(values):
                return False
            continue
        value = fields.get(key)
        if op == "In" and value not in values:
            return False
        if op == "NotIn" and value in values:
            return False
        if op == "Exists" and not value:
            return False
        if op == "DoesNotExist" and value:
            return False
    return True


def cluster_ready(cluster):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (cluster.get("status") or {}).get("conditions") or [])


def policy_clusters(spec, clusters):
    """The clusters a propagation policy's affinity names: ``(names, field)``.

    ``clusters`` is Karmada's Cluster list (or unknown: then only ``clusterNames`` are known).
    """
    affinity, field = _affinity(spec)
    exclude = set(affinity.get("exclude") or [])
    names = affinity.get("clusterNames") or []
    if not isinstance(clusters, list):
        return [n for n in names if n not in exclude], field
    out = []
    for cluster in clusters:
        meta = cluster.get("metadata") or {}
        name = meta.get("name")
        if name in exclude or (names and name not in names):
            continue
        if affinity.get("labelSelector") and not selector_matches(affinity["labelSelector"], meta.get("labels")):
            continue
        if affinity.get("fieldSelector") and not _field_matches(
                affinity["fieldSelector"].get("matchExpressions"), cluster):
            continue
        out.append(name)
    # names Karmada does not know stay in the answer: the cluster checks report them
    out += [n for n in names if n not in out and n not in exclude and n not in set(
        (c.get("metadata") or {}).get("name") for c in clusters)]
    return out, field


# --- what the checks need from the observed state ------------------------------------------


def karmada_state(observed):
    return (observed or {}).get(KARMADA) or {}


def karmada_list(observed, group, kind, namespace=""):
    state = karmada_state(observed)
    if state.get("error"):
        return None
    return (state.get("lists") or {}).get(lkey(group, kind, namespace))


def policies(manifests, observed, kinds=("PropagationPolicy", "ClusterPropagationPolicy"), namespaces=()):
    """The policies of these kinds after the write: the manifests' over Karmada's (same kind, namespace, name)."""
    out, unknowns = {}, []
    for kind in kinds:
        scopes = [""] if kind.startswith("Cluster") else sorted(set(namespaces))
        for ns in scopes:
            listed = karmada_list(observed, POLICY_GROUP, kind, ns)
            if is_unknown(listed):
                unknowns.append(listed)
                continue
            for obj in listed or []:
                p = Policy(obj)
                out[(p.kind, p.namespace, p.name)] = p
    for m in manifests:
        if m.group == POLICY_GROUP and m.kind in kinds:
            p = Policy(m.obj, m)
            out[(p.kind, p.namespace, p.name)] = p
    return [out[k] for k in sorted(out)], unknowns


def templates(manifests, observed):
    """Every template the check knows: the manifests' (over Karmada's) and what it read in Karmada."""
    out = {}
    for key, obj in ((karmada_state(observed).get("objects") or {}).items()):
        if not isinstance(obj, dict) or is_unknown(obj):
            continue
        group, kind, namespace, name = key.split("/", 3)
        group = "" if group == "core" else group
        if group in (POLICY_GROUP, CONFIG_GROUP, "work.karmada.io", "cluster.karmada.io") or kind == "Namespace":
            continue
        out[key] = Template(group, kind, namespace, name, obj)
    for lk, listed in (karmada_state(observed).get("lists") or {}).items():
        if "?" in lk or not isinstance(listed, list):
            continue
        group, kind, _ns = lk.split("/", 2)
        group = "" if group == "core" else group
        if group in (POLICY_GROUP, CONFIG_GROUP, "work.karmada.io", "cluster.karmada.io") or kind == "Namespace":
            continue
        for obj in listed:
            meta = obj.get("metadata") or {}
            t = Template(group, kind, meta.get("namespace") or "", meta.get("name"), obj)
            out.setdefault(t.key, t)
    for m in manifests:
        if m.is_template():
            out[m.key] = Template(m.group, m.kind, m.namespace, m.name, m.obj, m)
    return out


def placements(manifests, observed, namespaces=()):
    """``({template key: set(member names)}, {template key: policy})`` for every known template.

    A template that a policy selects at a wrong apiVersion is placed where that policy means it to go: the
    policy check reports the version, and the other checks look where the user meant the object to run.
    """
    discovery = karmada_state(observed).get("discovery")
    pols, _unknowns = policies(manifests, observed, namespaces=namespaces)
    clusters = karmada_list(observed, "cluster.karmada.io", "Cluster")
    where, chosen = {}, {}
    for key, t in templates(manifests, observed).items():
        api_version = preferred_api_version(discovery, t.group)
        if not api_version:
            continue
        policy = choose_policy(t, pols, api_version)
        if policy is None:
            misses = near_misses(t, pols, api_version)
            if misses:
                where[key] = set(policy_clusters(misses[0][0].spec, clusters)[0])
            continue
        chosen[key] = policy
        where[key] = set(policy_clusters(policy.spec, clusters)[0])
    return where, chosen


# --- checks --------------------------------------------------------------------------------


def _selector_finds_template(world, observed, policy, sel, api_version):
    """Whether a selector (already at the preferred version) selects some template: True, False or unknown."""
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    kind = sel.get("kind")
    namespace = sel.get("namespace") or policy.namespace
    if sel.get("name"):
        if namespace or policy.kind == "PropagationPolicy":
            found = world.template(group, kind, namespace, sel["name"])
            return found if is_unknown(found) else bool(found)
        return any(m.kind == kind and m.group == group and m.name == sel["name"] for m in world.manifests.values())
    label_selector = sel.get("labelSelector")
    for m in world.manifests.values():
        if m.group == group and m.kind == kind and (not namespace or m.namespace == namespace) and (
                label_selector is None or selector_matches(label_selector, m.labels)):
            return True
    query = selector_string(label_selector) if label_selector is not None else ""
    if query is None:
        return True  # expressions: Karmada's list was not asked; say nothing rather than guess
    listed = (karmada_state(observed).get("lists") or {}).get(lkey(group, kind, namespace, query or None))
    if is_unknown(listed):
        return listed
    if listed is None:
        return True  # not read
    return bool(listed)


def _check_policy_selectors(world, observed, policy, discovery):
    out = []
    for i, sel in enumerate(policy.selectors):
        field = "spec.resourceSelectors[{0}]".format(i)
        api_version, kind = sel.get("apiVersion") or "", sel.get("kind") or ""
        group = api_version.split("/", 1)[0] if "/" in api_version else ""
        want = preferred_api_version(discovery, group)
        if want is None:
            continue
        if want == "":
            out.append(finding(ERROR, CHECK, KARMADA, policy.label, field + ".apiVersion",
                               "Karmada does not serve the API group {0}: the selector of {1} matches nothing".format(
                                   group, kind),
                               "install the CRDs of {0} in Karmada too (templates live there)".format(group),
                               policy.source))
            continue
        if api_version != want:
            out.append(finding(ERROR, CHECK, KARMADA, policy.label, field + ".apiVersion",
                               "selects {0} at {1}, but Karmada reads {0} templates at {2} (the group's preferred "
                               "version) and matches the apiVersion exactly: this selector never matches, and "
                               "the {0} stays in Karmada".format(kind, api_version, want),
                               "select apiVersion: {0} (multicluster.canary.karmada_propagation moves selectors "
                               "to the preferred version)".format(want), policy.source))
            continue
        if policy.kind not in ("PropagationPolicy", "ClusterPropagationPolicy"):
            continue
        found = _selector_finds_template(world, observed, policy, sel, want)
        if is_unknown(found):
            out.append(could_not_check(CHECK, KARMADA, policy.label, field, found,
                                       "what the selector matches", policy.source))
        elif not found:
            what = sel.get("name") or ("labels " + str(selector_string(sel.get("labelSelector")))
                                       if sel.get("labelSelector") else "any name")
            out.append(finding(WARNING, CHECK, KARMADA, policy.label, field,
                               "selects {0} {1} in {2}, and there is none, in the manifests or in Karmada".format(
                                   kind, what, sel.get("namespace") or policy.namespace or "any namespace"),
                               "fix the name or labels, or write the {0} with the policy".format(kind),
                               policy.source))
    return out


def _check_policy_clusters(policy, clusters):
    if not isinstance(clusters, list):
        return []
    known = dict(((c.get("metadata") or {}).get("name"), c) for c in clusters)
    out = []
    affinity, field = _affinity(policy.spec)
    named = [(field + ".clusterNames[{0}]".format(i), n) for i, n in enumerate(affinity.get("clusterNames") or [])]
    weights = (((policy.spec.get("placement") or {}).get("replicaScheduling") or {}).get("weightPreference") or {})
    for i, entry in enumerate(weights.get("staticWeightList") or []):
        for j, n in enumerate((entry.get("targetCluster") or {}).get("clusterNames") or []):
            named.append(("spec.placement.replicaScheduling.weightPreference.staticWeightList[{0}]"
                          ".targetCluster.clusterNames[{1}]".format(i, j), n))
    reported = set()
    for field_path, name in named:
        if name in reported:
            continue
        if name not in known:
            reported.add(name)
            out.append(finding(ERROR, CHECK, KARMADA, policy.label, field_path,
                               "cluster {0} is not joined to Karmada (it knows: {1}): it gets nothing".format(
                                   name, ", ".join(sorted(known)) or "none"),
                               "join it (karmadactl join {0}) or fix the name".format(name), policy.source))
        elif not cluster_ready(known[name]):
            reported.add(name)
            out.append(finding(ERROR, CHECK, KARMADA, policy.label, field_path,
                               "cluster {0} is not Ready in Karmada: Karmada does not schedule to it, and a "
                               "release would stop there".format(name),
                               "bring it back (its Cluster conditions say why), or take it out of the "
                               "placement", policy.source))
    return out


def replica_interpreter(manifests, observed):
    """How Karmada divides a Rollout's replicas: a customization or webhook name, None, or unknown(...)."""
    rics = karmada_list(observed, CONFIG_GROUP, "ResourceInterpreterCustomization")
    hooks = karmada_list(observed, CONFIG_GROUP, "ResourceInterpreterWebhookConfiguration")
    candidates = list(rics) if isinstance(rics, list) else []
    candidates = [c for c in candidates if not any(
        m.kind == "ResourceInterpreterCustomization" and m.name == (c.get("metadata") or {}).get("name")
        for m in manifests)]
    candidates += [m.obj for m in manifests if m.kind == "ResourceInterpreterCustomization"]
    for ric in candidates:
        spec = ric.get("spec") or {}
        target = spec.get("target") or {}
        custom = spec.get("customizations") or {}
        if target.get("apiVersion") == ROLLOUT_API and target.get("kind") == "Rollout" and \
                custom.get("replicaResource") and custom.get("replicaRevision"):
            return "ResourceInterpreterCustomization " + (ric.get("metadata") or {}).get("name", "")
    for hook in hooks if isinstance(hooks, list) else []:
        for webhook in hook.get("webhooks") or []:
            for rule in webhook.get("rules") or []:
                if ({"argoproj.io", "*"} & set(rule.get("apiGroups") or [])) and \
                        ({"Rollout", "*"} & set(rule.get("kinds") or [])) and \
                        ({"InterpretReplica", "*"} & set(rule.get("operations") or [])):
                    return "ResourceInterpreterWebhookConfiguration " + (hook.get("metadata") or {}).get("name", "")
    if is_unknown(rics):
        return rics
    return None


def _scheduling(policy):
    return ((policy.spec.get("placement") or {}).get("replicaScheduling") or {}).get("replicaSchedulingType")


def _check_rollout_division(world, observed, template, policy, interpreter):
    if _scheduling(policy) != "Divided":
        return []
    replicas = (template.obj.get("spec") or {}).get("replicas", 1)
    source = template.manifest.source if template.manifest else None
    if is_unknown(interpreter):
        return [could_not_check(CHECK, KARMADA, template.label, "spec.replicas", interpreter,
                                "whether Karmada can divide the Rollout's replicas", source)]
    if interpreter is None:
        return [finding(ERROR, CHECK, KARMADA, template.label, "spec.replicas",
                        "{0} propagates it Divided, but Karmada has no replica interpreter for Argo Rollouts (none is "
                        "built in): every member gets the full spec.replicas ({1}) instead of its share".format(
                            policy.label, replicas),
                        BOOTSTRAP_FIX + "; then the template must change (or its binding be re-created) "
                        "for Karmada to divide it", source)]
    binding = world.template("work.karmada.io", "ResourceBinding", template.namespace,
                             "{0}-{1}".format(template.name, template.kind.lower()))
    if not isinstance(binding, dict) or is_unknown(binding):
        return []
    if (binding.get("spec") or {}).get("replicas"):
        return []
    current = world.cluster(KARMADA).get("objects", {}).get(template.key)
    if template.manifest and isinstance(current, dict) and not is_unknown(current) and \
            (current.get("spec") or {}) != (template.manifest.obj.get("spec") or {}):
        return []  # the write changes the template: Karmada interprets it again
    return [finding(WARNING, CHECK, KARMADA, template.label, "spec.replicas",
                    "its ResourceBinding was made before Karmada could divide Rollouts ({0} came later): every "
                    "member still runs the full spec.replicas ({1})".format(interpreter, replicas),
                    "change the Rollout template (any field of its spec) or delete its ResourceBinding "
                    "{0}-rollout so Karmada interprets it again".format(template.name), source)]


def _resolve_path(obj, path):
    node = obj
    for part in [p for p in (path or "").strip("/").split("/") if p]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _check_override(policy, rollouts):
    out = []
    for i, rule in enumerate(policy.spec.get("overrideRules") or []):
        for j, image in enumerate(((rule.get("overriders") or {}).get("imageOverrider")) or []):
            field = "spec.overrideRules[{0}].overriders.imageOverrider[{1}]".format(i, j)
            path = (image.get("predicate") or {}).get("path")
            for t in rollouts:
                if not path:
                    out.append(finding(ERROR, CHECK, KARMADA, policy.label, field + ".predicate",
                                       "applies to Rollout {0} without predicate.path: Karmada finds images only in "
                                       "built-in workloads, so this overrider changes nothing".format(t.label),
                                       "add predicate: {path: /spec/template/spec/containers/0/image} (the "
                                       "container's index in the Rollout)", policy.source))
                    continue
                value = _resolve_path(t.obj, path)
                if not isinstance(value, str):
                    containers = ((t.obj.get("spec") or {}).get("template") or {}).get("spec", {}).get(
                        "containers") or []
                    out.append(finding(ERROR, CHECK, KARMADA, policy.label, field + ".predicate.path",
                                       "path {0} is not an image in Rollout {1} (it has {2} container(s): {3}): "
                                       "Karmada fails to apply the override".format(
                                           path, t.label, len(containers),
                                           ", ".join(c.get("name", "?") for c in containers) or "none"),
                                       "point it at /spec/template/spec/containers/N/image", policy.source))
    return out


def check(world, manifests, observed, namespaces):
    """Every placement finding for the manifests."""
    out = []
    state = karmada_state(observed)
    if state.get("error"):
        return [finding(ERROR, CHECK, KARMADA, "", "", "cannot read Karmada: {0}".format(state["error"]),
                        "check the connection (kubeconfig, context, validate_certs) and that Karmada answers")]
    discovery = state.get("discovery")
    pols, unknowns = policies(manifests, observed, namespaces=namespaces)
    for u in unknowns:
        out.append(could_not_check(CHECK, KARMADA, "", "", u, "which policies Karmada has"))
    clusters = karmada_list(observed, "cluster.karmada.io", "Cluster")
    if is_unknown(clusters):
        out.append(could_not_check(CHECK, KARMADA, "", "", clusters, "Karmada's member clusters"))
    manifest_policies = [p for p in pols if p.manifest is not None]
    for policy in manifest_policies:
        out += _check_policy_selectors(world, observed, policy, discovery)
    # clusters: of the manifests' policies, and of every policy that places a template of the manifests
    chosen = world.chosen
    placing = dict((p.label, p) for p in manifest_policies if p.kind.endswith("PropagationPolicy"))
    for key, policy in chosen.items():
        if world.manifest(key) is not None:
            placing[policy.label] = policy
    for label in sorted(placing):
        out += _check_policy_clusters(placing[label], clusters)
    all_templates = templates(manifests, observed)
    for m in manifests:
        if not m.is_template() or m.kind == "Namespace":
            continue
        api_version = preferred_api_version(discovery, m.group)
        if not api_version:
            continue
        if m.key in chosen:
            continue
        misses = [x for x in near_misses(all_templates[m.key], pols, api_version) if x[0].manifest is None]
        if misses:
            policy, i, wrong = misses[0]
            out.append(finding(ERROR, CHECK, KARMADA, m.label, "apiVersion",
                               "{0} selects it at {1} (spec.resourceSelectors[{2}]), but Karmada reads {3} "
                               "templates at {4} and matches the apiVersion exactly: no member gets it".format(
                                   policy.label, wrong, i, m.kind, api_version),
                               "change that selector to apiVersion: {0}".format(api_version), m.source))
        elif not any(x[0].manifest is not None for x in near_misses(all_templates[m.key], pols, api_version)):
            out.append(finding(WARNING, CHECK, KARMADA, m.label, "metadata",
                               "no PropagationPolicy selects it: it stays in Karmada, and no member gets it",
                               "add it to the resourceSelectors of the app's PropagationPolicy", m.source))
    # Rollouts: division of replicas
    rollouts = [t for t in all_templates.values() if t.kind == "Rollout" and t.group == "argoproj.io"]
    divided = [(t, chosen[t.key]) for t in rollouts if t.key in chosen and (
        t.manifest is not None or chosen[t.key].manifest is not None)]
    interpreter = replica_interpreter(manifests, observed) if divided else None
    for t, policy in divided:
        out += _check_rollout_division(world, observed, t, policy, interpreter)
    # OverridePolicies over Rollouts
    overrides, unknowns = policies(manifests, observed, kinds=("OverridePolicy", "ClusterOverridePolicy"),
                                   namespaces=namespaces)
    for policy in overrides:
        selected = []
        for t in rollouts:
            if policy.kind == "OverridePolicy" and policy.namespace != t.namespace:
                continue
            api_version = preferred_api_version(discovery, t.group)
            if not policy.selectors or any(selector_priority(t, s, api_version) for s in policy.selectors):
                selected.append(t)
        if policy.manifest is None:
            selected = [t for t in selected if t.manifest is not None]
        out += _check_override(policy, selected)
    return out
