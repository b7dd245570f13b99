"""Deterministic rewrite filters: public statements about the AI into comparison principles.

The CCAI authors turned statements such as "The AI should not be racist" into principles of the
form "Choose the response that is least racist" by hand. These filters do the common shapes by rule
so that a constitution can be rebuilt from raw data, reviewed, and diffed. The rules are small
and pure (no randomness, no model): the same statement always gives the same principle, and a
statement the rules cannot rewrite confidently is kept readable *and flagged*, so that a person
edits it rather than a guess slipping into a constitution unnoticed.

House style (the CCAI paper's and Anthropic's): what to adopt reads "is most ADJ" / "best VERBs",
what to avoid reads "is least ADJ" / "least VERBs"; clauses joined as "..., and that ...".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PRINCIPLE_PREFIX = "Choose the response that"
FALLBACK_LEAD = "best reflects this statement:"
FALLBACK_EMPTY = "best reflects the original statement"


@dataclass(frozen=True)
class RewriteResult:
    """A statement's principle tail, the rule that made it, and whether a person must edit it."""

    principle_tail: str
    rule: str
    needs_hand_edit: bool


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --------------------------------------------------------------------------------------------
# Lexicon. A verb must be known before a rule conjugates it: an unknown first word means the
# statement is not the shape we think it is (a typo, a missing verb, a noun), so we fall back.

_VERBS = _wordset("""
abide accept accommodate acknowledge act adapt add address adhere adjust admit adopt advance
advise advocate affirm aid aim alert allow amend analyse analyze answer anticipate apologize
apologise appear appreciate apply argue ask assess assist assume attack attempt avoid back balance
behave belittle believe benefit block boost break bring build bully care cause caution celebrate
challenge change cheat check cherish choose cite claim clarify coerce collect comfort communicate
compare comply condemn condone confirm connect consider console contribute control convince
correct create credit criticize cultivate cure deal deceive decline defend defer deliver demean
deny depict describe destabilize destroy deter develop disagree disclose discourage discover
discriminate discuss dismiss display disregard disrespect distinguish do dominate double duplicate
educate embrace emphasize empower emulate enable encourage endorse engage enhance ensure entertain
eradicate evaluate evoke exaggerate exclude explain exploit explore express extend fabricate face
facilitate favor favour feed feel fight filter find fix flag flatter follow force forget foster
frighten further gather generate get give go guide handle harass harm heal hear help hide
highlight hold honor honour humiliate identify ignore imitate impersonate improve include
incorporate increase indicate influence inform inject insist inspire instruct insult integrate
interpret introduce invade invent investigate judge keep know lead learn lecture let lie limit
listen look maintain make manipulate mean mention mimic minimize mislead misrepresent mock
moralize motivate mislabel need note notify obey offend offer oppose override patronize perform
persuade place play point portray post praise preach prefer prepare present preserve pressure
pretend prevent prioritize prioritise process promote propose protect provide push put question
raise react read recognize recommend rectify reduce refer reflect refrain refuse regard reinforce
reject relate rely remember remind repeat replace reply report represent request require research
resolve respect respond restrict reveal review ridicule rule sabotage safeguard say scare search
seek sell serve share shame show side simplify solve speak speculate spread stand state steer
stereotype stick stop strengthen strive study suggest summarize supply support suppress sway take
talk teach tell thank think threaten tolerate track trust try uphold understand undermine use
validate value verify voice volunteer warn welcome wish work write hurt treat discern expand
injure honour mislead recognise leave
""")

_IRREGULAR_3RD = {"be": "is", "have": "has", "do": "does", "go": "goes"}

# Words after "be" that make it a statement about how the AI is built or deployed ("AI should be
# trained with ...", "should be used for ..."), not about a response: no response can be "most
# used for scams", so these need a person.
_DEPLOYMENT = _wordset("""
used trained kept watched controlled censored programmed regulated allowed built designed developed
made given shut turned replaced deployed limited restricted monitored banned owned run taught
""")

