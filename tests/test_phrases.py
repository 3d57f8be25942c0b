"""Tests for fastw2v.phrases: counting, scoring, rewriting, freezing, saving."""

from __future__ import annotations

import json
import math
import os
import random
import stat

import pytest

from fastw2v.corpora import LineSentence
from fastw2v.phrases import (
    ENGLISH_CONNECTOR_WORDS,
    FrozenPhrases,
    Phrases,
    npmi_scorer,
    original_scorer,
)

PLANTED = [
    ["new", "york"],
    ["machine", "learning"],
    ["ice", "cream"],
    ["bank", "of", "america"],
    ["the", "white", "house"],
]


def synthetic_corpus(seed: int = 0, sentences: int = 1500) -> list[list[str]]:
    """Zipf-distributed filler words with planted collocations and connector words."""
    rng = random.Random(seed)
    filler = [f"w{i}" for i in range(300)]
    weights = [1.0 / (rank + 1) for rank in range(len(filler))]
    corpus = []
    for _ in range(sentences):
        sentence = rng.choices(filler, weights, k=rng.randint(3, 15))
        if rng.random() < 0.4:
            position = rng.randint(0, len(sentence))
            sentence[position:position] = rng.choice(PLANTED)
        if rng.random() < 0.3:
            sentence.insert(rng.randint(0, len(sentence)), rng.choice(["of", "the", "and"]))
        corpus.append(sentence)
    return corpus


def repeated_city_corpus() -> list[list[str]]:
    rng = random.Random(1)
    filler = [f"f{i}" for i in range(100)]
    corpus = []
    for _ in range(600):
        sentence = rng.choices(filler, k=8)
        if rng.random() < 0.5:
            position = rng.randint(0, len(sentence))
            sentence[position:position] = ["new", "york", "city"]
        corpus.append(sentence)
    return corpus


# ----------------------------------------------------------------------------------- detection


def test_frequent_pair_is_joined_but_random_and_rare_pairs_are_not():
    rng = random.Random(7)
    filler = [f"f{i}" for i in range(200)]
    corpus = []
    for _ in range(2000):
        sentence = rng.choices(filler, k=rng.randint(5, 12))
        if rng.random() < 0.3:
            sentence.insert(rng.randint(0, len(sentence)), "new york")
        corpus.append(" ".join(sentence).split())
    # A pair seen only together, but fewer times than min_count: never a phrase.
    corpus += [["zebra", "crossing"]] * 3
    phrases = Phrases(corpus)
    assert set(phrases.find_phrases(corpus)) == {"new_york"}
    assert phrases[["we", "love", "new", "york", "zebra", "crossing"]] == [
        "we",
        "love",
        "new_york",
        "zebra",
        "crossing",
    ]
    assert phrases[["york", "new"]] == ["york", "new"]


def test_joining_is_greedy_left_to_right():
    corpus = [["a", "b", "c"]] * 20 + [["x", "y"]] * 20
    phrases = Phrases(corpus, min_count=1, threshold=0.1)
    assert phrases[["a", "b", "c"]] == ["a_b", "c"]
    assert phrases[["b", "c", "a", "b"]] == ["b_c", "a_b"]


def test_second_pass_builds_three_word_phrases_and_freezing_keeps_them():
    corpus = repeated_city_corpus()
    bigram = Phrases(corpus, min_count=5, threshold=10.0)
    assert bigram[["new", "york", "city"]] == ["new_york", "city"]
    trigram = Phrases(bigram[corpus], min_count=5, threshold=10.0)
    sentence = ["i", "love", "new", "york", "city"]
    assert trigram[bigram[sentence]] == ["i", "love", "new_york_city"]
    assert trigram.freeze()[bigram.freeze()[sentence]] == ["i", "love", "new_york_city"]
    # The word "new_york" and the bigram ("new", "york") keep separate counts.
    assert "new_york_city" in trigram.export_phrases()


