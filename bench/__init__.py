"""newsstore's benchmark suite (issue #6): ``python -m bench run [--scale N]``.

See ``bench/README.md`` for what each figure measures and how to reproduce it. Nothing here
is part of the test suite; generated data and cached stores live in ``bench/work/``.
"""
