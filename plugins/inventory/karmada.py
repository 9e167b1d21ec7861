# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: karmada
short_description: Karmada's member clusters as inventory hosts, grouped by their labels
version_added: 0.2.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Reads the C(Cluster) objects of a Karmada control plane (C(cluster.karmada.io/v1alpha1)) and makes one host per
    member cluster, named after its C(Cluster), in the O(members_group) group, plus one host for the Karmada API server
    (O(karmada_host)) in the O(karmada_group) group - the host the collection's plays run on. The inventory then follows
    the federation - a cluster joined to Karmada (by C(karmadactl join) or M(multicluster.canary.karmada_cluster)) is a
    member, an unjoined one is gone.
  - Groups members by labels - for each key in O(label_groups), a group C(KEY_VALUE) (the part of the key after its last
    C(/)), for example C(wave_1) or C(region_east) - and by the C(Cluster)'s C(spec.region) as C(region_VALUE) when it
    has no C(region) label. C(compose), C(groups) and C(keyed_groups) make more, from the host variables below.
  - Sets, per member, C(karmada_cluster) (C(ready), C(api_endpoint), C(sync_mode), C(labels), C(region), C(zones),
    C(provider), C(kubernetes_version)) and the variables O(label_vars) maps labels to (numbers as integers), so a
    C(Cluster) labelled C(wave=2) gets C(multicluster_canary_wave=2).
  - The connection options are the modules' (kubernetes.core's, with the C(K8S_AUTH_*) environment variables); they are
    used only to read the clusters. The plays take their connection from the inventory's group variables, so put
    C(group_vars/) beside this file - a relative O(kubeconfig) is relative to this file too.
  - The configuration file's name must end with C(karmada.yml) or C(karmada.yaml).
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin, so Ansible knows the file is its configuration.
    type: str
    required: true
    choices: [multicluster.canary.karmada]
  kubeconfig:
    description:
      - Path of a kubeconfig for the Karmada API server (relative to this file), or its content as a dictionary.
    type: raw
    env:
      - name: K8S_AUTH_KUBECONFIG
  context:
    description: The kubeconfig context of the Karmada API server.
    type: str
    env:
      - name: K8S_AUTH_CONTEXT
  host:
    description: URL of the Karmada API server.
    type: str
    env:
      - name: K8S_AUTH_HOST
  api_key:
    description: Bearer token for the Karmada API server.
    type: str
    env:
      - name: K8S_AUTH_API_KEY
  validate_certs:
    description: Verify the API server's certificate.
    type: bool
    default: true
    aliases: [verify_ssl]
    env:
      - name: K8S_AUTH_VERIFY_SSL
  ca_cert:
    description: CA bundle that verifies the API server.
    type: path
    aliases: [ssl_ca_cert]
    env:
      - name: K8S_AUTH_SSL_CA_CERT
  client_cert:
    description: Client certificate.
    type: path
    aliases: [cert_file]
    env:
      - name: K8S_AUTH_CERT_FILE
  client_key:
    description: Client key.
    type: path
    aliases: [key_file]
    env:
      - name: K8S_AUTH_KEY_FILE
  karmada_host:
    description: The inventory name of the Karmada API server's host.
    type: str
    default: karmada-apiserver
  karmada_group:
    description: The group of the Karmada host.
    type: str
    default: karmada
  members_group:
    description: The group of the member clusters (the collection's C(multicluster_canary_members_group)).
    type: str
    default: members
  label_groups:
    description: Label keys whose values make groups C(KEY_VALUE).
    type: list
    elements: str
    default: [region, wave]
  label_vars:
    description: Label keys and the host variable each one sets (a value of digits becomes an integer).
    type: dict
    default:
      wave: multicluster_canary_wave
      weight: multicluster_canary_weight
  ready_only:
    description: Leave out the clusters Karmada does not report Ready (by default they are hosts, with C(karmada_cluster.ready=false)).
    type: bool
    default: false
"""

EXAMPLES = r"""
# inventories/mine/karmada.yml, beside inventories/mine/group_vars/all.yml (the connection and the app catalogue):
plugin: multicluster.canary.karmada
kubeconfig: ~/.kube/karmada-automation
context: karmada-apiserver

# Then: ansible-playbook -i inventories/mine/karmada.yml playbooks/status.yml -e app=ruoyi-vue
#       ansible-inventory -i inventories/mine/karmada.yml --graph

# Groups by an own label too, and only Ready clusters:
# plugin: multicluster.canary.karmada
# label_groups: [region, wave, tier]
# ready_only: true
# keyed_groups:
#   - key: karmada_cluster.provider
#     prefix: provider
"""

import os

from ansible.errors import AnsibleError
from ansible.inventory.group import to_safe_group_name
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError, control_endpoint, kind
from ansible_collections.multicluster.canary.plugins.module_utils.karmada_join import is_ready

AUTH_OPTIONS = ("kubeconfig", "context", "host", "api_key", "validate_certs", "ca_cert", "client_cert", "client_key")


def member_facts(cluster):
    """What the inventory says about one Cluster (no credentials: Karmada keeps those in Secrets)."""
    spec = cluster.get("spec") or {}
    status = cluster.get("status") or {}
    return {
        "name": cluster["metadata"]["name"],
        "ready": is_ready(cluster),
        "api_endpoint": spec.get("apiEndpoint"),
        "sync_mode": spec.get("syncMode"),
        "labels": dict(cluster["metadata"].get("labels") or {}),
        "region": spec.get("region"),
        "zones": list(spec.get("zones") or []),
        "provider": spec.get("provider"),
        "kubernetes_version": status.get("kubernetesVersion"),
    }


def label_value(value):
    return int(value) if isinstance(value, str) and value.isdigit() else value


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "multicluster.canary.karmada"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(("karmada.yml", "karmada.yaml"))

    def _auth(self, path):
        auth = {}
        for key in AUTH_OPTIONS:
            value = self.get_option(key)
            if value is not None and value != "":
                auth[key] = value
        kubeconfig = auth.get("kubeconfig")
        if isinstance(kubeconfig, str):
            kubeconfig = os.path.expanduser(kubeconfig)
            if not os.path.isabs(kubeconfig):
                kubeconfig = os.path.join(os.path.dirname(os.path.abspath(path)), kubeconfig)
            auth["kubeconfig"] = kubeconfig
        return auth

    def _read_clusters(self, path):
        try:
            return [member_facts(c) for c in control_endpoint(self._auth(path)).list(kind("Cluster"))]
        except FleetError as e:
            raise AnsibleError("multicluster.canary.karmada: cannot read Karmada's clusters: {0}".format(e))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        clusters = None
        if use_cache:
            try:
                clusters = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if clusters is None:
            clusters = self._read_clusters(path)
        if update_cache:
            self._cache[cache_key] = clusters
        self.populate(clusters)

    def populate(self, clusters):
        karmada_group = self.inventory.add_group(self.get_option("karmada_group"))
        self.inventory.add_host(self.get_option("karmada_host"), group=karmada_group)
        members = self.inventory.add_group(self.get_option("members_group"))
        label_groups = self.get_option("label_groups") or []
        label_vars = self.get_option("label_vars") or {}
        strict = self.get_option("strict")
        for facts in sorted(clusters, key=lambda c: c["name"]):
            if self.get_option("ready_only") and not facts["ready"]:
                continue
            host = facts["name"]
            self.inventory.add_host(host, group=members)
            self.inventory.set_variable(host, "karmada_cluster", facts)
            labels = facts["labels"]
            for key, var in label_vars.items():
                if key in labels:
                    self.inventory.set_variable(host, var, label_value(labels[key]))
            for key in label_groups:
                value = labels.get(key)
                if value is None and key.rpartition("/")[2] == "region":
                    value = facts["region"]
                if value is None or value == "":
                    continue
                group = self.inventory.add_group(to_safe_group_name("{0}_{1}".format(key.rpartition("/")[2], value)))
                self.inventory.add_child(group, host)
            hostvars = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
        if not clusters:
            self.display.warning("multicluster.canary.karmada: Karmada has no member cluster")
