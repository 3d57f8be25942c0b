"""The typed public API: the py.typed marker, the compiled modules' stubs, and what a type
checker sees of `import fastw2v`."""

import ast
import importlib
import inspect
import pathlib
import textwrap

import pytest

import fastw2v

PACKAGE = pathlib.Path(fastw2v.__file__).parent
COMPILED = ["_kernels", "_corpus", "_count", "_sampling"]


def _stub_names(tree: ast.Module) -> dict[str, set[str]]:
    """Top-level names a stub declares, each class with the names of its members."""
    names: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = {
                item.name if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                else item.target.id
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                or (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name))
            }
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = set()
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = set()
    return names


def _runtime_names(module: object) -> dict[str, set[str]]:
    """What a compiled module defines itself (not what it imported), with class members."""
    names: dict[str, set[str]] = {}
    for name, value in vars(module).items():
        if name.startswith("__") or inspect.ismodule(value):
            continue
        if (inspect.isclass(value) or callable(value)) and getattr(
            value, "__module__", module.__name__
        ) != module.__name__:
            continue
        if name.startswith("_") and not inspect.isclass(value):
            continue
        members = set()
        if inspect.isclass(value):
            members = {member for member in vars(value)
                       if not member.startswith("_") or member == "__init__"}
        names[name] = members
    return names


def test_package_ships_py_typed_marker():
    assert (PACKAGE / "py.typed").is_file()


@pytest.mark.parametrize("name", COMPILED)
def test_stub_declares_exactly_what_the_compiled_module_defines(name):
    # A function or class added to a .pyx without its stub would be invisible to type checkers;
    # one removed would be promised to them.
    stub = PACKAGE / f"{name}.pyi"
    assert stub.is_file(), f"{stub} is missing"
    declared = _stub_names(ast.parse(stub.read_text("utf-8")))
    defined = _runtime_names(importlib.import_module(f"fastw2v.{name}"))
    assert sorted(declared) == sorted(defined)
    for item, members in defined.items():
        if members:
            # Cython classes define __init__ only when the .pyx does; the stub always may.
            assert declared[item] - {"__init__"} == members - {"__init__"}, item


def test_type_checking_imports_match_the_lazy_public_names():
    # Type checkers do not run the package's __getattr__; they see the public names only
    # through the imports under `if TYPE_CHECKING:` in __init__.py.
    tree = ast.parse((PACKAGE / "__init__.py").read_text("utf-8"))
    imported = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
                and node.test.id == "TYPE_CHECKING"):
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom):
                    for alias in statement.names:
                        # `import X as X` is what marks a name re-exported.
                        assert alias.asname == alias.name, alias.name
                        imported[alias.name] = statement.module
    assert imported == fastw2v._PUBLIC


def test_type_checker_sees_the_public_classes(tmp_path, monkeypatch):
    mypy_api = pytest.importorskip("mypy.api")
    user_code = tmp_path / "user_code.py"
    user_code.write_text(textwrap.dedent("""
        import fastw2v
        from fastw2v import KeyedVectors

        reveal_type(KeyedVectors(4))
        reveal_type(fastw2v.Word2Vec)
        reveal_type(fastw2v.CallbackAny2Vec().on_epoch_end)
        reveal_type(fastw2v.__version__)
    """))
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")
    monkeypatch.chdir(tmp_path)
    if "site-packages" not in PACKAGE.parts:
        # A source checkout (editable install): point mypy at it. An installed package is
        # found in site-packages, where mypy reads it only because of its py.typed marker.
        monkeypatch.setenv("MYPYPATH", str(PACKAGE.parent))
    stdout, stderr, _ = mypy_api.run([
        "--config-file", str(config), "--cache-dir", str(tmp_path / "cache"),
        "--no-error-summary", user_code.name,
    ])
    # Only the user's file is judged: errors inside fastw2v are the package's own check.
    lines = [line for line in stdout.splitlines() if line.startswith(user_code.name)]
    assert not [line for line in lines if ": error:" in line], stdout + stderr
    revealed = [line.split("Revealed type is ", 1)[1] for line in lines if "Revealed" in line]
    assert revealed[0] == '"fastw2v.keyedvectors.KeyedVectors"'
    assert revealed[1].startswith('"def (') and "fastw2v.word2vec.Word2Vec" in revealed[1]
    assert revealed[2] == '"def (model: fastw2v.word2vec.Word2Vec)"'
    assert revealed[3] in ('"str"', '"builtins.str"')
