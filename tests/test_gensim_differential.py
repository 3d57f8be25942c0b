"""fastw2v against gensim 4 and word2vec.c, step for step.

With the randomness taken out (no subsampling, full windows, one worker, the same vocabulary, the
same Huffman tree and the same initial weights in both models), one ``train()`` call of fastw2v and
one of gensim must leave the same weights. Negative sampling draws noise words; gensim's draws are
reproduced here from its generator (a 48-bit LCG seeded from ``model.random``, looked up in its
cumulative table) and handed to fastw2v's kernel one prediction at a time, so that the two update
rules are compared on the same noise words. A float64 re-implementation of the reference loops
(written from gensim's ``word2vec_inner.pyx`` and word2vec.c's ``TrainModelThread``) pins the
behaviours where gensim and word2vec.c disagree with each other, and the one where fastw2v differs
from both on purpose (repeated noise words merged into one weighted row).

Tolerance: the weights are O(1) float32 values and each takes a few dozen float32 operations in a
call (dot products of 8 terms, a table lookup, multiply-adds), each rounding by at most 2**-24
relative; fastw2v sums its dot products in vector lanes, gensim in BLAS (in double), so the two
agree to a few times 1e-7. ``atol=2e-6`` (``rtol=0``) leaves a margin of about ten and stays far
below every behavioural difference found here: an exact sigmoid instead of the reference table
moves these weights by 1e-3 to 1e-2 in one call, and merging a repeated noise word (a second-order
effect) by more than 1e-4 in one step.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

gensim_word2vec = pytest.importorskip("gensim.models.word2vec")

from fastw2v import Word2Vec, _kernels, _objectives, _sampling  # noqa: E402
from fastw2v import _vocab as vocab_mod  # noqa: E402
from fastw2v._config import TrainingConfig  # noqa: E402

ATOL = 2e-6
DIM = 8
WINDOW = 3
ALPHA = 0.05

# word2vec.c's and gensim's logistic table: 1000 values of the sigmoid on [-6, 6), read at index
# int((x + 6) * (1000 / 6 / 2)) where the factor is C integer division, 83.
MAX_EXP = 6.0
TABLE_SIZE = 1000
_TABLE_X = (np.arange(TABLE_SIZE) / np.float32(TABLE_SIZE) * 2 - 1) * MAX_EXP
_TABLE = (np.exp(_TABLE_X) / (np.exp(_TABLE_X) + 1)).astype(np.float32)
_TABLE_SCALE = TABLE_SIZE // int(MAX_EXP) // 2


def table_sigmoid(score: float) -> float:
    return float(_TABLE[int((score + MAX_EXP) * _TABLE_SCALE)])


def _sentences(seed: int = 0) -> list[list[str]]:
    """Seventy-eight tokens over twelve words seen 1..12 times: no two words share a count, so
    both libraries sort the vocabulary the same way."""
    rng = np.random.default_rng(seed)
    tokens = [f"w{i}" for i in range(12) for _ in range(i + 1)]
    rng.shuffle(tokens)
    cuts = [0, 9, 20, 34, 50, 63, 78]
    return [tokens[a:b] for a, b in zip(cuts, cuts[1:])]


SENTENCES = _sentences()


def _params(**overrides) -> dict:
    params = dict(vector_size=DIM, window=WINDOW, min_count=1, sample=0, hs=1, negative=0,
                  workers=1, shrink_windows=False, alpha=ALPHA, min_alpha=ALPHA, seed=1,
                  epochs=1, sg=0, cbow_mean=1)
    params.update(overrides)
    return params


def _fastw2v_tree(model: Word2Vec) -> list[tuple[np.ndarray, np.ndarray]]:
    points, codes, offsets = vocab_mod.huffman_paths(model.wv.expandos["count"])
    return [(points[offsets[w]:offsets[w + 1]], codes[offsets[w]:offsets[w + 1]])
            for w in range(len(model.wv))]


def _gensim_tree(model) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(model.wv.get_vecattr(w, "point")),
             np.asarray(model.wv.get_vecattr(w, "code"))) for w in range(len(model.wv))]


def _same_tree(a, b) -> bool:
    return all(np.array_equal(pa, pb) and np.array_equal(ca, cb)
               for (pa, ca), (pb, cb) in zip(a, b))


def _initial_weights(shape: tuple, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    # Larger than either library's initialisation, so that every update is far above rounding.
    rng = np.random.default_rng(seed)
    return ((rng.random(shape, dtype=np.float32) - 0.5),
            (rng.random(shape, dtype=np.float32) - 0.5))


def _pair(sentences=SENTENCES, batched: bool = False, **overrides):
    """A fastw2v and a gensim model over the same vocabulary, tree and initial weights."""
    params = _params(**overrides)
    ours = Word2Vec(**params, batched=batched)
    theirs = gensim_word2vec.Word2Vec(**params)
    ours.build_vocab(sentences)
    theirs.build_vocab(sentences)
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    if params["hs"]:
        tree = _fastw2v_tree(ours)
        if not _same_tree(tree, _gensim_tree(theirs)):
            # The trees differ only in how ties between equal counts break (see
            # test_huffman_trees_tie_break_differently): hand gensim fastw2v's.
            for word, (points, codes) in enumerate(tree):
                theirs.wv.set_vecattr(word, "point", points.astype(np.uint32))
                theirs.wv.set_vecattr(word, "code", codes.astype(np.uint8))
    syn0, out = _initial_weights(ours.wv.vectors.shape)
    np.copyto(ours.wv.vectors, syn0)
    np.copyto(theirs.wv.vectors, syn0)
    if params["hs"]:
        np.copyto(ours.syn1, out)
        np.copyto(theirs.syn1, out)
    if params["negative"]:
        np.copyto(ours.syn1neg, out)
        np.copyto(theirs.syn1neg, out)
    return ours, theirs


def _train_both(ours, theirs, sentences=SENTENCES) -> None:
    ours.train(sentences, total_examples=len(sentences), epochs=1)
    theirs.train(sentences, total_examples=len(sentences), epochs=1)


def _ids(model, sentences) -> list[list[int]]:
    return [[model.wv.key_to_index[w] for w in s] for s in sentences]


# ------------------------------------------------------------------- float64 reference loops

class Reference:
    """The reference loops in float64, one prediction at a time.

    Each output row is scored, its gradient added to the input's error and the row updated before
    the next output is scored (word2vec.c and gensim alike). `ns_edge` is what a noise or target
    row scoring beyond +-6 gets: ``"skip"`` (gensim: no update) or ``"clamp"`` (word2vec.c: the
    gradient of a saturated sigmoid, 0 or 1); hierarchical softmax skips such a node in both.
    `divide_sum` is gensim's ``cbow_mean=0`` rule: the error is divided by the number of context
    words before it is added to each of them.
    """

    def __init__(self, syn0, out, alpha=ALPHA, ns_edge="skip", divide_sum=True):
        self.syn0 = np.array(syn0, dtype=np.float64)
        self.out = np.array(out, dtype=np.float64)
        self.alpha = alpha
        self.ns_edge = ns_edge
        self.divide_sum = divide_sum

    def _outputs(self, hidden, rows, labels, hs):
        error = np.zeros_like(hidden)
        for row, label in zip(rows, labels):
            score = float(hidden @ self.out[row])
            if score <= -MAX_EXP or score >= MAX_EXP:
                if hs or self.ns_edge == "skip":
                    continue
                g = (label - (1.0 if score > 0 else 0.0)) * self.alpha
            else:
                g = (label - table_sigmoid(score)) * self.alpha
            error += g * self.out[row]
            self.out[row] += g * hidden
        return error

    def cbow(self, context, rows, labels, cbow_mean, hs):
        hidden = self.syn0[context].sum(axis=0)
        if cbow_mean:
            hidden /= len(context)
        error = self._outputs(hidden, rows, labels, hs)
        if not cbow_mean and self.divide_sum:
            error /= len(context)
        for word in context:
            self.syn0[word] += error

    def skipgram(self, word, rows, labels, hs):
        error = self._outputs(self.syn0[word].copy(), rows, labels, hs)
        self.syn0[word] += error


def _windows(sentence: list[int]):
    """(centre, context positions) of every window, full width, within the sentence."""
    for i in range(len(sentence)):
        yield i, [j for j in range(max(0, i - WINDOW), min(len(sentence), i + WINDOW + 1))
                  if j != i]


def _hs_outputs(tree, word):
    points, codes = tree[word]
    return list(points), list(1.0 - codes.astype(np.float64))


def reference_train_hs(ref: Reference, tree, ids, sg: bool, cbow_mean: bool) -> None:
    for sentence in ids:
        for i, context in _windows(sentence):
            rows, labels = _hs_outputs(tree, sentence[i])
            if sg:
                for j in context:
                    ref.skipgram(sentence[j], rows, labels, hs=True)
            elif context:
                ref.cbow([sentence[j] for j in context], rows, labels, cbow_mean, hs=True)


# ------------------------------------------------------------------------ vocabulary and tree

def test_vocabulary_order_and_counts_match():
    ours, theirs = _pair()
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    np.testing.assert_array_equal(ours.wv.expandos["count"], theirs.wv.expandos["count"])


@pytest.mark.parametrize("route", ["corpus_iterable", "corpus_file"])
def test_vocabulary_order_breaks_ties_as_gensim(route, tmp_path):
    """Words of equal count come in the reverse of their first-seen order, as in gensim: the order
    decides which words a cut by rank keeps, such as the 30,000 most frequent words an analogy
    evaluation is restricted to."""
    sentences = [["c", "a", "b", "a", "d", "b", "e"], ["f", "c", "d", "e", "g"]]
    path = tmp_path / "corpus.txt"
    path.write_text("".join(" ".join(s) + "\n" for s in sentences))
    corpus = {"corpus_iterable": sentences} if route == "corpus_iterable" else {
        "corpus_file": str(path)}
    ours, theirs = Word2Vec(**_params()), gensim_word2vec.Word2Vec(**_params())
    ours.build_vocab(**corpus)
    theirs.build_vocab(**corpus)
    assert theirs.wv.index_to_key == ["e", "d", "b", "a", "c", "g", "f"]
    assert ours.wv.index_to_key == theirs.wv.index_to_key


def test_huffman_trees_tie_break_differently():
    """Both build an optimal tree, but gensim's heap compares counts only, so equal counts leave
    their order to the heap; fastw2v breaks ties on node index. Paths of the same lengths through
    the same inner nodes result, with some branch bits swapped where counts tie."""
    ours = Word2Vec(**_params())
    theirs = gensim_word2vec.Word2Vec(**_params())
    ours.build_vocab(SENTENCES)
    theirs.build_vocab(SENTENCES)
    counts = ours.wv.expandos["count"]
    mine, gensims = _fastw2v_tree(ours), _gensim_tree(theirs)
    assert [len(c) for _, c in mine] == [len(c) for _, c in gensims]
    assert all(np.array_equal(p, q) for (p, _), (q, _) in zip(mine, gensims))
    weighted = [sum(int(n) * len(c) for n, (_, c) in zip(counts, t)) for t in (mine, gensims)]
    assert weighted[0] == weighted[1]
    assert not _same_tree(mine, gensims)


def test_initial_vectors_have_gensims_range():
    """gensim 4 starts every vector uniform on [-1/dim, 1/dim), twice word2vec.c's range."""
    for cls in (gensim_word2vec.Word2Vec, Word2Vec):
        model = cls(**_params(vector_size=50))
        model.build_vocab(SENTENCES)
        scaled = np.abs(model.wv.vectors) * 50
        assert 0.95 < scaled.max() < 1.0 and 0.45 < scaled.mean() < 0.55, cls.__module__