_DETERMINERS = _wordset("""
a an the this that these those my your his her its our their one some any every each all no
another
""")

_PASSIVE_LINKS = _wordset("as by with for to into from")

_PREPOSITIONS = _wordset("""
in on at by for with from into onto of to about like as than over under without within between
""")

# Degree words inside an adjective phrase that "most"/"least" replaces or makes redundant.
_INTENSIFIERS = _wordset("very extra really extremely intensely truly always super quite")

# Short adjectives whose superlative reads better than "most X" when they stand alone.
_SUPERLATIVES = {
    "nice": "nicest", "smart": "smartest", "fair": "fairest", "funny": "funniest",
    "safe": "safest", "clear": "clearest", "wise": "wisest", "calm": "calmest", "kind": "kindest",
}
_FROM_SUPERLATIVE = {v: k for k, v in _SUPERLATIVES.items()}

# Openings that mean the statement talks about the speaker, so the response cannot: "should not
# make me repeat myself" needs rewording around "the user", which is a person's job.
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|myself|mine)\b", re.IGNORECASE)

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "‘": "'", "’": "'", "‚": "'",
                         "‛": "'", "`": "'", "´": "'"})
_TRAILING = ".!?,;:… "

_PRINCIPLE = re.compile(r"^(?:please\s+)?choose\s+the\s+(?:assistant(?:'s)?\s+)?response\s+that\s+"
                        r"(?P<tail>\S.*)$", re.IGNORECASE | re.DOTALL)

_SUBJECT = (r"(?:(?:the|an?)\s+)?(?:ai|al|a\s?i)(?:\s+(?:system|chatbot|assistant|model|bot))?"
            r"|it|they|so")
_MODAL = (r"should\s*n[o']?t|should|must\s*n[o']?t|must|may\s+not|may|will\s*not|won't|will|shall"
          r"|needs?\s+to|has\s+to|have\s+to|ought\s+to")
_HEAD = re.compile(rf"^(?:(?P<subject>{_SUBJECT})\s+)?(?P<modal>{_MODAL})\b\s*(?P<rest>.*)$",
                   re.IGNORECASE | re.DOTALL)
