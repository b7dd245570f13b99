"""The Jinja2 environment principle templates run in: sandboxed, strict, bounded, repeatable.

A .ccai file from a stranger may carry templates, so they run in a SandboxedEnvironment with
StrictUndefined; the checker also rejects attribute escapes (`__class__`) before anything runs.
On top of the sandbox:

- bounded: `*`, `**`, `%`, `+`, the width-taking filters and method calls refuse results over
  the value cap; loops count steps; a render stops past its output cap, step cap or deadline
  (docs/limits.md, Templates). Without this `{{ 'x' * 10**8 }}` fills the disk.
- repeatable: no `random` filter, and a method is never turned into text (its repr holds a
  heap address), so the same inputs give the same principles.
- no None: a field a statement lacks is a `Missing` value; printing it, doing arithmetic on it
  or passing it to a filter other than `default` is an error, never the text "None".
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache, partial, wraps
from typing import Any, cast

from jinja2 import StrictUndefined, Template, Undefined, nodes
from jinja2.exceptions import TemplateRuntimeError, UndefinedError
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment

# ---------------------------------------------------------------- limits

#: Default cap on one render's output and on any value a template builds (characters or items).
MAX_CHARS = 10_000
#: Default cap on loop iterations in one render.
MAX_STEPS = 100_000
#: Cap on the digits of a whole number a template builds (Python prints at most 4300).
MAX_DIGITS = 4000
#: Default wall-clock cap on one render, in seconds (a backstop: the caps above bound the work).
MAX_SECONDS = 2.0
CHARS_ENV = "CCAIC_TEMPLATE_MAX_CHARS"
STEPS_ENV = "CCAIC_TEMPLATE_MAX_STEPS"
SECONDS_ENV = "CCAIC_TEMPLATE_MAX_SECONDS"


@dataclass(frozen=True)
class Limits:
    chars: int = MAX_CHARS
    steps: int = MAX_STEPS
    seconds: float = MAX_SECONDS


class LimitSettingError(ValueError):
    """A template limit set in the environment that is not a positive number."""


def _positive(name: str, default: float, whole: bool) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip().replace("_", "")) if whole else float(raw.strip())
    except ValueError:
        value = 0
    if not value > 0 or not math.isfinite(value):
        kind = "positive whole number" if whole else "positive number of seconds"
        raise LimitSettingError(f"${name} is {raw!r}, not a {kind}")
    return value


def limits_from_env() -> Limits:
    """The template limits, from $CCAIC_TEMPLATE_MAX_* where set; a bad setting is refused."""
    return Limits(chars=int(_positive(CHARS_ENV, MAX_CHARS, True)),
                  steps=int(_positive(STEPS_ENV, MAX_STEPS, True)),
                  seconds=_positive(SECONDS_ENV, MAX_SECONDS, False))


class LimitExceeded(TemplateRuntimeError):
    """A render went past one of its limits; `setting` names the variable that raises it."""

    def __init__(self, message: str, setting: str):
        super().__init__(message)
        self.setting = setting


class MissingValueError(UndefinedError):
    """A template used a field that has no value for this statement; `path` names it."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path


class NotAValue(TemplateRuntimeError):
    """A template turned something that is not data (a method) into text."""


