"""Check what the built sdist and wheel hold: `python .ci/check_dist.py DIST_FOLDER` exits 1 naming what is wrong."""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def files_under(folder: str) -> set[str]:
    return {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def main(dist: Path) -> list[str]:
    problems: list[str] = []
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        return [f"expected one wheel and one sdist in {dist}, found {len(wheels)} and {len(sdists)}"]
    wheel = set(zipfile.ZipFile(wheels[0]).namelist())
    package = files_under("digest") | files_under("subscribers")
    templates = {"digest/" + name for name in files_under("templates")}
    for name in sorted((package | templates) - wheel):
        problems.append(f"wheel lacks {name}")
    for name in sorted(wheel):
        if name.startswith(("tests/", "bench/", ".ci/")):
            problems.append(f"wheel carries {name}, which is not part of the program")
    with tarfile.open(sdists[0]) as tar:
        top = tar.getnames()[0].split("/")[0]
        sdist = {name.removeprefix(top + "/") for name in tar.getnames()}
    needed = package | files_under("templates") | files_under("tests") | files_under("docs")
    needed |= {"README.md", "LICENSE", ".env.example", "mkdocs.yml"}
    for name in sorted(needed - sdist):
        problems.append(f"sdist lacks {name}")
    print(f"wheel: {len(wheel)} files; sdist: {len(sdist)} files; {len(problems)} problem(s)")
    return problems


if __name__ == "__main__":
    found = main(Path(sys.argv[1]))
    for problem in found:
        print(problem, file=sys.stderr)
    sys.exit(1 if found else 0)
