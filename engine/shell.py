"""Shell integration: the shell marks its prompt and its commands with OSC 133, invisibly.

`Session.execute()` must only type at an empty prompt and must know exactly where a command's
output starts and ends. The shell itself says so, with the marks terminals use for this
(FinalTerm's OSC 133, also spoken by VS Code, kitty, iTerm2, WezTerm):

    ESC ] 133 ; A BEL               the prompt starts
    ESC ] 133 ; B ; ais=PID BEL     the prompt ends: input goes here (PID: the shell's own)
    ESC ] 133 ; C BEL               a command line was read and starts (bash's PS0); zsh's
                                    and fish's add `;cmdline_url=LINE` (percent-encoded,
                                    kitty's spelling), the line exactly as the shell read it
    ESC ] 133 ; D ; STATUS ; aisk=KEY BEL   the command ended with STATUS (before the next A);
                                    KEY is this shell's secret (`_AIS_KEY`, unset once read), so
                                    a D in a command's output (`cat` of a recorded session) is
                                    not taken for the end of the command
    ESC ] 133 ; A ; k=s BEL         a continuation prompt (PS2; kitty's spelling): the line
                                    read so far is unfinished (an open quote, a trailing `|`)
    ESC ] 133 ; B ; k=s BEL         the continuation prompt ends: the line goes on here (so
                                    a command record leaves the `> ` out, engine/history.py)

They are OSC strings, so nothing is drawn. With D comes OSC 7 (the shell's directory), so
`cd` is seen at the next prompt (a `cwd` event) without asking /proc. `prepare()` puts them
in place when a session starts, through the environment (fish: an option), so it works for
command lines we do not write ourselves (`bash --norc --noprofile`, `zsh -l`):

- bash: `PROMPT_COMMAND` (bash imports it even with --norc) runs `eval "$_AIS_BASH"` once at
  the first prompt. That installs `__ais_prompt` (D, first, so it sees `$?`) and `__ais_ps1`
  (wraps PS1 in A/B and ends PS0 with C, again at every prompt in case a prompt framework
  rebuilds them) around the user's PROMPT_COMMAND, and un-exports what it set so a nested shell does
  not inherit a hook it cannot run. The marks in PS1 sit inside \\001..\\002, so readline counts
  them as zero width, and a nested sh that inherits an exported PS1 prints them invisibly.
  A plain `bash` (the user's default shell, reading ~/.bashrc) gets `--rcfile` with a file
  that sources ~/.bashrc first and installs the same hooks after it, so a bashrc that sets
  PROMPT_COMMAND or PS1 cannot drop them.
- POSIX sh (dash): an interactive sh reads the file named by `$ENV`. Ours restores the user's
  ENV (and sources it) and sets PS1 to D/A + PS1 + B with real ESC bytes; `$?` in it is
  expanded at each prompt. sh has no PS0, so `execute()` takes a command's output as starting
  after the echo of the line it typed (the tty echoes the line before the shell can read it).
- zsh: `ZDOTDIR` points at a directory of ours while zsh starts (the user's own ZDOTDIR waits
  in `_AIS_ZDOTDIR`). Our .zshenv, .zprofile and .zshrc each source the user's file with the
  user's ZDOTDIR in place; .zshrc gives it back for good (so .zlogin and nested shells are the
  user's) and, after the user's .zshrc, adds the hooks: preexec prints C (with the line, so a
  command record leaves out RPS1 drawn beside it), the first precmd hook
  OSC 7, the last one wraps PS1 in A/B inside %{ %} (zero width for the line editor; again at
  every prompt, for themes that rebuild PS1) and PS2 in `A;k=s`/`B;k=s`, and zle-line-init
  prints B too (a hook added later that sets PS1 leaves that prompt marked). D is not printed
  by precmd: zsh draws its PROMPT_SP mark (`%` and a row of spaces after output without a final
  newline) before precmd, so D, with `%?`, leads PROMPT_EOL_MARK, ahead of it (by precmd,
  with `$?`, when PROMPT_SP is off). `zsh -f` reads none of it, and gets no marks.
- fish (3.x prints no marks): `--init-command` sources our file after config.fish: the
  fish_preexec and fish_postexec events print C (with the line: no right prompt, no indent of
  fish's continuation lines in a record) and D (with `$status`), and fish_prompt is
  copied and wrapped in OSC 7 + A ... B (fish counts escape sequences as zero width, and the
  user's prompt still sees `$status`); a fish_prompt defined later (a theme, `funced`) is
  wrapped at the next prompt. fish has no continuation prompt: an unfinished line waits in
  its editor, so `execute()` checks a line with `fish -n` first (`fish_parses()`) and sends
  one fish cannot parse through a file, whose error fish reports at once.
- Other shells get nothing from us; `execute()` refuses them with a message rather than
  typing blind. A shell that prints OSC 133 marks itself works if it prints B and D.

Each B says which shell drew it (`ais_sh=zsh`, `ais_sh=fish`; bash's has none), so
`execute()` knows how to type (history expansion in bash and zsh) and how to source a file.

The files live in a private 0700 directory made once per process and removed at exit. A long
or multi-line command is pasted into bash (bracketed paste: the screen and the history show
it as it is); for sh, zsh and fish, or a command bash would expand (`!`), it goes through a 0600
file there (`command_file()`) and `. FILE` (fish: `source FILE`) is the line that shows.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import shlex
import shutil
import stat
import tempfile
from pathlib import Path

# The program names `execute()` accepts as shells before their first prompt mark arrives.
SHELLS = frozenset({"bash", "sh", "dash", "ash", "ksh", "mksh", "zsh", "fish", "busybox"})

# A command typed into the prompt must fit the tty's canonical line (4095 bytes for dash) with
# room to spare, and be one line of printable text: a TAB would complete in readline, a control
# character would edit the line. Anything else is sourced from a file (`command_file()`).
MAX_TYPED = 1000
MAX_TYPED_SH = 4000  # sh reads the tty's cooked line: 4095 bytes at most
MAX_PASTED = 16 << 10  # zsh's and fish's C marks carry the line, url-encoded (< 64 KiB)

# A `!` that bash's history expansion would take (it leaves `!` before a blank, `=`, `(`, `"`).
_HISTORY = re.compile(r'!(?![\s=("]|$)')

ENV_FILE = "ai-session-env.sh"
BASHRC_FILE = "ai-session-bashrc"

_BASH_HOOK = 'eval "$_AIS_BASH"'

# Runs once, at bash's first prompt (from PROMPT_COMMAND) or at the end of our --rcfile.
_BASH_SETUP = r"""if [ -z "${__ais_pid-}" ]; then
__ais_pid=$$
__ais_u=$-
set +u
__ais_a=$'\001\e]133;A\a\002'
__ais_b=$'\001\e]133;B;ais='$$$';ais_c=1\a\002'
__ais_k=${_AIS_KEY-}
__ais_prompt() {
  local s=$?
  builtin printf '\033]133;D;%s;aisk=%s\007\033]7;file://%s\007' "$s" "$__ais_k" "$PWD"
  return "$s"
}
__ais_c=$'\e]133;C\a'
__ais_s=$'\001\e]133;A;k=s\a\002'
__ais_t=$'\001\e]133;B;k=s\a\002'
__ais_ps1() {
  local s=$?
  case $PS1 in "$__ais_a"*"$__ais_b") ;; *) PS1=$__ais_a$PS1$__ais_b ;; esac
  case ${PS0-} in *"$__ais_c") ;; *) PS0=${PS0-}$__ais_c ;; esac
  case ${PS2-} in "$__ais_s"*"$__ais_t") ;; *) PS2=$__ais_s${PS2-'> '}$__ais_t ;; esac
  return "$s"
}
if [[ ${PROMPT_COMMAND@a} == *a* ]]; then
  PROMPT_COMMAND=(__ais_prompt "${PROMPT_COMMAND[@]}" __ais_ps1)
