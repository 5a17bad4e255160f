"""`PromptBar`: tmux's command line at the bottom, with Tab completion and a history.

Used for `C-b :` commands, y/n confirmations, window names and copy-mode searches. Tab
completes the command name being typed (tmux's status prompt); Up/Down walk the entries
given before to a prompt of the same kind, so `C-b :` remembers commands and searches
remember searches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import Input, Static

HISTORY_LIMIT = 100  # entries kept per prompt kind
CANDIDATES_SHOWN = 10  # rows of the candidate box; the rest is summed up as "… N more"


class PromptCandidates(Static):
    """The box of completions above the prompt (tmux shows a menu there).

    On a layer of its own so that showing it never takes rows from the panes.
    """

    DEFAULT_CSS = """
    PromptCandidates {
        layer: prompt-candidates; dock: bottom; margin-bottom: 1;
        width: auto; height: auto; max-width: 80%; display: none;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """


class PromptLabel(Static):
    """The prompt's label (`:`, `(rename-window)`), kept at its left while you type, as tmux
    shows it. On a layer above the prompt's, so it takes no room from it."""

    DEFAULT_CSS = """
    PromptLabel {
        layer: prompt-label; dock: bottom; width: auto; height: 1; padding: 0 0 0 1;
        display: none; background: $surface; color: $text-muted;
    }
    """


def common_prefix(words: Sequence[str]) -> str:
    """The longest start every word shares ("select-pane", "selectp" -> "select")."""
    if not words:
        return ""
    first, last = min(words), max(words)  # what the extremes share, all share
    size = next(
        (i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first)
    )
    return first[:size]


class PromptHistory:
    """One prompt kind's past entries, walked with Up/Down like a shell's history.

    The line being typed is kept aside when walking up and comes back at the bottom.
    """

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self.entries: list[str] = []
        self.limit = limit
        self._at = 0  # index into entries; len(entries) is the line being typed
        self._draft = ""

    def add(self, entry: str) -> None:
        """Remember a submitted entry (not a repeat of the last one, not an empty one)."""
        if entry.strip() and (not self.entries or self.entries[-1] != entry):
            self.entries.append(entry)
            del self.entries[: -self.limit]
        self.reset()

    def reset(self) -> None:
        self._at = len(self.entries)
        self._draft = ""

    def older(self, current: str) -> str | None:
        """The entry before the one shown (None at the oldest)."""
        if self._at == 0:
            return None
        if self._at == len(self.entries):
            self._draft = current
        self._at -= 1
        return self.entries[self._at]

    def newer(self) -> str | None:
        """The entry after the one shown, the kept line past the newest (None there)."""
        if self._at >= len(self.entries):
            return None
        self._at += 1
        return self._draft if self._at == len(self.entries) else self.entries[self._at]


class PromptBar(Input):
    """tmux's command line at the bottom: commands, y/n confirmations, window names.

    `ask()` opens it; Enter runs `done` with the text, Escape closes it without. Keys that
    were already on their way to a pane when it opened come in through `take_key` and
    behave as if typed here.
    """

    # On a layer of its own, over the bottom row (as tmux's prompt covers the status line):
    # opening it takes no row from the panes, so their programs are not resized.
    DEFAULT_CSS = """
    PromptBar {
        layer: prompt; dock: bottom; height: 1; border: none; padding: 0 1; display: none;
    }
    PromptBar:focus { border: none; }
    """

    def __init__(self) -> None:
        super().__init__(id="prompt")
        self._done: Callable[[str], Awaitable[None]] | None = None
        self._single_key = False
        self._words: Sequence[str] = ()
        self._history: PromptHistory | None = None
        self.histories: dict[str, PromptHistory] = {}
        self.candidates = PromptCandidates()
        self.label = PromptLabel()
        self._candidates_for = ""  # the text the shown candidates complete

    def ask(
        self,
        label: str,
        done: Callable[[str], Awaitable[None]],
        value: str = "",
        single_key: bool = False,
        *,
        complete: Sequence[str] = (),
        history: str | None = None,
    ) -> None:
        """Open the prompt. `complete`: the words Tab completes the first word from (command
        names); `history`: the kind whose entries Up/Down walk (the label if not given; a
        single-key prompt keeps none)."""
        self._show_label(label)
        self.value = value
        self._done = done
        self._single_key = single_key
        self._words = sorted(set(complete))
        self._history = (
            None if single_key else self.histories.setdefault(history or label, PromptHistory())
        )
        if self._history is not None:
            self._history.reset()
        self._hide_candidates()
        self.display = True
        self.focus()

    # -- keys ------------------------------------------------------------------------------------

    async def on_key(self, event: events.Key) -> None:
        if await self._special_key(event.key, event.character):
            event.stop()
            event.prevent_default()
        elif event.key == "enter" or event.key in _EDIT_ACTIONS:
            # Now, in key order: as a binding it would run after the keys behind it (C-u
            # then `abc` in one read would lose the `abc`; Enter would take text typed after).
            event.stop()
            event.prevent_default()
            if event.key == "enter":
                await self._finish(self.value)
            else:
                getattr(self, _EDIT_ACTIONS[event.key])()

    async def take_key(self, event: events.Key) -> None:
        """A key that was already on its way to a pane when the prompt opened."""
        if await self._special_key(event.key, event.character):
            return
        if event.key == "enter":
            await self._finish(self.value)
        elif event.key in _EDIT_ACTIONS:
            getattr(self, _EDIT_ACTIONS[event.key])()
        elif event.character and event.character.isprintable():
            self.insert_text_at_cursor(event.character)

    async def _special_key(self, key: str, character: str | None) -> bool:
        """Keys the prompt handles itself rather than as Input editing; True when handled."""
        if key == "escape":
            self._close()
        elif self._single_key:
            if not character:
                return False
            await self._finish(character)
        elif key == "tab":
            self.complete()
        elif key in ("up", "down"):
            self._walk_history(older=key == "up")
        else:
            return False
        return True

    def _walk_history(self, older: bool) -> None:
        if self._history is None:
            return
        entry = self._history.older(self.value) if older else self._history.newer()
        if entry is not None:
            self.value = entry
            self.cursor_position = len(entry)

    # -- completion -----------------------------------------------------------------------------

    def complete(self) -> None:
        """Tab: complete the command name before the cursor.

        One match completes it and adds a space; several extend the text to what they share,
        and when there is nothing to extend the candidates are shown above the prompt.
        """
        before = self.value[: self.cursor_position]
        if " " in before.lstrip() or not self._words:
            return  # only the command name completes
        word = before.lstrip()
        matches = [w for w in self._words if w.startswith(word)]
        if not matches:
            return
        if len(matches) == 1:
            self._replace_word(before, matches[0] + " ")
            self._hide_candidates()
            return
        shared = common_prefix(matches)
        if len(shared) > len(word):
            self._replace_word(before, shared)
        else:
            self._show_candidates(matches)

    def _replace_word(self, before: str, completed: str) -> None:
        after = self.value[len(before) :]
        if completed.endswith(" ") and after.startswith(" "):
            completed = completed.rstrip()
        start = before[: len(before) - len(before.lstrip())]
        self.value = start + completed + after
        self.cursor_position = len(start + completed)

    def _show_candidates(self, matches: Sequence[str]) -> None:
        shown = list(matches[:CANDIDATES_SHOWN])
        if len(matches) > len(shown):
            shown.append(f"… {len(matches) - len(shown)} more")
        self.candidates.update(Text("\n".join(shown)))
        self._candidates_for = self.value
        parent = self.parent
        if not self.candidates.is_attached and isinstance(parent, Widget):
            parent.mount(self.candidates, before=self)
        self.candidates.display = True

    def _show_label(self, label: str) -> None:
        """The label at the left; the text starts after it."""
        shown = label if label.endswith((":", " ")) else label + " "  # tmux: `:split`, `(x) y`
        self.label.update(Text(shown))
        parent = self.parent
        if not self.label.is_attached and isinstance(parent, Widget):
            parent.mount(self.label, after=self)
        self.label.display = True
        self.styles.padding = (0, 1, 0, cell_len(shown) + 1)

    def _hide_candidates(self) -> None:
        self.candidates.display = False

    def on_input_changed(self, event: Input.Changed) -> None:
        """Typing on makes the shown candidates stale (changes still queued from before they
        were shown do not: the text is still what they complete)."""
        if self.value != self._candidates_for:
            self._hide_candidates()

    # -- closing ---------------------------------------------------------------------------------

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self._finish(event.value)

    async def _finish(self, value: str) -> None:
        done = self._done
        if self._history is not None and not self._single_key:
            self._history.add(value)
        self._close()
        if done is not None:
            await done(value)

    def _close(self) -> None:
        """Hide, and give the keys back to the active pane (the app's `focus_active`)."""
        self.display = False
        self.label.display = False
        self._done = None
        self._hide_candidates()
        focus_active = getattr(self.app, "focus_active", None)
        if callable(focus_active):
            focus_active()


# Editing keys that may arrive through `take_key` before the prompt has focus.
_EDIT_ACTIONS = {
    "backspace": "action_delete_left",
    "delete": "action_delete_right",
    "left": "action_cursor_left",
    "right": "action_cursor_right",
    "home": "action_home",
    "end": "action_end",
    "ctrl+a": "action_home",
    "ctrl+e": "action_end",
    "ctrl+u": "action_delete_left_all",
    "ctrl+k": "action_delete_right_all",
    "ctrl+w": "action_delete_left_word",
}
