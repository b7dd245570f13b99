"""What the lowering evaluates AST values against: variable values and the file's folder.

Only the lowering (`lower_*.py`, `plan.py`) reads the AST; this is its one evaluator, so a value
means the same thing in an assembly, a constitution and a plan.
"""

from __future__ import annotations

from pathlib import Path

from ccaic.check.variables import Value
from ccaic.files import resolved
from ccaic.syntax import ast


class Env:
    """Variable values, and how literals, references and paths evaluate with them."""

    def __init__(self, variables: dict[str, Value]):
        self.variables = variables

    def string(self, lit: ast.StringLit) -> str:
        out: list[str] = []
        for part in lit.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                out.append(str(self.reference(part.reference)))
        return "".join(out)

    def reference(self, ref: ast.Reference) -> Value:
        head = ref.parts[0].name
        if head == "var":
            return self.variables.get(ref.parts[1].name)
        return ref.dotted

    def value(self, expr: ast.Expr) -> Value:
        if isinstance(expr, ast.StringLit):
            return self.string(expr)
        if isinstance(expr, ast.TemplateLit):
            return expr.text
        if isinstance(expr, (ast.NumberLit, ast.BoolLit)):
            return expr.value
        if isinstance(expr, ast.NullLit):
            return None
        if isinstance(expr, ast.ListLit):
            return [self.value(i) for i in expr.items]
        if isinstance(expr, ast.Reference):
            return self.reference(expr)
        if isinstance(expr, ast.Call):
            return self.value(expr.args[0]) if expr.args else None
        if isinstance(expr, ast.RangeLit):
            return [expr.start.value, expr.end.value]
        if isinstance(expr, ast.RegexLit):
            return expr.pattern
        raise TypeError(type(expr).__name__)

    def path(self, expr: ast.Expr, base: Path) -> str:
        """A path; relative ones are relative to the folder of the file that says them.

        `path` variables are already absolute (see ccaic.check.variables), so a string such as
        "${var.data}/ids.csv" stays where the variable points.
        """
        if isinstance(expr, ast.Call) and expr.args:
            expr = expr.args[0]
        text = str(self.value(expr))
        return text if Path(text).is_absolute() else str(resolved(base / text))


def base_of(node: ast.Node) -> Path:
    """The folder relative paths in `node` are relative to (the current one for `<stdin>`)."""
    if node.span.file.startswith("<"):
        return Path.cwd()
    return Path(node.span.file).resolve().parent
