# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight findings as text: one short table per cluster, for a playbook's output (pure)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.preflight_model import KARMADA, MANIFESTS

HEADER = ("SEVERITY", "OBJECT", "FIELD", "MESSAGE")


def _cluster_order(name):
    return (0 if name == MANIFESTS else 1 if name == KARMADA else 2, name)


def headline(findings, clusters):
    errors = sum(1 for f in findings if f["severity"] == "error")
    warnings = len(findings) - errors
    where = "Karmada" + (" and {0} member(s): {1}".format(len(clusters), ", ".join(clusters)) if clusters else "")
    if not findings:
        return "preflight: no finding in {0}".format(where)
    return "preflight: {0} error(s), {1} warning(s) in {2}".format(errors, warnings, where)


def render(findings, clusters=()):
    """Lines: a headline, then per cluster (the manifests, Karmada, each member) its findings as a table,
    each row followed by what to do about it."""
    clusters = sorted(clusters or [])
    lines = [headline(findings, clusters)]
    by_cluster = {}
    for f in findings:
        by_cluster.setdefault(f["cluster"] or KARMADA, []).append(f)
    for cluster in sorted(by_cluster, key=_cluster_order):
        rows = by_cluster[cluster]
        widths = [max(len(HEADER[0]), max(len(f["severity"]) for f in rows)),
                  max(len(HEADER[1]), max(len(f["object"] or "-") for f in rows)),
                  max(len(HEADER[2]), max(len(f["field"] or "-") for f in rows))]
        row = "  {0:<%d}  {1:<%d}  {2:<%d}  {3}" % tuple(widths)
        title = {MANIFESTS: "in the manifests", KARMADA: "in Karmada"}.get(cluster, "in " + cluster)
        lines.append("")
        lines.append("{0} ({1})".format(title, len(rows)))
        lines.append(row.format(*HEADER))
        for f in rows:
            lines.append(row.format(f["severity"], f["object"] or "-", f["field"] or "-", f["message"]))
            fix = "fix: " + f["fix"]
            if f.get("source"):
                fix += " [{0}]".format(f["source"])
            lines.append("  " + " " * widths[0] + "  " + fix)
    return lines
