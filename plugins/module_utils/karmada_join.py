# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What joining a cluster to Karmada in push mode writes, as plain dicts (no I/O).

The objects are the ones ``karmadactl join`` (Karmada v1.14, ``pkg/karmadactl/join`` and
``pkg/util/credential.go``) makes, with the same names and labels, so a cluster joined here can be
unjoined with ``karmadactl unjoin`` and the other way round:

- in the member, namespace ``karmada-cluster`` (labelled ``karmada.io/system``), the service accounts
  ``karmada-impersonator`` (Karmada's cluster proxy acts through it) and ``karmada-NAME`` (Karmada's
  controllers act through it), a ClusterRole ``karmada-controller-manager:karmada-NAME`` with every
  permission bound to the latter, and one service-account-token Secret per service account;
- in Karmada, in ``karmada-cluster``, the Secrets ``NAME`` (``caBundle``, ``token``) and
  ``NAME-impersonator`` (``token``), owned by the ``Cluster`` ``NAME`` (``syncMode: Push``,
  ``apiEndpoint``, ``id`` = the member's ``kube-system`` namespace UID, the two secret references).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

CLUSTER_API_VERSION = "cluster.karmada.io/v1alpha1"
CLUSTER_NAMESPACE = "karmada-cluster"
SYSTEM_LABELS = {"karmada.io/system": "true"}
IMPERSONATOR = "karmada-impersonator"
TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"
HIDDEN = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# What a Secret value not known yet stands for in check mode (the member's token controller has not
# filled the token in): valid base64, since check mode sends the Secrets as a server-side dry run.
NOT_YET = "bm90IGtub3duIHlldA=="  # base64 of "not known yet"

# Karmada's ValidateClusterName: a DNS-1123 label of at most 48 characters.
NAME_MAX = 48
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ENDPOINT = re.compile(r"^https?://[^/\s]+(/\S*)?$")


class JoinError(ValueError):
    """Bad input or a state that joining must not touch; ``field`` names the option at fault."""

    def __init__(self, field, message):
        super(JoinError, self).__init__("{0}: {1}".format(field, message))
        self.field = field


# --- input -------------------------------------------------------------------


def check_name(name, field="name"):
    if not isinstance(name, str) or not name:
        raise JoinError(field, "a cluster name is required")
    if len(name) > NAME_MAX:
        raise JoinError(field, "{0!r} is longer than {1} characters (Karmada's limit for cluster names)".format(
            name, NAME_MAX))
    if not _DNS1123_LABEL.match(name):
        raise JoinError(field, "{0!r} is not a DNS-1123 label (lower case letters, digits and '-', starting and "
                               "ending with a letter or digit), as Karmada requires of cluster names".format(name))
    return name


def check_labels(labels, field="labels"):
    """Kubernetes label syntax, so a bad label fails here and not halfway through a join."""
    out = {}
    for key, value in (labels or {}).items():
        if not isinstance(key, str) or not key:
            raise JoinError(field, "label keys must be non-empty strings, got {0!r}".format(key))
        prefix, _sep, name = key.rpartition("/")
        if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
            raise JoinError(field, "label key {0!r}: its prefix must be a DNS subdomain".format(key))
        if len(name) > 63 or not _LABEL_NAME.match(name):
            raise JoinError(field, "label key {0!r} is not a valid label name (at most 63 letters, digits, '-', '_' "
                                   "or '.', starting and ending with a letter or digit)".format(key))
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
            raise JoinError(field, "label {0}: the value must be a string or a number, got {1!r}".format(key, value))
        text = str(value)
        if len(text) > 63 or not _LABEL_VALUE.match(text):
            raise JoinError(field, "label {0}: {1!r} is not a valid label value (at most 63 letters, digits, '-', "
                                   "'_' or '.', starting and ending with a letter or digit)".format(key, text))
        out[key] = text
    return out


def check_api_endpoint(url, field="api_endpoint"):
    if not isinstance(url, str) or not _ENDPOINT.match(url):
        raise JoinError(field, "{0!r} is not the URL of an API server (https://HOST[:PORT])".format(url))
    return url.rstrip("/")


def check_member_objects(objects, kinds, field="member_objects"):
    """The objects to apply in the member, ``List`` kinds flattened; each needs a known kind and a name."""
    out = []
    for obj in objects or []:
        if not isinstance(obj, dict):
            raise JoinError(field, "each item must be a Kubernetes object (a dictionary), got {0!r}".format(obj))
        if str(obj.get("kind", "")).endswith("List"):
            out += check_member_objects(obj.get("items") or [], kinds, field)
            continue
        name = (obj.get("metadata") or {}).get("name")
        if obj.get("kind") not in kinds or not name or not obj.get("apiVersion"):
            raise JoinError(field, "{0} {1!r}: each object needs apiVersion, metadata.name and one of the kinds {2}".format(
                obj.get("kind"), name, ", ".join(kinds)))
        out.append(copy.deepcopy(obj))
    return out


# --- names -------------------------------------------------------------------


def service_account_name(cluster):
    return "karmada-" + cluster


def cluster_role_name(cluster):
    return "karmada-controller-manager:" + service_account_name(cluster)


def impersonator_secret_name(cluster):
    return cluster + "-impersonator"


# --- what joining writes -----------------------------------------------------


def _meta(name, namespace=None, labels=None, annotations=None):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = dict(labels if labels is not None else SYSTEM_LABELS)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def namespace_object(namespace=CLUSTER_NAMESPACE):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace)}


