"""Each kernel step against a float64 NumPy reference of the same update."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fastw2v import _kernels, _objectives, _sampling
from fastw2v import _vocab as vocab_mod
from fastw2v._config import TrainingConfig

DIM = 8
COUNTS = np.array([40, 25, 17, 11, 8, 6, 4, 3, 2, 1], dtype=np.int64)
VOCAB = len(COUNTS)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# The logistic function the step trains with (word2vec.c's and gensim's): a table of 1000 values
# on [-6, 6) read at int((x + 6) * 83), and no step where |x| >= 6.
_TABLE_X = (np.arange(1000) / np.float32(1000) * 2 - 1) * 6.0
_TABLE = (np.exp(_TABLE_X) / (np.exp(_TABLE_X) + 1)).astype(np.float32)


def logistic_error(labels, scores):
    """label - sigmoid(score) as the step computes it: 0 beyond +-6."""
    scores = np.asarray(scores, dtype=np.float64)
    inside = (scores > -6) & (scores < 6)
    index = np.where(inside, ((scores + 6) * 83).astype(np.int64), 0)
    return np.where(inside, labels - _TABLE[np.clip(index, 0, 999)], 0.0)


def make_trainer(objective, sg, batched=True, cbow_mean=True, negative=3, seed=0,
                 compute_loss=True, window=3, dim=DIM, sgemm=False, workers=1):
    rng = np.random.default_rng(seed)
    syn0 = (rng.random((VOCAB, dim)) - 0.5).astype(np.float32)
    syn1neg = (rng.random((VOCAB, dim)) - 0.5).astype(np.float32)
    syn1 = (rng.random((VOCAB, dim)) - 0.5).astype(np.float32)
    points, codes, offsets = vocab_mod.huffman_paths(COUNTS)
    if sgemm != _kernels.SGEMM_STEP:
        pytest.skip("the sgemm step is compiled in with FASTW2V_SGEMM=1 only" if sgemm else
                    "this build runs the sgemm step")
    config = TrainingConfig(
        sg=sg, batched=batched, cbow_mean=cbow_mean, hs=objective == "hs",
        softmax=objective == "softmax", negative=negative if objective == "ns" else 0,
        window=window, shrink_windows=True, vector_size=dim, workers=workers)
    objective_unit = {
        "ns": lambda: _objectives.NegativeSampling(
            syn1neg, _sampling.build_alias_table(COUNTS ** 0.75), negative),
        "hs": lambda: _objectives.HierarchicalSoftmax(syn1, (points, codes, offsets)),
        "softmax": lambda: _objectives.FullSoftmax(syn1),
    }[objective]()
    trainer = _kernels.Trainer(config, syn0, vocab_mod.keep_thresholds(COUNTS, 0),
                               [objective_unit], compute_loss=compute_loss)
    arrays = {"syn0": syn0, "syn1neg": syn1neg, "syn1": syn1, "points": points,
              "codes": codes, "offsets": offsets}
    return trainer, _kernels.WorkerState(trainer, 1), arrays


def reference_step(arrays, objective, sg, cbow_mean, context, target, alpha, negatives):
    """Float64 update of one prediction, written from the derivations, with the loss."""
    syn0 = arrays["syn0"].astype(np.float64)
    out = (arrays["syn1neg"] if objective == "ns" else arrays["syn1"]).astype(np.float64)
    if sg:
        words, weights = np.unique(context, return_counts=True)
        inputs = syn0[words]
    else:
        hidden = syn0[context].sum(axis=0)
        if cbow_mean:
            hidden /= len(context)
        inputs, weights = hidden[None, :], np.array([1.0])
    grads = np.zeros_like(inputs)
    loss = 0.0
    if objective == "softmax":
        for b in range(len(inputs)):
            scores = out @ inputs[b]
            p = np.exp(scores - scores.max())
            p /= p.sum()
            loss += -weights[b] * np.log(p[target])
            error = p.copy()
            error[target] -= 1.0
            grads[b] = -alpha * weights[b] * (out.T @ error)
            out -= alpha * weights[b] * np.outer(error, inputs[b])
    else:
        if objective == "ns":
            rows = [target] + [n for n in negatives if n != target]
            labels = [1.0] + [0.0] * (len(rows) - 1)
        else:
            start, end = arrays["offsets"][target], arrays["offsets"][target + 1]
            rows = list(arrays["points"][start:end])
            labels = list(1.0 - arrays["codes"][start:end])
        # Merge repeated rows into one output of higher weight.
        merged = {}
        for row, label in zip(rows, labels):
            if row in merged:
                merged[row][1] += 1.0
            else:
                merged[row] = [label, 1.0]
        rows = list(merged)
        labels = np.array([merged[r][0] for r in rows])
        out_weights = np.array([merged[r][1] for r in rows])
        outputs = out[rows]
        scores = outputs @ inputs.T
        g = (logistic_error(labels[:, None], scores) * alpha * out_weights[:, None]
             * weights[None, :])
        signed = np.where(labels[:, None] > 0.5, scores, -scores)
        # -log(sigmoid(signed)), without overflow at large scores.
        loss = float(np.sum(out_weights[:, None] * weights[None, :] * np.logaddexp(0, -signed)))
        grads = g.T @ outputs
        out[rows] = outputs + g @ inputs
    if sg:
        syn0[words] += grads
    else:
        for word in context:
            syn0[word] += grads[0]
    return syn0, out, loss


# (objective, sg, batched, cbow_mean): skip-gram pair by pair and batched, CBOW mean and sum.
CASES = [(objective, sg, batched, cbow_mean)
         for objective in ("ns", "hs", "softmax")
         for sg, batched, cbow_mean in ((True, False, True), (True, True, True),
                                        (False, True, True), (False, True, False))]


# Dimensions that take every path of the dense step: 8 one vector; 37 a block of 32, four lanes
# and one scalar lane; 45 a block of 32, one vector of 8, four lanes and one scalar lane.
# The logistic objectives also run through the sgemm variant of the step.
STEP_CASES = [case + (dim, sgemm) for case in CASES for dim in (8, 37, 45)
              for sgemm in ((False, True) if case[0] != "softmax" else (False,))]


@pytest.mark.parametrize("scale", [0.2, 3.0, 12.0, 60.0])
@pytest.mark.parametrize("objective,sg", [("ns", True), ("ns", False), ("hs", True),
                                          ("hs", False)])
def test_loss_matches_float64_at_every_score(objective, sg, scale):
    # The loss is summed with a vectorised -log(sigmoid): rows scaled up spread the scores from
    # near 0 to far beyond +-6 (where the step is 0 but the loss is not) and to hundreds, where
    # it is all but linear.
    trainer, worker, arrays = make_trainer(objective, sg, dim=45)
    for name in ("syn0", "syn1neg", "syn1"):
        arrays[name] *= scale
    context = [1, 4, 4, 7, 8, 9]
    target, alpha, negatives = 2, 0.05, [5, 2, 5]
    _, _, expected_loss = reference_step(arrays, objective, sg, True, context, target, alpha,
                                         negatives)
    trainer.predict_step(worker, context, target, alpha,
                         negatives=negatives if objective == "ns" else None)
    assert expected_loss > 0
    assert worker.loss == pytest.approx(expected_loss, rel=2e-6)


@pytest.mark.parametrize("objective,sg,batched,cbow_mean,dim,sgemm", STEP_CASES)
def test_step_matches_float64_reference(objective, sg, batched, cbow_mean, dim, sgemm):
    trainer, worker, arrays = make_trainer(objective, sg, batched, cbow_mean, dim=dim,
                                           sgemm=sgemm)
    # A repeated context word, a repeated negative and a negative equal to the target
    # exercise the merging and dropping rules; five distinct context words fill a block of
    # four scores and one more.
    context = [1, 4, 4, 7, 8, 9] if (batched or not sg) else [4]
    target, alpha, negatives = 2, 0.05, [5, 2, 5]
    expected_syn0, expected_out, expected_loss = reference_step(
        arrays, objective, sg, cbow_mean, context, target, alpha, negatives)
    trainer.predict_step(worker, context, target, alpha,
                         negatives=negatives if objective == "ns" else None)
    out = arrays["syn1neg"] if objective == "ns" else arrays["syn1"]
    np.testing.assert_allclose(arrays["syn0"], expected_syn0, atol=1e-5, rtol=0)
    np.testing.assert_allclose(out, expected_out, atol=1e-5, rtol=0)
    assert worker.loss == pytest.approx(expected_loss, rel=1e-5)


def test_worked_sgns_example():
    """The single-step example of the SGNS tutorial the project was designed from."""
    syn0 = np.array([[0.10, 0.30], [0.0, 0.0], [0.0, 0.0]], dtype=np.float32)
    syn1neg = np.array([[0.0, 0.0], [0.20, 0.90], [0.70, 0.10]], dtype=np.float32)
    counts = np.array([3, 2, 1])
    config = TrainingConfig(sg=1, batched=False, negative=1, window=1, shrink_windows=False,
                            vector_size=2)
    trainer = _kernels.Trainer(
        config, syn0, vocab_mod.keep_thresholds(counts, 0),
        [_objectives.NegativeSampling(syn1neg, _sampling.build_alias_table(counts), 1)])
    worker = _kernels.WorkerState(trainer, 0)
    trainer.predict_step(worker, [0], 1, 0.1, negatives=[2])
    # The update with the trainer's logistic table (0.57199 and 0.52498 exactly; the table's
    # cells read about 0.0075 lower).
    g_pos, g_neg = 0.1 * logistic_error(1.0, 0.29), 0.1 * logistic_error(0.0, 0.10)
    v = np.array([0.10, 0.30])
    expected_v = v + g_pos * np.array([0.20, 0.90]) + g_neg * np.array([0.70, 0.10])
    np.testing.assert_allclose(syn0[0], expected_v, atol=1e-6)
    np.testing.assert_allclose(syn1neg[1], [0.20 + g_pos * 0.10, 0.90 + g_pos * 0.30], atol=1e-6)
    np.testing.assert_allclose(syn1neg[2], [0.70 + g_neg * 0.10, 0.10 + g_neg * 0.30], atol=1e-6)
    # The tutorial's printed figures, which round the sigmoids to two decimals (0.57, 0.52).
    np.testing.assert_allclose(syn0[0], [0.0722, 0.3335], atol=6e-4)
    np.testing.assert_allclose(syn1neg[1], [0.2043, 0.9129], atol=6e-4)
    np.testing.assert_allclose(syn1neg[2], [0.6948, 0.0844], atol=6e-4)


def softmax_loss(hidden, out, target):
    scores = out @ hidden
    top = scores.max()
    return -(scores[target] - top - np.log(np.sum(np.exp(scores - top))))


def test_full_softmax_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    hidden = rng.normal(size=DIM)
    out = rng.normal(size=(VOCAB, DIM)) * 0.5
    target = 4
    p = np.exp(out @ hidden - (out @ hidden).max())
    p /= p.sum()
    y = np.zeros(VOCAB)
    y[target] = 1.0
    grad_hidden = out.T @ (p - y)                  # dJ/dv_c = U (y_hat - y)
    grad_out = np.outer(p - y, hidden)             # dJ/du_w = (y_hat_w - y_w) v_c
    eps = 1e-6
    numeric_hidden = np.array([
        (softmax_loss(hidden + eps * e, out, target) - softmax_loss(hidden - eps * e, out, target))
        / (2 * eps) for e in np.eye(DIM)])
    numeric_out = np.zeros_like(out)
    for w in range(VOCAB):
        for k in range(DIM):
            step = np.zeros_like(out)
            step[w, k] = eps
            numeric_out[w, k] = (softmax_loss(hidden, out + step, target)
                                 - softmax_loss(hidden, out - step, target)) / (2 * eps)
    np.testing.assert_allclose(grad_hidden, numeric_hidden, atol=1e-7)
    np.testing.assert_allclose(grad_out, numeric_out, atol=1e-7)

    # The kernel's step is -alpha times that gradient, for both matrices.
    trainer, worker, arrays = make_trainer("softmax", sg=True, batched=False)
    arrays["syn0"][1] = hidden
    arrays["syn1"][:] = out
    syn0_before = arrays["syn0"].astype(np.float64)
    syn1_before = arrays["syn1"].astype(np.float64)
    h = syn0_before[1]
    p = np.exp(syn1_before @ h - (syn1_before @ h).max())
    p /= p.sum()
    alpha = 0.01
    trainer.predict_step(worker, [1], target, alpha)
    np.testing.assert_allclose(arrays["syn0"][1], h - alpha * syn1_before.T @ (p - y), atol=1e-5)
    np.testing.assert_allclose(arrays["syn1"], syn1_before - alpha * np.outer(p - y, h),
                               atol=1e-5)
    assert worker.loss == pytest.approx(softmax_loss(h, syn1_before, target), rel=1e-5)


def test_sigmoid_saturation_keeps_updates_finite():
    trainer, worker, arrays = make_trainer("ns", sg=True, batched=False)
    arrays["syn0"][:] = 50.0
    arrays["syn1neg"][:] = 50.0
    trainer.predict_step(worker, [3], 2, 1.0, negatives=[5, 6, 7])
    assert np.all(np.isfinite(arrays["syn0"])) and np.all(np.isfinite(arrays["syn1neg"]))
    assert np.isfinite(worker.loss)


def test_train_batch_counts_every_raw_word_and_rejects_bad_ids():
    trainer, worker, _ = make_trainer("ns", sg=True)
    trainer.set_schedule(0.025, 0.0001, 1000)
    ids = np.array([0, 1, 2, 3, 4, 5], dtype=np.int32)
    ends = np.array([2, 2, 6], dtype=np.int64)
    raw = np.array([3, 1, 4], dtype=np.int64)
    assert trainer.train_batch(worker, ids, ends, raw) == 3
    assert trainer.words_done == 8
    assert worker.words_trained == 6
    with pytest.raises(ValueError, match="out of range"):
        trainer.train_batch(worker, np.array([0, VOCAB], dtype=np.int32),
                            np.array([2], dtype=np.int64), np.array([2], dtype=np.int64))
    with pytest.raises(ValueError, match="end at len"):
        trainer.train_batch(worker, ids, np.array([3], dtype=np.int64),
                            np.array([3], dtype=np.int64))


@pytest.mark.parametrize("sg", [True, False])
def test_private_hot_rows_lose_no_update(sg, monkeypatch):
    """With several workers each steps its own copy of hierarchical softmax's top rows and
    merges it back within a job and at its end: one worker at a time must train exactly what
    the shared rows alone train, across merges and jobs."""
    # Four hot rows of nine inner nodes: every path has rows on both sides of the boundary.
    monkeypatch.setattr(_objectives, "HOT_NODES", 4)
    rng = np.random.default_rng(5)
    ids = rng.choice(VOCAB, size=20_000, p=COUNTS / COUNTS.sum()).astype(np.int32)
    ends = np.arange(50, len(ids) + 1, 50, dtype=np.int64)
    results = []
    for workers in (1, 2):
        trainer, worker, arrays = make_trainer("hs", sg=sg, workers=workers)
        trainer.set_schedule(0.025, 0.0001, 2 * len(ids))
        for _ in range(2):  # two jobs, each with merges inside (hot_merge_words apart)
            trainer.train_batch(worker, ids, ends, np.diff(ends, prepend=0))
        results.append((arrays["syn0"].copy(), arrays["syn1"].copy(), worker.loss))
    (syn0_one, syn1_one, loss_one), (syn0_two, syn1_two, loss_two) = results
    untrained = make_trainer("hs", sg=sg)[2]["syn1"]
    assert not np.array_equal(syn1_one[:5], untrained[:5])  # cold nodes 0-4 trained
    assert not np.array_equal(syn1_one[5:], untrained[5:])  # and hot nodes 5-8
    np.testing.assert_array_equal(syn0_two, syn0_one)
    np.testing.assert_array_equal(syn1_two, syn1_one)
    assert loss_two == loss_one


def test_learning_rate_decays_linearly_with_words_done():
    trainer, worker, _ = make_trainer("ns", sg=True)
    trainer.set_schedule(0.1, 0.0, 1000)
    assert trainer.alpha == pytest.approx(0.1)
    ids = np.zeros(250, dtype=np.int32)
    trainer.train_batch(worker, ids, np.array([250], dtype=np.int64),
                        np.array([250], dtype=np.int64))
    assert trainer.alpha == pytest.approx(0.075, rel=1e-6)
    trainer.set_schedule(0.1, 0.0, 1000, words_done=2000)
    assert trainer.alpha == pytest.approx(0.0)


def test_stop_request_ends_a_batch_early():
    trainer, worker, _ = make_trainer("ns", sg=True)
    trainer.set_schedule(0.025, 0.0001, 1000)
    trainer.request_stop()
    ids = np.zeros(10, dtype=np.int32)
    assert trainer.train_batch(worker, ids, np.array([5, 10], dtype=np.int64),
                               np.array([5, 5], dtype=np.int64)) == 0
    assert trainer.words_done == 0


@pytest.mark.parametrize("objective,sg,batched,cbow_mean", CASES)
def test_lock_factors_scale_each_input_rows_step(objective, sg, batched, cbow_mean):
    # gensim's vectors_lockf: a word's input row moves by its factor times the unlocked step.
    trainer, worker, arrays = make_trainer(objective, sg, batched, cbow_mean)
    context = [1, 4, 4, 7, 8, 9] if (batched or not sg) else [4]
    target, alpha, negatives = 2, 0.05, [5, 2, 5]
    before = arrays["syn0"].astype(np.float64)
    expected_syn0, expected_out, _ = reference_step(arrays, objective, sg, cbow_mean, context,
                                                    target, alpha, negatives)
    lockf = np.ones(VOCAB, dtype=np.float32)
    lockf[[1, 7]] = 0.0
    lockf[4] = 0.5
    config = TrainingConfig(sg=sg, batched=batched, cbow_mean=cbow_mean, hs=objective == "hs",
                            softmax=objective == "softmax",
                            negative=3 if objective == "ns" else 0, window=3, vector_size=DIM)
    locked = _kernels.Trainer(config, arrays["syn0"], vocab_mod.keep_thresholds(COUNTS, 0),
                              [trainer_objective(objective, arrays)], compute_loss=True,
                              lockf=lockf)
    locked.predict_step(_kernels.WorkerState(locked, 1), context, target, alpha,
                        negatives=negatives if objective == "ns" else None)
    expected = before + lockf[:, None].astype(np.float64) * (expected_syn0 - before)
    np.testing.assert_allclose(arrays["syn0"], expected, atol=1e-5, rtol=0)
    out = arrays["syn1neg"] if objective == "ns" else arrays["syn1"]
    np.testing.assert_allclose(out, expected_out, atol=1e-5, rtol=0)  # outputs never locked


def trainer_objective(objective, arrays):
    if objective == "ns":
        return _objectives.NegativeSampling(
            arrays["syn1neg"], _sampling.build_alias_table(COUNTS ** 0.75), 3)
    if objective == "hs":
        return _objectives.HierarchicalSoftmax(
            arrays["syn1"], (arrays["points"], arrays["codes"], arrays["offsets"]))
    return _objectives.FullSoftmax(arrays["syn1"])


def test_lock_factors_are_checked():
    trainer, worker, arrays = make_trainer("ns", sg=True)
    config = TrainingConfig(sg=1, negative=3, vector_size=DIM)
    keep = vocab_mod.keep_thresholds(COUNTS, 0)
    for bad in (np.ones(VOCAB - 1), np.ones((VOCAB, 1)), np.full(VOCAB, np.nan)):
        with pytest.raises(ValueError, match="vectors_lockf"):
            _kernels.Trainer(config, arrays["syn0"], keep, [trainer_objective("ns", arrays)],
                             lockf=bad)


@pytest.mark.skipif(_kernels.SGEMM_STEP, reason="the sgemm build binds BLAS when imported")
def test_blas_is_bound_only_when_the_exact_softmax_trains(tmp_path):
    """Importing scipy.linalg costs a quarter of a second of every start-up; only the exact
    softmax needs BLAS, and binds it when it builds its table."""
    code = textwrap.dedent("""
        import sys
        import numpy as np
        from fastw2v import Word2Vec
        sentences = [["a", "b", "c", "d"]] * 40
        Word2Vec(sentences, vector_size=8, min_count=1, epochs=1, workers=1, hs=1, negative=0)
        before = "scipy.linalg" in sys.modules
        model = Word2Vec(sentences, vector_size=8, min_count=1, epochs=2, workers=1,
                         negative=0, softmax=True, seed=1)
        print(before, "scipy.linalg" in sys.modules, bool(np.isfinite(model.wv.vectors).all()))
    """)
    # Away from a source checkout, whose fastw2v/ has no compiled modules.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True, cwd=tmp_path)
    assert result.stdout.split() == ["False", "True", "True"]
