"""The package as it is shipped: the licence its metadata names, the typing marker, and a wheel that carries
the templates and every data file under digest/ (samples, migration templates); CI runs the README's test command."""

from __future__ import annotations

import re
import tomllib
import zipfile
from pathlib import Path

import pytest
from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).resolve().parents[1]


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_license_file_matches_the_metadata() -> None:
    project = pyproject()["project"]
    assert isinstance(project, dict) and project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text
    assert (ROOT / "digest" / "py.typed").exists() and (ROOT / "subscribers" / "py.typed").exists()


def test_the_sdist_holds_what_the_tests_read() -> None:
    tool = pyproject()["tool"]
    assert isinstance(tool, dict)
    include = set(tool["hatch"]["build"]["targets"]["sdist"]["include"])
    read_by_tests = {"digest", "subscribers", "templates", "tests", "deploy", "docs", "mkdocs.yml", ".env.example"}
    read_by_tests |= {"README.md", "LICENSE"}
    assert read_by_tests <= include


def test_the_wheel_ships_templates_and_data_files(tmp_path: Path) -> None:
    built = list(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))
    names = set(zipfile.ZipFile(built[0]).namelist())
    data = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "digest").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc")
    }
    assert data and data <= names, sorted(data - names)
    templates = {"digest/" + p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file()}
    assert templates and templates <= names, sorted(templates - names)
    assert "digest/py.typed" in names and any(n.endswith("licenses/LICENSE") for n in names)


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    ci = ROOT / ".ci" / "run"
    if not ci.exists():
        pytest.skip("no .ci/run here (an unpacked sdist carries no CI script)")
    last = ci.read_text(encoding="utf-8").rstrip("\n").splitlines()[-1]
    assert "pytest" in commands[1] and last == commands[1], "the last line of .ci/run is the README's test command"
