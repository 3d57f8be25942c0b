"""Tests of fastw2v.sklearn: Word2VecTransformer in scikit-learn's pipelines and checks.

scikit-learn's ``check_estimator`` fits estimators on random numeric matrices. The transformer
takes tokenised documents, so it declares (through its tags) string input that is not a 2-D
array, and ``check_estimator`` then runs none of its data checks. Here:

- the checks that need no data run as scikit-learn wrote them (``API_CHECKS``);
- the data checks that matter for a transformer (fit returns self, fit leaves the parameters
  alone, pickling, NotFittedError, ``fit_transform`` equals ``fit().transform()``, feature names
  and ``set_output``) are repeated on documents of tokens;
- the rest do not apply: they are about numeric input (dtypes, NaN and inf, sparse matrices,
  read-only memory maps, negative values, ``n_features_in_``, array-API namespaces) or about
  classifiers, regressors, clusterings and sample weights.
"""

from __future__ import annotations

import pickle
import random
import sys

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402

from fastw2v import Word2Vec  # noqa: E402
from fastw2v._config import PARAMETERS  # noqa: E402
from fastw2v.sklearn import Word2VecTransformer  # noqa: E402

TOPICS = (("sun", "beach", "sea", "swim", "warm", "sand"),
          ("snow", "ski", "cold", "ice", "winter", "frost"))
QUICK = {"vector_size": 12, "min_count": 1, "workers": 1, "epochs": 5, "seed": 5}

API_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_no_attributes_set_in_init",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_transformers_unfitted",
]


def labelled_documents(count: int = 300, seed: int = 0) -> tuple[list[list[str]], list[int]]:
    rng = random.Random(seed)
    documents, labels = [], []
    for _ in range(count):
        label = rng.randrange(2)
        documents.append([rng.choice(TOPICS[label]) for _ in range(6)])
        labels.append(label)
    return documents, labels


@pytest.fixture(scope="module")
def documents() -> list[list[str]]:
    return labelled_documents()[0]


@pytest.mark.parametrize("check", API_CHECKS)
def test_scikit_learns_checks_that_need_no_numeric_data(check):
    getattr(estimator_checks, check)("Word2VecTransformer", Word2VecTransformer(**QUICK))


def test_tags_declare_token_input_so_numeric_checks_are_skipped():
    from sklearn.utils import get_tags

    tags = get_tags(Word2VecTransformer())
    assert tags.input_tags.string
    assert not tags.input_tags.two_d_array
    assert tags.requires_fit


def test_parameters_are_word2vecs_with_its_defaults():
    params = Word2VecTransformer().get_params()
    assert params == {name: parameter.default for name, parameter in PARAMETERS.items()}
    changed = Word2VecTransformer(window=3, sg=1)
    assert changed.get_params()["window"] == 3
    assert clone(changed).get_params() == changed.get_params()
    assert repr(changed) == "Word2VecTransformer(sg=1, window=3)"
    with pytest.raises(TypeError, match="windw"):
        Word2VecTransformer(windw=3)


def test_fit_returns_self_keeps_the_parameters_and_learns_the_vocabulary(documents):
    transformer = Word2VecTransformer(**QUICK)
    before = transformer.get_params()
    assert transformer.fit(documents) is transformer
    assert transformer.get_params() == before
    assert set(transformer.wv_.index_to_key) == {w for topic in TOPICS for w in topic}


def test_transform_is_the_mean_vector_of_the_known_tokens(documents):
    transformer = Word2VecTransformer(**QUICK).fit(documents)
    wv = transformer.wv_
    rows = transformer.transform([["sun", "sea"], ["sun", "unseen"], ["unseen"], []])
    assert rows.shape == (4, 12)
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows[0], (wv["sun"] + wv["sea"]) / 2, rtol=1e-6)
    np.testing.assert_array_equal(rows[1], wv["sun"])
    assert not rows[2].any() and not rows[3].any()


def test_fit_transform_equals_fit_then_transform_and_clones_fit_alike(documents):
    transformer = Word2VecTransformer(**QUICK)
    once = transformer.fit_transform(documents)
    np.testing.assert_array_equal(once, transformer.transform(documents))
    np.testing.assert_array_equal(once, clone(transformer).fit(documents).transform(documents))
    model = Word2Vec(documents, **QUICK)
    np.testing.assert_array_equal(transformer.wv_.vectors, model.wv.vectors)


def test_transform_before_fit_raises_not_fitted(documents):
    with pytest.raises(NotFittedError):
        Word2VecTransformer().transform(documents)


def test_a_fitted_transformer_pickles(documents):
    transformer = Word2VecTransformer(**QUICK).fit(documents)
    restored = pickle.loads(pickle.dumps(transformer))
    np.testing.assert_array_equal(restored.transform(documents), transformer.transform(documents))


def test_feature_names_and_pandas_output(documents):
    transformer = Word2VecTransformer(**QUICK).fit(documents)
    names = transformer.get_feature_names_out()
    assert names.tolist() == [f"word2vectransformer{i}" for i in range(12)]
    pandas = pytest.importorskip("pandas")
    frame = transformer.set_output(transform="pandas").transform(documents[:3])
    assert isinstance(frame, pandas.DataFrame)
    assert frame.columns.tolist() == names.tolist()


def test_a_pipeline_classifies_and_a_grid_search_tunes_word2vec_parameters():
    documents, labels = labelled_documents()
    pipeline = make_pipeline(Word2VecTransformer(**{**QUICK, "epochs": 20}), LogisticRegression())
    search = GridSearchCV(pipeline, {"word2vectransformer__window": [2, 4]}, cv=2)
    search.fit(documents, labels)
    assert search.best_params_["word2vectransformer__window"] in (2, 4)
    assert search.score(documents, labels) > 0.9
    assert search.predict([["ski", "snow"], ["beach", "warm"]]).tolist() == [1, 0]


@pytest.mark.parametrize(
    ("documents", "error", "fragment"),
    [
        ("sun sea", TypeError, "single string"),
        (["sun sea", "ski snow"], TypeError, "document 0 is a string"),
        ([["sun"], ["sea", 3]], TypeError, "document 1 holds the int 3"),
        ([["sun"], 7], TypeError, "document 1 is a int"),
        ([], ValueError, "no documents"),
        (None, TypeError, "got NoneType"),
    ],
)
def test_documents_that_are_not_token_lists_are_refused(documents, error, fragment):
    with pytest.raises(error, match=fragment):
        Word2VecTransformer(**QUICK).fit(documents)


def test_a_parameter_out_of_bounds_is_named_at_fit(documents):
    transformer = Word2VecTransformer(window=0)  # stored as given, as scikit-learn expects
    with pytest.raises(ValueError, match="window must be between 1"):
        transformer.fit(documents)


def test_without_scikit_learn_the_import_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.base", None)
    monkeypatch.delitem(sys.modules, "fastw2v.sklearn", raising=False)
    with pytest.raises(ImportError, match=r'pip install "fastw2v\[sklearn\]"'):
        import fastw2v.sklearn  # noqa: F401
