"""Parsed and validated GraphQL documents, kept within a byte budget (SPEC 9.6).

Strawberry's ParserCache and ValidationCache bound their entries by count and
key them on the query text as sent: a viewer sending 750 copies of one query,
each padded with a different 250 KB comment, made them hold 750 documents and
grew the server by 290 MB for good. Here:

- the key is the document's normalized text (`normalized_query`: comments,
  commas and layout dropped), so padding makes no new entry;
- the cache is a `cachetools.LRUCache` bounded by the estimated bytes of its
  entries, not by their count;
- only documents that passed validation are kept, parsed from their normalized
  text. An invalid document is parsed and validated from the text as sent on
  every request, so its errors point at the caller's own lines and columns,
  and no caller can fill the cache with documents that never run.

An entry's size is estimated when it is stored (measuring it would cost more
than parsing): twice the bytes of its text (the source, and token values
that copy it) and 700 per token (the token, its AST node and location; 390 to
640 bytes were measured with tracemalloc on this schema's documents), plus a
fixed part for the entry itself.

Errors raised while executing a cached document carry locations in its
normalized text, which is one line; validation errors, the ones people fix by
location, always come from the text as sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension

BYTES_PER_CHARACTER = 2
BYTES_PER_TOKEN = 700
ENTRY_OVERHEAD_BYTES = 4096

# A string (kept as it is: its spaces and "#" are its content), a quote that starts
# no well-formed string (the text does not lex), or a run of GraphQL's ignored
# tokens outside strings (whitespace, commas, the byte order mark, comments).
_IGNORED = r"(?:[\t \n\r,\ufeff]|#[^\n\r]*)+"
_STRING_QUOTE_OR_IGNORED = re.compile(
    r'("""(?:[^"\\]++|\\"""|\\|"(?!""))*+"""|"(?:[^"\\\n\r]++|\\.)*+")|(")|' + _IGNORED
)
_ONLY_IGNORED = re.compile(_IGNORED)


def normalized_query(query: str) -> str | None:
    """`query` with comments dropped and every run of ignored tokens made one space.

    The same document either way: GraphQL ignores exactly these between tokens.
    None when the text does not lex (a stray quote): joining its pieces could
    spell a valid document it is not, so it is parsed as sent, and never cached.
    """
    if '"' not in query:  # the common case, in one pass of the C regex engine
        return _ONLY_IGNORED.sub(" ", query).strip(" ")
    stray_quote = False

    def kept(match: re.Match[str]) -> str:
        nonlocal stray_quote
        if match.group(2):
            stray_quote = True
        return match.group(1) or match.group(2) or " "

    text = _STRING_QUOTE_OR_IGNORED.sub(kept, query).strip(" ")
    return None if stray_quote else text


def text_bytes(text: str) -> int:
    """An upper bound of the memory a str's characters take: CPython stores a string
    at 1, 2 or 4 bytes per character, depending on the widest one in it."""
    return len(text) if text.isascii() else 4 * len(text)


def _token_count(document: DocumentNode) -> int:
    count = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        count += 1
        token = token.next
    return count


@dataclass
class CachedDocument:
    """A document that passed `rules`, with the root fields of its operations, by name."""

    text: str
    document: DocumentNode
    rules: tuple[type[ASTValidationRule], ...]
    size: int
    _root_fields: dict[str | None, frozenset[str] | None] = field(default_factory=dict)

    def root_fields_if_query(self, operation_name: str | None) -> frozenset[str] | None:
        """The root field names of the operation to run, or None when it is not a plain query.

        Fragments at the root count as "not a plain query": checking them would
        mean resolving the fragment, and catalogue reads never need one there.
        """
        if operation_name not in self._root_fields:
            self._root_fields[operation_name] = self._find_root_fields(operation_name)
        return self._root_fields[operation_name]

    def _find_root_fields(self, operation_name: str | None) -> frozenset[str] | None:
        operations = [
            d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)
        ]
        if operation_name is not None:
            operations = [op for op in operations if op.name and op.name.value == operation_name]
        if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
            return None
        selections = operations[0].selection_set.selections
        if not all(isinstance(node, FieldNode) for node in selections):
            return None
        return frozenset(node.name.value for node in selections if isinstance(node, FieldNode))


def _entry_size(entry: CachedDocument) -> int:
    return entry.size


class DocumentCache:
    """Valid documents by normalized text, within `max_bytes` (estimated; see the module)."""

    def __init__(self, max_bytes: int) -> None:
        self._entries: LRUCache[str, CachedDocument] = LRUCache(max_bytes, getsizeof=_entry_size)

    @property
    def max_bytes(self) -> int:
        return int(self._entries.maxsize)

    @property
    def current_bytes(self) -> int:
        return int(self._entries.currsize)

    def resize(self, max_bytes: int) -> None:
        """A new budget (the app's settings are known only after the schema is built)."""
        if max_bytes != self.max_bytes:
            self._entries = LRUCache(max_bytes, getsizeof=_entry_size)

    def get(self, text: str) -> CachedDocument | None:
        return self._entries.get(text)

    def store(
        self,
        text: str,
        rules: tuple[type[ASTValidationRule], ...],
        parse_options: dict[str, object],
    ) -> None:
        """Keep the document of `text` (a normalized text that just passed `rules`)."""
        try:
            document = parse(text, **parse_options)  # type: ignore[arg-type]
        except GraphQLError:
            return  # cannot happen for a text that validated, but nothing is worth a crash
        size = (
            ENTRY_OVERHEAD_BYTES
            + BYTES_PER_CHARACTER * text_bytes(text)
            + BYTES_PER_TOKEN * _token_count(document)
        )
        if size <= self.max_bytes:
            self._entries[text] = CachedDocument(text, document, rules, size)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class CachedDocuments(SchemaExtension):
    """Strawberry's parse and validate steps, answered from a `DocumentCache` when they can be."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache
        self._text: str | None = None
        self._entry: CachedDocument | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query:
            self._text = normalized_query(context.query)
            self._entry = None if self._text is None else self.cache.get(self._text)
            if self._entry is not None:
                context.graphql_document = self._entry.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self._entry is not None and self._entry.rules == context.validation_rules:
            context.pre_execution_errors = []  # it passed these very rules when stored
            yield
            return
        yield
        if self._text is not None and context.pre_execution_errors == []:
            self.cache.store(self._text, context.validation_rules, dict(context.parse_options))