# --------------------------------------------------------------------- hierarchical softmax

HS_CASES = {
    "cbow-mean": dict(sg=0, cbow_mean=1),
    "cbow-sum": dict(sg=0, cbow_mean=0),
    "skip-gram": dict(sg=1),
}


@pytest.mark.parametrize("case", sorted(HS_CASES))
def test_reference_loop_reproduces_gensim_hs(case):
    """The float64 loop is a faithful reading of gensim's: checked against gensim itself."""
    params = HS_CASES[case]
    ours, theirs = _pair(**params)
    ref = Reference(theirs.wv.vectors, theirs.syn1)
    tree = _gensim_tree(theirs)
    theirs.train(SENTENCES, total_examples=len(SENTENCES), epochs=1)
    reference_train_hs(ref, tree, _ids(theirs, SENTENCES), sg=bool(params["sg"]),
                       cbow_mean=bool(params.get("cbow_mean", 1)))
    np.testing.assert_allclose(theirs.wv.vectors, ref.syn0, rtol=0, atol=ATOL)
    np.testing.assert_allclose(theirs.syn1, ref.out, rtol=0, atol=ATOL)


@pytest.mark.parametrize("case", ["cbow-mean", "skip-gram", "cbow-mean-min-count-3"])
def test_hs_train_matches_gensim(case):
    """One train() call of each, batched=False: the same syn0 and syn1 to float32 rounding.

    This runs fastw2v's own sentence loop, so it also shows that a window holds the same words:
    with min_count=3 the two rarest words leave the vocabulary, both libraries drop them before
    the windows are cut, and the windows close up over the gap."""
    params = HS_CASES[case.replace("-min-count-3", "")]
    ours, theirs = _pair(**params, min_count=3 if "min-count" in case else 1)
    _train_both(ours, theirs)
    np.testing.assert_allclose(ours.wv.vectors, theirs.wv.vectors, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours.syn1, theirs.syn1, rtol=0, atol=ATOL)


