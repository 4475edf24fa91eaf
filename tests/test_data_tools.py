"""One rule names a tool everywhere (`digest.data.tools.resolve_tool`): `tools show`, `pair`,
`tools merge`, `tools keep`, ... never disagree about which tool a reference means."""

from __future__ import annotations

from editorial_support import add_tools, as_json, refused


def test_a_slug_of_digits_names_the_same_tool_in_tools_show_and_pair(cli, home) -> None:
    ids = add_tools(home, ["patchwise", "lintern", "stubby"])
    number = str(ids["lintern"])
    digits = add_tools(home, [number])[number]  # a tool whose slug is lintern's id ("1984")
    assert as_json(cli("tools", "show", number, "--json"))["id"] == digits
    assert cli("pair", number, "patchwise").exit_code == 0
    assert as_json(cli("comparison", "show", "1", "--json"))["a"]["id"] == digits


def test_a_hash_and_a_number_is_always_the_id(cli, home) -> None:
    ids = add_tools(home, ["patchwise", "lintern", "stubby"])
    number = str(ids["lintern"])
    add_tools(home, [number])
    assert as_json(cli("tools", "show", f"#{number}", "--json"))["slug"] == "lintern"
    assert cli("pair", f"#{number}", "stubby").exit_code == 0
    assert as_json(cli("comparison", "show", "1", "--json"))["a"]["slug"] == "lintern"
    assert refused(cli, home, "tools", "show", "#x").startswith("error: tool id '#x' is not a number")
    assert refused(cli, home, "tools", "show", "#999").startswith("error: no tool '#999'")


def test_a_bare_number_is_the_id_when_no_slug_equals_it(cli, home) -> None:
    ids = add_tools(home, ["patchwise", "lintern"])
    lintern = str(ids["lintern"])
    assert as_json(cli("tools", "show", lintern, "--json"))["slug"] == "lintern"
    assert cli("tools", "merge", "patchwise", lintern).exit_code == 0
    assert refused(cli, home, "tools", "show", "lintern").startswith("error: no tool 'lintern'")
