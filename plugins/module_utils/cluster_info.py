# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""karmada_cluster_info's run: which members Karmada knows and reports Ready, which APIs each one serves.

:func:`served_versions` and :func:`assess` are pure (what Karmada and the members said, in; facts
and problems, out); :func:`cluster_info` reads through the fleet and never fails on a member.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError


def served_versions(discovery):
    """The C(GROUP/VERSION) strings of an C(/apis) discovery document (an APIGroupList), sorted."""
    found = set()
    for group in (discovery or {}).get("groups") or []:
        for version in group.get("versions") or []:
            if version.get("groupVersion"):
                found.add(version["groupVersion"])
    return sorted(found)


def assess(requested, known, apis, required):
    """Per-cluster facts and the problems, from what Karmada and the members said.

    requested: cluster names to check; known: {name: ready}; apis: {name: (ok, versions or error message)}
    for the clusters that were asked; required: group versions every member must serve.
    """
    clusters, problems = {}, []
    for name in requested:
        entry = dict(known=name in known, ready=bool(known.get(name)), api_versions=[],
                     missing_api_versions=[], error=None)
        if not entry["known"]:
            problems.append("{0}: unknown to Karmada (join it first: karmadactl join {0})".format(name))
        elif not entry["ready"]:
            problems.append("{0}: not Ready in Karmada (check its Cluster conditions and its API server)".format(name))
        elif name in apis:
            ok, value = apis[name]
            if ok:
                entry["api_versions"] = list(value)
                entry["missing_api_versions"] = [v for v in required if v not in value]
                if entry["missing_api_versions"]:
                    problems.append("{0}: does not serve {1}".format(name, ", ".join(entry["missing_api_versions"])))
            else:
                entry["error"] = value
                problems.append("{0}: cannot read its APIs: {1}".format(name, value))
        clusters[name] = entry
    return clusters, problems


def check_expected(expected):
    """``expected`` as :func:`outdated` takes it, or an InputError naming the field."""
    if not isinstance(expected, dict):
        raise InputError("expected: a dictionary of cluster name to {api_endpoint, labels, region}", field="expected")
    for name, want in expected.items():
        if want is not None and not isinstance(want, dict):
            raise InputError("expected: {0}: a dictionary with api_endpoint, labels, region, got {1!r}".format(
                name, want), field="expected")
        if not isinstance((want or {}).get("labels") or {}, dict):
            raise InputError("expected: {0}: labels must be a dictionary, got {1!r}".format(name, want["labels"]),
                             field="expected")
    return expected


def outdated(expected, objects):
    """{name: [what differs]}: the clusters of ``expected`` that Karmada knows but whose Cluster does not hold
    what the inventory says of them.

    expected: {name: {"api_endpoint": URL, "labels": {key: value}, "region": name}}, a blank or missing entry
    meaning the inventory does not say; objects: {name: Karmada's Cluster object}. Labels are compared one by
    one (a Cluster carries labels of its own too); an endpoint without its trailing slash.
    """
    out = {}
    for name in sorted(expected):
        want, have = expected[name] or {}, objects.get(name)
        if have is None:
            continue
        spec = have.get("spec") or {}
        labels = (have.get("metadata") or {}).get("labels") or {}
        diffs = []
        endpoint = str(want.get("api_endpoint") or "").rstrip("/")
        if endpoint and endpoint != str(spec.get("apiEndpoint") or "").rstrip("/"):
            diffs.append("apiEndpoint {0} (Karmada has {1})".format(endpoint, spec.get("apiEndpoint") or "none"))
        want_labels = want.get("labels") or {}
        for key in sorted(want_labels):
            if labels.get(key) != str(want_labels[key]):
                diffs.append("label {0}={1} (Karmada has {2})".format(key, want_labels[key], labels.get(key, "none")))
        region = want.get("region")
        if region and str(region) != spec.get("region"):
            diffs.append("region {0} (Karmada has {1})".format(region, spec.get("region") or "none"))
        if diffs:
            out[name] = diffs
    return out


def cluster_info(run):
    """Read Karmada's clusters and the requested members' discovery; record facts and problems."""
    p = run.params
    bad = [v for v in p["required_api_versions"] if v.count("/") != 1 or not all(v.split("/"))]
    if bad:
        raise InputError("required_api_versions: {0} is not GROUP/VERSION (for example argoproj.io/v1alpha1)".format(
            ", ".join(repr(v) for v in bad)))
    expected = check_expected(p["expected"] or {})
    objects = run.fleet.cluster_objects()
    by_name = dict((c["metadata"]["name"], c) for c in objects)
    known = run.fleet.clusters(objects)
    stale = outdated(expected, by_name)
    requested = list(p["clusters"]) if p["clusters"] else sorted(known)
    ask = [n for n in requested if known.get(n)]
    apis = run.fleet.run(ask, lambda endpoint: served_versions(endpoint.get_path("/apis")))
    clusters, problems = assess(requested, known, apis, p["required_api_versions"])
    for name, entry in clusters.items():
        entry["api_endpoint"] = ((by_name.get(name) or {}).get("spec") or {}).get("apiEndpoint")
    run.update(clusters=clusters, known=known, problems=problems, outdated=stale)