else
  __ais_pc=${PROMPT_COMMAND-}
  __ais_pc=${__ais_pc//'eval "$_AIS_BASH"'/}
  PROMPT_COMMAND=$'__ais_prompt\n'$__ais_pc$'\n__ais_ps1'
  unset __ais_pc
fi
export -n PROMPT_COMMAND PS0
case ${ENV-} in
  */ai-session-env.sh) if [ -n "${_AIS_ENV+x}" ]; then ENV=$_AIS_ENV; else unset ENV; fi ;;
esac
unset _AIS_BASH _AIS_ENV _AIS_KEY
__ais_ps1
case $__ais_u in *u*) set -u ;; esac
unset __ais_u
fi
"""

_BASHRC = (
    "# ai-session: the user's ~/.bashrc, then OSC 133 prompt marks (engine/shell.py).\n"
    "if [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n" + _BASH_SETUP
)

# Read by an interactive POSIX sh through $ENV. Real ESC/BEL bytes: dash's PS1 takes no
# backslash escapes, only parameter expansion (which makes `$?` the last command's status).
_SH_ENV = (
    "# ai-session: OSC 133 prompt marks for POSIX sh (engine/shell.py).\n"
    'if [ -n "${_AIS_ENV+x}" ]; then ENV=$_AIS_ENV; unset _AIS_ENV; else unset ENV; fi\n'
    'if [ -n "${ENV-}" ] && [ -r "$ENV" ]; then . "$ENV"; fi\n'
    'if [ -z "${BASH_VERSION-}" ] && [ -z "${ZSH_VERSION-}" ] && [ -z "${__ais_pid-}" ]; then\n'
    "__ais_pid=$$\n"
    "__ais_k=${_AIS_KEY-}; unset _AIS_KEY\n"
    "PS1='\x1b]133;D;$?;aisk='\"$__ais_k\"'\x07\x1b]7;file://$PWD\x07\x1b]133;A\x07'\"$PS1\"'\x1b]133;B;ais='\"$$\"'\x07'\n"
    "PS2='\x1b]133;A;k=s\x07'\"${PS2-> }\"'\x1b]133;B;k=s\x07'\n"
    "fi\n"
)

ZSH_DIR = "zsh"  # ZDOTDIR while zsh starts: our .zshenv, .zprofile and .zshrc
FISH_FILE = "ai-session.fish"

# zsh reads $ZDOTDIR/.zshenv, then (login) .zprofile, then (interactive) .zshrc, then (login)
# .zlogin. ZDOTDIR points at ours; each of ours sources the user's file with the user's
# ZDOTDIR in place (their file may change it), and .zshrc gives it back for good before the
# hooks go in after the user's .zshrc (so a .zshrc that sets precmd hooks or PS1 keeps them);
# .zlogin is then read from the user's own ZDOTDIR. {ours} is this directory.
_ZSH_ENV = r"""# ai-session: zsh starts here because ZDOTDIR points here (engine/shell.py).
if (( ${+_AIS_ZDOTDIR} )); then ZDOTDIR=$_AIS_ZDOTDIR; else builtin unset ZDOTDIR; fi
builtin unset _AIS_ZDOTDIR
__ais_source() {
  if (( ${+__ais_uzd} )); then ZDOTDIR=$__ais_uzd; else builtin unset ZDOTDIR; fi
  builtin unset __ais_uzd
}
__ais_away() {
  if (( ${+ZDOTDIR} )); then typeset -g __ais_uzd=$ZDOTDIR; fi
  ZDOTDIR={ours}
}
if [[ -f ${ZDOTDIR:-$HOME}/.zshenv ]]; then builtin source ${ZDOTDIR:-$HOME}/.zshenv; fi
if [[ -o interactive && -o rcs ]]; then __ais_away
else builtin unset -f __ais_source __ais_away; fi
"""

_ZSH_PROFILE = r"""# ai-session: the user's .zprofile (engine/shell.py).
__ais_source
if [[ -f ${ZDOTDIR:-$HOME}/.zprofile ]]; then builtin source ${ZDOTDIR:-$HOME}/.zprofile; fi
__ais_away
"""

# After the user's .zshrc: OSC 7 from the first precmd hook, C from preexec, PS1 wrapped in
# A/B (inside %{ %}: zero width for the line editor) by the last precmd hook, again at every
# prompt in case a theme rebuilds PS1 in its own hook; that hook moves itself back to the end
# when a hook is added after it. D comes before all that: zsh draws its PROMPT_SP mark (a `%`
# and a row of spaces, for output that did not end its line) before precmd, and that is not
# the command's output, so D (with %?, the status) leads PROMPT_EOL_MARK, which starts it.
# Without PROMPT_SP (or PROMPT_CR), or when the command set another PROMPT_EOL_MARK, the first
# precmd hook prints D, with $? (the same for every hook).
_ZSH_RC = r"""# ai-session: the user's .zshrc, then OSC 133 prompt marks (engine/shell.py).
__ais_source
builtin unset -f __ais_source __ais_away
if [[ -f ${ZDOTDIR:-$HOME}/.zshrc ]]; then builtin source ${ZDOTDIR:-$HOME}/.zshrc; fi
if [[ -z ${__ais_pid-} ]]; then
typeset -g __ais_pid=$$ __ais_k=${_AIS_KEY-}
builtin unset _AIS_KEY
typeset -g __ais_a=$'%{\e]133;A\a%}' __ais_b=$'%{\e]133;B;ais='$$$';ais_c=1;ais_sh=zsh\a%}'
typeset -g __ais_s=$'%{\e]133;A;k=s\a%}' __ais_t=$'%{\e]133;B;k=s\a%}'
typeset -g __ais_e=$'%{\e]133;D;%?;aisk='$__ais_k$'\a%}'
__ais_precmd() {
  local s=$?
  if [[ ! -o prompt_sp || ! -o prompt_cr || $PROMPT_EOL_MARK != "$__ais_e"* ]]; then
    builtin print -rn -- $'\e]133;D;'$s';aisk='$__ais_k$'\a'
  fi
  builtin print -rn -- $'\e]7;file://'$PWD$'\a'
  if [[ ${precmd_functions[-1]-} != __ais_ps1 ]]; then
    precmd_functions=(${precmd_functions:#__ais_ps1} __ais_ps1)
  fi
  return $s
}
__ais_ps1() {
  [[ $PS1 == "$__ais_a"*"$__ais_b" ]] || PS1=$__ais_a$PS1$__ais_b
  [[ $PS2 == "$__ais_s"*"$__ais_t" ]] || PS2=$__ais_s$PS2$__ais_t
  [[ $PROMPT_EOL_MARK == "$__ais_e"* ]] || PROMPT_EOL_MARK=$__ais_e${PROMPT_EOL_MARK-%B%S%#%s%b}
}
__ais_preexec() {
  builtin emulate -L zsh -o extended_glob
  local line=${1//(#m)[%;[:cntrl:]]/%${(l:2::0:)$(([##16]#MATCH))}}
  builtin print -rn -- $'\e]133;C;cmdline_url='$line$'\a'
}
__ais_line_init() {
  if [[ $CONTEXT == start ]]; then
    builtin print -rn -- $'\e]133;B;ais='$__ais_pid$';ais_c=1;ais_sh=zsh\a'
  fi
}
if builtin autoload -Uz add-zle-hook-widget 2>/dev/null; then
  builtin zle -N __ais_line_init && add-zle-hook-widget line-init __ais_line_init
fi
precmd_functions=(__ais_precmd ${precmd_functions[@]:#__ais_*} __ais_ps1)
preexec_functions=(${preexec_functions[@]:#__ais_*} __ais_preexec)
__ais_ps1
fi
"""

# fish 3 prints no marks itself. Run by `--init-command` (after config.fish, before the first
# prompt): C and D from the fish_preexec/fish_postexec events; fish_prompt copied and wrapped
# in OSC 7 + A ... B (fish counts escape sequences as zero width), re-wrapped at a prompt when
# something (a theme, `funced`) has defined another fish_prompt since (ours has our description).
_FISH = r"""# ai-session: OSC 133 prompt marks for fish (engine/shell.py).
if status is-interactive; and not set -q __ais_pid
    set -g __ais_pid $fish_pid
    set -g __ais_k $_AIS_KEY
    set -e _AIS_KEY
    function __ais_preexec --on-event fish_preexec
        printf '\e]133;C;cmdline_url=%s\a' (string escape --style=url -- $argv[1])
    end
    function __ais_postexec --on-event fish_postexec
        printf '\e]133;D;%s;aisk=%s\a' $status $__ais_k
    end
    function __ais_return
        return $argv[1]
    end
    function __ais_wrap --on-event fish_prompt
        if not contains -- 'ai-session prompt marks' (functions --details --verbose fish_prompt)
            functions -e __ais_prompt
            functions -q fish_prompt; and functions --copy fish_prompt __ais_prompt
            function fish_prompt --description 'ai-session prompt marks'
                set -l s $status
                printf '\e]7;file://%s\a\e]133;A\a' $PWD
                if functions -q __ais_prompt
                    __ais_return $s
                    __ais_prompt
                end
                printf '\e]133;B;ais=%s;ais_c=1;ais_sh=fish\a' $__ais_pid
            end
        end
    end
    __ais_wrap
end
"""

_dir: Path | None = None


_PREFIX = "ai-session-shell-"


def integration_dir() -> Path:
    """This process's private directory (0700) for the rc files and command files, named by
    its pid. Removed at exit; those of our processes that could not remove theirs (killed)
    are removed when the next one makes its own."""
    global _dir
    if _dir is None or not _dir.is_dir():
        _remove_stale(Path(tempfile.gettempdir()))
        _dir = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
        atexit.register(shutil.rmtree, _dir, True)
    return _dir


def _remove_stale(folder: Path) -> None:
    """Remove the integration directories in `folder` that are ours (our uid, not links)
    and whose process is gone."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(_PREFIX) :].partition("-")[0]
        if not entry.name.startswith(_PREFIX) or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            os.kill(int(pid), 0)
        except ProcessLookupError:  # its process is gone: nobody removes it otherwise
            if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:  # gone meanwhile, or someone else's process: alive
            continue


_written: set[Path] = set()  # the rc files this process wrote (their text never changes)


def _write(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by us only, once per process (not at every session
    start: creating sessions is a hot path)."""
    if path in _written:
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode())
    _written.add(path)


def prepare(argv: list[str], env: dict[str, str], key: str) -> list[str]:
    """Make the shell that `argv` starts print OSC 133 marks, its D marks signed with `key`:
    edits `env` in place, returns the argv to run (a plain `bash` gets `--rcfile`, fish
    `--init-command`). zsh gets our ZDOTDIR, and nothing for bash or sh that it would pass on
    to a nested shell. Programs that are not shells ignore what is added (a few environment
    variables)."""
    for name in ("_AIS_ENV", "_AIS_BASH", "_AIS_ZDOTDIR"):  # ours alone: they run code
        env.pop(name, None)
    env["_AIS_KEY"] = key
    folder = integration_dir()
    program = os.path.basename(argv[0]).rstrip("0123456789.-")  # zsh5, zsh-5.9
    if program == "zsh":
        if _zsh_no_rcs(argv[1:]):  # `zsh -f`: nothing to hook into, nothing to leave behind
            del env["_AIS_KEY"]
            return argv
        zdotdir = folder / ZSH_DIR
        zdotdir.mkdir(mode=0o700, exist_ok=True)
        ours = shlex.quote(str(zdotdir))
        _write(zdotdir / ".zshenv", _ZSH_ENV.replace("{ours}", ours))
        _write(zdotdir / ".zprofile", _ZSH_PROFILE)
        _write(zdotdir / ".zshrc", _ZSH_RC)
        if "ZDOTDIR" in env:
            env["_AIS_ZDOTDIR"] = env["ZDOTDIR"]
        env["ZDOTDIR"] = str(zdotdir)
        return argv
    if program == "fish":
        path = folder / FISH_FILE
        ours = _fish_quote(str(path))
        _write(path, _FISH)
        return [argv[0], "--init-command", f"source {ours}", *argv[1:]]
    env_file = folder / ENV_FILE
    _write(env_file, _SH_ENV)
    if "ENV" in env:
        env["_AIS_ENV"] = env["ENV"]
    env["ENV"] = str(env_file)
    if os.path.basename(argv[0]) == "bash" and argv[1:] in ([], ["-i"]):
        rc = folder / BASHRC_FILE
        _write(rc, _BASHRC)
        return [argv[0], "--rcfile", str(rc), *argv[1:]]
    env["_AIS_BASH"] = _BASH_SETUP
    user = env.get("PROMPT_COMMAND")
    env["PROMPT_COMMAND"] = f"{user}\n{_BASH_HOOK}" if user else _BASH_HOOK
    return argv


def _zsh_no_rcs(words: list[str]) -> bool:
    """Whether zsh started with these arguments reads no startup file (`-f`, `--no-rcs`, or
    `-f` among other single-letter options: `-fi`) ahead of the first operand."""
    for word in words:
        if not word.startswith("-") or word in ("-", "--"):
            return False
        if word in ("--no-rcs", "--norcs") or (not word.startswith("--") and "f" in word[1:]):
            return True
    return False


def _fish_quote(text: str) -> str:
    """`text` as one fish word (in fish's single quotes only \\ and \\' are escapes)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def can_type(command: str, *, history_expansion: bool, sh: bool = False) -> bool:
    """Whether `command` can be typed at the prompt as it is (one short line of printable
    text, up to MAX_TYPED bytes, or MAX_TYPED_SH for `sh`, whose tty line holds 4095; no `!`
    where the shell would expand history), else it is pasted or goes through a file."""
    if len(command.encode()) > (MAX_TYPED_SH if sh else MAX_TYPED) or not command.strip():
        return False
    if any(ch < " " or ch == "\x7f" for ch in command):
        return False
    # bash also expands a line starting with ^ (quick substitution, ^old^new)
    return not (history_expansion and (_HISTORY.search(command) or command.startswith("^")))


def can_paste(command: str, *, history_expansion: bool = True) -> bool:
    """Whether a line editor (bash's readline, zsh's, fish's, in mode 2004) can take `command`
    as a bracketed paste: several lines, tabs, as long as no other control character could end
    the paste and no `!` or leading `^` would be expanded from history when the line is
    accepted."""
    if not command.strip() or any(
        (ch < " " and ch not in "\t\n") or ch == "\x7f" for ch in command
    ):
        return False
    return not (
        history_expansion and (_HISTORY.search(command) or command.lstrip().startswith("^"))
    )


async def fish_parses(program: str, command: str) -> bool:
    """Whether fish (`program`) parses `command` without an error. An unfinished line (an open
    quote, a `begin` without `end`) typed at fish's prompt shows no continuation prompt: fish
    waits for the rest in its editor, so it goes through a file instead, whose error fish
    reports at once. `fish -n` prints the error but exits 0: stderr says it."""
    try:
        child = await asyncio.create_subprocess_exec(
            program, "--no-config", "-n", "-c", command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, errors = await asyncio.wait_for(child.communicate(), 5)
    except (OSError, TimeoutError):
        return False
    return child.returncode == 0 and not errors.strip()


def command_file(command: str) -> Path:
    """A new 0600 file holding `command`, to be sourced with `. FILE`; the caller deletes it."""
    fd, name = tempfile.mkstemp(prefix="cmd-", suffix=".sh", dir=integration_dir())
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(command if command.endswith("\n") else command + "\n")
    return Path(name)