def member_objects(cluster, namespace=CLUSTER_NAMESPACE):
    """The member's objects in the order they are written (the namespace is created apart, only when missing).

    Each token Secret follows its service account; the member's token controller fills in ``token`` and ``ca.crt``.
    """
    sa = service_account_name(cluster)
    role = cluster_role_name(cluster)

    def token_secret(account):
        return {"apiVersion": "v1", "kind": "Secret", "type": TOKEN_SECRET_TYPE,
                "metadata": _meta(account, namespace, annotations={"kubernetes.io/service-account.name": account})}

    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(IMPERSONATOR, namespace)},
        token_secret(IMPERSONATOR),
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(sa, namespace)},
        # Karmada's controllers manage every kind in the member: the same rules as karmadactl's.
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": _meta(role),
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                   {"nonResourceURLs": ["*"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": _meta(role),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
         "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}]},
        token_secret(sa),
    ]


def token_secret_names(cluster):
    """(impersonator, controllers): the names of the member's two token Secrets."""
    return IMPERSONATOR, service_account_name(cluster)


def owner_reference(cluster_obj):
    """Karmada's secrets of a cluster belong to its Cluster, so deleting the Cluster removes them.

    Without ``blockOwnerDeletion``: setting it needs ``update`` on ``clusters/finalizers`` where the
    OwnerReferencesPermissionEnforcement admission plugin runs, and nothing here deletes in the foreground.
    """
    meta = cluster_obj["metadata"]
    return {"apiVersion": CLUSTER_API_VERSION, "kind": "Cluster", "name": meta["name"], "uid": meta["uid"],
            "controller": True}


def karmada_secrets(cluster, ca_bundle, token, impersonator_token, namespace=CLUSTER_NAMESPACE, owner=None):
    """Karmada's two Secrets for the cluster; ``ca_bundle`` and the tokens as the member's Secrets hold them
    (base64), so nothing is decoded here."""
    secrets = [
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": _meta(impersonator_secret_name(cluster), namespace),
         "data": {"token": impersonator_token}},
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": _meta(cluster, namespace),
         "data": {"caBundle": ca_bundle, "token": token}},
    ]
    if owner:
        for secret in secrets:
            secret["metadata"]["ownerReferences"] = [owner]
    return secrets


def cluster_object(cluster, api_endpoint, cluster_id, namespace=CLUSTER_NAMESPACE, insecure=False,
                   proxy_url=None, labels=None, region=None, zones=None, provider=None):
    spec = {
        "syncMode": "Push",
        "apiEndpoint": api_endpoint,
        "id": cluster_id,
        "secretRef": {"namespace": namespace, "name": cluster},
        "impersonatorSecretRef": {"namespace": namespace, "name": impersonator_secret_name(cluster)},
    }
    if insecure:
        spec["insecureSkipTLSVerification"] = True
    if proxy_url:
        spec["proxyURL"] = proxy_url
    if region:
        spec["region"] = region
    if zones:
        spec["zones"] = list(zones)
    if provider:
        spec["provider"] = provider
    meta = {"name": cluster}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": CLUSTER_API_VERSION, "kind": "Cluster", "metadata": meta, "spec": spec}


