"""Check what `python -m build` put in the sdist and the wheel of fastw2v.

Usage: python .ci/check_dist.py DIST_DIR (run from the repository root, a git checkout).

The sdist must carry every tracked source file the build and the tests need (the .pyx, .pxd
and .h of the compiled modules, the package's Python files, stubs and data, tests/ with the toy
objective) and none of the .c files Cython generates; the wheel must carry the compiled
modules, the type information (py.typed, the .pyi stubs) and the .pxd and .h files that a
compiled extension of fastw2v cimports, and no Cython or C source. Exits 1 naming every
problem.
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath


def tracked(*patterns: str) -> set[str]:
    listed = subprocess.run(["git", "ls-files", *patterns], check=True, capture_output=True,
                            text=True).stdout.split()
    return set(listed)


def main(dist: Path) -> int:
    problems: list[str] = []
    sdists, wheels = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        print(f"{dist}: expected one sdist and one wheel, found {sdists + wheels}")
        return 1

    with tarfile.open(sdists[0]) as archive:
        # Names inside are fastw2v-VERSION/...; compare the paths below that folder.
        sdist = {str(PurePosixPath(*PurePosixPath(name).parts[1:]))
                 for name in archive.getnames() if len(PurePosixPath(name).parts) > 1}
    needed = tracked("fastw2v", "tests", "setup.py", "pyproject.toml", "MANIFEST.in",
                     "README.md")
    for missing in sorted(needed - sdist):
        problems.append(f"sdist lacks {missing}")
    for name in sorted(sdist):
        if fnmatch.fnmatch(name, "*.c") or fnmatch.fnmatch(name, "*.so") \
                or fnmatch.fnmatch(name, "*.pyd"):
            problems.append(f"sdist holds the generated or compiled file {name}")

    with zipfile.ZipFile(wheels[0]) as archive:
        wheel = set(archive.namelist())
    modules = sorted(Path(name).stem for name in tracked("fastw2v/*.pyx"))
    for module in modules:
        if not any(fnmatch.fnmatch(name, f"fastw2v/{module}.*.so")
                   or fnmatch.fnmatch(name, f"fastw2v/{module}.*.pyd") for name in wheel):
            problems.append(f"wheel lacks the compiled module fastw2v/{module}")
        if f"fastw2v/{module}.pyi" not in wheel:
            problems.append(f"wheel lacks the stub fastw2v/{module}.pyi")
    for name in sorted(tracked("fastw2v/*.pxd", "fastw2v/*.h", "fastw2v/data",
                               "fastw2v/py.typed")):
        if name not in wheel:
            problems.append(f"wheel lacks {name}")
    for name in sorted(wheel):
        if fnmatch.fnmatch(name, "*.pyx") or fnmatch.fnmatch(name, "*.c"):
            problems.append(f"wheel holds the source file {name}")

    for problem in problems:
        print(problem)
    if not problems:
        print(f"{sdists[0].name}: {len(sdist)} files; {wheels[0].name}: {len(wheel)} files; "
              "contents as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