class Budget:
    """What one render may still spend: steps, time and the size of each value."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.steps = 0
        self.deadline = time.monotonic() + limits.seconds

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.limits.steps:
            raise LimitExceeded(f"more than {self.limits.steps} loop steps", STEPS_ENV)
        self.tick()

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"took longer than {self.limits.seconds:g} s", SECONDS_ENV)

    def size(self, n: int, what: str = "a value") -> None:
        """Refuse a value of `n` characters or items before (or after) it is built."""
        if n > self.limits.chars:
            raise LimitExceeded(f"{what} of {n} characters or items, over the "
                                f"{self.limits.chars} limit", CHARS_ENV)

    def digits(self, n: int) -> None:
        """Refuse a whole number of about `n` digits: Python prints at most 4300."""
        cap = min(self.limits.chars, MAX_DIGITS)
        if n > cap:
            raise LimitExceeded(f"a number of about {n} digits, over the {cap} limit", CHARS_ENV)

    def check(self, value: Any) -> Any:
        """`value` itself, once it is within the caps (its items' sizes count too)."""
        if isinstance(value, (str, list, tuple, dict)):
            self.size(_size(value, self.limits.chars))
        elif isinstance(value, int) and not isinstance(value, bool):
            self.digits(_digits(value.bit_length()))
        self.tick()
        return value


def _size(value: Any, limit: int) -> int:
    """Characters and items in `value`, nested ones included; counting stops past `limit`."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if not isinstance(value, (list, tuple)):
        return 1
    total = len(value)
    for item in value:
        if total > limit:
            break
        total += _size(item, limit - total) if isinstance(item, (str, list, tuple, dict)) \
            else 0
    return total


def bounded_list(items: Iterable[Any]) -> list[Any]:
    """`items` as a list, refused as soon as their sizes add up past the value cap (a
    generator from `map` can yield big values faster than a check after the fact)."""
    budget = _budget()
    out: list[Any] = []
    total = 0
    for item in items:
        total += 1 + (_size(item, budget.limits.chars) if isinstance(item, (str, list, tuple,
                                                                             dict)) else 0)
        budget.size(total)
        out.append(item)
    return out


def _digits(bits: int) -> int:
    return math.ceil(bits * math.log10(2))


_BUDGET: ContextVar[Budget | None] = ContextVar("ccaic_template_budget", default=None)


def _budget() -> Budget:
    """The running render's budget; outside a render (constant folding), the default caps."""
    return _BUDGET.get() or Budget(Limits())


# ---------------------------------------------------------------- values

class Missing(StrictUndefined):
    """A field this statement has no value for: false in `{% if %}`, replaced by `default`,
    `none` to `is none`, and an error anywhere else."""

    __slots__ = ()

    def __bool__(self) -> bool:  # type: ignore[override]
        return False

    # comparing is safe: it prints nothing
    __eq__ = Undefined.__eq__  # type: ignore[assignment]
    __ne__ = Undefined.__ne__  # type: ignore[assignment]
    __hash__ = Undefined.__hash__  # type: ignore[assignment]


def missing(path: str) -> Missing:
    error = partial(MissingValueError, path=path)  # Jinja raises `exc(message)`
    return Missing(hint=f"`{path}` has no value", name=path, exc=error)  # type: ignore[arg-type]


class Scores(dict[str, Any]):
    """`statement.scores`: a method the assembly did not compute is a Missing value that says
    how to compute it (the build said "'dict object' has no attribute 'bridging'")."""

    def __missing__(self, key: str) -> Missing:
        path = f"statement.scores.{key}"
        error = partial(MissingValueError, path=path)
        hint = (f"`{path}` has no value: the assembly computes {', '.join(self)}; to compute "
                f'{key}, add it to its consensus block\'s `scores` (`scores = ["{key}"]`)')
        return Missing(hint=hint, name=path, exc=error)  # type: ignore[arg-type]


def present(name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A context object with each None field replaced by a Missing value named `name.field`."""
    return {k: missing(f"{name}.{k}") if v is None else v for k, v in fields.items()}


class Method:
    """A method reached by a template: callable, but never text (its repr is a heap address)."""

    __slots__ = ("function", "name")

    def __init__(self, function: Callable[..., Any], name: str):
        self.function = function
        self.name = name

    def _refuse(self, *_: Any) -> str:
        raise NotAValue(f"`{self.name}` is a method, not a value: call it, e.g. "
                        f"`{self.name}()`, or use a filter")

    __str__ = __repr__ = __format__ = _refuse


# ---------------------------------------------------------------- filters

def _sentence(text: Any) -> str:
    """Capitalised, one final full stop."""
    s = str(text).strip()
    if not s:
        return s
    s = s[0].upper() + s[1:]
    return s if s[-1] in ".!?" else s + "."


def _strip_period(text: Any) -> str:
    return str(text).strip().rstrip(".!").rstrip()


def _lower_first(text: Any) -> str:
    s = str(text).strip()
    return s[:1].lower() + s[1:]


#: Filters whose result changes from one build to the next: rejected (CCAI309).
NONDETERMINISTIC_FILTERS = ("random",)
#: Filters that accept a value that is not there (None or Missing) and say what to use instead.
_ACCEPT_MISSING = ("default", "d")

#: Filters whose input may be any iterable (a generator from `map`, `select`, ...): they do not
#: turn it into text. Every other filter needs a plain value (see `plain`).
_TAKE_ITERABLES = frozenset((
    "list", "join", "map", "select", "reject", "selectattr", "rejectattr", "unique", "sort",
    "first", "last", "length", "count", "sum", "min", "max", "batch", "slice", "groupby",
    "dictsort", "items", "reverse", "default", "d", "tojson", "attr"))

_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def _format_widths(fmt: str, args: Any) -> Iterator[int]:
    """The field widths and precisions a %-format would pad to, `*` ones taken from `args`."""
    star = iter(args if isinstance(args, tuple) else (args,))
    for match in _WIDTH.finditer(fmt):
        for part in match.groups():
            if part == "*":
                value = next(star, 0)
                yield abs(value) if isinstance(value, int) else 0
            elif part:
                yield int(part)


def _precheck(name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse, before it runs, a filter call whose result would be over the value cap."""
    budget = _budget()
    value = args[0] if args else None
    if name in ("center", "indent", "slice", "batch"):
        for n in (*args[1:], *kwargs.values()):
            if isinstance(n, int) and not isinstance(n, bool):
                budget.size(abs(n) * (str(value).count("\n") + 1) if name == "indent"
                            else abs(n), f"`{name}` to a width")
    elif name == "format" and isinstance(value, str):
        for width in _format_widths(value, args[1:]):
            budget.size(width, "a format width")
    elif name == "replace" and len(args) >= 3:
        _precheck_replace(str(value), str(args[1]), str(args[2]))
    elif name == "join" and isinstance(value, (list, tuple, str)):
        _precheck_join(value, _argument(args, kwargs, 1, "d", ""))
    elif name == "wordwrap":  # the wrap string can follow every character
        wrap = _argument(args, kwargs, 3, "wrapstring", None)
        budget.size(len(str(value)) * (1 + len(str(wrap or ""))), "a wrapped text")
    elif name == "tojson":
        _precheck_json(value, _argument(args, kwargs, 1, "indent", None))


def _argument(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str,
              default: Any) -> Any:
    """A filter's argument, given by position or by name."""
    return args[index] if len(args) > index else kwargs.get(name, default)


def _precheck_join(items: Sequence[Any], separator: Any) -> None:
    _budget().size(len(items) * len(str(separator)), "a joined text")


def _precheck_json(value: Any, indent: Any) -> None:
    """Each line of indented JSON is indented once per level it is nested in."""
    if not isinstance(indent, int) or isinstance(indent, bool) or indent <= 0:
        return
    try:
        compact = json.dumps(value, default=str)
    except (TypeError, ValueError):
        return  # the filter itself reports it
    levels = compact.count("[") + compact.count("{")
    _budget().size(len(compact) * (1 + indent * levels), "indented JSON")


def _precheck_replace(text: str, old: str, new: str) -> None:
    count = len(text) + 1 if old == "" else text.count(old)
    _budget().size(len(text) + count * max(len(new) - len(old), 0), "a replacement")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` with the value caps, the step budget and no None input."""
    pass_arg = getattr(function, "jinja_pass_arg", None)
    skip = 1 if pass_arg is not None else 0

    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        own = args[skip:]
        if own and name not in _ACCEPT_MISSING:
            if own[0] is None:
                raise MissingValueError(f"`{name}` was given no value (None)")
            if isinstance(own[0], Missing):
                own[0]._fail_with_undefined_error()
            if name not in _TAKE_ITERABLES:
                plain(own[0])
            elif isinstance(own[0], Iterator) or (name == "join" and
                                                  not isinstance(own[0], (str, list, tuple))):
                own = (bounded_list(own[0]), *own[1:])
                args = (*args[:skip], *own)
            if name == "join":
                plain(own[0])
        _precheck(name, own, kwargs)
        return _budget().check(function(*args, **kwargs))

    return bounded


def filters() -> dict[str, Callable[..., Any]]:
    """Filter name -> function; the statement rewrites live in ccaic.constitution.rewrite."""
    table: dict[str, Callable[..., Any]] = {
        "sentence": _sentence,
        "strip_period": _strip_period,
        "lower_first": _lower_first,
    }
    from ccaic.constitution.rewrite import FILTERS

    table.update(FILTERS)
    return table


def _steps(iterable: Iterable[Any]) -> Iterator[Any]:
    """A loop's items, one budget step each."""
    budget = _budget()
    for item in iterable:
        budget.step()
        yield item


STEP_FILTER = "ccaic_loop_steps"
PLAIN_FILTER = "ccaic_plain"

# ---------------------------------------------------------------- methods

#: Methods a template may call: each one's result is at most linear in its inputs' sizes.
METHODS = frozenset((
    "items", "keys", "values", "get", "split", "rsplit", "splitlines", "strip", "lstrip",
    "rstrip", "lower", "upper", "title", "capitalize", "casefold", "swapcase", "startswith",
    "endswith", "count", "find", "rfind", "index", "rindex", "isalpha", "isdigit", "isalnum",
    "isspace", "islower", "isupper", "istitle", "isnumeric", "isdecimal", "replace", "join",
    "partition", "rpartition", "removeprefix", "removesuffix", "cycle", "changed",
))


def _none_test(value: Any) -> bool:
    return value is None or isinstance(value, Missing)


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox with the value caps on operators, methods and the output of each render."""

    intercepted_binops = frozenset(("*", "**", "%", "+"))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _budget()
        if operator == "**" and isinstance(left, int) and isinstance(right, int) \
                and right > 0 and abs(left) > 1:
            budget.digits(_digits(right * abs(left).bit_length()))
        elif operator == "*":
            _precheck_product(budget, left, right)
        elif operator == "%" and isinstance(left, str):
            plain(right)
            for width in _format_widths(left, right):
                budget.size(width, "a format width")
        return budget.check(self.binop_table[operator](left, right))

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]  # a field, even one named like a dict method
        value = super().getattr(obj, attribute)
        # an undefined value is callable too (it raises when called): it stays undefined, so a
        # missing key says it is missing, not "`key` is a method"
        if callable(value) and not isinstance(obj, type) and not isinstance(value, Undefined):
            return Method(value, attribute)
        return value

    def call(__self, __context: Any, __obj: Any, *args: Any,
             **kwargs: Any) -> Any:
        if isinstance(__obj, Method):
            if __obj.name not in METHODS:
                raise NotAValue(f"the method `{__obj.name}` is not available in templates")
            owner = getattr(__obj.function, "__self__", "")
            if __obj.name == "replace" and len(args) >= 2:
                _precheck_replace(str(owner), str(args[0]), str(args[1]))
            elif __obj.name == "join" and len(args) == 1 and isinstance(owner, str):
                if not isinstance(args[0], (str, list, tuple)):
                    args = (bounded_list(args[0]),)
                _precheck_join(args[0], owner)
            __obj = __obj.function
        elif not isinstance(__obj, LoopContext):
            raise NotAValue("templates can only call the methods listed in docs/language.md")
        return _budget().check(super().call(__context, __obj, *args, **kwargs))


def _precheck_product(budget: Budget, left: Any, right: Any) -> None:
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
            budget.size(len(seq) * max(n, 0))
            return
    if isinstance(left, int) and isinstance(right, int):
        budget.digits(_digits(left.bit_length() + right.bit_length()))


_PLAIN = (str, int, float)
_VIEWS: tuple[type, ...] = (type({}.keys()), type({}.values()), type({}.items()))


def plain(value: Any) -> Any:
    """`value` itself when its text is data: never None, a method or an object's repr (which
    holds a heap address, so the same build would differ from run to run)."""
    if value is None:
        raise MissingValueError("a value used as text is None (no value)")
    if isinstance(value, Method):
        value._refuse()
    if isinstance(value, (_PLAIN, Undefined, LoopContext)):
        return value
    if isinstance(value, (list, tuple, *_VIEWS)):
        for item in cast(Iterable[Any], value):
            _plain_item(item)
        return value
    if isinstance(value, dict):
        for item in value.items():
            _plain_item(item)
        return value
    raise NotAValue(f"a {type(value).__name__} is not text: turn it into a list or text first, "
                    "e.g. `| list` or `| join(\", \")`")


def _plain_item(item: Any) -> None:
    """An item of a printed list or mapping: its repr is printed, so a missing value there
    would be the text `Undefined` instead of an error (`{{ [statement.author] }}`)."""
    if isinstance(item, Undefined):
        item._fail_with_undefined_error()
    plain(item)


@lru_cache(maxsize=1)
def environment() -> BoundedSandbox:
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=False,
                         keep_trailing_newline=False, finalize=plain)
    env.globals.clear()  # no range(), lipsum(), cycler(): a template sees its context, nothing else
    env.filters.update(filters())
    for name in NONDETERMINISTIC_FILTERS:
        env.filters.pop(name, None)
    env.filters = {name: _bounded_filter(name, f) for name, f in env.filters.items()}
    env.filters[STEP_FILTER] = _steps
    env.filters[PLAIN_FILTER] = plain
    env.tests["none"] = _none_test
    return env


# Tags that reach other templates (files) or define callables; a principle template needs none.
FORBIDDEN_TAGS = ("Macro", "CallBlock", "Include", "Import", "FromImport", "Extends", "Block")


def _guarded(tree: nodes.Template) -> nodes.Template:
    """Every `{% for %}` iterates through the step counter; every `~` operand must be plain."""
    for loop in tree.find_all(nodes.For):
        loop.iter = _through(STEP_FILTER, loop.iter)
    for concat in tree.find_all(nodes.Concat):
        concat.nodes = [_through(PLAIN_FILTER, n) for n in concat.nodes]
    return tree


def _through(name: str, node: nodes.Node) -> nodes.Filter:
    return nodes.Filter(cast(nodes.Expr, node), name, [], [], None, None, lineno=node.lineno)


@lru_cache(maxsize=64)
def _compiled(text: str) -> Template:
    """One compile per template text, not one per statement."""
    env = environment()
    return env.from_string(_guarded(env.parse(text)))


def render(text: str, context: Mapping[str, Any], limits: Limits) -> str:
    """`text` rendered with `context` within `limits`, stripped.

    Raises jinja2 errors (LimitExceeded, MissingValueError, NotAValue among them) and whatever
    Python raises inside an operator or filter (TypeError, ZeroDivisionError, ...)."""
    budget = Budget(limits)
    token = _BUDGET.set(budget)
    try:
        template = _compiled(text)
        out: list[str] = []
        total = 0
        for chunk in template.generate(**context):
            total += len(chunk)
            budget.size(total, "output")
            budget.tick()
            out.append(chunk)
        return "".join(out).strip()
    finally:
        _BUDGET.reset(token)


def failed_line(exc: BaseException) -> int | None:
    """The template line being run when `exc` was raised (Jinja2 puts template frames, named
    <template>, into the traceback)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def sample_scores() -> dict[str, float]:
    """A value for every registered score and what it reports beside it (bridging_factor), so
    `ccaic check` tries `statement.scores.<name>` as a build would give it."""
    from ccaic.registry.scores import SCORES

    values = {"gac": 0.8, "gac_disagree": 0.05}
    for entry in SCORES:
        values.setdefault(entry.name, 0.5)
        values.update({f"{entry.name}_{extra}": 0.1 for extra in entry.meta.get("extras", ())})
    return values


#: A made-up statement and principle with every field set, for `ccaic check` to try templates on.
SAMPLE_CONTEXTS: dict[str, dict[str, dict[str, Any]]] = {
    "statement": {
        "statement": {"id": "1", "text": "The AI should be helpful and honest.", "author": "7",
                      "gac": 0.8, "gac_disagree": 0.05, "agrees": 40, "disagrees": 5,
                      "passes": 5, "votes": 50, "groups": {"0": 0.8, "1": 0.75}, "rank": 1,
                      "score": 0.8, "scores": sample_scores(),
                      "polarization": 0.3, "adjusted_polarization": 0.27},
        "assembly": {"name": "assembly", "participants": 100, "statements": 50, "groups": 2,
                     "threshold": 0.7, "selected": 10},
        "constitution": {"name": "constitution"},
    },
    "principle": {
        "principle": {"id": "s1", "text": "Choose the response that is most helpful and honest.",
                      "weight": 1.0, "tags": ["helpfulness"], "statements": ["1"]},
        "constitution": {"name": "constitution"},
    },
}