def test_connector_words_sit_inside_phrases_but_never_start_or_end_one():
    corpus = [["bank", "of", "america", "rocks"]] * 20 + [["of", "the", "people"]] * 5
    corpus += [["a", "bank"], ["america", "is"]] * 3
    phrases = Phrases(corpus, min_count=1, threshold=0.1, connector_words=ENGLISH_CONNECTOR_WORDS)
    assert phrases[["the", "bank", "of", "america", "of"]] == ["the", "bank_of_america", "of"]
    assert phrases[["bank", "of", "the", "america"]] == ["bank", "of", "the", "america"]
    assert "of" not in phrases.vocab
    assert phrases.corpus_word_count == sum(len(s) for s in corpus)


def test_connector_words_as_a_single_string_are_rejected():
    with pytest.raises(TypeError, match="connector_words"):
        Phrases(connector_words="of the")


def test_add_vocab_in_parts_equals_counting_all_at_once():
    corpus = synthetic_corpus(3, 600)
    whole = Phrases(corpus, min_count=2, threshold=1.0)
    parts = Phrases(corpus[:250], min_count=2, threshold=1.0)
    parts.add_vocab(corpus[250:])
    assert parts.vocab == whole.vocab
    assert parts.corpus_word_count == whole.corpus_word_count
    assert parts.export_phrases() == whole.export_phrases()


def test_a_sentence_given_as_one_string_is_rejected():
    with pytest.raises(TypeError, match="sentence #1 is a str"):
        Phrases([["fine"], "not tokenised"])


# ------------------------------------------------------------------------------- __getitem__


def test_getitem_tells_a_sentence_from_a_corpus():
    phrases = Phrases([["new", "york"]] * 10 + [["old", "car"]], min_count=1, threshold=0.1)
    assert phrases[[]] == []
    assert phrases[("new", "york")] == ["new_york"]
    assert phrases[iter(["new", "york", "x"])] == ["new_york", "x"]
    corpus = [["new", "york"], [], ["york"]]
    transformed = phrases[corpus]
    assert list(transformed) == [["new_york"], [], ["york"]]
    assert list(transformed) == [["new_york"], [], ["york"]]
    one_shot = phrases[(s for s in corpus)]
    assert list(one_shot) == [["new_york"], [], ["york"]]


def test_transformed_linesentence_can_be_iterated_again(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("new york is big\nnew york\nold car\n" * 5, encoding="utf-8")
    phrases = Phrases(LineSentence(path), min_count=1, threshold=0.5)
    transformed = phrases[LineSentence(path)]
    first = list(transformed)
    assert first == list(transformed)
    assert first[0] == ["new_york", "is_big"]


# ------------------------------------------------------------------------------------ scoring


def test_default_scoring_is_the_word2phrase_formula_with_vocab_size_of_words_plus_bigrams():
    corpus = [["a", "b", "c"]] * 6 + [["a", "d"]] * 2
    phrases = Phrases(corpus, min_count=2, threshold=0.01)
    # words a b c d (4) + bigrams a_b b_c a_d (3)
    expected = (6 - 2) / (8 * 6) * 7
    assert phrases.score_candidate("a", "b", []) == ("a_b", pytest.approx(expected, rel=1e-12))
    assert phrases.score_candidate("a", "d", []) == (None, None)
    assert phrases.score_candidate("b", "a", []) == (None, None)


def test_npmi_scoring_is_one_for_words_that_only_occur_together():
    corpus = [["a", "b"]] * 5 + [["c", "d", "e", "f"]] * 5
    phrases = Phrases(corpus, min_count=1, threshold=0.5, scoring="npmi")
    phrase, score = phrases.score_candidate("a", "b", [])
    p_ab = 5 / 30
    assert phrase == "a_b"
    assert score == pytest.approx(math.log(p_ab / (p_ab * p_ab)) / -math.log(p_ab))


def test_scorer_functions_handle_zero_counts():
    assert original_scorer(0, 5, 3, 10, 1, 100) == -math.inf
    assert npmi_scorer(5, 5, 0, 10, 0, 100) == -math.inf
    assert npmi_scorer(5, 5, 2, 10, 3, 100) == -math.inf


def test_custom_scoring_function_is_called_with_keywords():
    def bigram_count_only(*, bigram_count, **_):
        return float(bigram_count)

    corpus = [["a", "b"]] * 4 + [["c", "d"]] * 2
    phrases = Phrases(corpus, threshold=3, scoring=bigram_count_only)
    assert phrases.export_phrases() == {"a_b": 4.0}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"min_count": 0}, ValueError, "min_count"),
        ({"threshold": 0}, ValueError, "positive"),
        ({"threshold": math.inf}, ValueError, "finite"),
        ({"threshold": 1.5, "scoring": "npmi"}, ValueError, r"\[-1, 1\]"),
        ({"threshold": "10"}, TypeError, "threshold"),
        ({"scoring": "pmi"}, ValueError, "scoring"),
        ({"scoring": 3}, TypeError, "scoring"),
        ({"scoring": lambda worda_count, wordb_count: 1.0}, ValueError, "bigram_count"),
        ({"max_vocab_size": 0}, ValueError, "max_vocab_size"),
        ({"delimiter": ""}, ValueError, "delimiter"),
        ({"progress_per": 0}, ValueError, "progress_per"),
    ],
)
def test_invalid_parameters_are_rejected_naming_them(kwargs, error, message):
    with pytest.raises(error, match=message):
        Phrases(**kwargs)


