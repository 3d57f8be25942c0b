"""Benchmark figures for the docs, read from ``bench/RESULTS.md`` when a build starts.

``bench/RESULTS.md`` is the record: one section per dated session (``## 2026-11-22 ...``,
newest first), each with comparison tables in one of two shapes: a row per program, whose
columns include ``preset``, ``mode``, ``program``, ``M words/s`` and, for the quality,
``analogy %`` and ``WS353``; or a row per preset (``bench/compare.py``'s ``corpus_file`` mode),
with ``fastw2v M words/s``, ``gensim M words/s``, the ``median`` ratio and ``analogy fastw2v /
gensim`` and ``WS353 fastw2v / gensim`` cells. This module parses every such table (a section
without one is skipped, so other tables may come and go), writes the numbers to
``throughput.csv`` and draws three figures with matplotlib:

- ``throughput.png``: M words/s of fastw2v and gensim in the newest session;
- ``speedup.png``: the speed-up over gensim (median of per-pair ratios) in each session;
- ``quality.png``: analogy accuracy and WordSim-353 correlation, mean and standard deviation,
  in the newest session that recorded both.

Run by ``conf.py``, or by hand::

    python docs/_ext/bench_data.py bench/RESULTS.md docs/_generated/bench
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
# A mean with its standard deviation where one was recorded: "40.54 +- 0.50", "0.5665".
_MEAN_SD = re.compile(r"([-+]?\d+(?:\.\d+)?)(?:\s*(?:±|\+-)\s*(\d+(?:\.\d+)?))?")
_RATIO = re.compile(r"\*\*(\d+(?:\.\d+)?)x?\*\*")
_PROGRAMS = ("fastw2v", "gensim")


@dataclass
class Run:
    """One row of a comparison table: a program's medians on a preset and input mode."""

    session: str
    preset: str
    mode: str
    program: str
    words_per_second: float  # millions
    analogy: tuple[float, float | None] | None = None  # mean, sd (percent) if recorded
    ws353: tuple[float, float | None] | None = None  # mean, sd if recorded
    speed_ratio: float | None = None  # fastw2v / gensim, median of the pairs

    @property
    def setting(self) -> str:
        return f"{self.preset.replace(', ', chr(10))}\n{self.mode}"


@dataclass
class Session:
    title: str
    runs: list[Run] = field(default_factory=list)


def _plain(cell: str) -> str:
    return " ".join(cell.replace("`", "").replace("**", "").split())


