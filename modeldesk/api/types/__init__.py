"""Strawberry types: the GraphQL view of catalogue rows, built at the edge from ORM rows."""