# ------------------------------------------------------------------------------------ pruning


def test_pruning_drops_singletons_first():
    phrases = Phrases([["a", "b"], ["a", "b"], ["c", "d"]], min_count=1, max_vocab_size=5)
    assert phrases.vocab == {"a": 2, "b": 2, "a_b": 2}


def test_pruning_keeps_memory_bounded_and_frequent_phrases_alive():
    rng = random.Random(5)
    corpus = []
    for i in range(3000):
        sentence = [f"rare{i}_{j}" for j in range(4)]
        if rng.random() < 0.5:
            sentence[2:2] = ["new", "york"]
        corpus.append(sentence)
    # Pruning shrinks the vocabulary size that default scores scale with, hence the threshold.
    phrases = Phrases(corpus, min_count=5, threshold=0.1, max_vocab_size=500)
    vocab = phrases.vocab
    assert len(vocab) <= 500
    assert vocab["new"] == vocab["york"] == vocab["new_york"] == sum("new" in s for s in corpus)
    assert phrases[["rare", "new", "york"]] == ["rare", "new_york"]
    phrases.add_vocab(corpus)
    assert len(phrases.vocab) <= 500
    assert phrases.corpus_word_count == 2 * sum(len(s) for s in corpus)


# ------------------------------------------------------------------------------------ freezing


def test_frozen_model_rewrites_exactly_like_the_model():
    corpus = synthetic_corpus(1)
    phrases = Phrases(corpus, min_count=3, threshold=5.0, connector_words=ENGLISH_CONNECTOR_WORDS)
    frozen = phrases.freeze()
    assert isinstance(frozen, FrozenPhrases)
    assert frozen.phrasegrams == phrases.export_phrases()
    assert "bank_of_america" in frozen.phrasegrams
    assert list(frozen[corpus]) == list(phrases[corpus])
    assert frozen.find_phrases(corpus) == phrases.find_phrases(corpus)