def _tables(lines: list[str]) -> list[list[list[str]]]:
    """Markdown tables among `lines`, each as rows of cells (header first, rule dropped)."""
    tables, current = [], []
    for line in [*lines, ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def _column(header: list[str], prefix: str) -> int | None:
    for index, name in enumerate(header):
        if _plain(name).lower().startswith(prefix.lower()):
            return index
    return None


def _cell(row: list[str], columns: dict[str, int | None], key: str) -> str:
    """The row's cell under the column `key`, or "" where the table has no such column."""
    index = columns[key]
    return "" if index is None else row[index]


def _mean_sd(text: str) -> tuple[float, float | None] | None:
    found = _MEAN_SD.search(text)
    if found is None:
        return None
    return float(found[1]), None if found[2] is None else float(found[2])


def _preset_runs(session: str, table: list[list[str]]) -> list[Run]:
    """Runs of a table with a row per preset and a pair of cells per quantity."""
    header, rows = table[0], table[1:]
    columns = {key: _column(header, key) for key in
               ("preset", "fastw2v M words/s", "gensim M words/s", "median", "analogy", "WS353")}
    if any(columns[key] is None for key in ("preset", "fastw2v M words/s", "gensim M words/s")):
        return []

    def cell(row: list[str], key: str) -> str:
        return _cell(row, columns, key)

    def pair(row: list[str], key: str) -> list[tuple[float, float | None] | None]:
        halves = cell(row, key).split(" / ")
        if len(halves) != len(_PROGRAMS):
            return [None] * len(_PROGRAMS)
        return [_mean_sd(half) for half in halves]

    runs = []
    for row in rows:
        if len(row) != len(header):
            continue
        found = [_NUMBER.search(cell(row, f"{program} M words/s")) for program in _PROGRAMS]
        speeds = [float(match[0]) for match in found if match is not None]
        if len(speeds) != len(_PROGRAMS):
            continue
        ratio = _RATIO.search(cell(row, "median"))
        # "sg-hs (23:49-00:03 UTC)" names the preset sg-hs.
        preset = re.sub(r"\s*\(.*\)", "", _plain(cell(row, "preset")))
        quality = zip(pair(row, "analogy"), pair(row, "WS353"))
        for program, speed, (analogy, ws353) in zip(_PROGRAMS, speeds, quality):
            runs.append(Run(
                session=session, preset=preset, mode="file", program=program,
                words_per_second=speed, analogy=analogy, ws353=ws353,
                speed_ratio=(float(ratio[1]) if ratio is not None and program == "fastw2v"
                             else None),
            ))
    return runs


def _runs(session: str, table: list[list[str]]) -> list[Run]:
    header, rows = table[0], table[1:]
    columns = {key: _column(header, key) for key in
               ("preset", "mode", "program", "M words/s", "analogy", "WS353", "speed ratio")}
    if any(columns[key] is None for key in ("preset", "mode", "program", "M words/s")):
        return _preset_runs(session, table)
    runs = []
    for row in rows:
        if len(row) != len(header):
            continue

        def cell(key: str, row: list[str] = row) -> str:
            return _cell(row, columns, key)

        speed = _NUMBER.search(cell("M words/s"))
        if speed is None:
            continue
        ratio = _RATIO.search(cell("speed ratio"))
        runs.append(Run(
            session=session,
            preset=_plain(cell("preset")),
            # "iterable (`LineSentence`)" and "iterable" name the same input across sessions.
            mode=re.sub(r"\s*\(.*\)", "", _plain(cell("mode"))),
            program=_plain(cell("program")),
            words_per_second=float(speed[0]),
            analogy=_mean_sd(cell("analogy")),
            ws353=_mean_sd(cell("WS353")),
            speed_ratio=None if ratio is None else float(ratio[1]),
        ))
    return runs


def parse(text: str) -> list[Session]:
    """The sessions of a RESULTS.md text that hold a comparison table, oldest first."""
    sessions: list[Session] = []
    heading: str | None = None
    body: list[str] = []
    for line in [*text.splitlines(), "## end"]:
        if line.startswith("## "):
            if heading is not None and re.match(r"\d{4}-\d{2}-\d{2}", heading):
                title = heading.split(":", 1)[0].strip()
                runs = [run for table in _tables(body) for run in _runs(title, table)]
                if runs:
                    sessions.append(Session(title, runs))
            heading, body = line[3:].strip(), []
        else:
            body.append(line)
    return sessions[::-1]


def _figure_throughput(session: Session, path: Path) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    settings = list(dict.fromkeys(run.setting for run in session.runs))
    programs = list(dict.fromkeys(run.program for run in session.runs))
    figure, axes = plt.subplots(figsize=(9, 4.2), layout="constrained")
    width = 0.8 / len(programs)
    positions = np.arange(len(settings))
    for number, program in enumerate(programs):
        values = {run.setting: run.words_per_second for run in session.runs
                  if run.program == program}
        heights = [values.get(setting, np.nan) for setting in settings]
        bars = axes.bar(positions + (number - (len(programs) - 1) / 2) * width, heights, width,
                        label=program)
        axes.bar_label(bars, fmt="%.2f", padding=2, fontsize=8)
    axes.set_xticks(positions, settings, fontsize=8)
    axes.set_ylabel("training throughput (M words/s)")
    axes.set_title(f"Training throughput, {session.title} (2 workers, median of runs)")
    axes.legend()
    axes.margins(y=0.15)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _figure_speedup(sessions: list[Session], path: Path) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    settings = list(dict.fromkeys(run.setting for session in sessions for run in session.runs
                                  if run.speed_ratio is not None))
    figure, axes = plt.subplots(figsize=(12, 5), layout="constrained")
    width = 0.8 / max(1, len(sessions))
    positions = np.arange(len(settings))
    for number, session in enumerate(sessions):
        ratios = {run.setting: run.speed_ratio for run in session.runs
                  if run.speed_ratio is not None}
        heights = [ratios.get(setting, np.nan) for setting in settings]
        bars = axes.bar(positions + (number - (len(sessions) - 1) / 2) * width, heights, width,
                        label=session.title)
        # Upright labels: with a bar per session they would overlap side by side.
        axes.bar_label(bars, fmt="%.1fx", padding=2, fontsize=6, rotation=90)
    axes.axhline(1.0, color="grey", linewidth=0.8)
    axes.set_xticks(positions, settings, fontsize=8)
    axes.set_ylabel("speed-up over gensim (x)")
    axes.set_title("fastw2v / gensim training speed, median of per-pair ratios")
    axes.legend(fontsize=7, ncols=2)
    axes.margins(y=0.15)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _figure_quality(session: Session, path: Path) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    runs = [run for run in session.runs if run.analogy and run.ws353]
    settings = list(dict.fromkeys(run.setting for run in runs))
    programs = list(dict.fromkeys(run.program for run in runs))
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    width = 0.3 / len(programs)
    positions = np.arange(len(settings))
    for axes, attribute, label in ((left, "analogy", "analogy accuracy (%)"),
                                   (right, "ws353", "WordSim-353 Spearman")):
        for number, program in enumerate(programs):
            values = {run.setting: getattr(run, attribute) for run in runs
                      if run.program == program}
            means = [values[s][0] if s in values else np.nan for s in settings]
            spreads = [values[s][1] or 0.0 if s in values else 0.0 for s in settings]
            # Points with error bars, not bars: the axis does not start at zero.
            axes.errorbar(positions + (number - (len(programs) - 1) / 2) * width, means,
                          yerr=spreads, fmt="o", capsize=4, label=program)
        axes.set_xticks(positions, settings, fontsize=7)
        axes.set_ylabel(label)
        axes.grid(axis="y", linewidth=0.4, alpha=0.6)
    left.legend(fontsize=8)
    figure.suptitle(f"Quality of the vectors, {session.title} (mean and, where recorded, sd "
                    "over 3 seeds)")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _mean_sd_text(value: tuple[float, float | None] | None, digits: int) -> str:
    if value is None:
        return ""
    mean, sd = value
    return f"{mean:.{digits}f}" if sd is None else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _write_csv(sessions: list[Session], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["session", "preset", "mode", "program", "M words/s", "analogy %",
                         "WS353", "speed-up"])
        for session in sessions[::-1]:
            for run in session.runs:
                writer.writerow([
                    run.session, run.preset, run.mode, run.program,
                    f"{run.words_per_second:.3f}",
                    _mean_sd_text(run.analogy, 2),
                    _mean_sd_text(run.ws353, 4),
                    "" if run.speed_ratio is None else f"{run.speed_ratio:.2f}x",
                ])


def write(results: Path, folder: Path) -> list[Session]:
    """Parse `results` and write the CSV and the figures into `folder`."""
    import matplotlib

    matplotlib.use("Agg")
    sessions = parse(results.read_text("utf-8"))
    if not sessions:
        raise RuntimeError(f"{results}: no session with a comparison table (preset, mode, "
                           "program, M words/s) was found")
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(sessions, folder / "throughput.csv")
    _figure_throughput(sessions[-1], folder / "throughput.png")
    _figure_speedup(sessions, folder / "speedup.png")
    rated = [session for session in sessions
             if any(run.analogy and run.ws353 for run in session.runs)]
    _figure_quality((rated or sessions)[-1], folder / "quality.png")
    return sessions


if __name__ == "__main__":
    write(Path(sys.argv[1]), Path(sys.argv[2]))
