"""Documents are cached by their normalized text, which must mean exactly what was sent."""

from __future__ import annotations

import pytest
from graphql import GraphQLError, parse, print_ast

from modeldesk.api.documents import DocumentCache, normalized_query

VALID = [
    "{ llmProviders { id } }",
    'query A($x: String = "a # b, c") {\n  f(a: $x, b: "\\"#") # a comment\n , g\n}',
    '{ f(s: """  block # not a comment\n  \\""" still the block\n""") }',
    "\ufeff{ a ,,, b\t\r\n c }",
    '{ f(s: "", t: """""") }',
]
# Texts that do not lex. Joined naively ("x" and a line break, a stray quote,
# a no-break space) some would spell valid documents they are not.
INVALID = [
    '{ f(s: "x\n") }',
    '{ f(s: """x) }',
    "{ a\u00a0b }",
    "\u00a0{ a }",
    '{ f(s: "x) }',
]


@pytest.mark.parametrize("text", VALID)
def test_a_normalized_document_is_the_same_document(text: str) -> None:
    normalized = normalized_query(text)
    assert normalized is not None
    assert print_ast(parse(normalized)) == print_ast(parse(text))
    assert "# a comment" not in normalized


@pytest.mark.parametrize("text", INVALID)
def test_a_text_that_does_not_lex_never_normalizes_into_a_valid_one(text: str) -> None:
    with pytest.raises(GraphQLError):
        parse(text)
    normalized = normalized_query(text)
    if normalized is not None:
        with pytest.raises(GraphQLError):
            parse(normalized)


def test_padding_makes_no_new_entry_and_the_budget_holds() -> None:
    cache = DocumentCache(max_bytes=64 * 1024)
    for padding in ("# one", "# two\n\n", ",,,"):
        text = normalized_query(f"{{ llmProviders {{ id }} }} {padding}")
        assert text == "{ llmProviders { id } }"
        cache.store(text, (), {})
    assert len(cache) == 1
    for index in range(50):
        cache.store(f'{{ f(s: "{index:04d}{"x" * 4000}") }}', (), {})
    assert cache.current_bytes <= 64 * 1024
    cache.store(f'{{ f(s: "{"y" * 100_000}") }}', (), {})  # larger than the whole budget
    assert cache.current_bytes <= 64 * 1024
