# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection to the Karmada control plane (kubernetes.core's auth options) and member addressing, and what
    # the attributes every module states mean (each module says its own support and details).
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig for the Karmada API server, or its content as a dictionary.
      - Falls back to E(K8S_AUTH_KUBECONFIG), then in-cluster configuration, then C(~/.kube/config).
    type: raw
  context:
    description:
      - The kubeconfig context of the Karmada API server (for example C(karmada-apiserver)).
      - Can also be set with E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the Karmada API server. Can also be set with E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the Karmada API server. Can also be set with E(K8S_AUTH_API_KEY).
    type: str
  username:
    description:
      - Basic-auth user name for the Karmada API server.
    type: str
  password:
    description:
      - Basic-auth password for the Karmada API server.
    type: str
  validate_certs:
    description:
      - Verify the API server's TLS certificate. On by default; set C(false) only for throwaway labs.
    type: bool
    default: true
    aliases: [verify_ssl]
  ca_cert:
    description:
      - CA bundle used to verify the API server.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Client certificate for the API server.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Client key for the API server.
    type: path
    aliases: [key_file]
  proxy:
    description:
      - HTTP proxy URL for the connection.
    type: str
  no_proxy:
    description:
      - Comma-separated hosts that bypass O(proxy).
    type: str
  proxy_headers:
    description:
      - Headers sent to O(proxy).
    type: dict
    suboptions:
      proxy_basic_auth:
        description: Basic-auth credentials for the proxy, as C(user:password).
        type: str
      basic_auth:
        description: Basic-auth credentials, as C(user:password).
        type: str
      user_agent:
        description: User agent string.
        type: str
  persist_config:
    description:
      - Write refreshed kubeconfig tokens back to the kubeconfig file.
    type: bool
  impersonate_user:
    description:
      - User to impersonate on every request.
    type: str
  impersonate_groups:
    description:
      - Groups to impersonate on every request.
    type: list
    elements: str
  clusters:
    description:
      - Member clusters to act on, by their Karmada C(Cluster) name.
      - Every name must be known to Karmada; the error lists the known ones.
      - When omitted, each module picks a sensible default (see its own documentation).
    type: list
    elements: str
  member_access:
    description:
      - How member clusters are reached.
      - V(karmada_proxy) goes through the Karmada API server's cluster proxy
        (C(/apis/cluster.karmada.io/v1alpha1/clusters/NAME/proxy)); needs C(clusters/proxy) RBAC in Karmada
        and the caller's own RBAC in each member.
      - V(kubeconfig) uses one context per member from O(member_kubeconfig).
    type: str
    default: karmada_proxy
    choices: [karmada_proxy, kubeconfig]
  member_kubeconfig:
    description:
      - Kubeconfig (path or dictionary) holding a context per member, used when O(member_access=kubeconfig).
      - Defaults to the usual kubeconfig search.
    type: raw
  member_contexts:
    description:
      - Map of member cluster name to kubeconfig context, when contexts are not named after the clusters.
    type: dict
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
notes:
  - Members are handled concurrently in one module run, so a stage across N clusters costs about one call.
"""
