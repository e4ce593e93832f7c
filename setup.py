"""The optional C extensions (the body fingerprint, the SQLite store's held rows sorted);
everything else is in pyproject.toml.

``optional=True``: where one does not compile (no C compiler, no Python headers), the
install goes on and Python stands in: ``newsstore._minhash``'s numpy implementation, and
``python_sorted_pairs`` in ``newsstore._store.sqlite.buffer``.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("newsstore._fingerprint", ["newsstore/_fingerprint.c"], optional=True),
        Extension("newsstore._heldrows", ["newsstore/_heldrows.c"], optional=True),
    ]
)
