"""The `ai-session` command's verbs, run as a user runs them (`.venv/bin/ai-session`, a new
process each) against a real `ai-session server` on a private runtime directory."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import queue
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cli import SUBCOMMANDS, _connection_first, _parser, _program, _quick_parse, _runnable

BIN = Path(sys.executable).parent
AI = str(BIN / "ai-session")
TOKEN = "cli-test-token"
BASH = ["bash", "--norc", "--noprofile"]


class Instance:
    """A running `ai-session server` and the environment that finds it by its socket."""

    def __init__(self, env: dict[str, str], url: str, socket: str, home: Path) -> None:
        self.env = env
        self.url = url
        self.socket = socket
        self.home = home

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AI, *args],
            capture_output=True,
            text=True,
            env=env or self.env,
            cwd=self.home,
            timeout=timeout,
        )

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def summary(self, name: str) -> dict[str, Any]:
        from app.client import Client, session_path

        return Client(socket=self.socket).request("GET", session_path(name))  # type: ignore[no-any-return]

    def last_seq(self) -> int:
        from app.client import Client

        return int(Client(socket=self.socket).request("GET", "/events")["last_seq"])


def poll(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.02)
    return value


def _start_server(
    env: dict[str, str], cwd: Path, *options: str
) -> tuple[subprocess.Popen[str], str, str]:
    """A real `ai-session server --port 0 OPTIONS`: the process, its URL and its socket."""
    proc = subprocess.Popen(
        [AI, "server", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ai-session server: http://"), line
    url, _, socket_path = line.split(": ", 1)[1].strip().partition(" and ")
    return proc, url, socket_path


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    home = tmp_path_factory.mktemp("cli")
    (home / ".bashrc").write_text('PS1="$ "\n')  # the user's rc files are not the test's
    run = home / "run"
    run.mkdir(mode=0o700)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AI_SESSION", "TMUX"))},
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(run),
        "SHELL": "/bin/bash",
        "PS1": "$ ",
        "LANG": "C.UTF-8",
    }
    proc, url, socket = _start_server(env, home, "--rate", "10000", "--token", TOKEN)
    try:
        yield Instance(env, url, socket, home)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _screen(instance: Instance, name: str, text: str) -> str:
    def shown() -> str:
        screen = instance.ok("capture-pane", "-t", name, "-p")
        return screen if text in screen else ""

    return poll(shown, what=f"{text!r} on {name}'s screen")  # type: ignore[no-any-return]


# -- the verbs -----------------------------------------------------------------------------------


def test_create_list_send_keys_capture_exec_kill(instance: Instance) -> None:
    assert instance.ok("create", "c1", "--", *BASH).strip() == "c1"
    assert "c1: bash" in instance.ok("list-sessions")
    assert "[80x24] (running)" in instance.ok("list-sessions")
    table = instance.ok("list").splitlines()
    assert table[0].split() == ["NAME", "STATUS", "PID", "COMMAND", "SIZE", "CREATED"]
    assert any(row.split()[:2] == ["c1", "running"] for row in table[1:])
    _screen(instance, "c1", "$")
    instance.ok("send-keys", "-t", "c1", "echo typed-$((6*7))", "Enter")
    assert "typed-42" in _screen(instance, "c1", "typed-42")
    done = instance.run("exec", "c1", "echo", "hello")
    assert (done.returncode, done.stdout) == (0, "hello\n"), done.stderr
    done = instance.run("exec", "c1", "printf", "abc")
    assert (done.returncode, done.stdout) == (0, "abc"), done.stderr  # nothing added
    done = instance.run("exec", "c1", "--", "sh", "-c", "'exit 5'")
    assert done.returncode == 5, done.stderr
    done = instance.run("exec", "--timeout", "0.5", "c1", "sleep", "30")
    assert done.returncode == 124 and "timed out" in done.stderr
    instance.ok("kill", "c1")
    done = instance.run("kill", "c1")
    assert done.returncode == 1 and "SESSION_NOT_FOUND" in done.stderr
    assert done.stderr.count("\n") == 1  # one line
    assert "c1:" not in instance.ok("list-sessions")


def test_a_one_word_command_goes_to_the_shell_several_are_argv(instance: Instance) -> None:
    instance.ok("create", "sh1", "--", "echo one-$((1+1)); sleep 30")
    assert "one-2" in _screen(instance, "sh1", "one-2")
    instance.ok("create", "argv1", "--", "printf", "%s|", "a b", "$HOME")
    assert "a b|$HOME|" in _screen(instance, "argv1", "|")
    for name in ("sh1", "argv1"):
        instance.ok("kill", name)


def test_capture_pane_joins_wrapped_lines(instance: Instance) -> None:
    instance.ok("create", "wrap", "--", "sh", "-c", "printf '%0100d\\n' 0; sleep 30")
    poll(lambda: "0" * 100 in instance.ok("capture-pane", "-t", "wrap", "-J"), what="joined")
    plain = instance.ok("capture-pane", "-t", "wrap").splitlines()
    assert "0" * 80 in plain and "0" * 100 not in plain, plain
    instance.ok("kill", "wrap")


def test_wait_gives_the_exit_code_or_124(instance: Instance) -> None:
    instance.ok("create", "w7", "--", "sh", "-c", "sleep 0.3; exit 7")
    done = instance.run("wait", "w7")
    assert done.returncode == 7, done.stderr
    assert any(
        line.startswith("w7: ") and line.endswith("[80x24] (exited 7)")
        for line in instance.ok("list-sessions").splitlines()
    )
    instance.ok("create", "long", "--", "sleep", "30")
    done = instance.run("wait", "long", "--timeout", "0.3")
    assert done.returncode == 124 and "still runs" in done.stderr
    done = instance.run("wait", "nosuch")
    assert done.returncode == 1 and "SESSION_NOT_FOUND" in done.stderr
    for name in ("w7", "long"):
        instance.ok("kill", name)


def test_wait_takes_any_timeout(instance: Instance) -> None:
    """`--timeout` over the server's longest long poll (an hour) was sent as is and refused;
    NaN never ended (a request a moment, for ever)."""
    instance.ok("create", "w3", "--", "sh", "-c", "sleep 0.3; exit 3")
    done = instance.run("wait", "--timeout", "7200", "w3")
    assert done.returncode == 3, done.stderr
    for bad in ("nan", "-1", "inf"):
        for verb, *rest in (("wait",), ("exec", "true")):  # exec: a traceback (int(nan))
            done = instance.run(verb, "--timeout", bad, "w3", *rest, timeout=10)
            assert done.returncode == 2 and "wants a number of seconds" in done.stderr, done
    instance.ok("kill", "w3")


def test_signal_and_respawn(instance: Instance) -> None:
    instance.ok("create", "sig", "--", "sleep", "30")
    instance.ok("signal", "sig", "TERM")
    assert instance.run("wait", "sig").returncode == 128 + 15
    assert "(exited SIGTERM)" in instance.ok("list-sessions")
    instance.ok("respawn", "sig")
    poll(lambda: instance.summary("sig")["status"].lower() == "running", what="running again")
    done = instance.run("respawn", "sig")  # still running, no -k
    assert done.returncode == 1 and done.stderr.startswith("ai-session: "), done.stderr
    old = instance.summary("sig")["pid"]
    instance.ok("respawn", "-k", "sig")
    poll(lambda: instance.summary("sig")["pid"] not in (old, None), what="a new pid")
    instance.ok("signal", "sig", "9", "--session")
    assert instance.run("wait", "sig").returncode == 128 + 9
    done = instance.run("signal", "sig", "NOPE")
    assert done.returncode == 1 and "INVALID_REQUEST" in done.stderr
    instance.ok("kill", "sig")


def test_events_prints_json_lines_and_resumes_from_a_seq(instance: Instance) -> None:
    since = instance.last_seq()
    reader = subprocess.Popen(
        [AI, "events", "--since", str(since), "--session", "ev"],
        stdout=subprocess.PIPE,
        text=True,
        env=instance.env,
    )
    try:
        instance.ok("create", "ev", "--", "sh", "-c", "echo hi; sleep 0.3; exit 3")
        assert reader.stdout is not None
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + 15
        while not any(e["type"] == "exit" for e in seen):
            assert time.monotonic() < deadline, seen
            seen.append(json.loads(reader.stdout.readline()))
    finally:
        reader.terminate()
        reader.wait(timeout=10)
    assert seen[0]["type"] == "created" and seen[0]["session"] == "ev"
    assert all(e["session"] == "ev" for e in seen)
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(set(seqs)) and seqs[0] > since
    exit_event = seen[-1]
    assert exit_event["exit_code"] == 3 and exit_event["signal"] is None
    # Resuming after the first event gives the rest, the first not again; -n stops after N.
    done = instance.run("events", "--since", str(seqs[0]), "--session", "ev", "-n", "1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["seq"] == seqs[1]
    instance.ok("kill", "ev")


def test_events_from_now_by_default(instance: Instance) -> None:
    instance.ok("create", "earlier", "--", "sleep", "30")
    before = instance.last_seq()
    assert before > 0  # events happened: none of them is shown
    reader = subprocess.Popen(
        [AI, "events", "-n", "1"], stdout=subprocess.PIPE, text=True, env=instance.env
    )
    try:
        assert reader.stdout is not None
        ready: list[Any] = []
        made = 0
        while not ready:  # new events until the reader, once it knows where "now" is, shows one
            assert made < 50, "no event shown"
            instance.ok("create", f"now{made}", "--", "sleep", "30")
            made += 1
            ready, _, _ = select.select([reader.stdout], [], [], 0.2)
        event = json.loads(reader.stdout.readline())
        assert event["seq"] > before and event["session"].startswith("now"), event
        assert reader.wait(timeout=10) == 0  # -n 1: one event, then done
    finally:
        reader.kill()
        for name in ["earlier", *(f"now{n}" for n in range(made))]:
            instance.ok("kill", name)


def test_history_lists_the_commands_typed(instance: Instance) -> None:
    instance.ok("create", "h1", "--", *BASH)
    _screen(instance, "h1", "$")
    for command in ("echo first", "cd /tmp", "ls /nonexistent-h1"):
        instance.run("exec", "h1", command)
    table = instance.ok("history", "-t", "h1").splitlines()
    assert table[0].split() == ["SEQ", "EXIT", "TIME", "CWD", "COMMAND"]
    rows = [row.split(None, 4) for row in table[1:]]
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("1", "0", str(instance.home), "echo first"),
        ("2", "0", str(instance.home), "cd /tmp"),
        ("3", "2", "/tmp", "ls /nonexistent-h1"),
    ]
    failed = instance.ok("history", "-t", "h1", "--failed", "--json").splitlines()
    (record,) = [json.loads(line) for line in failed]
    assert record["exit_code"] == 2 and "nonexistent-h1" in record["output"]
    assert len(instance.ok("history", "-t", "h1", "-n", "1").splitlines()) == 2
    done = instance.run("history", "-t", "nope")
    assert done.returncode == 1 and "SESSION_NOT_FOUND" in done.stderr
    done = instance.run("history")
    assert done.returncode == 2 and "-t NAME" in done.stderr
    instance.ok("kill", "h1")


def test_exec_while_a_program_runs_is_refused_naming_it(instance: Instance) -> None:
    instance.ok("create", "busy", "--", *BASH)
    _screen(instance, "busy", "$")
    instance.ok("send-keys", "-t", "busy", "sleep 30", "Enter")
    poll(lambda: "sleep 30" in instance.ok("capture-pane", "-t", "busy"))
    done = poll(
        lambda: (d := instance.run("exec", "busy", "echo", "never")).returncode == 1 and d,
        what="exec refused",
    )
    assert "SESSION_BUSY" in done.stderr and "sleep" in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and done.stdout == ""
    instance.ok("send-keys", "-t", "busy", "C-c")
    instance.ok("kill", "busy")


# -- errors --------------------------------------------------------------------------------------


def test_unknown_verbs_say_so(instance: Instance) -> None:
    done = instance.run("no-such-verb-xyz", "arg")
    assert done.returncode == 2
    assert "unknown command 'no-such-verb-xyz'" in done.stderr
    assert "list-sessions" in done.stderr and "send-keys" in done.stderr


def test_a_program_on_path_a_path_or_a_command_line_is_run_in_the_tui() -> None:
    assert _runnable("sh") and _runnable("./script") and _runnable("make && make test")
    assert not _runnable("no-such-verb-xyz")
    assert _program(["vim", "a b.txt"]) == ["vim", "a b.txt"]
    assert _program(["make && make test"]) == "make && make test"
    assert _program(["vim"]) == ["vim"] and _program([]) is None


def test_no_instance(instance: Instance, tmp_path: Path) -> None:
    env = {**instance.env, "XDG_RUNTIME_DIR": str(tmp_path)}
    done = instance.run("list-sessions", env=env)
    assert done.returncode == 1 and "no running ai-session instance" in done.stderr
    (tmp_path / "ai-session").mkdir(exist_ok=True)
    stale = tmp_path / "ai-session" / "999999999.sock"  # a dead instance's socket
    stale.touch()
    done = instance.run("list-sessions", env=env)
    assert done.returncode == 1 and "no running ai-session instance" in done.stderr
    assert not stale.exists()
    # A killed instance whose pid lives on (a zombie not yet reaped, or reused): its socket
    # is there but nobody listens. It is skipped and removed, not "connection refused".
    bound = tmp_path / "ai-session" / f"{os.getpid()}.sock"
    with socket.socket(socket.AF_UNIX) as orphan:
        orphan.bind(str(bound))  # bound, never listening
        done = instance.run("list-sessions", env=env)
    assert done.returncode == 1 and "no running ai-session instance" in done.stderr
    assert not bound.exists()
    done = instance.run("list-sessions", "--socket", str(tmp_path / "gone.sock"))
    assert done.returncode == 1 and "cannot reach the instance" in done.stderr


def test_tokens_over_tcp(instance: Instance) -> None:
    done = instance.run("list-sessions", "--server", instance.url, "--token", "wrong")
    assert done.returncode == 1 and done.stderr.startswith("ai-session: ")
    assert "UNAUTHORIZED" in done.stderr, done.stderr
    instance.ok("list-sessions", "--server", instance.url, "--token", TOKEN)
    env = {**instance.env, "AI_SESSION_TOKEN": TOKEN}
    assert instance.run("list", "--server", instance.url, env=env).returncode == 0
    done = instance.run("list", "--server", "http://127.0.0.1:1")
    assert done.returncode == 1 and "cannot reach the instance" in done.stderr


def test_verbs_load_neither_textual_nor_aiohttp_nor_the_engine(instance: Instance) -> None:
    """`python -X importtime` lists every module a call loads: the talking verbs load none of
    the heavy ones (each is tens to hundreds of ms of a call that should take a few)."""
    instance.ok("create", "imp", "--", *BASH)
    heavy = ("textual", "aiohttp", "pyte", "asyncio", "engine.session", "engine.server", "rich")
    for args in (
        ["list-sessions"],
        ["capture-pane", "-t", "imp"],
        ["send-keys", "-t", "imp", "true", "Enter"],
    ):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "app.cli", *args],
            capture_output=True,
            text=True,
            env=instance.env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        loaded = {
            line.rsplit("|", 1)[1].strip()
            for line in done.stderr.splitlines()
            if line.startswith("import time:") and "|" in line
        }
        assert "app.client" in loaded
        assert not [m for m in loaded if m.startswith(heavy)], args
    instance.ok("kill", "imp")


def test_the_engine_package_loads_its_names_on_first_use() -> None:
    """engine/__init__.py is lazy so `engine.paths` costs the CLI nothing; every public name
    still resolves, and the list of where each lives matches `__all__`."""
    import engine

    exported = {name for names in engine._EXPORTS.values() for name in names}
    assert exported == set(engine.__all__)
    for module, names in engine._EXPORTS.items():
        for name in names:
            assert getattr(engine, name) is getattr(importlib.import_module(module), name)
    with pytest.raises(AttributeError):
        engine.NoSuchThing  # noqa: B018


def test_the_client_reads_every_http_body_framing() -> None:
    from app.client import _parse_response, quote

    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    assert _parse_response(head + b"Content-Length: 2\r\n\r\n{}junk") == (200, "OK", b"{}")
    chunked = (
        head + b'Transfer-Encoding: chunked\r\n\r\n3;x=y\r\n{"a\r\n4\r\n": 1\r\n1\r\n}\r\n0\r\n\r\n'
    )
    assert _parse_response(chunked) == (200, "OK", b'{"a": 1}')
    assert _parse_response(b"HTTP/1.0 404 Not Found\r\n\r\nrest") == (404, "Not Found", b"rest")
    with pytest.raises(ValueError):
        _parse_response(b"HTTP/1.1 200 OK\r\nContent-")  # cut off
    with pytest.raises(ValueError):
        _parse_response(b"SSH-2.0-OpenSSH\r\n\r\n")
    assert quote("é x/?&#") == "%C3%A9%20x%2F%3F%26%23" and quote("a-b_c.d~") == "a-b_c.d~"


# -- the quick parser agrees with argparse --------------------------------------------------------


@pytest.mark.parametrize(
    "verb, argv",
    [
        ("list-sessions", []),
        ("list", ["--socket", "/x.sock", "--token=t"]),
        ("send-keys", ["-t", "one", "echo hi", "Enter"]),
        ("send-keys", ["-l", "--target=one", "text"]),
        ("capture-pane", ["-t", "one", "-p", "-e", "-J", "-S", "-5", "-E", "10"]),
        ("exec", ["--timeout", "2.5", "one", "ls", "-l", "--color"]),
        ("exec", ["one", "echo"]),
        ("exec", ["one", "--timeout", "5", "ls", "-l"]),  # after the name: the command's
        ("exec", ["--timeout=1", "one"]),
        ("create", ["-c", "/tmp", "name"]),
        ("create", []),
        ("events", ["--since", "5", "--session", "s", "-n", "3"]),
        ("wait", ["--timeout", "1", "w"]),
        ("signal", ["--session", "s", "TERM"]),
        ("respawn", ["-k", "r"]),
        ("kill", ["k"]),
        ("history", ["-t", "h", "--failed", "--json", "-n", "3"]),
        ("history", []),
    ],
)
def test_the_quick_parser_reads_what_argparse_reads(verb: str, argv: list[str]) -> None:
    quick = _quick_parse(verb, argv)
    assert quick is not None
    assert vars(quick) == vars(_parser(verb).parse_args(argv))


@pytest.mark.parametrize(
    "verb, argv",
    [
        ("send-keys", ["one"]),  # no -t: argparse's error
        ("send-keys", ["-t", "one"]),  # no keys
        ("send-keys", ["-t", "one", "x", "-l"]),  # an option after the words
        ("capture-pane", ["-tone"]),
        ("capture-pane", ["--help"]),
        ("wait", ["--timeout", "soon", "w"]),
        ("exec", ["one", "--", "ls"]),
        ("kill", ["a", "b"]),
        ("create", ["name", "-c", "/tmp"]),  # fine for argparse, options after a word
    ],
)
def test_the_quick_parser_leaves_the_rest_to_argparse(verb: str, argv: list[str]) -> None:
    assert _quick_parse(verb, argv) is None


_WORDS = ["-t", "--target", "one", "-l", "x", "Enter", "--", "-p", "-e", "-J", "-S", "-5", "-"]
_WORDS += ["--timeout", "2", "--since=3", "-n", "1", "--session", "-k", "TERM", "--token", "-h"]


@given(
    st.sampled_from(sorted(set(SUBCOMMANDS.values()) - {"server"})),
    st.lists(st.sampled_from(_WORDS), max_size=7),
)
@settings(max_examples=300, deadline=None)
def test_the_quick_parser_never_disagrees_with_argparse(verb: str, argv: list[str]) -> None:
    quick = _quick_parse(verb, argv)
    if quick is None:
        return  # argparse's to parse
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            expected = vars(_parser(verb).parse_args(argv))
        except SystemExit:
            expected = None
    assert vars(quick) == expected


def test_every_verb_has_a_parser() -> None:
    for verb in set(SUBCOMMANDS.values()):
        assert _parser(verb).prog == f"ai-session {verb}"


def test_events_carries_on_across_a_restart_of_the_instance(
    instance: Instance, tmp_path: Path
) -> None:
    """The new instance has a socket of its own and counts seqs from 1 again: `events` found
    neither (it kept the dead socket, then waited for the old seq), and now says `restarted`
    and prints the new instance's events from its first."""
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    env = {**instance.env, "XDG_RUNTIME_DIR": str(run)}
    first, _, _ = _start_server(env, instance.home)
    second = None
    reader = subprocess.Popen(
        [AI, "events", "--since", "0"], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert reader.stdout is not None
        subprocess.run([AI, "create", "one", "--", "sleep", "30"], env=env, check=True)
        seen = [json.loads(reader.stdout.readline())]
        assert (seen[0]["type"], seen[0]["session"]) == ("created", "one")
        first.terminate()
        first.wait(timeout=10)
        second, _, _ = _start_server(env, instance.home)
        subprocess.run([AI, "create", "two", "--", "sleep", "30"], env=env, check=True)
        lines: queue.Queue[str] = queue.Queue()  # select() cannot see lines read ahead
        threading.Thread(
            target=lambda: [lines.put(line) for line in reader.stdout], daemon=True
        ).start()
        while not any(e.get("session") == "two" for e in seen):
            seen.append(json.loads(lines.get(timeout=30)))
        kinds = [e["type"] for e in seen]
        assert "restarted" in kinds, seen
        after = seen[kinds.index("restarted") + 1]
        assert (after["type"], after["session"], after["seq"]) == ("created", "two", 1), seen
    finally:
        reader.kill()
        reader.wait(timeout=10)
        for proc in (first, second):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)


