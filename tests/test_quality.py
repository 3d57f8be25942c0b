"""Quality on real text against gensim, with the same settings and the same evaluator."""

import lzma
from importlib import resources

import numpy as np
import pytest

from fastw2v import KeyedVectors, Word2Vec

SETTINGS = dict(sg=1, vector_size=100, window=5, negative=5, hs=0, sample=1e-4, min_count=5,
                epochs=5, alpha=0.025, min_alpha=0.0001, workers=2)
SEEDS = (1, 2)


def shipped_corpus():
    with resources.files("fastw2v").joinpath("data/demo.txt.xz").open("rb") as raw:
        return [line.split() for line in lzma.open(raw, "rt", encoding="utf-8")]


def scores(index_to_key, vectors):
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(list(index_to_key), np.asarray(vectors, dtype=np.float32))
    analogy, _ = kv.evaluate_word_analogies(restrict_vocab=30000)
    similarity = kv.evaluate_word_pairs()[1][0]
    return analogy, similarity


@pytest.mark.slow
def test_skipgram_negative_sampling_is_as_good_as_gensim_on_the_shipped_corpus():
    gensim_models = pytest.importorskip("gensim.models")
    sentences = shipped_corpus()
    ours, theirs = [], []
    for seed in SEEDS:
        model = Word2Vec(sentences, seed=seed, **SETTINGS)
        ours.append(scores(model.wv.index_to_key, model.wv.vectors))
        peer = gensim_models.Word2Vec(sentences, seed=seed, **SETTINGS)
        theirs.append(scores(peer.wv.index_to_key, peer.wv.vectors))
    ours_analogy, ours_similarity = np.mean(ours, axis=0)
    theirs_analogy, theirs_similarity = np.mean(theirs, axis=0)
    assert ours_analogy > 0.02 and ours_similarity > 0.2  # learned something real
    # Averaged over seeds, at least one of the two scores must match gensim's within the spread
    # two workers' scheduling gives a seed on this corpus (about a point of analogy accuracy and
    # 0.01 of correlation; an equal score failed one run in a few under load).
    assert (ours_analogy >= theirs_analogy - 0.01
            or ours_similarity >= theirs_similarity - 0.01), (ours, theirs)
