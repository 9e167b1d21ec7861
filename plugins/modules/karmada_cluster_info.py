#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: karmada_cluster_info
short_description: Whether Karmada's member clusters are Ready and which APIs each one serves
version_added: 0.1.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Reads the C(Cluster) objects of Karmada (C(cluster.karmada.io/v1alpha1)) and, for each member of O(clusters)
    that Karmada knows and reports Ready, the API group versions the member serves (its C(/apis) discovery),
    through the same connection the other modules of the collection use (Karmada's cluster proxy, or a kubeconfig
    context per member) - no kubeconfig is read by the task itself, so an AWX credential's C(K8S_AUTH_*)
    variables are enough.
  - With O(required_api_versions), lists what is missing per member in RV(problems); the module itself never
    fails on a missing member or API, so a play can word its own check (see the C(bootstrap) role).
extends_documentation_fragment:
  - multicluster.canary.fleet
options:
  clusters:
    description:
      - The member clusters to check, by their Karmada C(Cluster) name (for example the hosts of the inventory's
        C(members) group). Names Karmada does not know are reported in RV(problems), not refused.
      - When omitted, every cluster Karmada knows.
    type: list
    elements: str
  required_api_versions:
    description:
      - API group versions (C(GROUP/VERSION), for example C(argoproj.io/v1alpha1)) every checked member must serve.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: It only reads.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - The caller needs C(list) on C(clusters) in Karmada and, with O(member_access=karmada_proxy), C(get) on
    C(clusters/proxy); discovery (C(/apis)) is open to every authenticated user of a member by default.
seealso:
  - module: multicluster.canary.rollout_promote
"""

EXAMPLES = r"""
- name: Check the inventory's members before a release
  multicluster.canary.karmada_cluster_info:
    clusters: "{{ groups['members'] }}"
    required_api_versions:
      - argoproj.io/v1alpha1
      - networking.istio.io/v1beta1
  register: members

- name: Fail naming every member that is unknown, not Ready or missing an API
  ansible.builtin.assert:
    that: members.problems | length == 0
    fail_msg: "{{ members.problems | join('; ') }}"
"""

RETURN = r"""
clusters:
  description: Per checked cluster, what Karmada and the member said.
  returned: always
  type: dict
  sample:
    k8s-master-beijing:
      known: true
      ready: true
      api_versions: [argoproj.io/v1alpha1, networking.istio.io/v1, networking.istio.io/v1beta1]
      missing_api_versions: []
      error: null
  contains:
    known:
      description: Whether Karmada has a C(Cluster) of that name.
      type: bool
    ready:
      description: Whether its C(Ready) condition is C(True).
      type: bool
    api_versions:
      description: The group versions the member serves (empty when it was not asked - unknown, not Ready, or an error).
      type: list
      elements: str
    missing_api_versions:
      description: The O(required_api_versions) it does not serve.
      type: list
      elements: str
    error:
      description: Why its APIs could not be read, or null.
      type: str
known:
  description: Every cluster Karmada knows, with whether it is Ready.
  returned: always
  type: dict
  sample: {k8s-master-beijing: true, k8s-master-shanghai: false}
problems:
  description: One sentence per member that is unknown to Karmada, not Ready, unreachable or missing a required API.
  returned: always
  type: list
  elements: str
  sample: ["k8s-master-shanghai: not Ready in Karmada"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import (
    FleetError,
    fleet_argument_spec,
    fleet_from_module,
)


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


def main():
    module = AnsibleModule(argument_spec=fleet_argument_spec(
        required_api_versions=dict(type="list", elements="str", default=[]),
    ), supports_check_mode=True)
    p = module.params
    bad = [v for v in p["required_api_versions"] if v.count("/") != 1 or not all(v.split("/"))]
    if bad:
        module.fail_json(msg="required_api_versions: {0} is not GROUP/VERSION (for example argoproj.io/v1alpha1)".format(
            ", ".join(repr(v) for v in bad)))
    fleet = fleet_from_module(module)
    try:
        known = fleet.clusters()
    except FleetError as e:
        module.fail_json(msg=str(e))
    requested = list(p["clusters"]) if p["clusters"] else sorted(known)
    ask = [n for n in requested if known.get(n)]
    apis = fleet.run(ask, lambda endpoint: served_versions(endpoint._call("GET", "/apis")))
    clusters, problems = assess(requested, known, apis, p["required_api_versions"])
    module.exit_json(changed=False, clusters=clusters, known=known, problems=problems)


if __name__ == "__main__":
    main()
