# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many replicas a workload needs for a while so a member's share moves without a dip (no I/O).

Karmada divides a workload's replicas by static weights (``pkg/util/helper/binding.go``, Dispenser.TakeByWeight,
v1.14): each cluster gets ``floor(total * weight / sum)``, and the remainder goes one by one to clusters
in an order that is random among equal weights and equal previous replicas. A cluster of weight 0 gets
none, and its copy of the workload is deleted at once.

Setting the leaving member's weight to 0 therefore removes its replicas at once while the others only
start theirs: for a moment fewer replicas are ready than the app should have. So offboarding first
raises the total to a *surge* where every member keeps at least what it has and every remaining member
already holds at least its final share, waits until they are ready, and only then sets the weight to 0
with the final total: the remaining members then only shrink (or stay), and nothing is ever missing.
Both bounds use ``floor`` (what a cluster gets for sure) against ``ceil`` (the most it may need).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

SEARCH_LIMIT = 100000


def weights_of(policy):
    """{cluster: weight} from a PropagationPolicy's static weight list (clusters named one by one)."""
    spec = ((policy or {}).get("spec") or {}).get("placement") or {}
    listed = ((spec.get("replicaScheduling") or {}).get("weightPreference") or {}).get("staticWeightList") or []
    out = {}
    for entry in listed:
        for name in (entry.get("targetCluster") or {}).get("clusterNames") or []:
            out[name] = max(out.get(name, 0), int(entry.get("weight") or 0))
    return out


def assigned_of(binding):
    """{cluster: replicas} as Karmada scheduled a ResourceBinding."""
    return dict((c["name"], int(c.get("replicas") or 0)) for c in ((binding or {}).get("spec") or {}).get("clusters")
                or [])


def _floor_share(total, weight, weight_sum):
    return total * weight // weight_sum


def _ceil_share(total, weight, weight_sum):
    return -(-total * weight // weight_sum)


def surge_total(assigned, weights, leaving, final_total):
    """The total to raise the workload to before ``leaving`` gets weight 0, or 0 when no surge is needed.

    ``assigned``: {cluster: replicas} now; ``weights``: {cluster: weight} now; ``final_total``: the
    workload's replicas once ``leaving`` is out (the catalogue's count for the remaining members).
    """
    weights = dict((c, int(w)) for c, w in (weights or {}).items() if int(w) > 0)
    if leaving not in weights:
        return 0  # already of weight 0: the placement does not change
    # Even when the leaving member holds nothing, the new division may hand a remainder from one
    # member to another (at random among equal weights): so the others must hold their largest share.
    remaining = dict((c, w) for c, w in weights.items() if c != leaving)
    if not remaining:
        raise ValueError("{0} is the only member with a weight above 0: its replicas have nowhere to go".format(leaving))
    rest_sum = sum(remaining.values())
    need = dict((c, _ceil_share(final_total, w, rest_sum)) for c, w in remaining.items())
    if all(assigned.get(c, 0) >= n for c, n in need.items()):
        return 0  # the others already hold their final share
    weight_sum = sum(weights.values())
    total = max(sum(assigned.values()), final_total)
    while total < SEARCH_LIMIT:
        keeps = all(_floor_share(total, weights[c], weight_sum) >= n for c, n in assigned.items() if c in weights)
        covers = all(_floor_share(total, remaining[c], weight_sum) >= n for c, n in need.items())
        if keeps and covers:
            return total
        total += 1
    raise ValueError("no surge below {0} replicas covers the move".format(SEARCH_LIMIT))
