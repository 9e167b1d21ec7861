"""Offline stand-in for the pip bootstrap script that ``ansible-test --venv`` downloads.

ansible-test bootstraps pip into each fresh sanity virtualenv by running a
``get-pip.py`` it fetches from a CI host that these machines cannot reach; it
uses a cached copy at ``~/.ansible/test/cache/get_pip_<version>.py`` instead
when one exists (``make sanity`` puts this file there).

This stand-in gets pip from the interpreter's own ``ensurepip`` and then runs
``pip install`` with the arguments ansible-test passed (``pip==<version>`` and
pip options), so the venv ends with the pip version ansible-test asked for,
fetched from the package index configured on the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys

# get-pip.py options that pip itself does not know.
GET_PIP_ONLY_OPTIONS = frozenset(("--no-setuptools", "--no-wheel"))


def pip_environment(environ):
    """Return the environment for the pip call.

    ensurepip sets PIP_CONFIG_FILE to os.devnull for its own run; carrying that
    over would make pip ignore the machine's pip.conf (certificates, index).
    """
    env = dict(environ)
    if env.get("PIP_CONFIG_FILE") == os.devnull:
        del env["PIP_CONFIG_FILE"]
    return env


def main(argv):
    """Bootstrap pip with ensurepip, then install what ansible-test asked for."""
    env = pip_environment(os.environ)
    subprocess.check_call(
        [sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    pip_args = [arg for arg in argv if arg not in GET_PIP_ONLY_OPTIONS]
    if pip_args:
        subprocess.check_call([sys.executable, "-m", "pip", "install", *pip_args], env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
