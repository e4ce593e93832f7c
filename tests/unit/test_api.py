"""The public API stays curated: sorted, complete, documented, typed."""

from __future__ import annotations

import inspect
from pathlib import Path

import newsstore


def test_all_is_sorted_and_every_name_exists() -> None:
    assert list(newsstore.__all__) == sorted(newsstore.__all__)
    for name in newsstore.__all__:
        assert hasattr(newsstore, name), name


def test_every_public_callable_has_a_docstring() -> None:
    for name in newsstore.__all__:
        obj = getattr(newsstore, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_every_error_derives_from_the_root() -> None:
    errors = [getattr(newsstore, n) for n in newsstore.__all__ if n.endswith("Error")]
    assert len(errors) >= 6
    for cls in errors:
        assert issubclass(cls, newsstore.NewsstoreError)


def test_package_ships_py_typed() -> None:
    assert (Path(newsstore.__file__).parent / "py.typed").is_file()


def test_only_the_adapters_import_a_driver() -> None:
    root = Path(newsstore.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root).as_posix()
        if not rel.startswith("_store/mongo"):
            assert "import pymongo" not in text and "from pymongo" not in text, rel
            assert "from bson" not in text and "import bson" not in text, rel
        if not rel.startswith("_store/sqlite"):
            assert "import sqlite3" not in text, rel


def test_store_import_records_takes_exactly_the_options_of_import_records() -> None:
    # Store.import_records(**options) is typed by ImportOptions; an option added to one and
    # not the other would be untyped, or refused, for users of the method.
    from typing import get_type_hints

    from newsstore._importing import ImportOptions, import_records

    keywords = {
        name: param
        for name, param in inspect.signature(import_records).parameters.items()
        if param.kind is inspect.Parameter.KEYWORD_ONLY
    }
    assert set(ImportOptions.__annotations__) == set(keywords)
    hints = get_type_hints(import_records)
    assert {name: hints[name] for name in keywords} == get_type_hints(ImportOptions)


def test_query_choice_tuples_list_their_literal_types() -> None:
    from typing import get_args

    from newsstore import _query as query

    assert get_args(query.Match) == query.MATCHES
    assert get_args(query.TimeField) == query.TIME_FIELDS
    assert get_args(query.SortOrder) == query.SORT_ORDERS
