"""scripts/proto-breaking.sh, the `buf breaking` step of `make proto-check`: it fails on a change
that breaks existing protos, wherever the change sits (uncommitted on a branch, or the commit on
main that CI tests), passes compatible additions, and skips with a reason when git has no history
to compare against. Each case runs the script in a scratch repository holding this repository's
buf.yaml and protos."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path("scripts") / "proto-breaking.sh"
AUTH_PROTO = Path("protos") / "switchyard" / "auth" / "v1" / "auth.proto"
FIELD = re.compile(r"^(\s+string (\w+) = )(\d+);$", re.MULTILINE)


def _env() -> dict[str, str]:
    buf = REPO / ".cache" / "bin" / "buf"
    if not buf.exists() and shutil.which("buf") is None:
        pytest.fail("buf not found: run scripts/tools.sh buf (make proto-check does)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "PROTO_BREAKING_AGAINST"}
    env["PATH"] = f"{buf.parent}{os.pathsep}{env.get('PATH', '')}"
    # The scratch repositories are independent of the user's git configuration.
    env |= {
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "proto-check",
        "GIT_AUTHOR_EMAIL": "proto-check@example.invalid",
        "GIT_COMMITTER_NAME": "proto-check",
        "GIT_COMMITTER_EMAIL": "proto-check@example.invalid",
    }
    return env


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=_env(), capture_output=True, text=True, check=True, timeout=60
    ).stdout


def _check(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)], cwd=cwd, env=_env() | env, capture_output=True, text=True, check=False, timeout=120
    )


def _copy_sources(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "buf.yaml", dest / "buf.yaml")
    shutil.copytree(REPO / "protos", dest / "protos")
    (dest / "scripts").mkdir()
    shutil.copy(REPO / SCRIPT, dest / SCRIPT)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose main holds this repository's protos, then one more commit (so main's
    last commit has a parent with the protos, as on the real main)."""
    root = tmp_path / "repo"
    _copy_sources(root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "protos")
    (root / "README.md").write_text("scratch\n")
    _git(root, "add", "README.md")
    _git(root, "commit", "-q", "-m", "readme")
    return root


def _renumber_a_field(root: Path) -> str:
    """Give the first string field of auth.proto another number; returns the field's name."""
    path = root / AUTH_PROTO
    text = path.read_text()
    match = FIELD.search(text)
    assert match is not None, "auth.proto has no string field to renumber"
    path.write_text(text[: match.start()] + f"{match.group(1)}{int(match.group(3)) + 100};" + text[match.end() :])
    return match.group(2)


def _add_a_field(root: Path) -> None:
    path = root / AUTH_PROTO
    path.write_text(
        path.read_text() + "\n// Added by the compatibility check.\nmessage ProbeAdded {\n  string note = 1;\n}\n"
    )
    text = path.read_text()
    match = FIELD.search(text)
    assert match is not None
    # A new field under a number no other field of the message uses is compatible.
    path.write_text(text[: match.end()] + "\n  string added_by_check = 900;" + text[match.end() :])


def test_the_current_tree_breaks_nothing() -> None:
    result = _check(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_renumbered_field_on_a_branch_fails(repo: Path) -> None:
    _git(repo, "switch", "-q", "-c", "feature")
    name = _renumber_a_field(repo)
    # Uncommitted, on a branch with no commit of its own: compared with HEAD.
    result = _check(repo)
    assert result.returncode != 0
    assert "HEAD: feature has no commit of its own yet" in result.stdout
    assert f'with name "{name}"' in result.stdout
    assert "new numbers" in result.stderr
    # Committed, with a later commit on top: compared with the merge base.
    _git(repo, "commit", "-qam", "renumber a field")
    _add_a_field(repo)
    _git(repo, "commit", "-qam", "add a field")
    result = _check(repo)
    assert result.returncode != 0
    assert "merge base with main" in result.stdout
    assert f'with name "{name}"' in result.stdout


def test_a_compatible_addition_on_a_branch_passes(repo: Path) -> None:
    _git(repo, "switch", "-q", "-c", "feature")
    _add_a_field(repo)
    _git(repo, "commit", "-qam", "add a field")
    result = _check(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "merge base with main" in result.stdout


def test_on_a_clone_of_main_the_last_commit_is_the_change_under_test(repo: Path, tmp_path: Path) -> None:
    """As in CI: a clone of main whose HEAD is the change, with origin/main at HEAD."""
    name = _renumber_a_field(repo)
    _git(repo, "commit", "-qam", "renumber a field")
    clone = tmp_path / "ci"
    _git(tmp_path, "clone", "-q", str(repo), str(clone))
    result = _check(clone)
    assert result.returncode != 0
    assert "HEAD^1, main before HEAD" in result.stdout
    assert f'with name "{name}"' in result.stdout
    _git(clone, "switch", "-q", "--detach")
    result = _check(clone)
    assert result.returncode != 0
    assert "HEAD^1, main before HEAD" in result.stdout


def test_on_a_clone_of_main_a_compatible_commit_passes(repo: Path, tmp_path: Path) -> None:
    _add_a_field(repo)
    _git(repo, "commit", "-qam", "add a field")
    clone = tmp_path / "ci"
    _git(tmp_path, "clone", "-q", str(repo), str(clone))
    result = _check(clone)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "HEAD^1, main before HEAD" in result.stdout


def test_an_explicit_base_is_used(repo: Path) -> None:
    base = _git(repo, "rev-parse", "HEAD").strip()
    _renumber_a_field(repo)
    _git(repo, "commit", "-qam", "renumber a field")
    _add_a_field(repo)
    _git(repo, "commit", "-qam", "add a field")
    # HEAD^1 already holds the renumbering; the named base does not.
    assert _check(repo).returncode == 0
    result = _check(repo, PROTO_BREAKING_AGAINST=base)
    assert result.returncode != 0
    assert f"({base})" in result.stdout
    assert _check(repo, PROTO_BREAKING_AGAINST="no-such-ref").returncode != 0


def test_without_history_the_check_is_skipped_with_the_reason(repo: Path, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "1", repo.as_uri(), str(shallow))
    result = _check(shallow)
    assert result.returncode == 0
    assert "buf breaking skipped: HEAD is on main and its parent is not in this clone" in result.stderr

    no_git = tmp_path / "export"
    _copy_sources(no_git)
    result = _check(no_git)
    assert result.returncode == 0
    assert "buf breaking skipped: not a git checkout" in result.stderr

    _git(repo, "branch", "-q", "-m", "main", "trunk")
    result = _check(repo)
    assert result.returncode == 0
    assert "buf breaking skipped: no main branch" in result.stderr