# ------------------------------------------------------------------------- negative sampling

NEGATIVE = 2


def _gensim_noise(model):
    """The noise words gensim's next train() job draws, in order.

    Its kernel seeds a 48-bit LCG from two draws of ``model.random`` when a job starts, and takes
    each noise word as the insertion point of ``(state >> 16) % cum_table[-1]`` in its cumulative
    table, before stepping the LCG. A copy of ``model.random`` gives the same sequence.
    """
    state = copy.deepcopy(model.random)
    lcg = (2**24) * int(state.randint(0, 2**24)) + int(state.randint(0, 2**24))
    table = np.asarray(model.cum_table)
    while True:
        yield int(np.searchsorted(table, (lcg >> 16) % int(table[-1]), side="left"))
        lcg = (lcg * 25214903917 + 11) & (2**48 - 1)


def _ns_predictions(ids, sg: bool):
    """(context words, target) of each prediction, in gensim's order (and word2vec.c's)."""
    for sentence in ids:
        for i, context in _windows(sentence):
            if sg:
                for j in context:
                    yield [sentence[j]], sentence[i]
            else:
                # gensim draws noise words for an empty CBOW context too (and changes nothing).
                yield [sentence[j] for j in context], sentence[i]


def _ns_trainer(syn0, syn1neg, counts, sg: bool, cbow_mean: bool, negative: int = NEGATIVE):
    """A fastw2v kernel over the given (shared, updated in place) arrays."""
    config = TrainingConfig(sg=sg, batched=False, cbow_mean=cbow_mean, negative=negative,
                            window=WINDOW, shrink_windows=False, vector_size=syn0.shape[1])
    trainer = _kernels.Trainer(config, syn0, vocab_mod.keep_thresholds(counts, 0), [
        _objectives.NegativeSampling(syn1neg, _sampling.build_alias_table(counts ** 0.75),
                                     negative)])
    return trainer, _kernels.WorkerState(trainer, 1)


