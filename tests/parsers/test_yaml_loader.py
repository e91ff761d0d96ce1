"""auditor.parsers.yaml_loader: positions, YAML 1.2 scalars, anchors and merges, and bounded,
never-raising loading."""
from __future__ import annotations

import textwrap

import pytest
import yaml

from auditor.model.yaml import YList, YMap, get_path
from auditor.parsers.yaml_loader import MAX_DEPTH, load_yaml_documents, resolve_plain_scalar


def load(text: str, path: str = "docker-compose.yml"):
    documents, problems = load_yaml_documents(textwrap.dedent(text), path)
    assert problems == [], problems
    assert len(documents) == 1
    return documents[0].root


# --- the port-string regression -----------------------------------------------------------------

def test_compose_port_strings_stay_strings_unlike_pyyaml() -> None:
    text = "ports:\n  - 22:22\n  - 1:30\n  - 3000:3000\n"
    # PyYAML follows YAML 1.1, where 22:22 is a base-60 ("sexagesimal") integer: 22*60+22.
    # (3000:3000 escapes only because a base-60 digit after the first must be below 60.)
    assert yaml.safe_load(text)["ports"] == [1342, 90, "3000:3000"]
    # Compose (Go, YAML 1.2) reads them all as strings, and so do we.
    assert load(text)["ports"] == ["22:22", "1:30", "3000:3000"]


# --- positions --------------------------------------------------------------------------------

def test_line_and_column_of_keys_and_values() -> None:
    root = load("""\
        services:
          app:
            image: node:20-alpine
            ports:
              - "3000:3000"
              -   "443:443"
        """)
    app = root["services"]["app"]
    assert (root.key_span("services").line, root.key_span("services").column) == (1, 1)
    assert (root["services"].key_span("app").line, root["services"].key_span("app").column) == (2, 3)
    image_key, image_value = app.key_span("image"), app.value_span("image")
    assert (image_key.line, image_key.column, image_key.end_column) == (3, 5, 10)
    assert (image_value.line, image_value.column, image_value.end_column) == (3, 12, 26)
    ports = app["ports"]
    assert isinstance(ports, YList)
    assert [(ports.item_span(i).line, ports.item_span(i).column) for i in range(2)] == [(5, 9), (6, 11)]
    assert all(span.path == "docker-compose.yml" for span in (image_key, image_value, ports.span))


def test_missing_key_spans_fall_back_to_the_mapping() -> None:
    root = load("a:\n  b: 1\n")
    assert root["a"].key_span("nope") == root["a"].span
    assert root["a"].value_span("nope") == root["a"].span
    assert root["a"].span.line == 2


def test_multi_document_files_keep_each_document_and_its_index() -> None:
    documents, problems = load_yaml_documents("a: 1\n---\nb: 2\n", "k.yaml")
    assert problems == []
    assert [(d.index, d.span.line, dict(d.root)) for d in documents] == [(0, 1, {"a": 1}), (1, 3, {"b": 2})]
    documents, _ = load_yaml_documents("a: 1\n---\n", "k.yaml")  # a trailing separator: an empty document
    assert [d.root for d in documents] in ([{"a": 1}], [{"a": 1}, None])


# --- scalars ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("42", 42), ("-7", -7), ("0x1F", 31), ("1.5", 1.5), ("-.5", -0.5),
    ("true", True), ("False", False), ("yes", True), ("on", True), ("no", False), ("off", False),
    ("~", None), ("null", None), ("", None),
    ("22:22", "22:22"), ("1_000", "1_000"), ("2001-12-14", "2001-12-14"), ("2G", "2G"),
    (".inf", float("inf")), ("-.inf", float("-inf")),
])
def test_plain_scalars_follow_yaml_1_2_with_1_1_booleans(text: str, expected) -> None:
    assert resolve_plain_scalar(text) == expected


def test_quoted_and_explicitly_tagged_scalars_stay_strings() -> None:
    root = load("""\
        a: "true"
        b: '3000'
        c: !!str 12
        d: yes
        e: "22:22"
        """)
    assert root == {"a": "true", "b": "3000", "c": "12", "d": True, "e": "22:22"}


