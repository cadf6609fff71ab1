"""Argument values for generated GraphQL calls: what a careless or hostile client sends.

hypothesis-graphql fills arguments with random values, which rarely name a row
that exists and never probe the edges a database has. These strategies mix
values that reach real rows (ids 1-3, seeded names and keys) with the edges:
control characters and NUL inside otherwise sensible text, ids beyond BIGINT,
floats beyond any price, JSON no jsonb column can hold.
"""

from __future__ import annotations

import graphql
from hypothesis import strategies as st
from hypothesis_graphql import nodes

CONTROL_CHARACTERS = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\x9f", "\t", "\n"]

SENSIBLE_TEXT = [
    "openai",
    "xai",
    "gpt-5-mini",
    "grok-4-0709",
    "openai/gpt-5-mini",
    "anthropic/claude-haiku-4-5",
    "1",
    "2",
    "infra_model_scenario_expansion",
    "infra_model_analysis",
    "scenario_expansion",
    "summarization",
    "model",
    "provider",
    "http://127.0.0.1:9/v1",
    "LOCAL_LLM_KEY",
    "Say hello in a {{tone}} voice.",
    "tone",
    "",
    "   ",
    "x" * 250,
    '{"providerName": "openai", "modelId": "gpt-5.1"}',
    '{"text": "\\u0000"}',
    '{"deep": ' + "[" * 100,
    "NaN",
]

ID_TEXT = ["1", "2", "3", "999", "0", "-1", " 2 ", "abc", "1e3", "²", "\u0661", "1_0", "9" * 40]


def _spliced(text: str, character: str, at: int) -> str:
    at = min(at, len(text))
    return text[:at] + character + text[at:]


TEXT = st.one_of(
    st.sampled_from(SENSIBLE_TEXT),
    st.builds(
        _spliced,
        st.sampled_from(SENSIBLE_TEXT),
        st.sampled_from(CONTROL_CHARACTERS),
        st.integers(min_value=0, max_value=12),
    ),
    st.text(max_size=30),  # any code point a GraphQL document can carry, NUL included
)

BIG_NUMBERS = [2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**40]


def _float_literals(*texts: str) -> st.SearchStrategy[graphql.ValueNode]:
    """Float literals as written, "1e400" included (a Python float cannot hold it)."""
    return st.sampled_from(texts).map(lambda text: graphql.FloatValueNode(value=text))


STRING = TEXT.map(nodes.String)

ID = st.one_of(
    st.sampled_from(["1", "2", "3"]).map(nodes.String),  # rows every seeded table has
    st.sampled_from(ID_TEXT).map(nodes.String),
    st.sampled_from([1, 2, 3, 999, *BIG_NUMBERS]).map(nodes.Int),
    STRING,
)

FLOAT = st.one_of(
    _float_literals("0", "0.1", "-0.5", "1e-300", "100", "1000001", "1e308", "1e400", "-1e400"),
    st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
)

INT = st.one_of(
    st.sampled_from([0, 1, 2, 50, 500, 501, -1, 2**31 - 1, -(2**31)]).map(nodes.Int),
    st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
)

_JSON_LEAVES = st.one_of(
    STRING,
    st.sampled_from([0, -7, 2**63, 10**400]).map(nodes.Int),
    _float_literals("1.5", "1e400", "-1e400"),
    st.booleans().map(nodes.Boolean),
    st.just(nodes.Null),
)

_JSON_KEYS = st.sampled_from(["providerName", "modelId", "text", "a", "_"])

JSON = st.recursive(
    _JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(nodes.List),
        st.dictionaries(_JSON_KEYS, children, max_size=3).map(
            lambda fields: nodes.Object(
                [
                    graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=value)
                    for key, value in fields.items()
                ]
            )
        ),
    ),
    max_leaves=8,
)

DATE = st.one_of(st.dates().map(nodes.String), STRING)
DATE_TIME = st.one_of(st.datetimes().map(lambda moment: nodes.String(moment.isoformat())), STRING)

# Scalars hypothesis-graphql fills from these instead of its own random values.
SCALARS: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "String": STRING,
    "ID": ID,
    "Float": FLOAT,
    "Int": INT,
    "JSON": JSON,
    "Date": DATE,
    "DateTime": DATE_TIME,
}

UNDECLARED_ARGUMENTS = st.tuples(
    st.sampled_from(["id", "limit", "key", "bogus"]), st.one_of(STRING, INT, ID)
)
