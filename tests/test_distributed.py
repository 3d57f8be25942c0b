"""Training across MPI processes (fastw2v._distributed): the pure helpers in this process, and
whole jobs under ``mpiexec -n 1/2/3``, started from here as subprocesses."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import types
import zlib
from pathlib import Path

import numpy as np
import pytest

from fastw2v import Averaging, Word2Vec, _averaging, _corpus, _count, _distributed, _objectives
from fastw2v._config import TrainingConfig

MPIEXEC = (shutil.which("mpiexec", path=os.path.dirname(sys.executable))
           or shutil.which("mpiexec"))
try:
    import mpi4py  # noqa: F401

    HAVE_MPI = MPIEXEC is not None
except ImportError:
    HAVE_MPI = False
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs mpi4py and mpiexec "
                               "(pip install 'fastw2v[mpi]')")

GROUPS, WORDS_PER_GROUP = 6, 8
# A job that hangs is a failure, not a wait.
JOB_SECONDS = 120


def planted_lines(n_sentences=3000, length=10, seed=0):
    """Sentences drawn within one group each: words of a group share all their contexts."""
    rng = np.random.default_rng(seed)
    groups = [[f"g{g}w{i}" for i in range(WORDS_PER_GROUP)] for g in range(GROUPS)]
    return [" ".join(rng.choice(groups[rng.integers(GROUPS)], length))
            for _ in range(n_sentences)]


def zipf_lines(n_sentences=2500, seed=1):
    """Words of very different counts, many of them tied, and some empty lines."""
    rng = np.random.default_rng(seed)
    words = [f"t{i}" for i in range(400)]
    weights = 1.0 / np.arange(1, len(words) + 1)
    weights /= weights.sum()
    return [" ".join(rng.choice(words, rng.integers(0, 16), p=weights))
            for _ in range(n_sentences)]


def group_precision(wv, topn=5):
    hits = total = 0
    for word in wv.index_to_key:
        group = word.split("w")[0]
        hits += sum(other.split("w")[0] == group for other, _ in wv.most_similar(word, topn=topn))
        total += topn
    return hits / total


def digest(*arrays):
    value = 0
    for array in arrays:
        value = zlib.crc32(np.ascontiguousarray(array).tobytes(), value)
    return value


def model_facts(model):
    """What every process reports about its model (the job's script computes the same)."""
    facts = {"words": list(model.wv.index_to_key),
             "counts": [int(c) for c in model.wv.expandos["count"]],
             "corpus_count": model.corpus_count, "total_words": model.corpus_total_words,
             "vectors": digest(model.wv.vectors), "syn1neg": digest(model.syn1neg),
             "syn1": digest(model.syn1)}
    for objective in model._objectives:
        if hasattr(objective, "noise_table"):
            facts["noise_table"] = digest(objective.noise_table)
        if getattr(objective, "paths", None) is not None:
            facts["huffman"] = digest(*objective.paths)
    return facts


# The program every process of a job runs: argv is the JSON of its instructions, and each
# process writes what it saw to out/<rank>.json.
JOB = textwrap.dedent('''
    import json, os, signal, sys, threading
    from mpi4py import MPI
    from fastw2v import Averaging, Word2Vec, _corpus
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from facts import group_precision, model_facts

    comm = MPI.COMM_WORLD
    job = json.loads(sys.argv[1])
    params = dict(job["params"])
    params.update(job.get("params_by_rank", {}).get(str(comm.rank), {}))
    corpus = job.get("corpus_by_rank", {}).get(str(comm.rank), job["corpus"])
    fault = job.get("fault", {}).get(str(comm.rank))
    if fault == "kill":
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
    elif fault == "hang":
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGSTOP)).start()
    elif fault == "raise":
        def fail(*args):
            raise ValueError("a planted failure in one process")
        _corpus.train_file_range = fail
    report = {}
    # Which processes run the callbacks and ask for a progress bar (none is drawn).
    from fastw2v import _training
    from fastw2v.callbacks import CallbackAny2Vec
    report["epochs_called_back"], report["progress_asked"] = 0, []
    draw = _training._progress_bar
    def watched_bar(total, show):
        report["progress_asked"].append(bool(show))
        return draw(total, False)
    _training._progress_bar = watched_bar
    class EpochCounter(CallbackAny2Vec):
        def on_epoch_end(self, model):
            report["epochs_called_back"] += 1
    try:
        model = Word2Vec(comm=Averaging(comm, **job.get("averaging", {})), **params)
        model.build_vocab(corpus_file=corpus)
        report["built"] = model_facts(model)
        if job.get("train", True):
            model.train(corpus_file=corpus, total_words=model.corpus_total_words,
                        epochs=model.epochs, callbacks=[EpochCounter()])
            report["trained"] = model_facts(model)
            report["precision"] = group_precision(model.wv)
            report["alpha_reached"] = model.min_alpha_yet_reached
            report["loss_history"] = model.training_loss_history
    except Exception as error:
        report["error"] = f"{type(error).__name__}: {error}"
    with open(os.path.join(job["out"], f"{comm.rank}.json"), "w") as out:
        json.dump(report, out)
''')


def job_command(tmp_path, processes, corpus, params, **job):
    """Write JOB and its helpers into `tmp_path`; returns the command that runs it in
    `processes` processes, each writing its report into `tmp_path / "out"`."""
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    script = tmp_path / "job.py"
    script.write_text(JOB)
    helpers = Path(__file__).read_text()
    (tmp_path / "facts.py").write_text(
        "import zlib\nimport numpy as np\n"
        + helpers[helpers.index("def group_precision"):helpers.index("# The program every")])
    job.update(corpus=corpus, params=params, out=str(out))
    return [MPIEXEC, "-n", str(processes), sys.executable, str(script), json.dumps(job)]


def run_job(tmp_path, processes, corpus, params, env=None, **job):
    """Run JOB in `processes` processes; returns (reports by rank, completed process)."""
    out = tmp_path / "out"
    completed = subprocess.run(
        job_command(tmp_path, processes, corpus, params, **job),
        capture_output=True, text=True, timeout=JOB_SECONDS, cwd=tmp_path,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", **(env or {})})
    reports = {}
    for rank in range(processes):
        path = out / f"{rank}.json"
        if path.exists():
            reports[rank] = json.loads(path.read_text())
    return reports, completed


@pytest.fixture(scope="module")
def planted_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "planted.txt"
    path.write_text("\n".join(planted_lines()) + "\n")
    return path


@pytest.fixture(scope="module")
def zipf_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "zipf.txt"
    path.write_text("\n".join(zipf_lines()) + "\n")
    return path


QUICK = dict(vector_size=24, window=3, min_count=1, epochs=5, seed=3, sg=1, workers=1)


# ---------------------------------------------------------------------------- in this process


def test_without_comm_mpi4py_is_never_imported(planted_path, tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from fastw2v import Word2Vec
        Word2Vec(corpus_file={str(planted_path)!r}, vector_size=8, min_count=1, epochs=1,
                 workers=1)
        print("mpi4py" in sys.modules)
    """)
    # Run away from a source checkout, whose fastw2v/ has no compiled modules.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=JOB_SECONDS, check=True, cwd=tmp_path)
    assert result.stdout.strip() == "False"


def test_rounds_average_the_hottest_rows_most_often():
    rows = [_distributed.rows_for_round(n, 4, 30) for n in range(1, 17)]
    assert rows == [4, 8, 4, 16, 4, 8, 4, 30, 4, 8, 4, 16, 4, 8, 4, 30]
    # Tier k (rows 4 * 2**(k-1) to 4 * 2**k) is in every 2**k-th round.
    assert sum(r > 8 for r in rows) == 16 // 4


def test_files_are_shared_out_by_size():
    assert _distributed.balance([5, 50, 30, 20, 10], 2) == [[1, 4], [0, 2, 3]]
    assert _distributed.balance([7], 3) == [[0], [], []]


@pytest.mark.parametrize("processes,workers", [(1, 1), (2, 2), (3, 1), (4, 3)])
def test_the_shares_of_one_file_cover_it_once(zipf_path, processes, workers):
    shares = [_distributed.plan_share([str(zipf_path)], workers, processes, rank)
              for rank in range(processes)]
    ranges = [(start, end) for share in shares for jobs in share.jobs
              for _, _, start, end in jobs]
    assert ranges == _corpus.line_ranges(str(zipf_path), processes * workers)
    numbers = [job for share in shares for jobs in share.jobs for job, *_ in jobs]
    assert sorted(numbers) == list(range(processes * workers))
    assert [s.count_ranges[0][1:] for s in shares] == [
        (ranges[r * workers][0], ranges[r * workers + workers - 1][1]) for r in range(processes)]


def test_counting_byte_ranges_counts_the_file_once(zipf_path):
    whole, total, sentences, _ = _count.count_file_words(str(zipf_path))
    for parts in (2, 5):
        counts: dict = {}
        words = lines = 0
        for start, end in _corpus.line_ranges(str(zipf_path), parts):
            items, range_words, range_lines, _ = _count.count_file_words(
                str(zipf_path), start=start, end=end)
            for key, count in items:
                counts[key] = counts.get(key, 0) + count
            words, lines = words + range_words, lines + range_lines
        # Merged in range order, the words come in the order one pass first sees them.
        assert list(counts.items()) == whole
        assert (words, lines) == (total, sentences)


@pytest.mark.parametrize("paths", [1, 3])
def test_a_process_counts_its_share_in_threads_as_in_one(zipf_path, tmp_path, monkeypatch,
                                                          paths):
    from fastw2v import _vocab

    files = [str(zipf_path)] if paths == 1 else []
    for index in range(paths if paths > 1 else 0):
        shard = tmp_path / f"shard{index}.txt"
        shard.write_text("\n".join(zipf_lines(seed=index)) + "\n")
        files.append(str(shard))
    calls = []
    original = _count.count_file_ranges
    monkeypatch.setattr(_count, "count_file_ranges", lambda p, ranges, *a: (
        calls.append(len(ranges)), original(p, ranges, *a))[1])
    for rank in range(2):
        share = _distributed.plan_share(files, 2, 2, rank)
        one = _distributed._count_share(share, None, threads=3)
        assert not calls  # too small to cut
        monkeypatch.setattr(_vocab, "PARALLEL_COUNT_BYTES", 1000)
        threaded = _distributed._count_share(share, None, threads=3)
        monkeypatch.setattr(_vocab, "PARALLEL_COUNT_BYTES", 8 << 20)
        assert calls and set(calls) == {3}
        calls.clear()
        assert one[0] == threaded[0] and one[2:] == threaded[2:]
        np.testing.assert_array_equal(one[1], threaded[1])


def test_counting_a_byte_range_reads_only_it(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"a b\nc d\ne f\n")
    items, total, sentences, _ = _count.count_file_words(str(path), start=4, end=8)
    assert (items, total, sentences) == ([(b"c", 1), (b"d", 1)], 2, 1)
    # Without a newline at its end, the range's last token still ends there.
    assert _count.count_file_words(str(path), start=0, end=3)[0] == [(b"a", 1), (b"b", 1)]
    with pytest.raises(ValueError, match="start <= end"):
        _count.count_file_words(str(path), start=5, end=2)


def combined_share(updates, processes):
    """The share of the summed moves a row takes, in float64 (the rule `_averaging.add_combined`
    computes): (1 - a^P) / (P (1 - a)), a = exp(-updates); 1, the sum, for rows not updated."""
    updates = np.asarray(updates, dtype=np.float64)
    share = np.ones_like(updates)
    moved = updates > 1e-12
    share[moved] = np.expm1(-processes * updates[moved]) / (processes * np.expm1(-updates[moved]))
    return share


def test_a_row_takes_the_sum_of_rare_moves_and_the_mean_of_saturated_ones():
    # A row updated u times (in units of -ln of the factor left) by each of P processes: one
    # process doing all P*u updates moves it (1 - a^P) / (1 - a) times as far, a = exp(-u).
    for processes in (2, 3, 8):
        for updates in (1e-6, 0.05, 0.7, 3.0, 40.0):
            a = math.exp(-updates)
            expected = (1 - a ** processes) / (processes * (1 - a))
            assert combined_share(np.array([updates]), processes)[0] == \
                pytest.approx(expected, rel=1e-9)
            # The kernel: a zero row given a summed move of 1 takes its share of it.
            base = np.zeros((1, 1), dtype=np.float32)
            _averaging.add_combined(None, base, np.zeros_like(base), np.ones_like(base),
                                    np.array([1.0]), np.zeros(1, dtype=np.int64), processes,
                                    processes, updates, np.zeros(1))
            assert base[0, 0] == pytest.approx(expected, rel=1e-6)
    # No updates, too few to tell from none, saturated: the sum, the sum, the mean.
    updates = np.array([0.0, 1e-9, 1e3])
    shares = combined_share(updates, 4)
    assert shares.tolist() == [1.0, pytest.approx(1.0), 0.25]
    base = np.zeros((3, 2), dtype=np.float32)
    _averaging.add_combined(None, base, np.zeros_like(base), np.ones_like(base), updates,
                            np.zeros(3, dtype=np.int64), 4, 4, 1.0, np.zeros(3))
    np.testing.assert_allclose(base, np.repeat(shares[:, None], 2, axis=1), rtol=1e-6)


def test_rows_combine_by_how_often_they_were_updated_since_last_time():
    processes, rate = 3, 0.1
    shares = np.array([0.5, 0.1, 1e-3, 1e-5, 0.0])
    rows = _distributed._Rows(np.zeros((5, 2), dtype=np.float32), True, shares)
    rows.summed[:] = 6.0
    rows.moves[:] = 0.0
    rows.add_combined(0, 5, processes, words=3000, rate=rate, update_live=False)
    expected = 6.0 * combined_share(rate * shares * 1000, processes)
    np.testing.assert_allclose(rows.base[:, 0], expected, rtol=1e-6)
    assert rows.base[0, 0] == pytest.approx(2.0)  # saturated: the mean
    assert rows.base[4, 0] == 6.0  # never updated: the sum
    assert not rows.live.any()  # the exact combination copies base over live later
    # Rows 1-2 combined again 300 words later count only the words read since.
    before = rows.base.copy()
    rows.add_combined(1, 3, processes, words=3300, rate=rate, update_live=False)
    np.testing.assert_allclose(
        rows.base[1:3, 0] - before[1:3, 0],
        6.0 * combined_share(rate * shares[1:3] * 100, processes), rtol=1e-5)
    assert rows.words_combined.tolist() == [3000, 3300, 3300, 3000, 3000]
    np.testing.assert_allclose(rows.squared_lengths, (rows.base.astype(np.float64) ** 2).sum(1))


@pytest.mark.parametrize("dim", [1, 7, 100])
def test_the_combination_kernel_matches_a_float64_reference(dim):
    rng = np.random.default_rng(dim)
    rows, processes, words, rate = 300, 4, 50_000, 3e-4
    base = rng.normal(size=(rows, dim)).astype(np.float32)
    moves = rng.normal(scale=0.1, size=(rows, dim)).astype(np.float32)
    # The workers kept writing after the moves were taken.
    live = base + moves + rng.normal(scale=0.01, size=(rows, dim)).astype(np.float32)
    summed = rng.normal(scale=0.3, size=(rows, dim)).astype(np.float32)
    shares = rng.random(rows) ** 4 / 10
    shares[:5] = 0.0
    combined = rng.integers(0, words, size=rows)
    lengths = np.full(rows, np.nan)

    share = combined_share(rate * shares * (words - combined) / processes, processes)
    step = summed.astype(np.float64) * share[:, None]
    expected_base = base + step
    expected_live = live + step - moves
    new_base, new_live, new_combined = base.copy(), live.copy(), combined.copy()
    _averaging.add_combined(new_live, new_base, moves, summed, shares, new_combined, words,
                            processes, rate, lengths)
    np.testing.assert_allclose(new_base, expected_base, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_live, expected_live, rtol=1e-5, atol=1e-6)
    assert (new_combined == words).all()
    np.testing.assert_allclose(lengths, (new_base.astype(np.float64) ** 2).sum(axis=1),
                               rtol=1e-12)
    assert 0.25 <= share.min() and share.max() == 1.0 and share.min() < 0.9

    # Without live rows only the base moves, as with them; the lengths are measure()'s, bit
    # for bit (the first process keeps them at an epoch's end, the others measure the rows it
    # sends them).
    again = base.copy()
    lengths[:] = np.nan
    _averaging.add_combined(None, again, moves, summed, shares, combined.copy(), words,
                            processes, rate, lengths)
    assert np.array_equal(again, new_base)
    measured = np.empty(rows)
    _averaging.measure(again, measured)
    assert np.array_equal(measured, lengths)
    with pytest.raises(ValueError, match="shape"):
        _averaging.add_combined(None, again[:-1], moves, summed, shares, combined, words,
                                processes, rate, lengths)
    # The compiled loop assumes the blocks do not overlap: overlapping ones are refused.
    with pytest.raises(ValueError, match="overlap"):
        _averaging.add_combined(again, again, moves, summed, shares, combined, words,
                                processes, rate, lengths)
    with pytest.raises(ValueError, match="overlap"):
        _averaging.add_combined(None, summed, moves, summed, shares, combined, words,
                                processes, rate, lengths)


class _Done:
    def Test(self):
        return True


class _TwoAlikeProcesses:
    """A stand-in communicator of two processes whose rows moved alike: the sum is twice one."""

    def Iallreduce(self, send, receive):
        np.multiply(send, 2, out=receive)
        return _Done()


@pytest.mark.parametrize("sg, cbow_mean, shrink_windows, factor, output_factor",
                         [(1, 1, True, 1.0, 1.0), (0, 1, True, 1 / 3, 1 / 9),
                          (0, 1, False, 1 / 4, 1 / 16), (0, 0, True, 1.0, 1.0)],
                         ids=["skip-gram", "cbow-mean", "cbow-mean-fixed-windows", "cbow-sum"])
def test_each_matrix_weighs_the_rows_its_updates_are_multiplied_by(sg, cbow_mean, shrink_windows,
                                                                   factor, output_factor):
    # In CBOW of the context's mean, the word vectors' rate is divided by the mean number of
    # context words n (3 in windows of 1 or 2 words a side, 4 in windows of 2), the output
    # rows' by n^2. Of the context's sum, each context row takes the whole step.
    sentences = [["a", "b", "c", "a", "d"], ["b", "a", "e", "c"]] * 20
    model = Word2Vec(sentences, sg=sg, cbow_mean=cbow_mean, vector_size=8, window=2,
                     shrink_windows=shrink_windows, min_count=1, negative=3, hs=1, epochs=1,
                     workers=1, seed=3)
    group = types.SimpleNamespace(rank=0, size=2, settings=Averaging(comm=None),
                                  comm=_TwoAlikeProcesses(), wait=lambda request, what: None)
    sync = _distributed.ModelSync(group, model, share=None)
    inputs, nodes, noise_rows = sync._matrices  # in the order of model._objectives
    counts = np.asarray(model.wv.expandos["count"], dtype=np.float64)
    words = counts / counts.sum()

    def squared(rows):
        return (rows.astype(np.float64) ** 2).sum(axis=1)

    # An output row is multiplied by the input vectors, weighted by their words' counts.
    for outputs in (noise_rows, nodes):
        assert outputs.partner_length() == pytest.approx(words @ squared(model.wv.vectors))
    # An input vector by each objective's output rows, weighted by the predictions reaching
    # them: its target's row, the nodes of its path.
    node_shares = model._objectives[0].row_shares(counts)
    length = words @ squared(model.syn1neg) + node_shares @ squared(model.syn1) / node_shares.sum()
    assert inputs.partner_length() == pytest.approx(length)
    # The lengths are those of the rows as last combined (the same in every process), not of
    # the rows the workers are changing.
    model.syn1neg[:] = 0.0
    assert inputs.partner_length() == pytest.approx(length)

    # A round: the combined move takes the share for contraction x factor x learning rate x
    # length, with the words each of the two processes read (the default contraction, a
    # learning rate of 0.02).
    def round_share(factor, length, row_shares, read):
        return combined_share(0.25 * factor * 0.02 * length * row_shares * read / 2, 2)

    def words_for_one_update(factor, length, row_shares):
        # Enough words read that the most frequent row was updated about once (in units of -ln
        # of the factor left) in each process.
        return round(2 / (0.25 * factor * 0.02 * length * row_shares.max()))

    before = inputs.base.copy()
    moves = np.random.default_rng(0).normal(size=before.shape).astype(np.float32)
    model.wv.vectors[:] = before + moves
    read = words_for_one_update(factor, length, words)
    sync._words_everywhere = read
    trainer = types.SimpleNamespace(alpha_after=lambda words_done: 0.02)
    sync._combine(inputs, len(counts), exact=False, trainer=trainer)
    share = round_share(factor, length, words, read)
    np.testing.assert_allclose(model.wv.vectors, before + 2 * moves * share[:, None],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(inputs.base, model.wv.vectors, rtol=1e-6, atol=1e-6)
    assert 0.5 < share.min() < 0.8 and share.max() < 0.95  # between the mean and the sum
    # ...and the output rows' rate follows the input vectors just combined.
    output_length = words @ squared(model.wv.vectors)
    assert noise_rows.partner_length() == pytest.approx(output_length)
    # An output row's round, at its own factor (the workers zeroed the noise rows above).
    before = noise_rows.base.copy()
    moves = model.syn1neg - before
    read_by_outputs = words_for_one_update(output_factor, output_length, noise_rows.shares)
    sync._words_everywhere = read_by_outputs
    sync._combine(noise_rows, len(counts), exact=False, trainer=trainer)
    share = round_share(output_factor, output_length, noise_rows.shares, read_by_outputs)
    np.testing.assert_allclose(model.syn1neg, before + 2 * moves * share[:, None],
                               rtol=1e-5, atol=1e-6)
    assert 0.5 < share.min() < 0.8 and share.max() < 0.95
    sync._words_everywhere = read

    # Before the output rows grow, every input vector takes the sum of the moves.
    noise_rows.base[:] = 0.0
    nodes.base[:] = 0.0
    noise_rows.measure(0, len(counts))
    nodes.measure(0, len(counts) - 1)
    assert inputs.partner_length() == 0.0
    before = inputs.base.copy()
    model.wv.vectors[:] = before + moves
    sync._words_everywhere = 2 * read
    sync._combine(inputs, len(counts), exact=False, trainer=trainer)
    np.testing.assert_allclose(model.wv.vectors, before + 2 * moves, rtol=1e-5, atol=1e-6)


def test_huffman_nodes_share_the_words_below_them():
    counts = np.array([5, 3, 1, 1])
    objective = _objectives.HierarchicalSoftmax.create(TrainingConfig(hs=1, negative=0),
                                                       counts)
    shares = objective.row_shares(counts)
    points, _, offsets = objective.paths
    assert shares[points[offsets[0]]] == 1.0  # every path starts at the root
    assert shares.max() == 1.0 and shares[len(counts) - 1:].sum() == 0.0
    for node in range(len(counts) - 1):
        below = [w for w in range(len(counts)) if node in points[offsets[w]:offsets[w + 1]]]
        assert shares[node] == pytest.approx(counts[below].sum() / counts.sum())


def test_averaging_settings_are_checked():
    with pytest.raises(ValueError, match="period"):
        Averaging(comm=None, period=0)
    with pytest.raises(ValueError, match="hot_rows"):
        Averaging(comm=None, hot_rows=0)
    for contraction in (-1.0, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match="contraction"):
            Averaging(comm=None, contraction=contraction)
    with pytest.raises(TypeError, match="mpi4py communicator"):
        _distributed.settings("COMM_WORLD")


# ----------------------------------------------------------------------------- whole jobs


@needs_mpi
@pytest.mark.parametrize("objective", [dict(negative=5), dict(hs=1, negative=0, sg=0)])
def test_one_process_trains_exactly_as_a_plain_model(tmp_path, planted_path, objective):
    params = dict(QUICK, workers=1, **objective)
    reports, completed = run_job(tmp_path, 1, str(planted_path), params)
    assert completed.returncode == 0, completed.stderr
    plain = Word2Vec(corpus_file=str(planted_path), **params)
    assert reports[0]["trained"] == model_facts(plain)


@needs_mpi
@pytest.mark.parametrize("processes", [2, 3])
def test_the_vocabulary_counted_together_is_the_single_process_one(tmp_path, zipf_path,
                                                                   processes):
    params = dict(QUICK, workers=2, hs=1, negative=5, min_count=2)
    reports, completed = run_job(tmp_path, processes, str(zipf_path), params, train=False)
    assert completed.returncode == 0, completed.stderr
    alone = Word2Vec(**params)
    alone.build_vocab(corpus_file=str(zipf_path))
    expected = model_facts(alone)
    # Words, counts, their order (ties included), the Huffman tree, the noise table and the
    # initial weights: the same in every process, and the same as one process counting alone.
    assert [reports[rank]["built"] for rank in range(processes)] == [expected] * processes


@needs_mpi
@pytest.mark.parametrize("processes,objective", [(2, dict(negative=5)), (3, dict(negative=5)),
                                                 (2, dict(hs=1, negative=0)),
                                                 (2, dict(sg=0, negative=5))])
def test_planted_groups_are_learned_across_processes(tmp_path, planted_path, processes,
                                                     objective):
    params = dict(QUICK, workers=1, epochs=8, compute_loss=True, **objective)
    # Few hot rows and short rounds: every tier is combined while the workers train. Every
    # planted word is as frequent as the hottest: once the vectors have grown, all rows average
    # their moves.
    reports, completed = run_job(tmp_path, processes, str(planted_path), params,
                                 averaging=dict(period=0.002, hot_rows=4))
    assert completed.returncode == 0, completed.stderr
    alone = Word2Vec(corpus_file=str(planted_path), **params)
    assert group_precision(alone.wv) >= 0.9
    for rank in range(processes):
        assert reports[rank]["precision"] >= 0.9, (rank, reports[rank]["precision"])
        # One learning-rate schedule over everyone's words: it ends where it should.
        assert reports[rank]["alpha_reached"] == pytest.approx(params.get("min_alpha", 1e-4))
    # The same final model, and the same summed loss, in every process.
    assert len({json.dumps(reports[rank]["trained"]) for rank in range(processes)}) == 1
    assert len({json.dumps(reports[rank]["loss_history"]) for rank in range(processes)}) == 1
    losses = reports[0]["loss_history"]
    assert len(losses) == 8 and losses[-1] < losses[0]
    assert losses[-1] == pytest.approx(alone.training_loss_history[-1], rel=0.15)


@needs_mpi
def test_rows_beyond_the_hottest_sum_their_moves(tmp_path, zipf_path):
    params = dict(QUICK, workers=1, epochs=6, hs=1, negative=5, compute_loss=True)
    reports, completed = run_job(tmp_path, 2, str(zipf_path), params,
                                 averaging=dict(period=0.002, hot_rows=4))
    assert completed.returncode == 0, completed.stderr
    alone = Word2Vec(corpus_file=str(zipf_path), **params)
    assert reports[0]["trained"] == reports[1]["trained"]
    losses = reports[0]["loss_history"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] == pytest.approx(alone.training_loss_history[-1], rel=0.05)


def write_shards(directory, lines, count):
    """Deal `lines` out to `count` files in `directory`, in turn; returns their paths."""
    shards = []
    for index in range(count):
        shard = directory / f"shard{index}.txt"
        shard.write_text("\n".join(lines[index::count]) + "\n")
        shards.append(str(shard))
    return shards


@needs_mpi
def test_a_list_of_files_is_shared_out_and_counted_once(tmp_path, planted_path):
    lines = planted_lines(seed=5)
    shards = write_shards(tmp_path, lines, 3)
    params = dict(QUICK, workers=2)
    reports, completed = run_job(tmp_path, 2, shards, params)
    assert completed.returncode == 0, completed.stderr
    alone = Word2Vec(**params)
    alone.build_vocab(corpus_iterable=[line.split() for line in lines])
    for rank in (0, 1):
        built = reports[rank]["built"]
        assert dict(zip(built["words"], built["counts"])) == dict(
            zip(alone.wv.index_to_key, alone.wv.expandos["count"].tolist()))
        assert (built["corpus_count"], built["total_words"]) == (
            alone.corpus_count, alone.corpus_total_words)
        assert reports[rank]["precision"] >= 0.9


@needs_mpi
def test_a_process_without_data_trains_along_and_only_the_first_reports(tmp_path):
    # Two files shared out whole to three processes: the third has nothing to read, and waits
    # in every round and at every epoch's end for the others. Callbacks and the progress bar
    # run in the first process only.
    shards = write_shards(tmp_path, planted_lines(seed=7), 2)
    params = dict(QUICK, epochs=2, progress=True)
    reports, completed = run_job(tmp_path, 3, shards, params)
    assert completed.returncode == 0, completed.stderr
    assert "process 2 of 3 has no part of the corpus to train on" in completed.stderr
    assert reports[0]["trained"] == reports[1]["trained"] == reports[2]["trained"]
    assert reports[2]["precision"] >= 0.9
    assert [reports[rank]["epochs_called_back"] for rank in range(3)] == [2, 0, 0]
    assert [reports[rank]["progress_asked"] for rank in range(3)] == [[True], [False], [False]]


@needs_mpi
def test_a_killed_process_ends_the_job(tmp_path, planted_path):
    params = dict(QUICK, workers=1, epochs=1000)
    reports, completed = run_job(tmp_path, 3, str(planted_path), params, fault={"1": "kill"})
    assert completed.returncode != 0
    assert not reports


@needs_mpi
def test_ctrl_c_on_the_launcher_ends_every_process(tmp_path, planted_path):
    command = job_command(tmp_path, 2, str(planted_path), dict(QUICK, workers=1, epochs=100_000))
    out, script = tmp_path / "out", tmp_path / "job.py"
    # Every process of the job starts with Ctrl-C's default meaning, whatever pytest's is.
    launcher = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        time.sleep(4.0)  # counting done, training under way
        assert launcher.poll() is None, launcher.communicate()
        launcher.send_signal(signal.SIGINT)
        launcher.communicate(timeout=30)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.communicate()
    assert launcher.returncode != 0
    assert not list(out.iterdir())  # no process got to the end of training
    # ...and none is left running.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _processes_running(script):
        time.sleep(0.2)
    assert not _processes_running(script)


def _processes_running(script):
    """Processes whose command line names `script` (Linux's /proc; none found elsewhere)."""
    running = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        try:
            if entry.name.isdigit() and str(script).encode() in (entry / "cmdline").read_bytes():
                running.append(entry.name)
        except OSError:
            continue
    return running


@needs_mpi
def test_a_failing_process_ends_the_job_with_its_error(tmp_path, planted_path):
    params = dict(QUICK, workers=1, epochs=1000)
    reports, completed = run_job(tmp_path, 2, str(planted_path), params, fault={"1": "raise"})
    assert completed.returncode != 0
    assert "a planted failure in one process" in completed.stderr
    assert "fastw2v: process 1 of 2: failed while training" in completed.stderr
    assert not reports


@needs_mpi
def test_a_hung_process_ends_the_job_at_the_deadline(tmp_path, planted_path):
    params = dict(QUICK, workers=1, epochs=1000)
    reports, completed = run_job(tmp_path, 2, str(planted_path), params, fault={"1": "hang"},
                                 averaging=dict(timeout=2.0))
    assert completed.returncode != 0
    assert "no answer from the other processes for 2 s" in completed.stderr
    assert not reports


@needs_mpi
def test_processes_that_disagree_on_parameters_fail_before_counting(tmp_path, planted_path):
    reports, completed = run_job(tmp_path, 2, str(planted_path), QUICK,
                                 params_by_rank={"1": {"window": 4}})
    assert completed.returncode == 0, completed.stderr
    for rank in (0, 1):
        assert reports[rank]["error"] == (
            "ValueError: the processes disagree on the vocabulary's parameters and corpus: "
            "process 1 has parameters.window=4 where process 0 has 3; start every process "
            "with the same parameters, corpus and model")


@needs_mpi
def test_a_missing_file_is_an_error_in_every_process(tmp_path, planted_path):
    missing = str(tmp_path / "missing.txt")
    reports, completed = run_job(tmp_path, 2, [str(planted_path), missing], QUICK,
                                 corpus_by_rank={"1": [missing, str(planted_path)]})
    assert completed.returncode == 0, completed.stderr
    for rank in (0, 1):
        assert reports[rank]["error"] == (
            f"FileNotFoundError: process 0 of 2: corpus_file {missing!r} does not exist "
            "(process 1 failed too)")


@needs_mpi
def test_an_mpi_without_thread_support_is_refused(tmp_path, planted_path):
    reports, completed = run_job(tmp_path, 2, str(planted_path), QUICK,
                                 env={"MPI4PY_RC_THREAD_LEVEL": "funneled"})
    assert completed.returncode == 0, completed.stderr
    for rank in (0, 1):
        assert "MPI_THREAD_FUNNELED" in reports[rank]["error"]
        assert reports[rank]["error"].startswith("RuntimeError: training across processes")


@needs_mpi
def test_the_command_line_trains_across_processes(tmp_path, planted_path):
    output = tmp_path / "vectors.txt"
    command = [MPIEXEC, "-n", "2", sys.executable, "-m", "fastw2v.cli", "train",
               str(planted_path), "-o", str(output), "--distributed", "--threads", "1",
               "--min-count", "1", "--size", "16", "--iter", "2", "--no-progress"]
    # (-m puts the working directory first on sys.path: not a source checkout.)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=JOB_SECONDS,
                               cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.count("wrote 48 vectors of dimension 16") == 1
    assert completed.stdout.count("vocabulary: 48 words from 30,000") == 1
    assert output.read_text().splitlines()[0] == "48 16"
    missing = subprocess.run(command[:7] + [str(tmp_path / "nope.txt")] + command[8:],
                             capture_output=True, text=True, timeout=JOB_SECONDS, cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.count("no such file") == 2