def _ns_pair(sentences, sg: bool, cbow_mean: bool = True, max_seed: int = 20000):
    """A gensim model (with a generator seed whose draws repeat no noise word within a
    prediction and hit the target at least once) and fastw2v's kernel over copies of its weights.

    Returns (gensim model, trainer, worker, fastw2v syn0, fastw2v syn1neg, noise words by
    prediction)."""
    params = _params(hs=0, negative=NEGATIVE, sg=int(sg), cbow_mean=int(cbow_mean))
    theirs = gensim_word2vec.Word2Vec(**params)
    theirs.build_vocab(sentences)
    ids = _ids(theirs, sentences)
    predictions = list(_ns_predictions(ids, sg))
    for seed in range(max_seed):
        theirs.random = np.random.RandomState(seed)
        noise = _gensim_noise(theirs)
        draws = [[next(noise) for _ in range(NEGATIVE)] for _ in predictions]
        # Repeated noise words are the one case where fastw2v's update differs from gensim's on
        # purpose (test_repeated_noise_words_are_merged), so this comparison avoids them.
        repeats = any(len(set(d) - {t}) < len([n for n in d if n != t])
                      for d, (_, t) in zip(draws, predictions))
        hits_target = any(t in d for d, (_, t) in zip(draws, predictions))
        if not repeats and hits_target:
            break
    else:
        pytest.fail("no generator seed gives draws without repeats")
    theirs.random = np.random.RandomState(seed)
    syn0, out = _initial_weights(theirs.wv.vectors.shape)
    np.copyto(theirs.wv.vectors, syn0)
    np.copyto(theirs.syn1neg, out)
    ours0, ours1 = syn0.copy(), out.copy()
    trainer, worker = _ns_trainer(ours0, ours1, theirs.wv.expandos["count"].astype(np.float64),
                                  sg, cbow_mean)
    return theirs, trainer, worker, ours0, ours1, list(zip(predictions, draws))