def probe_rollout(name, namespace):
    """A Rollout of no replicas: the Argo Rollouts controller marks it Healthy at once if it reconciles."""
    labels = {"app": name}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(SYSTEM_LABELS)},
            "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "probe", "image": "multicluster-canary/probe:0"}]}},
                     "strategy": {"canary": {}}}}


def rollout_reconciled(obj):
    """Whether Argo Rollouts has observed this generation of the Rollout and found it Healthy."""
    status = (obj or {}).get("status") or {}
    generation = (obj or {}).get("metadata", {}).get("generation")
    observed = str(status.get("observedGeneration", ""))
    return status.get("phase") == "Healthy" and (generation is None or observed == str(generation))


# --- what Karmada says -------------------------------------------------------


def conflict(clusters, name, cluster_id):
    """Why joining ``name`` (whose kube-system UID is ``cluster_id``) must not go on, or None.

    ``clusters`` is Karmada's list of Cluster objects. Like ``karmadactl join``, a member is joined once: the
    same member under another name, or another member under this name, is refused; unlike it, the same member
    under the same name is not an error (a re-run checks and completes it).
    """
    for c in clusters:
        other = c["metadata"]["name"]
        spec = c.get("spec") or {}
        if other == name:
            if spec.get("syncMode") == "Pull":
                return JoinError("name", "{0} is a Pull mode member of Karmada (karmada-agent registers it): "
                                         "it is not joined or unjoined here".format(name))
            if spec.get("id") and cluster_id and spec["id"] != cluster_id:
                return JoinError("name", "Karmada already has a Cluster {0} for another cluster (id {1}, API server "
                                         "{2}); the kubeconfig context given is cluster id {3}. Unjoin it first, or "
                                         "check the context".format(name, spec["id"], spec.get("apiEndpoint"),
                                                                    cluster_id))
        elif cluster_id and spec.get("id") == cluster_id:
            return JoinError("name", "this cluster (id {0}) is already joined to Karmada as {1}".format(
                cluster_id, other))
    return None


def condition(obj, kind_):
    for c in (obj or {}).get("status", {}).get("conditions") or []:
        if c.get("type") == kind_:
            return c
    return None


def is_ready(cluster_obj):
    c = condition(cluster_obj, "Ready")
    return bool(c and c.get("status") == "True")


def readiness(cluster_obj):
    """One sentence on the Cluster's Ready condition."""
    c = condition(cluster_obj, "Ready")
    if not c:
        return "no Ready condition yet (karmada-controller-manager has not reached it)"
    return "Ready={0} ({1}: {2})".format(c.get("status"), c.get("reason"), c.get("message"))


def summary(cluster_obj):
    """What the module returns about a Cluster: its labels, spec (without the resource models Karmada fills in)
    and what Karmada reports."""
    if not cluster_obj:
        return None
    spec = dict(cluster_obj.get("spec") or {})
    spec.pop("resourceModels", None)
    status = cluster_obj.get("status") or {}
    return {
        "name": cluster_obj["metadata"]["name"],
        "labels": dict(cluster_obj["metadata"].get("labels") or {}),
        "spec": spec,
        "ready": is_ready(cluster_obj),
        "conditions": list(status.get("conditions") or []),
        "kubernetes_version": status.get("kubernetesVersion"),
        "api_versions": sorted(set(a.get("groupVersion") for a in status.get("apiEnablements") or []
                                   if a.get("groupVersion"))),
    }


def hide_secret(obj):
    """A Secret with every value of ``data`` and ``stringData`` replaced, for diffs and results."""
    if not obj or obj.get("kind") != "Secret":
        return obj
    out = copy.deepcopy(obj)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), dict):
            out[key] = dict((k, HIDDEN) for k in out[key])
    return out