def test_raising_a_frozen_threshold_applies_fewer_phrases():
    corpus = synthetic_corpus(2)
    frozen = Phrases(corpus, min_count=3, threshold=1.0).freeze()
    scores = sorted(frozen.phrasegrams.values())
    frozen.threshold = scores[len(scores) // 2]
    assert set(frozen.find_phrases(corpus)) == {
        phrase for phrase, score in frozen.phrasegrams.items() if score > frozen.threshold
    }


# ------------------------------------------------------------------------------- save and load


def odd_tokens_corpus() -> list[list[str]]:
    odd = ['quo"te', "back\\slash", "caf\u00e9", "\U0001f600", "sur\udcffrogate", "new_line\n"]
    return [[odd[i % len(odd)], odd[(i + 1) % len(odd)]] for i in range(30)] + synthetic_corpus(4)


def test_phrases_save_load_round_trip(tmp_path):
    corpus = odd_tokens_corpus()
    phrases = Phrases(
        corpus, min_count=2, threshold=0.4, scoring="npmi", connector_words={"of", "the"}
    )
    path = tmp_path / "model.json"
    phrases.save(path)
    loaded = Phrases.load(path)
    for name in ["min_count", "threshold", "max_vocab_size", "delimiter", "progress_per"]:
        assert getattr(loaded, name) == getattr(phrases, name)
    assert loaded.scoring == "npmi"
    assert loaded.connector_words == frozenset({"of", "the"})
    assert loaded.corpus_word_count == phrases.corpus_word_count
    assert loaded.vocab == phrases.vocab
    assert loaded.export_phrases() == phrases.export_phrases()
    assert list(loaded[corpus]) == list(phrases[corpus])
    more = synthetic_corpus(5, 200)
    loaded.add_vocab(more)
    phrases.add_vocab(more)
    assert loaded.vocab == phrases.vocab
    assert json.loads(path.read_text(encoding="utf-8"))["class"] == "Phrases"


def test_frozen_save_load_round_trip(tmp_path):
    corpus = odd_tokens_corpus()
    frozen = Phrases(corpus, min_count=2, threshold=1.0).freeze()
    path = str(tmp_path / "frozen.json")
    frozen.save(path)
    loaded = FrozenPhrases.load(path)
    assert loaded.phrasegrams == frozen.phrasegrams
    assert (loaded.threshold, loaded.min_count, loaded.delimiter) == (1.0, 2, "_")
    assert list(loaded[corpus]) == list(frozen[corpus])


def test_numpy_scalar_parameters_save_as_json(tmp_path):
    np = pytest.importorskip("numpy")
    phrases = Phrases(
        [["a", "b"]] * 3,
        min_count=np.int64(1),
        threshold=np.float32(0.5),
        max_vocab_size=np.int32(9),
    )
    phrases.save(tmp_path / "model.json")
    loaded = Phrases.load(tmp_path / "model.json")
    assert (loaded.min_count, loaded.threshold, loaded.max_vocab_size) == (1, 0.5, 9)
    assert loaded[["a", "b"]] == ["a_b"]


def test_save_replaces_the_file_atomically_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("old content", encoding="utf-8")
    Phrases([["a", "b"]] * 3, min_count=1, threshold=0.1).save(path)
    assert os.listdir(tmp_path) == ["model.json"]
    assert Phrases.load(path).export_phrases() == {"a_b": pytest.approx((3 - 1) / 9 * 3)}


def test_a_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.json"
    Phrases([["a", "b"]] * 3, min_count=1, threshold=0.1).save(path)
    before = path.read_bytes()
    phrases = Phrases([["c", "d"]] * 3, min_count=1, threshold=0.1)
    phrases._word_counts["c"] = math.nan  # not representable in strict JSON
    with pytest.raises(ValueError):
        phrases.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]


def test_a_custom_scorer_cannot_be_saved_but_its_frozen_model_can(tmp_path):
    def count_scorer(
        worda_count, wordb_count, bigram_count, len_vocab, min_count, corpus_word_count
    ):
        return float(bigram_count)

    phrases = Phrases([["a", "b"]] * 3, threshold=1, scoring=count_scorer)
    with pytest.raises(TypeError, match="freeze"):
        phrases.save(tmp_path / "model.json")
    phrases.freeze().save(tmp_path / "frozen.json")
    loaded = FrozenPhrases.load(tmp_path / "frozen.json")
    assert loaded.scoring is None
    assert loaded[["a", "b"]] == ["a_b"]


def test_load_returns_the_class_that_saved_the_file(tmp_path):
    # gensim's load returns whatever class was saved, whichever class it is called on.
    phrases = Phrases([["a", "b"]] * 3, min_count=1, threshold=0.1)
    phrases.freeze().save(tmp_path / "frozen.json")
    phrases.save(tmp_path / "phrases.json")
    frozen = Phrases.load(tmp_path / "frozen.json")
    assert type(frozen) is FrozenPhrases
    assert frozen.phrasegrams == phrases.freeze().phrasegrams
    counting = FrozenPhrases.load(tmp_path / "phrases.json")
    assert type(counting) is Phrases
    assert counting.vocab == phrases.vocab


def test_load_rejects_a_class_it_does_not_know(tmp_path):
    class SubPhrases(Phrases):
        pass

    SubPhrases([["a", "b"]] * 3, min_count=1, threshold=0.1).save(tmp_path / "sub.json")
    assert type(SubPhrases.load(tmp_path / "sub.json")) is SubPhrases
    with pytest.raises(ValueError, match="sub.json.*'SubPhrases', which Phrases.load cannot"):
        Phrases.load(tmp_path / "sub.json")


