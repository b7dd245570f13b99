"""Topics: the report groups each constitution's principles by meaning, each named by keywords.

The same similarity and clustering as duplicates and merge suggestions (ccaic.assembly.duplicates)
on what each principle stands for: the texts of the statements it came from (a hand-written
principle: its own text, without the shared "Choose the response that"). The tree is cut into
ceil(sqrt(n)) topics, as Polis's reports do with a handful of topics per conversation. Each topic
is named by the three words that most distinguish it from the other topics (TF-IDF over one
document per topic, the class-based TF-IDF of BERTopic). Constitutions with fewer than
MIN_PRINCIPLES principles get no topics: there is nothing to group.

A constitution with a `draft` block has its topics named by the drafting model instead:
`ccaic suggest drafts` asks it (name_prompt) and records each name in principles.lock.json under
the topic's key (its members' meanings), and the build copies them into the constitution
(`drafts.topic_names`). The report only reads them, so it never calls a model and a rebuild is
byte-identical offline; a topic whose key has no name (its members changed) keeps its keywords.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ccaic.canonical import canonical_sha256

MIN_PRINCIPLES = 6
KEYWORDS = 3
NAME_PROMPT_VERSION = 1  # in every topic key: a changed prompt names the topics again
NAME_WORDS = 6  # a model's name is cut to this many words
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


def topic_groups(principles: Sequence[dict[str, Any]]
                 ) -> tuple[str, list[list[str]], list[list[str]]] | None:
    """(matcher, each topic's member meanings, each topic's member ids), largest topic first
    (ties keep first-member order); None below MIN_PRINCIPLES."""
    from ccaic.assembly.duplicates import clusters, resolve_matcher, similarity_matrix

    if len(principles) < MIN_PRINCIPLES:
        return None
    matcher = resolve_matcher("auto")
    texts = [_meaning(p) for p in principles]
    groups = clusters(similarity_matrix(texts, matcher), count=math.ceil(math.sqrt(len(texts))))
    groups = sorted(groups, key=lambda g: -len(g))  # stable
    return (matcher, [[texts[i] for i in g] for g in groups],
            [[str(principles[i].get("id")) for i in g] for g in groups])


def topic_key(meanings: Sequence[str]) -> str:
    """A topic's identity for its recorded name: what its members stand for."""
    return canonical_sha256({"prompt": NAME_PROMPT_VERSION, "meanings": list(meanings)})


def name_prompt(words: Sequence[str], meanings: Sequence[str]) -> str:
    """What the drafting model completes with a topic's name."""
    listed = "\n".join(f"- {m}" for m in meanings)
    return ("Name the topic these statements from a public vote share, in two to four words.\n"
            f"Keywords: {', '.join(words)}\nStatements:\n{listed}\nTopic:")


def topic_name(completion: str) -> str | None:
    """A completion as a name: its first line, at most NAME_WORDS words, without quotes or a
    full stop; None when nothing is left (the keywords name the topic)."""
    line = (completion.strip().splitlines() or [""])[0]
    words = line.strip().strip("\"'").rstrip(".").split()[:NAME_WORDS]
    return " ".join(words) or None


def named_topics(principles: Sequence[dict[str, Any]]
                 ) -> list[tuple[str, str]]:
    """(key, prompt) for each topic of a constitution: what `ccaic suggest drafts` asks."""
    found = topic_groups(principles)
    if found is None:
        return []
    _, meanings, _ = found
    names = keywords([" ".join(m) for m in meanings])
    return [(topic_key(m), name_prompt(words, m)) for m, words in zip(meanings, names,
                                                                       strict=True)]


def topic_section(principles: Sequence[dict[str, Any]],
                  names: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """report.json's `topics` for one constitution: the matcher and each topic's name, keywords
    and principle ids (largest topic first); `named` when the name is a model's (`names`, by
    topic key), else the name is the keywords. None below MIN_PRINCIPLES."""
    found = topic_groups(principles)
    if found is None:
        return None
    matcher, meanings, ids = found
    words = keywords([" ".join(m) for m in meanings])
    topics = []
    for m, w, members in zip(meanings, words, ids, strict=True):
        given = (names or {}).get(topic_key(m))
        topics.append({"name": given or ", ".join(w) or "(no keywords)", "keywords": w,
                       "principles": members, **({"named": True} if given else {})})
    return {"matcher": matcher, "topics": topics}


def topics_table(section: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The report's table: one row per topic."""
    rows = [[str(i), t["name"], str(len(t["principles"])), ", ".join(t["principles"])]
            for i, t in enumerate(section["topics"], 1)]
    named = any(t.get("named") for t in section["topics"])
    return ["#", "topic (named by the drafting model)" if named else "topic (keywords)",
            "principles", "ids"], rows
