# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The surge that lets a member's replicas move without a dip, checked against Karmada's division rule."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools
import random

import pytest

from ansible_collections.multicluster.canary.plugins.module_utils.karmada_drain import (
    assigned_of,
    surge_total,
    weights_of,
)

FIVE = ["beijing", "shanghai", "guangzhou", "shenzhen", "hangzhou"]


def karmada_divides(total, weights, seed):
    """Karmada v1.14's static weight division (Dispenser.TakeByWeight): floors, then the remainder one by one
    in an order that is random among equal weights."""
    rng = random.Random(seed)
    weights = dict((c, w) for c, w in weights.items() if w > 0)
    wsum = sum(weights.values())
    result = dict((c, total * w // wsum) for c, w in weights.items())
    order = sorted(weights, key=lambda c: (-weights[c], rng.random()))
    for c in itertools.islice(itertools.cycle(order), total - sum(result.values())):
        result[c] += 1
    return result


def test_replicas_per_weight_needs_no_surge():
    # 5 replicas 1:1:1:1:1 -> 4 replicas over 4: the others already hold theirs
    assert surge_total(dict((c, 1) for c in FIVE), dict((c, 1) for c in FIVE), "hangzhou", 4) == 0


def test_a_fixed_count_surges_until_the_others_hold_their_final_share():
    weights = dict((c, 1) for c in FIVE)
    assigned = {"beijing": 1, "shanghai": 2, "guangzhou": 1, "shenzhen": 2, "hangzhou": 1}
    # 7 over 4 remaining: up to 2 each; 2 each for sure takes floor(S/5) >= 2
    assert surge_total(assigned, weights, "hangzhou", 7) == 10


def test_nothing_to_move():
    weights = dict((c, 1) for c in FIVE)
    assert surge_total(dict((c, 1) for c in FIVE), dict(weights, hangzhou=0), "hangzhou", 4) == 0  # weight 0 already
    # 4 over 4 others holding 1 each, the leaving one holding none: nothing moves
    assert surge_total({"beijing": 1, "shanghai": 1, "guangzhou": 1, "shenzhen": 1}, weights, "hangzhou", 4) == 0


def test_a_remainder_may_move_even_when_the_leaving_member_holds_nothing():
    # 9 over 1:4:3:4 weights with the leaving member (weight 1) at 0: the others hold 4, 2, 3, and the
    # division over 4:3:4 may give shenzhen 4 and shanghai 3, so they must hold 4, 3, 4 before it goes
    weights = {"beijing": 1, "shanghai": 4, "guangzhou": 3, "shenzhen": 4}
    surge = surge_total({"beijing": 0, "shanghai": 4, "guangzhou": 2, "shenzhen": 3}, weights, "beijing", 9)
    assert surge >= 9
    assert all(surge * w // 12 >= need for w, need in ((4, 4), (3, 3), (4, 4)))


def test_the_only_member_cannot_leave():
    with pytest.raises(ValueError, match="nowhere to go"):
        surge_total({"hangzhou": 3}, {"hangzhou": 1}, "hangzhou", 3)


@pytest.mark.parametrize("seed", range(200))
def test_no_dip_whatever_karmada_does_with_remainders(seed):
    rng = random.Random(seed)
    members = FIVE[:rng.randint(2, 5)]
    weights = dict((c, rng.randint(1, 4)) for c in members)
    leaving = rng.choice(members)
    total = rng.randint(1, 40)
    assigned = karmada_divides(total, weights, seed)
    rest = dict((c, w) for c, w in weights.items() if c != leaving)
    final = total if rng.random() < 0.5 else rng.randint(1, 40)
    surge = surge_total(assigned, weights, leaving, final)
    before = assigned
    if surge:
        assert surge >= total
        during = karmada_divides(surge, weights, seed + 1)
        # the surge only adds: nobody loses a replica (so nothing ready goes away)
        assert all(during.get(c, 0) >= n for c, n in before.items()), (before, during)
        before = during
    after = karmada_divides(final, rest, seed + 2)
    # Weight 0: the leaving member's replicas go at once, the others' shrink at once and grow later, so
    # what is ready meanwhile is each remaining member's smaller count. Never below what the app had and
    # should have (the lesser of the two: a catalogue that grows the app cannot be ahead of time).
    ready_meanwhile = sum(min(before.get(c, 0), n) for c, n in after.items())
    assert ready_meanwhile >= min(total, final), (weights, leaving, assigned, surge, before, after)
    # in fact the remaining members only shrink or stay
    assert all(before.get(c, 0) >= n for c, n in after.items()), (weights, leaving, assigned, surge, before, after)


def test_reading_karmada_objects():
    policy = {"spec": {"placement": {"replicaScheduling": {"weightPreference": {"staticWeightList": [
        {"targetCluster": {"clusterNames": ["beijing"]}, "weight": 2},
        {"targetCluster": {"clusterNames": ["shanghai", "guangzhou"]}, "weight": 1}]}}}}}
    assert weights_of(policy) == {"beijing": 2, "shanghai": 1, "guangzhou": 1}
    assert weights_of(None) == {} and weights_of({"spec": {"placement": {}}}) == {}
    binding = {"spec": {"clusters": [{"name": "beijing", "replicas": 2}, {"name": "shanghai"}]}}
    assert assigned_of(binding) == {"beijing": 2, "shanghai": 0}
    assert assigned_of({}) == {}
