"""The agent panels as a person watching agents uses them: real bash panes whose states change,
messages and tokens posted through the hub, the panels opened with their prefix keys, Enter and
C-b j going to the pane that wants you, the panes' programs sized right as panels come and go."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import BASH, at_prompt, split, wait_for_screen, wait_until
from test_snapshots import _app as _picture_app
from test_snapshots import _shown
from textual.pilot import Pilot
from textual.widgets import OptionList, Sparkline, Static, Tree
from tmux_oracle import TMUX, tmux_pane

from app.agents_ui import AGENT_COMMANDS, MIN_PANEL_ROWS
from app.keymap import PREFIX_KEYS
from app.main import MESSAGE_LIMIT, AiSessionApp
from engine import SessionConfig
from engine.claude import project_name
from engine.config import ContextConfig
from engine.coordination import AgentMessage, MessagePriority, MessageType
from engine.events import Event
from widgets.panels import SnapshotsPanel
from widgets.panels.agents import AgentsPanel
from widgets.panels.decisions import DecisionsPanel
from widgets.panels.live import LivePanel
from widgets.panels.messages import MessagesPanel
from widgets.panels.side import SidePanel
from widgets.panels.stack import PanelStack
from widgets.panels.tokens import TokensPanel
from widgets.terminal_pane import TerminalPane

SIZE = (120, 36)


def _app(**config: Any) -> AiSessionApp:
    return AiSessionApp(SessionConfig(shell_command=BASH, environment={"PS1": "$ "}, **config))


def _report(app: AiSessionApp, pane: TerminalPane, state: str, question: str | None = None) -> None:
    app.manager.agents.report(pane.session.name, state, question=question)


def _notices(app: AiSessionApp) -> list[str]:
    """The waiting notices kept for C-b ~ (the app's bounded message log), oldest first."""
    return [text for _, text in app.messages if " is waiting: " in text]


def _agent_events(app: AiSessionApp, pane: TerminalPane) -> list[Event]:
    events, _ = app.manager.events.since(0)
    return [e for e in events if e.type == "agent" and e.session_id == pane.session.id]


def _post(app: AiSessionApp, sender: str, to: str | None, payload: object) -> None:
    bus = app.manager.hub.bus
    if to is None:
        bus.broadcast(sender, payload)
    else:
        bus.send(sender, to, payload)


def _rows(panel: LivePanel) -> list[str]:
    options = panel.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def _fresh(panel: LivePanel) -> list[str]:
    """The rows the panel would show if it drew its list anew now."""
    return [str(panel.row(item)) for item in panel.read()]


def _text(widget: Static) -> str:
    return str(widget.render())


def _pane(app: AiSessionApp) -> TerminalPane:
    """The active pane of the window shown."""
    pane = app.pane
    assert pane is not None
    return pane


async def _new_window(app: AiSessionApp, pilot: Pilot) -> TerminalPane:
    """C-b c: the new window's pane, at its prompt."""
    count = len(app.windows)
    await pilot.press("ctrl+b", "c")
    await wait_until(lambda: len(app.windows) == count + 1 and app.current == count)
    await at_prompt(app.pane)
    return _pane(app)


async def _open(pilot: Pilot, key: str, kind: type[LivePanel]) -> Any:
    app = pilot.app
    await pilot.press("ctrl+b", key)
    await wait_until(lambda: bool(app.query(kind)), what=f"the {kind.__name__}")
    panel = app.query_one(kind)
    await wait_until(lambda: panel.has_focus, what="the panel focused")
    return panel


async def test_prefix_a_shows_each_panes_agent_and_the_question_it_waits_on(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    first = _pane(app)
    second = await split(app, pilot, "percent_sign")
    panel = await _open(pilot, "a", AgentsPanel)
    await wait_until(lambda: len(_rows(panel)) == 2, what=lambda: str(_rows(panel)))
    _report(app, first, "waiting", "Continue? (y/n)")
    await wait_until(
        lambda: "waiting" in _rows(panel)[0] and "“Continue? (y/n)”" in _rows(panel)[0],
        what=lambda: str(_rows(panel)),
    )
    assert "1 waiting" in _text(panel.query_one("#title", Static))
    # the badge in the pane's title row and, for the focused pane, the status line
    assert first.agent_state == "waiting"
    strip = first.render_line(0)
    assert "waiting" in strip.text and first.pane_id in strip.text
    _report(app, second, "working")
    await wait_until(lambda: "working" in _rows(panel)[1], what=lambda: str(_rows(panel)))
    await wait_until(lambda: "[working]" in app.query_one("#status", Static).render().plain)


async def test_a_real_prompt_in_another_window_is_announced_and_c_b_j_goes_there(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    """No report: the monitor reads bash's `read -p` prompt off the screen."""
    app, pilot = running
    asking = _pane(app)
    name = asking.session.name
    await _new_window(app, pilot)
    panel = await _open(pilot, "a", AgentsPanel)
    await asking.session.send_input('read -p "Continue? (y/n) " answer\n')
    await wait_until(
        lambda: "waiting" in _rows(panel)[0] and "Continue? (y/n)" in _rows(panel)[0],
        15,
        what=lambda: f"the prompt as waiting: {_rows(panel)}",
    )
    assert app.agent_watch is not None
    title = f"pane 0.0 ({name}) is waiting"
    await wait_until(lambda: bool(_notices(app)))
    [notice] = _notices(app)  # kept for C-b ~
    assert notice.startswith(f"{title}: ") and "Continue? (y/n)" in notice
    await wait_until(lambda: "0:bash!" in app.query_one("#status", Static).render().plain)
    assert asking.agent_state == "waiting"
    await pilot.press("ctrl+b", "j")
    await wait_until(lambda: app.current == 0 and app.pane is asking and asking.has_focus)
    assert "0:bash*" in app.query_one("#status", Static).render().plain  # seen: no `!`
    await pilot.press("y", "enter")  # answered: it no longer waits
    await wait_until(
        lambda: "waiting" not in _rows(panel)[0],
        15,
        what=lambda: f"the answer taken: {_rows(panel)}",
    )
    assert asking.agent_state != "waiting"


async def test_enter_on_an_agent_goes_to_its_window_and_pane(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    target = _pane(app)
    await _new_window(app, pilot)
    panel = await _open(pilot, "a", AgentsPanel)
    await wait_until(lambda: len(_rows(panel)) == 2)
    assert "0.0" in _rows(panel)[0] and "1.0" in _rows(panel)[1]  # where each pane is
    await pilot.press("home", "enter")
    await wait_until(lambda: app.current == 0 and app.pane is target and target.has_focus)
    assert app.query(AgentsPanel)  # the panel stays open beside it
    await pilot.press("ctrl+b", "a")  # the key again: back to the panel
    await wait_until(lambda: panel.has_focus)
    await pilot.press("ctrl+b", "a")  # and again: closed
    await wait_until(lambda: not app.query(AgentsPanel) and target.has_focus)


async def test_prefix_j_cycles_through_the_agents_waiting_with_the_panel_closed(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await pilot.press("ctrl+b", "j")
    await wait_until(lambda: any("No agent is waiting for input" in m for _, m in app.messages))
    first = _pane(app)
    second = await split(app, pilot, "percent_sign")
    third = await _new_window(app, pilot)
    _report(app, first, "waiting", "Allow edit? (y/n)")
    _report(app, third, "waiting", "Press Enter")
    await pilot.press("ctrl+b", "j")
    await wait_until(lambda: app.pane is first and app.current == 0, what="the first waiting")
    await pilot.press("ctrl+b", "j")
    await wait_until(lambda: app.pane is third and app.current == 1, what="the next one")
    await pilot.press("ctrl+b", "j")
    await wait_until(lambda: app.pane is first, what="round to the first again")
    assert second is not app.pane


async def test_an_agent_that_starts_waiting_in_another_window_is_announced(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    hidden = _pane(app)
    await _new_window(app, pilot)
    _report(app, hidden, "waiting", "Do you want to proceed?")
    assert app.agent_watch is not None
    await wait_until(lambda: bool(_notices(app)))
    title = f"pane 0.0 ({hidden.session.name}) is waiting"
    assert _notices(app) == [f"{title}: “Do you want to proceed?”"]
    await wait_until(lambda: "0:bash!" in app.query_one("#status", Static).render().plain)
    events = len(_agent_events(app, hidden))
    _report(app, hidden, "waiting", "Shall I also push?")  # a new question, still waiting
    assert len(_agent_events(app, hidden)) == events + 1  # the watch heard of it ...
    await pilot.pause()
    assert _notices(app) == [f"{title}: “Do you want to proceed?”"]  # ... and said nothing
    waits = MESSAGE_LIMIT + 5
    for n in range(waits):  # many waits: what is kept of them stays bounded
        _report(app, hidden, "working")
        _report(app, hidden, "waiting", f"Question {n}?")
    notices = _notices(app)
    assert len(notices) <= MESSAGE_LIMIT and notices[-1].endswith(f"“Question {waits - 1}?”")
    assert not hasattr(app.agent_watch, "notices")  # nothing else keeps every notice


async def test_messages_posted_through_the_hub_appear_live_filter_and_go_to_the_sender(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    alice = _pane(app)
    bob = await split(app, pilot, "percent_sign")
    carol = await split(app, pilot, "quotation_mark")
    a, b, c = alice.session.name, bob.session.name, carol.session.name
    panel = await _open(pilot, "e", MessagesPanel)
    assert "no messages yet" in _text(panel.query_one("#detail", Static))
    _post(app, a, b, "please run the tests")
    _post(app, b, a, {"result": "42 passed"})
    _post(app, b, None, "done for today")
    await wait_until(lambda: len(_rows(panel)) == 3, what=lambda: str(_rows(panel)))
    rows = _rows(panel)
    assert f"{a} → {b} data_share" in rows[0] and "please run the tests" in rows[0]
    assert '{"result":"42 passed"}' in rows[1]
    assert f"{b} → all broadcast" in rows[2]
    _post(app, c, b, "and the linter?")  # live: the cursor follows the newest
    await wait_until(lambda: len(_rows(panel)) == 4 and panel.index == 3)
    assert "and the linter?" in _text(panel.query_one("#detail", Static))
    await pilot.press("f")  # the first agent: what it sent and got, and broadcasts
    await wait_until(lambda: panel.agent == a and len(_rows(panel)) == 3)
    assert _rows(panel) == _fresh(panel)  # rows replaced in place, the extra one removed
    assert "from/to" in _text(panel.query_one("#title", Static))
    await pilot.press("f")
    await wait_until(lambda: panel.agent == b and len(_rows(panel)) == 4)
    await pilot.press("f", "f")  # past carol, back to every agent
    await wait_until(lambda: panel.agent is None and len(_rows(panel)) == 4)
    assert _rows(panel) == _fresh(panel)
    await pilot.press("home")  # the first message: alice's
    _post(app, c, a, "read back up there?")  # the cursor stays where the user put it
    await wait_until(lambda: len(_rows(panel)) == 5)
    assert panel.index == 0
    await pilot.press("enter")
    await wait_until(lambda: app.pane is alice and alice.has_focus)


async def test_the_agents_panel_counting_up_does_not_lay_the_screen_out(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    # A layout reflows the whole screen (~10 ms with eight panes, a key's echo waits for it);
    # the panel's ticks change only the times in its rows, so they must only repaint.
    app, pilot = running
    await split(app, pilot, "percent_sign")
    clock = [datetime.now(UTC)]
    panel = await _open(pilot, "a", AgentsPanel)
    panel.now = lambda: clock[0]
    await wait_until(lambda: len(_rows(panel)) == 2, what=lambda: str(_rows(panel)))
    await pilot.pause()
    screen = app.screen
    layouts: list[int] = []
    real = screen._refresh_layout

    def counted(*args: Any, **kwargs: Any) -> None:
        layouts.append(1)
        real(*args, **kwargs)

    screen._refresh_layout = counted  # type: ignore[method-assign]
    before = _rows(panel)
    for _ in range(3):
        clock[0] += timedelta(seconds=75)
        panel.reload()
        await pilot.pause()
    assert _rows(panel) != before and _rows(panel) == _fresh(panel)
    assert "3m45s" in _rows(panel)[0] and "for 3m45s" in _text(panel.query_one("#detail", Static))
    assert layouts == []


async def test_a_long_timeline_appends_and_drops_its_oldest_rows_in_one_go(
    running: tuple[AiSessionApp, Pilot], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keeping exactly the newest rows would change every row at each message; the list
    # grows to twice KEEP, then drops back to the newest KEEP.
    monkeypatch.setattr(MessagesPanel, "KEEP", 3)
    app, pilot = running
    a = _pane(app).session.name
    panel = await _open(pilot, "e", MessagesPanel)
    for n in range(5):
        _post(app, a, None, f"note {n}")
    await wait_until(lambda: len(_rows(panel)) == 3, what=lambda: str(_rows(panel)))
    assert ["note 2" in r for r in _rows(panel)] == [True, False, False]  # the newest 3
    for n in range(5, 7):
        _post(app, a, None, f"note {n}")
        await wait_until(lambda n=n: f"note {n}" in _rows(panel)[-1])
    assert len(_rows(panel)) == 5 and "note 2" in _rows(panel)[0]  # appended, none dropped
    _post(app, a, None, "note 7")
    await wait_until(lambda: "note 7" in _rows(panel)[-1], what=lambda: str(_rows(panel)))
    assert [r.split("\n  ")[1] for r in _rows(panel)] == ["note 5", "note 6", "note 7"]
    assert panel.index == 2 and "note 7" in _text(panel.query_one("#detail", Static))


async def test_the_messages_title_counts_what_full_inboxes_dropped(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    a = _pane(app).session.name
    b = (await split(app, pilot, "percent_sign")).session.name
    app.manager.hub.bus.inbox_size = 1  # b never reads its inbox: the second one drops one
    panel = await _open(pilot, "e", MessagesPanel)
    _post(app, a, b, "first")
    _post(app, a, b, "second")
    title = panel.query_one("#title", Static)
    await wait_until(lambda: "2, all agents, 1 dropped" in _text(title), what=lambda: _text(title))


async def test_tokens_panel_shows_each_agents_figures_and_a_sparkline() -> None:
    # a small context, so a few commands' output makes it compress
    app = _app(
        enable_ai_features=True, parse_output=True, context_config=ContextConfig(max_tokens=300)
    )
    async with app.run_test(size=SIZE) as pilot:
        await at_prompt(app.pane)
        pane = _pane(app)
        panel = await _open(pilot, "u", TokensPanel)
        await wait_until(lambda: len(_rows(panel)) == 1)
        app.manager.hub.record_tokens(pane.session.name, 1200, 300, "claude-sonnet-4")
        app.manager.hub.record_tokens(pane.session.name, 800, 100)
        await wait_until(
            lambda: "2.0k in 400 out" in _rows(panel)[0], what=lambda: str(_rows(panel))
        )
        figures = _text(panel.query_one("#figures", Static))
        assert "claude-sonnet-4" in figures and "in 2,000 · out 400 (reported)" in figures
        assert "burn rate" in figures
        assert sum(panel.query_one(Sparkline).data or []) == 2400
        context = pane.session.context
        assert context is not None
        for n in range(4):
            await pane.session.send_input(f"seq {n} 40 | paste -sd' '; echo step-$((1+{n}))\n")
            await wait_for_screen(pane.session, f"step-{n + 1}")
        await wait_until(lambda: bool(context.compressions), what="a compression")
        await wait_until(lambda: "compressions" in _text(panel.query_one("#figures", Static)))
        figures = _text(panel.query_one("#figures", Static))
        summary = context.get_summary()
        fold = context.compressions[-1]
        assert f"{fold.tokens_before}→{fold.tokens_after}" in figures
        assert f"token reduction {summary.token_reduction:.1%}" in figures
        assert f"storage ratio {summary.storage_ratio:.1f}×" in figures
        assert "(session)" in figures  # the context: this pane's SessionContext


async def test_decisions_panel_shows_the_choice_the_patterns_and_the_spans(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    pane = _pane(app)
    await _new_window(app, pilot)
    panel = await _open(pilot, "y", DecisionsPanel)
    assert "no decisions yet" in _text(panel.query_one("#detail", Static))
    hub, name = app.manager.hub, pane.session.name
    first = hub.decisions.track(
        "approach", ["rewrite", "patch"], "patch", 0.8, "smaller diff", agent=name
    )
    hub.decisions.record_outcome(first.id, True, "tests pass")
    hub.decisions.track("tool_selection", ["grep", "ripgrep"], "ripgrep", 0.6, agent=name)
    plan = hub.tracer.start_span("plan", agent=name)
    step = hub.tracer.start_span("edit main.py", parent=plan.span_id, agent=name)
    hub.tracer.end_span(step.span_id, "error")
    await wait_until(lambda: len(_rows(panel)) == 2, what=lambda: str(_rows(panel)))
    rows = _rows(panel)
    assert "approach → patch 80%" in rows[0] and "✓ success: tests pass" in rows[0]
    assert "tool_selection → ripgrep 60%" in rows[1] and "pending" in rows[1]
    patterns = _text(panel.query_one("#patterns", Static))
    assert "2 decisions, 1 with outcome, success 100%" in patterns
    assert "approach 100% (1)" in patterns
    await pilot.press("up")
    detail = _text(panel.query_one("#detail", Static))
    assert "options rewrite, [patch]" in detail and "why: smaller diff" in detail
    tree = panel.query_one(Tree)
    [root] = tree.root.children
    assert str(root.label).startswith("plan") and "running" in str(root.label)
    [child] = root.children
    assert str(child.label).startswith("edit main.py") and "error" in str(child.label)
    await pilot.press("enter")  # the decision's agent's pane
    await wait_until(lambda: app.current == 0 and app.pane is pane and pane.has_focus)


async def test_panels_give_the_panes_programs_their_new_size_as_they_open_and_close(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    """The first panel takes the sidebar's width from the panes; the others stack in it (the
    panes keep that width); the last one closed gives it back — to the hidden window too."""
    app, pilot = running
    shown = _pane(app)
    await _new_window(app, pilot)
    await pilot.press("ctrl+b", "l")  # back to window 0; window 1 hidden
    await wait_until(lambda: app.current == 0)
    hidden = app.windows[1].active_pane
    assert hidden is not None
    full = (shown.session.terminal.columns, shown.session.terminal.lines)
    assert full == (120, 34)

    async def sized(columns: int) -> None:
        """Both windows' programs told `columns`, and the shown one's tty says so."""
        await wait_until(lambda: shown.session.terminal.columns == columns)
        await wait_until(lambda: hidden.session.terminal.columns == columns, what="the hidden")
        assert (await shown.session.execute("stty size")).output.split() == ["34", str(columns)]

    width = 0
    for count, (key, kind) in enumerate(
        (("a", AgentsPanel), ("e", MessagesPanel), ("u", TokensPanel)), 1
    ):
        panel = await _open(pilot, key, kind)
        assert len(app.query(LivePanel)) == count  # stacked: the others stay open
        width = app.query_one("#windows").size.width
        assert width + panel.outer_size.width == 120
        await sized(width)
    await pilot.press("ctrl+b", "u")  # the focused panel's key closes it, and only it
    await wait_until(lambda: not app.query(TokensPanel) and shown.has_focus)
    assert len(app.query(LivePanel)) == 2
    assert app.query_one("#windows").size.width == width
    await sized(width)
    await pilot.press("ctrl+b", "e")  # open but not focused: focused
    await wait_until(lambda: app.query_one(MessagesPanel).has_focus)
    await pilot.press("escape")  # closes the focused one only
    await wait_until(lambda: not app.query(MessagesPanel) and shown.has_focus)
    assert app.query_one("#windows").size.width == width
    await sized(width)
    await pilot.press("ctrl+b", "a", "q")  # the last one: the panes get their width back
    await wait_until(lambda: not app.query(LivePanel) and shown.has_focus)
    await wait_until(lambda: app.query_one("#windows").size.width == 120)
    await sized(120)


async def test_every_panel_is_usable_at_80x24() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await at_prompt(app.pane)
        pane = _pane(app)
        _report(app, pane, "waiting", "Continue? (y/n)")
        for key, kind in (
            ("a", AgentsPanel),
            ("e", MessagesPanel),
            ("u", TokensPanel),
            ("y", DecisionsPanel),
        ):
            panel = await _open(pilot, key, kind)
            assert panel.outer_size.width >= 36 and app.query_one("#windows").size.width >= 40
            title, hint = panel.query_one("#title", Static), panel.query_one("#hint", Static)
            assert title.region.height == 1 and hint.region.height == 1
            assert hint.region.bottom <= 22  # above the status and hint lines
            assert panel.query_one(OptionList).region.height >= 1
            await pilot.press("escape")
            await wait_until(lambda: not app.query(LivePanel) and pane.has_focus)


async def test_at_80x24_a_third_panel_takes_the_place_of_the_one_focused_longest_ago() -> None:
    """22 rows: two panels of 11 stack; a third would get 7 each, so it replaces one."""
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await at_prompt(app.pane)
        pane = _pane(app)
        agents = await _open(pilot, "a", AgentsPanel)
        messages = await _open(pilot, "e", MessagesPanel)
        assert agents.region.height >= MIN_PANEL_ROWS <= messages.region.height
        await pilot.press("ctrl+b", "a")  # agents focused again: messages is the oldest now
        await wait_until(lambda: agents.has_focus)
        tokens = await _open(pilot, "u", TokensPanel)
        await wait_until(lambda: not app.query(MessagesPanel))
        assert [type(p) for p in app.query(LivePanel)] == [AgentsPanel, TokensPanel]
        assert tokens.region.y > agents.region.y  # in the fixed order, whoever came first
        await pilot.press("escape")  # pane focused; then decisions replaces agents
        await wait_until(lambda: pane.has_focus and not app.query(TokensPanel))
        await _open(pilot, "u", TokensPanel)
        await _open(pilot, "y", DecisionsPanel)
        await wait_until(lambda: not app.query(AgentsPanel))
        assert [type(p) for p in app.query(LivePanel)] == [TokensPanel, DecisionsPanel]
        for panel in app.query(LivePanel):
            assert panel.region.height >= MIN_PANEL_ROWS
            assert panel.query_one("#hint", Static).region.bottom <= 22


async def test_two_panels_stacked_at_140x40_each_live_and_each_key_its_own() -> None:
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        await at_prompt(app.pane)
        first = _pane(app)
        second = await split(app, pilot, "percent_sign")
        a, b = first.session.name, second.session.name
        agents = await _open(pilot, "a", AgentsPanel)
        messages = await _open(pilot, "e", MessagesPanel)
        assert agents.has_focus is False and messages.has_focus
        # one column: agents above messages, the height shared, the sidebar's usual width
        assert agents.region.x == messages.region.x
        assert agents.region.bottom == messages.region.y
        assert abs(agents.region.height - messages.region.height) <= 1
        assert agents.region.height + messages.region.height == 38
        assert app.query_one("#windows").size.width + agents.outer_size.width == 140
        # both live
        _report(app, first, "waiting", "Ship it? (y/n)")
        _post(app, a, b, "please review")
        await wait_until(
            lambda: "“Ship it? (y/n)”" in _rows(agents)[0], what=lambda: str(_rows(agents))
        )
        await wait_until(lambda: any("please review" in r for r in _rows(messages)))
        _report(app, second, "working")
        _post(app, b, a, "on it")
        await wait_until(lambda: "working" in _rows(agents)[1], what=lambda: str(_rows(agents)))
        await wait_until(lambda: any("on it" in r for r in _rows(messages)))
        # the keys: each panel's own
        await pilot.press("ctrl+b", "a")  # open, not focused: focused
        await wait_until(lambda: agents.has_focus)
        assert app.query(MessagesPanel)
        await pilot.press("ctrl+b", "a")  # focused: closed, messages stays
        await wait_until(lambda: not app.query(AgentsPanel) and second.has_focus)
        await wait_until(lambda: messages.region.height == 38, what="messages takes the column")
        _post(app, a, b, "still here")
        await wait_until(lambda: any("still here" in r for r in _rows(messages)))
        await pilot.press("ctrl+b", "e", "ctrl+b", "e")  # focused, then closed: sidebar gone
        await wait_until(lambda: not app.query(LivePanel) and not app.query(PanelStack))
        await wait_until(lambda: app.query_one("#windows").size.width == 140)


async def test_four_panels_stacked_at_140x40_in_a_fixed_order_each_live() -> None:
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        await at_prompt(app.pane)
        pane = _pane(app)
        name = pane.session.name
        other = (await split(app, pilot, "percent_sign")).session.name
        for key, kind in (
            ("y", DecisionsPanel),
            ("e", MessagesPanel),
            ("u", TokensPanel),
            ("a", AgentsPanel),
        ):
            await _open(pilot, key, kind)
        panels = list(app.query(LivePanel))
        assert [type(p) for p in panels] == [
            AgentsPanel,
            MessagesPanel,
            TokensPanel,
            DecisionsPanel,
        ]
        await wait_until(lambda: all(p.region.height >= MIN_PANEL_ROWS for p in panels))
        tops = [p.region.y for p in panels]
        assert tops == sorted(tops) and panels[-1].region.bottom == 38
        assert len({p.region.x for p in panels}) == 1
        agents, messages, tokens, decisions = panels
        assert agents.has_focus
        _report(app, pane, "waiting", "Deploy? (y/n)")
        _post(app, name, other, "tests are green")
        app.manager.hub.record_tokens(name, 1200, 300, "claude-sonnet-4")
        app.manager.hub.decisions.track("approach", ["a", "b"], "b", 0.9, agent=name)
        await wait_until(lambda: "“Deploy? (y/n)”" in _rows(agents)[0])
        await wait_until(lambda: any("tests are green" in r for r in _rows(messages)))
        await wait_until(lambda: "1.2k in 300 out" in _rows(tokens)[0])
        await wait_until(lambda: any("approach → b 90%" in r for r in _rows(decisions)))
        await pilot.press("ctrl+b", "u")  # focus moves with the keys
        await wait_until(lambda: tokens.has_focus)
        await pilot.press("ctrl+b", "y")
        await wait_until(lambda: decisions.has_focus)
        await pilot.press("q")  # closes decisions only
        await wait_until(lambda: not app.query(DecisionsPanel))
        assert len(app.query(LivePanel)) == 3
        await wait_until(lambda: tokens.region.bottom == 38, what="the three share the column")


async def test_the_panels_are_commands_of_the_prompt_and_the_palette(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await pilot.press("ctrl+b", "colon", *"show-agent-messages", "enter")
    await wait_until(lambda: bool(app.query(MessagesPanel)))
    await pilot.press("q")
    await wait_until(lambda: not app.query(MessagesPanel))
    titles = {c.title for c in app.get_system_commands(app.screen)}
    assert {"Agents", "Agent messages", "Tokens and context", "Decisions and traces"} <= titles
    assert "Next waiting agent" in titles


# -- pictures: each panel at 80x24 beside a pane with a fixed sample -------------------------

MOMENT = datetime(2026, 12, 3, 9, 30, 0, tzinfo=UTC)


async def _sample_shown(pilot: Pilot, panes: int = 1) -> AiSessionApp:
    """Every pane's sample on screen (a plain program: its pane shows no badge)."""
    app = pilot.app
    assert isinstance(app, AiSessionApp)
    if panes > 1:
        await pilot.press("ctrl+b", "percent_sign")
    await _shown(pilot, panes)
    return app


async def _settled(pilot: Pilot, kind: type[LivePanel]) -> LivePanel:
    """The panel open, read once more after the last event, and painted."""
    app = pilot.app
    keys = {AgentsPanel: "a", MessagesPanel: "e", TokensPanel: "u", DecisionsPanel: "y"}
    await pilot.press("ctrl+b", keys[kind])
    await wait_until(lambda: bool(app.query(kind)))
    panel = app.query_one(kind)
    await _still(pilot, panel)
    return panel


async def _still(pilot: Pilot, panel: LivePanel) -> None:
    """The panel read once more after the last event, the status line too, and painted."""
    app = pilot.app
    assert isinstance(app, AiSessionApp)
    await wait_until(lambda: not panel._due, what="no reload left due")  # events all read
    panel.reload()
    app.update_status()
    await pilot.pause()  # one refresh: painted


def test_agents_panel_picture(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Two panes side by side with their badges in their titles; the panel lists both, the
    waiting one with its question, times in state from a fixed clock; the toast announcing
    the wait at the bottom. The panes print one short line (a line that wraps would land
    differently as the panes narrow)."""
    # argv, not a string: a string goes to $SHELL -c (sh when SHELL is unset, as in CI), and
    # dash does not exec the command, so the foreground would be `sh` there and `python` here
    program = [sys.executable, "-c", "print('an agent'); import sys; sys.stdin.read()"]

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AiSessionApp)
        panel = await _settled(pilot, AgentsPanel)
        await pilot.press("ctrl+b", "percent_sign")
        await wait_until(lambda: len(app.window.panes) == 2)
        left, right = (app.window.panes[p] for p in app.window.splits.panes())
        # A state reported once the screens have their size and text holds while they stay
        # so (the monitor keeps a report until the screen changes).
        await wait_until(
            lambda: all(
                p.session.terminal.columns == p.size.width
                and "an agent" in p.session.capture_pane()
                for p in (left, right)
            )
        )
        agents = app.manager.agents
        agents.report(left.session.name, "waiting", question="Do you want to edit parser.py?")
        agents.report(right.session.name, "working")
        app.manager.hub.record_tokens(right.session.name, 12_000, 3_400, "claude-sonnet-4")
        await wait_until(lambda: (left.agent_state, right.agent_state) == ("waiting", "working"))
        since = max(s.since for s in agents.statuses())
        panel.now = lambda: since + timedelta(seconds=83)
        panel.focus()
        await _still(pilot, panel)

    app = AiSessionApp(SessionConfig(shell_command=program), theme="ai-session-dark")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_tokens_panel_picture(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        app = await _sample_shown(pilot)
        name = _pane(app).session.name
        app.manager.hub.record_tokens(name, 12_000, 3_400, "claude-sonnet-4")
        app.manager.hub.record_tokens(name, 8_000, 1_600)
        await _settled(pilot, TokensPanel)

    assert snap_compare(_picture_app(), terminal_size=(80, 24), run_before=run_before)


def _sample_messages() -> list[AgentMessage]:
    """Three messages between a planner and a coder, all at MOMENT."""
    return [
        AgentMessage(
            1,
            "planner",
            "coder",
            MessageType.TASK_ASSIGNMENT,
            MessagePriority.HIGH,
            "write the parser",
            MOMENT,
        ),
        AgentMessage(
            2,
            "coder",
            "planner",
            MessageType.QUESTION,
            MessagePriority.NORMAL,
            "tabs or spaces?",
            MOMENT,
            1,
        ),
        AgentMessage(
            3,
            "planner",
            None,
            MessageType.BROADCAST,
            MessagePriority.CRITICAL,
            {"stop": True, "why": "build red"},
            MOMENT,
        ),
    ]


@pytest.fixture
def utc() -> Iterator[None]:
    """Times written in UTC (the messages' times in the pictures)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("utc")
def test_messages_panel_picture(snap_compare) -> None:  # type: ignore[no-untyped-def]

    async def run_before(pilot: Pilot) -> None:
        app = await _sample_shown(pilot)
        app.manager.hub.bus.remember(_sample_messages())
        await _settled(pilot, MessagesPanel)

    assert snap_compare(_picture_app(), terminal_size=(80, 24), run_before=run_before)


def test_decisions_panel_picture(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        app = await _sample_shown(pilot)
        hub = app.manager.hub
        first = hub.decisions.track(
            "approach", ["rewrite", "patch"], "patch", 0.8, "smaller diff", agent="coder"
        )
        hub.decisions.record_outcome(first.id, True, "tests pass")
        hub.decisions.track("tool_selection", ["grep", "ripgrep"], "ripgrep", 0.6, agent="coder")
        plan = hub.tracer.start_span("plan the parser", agent="planner")
        hub.tracer.start_span("write tests", parent=plan.span_id, agent="coder")
        hub.tracer.start_span("write code", parent=plan.span_id, agent="coder")
        await _settled(pilot, DecisionsPanel)

    assert snap_compare(_picture_app(), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.usefixtures("utc")
def test_two_stacked_panels_picture(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """At 140x40 the agents overview above the messages timeline in one sidebar column, the
    messages one focused (its title lit)."""

    async def run_before(pilot: Pilot) -> None:
        app = await _sample_shown(pilot)
        pane = _pane(app)
        agents = await _settled(pilot, AgentsPanel)
        messages = await _settled(pilot, MessagesPanel)
        await wait_until(lambda: pane.session.terminal.columns == pane.size.width)
        await _shown(pilot)
        app.manager.agents.report(pane.session.name, "working")
        app.manager.hub.record_tokens(pane.session.name, 12_000, 3_400, "claude-sonnet-4")
        await wait_until(lambda: pane.agent_state == "working")
        app.manager.hub.bus.remember(_sample_messages()[:2])
        since = max(s.since for s in app.manager.agents.statuses())
        agents.now = lambda: since + timedelta(seconds=83)
        await _still(pilot, agents)
        await _still(pilot, messages)

    assert snap_compare(_picture_app(), terminal_size=(140, 40), run_before=run_before)


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_the_panel_keys_are_ones_tmux_leaves_unbound(tmp_path: Path) -> None:
    """A tmux user's muscle memory keeps working: our keys are free in tmux's own table."""
    ours = {k for k, c in PREFIX_KEYS.items() if c.split()[0] in AGENT_COMMANDS}
    assert ours == {"a", "j", "e", "u", "y"}
    with tmux_pane(str(tmp_path), "true") as tmux:
        listing = tmux("list-keys", "-T", "prefix")
    bound = {line.split()[3] for line in listing.splitlines()}
    assert "c" in bound and not ours & bound


async def test_the_snapshots_panel_has_the_sidebar_alone_the_agent_panels_stack(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await pilot.press("ctrl+b", "g")
    await wait_until(lambda: bool(app.query(SnapshotsPanel)), what="the snapshots panel")
    width = app.query_one("#windows").size.width
    await _open(pilot, "a", AgentsPanel)  # an agent panel: the snapshots panel goes
    await wait_until(lambda: not app.query(SnapshotsPanel))
    await _open(pilot, "e", MessagesPanel)  # another: stacked with it
    assert len(app.query(LivePanel)) == 2
    assert app.query_one("#windows").size.width == width
    await pilot.press("ctrl+b", "g")  # the snapshots panel: the whole stack goes
    await wait_until(lambda: bool(app.query(SnapshotsPanel)) and not app.query(LivePanel))
    assert len(app.query(SidePanel)) == 1 and not app.query(PanelStack)
    assert app.query_one("#windows").size.width == width
    await _open(pilot, "u", TokensPanel)
    await wait_until(lambda: not app.query(SnapshotsPanel))
    assert len(app.query(SidePanel)) == 1
    await pilot.press("ctrl+b", "g", "ctrl+b", "g")  # opened, closed: nothing beside the panes
    await wait_until(lambda: not app.query(SidePanel) and not app.query(PanelStack))
    await wait_until(lambda: app.query_one("#windows").size.width == 120)


async def test_tokens_from_a_claude_transcript_given_by_its_hook(tmp_path: Path) -> None:
    """The Claude Code reader fed the documented transcript fixture (tests/fixtures/claude),
    named by a hook, while a program the monitor takes for Claude Code (a script named
    claude.py: the kind follows the foreground) runs in the pane. The transcript lies where
    the session's Claude config keeps them (a hook's path anywhere else is not read)."""
    config_dir = tmp_path / "claude-config"
    environment = {"PS1": "$ ", "CLAUDE_CONFIG_DIR": str(config_dir)}
    app = AiSessionApp(SessionConfig(shell_command=BASH, environment=environment))
    async with app.run_test(size=SIZE) as pilot:
        pane = _pane(app)
        await at_prompt(pane)
        program = tmp_path / "claude.py"
        program.write_text("print('> ready'); import sys; sys.stdin.read()\n")
        await pane.session.send_input(f"{sys.executable} {program}\n")
        await wait_for_screen(pane.session, "> ready")
        fixture = next((Path(__file__).parent / "fixtures" / "claude").glob("*.jsonl"))
        transcript = config_dir / "projects" / project_name(str(tmp_path)) / fixture.name
        transcript.parent.mkdir(parents=True)
        shutil.copy(fixture, transcript)
        app.manager.agents.hook(
            pane.session.name,
            {
                "hook_event_name": "Notification",
                "message": "Claude needs your permission to use Bash",
                "transcript_path": str(transcript),
                "session_id": "5f0c2a1e",
                "cwd": str(tmp_path),
            },
        )
        await pane.session.send_input("x")  # output (its echo): the monitor looks again
        panel = await _open(pilot, "u", TokensPanel)
        figures = panel.query_one("#figures", Static)
        await wait_until(lambda: "(transcript)" in _text(figures), 15, what=lambda: _text(figures))
        text = _text(figures)
        assert "claude-sonnet-4-5-20250929" in text
        assert "in 48,222 · out 772 (transcript)" in text  # prompt tokens count the cache too
        assert "context 4% · 7.0k/200k (transcript)" in text
        assert "compactions (its CLI's): 2" in text
        assert "48.2k in 772 out  ctx 4%" in _rows(panel)[0]


async def test_three_scripted_agents_are_watched_live_through_the_cli() -> None:
    """The issue's story: agents in three panes use `ai-session` through $AI_SESSION_SOCKET;
    the person watching sees each thing arrive in its panel, is told who waits and why, and
    gets there with one key."""
    bin_dir = Path(sys.executable).parent  # where `ai-session` is installed
    root = Path(__file__).parent.parent
    environment = {"PS1": "$ ", "PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(root)}
    app = AiSessionApp(SessionConfig(shell_command=BASH, environment=environment))
    async with app.run_test(size=SIZE) as pilot:
        await at_prompt(app.pane)
        alice = _pane(app)
        bob = await split(app, pilot, "percent_sign")
        carol = await split(app, pilot, "quotation_mark")
        b = bob.session.name

        panel = await _open(pilot, "e", MessagesPanel)
        await alice.session.send_input(f"ai-session msg --to {b} 'please review the parser'\n")
        await wait_until(
            lambda: any("please review the parser" in row for row in _rows(panel)),
            30,
            what=lambda: f"the message: {alice.session.capture_pane()}",
        )

        panel = await _open(pilot, "a", AgentsPanel)
        await bob.session.send_input("ai-session state waiting --question 'Merge it now?'\n")
        await wait_until(
            lambda: "“Merge it now?”" in _rows(panel)[1],
            30,
            what=lambda: f"bob waiting: {bob.session.capture_pane()}",
        )
        await wait_until(lambda: bool(_notices(app)))
        assert _notices(app)[-1].endswith(" is waiting: “Merge it now?”")

        await carol.session.send_input(
            "ai-session decide --option merge --option wait --selected wait --confidence 0.7"
            " --why 'CI is red' && ai-session tokens --input 1200 --output 300\n"
        )
        panel = await _open(pilot, "y", DecisionsPanel)
        await wait_until(
            lambda: any("→ wait 70%" in row for row in _rows(panel)),
            30,
            what=lambda: f"carol's decision: {carol.session.capture_pane()}",
        )
        panel = await _open(pilot, "u", TokensPanel)
        await wait_until(lambda: "1.2k in 300 out" in _rows(panel)[2], 30)

        await pilot.press("ctrl+b", "j")  # who waits: bob
        await wait_until(lambda: app.pane is bob and bob.has_focus)


async def test_after_a_restart_the_panels_show_the_agents_records_again(tmp_path: Path) -> None:
    database = tmp_path / "db" / "ai-session.db"
    config = SessionConfig(shell_command=BASH, environment={"PS1": "$ "})
    first = AiSessionApp(config, database=database)
    async with first.run_test(size=SIZE) as pilot:
        await at_prompt(first.pane)
        a = _pane(first).session.name
        b = (await split(first, pilot, "percent_sign")).session.name
        first.manager.hub.bus.send(a, b, "kept across the restart")
        first.manager.hub.decisions.track("approach", ["x", "y"], "y", 0.9, agent=a)
    again = AiSessionApp(config, database=database)
    async with again.run_test(size=SIZE) as pilot:
        await at_prompt(again.pane)
        hub = again.manager.hub
        await wait_until(lambda: bool(hub.messages()) and bool(hub.decisions.decisions()))
        panel = await _open(pilot, "e", MessagesPanel)
        assert "kept across the restart" in _rows(panel)[-1]
        panel = await _open(pilot, "y", DecisionsPanel)
        assert "approach → y 90%" in _rows(panel)[-1]
