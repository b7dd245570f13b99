"""The vocabulary a block's attributes are declared in: shared by the checker's schema and by
every registry entry, so a plug-in declares its options once and `ccaic check` validates them
without importing the plug-in's code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Value types an attribute may declare.
#   string, number, int, bool, path (a string or file(...) naming a file or folder),
#   template (a string or """template""", checked as Jinja2), int_or_range, regex,
#   list:string, list:number, list:any, ref:<block type>, type_name, any, choice (see choices)
#   choice_or_number: one of `choices` (a string) or a number within minimum..maximum
#   (bridging's pass = "exclude" | 0.5)


@dataclass(frozen=True)
class Attr:
    type: str
    doc: str
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    template_context: str | None = None  # which template context a template attribute sees
    default: object = None  # the value when the attribute is absent (None: none, or computed)


@dataclass(frozen=True)
class BlockSpec:
    doc: str
    labels: tuple[str, ...] = ()  # names of the labels, e.g. ("name",)
    label_choices: tuple[str, ...] = ()  # allowed values of the first label, when it is a kind
    attrs: dict[str, Attr] = field(default_factory=dict)
    blocks: dict[str, BlockSpec] = field(default_factory=dict)
    rules: tuple[str, ...] = ()  # subjects rules may act on here ("statements", "participants")
    repeatable: bool = False  # may appear more than once in its parent
    named: bool = False  # its first label is a name other blocks can reference
