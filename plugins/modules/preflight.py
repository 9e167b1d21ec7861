#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: preflight
short_description: Find what keeps a release from working, across Karmada and every member, before anything is written
version_added: 0.3.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Checks the objects a release is about to write (O(manifests), or the YAML files of O(src), the way they would be
    given to C(kubectl apply)) against each other and against what Karmada and each member cluster have now, and
    returns one finding per problem, each naming the cluster, the object, the field, what is wrong and what to do.
  - B(References), in every member Karmada places an object on (in Karmada when no policy places it) - a
    VirtualService's destination hosts, ports and subsets, and its gateways; a Gateway's C(credentialName) (a TLS
    Secret in O(gateway_namespace)); a Rollout's stable and canary Services (whose selectors must select its pods),
    its VirtualService and named routes (holding the stable and canary destinations), its DestinationRule subsets,
    and managed routes no step sets; an HTTPRoute's C(backendRefs).
  - B(Karmada placement) - a policy selector at an API version Karmada never matches (not the group's preferred
    version), a selector that matches nothing, a template no policy selects, a cluster that is not joined or not
    Ready, a Rollout divided with no replica interpreter (every member would get the full count) or bound before
    the interpreter came, an C(imageOverrider) that cannot find a Rollout's image.
  - B(Member readiness) - each member answers and serves every kind Karmada will write there, at the version Karmada
    writes it; Istio's CRDs where a Rollout routes with Istio; an Argo Rollouts controller runs; each workload's
    namespace is labelled for Istio's sidecar injection. Karmada serves every kind of the manifests and their
    namespaces exist.
  - B(Strategy) - what a canary's steps will do against what they suggest (see M(multicluster.canary.rollout_release)).
  - Reads only, in one run - Karmada first, then every member concurrently - and writes nothing, so a release that
    runs it first stops before its first write. Secrets are read for their existence and type only (a server-side
    table), never their data. A read the identity may not make becomes a warning naming the permission.
extends_documentation_fragment:
  - multicluster.canary.fleet
