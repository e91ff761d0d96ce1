"""The shell parser for RUN text: commands wherever the shell may run them, their branches,
literal words, nested scripts, and bounds on hostile input."""
from __future__ import annotations


from auditor.parsers.shell import MAX_NESTING, exec_commands, parse_script, script_operand


def commands(text: str) -> dict[tuple[str, ...], object]:
    return {c.argv: c for c in parse_script(text).commands}


def test_every_branch_of_an_if_chain_is_a_command_with_its_branch() -> None:
    found = commands('if [ -f yarn.lock ]; then yarn --frozen-lockfile; elif [ -f package-lock.json ]; '
                     'then npm ci; elif [ -f pnpm-lock.yaml ]; then corepack enable pnpm && pnpm i; '
                     'else echo "Lockfile not found." && exit 1; fi')
    assert found[("npm", "ci")].branch_phrase() == "in the elif [ -f package-lock.json ] branch"
    assert found[("yarn", "--frozen-lockfile")].branch_phrase() == "in the if [ -f yarn.lock ] branch"
    assert found[("pnpm", "i")].branch_phrase() == "in the elif [ -f pnpm-lock.yaml ] branch"
    assert [b.kind for b in found[("pnpm", "i")].branches] == ["elif", "and"]
    assert found[("echo", "Lockfile not found.")].branch_phrase() == "in the else branch of if [ -f yarn.lock ]"
    assert all(c.conditional for c in found.values())


def test_or_case_loop_function_and_subshell_commands_all_count() -> None:
    found = commands('npm ci || npm install; case "$PM" in yarn) yarn;; *) npm i;; esac; '
                     'for d in a b; do (cd "$d" && npm ci --omit=dev); done; f() { npm prune; }; ! npm test')
    assert found[("npm", "install")].branch_phrase() == "only when 'npm ci' fails (||)"
    assert found[("npm", "i")].branch_phrase() == 'in the case "$PM" in *) branch'
    assert found[("npm", "ci", "--omit=dev")].branch_phrase() == "in the loop for d in a b"
    assert found[("npm", "prune")].branch_phrase() == "in function f"
    assert not found[("npm", "test")].conditional


def test_words_are_unquoted_and_expansions_marked_not_literal() -> None:
    (command,) = parse_script("NODE_ENV=production npm ci \"--omit\"=dev '$HOME' $'a\\tb' \"$CACHE\"/x "
                              "${FLAGS:-} pkg*.json \\;").commands
    assert command.assignments == ("NODE_ENV=production",)
    assert command.argv == ("npm", "ci", "--omit=dev", "$HOME", "a\tb", "$CACHE/x", "${FLAGS:-}", "pkg*.json", ";")
    assert command.literal == (True, True, True, True, True, False, False, True, True)


def test_wrappers_are_looked_through() -> None:
    for text in ("sudo -E -u node npm ci", "env -i PATH=/bin NODE_ENV=production npm ci",
                 "su-exec node npm ci", "nice -n 10 npm ci", "exec npm ci", "timeout 300 npm ci"):
        (command,) = parse_script(text).commands
        assert command.program == ("npm", "ci") and command.name == "npm", text
    (command,) = parse_script("env NODE_ENV=production npm ci").commands
    assert command.inline_assignments == ("NODE_ENV=production",)


def test_scripts_handed_to_a_shell_are_parsed_in_place() -> None:
    text = "set -eux; sh -c 'npm ci && npm cache clean --force'; bash -o pipefail -ec \"apk add git\""
    found = commands(text)
    clean = found[("npm", "cache", "clean", "--force")]
    assert text[clean.offset:].startswith("npm cache clean")  # offsets point into the outer text
    assert [b.kind for b in clean.branches] == ["script", "and"]
    assert ("apk", "add", "git") in found
    assert commands("su node -c 'npm ci'").get(("npm", "ci")) is not None
    heredoc = "bash -e <<'SCRIPT'\nif true; then npm ci; fi\nSCRIPT\n"
    found = commands(heredoc)
    assert heredoc[found[("npm", "ci")].offset:].startswith("npm ci")


def test_pipelines_and_substitutions_link_the_commands_that_feed_a_command() -> None:
    found = commands('curl -fsSL https://x | tee log | sudo -E bash -; sh -c "$(wget -qO- https://y)"; '
                     'bash <(curl -s https://z)')
    piped = found[("sudo", "-E", "bash", "-")]
    assert [c.name for c in piped.upstream] == ["curl", "tee"]
    assert script_operand(piped) is None
    substituted = found[("sh", "-c", "$(wget -qO- https://y)")]
    assert [c.name for c in substituted.substituted] == ["wget"]
    assert [c.name for c in found[("bash", "<(curl -s https://z)")].substituted] == ["curl"]


def test_runs_whenever_follows_conditional_branches() -> None:
    def pair(text: str) -> bool:
        found = parse_script(text).commands
        install = next(c for c in found if c.argv[:2] == ("npm", "ci"))
        clean = next(c for c in found if c.argv[:2] == ("npm", "cache"))
        return clean.runs_whenever(install)

    assert pair("npm ci && npm cache clean --force")
    assert pair("if [ -f package-lock.json ]; then npm ci; fi; npm cache clean --force")
    assert pair("if [ -f package-lock.json ]; then npm ci && npm cache clean --force; fi")
    assert not pair("npm ci || npm cache clean --force")
    assert pair("npm ci && npm audit --audit-level=high || true && npm cache clean --force")
    assert not pair("npm ci && npm audit || echo failed || npm cache clean --force")
    assert not pair("if [ -f yarn.lock ]; then npm cache clean --force; else npm ci; fi")
    assert not pair("npm cache clean --force; npm ci")


def test_exec_form() -> None:
    plain = exec_commands(("npm", "ci", "$NOT_EXPANDED"))
    assert [c.argv for c in plain.commands] == [("npm", "ci", "$NOT_EXPANDED")]
    assert plain.commands[0].literal == (True, True, True)  # no shell, so no expansion
    shell = exec_commands(("/bin/sh", "-c", "npm ci && npm cache clean --force"))
    assert [c.argv for c in shell.commands][1:] == [("npm", "ci"), ("npm", "cache", "clean", "--force")]
    assert shell.commands[2].runs_whenever(shell.commands[1])


def test_syntax_errors_are_problems_not_exceptions() -> None:
    result = parse_script("if then npm ci; fi; (")
    assert result.problems
    assert all(isinstance(offset, int) and message for offset, message in result.problems)


def test_hostile_nesting_is_bounded() -> None:
    levels = MAX_NESTING + 4
    text = "".join(f"bash <<L{n}\n" for n in range(levels)) + "npm ci\n" + "".join(
        f"L{n}\n" for n in reversed(range(levels)))
    result = parse_script(text)
    assert ("npm", "ci") not in [c.argv for c in result.commands]
    assert any("nested more than" in message for _, message in result.problems)
    deep = parse_script("$(" * 5000 + "npm ci" + ")" * 5000)  # returns (no recursion error, no hang)
    assert isinstance(deep.problems, tuple)


def test_parse_is_cached_per_text() -> None:
    text = "apk add --no-cache git # cached"
    assert parse_script(text) is parse_script(text)
