"""The optional C extension of the body fingerprint; everything else is in pyproject.toml.

``optional=True``: where it does not compile (no C compiler, no Python headers), the
install goes on and ``newsstore._minhash`` uses its numpy implementation.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("newsstore._fingerprint", ["newsstore/_fingerprint.c"], optional=True),
    ]
)