_SUBJECT_ONLY = re.compile(rf"^(?:{_SUBJECT})\s+(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)

# Where a predicate holds a second clause: "... and should refuse ...", "... but not try ...",
# "... nor expand ...". The clause after it is rewritten on its own and joined with ", and that".
_CLAUSE_SPLIT = re.compile(
    r",?\s+(?:and|but)\s+(?:(?:it|they)\s+)?(?:should|must)(?:\s+also)?\s+(?=\S)"
    r"|,?\s+(?:and|but)\s+(?=(?:not|never)\s)"
    r"|,?\s+(?=nor\s)",
    re.IGNORECASE)

_AS_POSSIBLE = re.compile(r"^as\s+(?P<adj>.+?)\s+as\s+(?:possible|they\s+possibly\s+can|it\s+can"
                          r"|it\s+possibly\s+can)(?P<rest>.*)$", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Normalising text


def _clean(text: Any) -> str:
    """One-line text without typographic quotes, double spaces, wrapping quotes or end punctuation.

    Statements come from a web form: curly quotes, stray double spaces and a missing or doubled
    full stop are noise, and the principle template adds its own full stop.
    """
    s = " ".join(str(text).translate(_QUOTES).split())
    while True:
        before = s
        s = s.rstrip(_TRAILING)
        if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
            s = s[1:-1].strip()
        if s == before:
            return s


def _fix_typos(s: str) -> str:
    """Repair the few slips that hide a statement's shape ("shouldbe", "should should")."""
    s = re.sub(r"\bshouldbe\b", "should be", s, flags=re.IGNORECASE)
    s = re.sub(r"\b(should|must)\s+\1\b", r"\1", s, flags=re.IGNORECASE)
    s = re.sub(r"\bas much as (?:they|it) (?:possibly )?can\b", "as much as possible", s,
               flags=re.IGNORECASE)
    return re.sub(r"\s+&\s+", " and ", s)


def _capitalise(s: str) -> str:
    return s[:1].upper() + s[1:]


def _third_person(verb: str) -> str:
    """'give' -> 'gives', 'try' -> 'tries', 'teach' -> 'teaches', 'be' -> 'is'."""
    low = verb.lower()
    if low in _IRREGULAR_3RD:
        return _IRREGULAR_3RD[low]
    if re.search(r"(?:s|sh|ch|x|z|o)$", low):
        return verb + "es"
    if re.search(r"[^aeiou]y$", low):
        return verb[:-1] + "ies"
    return verb + "s"


_BASE_OF = {_third_person(v): v for v in _VERBS} | {v: k for k, v in _IRREGULAR_3RD.items()}


# --------------------------------------------------------------------------------------------
# Rewriting one clause


@dataclass(frozen=True)
class _Clause:
    tail: str
    rule: str


def _words(s: str) -> list[str]:
    return s.split(" ") if s else []


def _bare(word: str) -> str:
    return word.lower().strip(",;:\"'()")


def _be_phrase(rest: str, negative: bool) -> _Clause | None:
    """'be honest and transparent' -> 'is most honest and transparent' (or 'is least ...')."""
    words = _words(rest)
    rule = "be_adjective"
    while words and _bare(words[0]) in _INTENSIFIERS:
        words = words[1:]
    if not words:
        return None
    phrase = " ".join(words)
    possible = _AS_POSSIBLE.match(phrase)
    if possible:
        phrase, rule = possible.group("adj") + possible.group("rest"), "be_as_possible"
    elif _bare(words[0]) in ("more", "less") and len(words) > 1:
        phrase, rule = " ".join(words[1:]), "be_comparative"
        negative = negative != (_bare(words[0]) == "less")
    elif _bare(words[0]) == "as" and len(words) > 1:
        phrase, rule = " ".join(words[1:]), "be_as_possible"
    words = _words(phrase)
    first = _bare(words[0])
    if (first in _DETERMINERS or first in _DEPLOYMENT or first in _PREPOSITIONS
            or first in ("able", "not", "never", "like")):
        return None
    if re.search(r"[^s]s$", first) and not re.search(r"(?:ous|less|ss|ious)$", first):
        return None  # a plural noun ("be humans helpers"): a noun phrase, not an adjective
    if first.endswith("ed") and len(words) > 1 and _bare(words[1]) in _PASSIVE_LINKS:
        return None  # a passive ("be perceived as", "be treated by"): about the AI, not a reply
    if negative:
        return _Clause("is least " + phrase, rule)
    single = len(words) == 1 or _bare(words[1]) in _PREPOSITIONS
    if single and first in _SUPERLATIVES and words[0] == first:
        return _Clause(" ".join(["is", _SUPERLATIVES[first], *words[1:]]), rule)
    return _Clause("is most " + phrase, rule)


def _verb_phrase(words: list[str], negative: bool, adverbs: list[str]) -> _Clause | None:
    """'respect and protect X' -> 'best respects and protects X'; negated -> 'least ...'."""
    verb = words[0]
    if verb.lower() not in _VERBS or verb != verb.lower():
        return None
    rest = words[1:]
    verbs = [_third_person(verb)]
    if len(rest) >= 2 and rest[0] in ("and", "or") and rest[1] in _VERBS and rest[1] != "be":
        verbs += [rest[0], _third_person(rest[1])]
        rest = rest[2:]
    if rest[:1] == ["only"] and not negative:
        rest = rest[1:]
        verbs.append("only")
    degree = "least" if negative else "best"
    return _Clause(" ".join([degree, *adverbs, *verbs, *rest]), "verb")


def _modifiers(words: list[str], negative: bool) -> tuple[list[str], bool, list[str], bool]:
    """Strip leading negations, fillers, "only" and -ly adverbs: (rest, negative, adverbs, only)."""
    adverbs: list[str] = []
    only = False
    while words:
        head = words[0].lower()
        if head in ("not", "never"):
            negative = True
        elif head in ("always", "also", "simply", "just", "actually"):
            pass
        elif head == "only":
            only = True
        elif head.endswith("ly") and len(words) > 1 and words[1].lower() in _VERBS \
                and head not in _VERBS:
            adverbs.append(words[0])
        else:
            break
        words = words[1:]
    return words, negative, adverbs, only


def _clause(predicate: str, negative: bool) -> _Clause | None:
    """Rewrite one predicate ('should' already removed); None when no rule is confident."""
    words, negative, adverbs, only = _modifiers(_words(predicate), negative)
    if not words:
        return None
    words[0] = words[0].lower() if words[0][:1].isupper() and words[0][1:].islower() else words[0]
    head = words[0]
    if only:
        if head == "be" or negative:
            return None
        words = [head, "only", *words[1:]]
    rest = " ".join(words[1:])
    if head in ("be", "remain", "stay") and not adverbs:
        return _be_clause(rest, negative)
    if head in ("try", "strive", "attempt", "work"):
        decided, attempt = _attempt_clause(head, rest, negative)
        if decided:
            return attempt
    if head == "have":
        return _have_clause(words, rest, negative, adverbs)
    return _verb_phrase(words, negative, adverbs)


def _be_clause(rest: str, negative: bool) -> _Clause | None:
    """"be/remain/stay ...": "able to X" recurses; "like X" is a comparison we do not guess."""
    if rest.lower().startswith("able to ") and not negative:
        inner = _clause(rest[len("able to "):], negative)
        return _Clause(inner.tail, "able_to") if inner else None
    if rest.lower().startswith("like "):
        return None
    return _be_phrase(rest, negative)


def _attempt_clause(head: str, rest: str, negative: bool) -> tuple[bool, _Clause | None]:
    """"try/strive/attempt/work to X": (decided, clause); not decided means read it as a verb."""
    if head != "work" and not rest.startswith("to "):
        return True, None  # "should try gm to help": a slip we should not guess around
    if rest.startswith("to ") and not negative:
        inner = _clause(rest[3:], negative)
        return True, (_Clause(inner.tail, "try_to") if inner else None)
    return False, None


def _have_clause(words: list[str], rest: str, negative: bool,
                 adverbs: list[str]) -> _Clause | None:
    """"have X" reads as "show X", except "have to" and "have the option/ability/right ..."."""
    if not words[1:] or _bare(words[1]) == "to" or re.match(
            r"^(?:an?|the)\s+(?:option|ability|right|power|chance)\b", rest, re.IGNORECASE):
        return None
    found = _verb_phrase(["show", *words[1:]], negative, adverbs)
    return _Clause(found.tail, "have") if found else None


# --------------------------------------------------------------------------------------------
# Rewriting a statement


def _predicate(s: str) -> tuple[str, bool] | None:
    """Split off the subject and modal: ('be reliable', negative?) or None when the shape is odd."""
    head = _HEAD.match(s)
    if head:
        modal = re.sub(r"\s+", " ", head.group("modal").lower())
        negative = bool(re.search(r"n[o']?t$", modal)) or modal == "won't"
        if modal in ("may", "will") and head.group("subject") is None:
            return None
        return head.group("rest"), negative
    subject = _SUBJECT_ONLY.match(s)
    if subject:
        rest = subject.group("rest")
        if not rest or rest.split(" ")[0].lower() not in _VERBS:
            return None
        return rest, False
    first = s.split(" ")[0].lower()
    if first in ("always", "never", "not") or (first in _VERBS and first != "be"):
        return s, False  # an imperative: "Always answer questions", "Not ask personal questions"
    return None


def _leads_negative(part: str, negative: bool) -> bool:
    """Whether a clause is negated, by its modal or by a leading 'not'/'never'."""
    for word in _words(part.lower()):
        if word in ("not", "never"):
            return True
        if word not in ("always", "also", "simply", "just", "only") and not word.endswith("ly"):
            return negative
    return negative


def _is_verb_head(words: list[str]) -> bool:
    """Only adverbs and verbs so far ("actively address"): 'and' coordinates verbs, not clauses."""
    return all(w.lower() in _VERBS or w.lower() in ("not", "never", "always", "also")
               or w.lower().endswith("ly") for w in words)


def _verb_clauses(part: str, negative: bool) -> list[tuple[str, bool]]:
    """Split '<clause> and/but <verb> ...' into clauses, each with its polarity.

    "be understanding and give nice advice" holds two clauses; "respect and protect X" holds one
    (the verbs share an object), and "how to go through with or help with" is inside an
    infinitive, so we only split after a 'be' phrase, at 'but', or at an 'and' outside 'to VERB'.
    """
    words = _words(part)
    out: list[tuple[str, bool]] = []
    start, polarity = 0, _leads_negative(part, negative)
    for i in range(start + 1, len(words) - 1):
        conj, verb = words[i].lower(), words[i + 1]
        if conj not in ("and", "but", "or") or verb not in _VERBS or i - 1 < start:
            continue
        before = words[start:i]
        if _is_verb_head(before):
            continue
        copula = before[0].lower() in ("be", "remain", "stay") or (
            len(before) > 1 and before[0].lower() in ("not", "never", "always")
            and before[1].lower() == "be")
        infinitive = any(a.lower() == "to" and b.lower() in _VERBS
                         for a, b in itertools.pairwise(before))
        if conj == "but" or (not infinitive and (copula or conj == "and")):
            out.append((" ".join(before).rstrip(","), polarity))
            start, polarity = i + 1, False if conj == "but" else polarity
    out.append((" ".join(words[start:]), polarity))
    return out


def _statement(s: str) -> _Clause | None:
    if re.search(r"[.!?]\s+\S", s) and not re.search(r"\b(?:e\.g|i\.e|etc)\.\s", s):
        return None  # more than one sentence: how they combine is a person's call
    split = _predicate(_fix_typos(s))
    if split is None:
        return None
    predicate, negative = split
    if _FIRST_PERSON.search(predicate) or '"' in predicate:
        return None  # "make me repeat myself", scare quotes: rewording them is a person's job
    if re.search(r"\b(?:and|or|nor),", predicate, re.IGNORECASE):
        return None  # "injure X or, through inaction, allow Y": an aside splits the verbs
    clauses: list[_Clause] = []
    for index, part in enumerate(_CLAUSE_SPLIT.split(predicate)):
        part = part.strip(" ,")
        if index > 0 and part.lower().startswith("nor "):
            part = "not " + part[4:]
        for text, polarity in _verb_clauses(part, negative if index == 0 else False):
            found = _clause(text, polarity)
            if found is None:
                return None
            clauses.append(found)
    if len(clauses) == 1:
        return clauses[0]
    return _Clause(", and that ".join(c.tail for c in clauses), "compound")


def rewrite(text: Any) -> RewriteResult:
    """The principle tail for a statement, which rule made it, and whether a person must edit it.

    A text that already is a principle ("Choose the response that ...") keeps its own tail, so
    the filters can run twice (hand-edited principles pass through templates unchanged).
    """
    s = _clean(text)
    principle = _PRINCIPLE.match(s)
    if principle:
        return RewriteResult(principle.group("tail"), "principle", False)
    found = _statement(s) if s else None
    if found is None:
        tail = f"{FALLBACK_LEAD} {_capitalise(s)}" if s else FALLBACK_EMPTY
        return RewriteResult(tail, "fallback", True)
    return RewriteResult(found.tail.rstrip(_TRAILING), found.rule, False)


def as_behaviour(text: Any) -> str:
    """The tail of a comparison principle: 'The AI should be reliable' -> 'is most reliable'."""
    return rewrite(text).principle_tail


def needs_hand_edit(text: Any) -> bool:
    """True exactly when `as_behaviour` fell back to quoting the statement."""
    return rewrite(text).needs_hand_edit


def as_comparison(text: Any) -> str:
    """The full comparison principle, 'Choose the response that ...', with one full stop."""
    return f"{PRINCIPLE_PREFIX} {as_behaviour(text)}."


# --------------------------------------------------------------------------------------------
# Critique and revision requests from a principle


def _base(verb3: str) -> str | None:
    return _BASE_OF.get(verb3.lower())


def _requests(part: str) -> tuple[str, str] | None:
    """For one clause of a principle tail: (what the critique looks for, what the revision asks).

    The critique names the failure ('is not honest', 'fails to respect X', 'gives medical
    advice'); the revision names the goal ('is honest', 'respects X', 'does not give ...').
    """
    words = _words(part)
    if len(words) >= 2 and words[0] == "is":
        if words[1] in ("most", "more") and len(words) > 2:
            phrase = " ".join(words[2:])
            return f"is not {phrase}", f"is {phrase}"
        if words[1] in ("least", "less") and len(words) > 2:
            phrase = " ".join(words[2:])
            return f"is {phrase}", f"is not {phrase}"
        if words[1] in _FROM_SUPERLATIVE:
            phrase = " ".join([_FROM_SUPERLATIVE[words[1]], *words[2:]])
            return f"is not {phrase}", f"is {phrase}"
        return None
    degree = words[0] if words and words[0] in ("most", "best", "more", "better", "least") else ""
    body = words[1:] if degree else words
    adverbs: list[str] = []
    while len(body) > 1 and body[0].endswith("ly") and _base(body[0]) is None:
        adverbs, body = [*adverbs, body[0]], body[1:]
    if not body or _base(body[0]) is None:
        return None
    bases = [str(_base(body[0]))]
    if len(body) > 2 and body[1] in ("and", "or") and _base(body[2]) is not None:
        bases += [body[1], str(_base(body[2]))]  # "addresses and rectifies X"
    third = " ".join([*adverbs, *body])
    plain = " ".join([*adverbs, *bases, *body[len(bases):]])
    if degree == "least":
        return third, f"does not {plain}"
    return f"fails to {plain}", third


_DEGREE_SPLIT = re.compile(r"\s+and\s+(?=(?:is\s+)?(?:most|least|more|less)\b)")


def _degree_clauses(part: str) -> list[str]:
    """'is least X and most Y' is two requests with opposite directions: critique X, keep Y."""
    pieces = _DEGREE_SPLIT.split(part)
    if len(pieces) == 1:
        return pieces
    lead = "is " if part.startswith("is ") else ""
    return [pieces[0], *(p if p.startswith("is ") or not lead else lead + p for p in pieces[1:])]


def _principle_parts(text: Any) -> tuple[str, list[tuple[str, str]] | None]:
    s = _clean(text)
    principle = _PRINCIPLE.match(s)
    if not principle:
        return s, None
    found = [_requests(clause) for part in principle.group("tail").split(", and that ")
             for clause in _degree_clauses(part)]
    if any(f is None for f in found):
        return s, None
    return s, [f for f in found if f is not None]


def as_critique(text: Any) -> str:
    """A critique request for a principle: 'Identify specific ways in which the response ...'."""
    s, parts = _principle_parts(text)
    if parts:
        return f"Identify specific ways in which the response {' or '.join(p[0] for p in parts)}."
    if not s:
        return "Identify specific ways in which the response could be improved."
    return f"Identify specific ways in which the response does not follow this principle: {s}."


def as_revision(text: Any) -> str:
    """A revision request for a principle: 'Rewrite the response so that it ...'."""
    s, parts = _principle_parts(text)
    if parts:
        return f"Rewrite the response so that it {' and '.join(p[1] for p in parts)}."
    if not s:
        return "Rewrite the response to improve it."
    return f"Rewrite the response so that it follows this principle: {s}."


FILTERS: dict[str, Callable[..., Any]] = {
    "as_behaviour": as_behaviour,
    "as_behavior": as_behaviour,
    "as_comparison": as_comparison,
    "as_critique": as_critique,
    "as_revision": as_revision,
    "needs_hand_edit": needs_hand_edit,
}