def test_yaml_1_2_only_numbers() -> None:
    root = load("octal: 0o17\nexponent: 1e3\nleading_zero: 010\n")
    assert root == {"octal": 15, "exponent": 1000.0, "leading_zero": 10}
    assert isinstance(root["leading_zero"], int)


# --- anchors, aliases, merge keys, x- extension fields ------------------------------------------

def test_merge_keys_from_x_extension_fields() -> None:
    root = load("""\
        x-hardening: &hardening
          read_only: true
          cap_drop: [ALL]
        x-limits: &limits
          read_only: false
          mem_limit: 1g
        services:
          app:
            <<: [*hardening, *limits]
            image: node:20-alpine
            cap_drop: [NET_RAW]
        """)
    app = root["services"]["app"]
    # explicit keys win over merged ones; earlier merge sources win over later ones
    assert app["cap_drop"] == ["NET_RAW"] and app["read_only"] is True and app["mem_limit"] == "1g"
    assert "<<" not in app
    # merged keys keep the span where they are written (the x- field): the fix goes there
    assert app.key_span("read_only").line == 2 and app.key_span("mem_limit").line == 6
    assert app.key_span("cap_drop").line == 11
    assert root["x-hardening"]["cap_drop"] == ["ALL"]  # extension fields stay readable


def test_alias_shares_one_value_and_keeps_its_positions() -> None:
    root = load("""\
        x-env: &env
          NODE_ENV: production
        services:
          a:
            environment: *env
          b:
            environment: *env
        """)
    a, b = root["services"]["a"]["environment"], root["services"]["b"]["environment"]
    assert a is b and a.key_span("NODE_ENV").line == 2


def test_merge_of_a_non_mapping_is_a_problem() -> None:
    documents, problems = load_yaml_documents("x: &x [1, 2]\ny:\n  <<: *x\n  z: 1\n", "c.yml")
    assert documents[0].root["y"] == {"z": 1}
    # an alias to a sequence is read as a list of merge sources; each non-mapping item is reported
    assert problems and all(p.span.line == 1 and "merge key" in p.message for p in problems)
    documents, problems = load_yaml_documents("x: &x 5\ny:\n  <<: *x\n", "c.yml")
    assert [(p.span.line, p.span.column) for p in problems] == [(1, 4)]  # the anchored value


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    assert load('a:\n  "<<": 1\n')["a"] == {"<<": 1}


def test_billion_laughs_costs_its_size_not_its_expansion() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    documents, problems = load_yaml_documents("\n".join(lines) + "\n", "bomb.yaml")
    # Sharing the aliases keeps the load cheap, but any walk over the values (a check, the Helm
    # template probe) would still visit 9**10 nodes: the document is refused, as go-yaml does.
    assert documents == []
    assert len(problems) == 1 and "aliases expand" in problems[0].message


# --- problems ---------------------------------------------------------------------------------

def test_duplicate_keys_are_problems_with_both_lines() -> None:
    documents, problems = load_yaml_documents("services:\n  app:\n    image: a\n    image: b\n", "c.yml")
    assert documents[0].root["services"]["app"]["image"] == "b"
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.span.path, problem.span.line, problem.span.column) == ("c.yml", 4, 5)
    assert "duplicate key 'image'" in problem.message and "line 3" in problem.message


def test_merged_keys_are_not_duplicates() -> None:
    load("x: &x {a: 1}\ny:\n  <<: *x\n  a: 2\n")


def test_invalid_yaml_is_a_problem_with_a_position() -> None:
    documents, problems = load_yaml_documents("services:\n  app:\n    image: [unclosed\n", "c.yml")
    assert documents == []
    assert len(problems) == 1 and problems[0].message.startswith("invalid YAML")
    assert problems[0].span.line >= 3


def test_control_characters_are_a_problem() -> None:
    documents, problems = load_yaml_documents("a: 1\nb: \x07\n", "c.yml")
    assert documents == [] and problems and "invalid YAML" in problems[0].message


def test_unsafe_tags_are_never_constructed() -> None:
    documents, problems = load_yaml_documents("a: !!python/object/apply:os.system ['echo hi']\n", "c.yml")
    assert problems == [] or all("invalid" in p.message for p in problems)
    if documents:
        assert isinstance(documents[0].root["a"], YList)  # plain data, nothing executed


