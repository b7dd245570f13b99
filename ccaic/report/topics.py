"""Topics: the report groups each constitution's principles by meaning, each named by keywords.

The same similarity and clustering as duplicates and merge suggestions (ccaic.assembly.duplicates)
on what each principle stands for: the texts of the statements it came from (a hand-written
principle: its own text, without the shared "Choose the response that"). The tree is cut into
ceil(sqrt(n)) topics, as Polis's reports do with a handful of topics per conversation. Each topic
is named by the three words that most distinguish it from the other topics (TF-IDF over one
document per topic, the class-based TF-IDF of BERTopic). Constitutions with fewer than
MIN_PRINCIPLES principles get no topics: there is nothing to group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MIN_PRINCIPLES = 6
KEYWORDS = 3
# Words every principle or statement shares: they name no topic.
_SHARED = frozenset({"ai", "should", "choose", "response", "least", "most", "best", "reflects",
                     "statement", "shows", "always", "never", "chatbot", "assistant"})


def _meaning(principle: dict[str, Any]) -> str:
    from ccaic.diff.match import core

    sources = [s.get("text") or "" for s in principle.get("sources", [])]
    return " ".join(sources) if any(sources) else core(principle.get("text") or "")


def keywords(documents: Sequence[str], count: int = KEYWORDS) -> list[list[str]]:
    """The `count` words of each document that most set it apart from the others (ties by
    word, so the names are deterministic)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words=sorted(ENGLISH_STOP_WORDS | _SHARED),
                                 sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(documents).toarray()
    except ValueError:  # only stop words
        return [[] for _ in documents]
    terms = vectorizer.get_feature_names_out()
    return [[str(terms[j]) for j in sorted(range(len(terms)), key=lambda j: (-row[j], terms[j]))
             [:count] if row[j] > 0] for row in matrix]


def topic_section(principles: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """report.json's `topics` for one constitution: the matcher and each topic's name, keywords
    and principle ids (largest topic first); None below MIN_PRINCIPLES."""
    from ccaic.assembly.duplicates import clusters, resolve_matcher, similarity_matrix

    if len(principles) < MIN_PRINCIPLES:
        return None
    matcher = resolve_matcher("auto")
    texts = [_meaning(p) for p in principles]
    groups = clusters(similarity_matrix(texts, matcher), count=math.ceil(math.sqrt(len(texts))))
    names = keywords([" ".join(texts[i] for i in g) for g in groups])
    topics = [{"name": ", ".join(words) or "(no keywords)", "keywords": words,
               "principles": [str(principles[i].get("id")) for i in g]}
              for g, words in zip(groups, names, strict=True)]
    topics.sort(key=lambda t: -len(t["principles"]))  # stable: ties keep first-member order
    return {"matcher": matcher, "topics": topics}


def topics_table(section: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The report's table: one row per topic."""
    rows = [[str(i), t["name"], str(len(t["principles"])), ", ".join(t["principles"])]
            for i, t in enumerate(section["topics"], 1)]
    return ["#", "topic (keywords)", "principles", "ids"], rows
