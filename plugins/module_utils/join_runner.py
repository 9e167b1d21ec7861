# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Join a cluster to Karmada in push mode, or unjoin it: the reads, writes and waits.

The objects come from :mod:`karmada_join` (pure); this file talks to the member with its own
credentials (a kubeconfig context) and to Karmada with the collection's connection. Every write
is a server-side apply through :func:`service.apply_if_needed` (check mode, ``changed`` from the
server, a diff of what is set), so a second run writes nothing. Before the first write, the
member's identity (its ``kube-system`` UID) is checked against Karmada's clusters and both
credentials are asked whether they may do what joining does (SelfSubjectAccessReview), so a
refusal comes before anything was written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import time

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import CLUSTER_PROXY, FleetError, Kind, kind
from ansible_collections.multicluster.canary.plugins.module_utils import karmada_join as kj
from ansible_collections.multicluster.canary.plugins.module_utils.service import apply_if_needed
from ansible_collections.multicluster.canary.plugins.module_utils.waiter import FleetWaiter

NAMESPACE = kind("Namespace")
SECRET = kind("Secret")
CLUSTER = kind("Cluster")
KINDS = {
    "Namespace": NAMESPACE,
    "Secret": SECRET,
    "ServiceAccount": Kind("", "v1", "serviceaccounts", "ServiceAccount"),
    "ClusterRole": Kind("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
    "ClusterRoleBinding": Kind("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding",
                               namespaced=False),
    "Cluster": CLUSTER,
    "Role": Kind("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    "RoleBinding": Kind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    "Rollout": kind("Rollout"),
}
# What member_objects may hold: access for the collection's identity in the member.
MEMBER_OBJECT_KINDS = ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
TOKEN_TIMEOUT = 30  # karmadactl waits as long for a member's token controller
PROBE = "multicluster-canary-probe"


def _allowed(endpoint, verb, resource, group="", namespace=None, subresource=None):
    """Whether the endpoint's identity may do ``verb`` on ``resource`` (SelfSubjectAccessReview)."""
    attrs = {"verb": verb, "group": group, "resource": resource}
    if namespace:
        attrs["namespace"] = namespace
    if subresource:
        attrs["subresource"] = subresource
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": attrs}}
    answer = endpoint._call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                            body=review, content_type="application/json")
    return bool(((answer or {}).get("status") or {}).get("allowed"))


class ClusterMembership(object):
    """One cluster's membership of Karmada: ``present()`` joins (or completes a join), ``absent()`` unjoins."""

    def __init__(self, fleet, params, check_mode=False, want_diff=False, clock=time.monotonic):
        self.fleet = fleet
        self.control = fleet.control
        self.p = params
        self.name = params["name"]
        self.namespace = params.get("cluster_namespace") or kj.CLUSTER_NAMESPACE
        self.check = check_mode
        self.want_diff = want_diff
        self.clock = clock
        self.changed = False
        self.objects = []  # what was (or would be) written or removed, per cluster
        self.diffs = []
        self.member = None
        self.settings = {}
        self.cluster_id = None
        self.waited = None
        self.probed = None

    # --- connections ---------------------------------------------------------------

    def connect_member(self):
        """The member with its own credentials: ``cluster_kubeconfig`` (default: the Karmada one) and
        ``cluster_context`` (default: the cluster's name)."""
        kubeconfig = self.p.get("cluster_kubeconfig") or self.fleet.auth.get("kubeconfig") or \
            os.environ.get("K8S_AUTH_KUBECONFIG")
        context = self.p.get("cluster_context") or self.name
        self.member, self.settings = self.fleet.kubeconfig_endpoint(self.name, kubeconfig, context)
        system = self.member.get(NAMESPACE, None, "kube-system")
        if not system:
            raise FleetError("cluster {0}: it has no kube-system namespace to take its cluster id from".format(self.name))
        self.cluster_id = system["metadata"]["uid"]

    def require(self, endpoint, field, checks, why):
        """Fail naming ``field`` when the endpoint's identity lacks one of ``checks`` ((verb, group, resource, ns))."""
        missing = ["{0} {1}{2}{3}".format(verb, resource, "." + group if group not in ("", "*") else "",
                                          " in namespace " + ns if ns else "")
                   for verb, group, resource, ns in checks
                   if not _allowed(endpoint, verb, resource, group=group, namespace=ns)]
        if missing:
            raise kj.JoinError(field, "{0} may not {1}: {2}. Nothing was written.".format(
                why, "; ".join(missing), "see docs/rbac.md (joining clusters)" if endpoint is self.control else
                "joining needs a cluster administrator's credentials in the member (karmadactl join needs the same)"))

    # --- writes --------------------------------------------------------------------

    def _record(self, where, obj, action, before=None, after=None):
        meta = obj["metadata"]
        self.objects.append({"cluster": where, "kind": obj["kind"], "namespace": meta.get("namespace"),
                             "name": meta["name"], "action": action})
        if action != "unchanged":
            self.changed = True
            if self.want_diff:
                label = "{0}: {1} {2}".format(where, obj["kind"], "/".join(
                    x for x in (meta.get("namespace"), meta["name"]) if x))
                self.diffs.append({"before": kj.hide_secret(before) or {}, "after": kj.hide_secret(after) or {},
                                   "before_header": label, "after_header": label})

    def ensure(self, endpoint, where, obj):
        k = KINDS[obj["kind"]]
        changed, before, after, diff = apply_if_needed(endpoint, k, obj, check_mode=self.check,
                                                       want_diff=self.want_diff)
        action = ("created" if before is None else "updated") if changed else "unchanged"
        diff = diff or {}
        self._record(where, obj, action, diff.get("before"), diff.get("after"))
        return after

    def ensure_namespace(self, endpoint, where):
        """The namespace, created only when missing (like karmadactl: one made in advance is left as it is)."""
        obj = kj.namespace_object(self.namespace)
        if endpoint.get(NAMESPACE, None, self.namespace) is not None:
            self._record(where, obj, "unchanged")
            return
        if not self.check:
            endpoint.apply(NAMESPACE, obj)
        self._record(where, obj, "created", None, obj)

    def remove(self, endpoint, where, k, namespace, name):
        live = endpoint.get(k, namespace, name)
        obj = {"kind": k.kind, "metadata": {"name": name, "namespace": namespace}}
        if live is None or live["metadata"].get("deletionTimestamp"):
            return False
        endpoint.delete(k, namespace, name, dry_run=self.check)
        self._record(where, obj, "deleted", live, None)
        return True

    # --- waits ---------------------------------------------------------------------

    def wait_token(self, secret_name, timeout=TOKEN_TIMEOUT):
        """The member's token Secret once its token controller filled it in (None in check mode when absent)."""
        if self.check:
            return self.member.get(SECRET, self.namespace, secret_name)
        waiter = FleetWaiter(None, SECRET, self.namespace, secret_name, clock=self.clock)
        found = waiter.wait_one(self.member, lambda _m, o: bool((o.get("data") or {}).get("token")), timeout)
        if self.member.name not in waiter.seen_at:
            raise FleetError("cluster {0}: no token in Secret {1}/{2} after {3}s: is the member's kube-controller-"
                             "manager running its token controller (--service-account-private-key-file, "
                             "--root-ca-file)?{4}".format(self.name, self.namespace, secret_name, timeout,
                                                          "" if found else " (the Secret is not there)"))
        return found

    def wait_ready(self, timeout):
        waiter = FleetWaiter(None, CLUSTER, None, self.name, clock=self.clock)
        found = waiter.wait_one(self.control, lambda _m, o: kj.is_ready(o), timeout)
        if self.control.name not in waiter.seen_at:
            raise FleetError("cluster {0}: not Ready in Karmada after {1}s: {2}".format(
                self.name, timeout, kj.readiness(found)))
        return found

    def wait_proxy(self, deadline):
        """Until the caller reaches the member through Karmada's cluster proxy: Karmada's unified-auth
        controller lets the member's karmada-impersonator act as the caller a moment after the join."""
        path = CLUSTER_PROXY.format(self.name) + "/api"
        pause = 0.2
        while True:
            try:
                self.control._call("GET", path)
                return
            except FleetError as e:
                refused_by_karmada = 'clusters.cluster.karmada.io "{0}" is forbidden'.format(self.name) in str(e)
                # Karmada's unified-auth controller lets the impersonator act as the caller's user, never as
                # its groups: without the member RBAC that allows them (member_objects), waiting cannot help.
                groups = 'cannot impersonate resource "groups"' in str(e)
                if refused_by_karmada or groups or self.clock() >= deadline:
                    raise FleetError("cluster {0}: Ready, but the collection's identity cannot reach it through "
                                     "Karmada's cluster proxy{1}: {2}{3}".format(
                                         self.name, "" if refused_by_karmada or groups else " yet", e,
                                         " (give the member the collection's RBAC with member_objects: "
                                         "docs/rbac/member-binding.yml)" if groups else ""))
            time.sleep(pause)
            pause = min(1.0, pause * 2)

    def probe_rollouts(self, timeout):
        """Whether the member's Argo Rollouts controller reconciles: a Rollout of 0 replicas in the credentials'
        namespace must become Healthy. It is removed afterwards, and is no change of the member."""
        rollout = KINDS["Rollout"]
        if self.member.get(rollout, self.namespace, PROBE) is None:
            self.member.apply(rollout, kj.probe_rollout(PROBE, self.namespace))
        waiter = FleetWaiter(None, rollout, self.namespace, PROBE, clock=self.clock)
        try:
            found = waiter.wait_one(self.member, lambda _m, o: kj.rollout_reconciled(o), timeout)
        finally:
            self.member.delete(rollout, self.namespace, PROBE)
        if self.member.name not in waiter.seen_at:
            raise FleetError("cluster {0}: joined and Ready, but its Argo Rollouts controller did not reconcile a "
                             "Rollout in {1}s (status: {2}): is it running, for every namespace?".format(
                                 self.name, timeout, ((found or {}).get("status") or {}).get("phase") or "none"))
        self.probed = True

    def wait_gone(self, timeout):
        """Until Karmada has deleted the Cluster (its controller first removes what it placed in the member)."""
        deadline = self.clock() + timeout
        while True:
            live = self.control.get(CLUSTER, None, self.name)
            if live is None:
                return True
            left = deadline - self.clock()
            if left <= 0:
                return False
            try:
                for event, _obj in self.control.watch(CLUSTER, None, self.name, live["metadata"]["resourceVersion"],
                                                      min(10, left)):
                    if event in ("DELETED", "ERROR"):
                        break
            except FleetError:
                time.sleep(min(1.0, max(0.0, deadline - self.clock())))

    # --- the two states --------------------------------------------------------------

    def present(self):
        p = self.p
        kj.check_name(self.name)
        labels = kj.check_labels(p.get("labels"))
        endpoint = kj.check_api_endpoint(p["api_endpoint"]) if p.get("api_endpoint") else None
        extra = kj.check_member_objects(p.get("member_objects"), MEMBER_OBJECT_KINDS)
        started = self.clock()
        self.connect_member()
        endpoint = endpoint or kj.check_api_endpoint(self.settings["host"], field="cluster_context")
        problem = kj.conflict(self.control.list(CLUSTER), self.name, self.cluster_id)
        if problem:
            raise problem
        existing = self.control.get(CLUSTER, None, self.name)
        karmada_checks = [("create", "cluster.karmada.io", "clusters", None),
                          ("patch", "cluster.karmada.io", "clusters", None),
                          ("get", "", "secrets", self.namespace), ("create", "", "secrets", self.namespace),
                          ("patch", "", "secrets", self.namespace)]
        if p.get("wait"):
            karmada_checks.append(("watch", "cluster.karmada.io", "clusters", None))
        self.require(self.control, "kubeconfig", karmada_checks, "the Karmada identity")
        self.require(self.member, "cluster_kubeconfig", [("*", "*", "*", None)],
                     "the credentials of cluster {0}".format(self.name))

        # In the member: what Karmada will act through, and what the caller asked for (the collection's RBAC).
        self.ensure_namespace(self.member, "member")
        for obj in kj.member_objects(self.name, self.namespace) + extra:
            self.ensure(self.member, "member", obj)
        impersonator_name, controllers_name = kj.token_secret_names(self.name)
        impersonator = self.wait_token(impersonator_name)
        controllers = self.wait_token(controllers_name)
        imp_token = ((impersonator or {}).get("data") or {}).get("token") or kj.NOT_YET
        token = ((controllers or {}).get("data") or {}).get("token") or kj.NOT_YET
        ca_bundle = ((controllers or {}).get("data") or {}).get("ca.crt") or self._kubeconfig_ca() or kj.NOT_YET

        # In Karmada: the credentials, then the Cluster that refers to them.
        self.ensure_namespace(self.control, "karmada")
        owner = kj.owner_reference(existing) if existing else None
        for secret in kj.karmada_secrets(self.name, ca_bundle, token, imp_token, self.namespace, owner):
            self.ensure(self.control, "karmada", secret)
        desired = kj.cluster_object(self.name, endpoint, self.cluster_id, self.namespace,
                                    insecure=not self.settings.get("verify_ssl", True),
                                    proxy_url=self.settings.get("proxy"), labels=labels, region=p.get("region"),
                                    zones=p.get("zones"), provider=p.get("provider"))
        cluster = self.ensure(self.control, "karmada", desired)
        if owner is None and not self.check:
            # first join: the secrets were written before their owner existed
            owner = kj.owner_reference(cluster)
            for secret in kj.karmada_secrets(self.name, ca_bundle, token, imp_token, self.namespace, owner):
                self.ensure(self.control, "karmada", secret)
        if p.get("wait") and not self.check:
            deadline = started + p["wait_timeout"]
            cluster = self.wait_ready(max(1, deadline - self.clock()))
            if self.fleet.member_access == "karmada_proxy":
                self.wait_proxy(deadline)
            if p.get("check_rollouts_controller"):
                self.probe_rollouts(max(1, min(60, deadline - self.clock())))
            cluster = self.control.get(CLUSTER, None, self.name) or cluster
            self.waited = round(self.clock() - started, 1)
        return self.result(cluster, endpoint)

    def _kubeconfig_ca(self):
        """The CA of the kubeconfig context, base64, for a token Secret without ca.crt."""
        path = self.settings.get("ssl_ca_cert")
        if path and os.path.exists(path):
            with open(path, "rb") as f:
                return base64.b64encode(f.read()).decode()
        return None

    def absent(self):
        p = self.p
        kj.check_name(self.name)
        live = self.control.get(CLUSTER, None, self.name)
        spec = (live or {}).get("spec") or {}
        if spec.get("syncMode") == "Pull":
            raise kj.JoinError("name", "{0} is a Pull mode member of Karmada (karmada-agent registers it): it is not "
                                       "joined or unjoined here".format(self.name))
        cleanup = p.get("member_cleanup", True)
        if cleanup:
            self.connect_member()
            if spec.get("id") and spec["id"] != self.cluster_id:
                raise kj.JoinError("cluster_context", "Karmada's Cluster {0} is cluster id {1}, but the context given "
                                                      "reaches cluster id {2}: nothing was removed".format(
                                                          self.name, spec["id"], self.cluster_id))
        self.require(self.control, "kubeconfig", [("delete", "cluster.karmada.io", "clusters", None),
                                                  ("delete", "", "secrets", self.namespace)], "the Karmada identity")
        if cleanup:
            self.require(self.member, "cluster_kubeconfig", [("*", "*", "*", None)],
                         "the credentials of cluster {0}".format(self.name))
        started = self.clock()
        if live is not None:
            self.remove(self.control, "karmada", CLUSTER, None, self.name)
            if not self.check and (p.get("wait") or cleanup):
                # The member's credentials must outlive the Cluster: Karmada removes what it placed there with them.
                if not self.wait_gone(p["wait_timeout"]):
                    raise FleetError("cluster {0}: Karmada has not deleted its Cluster after {1}s (its controller "
                                     "removes what it placed in the member first): {2}".format(
                                         self.name, p["wait_timeout"], kj.readiness(
                                             self.control.get(CLUSTER, None, self.name))))
        refs = [spec.get("secretRef") or {"namespace": self.namespace, "name": self.name},
                spec.get("impersonatorSecretRef") or {"namespace": self.namespace,
                                                      "name": kj.impersonator_secret_name(self.name)}]
        for ref in refs:
            self.remove(self.control, "karmada", SECRET, ref.get("namespace"), ref.get("name"))
        if cleanup:
            for obj in reversed(kj.check_member_objects(p.get("member_objects"), MEMBER_OBJECT_KINDS)):
                meta = obj["metadata"]
                self.remove(self.member, "member", KINDS[obj["kind"]], meta.get("namespace"), meta["name"])
            role = kj.cluster_role_name(self.name)
            self.remove(self.member, "member", KINDS["ClusterRoleBinding"], None, role)
            self.remove(self.member, "member", KINDS["ClusterRole"], None, role)
            self.remove(self.member, "member", KINDS["ServiceAccount"], self.namespace,
                        kj.service_account_name(self.name))
            self.remove(self.member, "member", NAMESPACE, None, self.namespace)
        if live is not None and not self.check:
            self.waited = round(self.clock() - started, 1)
        return self.result(None, spec.get("apiEndpoint"))

    def result(self, cluster, endpoint):
        out = dict(changed=self.changed, name=self.name, cluster=kj.summary(cluster),
                   ready=kj.is_ready(cluster),
                   api_endpoint=endpoint, cluster_id=self.cluster_id, objects=self.objects)
        if self.waited is not None:
            out["waited"] = self.waited
        if self.probed is not None:
            out["rollouts_controller"] = "reconciles"
        if self.want_diff:
            out["diff"] = self.diffs
        return out
