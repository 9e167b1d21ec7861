# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The answers of a stage playbook as the command line and AWX surveys give them: blank ones not given,
bad ones named with what they accept."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError
from ansible_collections.multicluster.canary.plugins.module_utils.release_inputs import ANSWERS, check_answers

APPS = ["ruoyi-gateway", "ruoyi-vue"]


def answers(**given):
    out = dict((name, None) for name in ANSWERS)
    out.update(given)
    return out


def refused(given, all_allowed=False):
    with pytest.raises(InputError) as e:
        check_answers(answers(**given), APPS, all_allowed)
    return e.value


@pytest.mark.parametrize("blank", ["", "  ", None])
def test_blank_or_null_answers_are_not_given(blank):
    checked = check_answers(answers(app="ruoyi-vue", image=blank, wave=blank, full=blank, auto_promote=blank,
                                    force=blank, bootstrap=blank, clusters=blank, from_step=blank), APPS)
    assert checked == {"app": "ruoyi-vue", "image": None, "wave": None, "full": None, "auto_promote": None,
                       "force": None, "bootstrap": None, "clusters": [], "from_step": None}


def test_answers_are_typed_as_the_playbooks_use_them():
    checked = check_answers(answers(app="ruoyi-vue", image="ruoyi/ruoyi-vue:1.1.0", wave=" 2 ", full="Yes",
                                    auto_promote="off", force=True, bootstrap="1",
                                    clusters=" k8s-master-beijing, ,k8s-master-shanghai ", from_step="0"), APPS)
    assert checked == {"app": "ruoyi-vue", "image": "ruoyi/ruoyi-vue:1.1.0", "wave": 2, "full": True,
                       "auto_promote": False, "force": True, "bootstrap": True,
                       "clusters": ["k8s-master-beijing", "k8s-master-shanghai"], "from_step": 0}
    assert check_answers(answers(app="ruoyi-vue", wave=3, clusters=["a", " b "]), APPS)["clusters"] == ["a", "b"]


@pytest.mark.parametrize("given, all_allowed, text", [
    ({}, False, "app: no app given (multicluster_canary_apps in the inventory's group_vars). "
                "Known apps: ruoyi-gateway, ruoyi-vue."),
    ({"app": "ruoyi-nope"}, False, "app: App 'ruoyi-nope' is not in the catalogue (multicluster_canary_apps in the "
                                   "inventory's group_vars). Known apps: ruoyi-gateway, ruoyi-vue."),
    ({"app": "all"}, False, "app: App 'all' is not in the catalogue"),
    ({"app": "ruoyi-nope"}, True, "Known apps: ruoyi-gateway, ruoyi-vue, or all."),
    ({"app": 5}, False, "app: App '5' is not in the catalogue"),
])
def test_the_app_must_be_in_the_catalogue(given, all_allowed, text):
    e = refused(given, all_allowed)
    assert text in str(e) and e.field == "app"


def test_all_where_allowed():
    assert check_answers(answers(app="all"), APPS, True)["app"] == "all"


@pytest.mark.parametrize("given, field, text", [
    ({"image": 5}, "image", "image: 5 is not an image reference (for example ruoyi/ruoyi-vue:1.1.0); "
                            "leave it blank for the catalogue's image."),
    ({"wave": 0}, "wave", "wave: 0 is not a wave number (1, 2, ...: the clusters whose multicluster_canary_wave is "
                          "up to it are released); leave it blank for 1."),
    ({"wave": "two"}, "wave", 'wave: "two" is not a wave number'),
    ({"wave": True}, "wave", "wave: true is not a wave number"),
    ({"wave": 1.5}, "wave", "wave: 1.5 is not a wave number"),
    ({"full": "maybe"}, "full", 'full: "maybe" is not true or false.'),
    ({"auto_promote": 1}, "auto_promote", "auto_promote: 1 is not true or false."),
    ({"clusters": {"a": 1}}, "clusters", 'clusters: {"a": 1} is not a list of cluster names (a list, or names '
                                         'separated by commas); leave it blank for every cluster.'),
    ({"clusters": ["a", 2]}, "clusters", 'clusters: ["a", 2] is not a list of cluster names'),
    ({"from_step": "-1"}, "from_step", 'from_step: "-1" is not a step index (0, 1, ...: the step the members were '
                                       'paused at when the promotion was decided)'),
    ({"from_step": True}, "from_step", "from_step: true is not a step index"),
])
def test_a_bad_answer_is_named_with_what_it_accepts(given, field, text):
    e = refused(dict(given, app="ruoyi-vue"))
    assert e.field == field and text in str(e), str(e)


def test_every_bad_answer_is_named_the_first_as_the_field():
    e = refused({"app": "ruoyi-nope", "wave": "0", "force": "perhaps"})
    assert e.field == "app"
    assert "app: App 'ruoyi-nope'" in str(e) and 'wave: "0"' in str(e) and 'force: "perhaps"' in str(e)
