"""`mmviz slides` installs its npm packages outside the repository (npm itself is faked)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mmviz.cli import slides

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_npm(monkeypatch):
    """Record where `npm ci` runs and make the node_modules it would make."""
    runs = []

    def run(cmd, cwd=None, **kw):
        runs.append(Path(cwd))
        (Path(cwd) / "node_modules").mkdir()
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(slides.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(slides.subprocess, "run", run)
    monkeypatch.delenv("MMVIZ_SLIDES_CACHE", raising=False)
    return runs


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def test_the_npm_cache_is_in_the_user_cache_not_the_repository(tmp_path, monkeypatch, fake_npm):
    build_dir_before = (ROOT / "build").exists()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    modules = slides.npm_modules(ROOT, log=lambda *a: None, out=tmp_path / "decks")
    assert len(fake_npm) == 1 and _inside(fake_npm[0], tmp_path / "cache")
    assert not _inside(fake_npm[0], ROOT) and _inside(modules, tmp_path / "cache")
    assert (ROOT / "build").exists() == build_dir_before
    # the second build reuses it
    assert slides.npm_modules(ROOT, log=lambda *a: None, out=tmp_path / "decks") == modules
    assert len(fake_npm) == 1


def test_without_a_usable_user_cache_it_goes_beside_the_decks(tmp_path, monkeypatch, fake_npm):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    out = tmp_path / "decks"
    modules = slides.npm_modules(ROOT, log=lambda *a: None, out=out)
    assert _inside(fake_npm[0], out) and _inside(modules, out)


def test_mmviz_slides_cache_still_chooses_the_folder(tmp_path, monkeypatch, fake_npm):
    monkeypatch.setenv("MMVIZ_SLIDES_CACHE", str(tmp_path / "mine"))
    slides.npm_modules(ROOT, log=lambda *a: None, out=tmp_path / "decks")
    assert fake_npm == [tmp_path / "mine"]
