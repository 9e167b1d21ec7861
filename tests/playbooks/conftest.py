# The playbook tests use the same lab fixtures as the integration tests.
import json

from tests.integration.conftest import lab, namespace, run_module  # noqa: F401  pylint: disable=unused-import


def written_state(lab, ns, kinds, member_kinds):  # noqa: F811  pylint: disable=redefined-outer-name
    """{(context, kind, name): what a write of ours would change} of the app's objects: ``kinds`` in Karmada,
    ``member_kinds`` in every member (kubectl's comma-separated kinds).

    The resourceVersion, except for Rollouts: Karmada aggregates the members' status into its Rollout template
    (and Argo Rollouts writes each member's status) whenever it gets to it, which moves their resourceVersion
    with nothing written by us; for them, what only a write changes - generation (spec), labels, annotations.
    """
    found = {}
    for context, wanted in [(lab.karmada, kinds)] + [(m, member_kinds) for m in lab.members]:
        for item in json.loads(lab.kubectl("get", wanted, "-n", ns, "-o", "json", context=context))["items"]:
            meta = item["metadata"]
            found[(context, item["kind"], meta["name"])] = (
                (meta.get("generation"), meta.get("labels"), meta.get("annotations")) if item["kind"] == "Rollout"
                else meta["resourceVersion"])
    return found
