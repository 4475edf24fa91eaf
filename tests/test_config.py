"""Settings and feeds.toml: defaults, overrides, and one-line errors naming file and key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from digest.config import load_feeds, load_settings, parse_duration
from digest.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_settings_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert settings.name == "Weekly AI Tool Verdicts"
    assert [r.key for r in settings.panel] == ["builder", "skeptic", "buyer", "futurist"]
    assert settings.database_url == f"sqlite:///{tmp_path.resolve()}/digest.db"
    assert settings.poll.interval == 3600


def test_file_then_environment_override(tmp_path: Path) -> None:
    write(tmp_path / "digest.toml", 'base_url = "https://news.example.org/"\n[poll]\nconcurrency = 8\n')
    settings = load_settings(tmp_path, environ={"DIGEST_POLL_CONCURRENCY": "3",
                                                "DIGEST_DATABASE_URL": "sqlite:///other.db",
                                                "DIGEST_SECRET_KEY": "s3cret"})
    assert settings.base_url == "https://news.example.org"
    assert settings.poll.concurrency == 3
    assert settings.database_url.endswith("/other.db")
    assert settings.secret_key == "s3cret"


@pytest.mark.parametrize(("text", "message"), [
    ("bogus = 1\n", "digest.toml: bogus: unknown key"),
    ("[web]\nport = 99999\n", "digest.toml: web.port: must be between 1 and 65535, got 99999"),
    ("[web]\nport = 0\n", "digest.toml: web.port: must be between 1 and 65535, got 0"),
    ("[send]\nworkers = 99999999999999999\n", "digest.toml: send.workers: must be between 1 and 64"),
    ("[send]\nworkers = 0\n", "digest.toml: send.workers: must be between 1 and 64"),
    ("[send]\nrate = 1e400\n", "digest.toml: send.rate: expected a finite number, got inf"),
    ("[send]\nrate = nan\n", "digest.toml: send.rate: expected a finite number, got nan"),
    ("[send]\nrate = 1e12\n", "digest.toml: send.rate: must be at most 1000000.0"),
    ('base_url = "https://news.example.org/?ref=mail"\n', "digest.toml: base_url: 'https://news.example.org/?ref=mail' has a query or fragment"),
    ('base_url = "https://news.example.org/#top"\n', "digest.toml: base_url: 'https://news.example.org/#top' has a query or fragment"),
    ('base_url = "https://news.example.org/?"\n', "digest.toml: base_url: 'https://news.example.org/?' has a query or fragment"),
    ('sender = "A <a@news.example>\\r\\nBcc: b@news.example"\n', "digest.toml: sender: contains a line break"),
    ('reply_to = "a@news.example\\n"\n', "digest.toml: reply_to: contains a line break"),
    ('base_url = "https://news.example.org/\\r\\nX-Evil: 1"\n', "digest.toml: base_url: contains a line break"),
    ('name = """Two\nlines"""\n', "digest.toml: name: contains a line break"),
    ("[poll]\nconcurency = 3\n", "digest.toml: poll.concurency: unknown key"),
    ('base_url = "ftp://x"\n', "digest.toml: base_url: 'ftp://x' is not an http(s) URL"),
    ('[poll]\ntimeout = "soon"\n', "digest.toml: poll.timeout: 'soon' is not a duration"),
    ('secret_key = "abc"\n', "digest.toml: secret_key: secrets are not read from files"),
    ("[poll\n", "digest.toml: invalid TOML"),
    ('[logo]\nurl = "http://news.example.org/logo.png"\nwidth = 90\nheight = 30\n',
     "digest.toml: logo.url: 'http://news.example.org/logo.png' is not an https URL"),
    ('[logo]\nurl = "logo.png"\nwidth = 90\nheight = 30\n', "digest.toml: logo.url: 'logo.png' is not an https URL"),
    ('[logo]\nurl = "https://news.example.org/logo.png"\n', "digest.toml: logo.width: must be set, 16 pixels or more"),
    ('[logo]\nurl = "https://news.example.org/logo.png"\nwidth = 90\nheight = 1\n',
     "digest.toml: logo.height: must be set, 16 pixels or more"),
    ("[logo]\nheight = 400\n", "digest.toml: logo.height: must be at most 120, got 400"),
    ("[send]\nlease = 0.5\n", "digest.toml: send.lease: must be at least 1s"),
    ('[database]\nurl = "mysql://db/news"\n', "digest.toml: database.url: 'mysql' is not supported"),
    ('[database]\nurl = "postgresql+psycopg2://db/news"\n', "digest.toml: database.url: 'postgresql+psycopg2' is not"),
    ('[[panel]]\nkey = "a"\nname = "A"\nremit = "x"\n[[panel]]\nkey = "a"\nname = "B"\nremit = "y"\n',
     "digest.toml: panel[1].key: duplicate reviewer key 'a'"),
])
def test_settings_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / "digest.toml", text)
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path, environ={})
    assert raised.value.one_line().startswith(message)
    assert "\n" not in raised.value.one_line()


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment: DIGEST_POLL_CONCURRENCY: 'many' is not a whole number"):
        load_settings(tmp_path, environ={"DIGEST_POLL_CONCURRENCY": "many"})


@pytest.mark.parametrize(("name", "value", "message"), [
    ("DIGEST_WEB_PORT", "70000", "environment: DIGEST_WEB_PORT: must be between 1 and 65535, got 70000"),
    ("DIGEST_SEND_WORKERS", "100", "environment: DIGEST_SEND_WORKERS: must be between 1 and 64, got 100"),
    ("DIGEST_SEND_RATE", "1e400", "environment: DIGEST_SEND_RATE: expected a finite number, got inf"),
    ("DIGEST_BASE_URL", "https://x.example/#a", "environment: DIGEST_BASE_URL: 'https://x.example/#a' has a query"),
])
def test_out_of_range_environment_values_name_the_variable(tmp_path: Path, name: str, value: str,
                                                           message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path, environ={name: value})
    assert raised.value.one_line().startswith(message)


def test_a_postal_address_may_span_lines(tmp_path: Path) -> None:
    write(tmp_path / "digest.toml", 'postal_address = """Digest\n1 Example Street"""\n')
    assert load_settings(tmp_path, environ={}).postal_address == "Digest\n1 Example Street"
    with pytest.raises(ConfigError, match="environment: DIGEST_NAME: contains a line break"):
        load_settings(tmp_path, environ={"DIGEST_NAME": "Weekly\nBcc: x@y.example"})


def test_a_base_url_with_a_path_is_fine(tmp_path: Path) -> None:
    write(tmp_path / "digest.toml", 'base_url = "https://example.org/verdicts/"\n[web]\nport = 65535\n')
    settings = load_settings(tmp_path, environ={})
    assert (settings.base_url, settings.web.port) == ("https://example.org/verdicts", 65535)


def test_bad_port_in_settings_is_one_line_exit_2_from_the_cli(cli, home: Path) -> None:
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[web]\nport = 99999\n")
    result = cli("serve")
    assert result.exit_code == 2
    assert result.stderr == "error: digest.toml: web.port: must be between 1 and 65535, got 99999\n"


def test_a_bad_logo_url_is_one_line_exit_2_from_the_cli(cli, home: Path) -> None:
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[logo]\nurl = "javascript:alert(1)"\nwidth = 90\nheight = 30\n')
    result = cli("serve")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: digest.toml: logo.url: 'javascript:alert(1)' is not an https URL")
    assert result.stderr.count("\n") == 1


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="newsletter folder not found"):
        load_settings(tmp_path / "nope", environ={})


def test_feeds_file_is_parsed(tmp_path: Path) -> None:
    write(tmp_path / "feeds.toml", '[[feeds]]\nname = "show-hn"\nurl = "https://hnrss.org/show"\n'
                                   'category = "developer tools"\ninterval = "30m"\n')
    [feed] = load_feeds(tmp_path)
    assert (feed.name, feed.category, feed.interval) == ("show-hn", "developer tools", 1800)


@pytest.mark.parametrize(("text", "message"), [
    ('[[feeds]]\nname = "a"\nurl = "https://a.example/feed"\n[[feeds]]\nname = "a"\nurl = "https://b.example/feed"\n',
     "feeds.toml: feeds[1].name: duplicate feed name 'a' (also feeds[0])"),
    ('[[feeds]]\nname = "a"\nurl = "not a url"\n', "feeds.toml: feeds[0].url: 'not a url' is not an http(s) URL"),
    ('[[feeds]]\nname = "a"\nurl = "https://a.example/"\ncolour = "red"\n', "feeds.toml: feeds[0].colour: unknown key"),
    ('[[feeds]]\nurl = "https://a.example/"\n', "feeds.toml: feeds[0].name: missing or empty"),
    ('[[feeds]]\nname = "a"\nurl = "https://a.example/"\ninterval = "-1h"\n', "feeds.toml: feeds[0].interval:"),
])
def test_feeds_errors_name_entry_and_key(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / "feeds.toml", text)
    with pytest.raises(ConfigError) as raised:
        load_feeds(tmp_path)
    assert raised.value.one_line().startswith(message)


def test_missing_feeds_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="feeds.toml: file not found"):
        load_feeds(tmp_path)


@pytest.mark.parametrize(("value", "seconds"), [(90, 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800)])
def test_durations(value, seconds) -> None:
    assert parse_duration(value) == seconds


def test_packaged_feeds_are_valid_and_match_the_repository_copy() -> None:
    root = Path(__file__).resolve().parents[1]
    feeds = load_feeds(root)
    assert len(feeds) >= 10
    assert all(feed.category for feed in feeds)


def test_files_saved_with_a_byte_order_mark_load(tmp_path: Path) -> None:
    """Windows editors save UTF-8 with a BOM; tomllib alone calls that an invalid statement."""
    (tmp_path / "digest.toml").write_bytes('\ufeffname = "Verdicts ✓"\n'.encode())
    (tmp_path / "feeds.toml").write_bytes('\ufeff[[feeds]]\nname = "a"\nurl = "https://a.example/feed"\n'.encode())
    assert load_settings(tmp_path, environ={}).name == "Verdicts ✓"
    assert [feed.name for feed in load_feeds(tmp_path)] == ["a"]


@pytest.mark.parametrize("url", ["https://a.example/feed\\r\\nX-Injected: 1", "https://a.example/feed\\n",
                                 "https://a.example/\\tfeed", "https://a.example/fe\\u0000ed",
                                 "https://a.example/fe\\u0085ed", "https://a.example/my feed"])
def test_a_feed_url_with_a_line_break_or_control_character_is_refused(tmp_path: Path, url: str) -> None:
    """urlsplit silently drops CR, LF and tab, so such a URL used to pass and be fetched."""
    write(tmp_path / "feeds.toml", f'[[feeds]]\nname = "ok"\nurl = "https://ok.example/"\n'
                                   f'[[feeds]]\nname = "sneaky"\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as raised:
        load_feeds(tmp_path)
    line = raised.value.one_line()
    assert line.startswith("feeds.toml: feeds[1].url: feed 'sneaky': ") and "\n" not in line and "\r" not in line
    assert raised.value.exit_code == 2


def test_a_control_character_in_feeds_toml_is_exit_2_naming_the_feed_from_the_cli(cli, home: Path) -> None:
    (home / "feeds.toml").write_text('[[feeds]]\nname = "sneaky"\nurl = "https://a.example/x\\r\\nHost: evil"\n',
                                     encoding="utf-8")
    result = cli("poll")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: feeds.toml: feeds[0].url: feed 'sneaky': ")
    assert result.stderr.count("\n") == 1


def test_a_missing_secret_key_is_one_config_error_wherever_it_is_needed(cli, home: Path, engine) -> None:
    """Rendering the sample message, reading bounces, sending a proof and serving the web app
    all sign with the key: without one each says the same line and exits 2."""
    from digest.db import session_scope
    from digest.demo.sample import add_sample_issue

    with session_scope(engine, write=True) as session:
        number = str(add_sample_issue(session=session))
    (home / ".digest-secret").unlink()
    said = {}
    for args in (("issue", "render", number), ("bounces",), ("issue", "proof", number, "--to", "ed@example.org"),
                 ("serve", "--port", "0")):
        result = cli(*args)
        said[args[-1] if args[0] != "issue" else args[1]] = (result.exit_code, result.stderr)
    line = ("error: secret_key: no secret key is configured "
            "(hint: run `digest init` (it creates .digest-secret) or set DIGEST_SECRET_KEY)\n")
    assert said == dict.fromkeys(said, (2, line)), said


# --- the [database] section alone (digest.config_values.load_database) ---------------------

def test_the_database_table_is_what_database_settings_declares() -> None:
    from digest.config import DatabaseSettings
    from digest.config_values import DATABASE_FIELDS

    declared = {f.name: (f.default, dict(f.metadata)) for f in dataclasses.fields(DatabaseSettings)}
    assert DATABASE_FIELDS == declared


@pytest.mark.parametrize(("text", "environ"), [
    ("", {}),
    ('[database]\nurl = "sqlite:///other.db"\npool_size = 9\necho = true\n', {}),
    ('[database]\nurl = "postgresql://u@h/db"\npgbouncer = true\n', {"DIGEST_DATABASE_MAX_OVERFLOW": "2"}),
    ("", {"DIGEST_DATABASE_URL": "sqlite:////abs/path.db", "DIGEST_DATABASE_ECHO": "yes"}),
])
def test_the_database_alone_is_what_the_whole_settings_hold(tmp_path: Path, text: str, environ: dict) -> None:
    from digest.config_values import load_database

    write(tmp_path / "digest.toml", text)
    settings, alone = load_settings(tmp_path, environ=environ), load_database(tmp_path, environ=environ)
    assert alone.database_url == settings.database_url
    assert vars(alone.database) == dataclasses.asdict(settings.database)


@pytest.mark.parametrize(("text", "environ"), [
    ("database = 3\n", {}),
    ("[database]\nbogus = 1\n", {}),
    ("[database]\npool_size = -1\n", {}),
    ('[database]\necho = "yes"\n', {}),
    ('[database]\nurl = "mysql://x/y"\n', {}),
    ('[database]\nurl = "sqlite:///a\\nb"\n', {}),
    ("[database\n", {}),
    ("", {"DIGEST_DATABASE_POOL_SIZE": "many"}),
    ("", {"DIGEST_DATABASE_URL": "oracle://x"}),
])
def test_the_database_alone_fails_as_the_whole_settings_do(tmp_path: Path, text: str, environ: dict) -> None:
    from digest.config_values import load_database

    write(tmp_path / "digest.toml", text)
    with pytest.raises(ConfigError) as whole:
        load_settings(tmp_path, environ=environ)
    with pytest.raises(ConfigError) as alone:
        load_database(tmp_path, environ=environ)
    assert alone.value.one_line() == whole.value.one_line()


def test_the_database_alone_leaves_the_other_sections_to_their_commands(tmp_path: Path) -> None:
    from digest.config_values import load_database

    write(tmp_path / "digest.toml", '[smtp]\nurl = "http://nope"\n[web]\nport = 0\n')
    with pytest.raises(ConfigError):
        load_settings(tmp_path, environ={})
    assert load_database(tmp_path, environ={}).database_url.endswith("/digest.db")
    with pytest.raises(ConfigError, match="newsletter folder not found"):
        load_database(tmp_path / "nowhere", environ={})
