"""The data rules of a service definition: small expressions that derive a person's data from
the synthetic population, deterministically (``premium: "min(floor(income * 0.08, 100) + 43000,
1060000)"``).

The language is Python's expression syntax restricted to what a rule needs — whole numbers,
strings, ``True``/``False``, names of earlier variables, ``+ - * // % /``, comparisons,
``and``/``or``/``not``, ``a if cond else b`` and the functions of :data:`FUNCTIONS` — checked
once when the definition loads (:func:`parse`), then evaluated by walking the tree (no
``eval``). A definition folder holds data only: a rule can compute, never import or call out.

``draw(lo, hi[, step])`` is the only source of variety: a whole number in ``[lo, hi]`` from a
``random.Random`` seeded by (seed, person, rule name, call number), so the same person under
the same seed always gets the same data.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Value = int | str | bool


class RuleError(ValueError):
    """A rule that does not parse, names what is not there, or fails on a person."""


def _floor(value: float, unit: int = 1) -> int:
    """``value`` rounded down to a multiple of ``unit`` (端数切捨て)."""
    if unit <= 0:
        raise RuleError("floor: the unit must be positive")
    return int(value // unit) * unit


def _band(value: float, bounds: list[Any], values: list[Any]) -> Any:
    """The value of the band ``value`` falls in: ``values[i]`` for the i-th bound it reaches
    (``bounds`` ascending, one fewer than ``values``): band(age, [40, 65], [0, 2, 1])."""
    if len(values) != len(bounds) + 1:
        raise RuleError("band: give one more value than bounds")
    return values[sum(1 for bound in bounds if value >= bound)]


# name: (function, fewest arguments, most arguments); draw is handled by the evaluator.
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "min": (min, 2, 8),
    "max": (max, 2, 8),
    "abs": (abs, 1, 1),
    "floor": (_floor, 1, 2),
    "band": (_band, 3, 3),
    "draw": (lambda *_: 0, 2, 3),
}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
    ast.Div: lambda a, b: a / b,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_ALLOWED = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.USub,
            ast.Not, ast.BoolOp, ast.And, ast.Or, ast.Compare, ast.IfExp, ast.Call, ast.List,
            *_BINARY, *_COMPARE)


@dataclass(frozen=True)
class Rule:
    """One parsed rule: its source, its tree and the names it reads."""

    name: str
    source: str
    tree: ast.Expression
    names: frozenset[str]


def parse(name: str, source: str, known: Iterable[str]) -> Rule:
    """The rule ``source`` for ``name``, checked: Python expression syntax within the allowed
    subset, only ``known`` names and the functions with their number of arguments."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise RuleError(f"not an expression: {exc.msg}") from None
    known = set(known)
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise RuleError(f"{type(node).__name__} is not part of the rule language "
                            "(arithmetic, comparisons, and/or/not, if-else, "
                            f"{', '.join(FUNCTIONS)})")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str):
            raise RuleError(f"the constant {node.value!r} is not a number, string or boolean")
        if isinstance(node, ast.Call):
            func = node.func.id if isinstance(node.func, ast.Name) else None
            if func not in FUNCTIONS or node.keywords:
                raise RuleError(f"unknown function {ast.unparse(node.func)!r} (known: "
                                f"{', '.join(FUNCTIONS)})")
            _, fewest, most = FUNCTIONS[func]
            if not fewest <= len(node.args) <= most:
                raise RuleError(f"{func} takes {fewest}–{most} arguments, not {len(node.args)}")
        elif isinstance(node, ast.Name) and not _is_function_name(tree, node):
            if node.id not in known:
                raise RuleError(f"unknown name {node.id!r} (known here: "
                                f"{', '.join(sorted(known)) or 'none'})")
            names.add(node.id)
    return Rule(name, source, tree, frozenset(names))


def _is_function_name(tree: ast.Expression, name: ast.Name) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))


class Evaluator:
    """Evaluates rules for one person: ``draw`` is seeded by (``seed``, ``person``)."""

    def __init__(self, seed: int, person: str) -> None:
        self.seed = seed
        self.person = person

    def value(self, rule: Rule, env: dict[str, Any]) -> Any:
        draws = iter(range(1_000))
        try:
            return self._eval(rule.tree.body, env, rule.name, draws)
        except RuleError as exc:  # a function's complaint: say which rule made it
            if str(exc).startswith(f"{rule.name}: "):
                raise
            raise RuleError(f"{rule.name}: {exc}") from None
        except (ArithmeticError, TypeError, ValueError) as exc:
            raise RuleError(f"{rule.name}: {type(exc).__name__}: {exc}") from None

    def _eval(self, node: ast.AST, env: dict[str, Any], name: str, draws: Any) -> Any:
        ev = lambda n: self._eval(n, env, name, draws)  # noqa: E731
        match node:
            case ast.Constant(value=value):
                return value
            case ast.Name(id=ident):
                return env[ident]
            case ast.List(elts=elts):
                return [ev(e) for e in elts]
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return -ev(operand)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return not ev(operand)
            case ast.BinOp(left=left, op=op, right=right):
                return _BINARY[type(op)](ev(left), ev(right))
            case ast.BoolOp(op=ast.And(), values=values):
                return all(ev(v) for v in values)
            case ast.BoolOp(op=ast.Or(), values=values):
                return any(ev(v) for v in values)
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                current = ev(left)
                for op, right in zip(ops, comparators, strict=True):
                    other = ev(right)
                    if not _COMPARE[type(op)](current, other):
                        return False
                    current = other
                return True
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return ev(body) if ev(test) else ev(orelse)
            case ast.Call(func=ast.Name(id="draw"), args=args):
                lo, hi, *step = (int(ev(a)) for a in args)
                rng = random.Random(f"{self.seed}:{self.person}:{name}:{next(draws)}")
                return rng.randrange(lo, hi + 1, step[0] if step else 1)
            case ast.Call(func=ast.Name(id=func), args=args):
                return FUNCTIONS[func][0](*(ev(a) for a in args))
        raise RuleError(f"{name}: cannot evaluate {ast.unparse(node)!r}")  # parse() forbids it
