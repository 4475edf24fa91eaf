"""digest: the engine behind a weekly newsletter that compares two new AI tools side by side.

The pipeline runs one way, one module per stage:
feeds (poll) -> editorial (pairs, reviews, issues) -> render -> outbox (queue) -> sender -> web.
`digest.cli` is a thin layer over these modules; import them directly to use digest as a library.
Heavy modules are imported where they are used, so `import digest` stays cheap.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