@pytest.mark.parametrize("sg", [False, True], ids=["cbow-mean", "skip-gram"])
def test_ns_train_matches_gensim_on_its_noise_words(sg):
    """gensim's train() against fastw2v's kernel fed gensim's own noise words, prediction by
    prediction, a noise word equal to the target included (both drop it)."""
    sentences = SENTENCES[:1] if sg else SENTENCES[:3]
    theirs, trainer, worker, syn0, syn1neg, steps = _ns_pair(sentences, sg)
    for (context, target), negatives in steps:
        if context:
            trainer.predict_step(worker, context, target, ALPHA, negatives=negatives)
    theirs.train(sentences, total_examples=len(sentences), epochs=1)
    np.testing.assert_allclose(syn0, theirs.wv.vectors, rtol=0, atol=ATOL)
    np.testing.assert_allclose(syn1neg, theirs.syn1neg, rtol=0, atol=ATOL)


@pytest.mark.parametrize("sg", [False, True], ids=["cbow-mean", "skip-gram"])
def test_reference_loop_reproduces_gensim_ns(sg):
    sentences = SENTENCES[:1] if sg else SENTENCES[:3]
    theirs, _, _, _, _, steps = _ns_pair(sentences, sg)
    ref = Reference(theirs.wv.vectors, theirs.syn1neg)
    for (context, target), negatives in steps:
        rows = [target] + [n for n in negatives if n != target]
        labels = [1.0] + [0.0] * (len(rows) - 1)
        if sg:
            ref.skipgram(context[0], rows, labels, hs=False)
        elif context:
            ref.cbow(context, rows, labels, cbow_mean=True, hs=False)
    theirs.train(sentences, total_examples=len(sentences), epochs=1)
    np.testing.assert_allclose(theirs.wv.vectors, ref.syn0, rtol=0, atol=ATOL)
    np.testing.assert_allclose(theirs.syn1neg, ref.out, rtol=0, atol=ATOL)


def test_first_sentence_trains_at_start_alpha():
    """With a decaying rate, both train the first sentence (gensim: its first job) at alpha."""
    ours, theirs = _pair(min_alpha=0.0001)
    _train_both(ours, theirs, SENTENCES[:1])
    np.testing.assert_allclose(ours.wv.vectors, theirs.wv.vectors, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours.syn1, theirs.syn1, rtol=0, atol=ATOL)


# ------------------------------------------------- single steps: edges, repeats, the sum mode

STEP_COUNTS = np.array([9, 7, 5, 4, 3, 2], dtype=np.float64)


def _step_arrays(seed: int = 3):
    rng = np.random.default_rng(seed)
    shape = (len(STEP_COUNTS), DIM)
    return ((rng.random(shape) - 0.5).astype(np.float32),
            (rng.random(shape) - 0.5).astype(np.float32))


def _hs_step_trainer(syn0, syn1, sg: bool, cbow_mean: bool = True):
    points, codes, offsets = vocab_mod.huffman_paths(STEP_COUNTS)
    config = TrainingConfig(sg=sg, batched=False, cbow_mean=cbow_mean, hs=1, negative=0,
                            window=WINDOW, shrink_windows=False, vector_size=syn0.shape[1])
    trainer = _kernels.Trainer(config, syn0, vocab_mod.keep_thresholds(STEP_COUNTS, 0), [
        _objectives.HierarchicalSoftmax(syn1, (points, codes, offsets))])
    tree = [(points[offsets[w]:offsets[w + 1]], codes[offsets[w]:offsets[w + 1]])
            for w in range(len(STEP_COUNTS))]
    return trainer, _kernels.WorkerState(trainer, 1), tree


def _saturate(syn0, out, context, rows, scores):
    """Scale output rows so that the (mean) context scores `scores` against them exactly."""
    hidden = syn0[context].astype(np.float64).mean(axis=0)
    for row, score in zip(rows, scores):
        out[row] = (out[row] * (score / float(hidden @ out[row]))).astype(np.float32)


