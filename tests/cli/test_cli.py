"""The command line, driven through Typer's runner: exit codes and output, success and errors."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.main import get_command

from newsstore_cli.app import app

from ..conftest import SAMPLE

SAMPLE_KEY = "content:416eab2c0c7802e3eec1b3ba004c83cb"
URL = "https://news.example.com/world/1.html"


def _record(url: str = URL, **fields: object) -> str:
    data: dict[str, object] = {
        "url": url,
        "title": "标题",
        "published_at": "2023-11-14 11:19:00",
        "snapshot_at": "2023-11-14 15:45:17",
        "category": "国际",
        "source": "新华社",
    }
    data.update(fields)
    return json.dumps(data, ensure_ascii=False)


def test_every_command_has_help_with_an_example(run) -> None:
    names = sorted(get_command(app).commands)  # type: ignore[attr-defined]
    assert names == sorted(
        [
            "import",
            "export",
            "get",
            "find",
            "related",
            "history",
            "diff",
            "delete",
            "lift-takedown",
            "takedowns",
            "stats",
            "doctor",
            "parse",
            "render",
            "schema",
            "dump",
            "restore",
            "copy",
            "rekey",
            "similar",
            "clusters",
            "backfill",
        ]
    )
    listing = run("--help")
    assert listing.exit_code == 0
    for name in names:
        assert name in listing.stdout
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Example:" in result.stdout, name


def test_import_the_sample_text_then_get_it_by_key(run) -> None:
    first = run("import", str(SAMPLE))
    assert first.exit_code == 0
    assert first.stdout == "1 read: 1 inserted, 0 rejected\n"

    again = run("import", str(SAMPLE))
    assert again.stdout == "1 read: 0 inserted, 1 unchanged, 0 rejected\n"

    got = run("get", SAMPLE_KEY)
    assert got.exit_code == 0
    snapshot = json.loads(got.stdout)
    assert snapshot["source"] == "河南广播电视台"
    assert snapshot["published_at"] == "2023-11-14T11:19:00+08:00"
    assert snapshot["stored"]["seen_count"] == 1  # the same record read twice is one


def test_import_ndjson_and_json_array_with_the_same_url_keeps_one(run, tmp_path: Path) -> None:
    nd = tmp_path / "a.ndjson"
    nd.write_text(_record() + "\n" + _record(URL + "?utm_source=x") + "\n", encoding="utf-8")
    arr = tmp_path / "b.json"
    arr.write_text(
        "[" + _record("http://www.news.example.com/world/1.html") + "]", encoding="utf-8"
    )

    result = run("import", str(nd), str(arr))
    assert result.exit_code == 0
    assert result.stdout == "3 read: 1 inserted, 2 unchanged, 0 rejected\n"
    got = json.loads(run("get", "news.example.com/world/1.html".join(["https://", ""])).stdout)
    assert got["stored"]["urls"] == [
        URL,
        URL + "?utm_source=x",
        "http://www.news.example.com/world/1.html",
    ]


def test_bad_records_are_reported_kept_and_the_rest_lands(run, tmp_path: Path) -> None:
    path = tmp_path / "mixed.ndjson"
    path.write_text(
        "\n".join(
            [
                _record("https://n.example.com/1"),
                _record("https://n.example.com/2", published_at="2023-02-30 10:00:00"),
                "not json",
                _record("https://n.example.com/3", colour="red"),
                _record("https://n.example.com/4"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.ndjson"
    result = run("import", str(path), "--rejects", str(rejects))

    assert result.exit_code == 1
    assert result.stdout == "5 read: 2 inserted, 3 rejected\n"
    assert f"rejected: {path}:2: published_at:" in result.stderr
    assert f"rejected: {path}:3: " in result.stderr
    assert f"rejected: {path}:4: colour: Extra inputs are not permitted" in result.stderr
    kept = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(k["line"], k["source"]) for k in kept] == [
        (2, str(path)),
        (3, str(path)),
        (4, str(path)),
    ]
    assert kept[1]["raw"] == "not json"

    # Fix the rejects file in place and import it: the import converges.
    fixed = [
        json.dumps({**k, "record": {**k["record"], "published_at": "2023-02-28 10:00:00"}})
        if k["line"] == 2
        else json.dumps({**k, "record": {x: v for x, v in k["record"].items() if x != "colour"}})
        for k in kept
        if k["record"] is not None
    ]
    rejects.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    assert run("import", str(rejects)).stdout == "2 read: 2 inserted, 0 rejected\n"
    assert run("import", str(path)).stdout == "5 read: 0 inserted, 2 unchanged, 3 rejected\n"


def test_strict_stops_at_the_first_bad_record(run, tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_text(
        _record("https://n.example.com/1") + "\n{}\n" + _record("https://n.example.com/2") + "\n"
    )
    result = run("import", "--strict", str(path))
    assert result.exit_code == 1
    # The summary of what landed before the stop, and the record it stopped at.
    assert result.stdout == "stopped (--strict): 2 read: 1 inserted, 1 rejected\n"
    assert result.stderr == f"rejected: {path}:2: title: Field required\n"
    assert run("find", "--json").stdout.count('"url"') == 1


def test_usage_errors_exit_2(run) -> None:
    assert run("import", "--format", "xml", str(SAMPLE)).exit_code == 2
    assert run("find", "--on", "yesterday").exit_code == 2
    assert run("find", "--match", "regex", "--url", "x").exit_code == 2
    assert run("find", "--sort", "random").exit_code == 2
    assert run("find", "--time", "crawled").exit_code == 2
    assert run("export", "--format", "xml").exit_code == 2
    assert run("import", "--on-duplicate", "merge", str(SAMPLE)).exit_code == 2
    assert run("get").exit_code == 2


def test_every_listed_choice_is_accepted_and_applied(run, tmp_path: Path) -> None:
    data = tmp_path / "two.ndjson"
    data.write_text(
        '{"url": "https://e.com/old", "title": "old", "published_at": "2020-01-01T00:00:00",'
        ' "snapshot_at": "2024-01-01T00:00:00"}\n'
        '{"url": "https://e.com/new", "title": "new", "published_at": "2023-01-01T00:00:00",'
        ' "snapshot_at": "2021-01-01T00:00:00"}\n',
        encoding="utf-8",
    )
    assert run("import", "--on-duplicate", "keep", "--format", "ndjson", str(data)).exit_code == 0
    orders = {
        ("newest", "published"): ["new", "old"],
        ("oldest", "published"): ["old", "new"],
        ("newest", "snapshot"): ["old", "new"],
        ("oldest", "snapshot"): ["new", "old"],
    }
    for (sort, field), titles in orders.items():
        result = run("find", "--sort", sort, "--time", field, "--json")
        assert [s["title"] for s in json.loads(result.stdout)] == titles, (sort, field)
    for how, count in (("exact", 1), ("prefix", 2), ("host", 2), ("domain", 2)):
        url = "https://e.com/old" if how == "exact" else "https://e.com/"
        result = run("find", "--match", how, "--url", url, "--json")
        assert len(json.loads(result.stdout)) == count, how
    assert run("export", "--format", "json").stdout.startswith("[")
    assert run("export", "--format", "ndjson").stdout.startswith("{")
    assert '"$date"' in run("export", "--format", "ejson").stdout
    assert '"$numberLong"' in run("export", "--format", "ejson-canonical").stdout


def test_get_unknown_url_is_one_line_and_exit_1(run) -> None:
    result = run("get", "https://nowhere.example.com/a")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no snapshot for https://nowhere.example.com/a (key https://nowhere.example.com/a)\n"
    )


def test_get_refuses_a_url_that_is_not_http(run) -> None:
    result = run("get", "javascript:alert(1)")
    assert result.exit_code == 2  # a usage error: what was typed is no URL
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_store_flag_wins_over_the_environment(run, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    assert run("import", "--store", str(other), str(SAMPLE)).exit_code == 0
    assert run("get", SAMPLE_KEY).exit_code == 1  # not in the store the environment names
    assert run("get", "--store", f"sqlite:///{other}", SAMPLE_KEY).exit_code == 0


def test_unreachable_mongodb_never_shows_the_password(run) -> None:
    uri = "mongodb://reader:s3cret-pw@127.0.0.1:1/?serverSelectionTimeoutMS=300"
    result = run("find", "--store", uri)
    assert result.exit_code == 1
    assert "s3cret-pw" not in result.output
    assert result.stderr.startswith("Error: cannot reach MongoDB at mongodb://***@127.0.0.1:1/")
    assert len(result.stderr.strip().splitlines()) == 1


def test_find_by_day_in_beijing_time_and_as_json(run, tmp_path: Path) -> None:
    path = tmp_path / "d.ndjson"
    path.write_text(
        _record("https://n.example.com/late", published_at="2023-11-14 23:30:00")
        + "\n"
        + _record("https://n.example.com/next", published_at="2023-11-15 00:30:00")
        + "\n"
    )
    run("import", str(path))
    beijing = json.loads(run("find", "--on", "2023-11-14", "--json").stdout)
    assert [s["url"] for s in beijing] == ["https://n.example.com/late"]
    utc = json.loads(run("find", "--on", "2023-11-14", "--tz", "UTC", "--json").stdout)
    assert [s["url"] for s in utc] == ["https://n.example.com/next", "https://n.example.com/late"]
    table = run("find", "--on", "2023-11-14")
    assert table.exit_code == 0 and "n.example.com/late" in table.stdout


def test_export_then_import_into_an_empty_store_round_trips(run, tmp_path: Path) -> None:
    run("import", str(SAMPLE))
    for fmt, name in [
        ("ndjson", "o.ndjson"),
        ("json", "o.json"),
        ("ejson", "o.ejson"),
        ("ejson-canonical", "o.ndjson.gz"),
    ]:
        out = tmp_path / name
        result = run("export", "--format", fmt, "-o", str(out))
        assert result.exit_code == 0, result.output
        copy = tmp_path / f"copy-{fmt}.db"
        assert (
            run("import", "--store", str(copy), str(out)).stdout
            == "1 read: 1 inserted, 0 rejected\n"
        )
        original = json.loads(run("get", SAMPLE_KEY).stdout)
        copied = json.loads(run("get", "--store", str(copy), SAMPLE_KEY).stdout)
        assert {k: v for k, v in copied.items() if k != "stored"} == {
            k: v for k, v in original.items() if k != "stored"
        }


def test_export_fields_and_limit(run, tmp_path: Path) -> None:
    run("import", str(SAMPLE))
    result = run("export", "--fields", "title,source", "--limit", "1")
    assert json.loads(result.stdout) == {
        "title": "中美缓和后,俄美要破冰?普京接过华盛顿请柬,西方或抛弃泽连斯基",
        "source": "河南广播电视台",
    }
    bad = run("export", "--fields", "title,colour")
    assert bad.exit_code == 2 and "unknown field 'colour'" in bad.stderr  # a usage error
    nested = run("export", "--fields", "stored.key,related.title", "--limit", "1")
    got = json.loads(nested.stdout)
    assert got["stored"] == {"key": SAMPLE_KEY} and set(got["related"][0]) == {"title"}


def test_history_delete_restore(run, tmp_path: Path) -> None:
    path = tmp_path / "v.ndjson"
    path.write_text(
        _record(title="第一版")
        + "\n"
        + _record(title="第二版", snapshot_at="2023-11-15 08:00:00")
        + "\n"
    )
    assert run("import", str(path)).stdout == "2 read: 1 inserted, 1 updated, 0 rejected\n"
    history = json.loads(run("history", URL, "--json").stdout)
    assert [(h["version"], h["title"]) for h in history] == [(1, "第一版"), (2, "第二版")]

    assert run("delete", URL, "--reason", "takedown #7").stdout == (
        f"deleted {URL}; later imports of it are suppressed\n"
    )
    assert run("import", str(path)).stdout == "2 read: 0 inserted, 2 suppressed, 0 rejected\n"
    listed = json.loads(run("takedowns", "--json").stdout)
    assert [(t["key"], t["url"], t["reason"]) for t in listed] == [(URL, URL, "takedown #7")]
    assert URL in run("takedowns").stdout
    gone = run("get", URL)
    assert gone.exit_code == 1
    assert gone.stderr.startswith(f"Error: {URL} was taken down on ")
    assert gone.stderr.rstrip().endswith(": takedown #7")
    lifted = run("lift-takedown", URL)
    assert lifted.exit_code == 0 and "lifted the takedown" in lifted.stdout
    assert run("lift-takedown", URL).exit_code == 1
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["snapshots"] == 0 and stats["suppressed"] == 0


def test_a_takedown_of_a_key_that_holds_nothing_is_recorded_and_says_so(run) -> None:
    typo = "https://news.example.com/nothing-here.html"
    result = run("delete", typo, "--reason", "pre-emptive")
    assert result.exit_code == 0
    assert result.stdout.startswith("recorded a takedown of")
    assert "nothing was stored under" in result.stderr
    assert json.loads(run("takedowns", "--json").stdout)[0]["reason"] == "pre-emptive"


def test_get_of_an_unknown_url_names_the_key_looked_up(run) -> None:
    result = run("get", "HTTP://News.Example.com/none.html?utm_source=x")
    assert result.exit_code == 1
    assert "(key https://news.example.com/none.html)" in result.stderr


def test_related_on_a_day(run) -> None:
    run("import", str(SAMPLE))
    result = run("related", "--on", "2023-08-02", "--ndjson")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["item"]["title"] for r in rows] == [
        "美方请柬,递到中国外交部,布林肯已做好准备,在华盛顿接待王毅"
    ]
    assert rows[0]["listed_by"] == SAMPLE_KEY


def test_parse_and_render_round_trip(run, tmp_path: Path) -> None:
    parsed = run("parse", str(SAMPLE))
    assert parsed.exit_code == 0
    page = tmp_path / "page.json"
    page.write_text(parsed.stdout, encoding="utf-8")
    text = tmp_path / "page.txt"
    text.write_text(run("render", str(page)).stdout, encoding="utf-8")
    assert json.loads(run("parse", str(text)).stdout) == json.loads(parsed.stdout)


def test_parse_reports_a_file_that_is_not_a_snapshot(run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\nworld\n", encoding="utf-8")
    result = run("parse", str(junk))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {junk}:")


def test_schema_is_valid_and_exports_validate_against_it(run) -> None:
    schema = json.loads(run("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    run("import", str(SAMPLE))
    record = json.loads(run("export").stdout)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        record
    )


def test_version(run) -> None:
    from newsstore import __version__

    assert run("--version").stdout == f"newsstore {__version__}\n"


def test_bad_zone_encoding_and_missing_files_are_usage_errors(run, tmp_path: Path) -> None:
    bad_tz = run("find", "--tz", "Mars/Olympus")
    assert bad_tz.exit_code == 2 and "unknown time zone 'Mars/Olympus'" in bad_tz.output
    bad_enc = run("parse", "--encoding", "klingon", str(SAMPLE))
    assert bad_enc.exit_code == 2 and "unknown encoding 'klingon'" in bad_enc.output
    assert run("parse", str(tmp_path / "missing.txt")).exit_code == 2


def test_import_of_a_missing_file_is_reported_and_the_others_land(run, tmp_path: Path) -> None:
    missing = tmp_path / "missing.ndjson"
    result = run("import", str(missing), str(SAMPLE))
    assert result.exit_code == 1
    assert result.stdout == "2 read: 1 inserted, 1 rejected\n"
    assert f"rejected: {missing}: cannot read: No such file or directory" in result.stderr


def test_gb18030_snapshot_text_is_detected(run, tmp_path: Path) -> None:
    page = tmp_path / "gbk.txt"
    page.write_bytes(SAMPLE.read_text(encoding="utf-8").encode("gb18030"))
    assert run("import", str(page)).stdout == "1 read: 1 inserted, 0 rejected\n"
    assert json.loads(run("get", SAMPLE_KEY).stdout)["source"] == "河南广播电视台"


def test_doctor_reports_the_embedded_store(run) -> None:
    assert run("import", "-q", str(SAMPLE)).exit_code == 0
    result = run("doctor", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["server"].startswith("SQLite 3.") and report["missing"] == []
    assert report["indexes"]["snapshots_published"] is True
    table = run("doctor")
    assert table.exit_code == 0 and "topology: embedded file" in table.stdout


def _stocked(run, tmp_path: Path, n: int) -> None:
    path = tmp_path / "many.ndjson"
    lines = [
        json.dumps(
            {
                "url": f"HTTPS://WWW.Example.COM:443/n/{i}.html?utm_source=x#c",
                "title": f"第{i}篇",
                "published_at": f"2023-11-14 0{i % 10}:00:00",
                "snapshot_at": f"2023-11-15 0{i % 10}:30:00",
            },
            ensure_ascii=False,
        )
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run("import", "-q", str(path)).exit_code == 0


def test_a_truncated_listing_says_so_and_limit_0_is_no_limit(run, tmp_path: Path) -> None:
    _stocked(run, tmp_path, 7)
    some = run("find", "--limit", "3")
    assert some.exit_code == 0 and some.stderr == "3 of 7 shown (use --limit, --offset)\n"
    page = run("find", "--limit", "3", "--offset", "3")
    assert page.stderr == "4–6 of 7 shown (use --limit, --offset)\n"
    everything = run("find", "--limit", "0", "--json")
    assert len(json.loads(everything.stdout)) == 7 and everything.stderr == ""
    assert run("find", "--limit", "7").stderr == ""
    assert run("find", "--count").stdout == "7\n"
    assert run("find", "--count", "--on", "2023-11-15").stdout == "0\n"


def test_tables_show_the_time_filtered_on_and_the_canonical_url(run, tmp_path: Path) -> None:
    _stocked(run, tmp_path, 1)
    table = run("find", "--time", "snapshot", "--limit", "0").stdout
    assert "snapshot" in table.splitlines()[1] and "published" not in table
    assert "2023-11-15 00:30" in table
    assert "https://example.com/n/0.html" in table and "HTTPS" not in table


def test_dash_h_is_help(run) -> None:
    assert run("-h").exit_code == 0
    assert run("find", "-h").stdout == run("find", "--help").stdout


def test_parse_and_render_read_stdin_and_render_keeps_the_zone(run) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    parsed = run("parse", "--tz", "UTC", "-", input=text)
    assert parsed.exit_code == 0, parsed.output
    rendered = run("render", "--tz", "UTC", "-", input=parsed.stdout)
    assert rendered.exit_code == 0, rendered.output
    # Read and written in one zone, the times come back as the page had them.
    assert "快照生成时间:2023-11-14 15:45:17" in rendered.stdout
    assert rendered.stdout == run("render", "-", input=run("parse", "-", input=text).stdout).stdout


def test_render_takes_what_find_json_and_export_print(run) -> None:
    run("import", "-q", str(SAMPLE))
    array = run("find", "--json").stdout
    ndjson = run("export").stdout
    one = run("render", "-", input=array)
    assert one.exit_code == 0 and one.stdout.count("快照生成时间") == 1
    assert run("render", "-", input=ndjson + ndjson).stdout.count("快照生成时间") == 2


def test_render_of_a_bad_record_is_one_line_exit_1(run) -> None:
    result = run("render", "-", input='{"title": ""}\n')
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: <stdin>:1: title:")
    assert len(result.stderr.splitlines()) == 1


def test_json_means_a_json_document_on_every_command_that_prints_results(run) -> None:
    report = json.loads(run("import", "--json", str(SAMPLE)).stdout)
    assert (report["read"], report["inserted"], report["rejected"]) == (1, 1, 0)
    for args in (
        ("find", "--json"),
        ("related", "--on", "2023-08-02", "--json"),
        ("history", SAMPLE_KEY, "--json"),
        ("diff", SAMPLE_KEY, "--json"),
        ("find", "--changed", "--json"),
        ("takedowns", "--json"),
        ("stats", "--json"),
        ("doctor", "--json"),
        ("get", SAMPLE_KEY),
    ):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
        json.loads(result.stdout)  # one document, whatever it holds
    related = json.loads(run("related", "--on", "2023-08-02", "--json").stdout)
    assert isinstance(related, list) and related[0]["kind"] in ("related", "more_in_category")
    assert json.loads(run("related", "--on", "2001-01-01", "--json").stdout) == []


@pytest.mark.parametrize(
    "args",
    [
        ("get", "https://a.example.com/1"),
        ("find",),
        ("stats",),
        ("export",),
        ("takedowns",),
        ("history", "https://a.example.com/1"),
        ("diff", "https://a.example.com/1"),
        ("doctor",),
        ("import", "--dry-run", "-"),
    ],
)
def test_read_only_commands_never_create_a_store(run, tmp_path: Path, args) -> None:
    missing = tmp_path / "typo" / "news.db"
    result = run(*args, "--store", str(missing), input='{"title": "x"}\n')
    assert result.exit_code == 1
    assert str(missing) in result.stderr and len(result.stderr.splitlines()) == 1
    assert not missing.exists() and not missing.parent.exists()
