"""Correcting the catalogue: `digest tools edit` and `digest tools merge`."""

from __future__ import annotations

import pytest

from editorial_support import add_tools, as_json, refused, review_all, sql


@pytest.fixture
def tools(home):
    return add_tools(home)


def tool_row(home, slug: str) -> dict:
    import json

    rows = sql(home, "SELECT id, slug, name, tagline, description, category, price, vendor, url, edited "
                     "FROM tool WHERE slug = ?", slug)
    if not rows:
        return {}
    keys = ("id", "slug", "name", "tagline", "description", "category", "price", "vendor", "url", "edited")
    row = dict(zip(keys, rows[0]))
    if isinstance(row["edited"], str):
        row["edited"] = json.loads(row["edited"])
    return row


def test_edit_sets_fields_and_marks_them_as_the_editors(cli, home, tools) -> None:
    result = cli("tools", "edit", "patchwise", "--name", "Patchwise Pro", "--tagline", "  Reviews,  faster ",
                 "--description", "Line one.\nLine two.", "--category", "Code Review", "--price", "Open source",
                 "--vendor", "Patchwise Labs", "--url", "https://patchwise.example/pro")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("patchwise: changed name, tagline, description, category, price, vendor, url;")
    row = tool_row(home, "patchwise")
    assert row["name"] == "Patchwise Pro" and row["slug"] == "patchwise"  # the slug stays stable
    assert row["tagline"] == "Reviews, faster" and row["description"] == "Line one.\nLine two."
    assert (row["category"], row["price"], row["vendor"]) == ("Code Review", "open-source", "Patchwise Labs")
    assert row["edited"] == sorted(["name", "tagline", "description", "category", "price", "vendor", "url"])


@pytest.mark.parametrize("label", ["free", "FREE", "Freemium", "paid", "Open source", "open-source",
                                   "OPEN_SOURCE", "unknown"])
def test_entry_prices_accept_labels(cli, home, tools, label) -> None:
    assert cli("tools", "edit", "lintern", "--price", label).exit_code == 0
    expected = label.lower().replace("_", "-").replace(" ", "-")
    assert tool_row(home, "lintern")["price"] == expected


def test_clearing_optional_fields_and_releasing_them(cli, home, tools) -> None:
    assert cli("tools", "edit", "voxly", "--vendor", "", "--url", "", "--category", "").exit_code == 0
    row = tool_row(home, "voxly")
    assert (row["vendor"], row["url"], row["category"]) == (None, None, None)
    assert row["edited"] == ["category", "url", "vendor"]
    result = cli("tools", "edit", "voxly", "--release", "url", "--release", "vendor")
    assert result.exit_code == 0
    assert tool_row(home, "voxly")["edited"] == ["category"]


def test_an_explicit_new_slug(cli, home, tools) -> None:
    assert cli("tools", "edit", "voxly", "--slug", "voxly-tts").exit_code == 0
    assert tool_row(home, "voxly-tts")["id"] == tools["voxly"]
    assert tool_row(home, "voxly") == {}


@pytest.mark.parametrize(("args", "message"), [
    (("nosuch", "--name", "X"), "error: no tool 'nosuch'"),
    (("lintern",), "error: nothing to change"),
    (("lintern", "--name", "  "), "error: --name: a tool's name cannot be empty"),
    (("lintern", "--price", "cheap"), "error: --price: 'cheap' is not an entry price (one of free, freemium, paid, open-source, unknown)"),
    (("lintern", "--url", "ftp://lintern.example"), "error: --url: 'ftp://lintern.example' is not an http(s) URL"),
    (("lintern", "--category", "c" * 101), "error: --category: 101 characters; the limit is 100"),
    (("lintern", "--slug", "Bad Slug"), "error: --slug: 'bad slug' must be lowercase letters, digits and dashes"),
    (("lintern", "--slug", "patchwise"), "error: --slug: 'patchwise' is already tool 1 (Patchwise)"),
    (("lintern", "--release", "colour"), "error: --release: 'colour' is not an editable field"),
])
def test_edit_refusals(cli, home, tools, args, message) -> None:
    assert refused(cli, home, "tools", "edit", *args).startswith(message)


# --- merge ------------------------------------------------------------------------------------

@pytest.fixture
def twins(cli, home):
    """patchwise and its twin patch-wise (found in another feed), each in a comparison."""
    ids = add_tools(home, ["patchwise", "lintern", "stubby"])
    ids.update(add_tools(home, ["patch-wise"], **{"patch-wise": {
        "name": "Patchwise", "tagline": "", "vendor": "Patchwise Labs", "category": "code review"}}))
    sql(home, "UPDATE tool SET vendor = NULL WHERE slug = 'patchwise'")
    assert cli("pair", "patchwise", "lintern").exit_code == 0     # 1
    assert cli("pair", "stubby", "patch-wise").exit_code == 0     # 2
    review_all(cli, 2, "stubby", "patch-wise", "SSSS", "SK--")
    return ids


def test_merge_carries_comparisons_reviews_and_keys_over(cli, home, twins) -> None:
    result = cli("tools", "merge", "patchwise", "patch-wise")
    assert result.exit_code == 0, result.output
    assert result.stderr == ("merged patch-wise into patchwise: 1 identity key, comparisons 2, "
                             "2 reviews moved; filled vendor\n")
    card = as_json(cli("comparison", "show", "2", "--json"))
    assert (card["a"]["slug"], card["b"]["slug"]) == ("stubby", "patchwise")
    assert (card["b"]["ship_label"], card["b"]["reviews"]) == ("50%", 2)
    assert card["b"]["vendor"] == "Patchwise Labs"
    assert tool_row(home, "patch-wise") == {}
    keys = sorted(sql(home, "SELECT kind, value FROM toolkey WHERE tool_id = ?", twins["patchwise"]))
    assert keys == [("name", "patchwise"), ("url", "https://patch-wise.example/"), ("url", "https://patchwise.example/")]
    assert as_json(cli("comparison", "show", "1", "--json"))["a"]["slug"] == "patchwise"


def test_merge_keeps_the_editors_fields(cli, home, twins) -> None:
    assert cli("tools", "edit", "patchwise", "--vendor", "").exit_code == 0
    assert cli("tools", "merge", "patchwise", "patch-wise").exit_code == 0
    assert tool_row(home, "patchwise")["vendor"] is None


def test_merge_refusals(cli, home, twins) -> None:
    assert refused(cli, home, "tools", "merge", "patchwise", "patchwise").startswith(
        "error: patchwise cannot be merged into itself")
    assert refused(cli, home, "tools", "merge", "patchwise", "nosuch").startswith("error: no tool 'nosuch'")
    assert cli("pair", "patchwise", "patch-wise").exit_code == 0  # comparison 3 pairs the twins
    message = refused(cli, home, "tools", "merge", "patchwise", "patch-wise")
    assert message.startswith("error: comparison 3 pairs patchwise with patch-wise; merged, it would compare a tool with itself")
    assert "digest comparison delete 3" in message
    assert cli("comparison", "delete", "3").exit_code == 0
    assert cli("tools", "merge", "patchwise", "patch-wise").exit_code == 0
