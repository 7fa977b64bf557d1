"""Calculated KPIs: arithmetic over other KPIs' values, parsed safely (no eval).

A formula is + - * / and parentheses over KPI ids and numbers. A missing input, or a division
by zero, gives no value: never a silent zero.
"""

from __future__ import annotations

import ast
import operator

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class FormulaError(ValueError):
    """A formula that is not plain arithmetic over KPI ids."""


def _check(node: ast.AST) -> None:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        _check(node.left)
        _check(node.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        _check(node.operand)
    elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return
    elif not isinstance(node, ast.Name):
        raise FormulaError(
            f"only + - * / , parentheses, numbers and KPI ids are allowed; found "
            f"{ast.unparse(node)!r}"
        )


def parse(formula: str) -> ast.Expression:
    """Parse and check a formula."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"cannot parse {formula!r}: {exc.msg}") from None
    _check(tree.body)
    return tree


def inputs(formula: str) -> list[str]:
    """The KPI ids a formula reads, in order of first use."""
    names = [n for n in ast.walk(parse(formula)) if isinstance(n, ast.Name)]
    names.sort(key=lambda n: n.col_offset)
    return list(dict.fromkeys(n.id for n in names))


def _evaluate(node: ast.AST, values: dict[str, float | None]) -> float | None:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values.get(node.id)
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        return None if operand is None else -operand
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    if left is None or right is None or (isinstance(node.op, ast.Div) and right == 0):
        return None
    return _OPERATORS[type(node.op)](left, right)


def evaluate(formula: str, values: dict[str, float | None]) -> float | None:
    """The formula's value, or None when an input is missing or a divisor is zero."""
    return _evaluate(parse(formula).body, values)
