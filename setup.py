"""Build the compiled modules of fastw2v (the metadata lives in pyproject.toml)."""

import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

# Portable by default: a wheel built here must run on any x86-64. FASTW2V_NATIVE=1 opts in to
# -march=native for a build that only ever runs on the machine that compiled it.
compile_args = ["-O3", "-fno-math-errno", "-fno-trapping-math"]
if os.environ.get("FASTW2V_NATIVE") == "1":
    compile_args.append("-march=native")

MODULES = ["_sampling", "_kernels", "_corpus", "_count", "_w2v_format", "_averaging"]
# FASTW2V_SGEMM=1 compiles the sgemm variant of the dense step in, to measure it against the C
# loop (bench/test_micro.py); shipped builds never take that branch.
macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
if os.environ.get("FASTW2V_SGEMM") == "1":
    macros.append(("FW_SGEMM_STEP", "1"))

extensions = [
    Extension(
        f"fastw2v.{name}",
        [f"fastw2v/{name}.pyx"],
        include_dirs=[numpy.get_include(), "fastw2v"],
        extra_compile_args=compile_args,
        define_macros=macros,
    )
    for name in MODULES
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)