def test_the_runtime_dir_without_xdg_costs_no_tempfile(tmp_path: Path) -> None:
    """Without XDG_RUNTIME_DIR the sockets live in the temp dir ($TMPDIR first, as tempfile
    would choose); finding it must not import tempfile (random, shutil: ~12 ms a call)."""
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "TEMP", "TMP")}
    env["TMPDIR"] = str(tmp_path)
    code = "from engine.paths import runtime_dir; print(runtime_dir())"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parents[1],
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(tmp_path / f"ai-session-{os.getuid()}")
    loaded = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "engine.paths" in loaded and not loaded & {"tempfile", "shutil", "random"}


def test_a_token_from_a_file_is_in_neither_the_command_line_nor_the_environment(
    instance: Instance, tmp_path: Path
) -> None:
    """`--token T` shows in `ps` to every user; `--token-file` keeps it to the file (0600)."""
    secret = "file-token-" + os.urandom(6).hex()
    path = tmp_path / "token"
    path.write_text(secret + "\n")
    path.chmod(0o600)
    env = {**instance.env, "XDG_RUNTIME_DIR": str(tmp_path)}
    proc, url, _ = _start_server(env, tmp_path, "--token-file", str(path))
    try:
        for where in ("cmdline", "environ"):
            assert secret.encode() not in Path(f"/proc/{proc.pid}/{where}").read_bytes()
        instance.ok("list-sessions", "--server", url, "--token", secret)
        done = instance.run("list-sessions", "--server", url, "--token", "wrong")
        assert done.returncode == 1 and "UNAUTHORIZED" in done.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    (tmp_path / "empty").write_text("\n")
    done = subprocess.run(
        [AI, "server", "--port", "0", "--token-file", str(tmp_path / "empty")],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 2 and "is empty" in done.stderr


def test_snapshot_create_list_show_export_restore_delete(
    instance: Instance, tmp_path: Path
) -> None:
    instance.ok("create", "snap", "--", *BASH)
    _screen(instance, "snap", "$")
    instance.ok("send-keys", "-t", "snap", r"printf '\e[31mpictured-%s\e[0m\n' $((6*7))", "Enter")
    _screen(instance, "snap", "pictured-42")
    snapshot_id = instance.ok("snapshot", "create", "-t", "snap", "-m", "cli note").strip()
    assert snapshot_id.isdigit()
    table = instance.ok("snapshot", "list").splitlines()
    assert table[0].split()[:4] == ["ID", "TAKEN", "KIND", "TRIGGER"]
    row = next(r for r in table[1:] if r.split()[0] == snapshot_id)
    assert "pane" in row and "cli note" in row and "snap" in row
    assert "pictured-42" in instance.ok("snapshot", "show", snapshot_id)
    assert "31mpictured-42\x1b[0m" in instance.ok("snapshot", "show", "--ansi", snapshot_id)
    cast = tmp_path / "snap.cast"
    instance.ok("snapshot", "export", snapshot_id, "--asciicast", "-o", str(cast))
    assert cast.stat().st_mode & 0o777 == 0o600
    lines = cast.read_text().splitlines()
    assert json.loads(lines[0])["version"] == 3
    assert "pictured-42" in "".join(json.loads(line)[2] for line in lines[1:])
    restored = instance.ok("snapshot", "restore", snapshot_id).split()
    assert len(restored) == 1 and restored[0] != "snap"
    _screen(instance, restored[0], "pictured-42")
    # no instance running: list, show and export read the database itself
    alone = {**instance.env, "XDG_RUNTIME_DIR": str(tmp_path)}
    done = instance.run("snapshot", "show", snapshot_id, env=alone)
    assert done.returncode == 0 and "pictured-42" in done.stdout, done.stderr
    done = instance.run("snapshot", "restore", snapshot_id, env=alone)
    assert done.returncode == 1 and f"--restore {snapshot_id}" in done.stderr
    instance.ok("snapshot", "delete", snapshot_id)
    done = instance.run("snapshot", "show", snapshot_id)
    assert done.returncode == 1 and "SNAPSHOT_NOT_FOUND" in done.stderr
    done = instance.run("snapshot", "show", snapshot_id, env=alone)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    done = instance.run("snapshot", "show")
    assert done.returncode == 2 and "give a snapshot id" in done.stderr


def test_context_shows_the_figures_and_messages_of_a_session(instance: Instance) -> None:
    from app.client import Client

    Client(socket=instance.socket).request(
        "POST",
        "/sessions",
        {"name": "ctx", "working_directory": str(instance.home), "enable_ai_features": True},
    )
    _screen(instance, "ctx", "$")
    done = instance.run("exec", "ctx", "ls /nonexistent-dir")
    assert done.returncode != 0

    def answer() -> dict[str, Any]:
        shown = json.loads(instance.ok("context", "-t", "ctx", "--json"))
        return shown if shown["messages"] else {}

    shown = poll(answer, what="a message in ctx's context")
    [message] = shown["messages"]
    assert message["data"]["command"] == "ls /nonexistent-dir"
    text = instance.ok("context", "-t", "ctx")
    assert "ctx: 1 messages" in text and "token reduction" in text and "zstd" in text
    assert f"#{message['id']}" in text and "$ ls /nonexistent-dir" in text
    full = instance.ok("context", "-t", "ctx", "-m", str(message["id"]))
    assert "No such file or directory" in full
    # inside a pane the current session is the default, as in tmux
    inside = instance.run("context", env={**instance.env, "AI_SESSION_NAME": "ctx"})
    assert inside.returncode == 0 and "ctx: 1 messages" in inside.stdout
    outside = instance.run("context")
    assert outside.returncode == 2 and "-t NAME" in outside.stderr
    instance.ok("create", "plainctx")
    refused = instance.run("context", "-t", "plainctx")
    assert refused.returncode == 1 and "enable_ai_features" in refused.stderr
    missing = instance.run("context", "-t", "ctx", "-m", "999")
    assert missing.returncode == 1 and "no message 999" in missing.stderr
    instance.ok("kill", "ctx")
    instance.ok("kill", "plainctx")


def test_where_to_connect_may_come_before_the_verb(instance: Instance) -> None:
    """`ai-session --socket PATH list-sessions`, as `tmux -L NAME ls`: the options move behind
    the verb (they were taken for the TUI's and refused)."""
    env = {k: v for k, v in instance.env.items() if k != "AI_SESSION_SOCKET"}
    for before in (["--socket", instance.socket], [f"--socket={instance.socket}"]):
        done = instance.run(*before, "list-sessions", env=env)
        assert done.returncode == 0, done.stderr
    assert _connection_first(["--server", "http://h.invalid", "ls"])[0] == "ls"  # tmux's alias
    assert _connection_first(["--server", "http://h.invalid", "vim"]) == [
        "--server",
        "http://h.invalid",
        "vim",
    ]  # not a verb: left for the TUI's own parser to refuse