@pytest.mark.parametrize("sg", [False, True], ids=["cbow-mean", "skip-gram"])
def test_ns_scores_beyond_six_are_skipped_as_gensim_does(sg):
    """A target scoring -7 and a noise word scoring +7: gensim updates neither (word2vec.c would
    apply the saturated gradient, alpha, to both); in between, its table."""
    syn0, syn1neg = _step_arrays()
    context, target, negatives = ([1] if sg else [1, 2, 4]), 0, [3, 5]
    _saturate(syn0, syn1neg, context, [0, 3, 5], [-7.0, 7.0, 0.3])
    ref = Reference(syn0, syn1neg, ns_edge="skip")
    clamp = Reference(syn0, syn1neg, ns_edge="clamp")
    for r in (ref, clamp):
        r.skipgram(1, [0, 3, 5], [1.0, 0.0, 0.0], hs=False) if sg else r.cbow(
            context, [0, 3, 5], [1.0, 0.0, 0.0], cbow_mean=True, hs=False)
    trainer, worker = _ns_trainer(syn0, syn1neg, STEP_COUNTS, sg, True)
    trainer.predict_step(worker, context, target, ALPHA, negatives=negatives)
    np.testing.assert_allclose(syn0, ref.syn0, rtol=0, atol=ATOL)
    np.testing.assert_allclose(syn1neg, ref.out, rtol=0, atol=ATOL)
    assert np.abs(clamp.out[0] - ref.out[0]).max() > 1e-2  # word2vec.c's rule is another one


def test_hs_nodes_beyond_six_are_skipped():
    """gensim and word2vec.c agree here: a Huffman node scoring beyond +-6 takes no step."""
    syn0, syn1 = _step_arrays()
    trainer, worker, tree = _hs_step_trainer(syn0, syn1, sg=False)
    context, target = [1, 2, 4], 5
    points, _ = tree[target]
    assert len(points) >= 3
    _saturate(syn0, syn1, context, points[:3], [6.5, -8.0, 0.4])
    ref = Reference(syn0, syn1)
    rows, labels = _hs_outputs(tree, target)
    ref.cbow(context, rows, labels, cbow_mean=True, hs=True)
    trainer.predict_step(worker, context, target, ALPHA)
    np.testing.assert_allclose(syn0, ref.syn0, rtol=0, atol=ATOL)
    np.testing.assert_allclose(syn1, ref.out, rtol=0, atol=ATOL)
    np.testing.assert_array_equal(syn1[points[:2]], ref.out[points[:2]].astype(np.float32))


def _merged_step(syn0, out, context, target, negatives, alpha):
    """fastw2v's rule for repeated noise words: one row of weight k, every score taken from the
    rows before the step."""
    syn0, out = syn0.astype(np.float64), out.astype(np.float64)
    hidden = syn0[context].mean(axis=0)
    rows = {target: [1.0, 1.0]}
    for n in negatives:
        if n != target:
            rows.setdefault(n, [0.0, 0.0])[1] += 1.0
    error = np.zeros(DIM)
    steps = {}
    for row, (label, weight) in rows.items():
        g = weight * (label - table_sigmoid(float(hidden @ out[row]))) * alpha
        error += g * out[row]
        steps[row] = g * hidden
    for row, step in steps.items():
        out[row] += step
    for word in context:
        syn0[word] += error
    return syn0, out


def test_repeated_noise_words_are_merged():
    """word2vec.c and gensim apply a noise word drawn twice twice in a row, the second time from
    the row the first one updated; fastw2v applies it once with weight 2, from the row as it was
    (so that the dense step reads each row once). The two agree to first order in alpha: their
    difference shrinks four-fold when alpha halves."""
    context, target, negatives = [1, 2, 4], 0, [3, 3, 5]
    differences = []
    for alpha in (0.4, 0.2):
        syn0, syn1neg = _step_arrays()
        merged = _merged_step(syn0, syn1neg, context, target, negatives, alpha)
        sequential = Reference(syn0, syn1neg, alpha=alpha)
        sequential.cbow(context, [0, 3, 3, 5], [1.0, 0.0, 0.0, 0.0], cbow_mean=True, hs=False)
        trainer, worker = _ns_trainer(syn0, syn1neg, STEP_COUNTS, False, True, negative=3)
        trainer.predict_step(worker, context, target, alpha, negatives=negatives)
        np.testing.assert_allclose(syn0, merged[0], rtol=0, atol=ATOL)
        np.testing.assert_allclose(syn1neg, merged[1], rtol=0, atol=ATOL)
        differences.append(max(np.abs(syn0 - sequential.syn0).max(),
                               np.abs(syn1neg - sequential.out).max()))
    assert differences[1] > 1e-4
    assert 3.0 < differences[0] / differences[1] < 5.0