def test_nesting_deeper_than_the_limit_is_a_problem() -> None:
    depth = MAX_DEPTH + 10
    documents, problems = load_yaml_documents("[" * depth + "]" * depth + "\n", "deep.yaml")
    assert documents == [] and len(problems) == 1
    assert "too" in problems[0].message or "deeper" in problems[0].message


def test_empty_and_comment_only_text() -> None:
    assert load_yaml_documents("", "e.yml") == ([], [])
    assert load_yaml_documents("# nothing\n", "e.yml") == ([], [])


def test_get_path_walks_maps_and_lists() -> None:
    root = load("a:\n  b:\n    - c: 1\n")
    assert get_path(root, "a", "b", 0, "c") == 1
    assert get_path(root, "a", "x", default="d") == "d"
    assert isinstance(root, YMap)


def test_documents_of_a_file_share_scalar_values_and_line_numbers() -> None:
    """A manifest of thousands of documents repeats its scalars and its lines are numbered past
    256: each distinct plain scalar is one value and each line number one int for the file, so
    the built documents cost their structure, not a copy of every repeated word."""
    text = "---\n".join(f"kind: Pod\nmetadata:\n  name: p{index}\nspec:\n  image: x\n" for index in range(300))
    documents, problems = load_yaml_documents(text, "pods.yaml")
    assert not problems and len(documents) == 300
    kinds = [document.root["kind"] for document in documents]
    assert all(kind == "Pod" for kind in kinds) and len({id(kind) for kind in kinds}) == 1
    last = documents[-1].root
    key_span, value_span = last.key_span("kind"), last.value_span("kind")
    assert key_span.line == value_span.line > 256 and key_span.line is value_span.line
    assert (key_span.column, value_span.column) == (1, 7)
    assert documents[-1].root["metadata"]["name"] == "p299"


def test_each_document_says_whether_a_string_holds_template_markers() -> None:
    text = ("kind: Pod\nmetadata: {name: web}\n---\n"
            "kind: Pod\nmetadata: {name: '{{ .Release.Name }}'}\n---\n"
            "kind: Pod\n'{{ key }}': 1\n---\n"
            "kind: Pod\nimage: \"\\x7b{ .Values.image }}\"\n---\n"  # an escape spells the marker
            "kind: Pod\nonly: '{{ opened'\n")
    documents, _ = load_yaml_documents(text, "k.yaml")
    assert [d.template_markers for d in documents] == [False, True, True, True, False]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r", "\u2028", "\x85"])
def test_line_numbers_follow_every_line_break_libyaml_reads(newline: str) -> None:
    text = newline.join(["a: 1", "b:", "  - x", "  - y", "c: |", "  one", "  two", ""])
    documents, problems = load_yaml_documents(text, "t.yaml")
    assert problems == []
    root = documents[0].root
    assert [root.key_span(key).line for key in ("a", "b", "c")] == [1, 2, 5]
    assert [root["b"].item_span(index).line for index in (0, 1)] == [3, 4]
    assert root.value_span("c").end_line == 8


def test_lines_past_the_shared_numbers_keep_their_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.parsers import yaml_loader

    monkeypatch.setattr(yaml_loader, "SHARED_LINE_NUMBERS", 4)
    text = "a: 1\n" + "# note\n" * 10 + "b:\n  - 2\n"
    documents, problems = yaml_loader.load_yaml_documents(text, "x.yaml")
    assert not problems
    root = documents[0].root
    assert (root.key_span("b").line, root["b"].span.line) == (12, 13)


def test_a_file_of_line_breaks_costs_no_number_per_line() -> None:
    # 5 MiB of comment lines: one int object per line break held 100-200 MB (a hostile file
    # under the size cap); the shared numbers are capped, so the loader's peak stays small
    import tracemalloc

    from auditor.parsers.yaml_loader import load_yaml_documents

    text = "kind: ConfigMap\n" + "#\n" * 2_600_000
    tracemalloc.start()
    try:
        documents, _ = load_yaml_documents(text, "padded.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(documents) == 1
    assert peak < 40 * 1024 * 1024, f"{peak / 1024 / 1024:.0f} MB"