options:
  manifests:
    description:
      - The objects to check, as a list of Kubernetes objects (what a stage is about to write). A C(v1) C(List) is
        unpacked.
      - At least one of O(manifests) and O(src).
    type: list
    elements: raw
  src:
    description:
      - A YAML (or JSON) file, or a directory of them (not recursive), with one or more objects per file separated
        by C(---), as C(kubectl apply -f) takes them. Read on the host the task runs on.
      - Findings name the file and the document (C(gateway.yml#2)).
    type: path
  namespace:
    description:
      - The namespace of the objects that name none, as C(kubectl apply -n) would give them.
    type: str
    default: default
  clusters:
    description:
      - The members to check. When omitted, every member Karmada will place the objects on (by the policies in the
        manifests and in Karmada).
    type: list
    elements: str
  gateway_namespace:
    description:
      - The namespace of the Istio ingress gateway's pods, where it reads the Secrets a Gateway's C(credentialName)
        names.
    type: str
    default: istio-system
  argo_rollouts_namespace:
    description:
      - The namespace of the Argo Rollouts controller in the members (its Deployment C(argo-rollouts) and its leader
        Lease C(argo-rollouts-controller-lock)).
    type: str
    default: argo-rollouts
  fail_on:
    description:
      - V(error) fails the task on any error finding, V(warning) on any finding, V(never) only returns them.
      - Warnings are also shown as the task's warnings.
    type: str
    default: error
    choices: [error, warning, never]
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: It only reads.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - Needs read access in Karmada and in each member; C(docs/rbac.md) lists every read. Reads the identity may not make
    are listed in RV(unread) and reported as warnings.
  - Where Karmada will place a template is worked out from the policies as Karmada matches them (priority, then the
    most specific selector, then the name), on the clusters of the policy's first cluster affinity; spread
    constraints and taints are not evaluated.
seealso:
  - module: multicluster.canary.rollout_release
  - module: multicluster.canary.karmada_cluster_info
"""

EXAMPLES = r"""
- name: Check the user's YAML before applying it to Karmada
  multicluster.canary.preflight:
    src: "{{ playbook_dir }}/../manifests/helloworld"
    namespace: helloworld-rollout
  register: preflight

- name: Check what a stage is about to write, and stop on an error
  multicluster.canary.preflight:
    manifests:
      - apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: ruoyi-vue-gateway, namespace: ruoyi}
        spec:
          selector: {istio: ingressgateway}
          servers:
            - port: {number: 443, name: https, protocol: HTTPS}
              hosts: [ruoyi.example.com]
              tls: {mode: SIMPLE, credentialName: ruoyi-vue-tls}
    clusters: "{{ groups['members'] }}"

- name: Only report
  multicluster.canary.preflight:
    src: manifests/
    fail_on: never
  register: preflight

- name: Print the findings, one table per cluster
  ansible.builtin.debug:
    msg: "{{ preflight.report }}"
"""

RETURN = r"""
findings:
  description:
    - Every finding, errors first. C(cluster) is a member, C(karmada), or C(manifests) (found in the objects alone).
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: C(error) (the release would not work; the task fails with O(fail_on=error)) or C(warning).
      type: str
    check:
      description: C(references), C(placement), C(readiness), C(strategy) or C(manifests).
      type: str
    cluster:
      description: Where it applies.
      type: str
    object:
      description: C(Kind/namespace/name) of the object at fault.
      type: str
    field:
      description: The field, as a path in the object.
      type: str
    message:
      description: What is wrong.
      type: str
    fix:
      description: What to do about it.
      type: str
    source:
      description: The file and document of O(src) the object came from, or null.
      type: str
  sample:
    - severity: error
      check: references
      cluster: k8s-master-beijing
      object: Gateway/helloworld-rollout/helloworld-gateway
      field: spec.servers[0].tls.credentialName
      message: "TLS secret helloworld-rollout-tls-secret (HTTPS for helloworld.example.com): there is no Secret
        helloworld-rollout-tls-secret in namespace istio-system of k8s-master-beijing, and the manifests do not write one"
      fix: create the TLS Secret ... or name the Secret that exists; did you mean prd-vue-tls-secret?
      source: helloworld-gateway.yml#1
summary:
  description: The number of errors and warnings.
  returned: always
  type: dict
  sample: {errors: 1, warnings: 2}
clusters:
  description: The members that were checked.
  returned: always
  type: list
  elements: str
report:
  description: The findings as text, one short table per cluster (for a playbook to print).
  returned: always
  type: list
  elements: str
unread:
  description: The reads that were refused or failed, as C(cluster - what (why)).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils import preflight as pf
from ansible_collections.multicluster.canary.plugins.module_utils import preflight_reader as reader
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import fleet_argument_spec, fleet_from_module
from ansible_collections.multicluster.canary.plugins.module_utils.preflight_report import render


def argspec():
    return fleet_argument_spec(
        manifests=dict(type="list", elements="raw"),
        src=dict(type="path"),
        namespace=dict(type="str", default="default"),
        gateway_namespace=dict(type="str", default="istio-system"),
        argo_rollouts_namespace=dict(type="str", default="argo-rollouts"),
        fail_on=dict(type="str", default="error", choices=list(pf.FAIL_ON)),
    )


def main():
    module = AnsibleModule(argument_spec=argspec(), supports_check_mode=True,
                           required_one_of=[("manifests", "src")])
    p = module.params
    items, problems = list(p["manifests"] or []), []
    if p["src"]:
        found, problems, files = reader.load_files(p["src"])
        if not files:
            module.fail_json(msg="src: no .yml, .yaml or .json file in {0}".format(p["src"]))
        items += found
    fleet = fleet_from_module(module)
    findings, members, observed = reader.check_fleet(fleet, items, dict(
        namespace=p["namespace"], gateway_namespace=p["gateway_namespace"], clusters=p["clusters"],
        argo_rollouts_namespace=p["argo_rollouts_namespace"]), problems)
    for f in findings:
        if f["severity"] == "warning":
            module.warn(pf.one_line(f))
    result = dict(changed=False, findings=findings, summary=pf.summary(findings), clusters=members,
                  report=render(findings, members), unread=pf.unknown_reads(observed))
    if pf.fails(findings, p["fail_on"]):
        module.fail_json(msg=pf.failure_message(findings, p["fail_on"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
