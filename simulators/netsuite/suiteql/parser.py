"""Recursive-descent parser for the SuiteQL subset the product sends (see simulators/README.md).

SELECT items FROM table [alias] [[LEFT [OUTER] | INNER] JOIN table alias ON cond ...] [WHERE cond] [GROUP BY exprs] [ORDER BY expr [ASC|DESC], ...]. Precedence, loosest first: OR, AND, NOT, then comparisons / IN / IS NULL / LIKE.
"""

from __future__ import annotations

from simulators.netsuite.suiteql.ast import (
    Case,
    Column,
    Compare,
    Expr,
    Func,
    In,
    IsNull,
    Join,
    Like,
    Literal,
    Logical,
    Not,
    OrderItem,
    Query,
    SelectItem,
    Star,
)
from simulators.netsuite.suiteql.lexer import SuiteQLError, Token, tokenize

RESERVED = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "GROUP",
        "BY",
        "ORDER",
        "AND",
        "OR",
        "NOT",
        "IN",
        "IS",
        "NULL",
        "LIKE",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "AS",
        "ASC",
        "DESC",
        "HAVING",
        "JOIN",
        "ON",
        "LEFT",
        "RIGHT",
        "INNER",
        "OUTER",
        "UNION",
        "DISTINCT",
        "BETWEEN",
        "FETCH",
        "OFFSET",
    }
)
_COMPARISONS = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def parse(sql: str) -> Query:
    return _Parser(tokenize(sql)).query()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    # -- token helpers ---------------------------------------------------------------------------
    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def accept_word(self, *words: str) -> bool:
        if self.token.is_word(*words):
            self.pos += 1
            return True
        return False

    def accept_op(self, op: str) -> bool:
        if self.token.kind == "op" and self.token.text == op:
            self.pos += 1
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            raise self.error(word)

    def expect_op(self, op: str) -> None:
        if not self.accept_op(op):
            raise self.error(f"'{op}'")

    def name(self, what: str) -> str:
        token = self.token
        if token.kind != "word" or token.text.upper() in RESERVED:
            raise self.error(what)
        self.pos += 1
        return token.text

    def error(self, expected: str) -> SuiteQLError:
        token = self.token
        found = "the end of the query" if token.kind == "end" else repr(token.text)
        return SuiteQLError(
            f"Invalid search query. Syntax error: expected {expected} but found {found} at position {token.pos}."
        )

    # -- grammar ---------------------------------------------------------------------------------
    def query(self) -> Query:
        self.expect_word("SELECT")
        items = [self.select_item()]
        while self.accept_op(","):
            items.append(self.select_item())
        self.expect_word("FROM")
        table = self.name("a table name").lower()
        alias = None
        if self.token.kind == "word" and self.token.text.upper() not in RESERVED:
            alias = self.advance().text.lower()
        joins = []
        while self.token.kind == "word" and self.token.text.upper() in ("LEFT", "INNER", "JOIN"):
            joins.append(self.join())
        where = self.expr() if self.accept_word("WHERE") else None
        group_by: list[Expr] = []
        if self.accept_word("GROUP"):
            self.expect_word("BY")
            group_by = self.expr_list()
        order_by: list[OrderItem] = []
        if self.accept_word("ORDER"):
            self.expect_word("BY")
            order_by.append(self.order_item())
            while self.accept_op(","):
                order_by.append(self.order_item())
        if self.token.kind != "end":
            raise self.error("the end of the query")
        return Query(tuple(items), table, alias, where, tuple(group_by), tuple(order_by), tuple(joins))

    def join(self) -> Join:
        """[LEFT [OUTER] | INNER] JOIN table alias ON condition (the ANSI joins SuiteQL accepts)."""
        outer = self.accept_word("LEFT")
        if outer:
            self.accept_word("OUTER")
        else:
            self.accept_word("INNER")
        self.expect_word("JOIN")
        table = self.name("a table name").lower()
        alias = self.name("a table alias").lower()
        self.expect_word("ON")
        return Join(table, alias, self.expr(), outer)

    def select_item(self) -> SelectItem:
        expr = self.expr()
        if self.accept_word("AS"):
            return SelectItem(expr, self.name("a column alias"))
        if self.token.kind == "word" and self.token.text.upper() not in RESERVED:
            return SelectItem(expr, self.advance().text)
        return SelectItem(expr, None)

    def order_item(self) -> OrderItem:
        expr = self.expr()
        if self.accept_word("DESC"):
            return OrderItem(expr, True)
        self.accept_word("ASC")
        return OrderItem(expr, False)

    def expr_list(self) -> list[Expr]:
        exprs = [self.expr()]
        while self.accept_op(","):
            exprs.append(self.expr())
        return exprs

    def expr(self) -> Expr:
        left = self.conjunction()
        while self.accept_word("OR"):
            left = Logical("OR", left, self.conjunction())
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.accept_word("AND"):
            left = Logical("AND", left, self.negation())
        return left

    def negation(self) -> Expr:
        if self.accept_word("NOT"):
            return Not(self.negation())
        return self.predicate()

    def predicate(self) -> Expr:
        left = self.operand()
        token = self.token
        if token.kind == "op" and token.text in _COMPARISONS:
            self.pos += 1
            return Compare(_COMPARISONS[token.text], left, self.operand())
        if self.accept_word("IS"):
            negated = self.accept_word("NOT")
            self.expect_word("NULL")
            return IsNull(left, negated)
        negated = self.accept_word("NOT")
        if self.accept_word("IN"):
            self.expect_op("(")
            items = self.expr_list()
            self.expect_op(")")
            return In(left, tuple(items), negated)
        if self.accept_word("LIKE"):
            return Like(left, self.operand(), negated)
        if negated:
            raise self.error("IN or LIKE after NOT")
        return left

    def operand(self) -> Expr:
        token = self.token
        if token.kind == "string":
            self.pos += 1
            return Literal(token.text)
        if token.kind == "number":
            self.pos += 1
            return Literal(token.number)
        if token.kind == "op" and token.text == "-" and self.tokens[self.pos + 1].kind == "number":
            self.pos += 2
            return Literal(-self.tokens[self.pos - 1].number)
        if self.accept_op("("):
            inner = self.expr()
            self.expect_op(")")
            return inner
        if self.accept_word("NULL"):
            return Literal(None)
        if self.accept_word("CASE"):
            return self.case()
        first = self.name("a column, literal or function")
        if self.accept_op("."):
            second = self.name("a column name after '.'")
            if self.token.kind == "op" and self.token.text == "(":
                return self.call(f"{first}.{second}")
            return Column(first.lower(), second.lower())
        if self.token.kind == "op" and self.token.text == "(":
            return self.call(first)
        return Column(None, first.lower())

    def call(self, name: str) -> Func:
        self.expect_op("(")
        if self.accept_op("*"):
            self.expect_op(")")
            return Func(name.upper(), (Star(),))
        if self.accept_op(")"):
            return Func(name.upper(), ())
        args = self.expr_list()
        self.expect_op(")")
        return Func(name.upper(), tuple(args))

    def case(self) -> Case:
        operand = None if self.token.is_word("WHEN") else self.expr()
        whens = []
        while self.accept_word("WHEN"):
            condition = self.expr()
            self.expect_word("THEN")
            whens.append((condition, self.expr()))
        if not whens:
            raise self.error("WHEN")
        default = self.expr() if self.accept_word("ELSE") else None
        self.expect_word("END")
        return Case(operand, tuple(whens), default)
