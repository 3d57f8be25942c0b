"""The docs' benchmark figures read both shapes of comparison table in bench/RESULTS.md."""

import importlib.util
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
MODULE = REPOSITORY / "docs" / "_ext" / "bench_data.py"

pytestmark = pytest.mark.skipif(not MODULE.exists(), reason="needs the docs sources")

RESULTS = """\
# Results

## Protocol

| preset | fastw2v M words/s | gensim M words/s | median |
|---|---|---|---|
| sg-ns | 9.0 | 1.0 | **9.00x** |

## 2026-12-04 (later session): a row per preset

| preset | fastw2v M words/s | gensim M words/s | median | analogy | WS353 fastw2v / gensim |
|---|---|---|---|---|---|
| sg-hs (late) | 1.711 | 0.475 | **3.76x** | 37.78+-0.34 / 36.91 ± 0.68 | 0.5498 / 0.5068 +- 0.01 |
| cbow-hs | 3.461 | 1.358 | **2.55** | 33.04 ± 0.59 / 33.15 ± 1.16 | 0.5145 / 0.5063 |

| preset | pairs | median |
|---|---|---|
| cbow-hs | 1.114, 1.105 | **1.098** |

## 2026-11-22: a row per program

| preset | mode | program | M words/s | analogy % | WS353 | speed ratio |
|---|---|---|---|---|---|---|
| sg-ns | file | fastw2v | 1.43 | 39.66 ± 1.14 | 0.5558 ± 0.0095 | **2.87x** |
| sg-ns | file | gensim | 0.462 | 39.55 ± 0.83 | 0.5501 ± 0.0049 | |
"""


@pytest.fixture(scope="module")
def bench_data():
    spec = importlib.util.spec_from_file_location("bench_data", MODULE)
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up by name.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_both_table_shapes_are_read_oldest_session_first(bench_data):
    sessions = bench_data.parse(RESULTS)
    assert [session.title for session in sessions] == [
        "2026-11-22", "2026-12-04 (later session)"]
    older, newer = sessions
    assert [(run.program, run.words_per_second, run.speed_ratio) for run in older.runs] == [
        ("fastw2v", 1.43, 2.87), ("gensim", 0.462, None)]
    runs = {(run.preset, run.program): run for run in newer.runs}
    assert sorted(runs) == [("cbow-hs", "fastw2v"), ("cbow-hs", "gensim"),
                            ("sg-hs", "fastw2v"), ("sg-hs", "gensim")]
    fastw2v, gensim = runs["sg-hs", "fastw2v"], runs["sg-hs", "gensim"]
    assert (fastw2v.words_per_second, fastw2v.speed_ratio, fastw2v.mode) == (1.711, 3.76, "file")
    assert (gensim.words_per_second, gensim.speed_ratio) == (0.475, None)
    assert fastw2v.analogy == (37.78, 0.34) and gensim.analogy == (36.91, 0.68)
    assert fastw2v.ws353 == (0.5498, None) and gensim.ws353 == (0.5068, 0.01)
    assert runs["cbow-hs", "fastw2v"].speed_ratio == 2.55


def test_the_record_yields_its_newest_comparison(bench_data):
    text = (REPOSITORY / "bench" / "RESULTS.md").read_text("utf-8")
    sessions = bench_data.parse(text)
    # RESULTS.md lists its sessions newest first.
    newest = next(section for section in text.split("\n## ")
                  if section[:1].isdigit() and "gensim M words/s" in section)
    assert sessions[-1].title == newest.split(":", 1)[0].strip()
    assert all(run.words_per_second > 0 for session in sessions for run in session.runs)