def test_cbow_sum_error_is_not_divided_by_the_window():
    """cbow_mean=0: gensim divides the error by the number of context words before adding it to
    each of them; fastw2v adds the whole error, the gradient of the summed input (word2vec.c
    has no sum mode). Each library against its own rule, to float32 rounding."""
    ours, theirs = _pair(**HS_CASES["cbow-sum"])
    tree, ids = _fastw2v_tree(ours), _ids(ours, SENTENCES)
    fastw2v_rule = Reference(ours.wv.vectors, ours.syn1, divide_sum=False)
    gensim_rule = Reference(ours.wv.vectors, ours.syn1, divide_sum=True)
    for ref in (fastw2v_rule, gensim_rule):
        reference_train_hs(ref, tree, ids, sg=False, cbow_mean=False)
    _train_both(ours, theirs)
    np.testing.assert_allclose(theirs.wv.vectors, gensim_rule.syn0, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours.wv.vectors, fastw2v_rule.syn0, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours.syn1, fastw2v_rule.out, rtol=0, atol=ATOL)


def test_batched_skipgram_differs_from_gensim_at_second_order():
    """batched=True (hierarchical softmax): a window's context rows share the centre word's path
    and are scored against it as it was when the window began, where gensim updates the path
    after each pair. First-order identical: the difference shrinks about four-fold when alpha
    halves (two-fold would be a first-order difference). With negative sampling the window also
    shares one draw of noise words, which no other implementation does."""
    differences = []
    for alpha in (0.1, 0.05):
        ours, theirs = _pair(batched=True, sg=1, alpha=alpha, min_alpha=alpha)
        _train_both(ours, theirs)
        differences.append(np.abs(ours.wv.vectors - theirs.wv.vectors).max())
    assert differences[1] > 1e-4
    assert 3.0 < differences[0] / differences[1] < 5.5


# ------------------------------------------------------------------------------ subsampling

def test_keep_probabilities_match_gensim():
    """Thresholds from the retained words' total (min_count=3 drops some), as gensim does."""
    sentences = _sentences() * 40
    ours = Word2Vec(**_params(sample=1e-2, min_count=3))
    theirs = gensim_word2vec.Word2Vec(**_params(sample=1e-2, min_count=3))
    ours.build_vocab(sentences)
    theirs.build_vocab(sentences)
    mine = vocab_mod.keep_probability(vocab_mod.keep_thresholds(ours.wv.expandos["count"], 1e-2))
    gensims = theirs.wv.expandos["sample_int"] / (2**32 - 1)
    assert np.any(mine < 0.9)
    np.testing.assert_allclose(mine, gensims, rtol=0, atol=1e-9)


def test_keep_probabilities_match_gensim_for_an_absolute_sample():
    """sample >= 1 is gensim's shorthand for a count: it takes t = int(sample * (3 + sqrt 5) / 2)
    as the threshold count of the usual formula, which downsamples the words seen more than
    t * (3 + sqrt 5) / 2 times (here sample=3: t=7, words seen 19 times or more)."""
    sentences = _sentences() * 3
    ours = Word2Vec(**_params(sample=3))
    theirs = gensim_word2vec.Word2Vec(**_params(sample=3))
    ours.build_vocab(sentences)
    theirs.build_vocab(sentences)
    counts = ours.wv.expandos["count"]
    mine = vocab_mod.keep_probability(vocab_mod.keep_thresholds(counts, 3))
    gensims = theirs.wv.expandos["sample_int"] / (2**32 - 1)
    assert np.all(mine[counts < 19] == 1.0) and np.all(mine[counts >= 19] < 1.0)
    np.testing.assert_allclose(mine, gensims, rtol=0, atol=1e-9)
