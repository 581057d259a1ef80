"""Binder: repo2docker reads binder/ and would build an image with Graphviz and mmviz.

`jupyter-repo2docker --no-build --debug .` prints the Dockerfile it would build, without a
Docker daemon or any network access; a real image build cannot run here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
R2D = shutil.which("jupyter-repo2docker", path=os.path.dirname(sys.executable)) or \
    shutil.which("jupyter-repo2docker")


@pytest.fixture(scope="module")
def dockerfile():
    if R2D is None:
        pytest.skip("jupyter-repo2docker is not installed (pip install -e '.[test]')")
    proc = subprocess.run([R2D, "--no-build", "--debug", "."], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout + proc.stderr


def test_binder_folder_has_the_repo2docker_files():
    b = ROOT / "binder"
    assert (b / "requirements.txt").is_file() and (b / "apt.txt").is_file()
    reqs = [ln.strip() for ln in (b / "requirements.txt").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]
    assert reqs == ["-e ."]                       # mmviz itself, with its dependencies
    assert "graphviz" in (b / "apt.txt").read_text().split()
    assert not (b / "postBuild").exists(), "ipywidgets 8 needs no postBuild"


def test_dockerfile_installs_graphviz(dockerfile):
    assert re.search(r"apt-get install [^\n]*\bgraphviz\b", dockerfile), dockerfile[-3000:]


def test_dockerfile_installs_mmviz_from_the_repository(dockerfile):
    # A local requirement makes repo2docker copy the repository first, then pip-install it.
    copy = dockerfile.index("COPY --chown=")
    pip = re.search(r'pip install --no-cache-dir -r "binder/requirements.txt"', dockerfile)
    assert pip and pip.start() > dockerfile.index("${REPO_DIR}/\n", copy)


def test_python_version_is_the_one_tested(dockerfile):
    assert "python=3.11" in dockerfile


def test_readme_badge_opens_the_first_lesson():
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"\(https://mybinder\.org/v2/gh/([\w.-]+)/([\w.-]+)/HEAD\?urlpath=([^)\s]+)\)",
                  readme)
    assert m, "no Binder badge link in the README"
    assert m.group(3) == "lab/tree/notebooks/00-welcome-and-tour.ipynb"
    assert (ROOT / "notebooks" / "00-welcome-and-tour.ipynb").is_file()
    assert "mybinder.org/badge_logo.svg" in readme
