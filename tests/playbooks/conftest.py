# The playbook tests use the same lab fixtures as the integration tests.
from tests.integration.conftest import lab, namespace, run_module  # noqa: F401  pylint: disable=unused-import
