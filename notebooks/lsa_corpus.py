"""The corpus and term-document matrix of notebooks/lsa_k_selection.ipynb.

One module, so that the notebook and tests/test_notebooks.py build exactly the same matrix.

Corpus: the help texts that Python's ``help()`` prints for its 79 topics ("if", "with",
"exceptions", ...): sections of the Language Reference, shipped in the standard library as
``pydoc_data.topics.topics``.  Nothing is downloaded and nothing depends on which third-party
packages are installed; the text depends on the Python version only (printed by the notebook).
Documents are the paragraphs (blocks separated by blank lines) of the topics in sorted order,
whitespace collapsed, keeping those of at least ``MIN_WORDS`` words and the first copy of
each (several topics share sections).  The fast mode keeps every ``FAST_STRIDE``-th document.
"""

from __future__ import annotations

import re

import numpy as np

MIN_WORDS = 20
FAST_STRIDE = 3
#: TfidfVectorizer options: English stop words, terms in at least 2 and at most half of the
#: documents; otherwise scikit-learn's defaults (smooth idf, raw term counts, unit-length rows).
TFIDF = dict(stop_words="english", min_df=2, max_df=0.5)


def paragraphs(fast: bool = False) -> list[str]:
    """The documents, in a fixed order."""
    from pydoc_data.topics import topics

    seen, docs = set(), []
    for key in sorted(topics):
        for block in re.split(r"\n\s*\n", topics[key]):
            text = " ".join(block.split())
            if len(text.split()) >= MIN_WORDS and text not in seen:
                seen.add(text)
                docs.append(text)
    return docs[::FAST_STRIDE] if fast else docs


def tfidf(docs):
    """The TF-IDF document-term matrix (sparse, documents x terms) and its vectorizer."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(**TFIDF)
    return vectorizer.fit_transform(docs), vectorizer


def spectrum(X):
    """Singular value decomposition of ``X`` restricted to its numerical rank.

    Returns ``(evals, U, Vt)`` with ``evals = s**2`` in descending order (the eigenvalues of
    the term-term and document-document correlation matrices ``X^T X`` and ``X X^T``), and the
    left (document) and right (term) singular vectors.  Singular values below NumPy's rank
    tolerance ``s_max * max(X.shape) * eps`` (``numpy.linalg.matrix_rank``) are the exact zeros
    of a rank-deficient matrix, computed as rounding noise, and are dropped.
    """
    A = X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=np.float64)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    rank = int(np.sum(s > s[0] * max(A.shape) * np.finfo(np.float64).eps))
    return s[:rank] ** 2, U[:, :rank], Vt[:rank]
