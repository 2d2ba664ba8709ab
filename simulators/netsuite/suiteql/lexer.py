"""SuiteQL text to tokens. Words are one kind: whether a word is a keyword is the parser's business."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal


class SuiteQLError(Exception):
    """A query NetSuite would refuse. `code` is the o:errorCode the route answers with."""

    def __init__(self, message: str, code: str = "INVALID_PARAMETER") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Token:
    kind: str  # word | string | number | op | end
    text: str  # the word / operator as written, the string's value, the number's digits
    pos: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words

    @property
    def number(self) -> Decimal:
        return Decimal(self.text)


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$#]*)
  | (?P<string>'(?:[^']|'')*')
  | (?P<op><=|>=|<>|!=|\|\||[=<>(),.*+\-/])
    """,
    re.VERBOSE,
)


def tokenize(sql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(sql):
        match = _TOKEN.match(sql, pos)
        if match is None:
            if sql[pos] == "'":
                raise SuiteQLError(f"Invalid search query: unterminated string starting at position {pos}.")
            raise SuiteQLError(f"Invalid search query: unexpected character {sql[pos]!r} at position {pos}.")
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "string":
            tokens.append(Token("string", text[1:-1].replace("''", "'"), pos))
        elif kind != "space":
            tokens.append(Token(kind, text, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(sql)))
    return tokens