def test_load_rejects_other_files(tmp_path):
    frozen_path = tmp_path / "frozen.json"
    Phrases([["a", "b"]] * 3, min_count=1, threshold=0.1).freeze().save(frozen_path)
    other = tmp_path / "other.json"
    other.write_text('{"vectors": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a saved fastw2v phrase model"):
        Phrases.load(other)
    document = json.loads(frozen_path.read_text(encoding="utf-8"))
    document["version"] = 99
    frozen_path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="version 99"):
        FrozenPhrases.load(frozen_path)
    document["version"] = 1
    del document["phrases"]
    frozen_path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="damaged"):
        FrozenPhrases.load(frozen_path)
    truncated = tmp_path / "truncated.json"
    truncated.write_text('{"format": "fastw2v.phrases", "vers', encoding="utf-8")
    with pytest.raises(ValueError):
        Phrases.load(truncated)


# -------------------------------------------------------------------------- gensim-compatible


PARITY_SETTINGS = [
    ({"scoring": "default", "min_count": 5, "threshold": 10.0}, frozenset()),
    ({"scoring": "default", "min_count": 2, "threshold": 1.0}, ENGLISH_CONNECTOR_WORDS),
    ({"scoring": "npmi", "min_count": 5, "threshold": 0.3}, frozenset()),
    ({"scoring": "npmi", "min_count": 1, "threshold": -0.2}, ENGLISH_CONNECTOR_WORDS),
]


@pytest.mark.parametrize(("settings", "connector_words"), PARITY_SETTINGS)
def test_parity_with_gensim(settings, connector_words):
    gensim_phrases = pytest.importorskip("gensim.models.phrases")
    corpus = synthetic_corpus(11)
    ours = Phrases(corpus[:900], connector_words=connector_words, **settings)
    theirs = gensim_phrases.Phrases(corpus[:900], connector_words=connector_words, **settings)
    ours.add_vocab(corpus[900:])
    theirs.add_vocab(corpus[900:])

    assert ours.vocab == theirs.vocab
    assert ours.corpus_word_count == theirs.corpus_word_count
    our_scores, their_scores = ours.export_phrases(), theirs.export_phrases()
    assert len(our_scores) >= 3
    assert our_scores.keys() == their_scores.keys()
    for phrase, score in their_scores.items():
        assert our_scores[phrase] == pytest.approx(score, rel=1e-9, abs=1e-6)
    assert ours.freeze().phrasegrams == pytest.approx(theirs.freeze().phrasegrams)
    assert [ours[s] for s in corpus] == [theirs[s] for s in corpus]
    assert ours.find_phrases(corpus) == pytest.approx(theirs.find_phrases(corpus))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"format": "fastw2v.phrases", "\xff\xfe": 1}', "not UTF-8"),
        (b'{"format": "fastw2v.phrases", ', "not valid JSON"),
        (b"", "not valid JSON"),
    ],
    ids=["deep nesting", "bad bytes", "bad JSON", "empty"],
)
def test_load_of_a_bad_file_raises_value_error_naming_it(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    for cls in (Phrases, FrozenPhrases):
        with pytest.raises(ValueError, match=message) as caught:
            cls.load(path)
        assert str(path) in str(caught.value)
        assert type(caught.value) is ValueError


def test_load_of_a_device_says_what_it_is(tmp_path):
    try:
        os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("cannot create device nodes here")
    with pytest.raises(ValueError, match="null: is a character device"):
        Phrases.load(tmp_path / "null")


def test_save_onto_a_link_replaces_its_target_and_a_read_only_file_is_refused(tmp_path):
    phrases = Phrases([["a", "b"]] * 3, min_count=1, threshold=0.1)
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to("real.json")
    phrases.save(tmp_path / "link.json")
    assert (tmp_path / "link.json").is_symlink()
    assert Phrases.load(tmp_path / "real.json").vocab == phrases.vocab
    (tmp_path / "real.json").chmod(0o444)
    with pytest.raises(PermissionError, match="link.json"):
        phrases.freeze().save(tmp_path / "link.json")
    assert Phrases.load(tmp_path / "real.json").vocab == phrases.vocab
