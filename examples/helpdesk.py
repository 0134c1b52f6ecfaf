"""A small helpdesk program embedding cswork.

Incoming messages (mail, chat, phone calls) start inquiry cases; agents'
actions fire events; breaches and warnings reach people through a custom
notifier that routes each role to a channel (here: printed "chat messages").

Needs: cswork installed (``pip install .``). Run: ``python examples/helpdesk.py``.
It uses a SQLite file in a temporary directory and a virtual clock, so a
working day passes in an instant.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cswork import Actor, Engine, IllegalEventError, Notice, VirtualClock
from cswork.shipped import shipped_workflows
from cswork.storage import SQLiteStore

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Message:
    """Something a customer sent."""

    customer: str
    channel: str  # phone, email, chat, fax, web_form
    text: str


class ChatNotifier:
    """Routes notices to people's chat channels by role; delivery is idempotent."""

    def __init__(self, channels: dict[str, str]) -> None:
        self.channels = channels
        self.seen: set[str] = set()
        self.sent: list[str] = []

    def notify(self, notice: Notice) -> None:
        if notice.id in self.seen:  # the outbox delivers at least once
            return
        for role in notice.roles:
            line = (
                f"[{self.channels.get(role, '#customer-service')}] case "
                f"{notice.case_id[:8]} ({notice.reason}): {notice.message or 'attention'}"
            )
            self.sent.append(line)
            print("  chat:", line)
        self.seen.add(notice.id)


class Helpdesk:
    """The embedding program: it owns the engine and speaks to it in its terms."""

    def __init__(self, db: Path, clock: VirtualClock) -> None:
        self.notifier = ChatNotifier(
            {"cs_lead": "#cs-leads", "tech_support": "#tech", "cs_agent": "#agents"}
        )
        self.engine = Engine.from_directory(
            shipped_workflows(),
            store=SQLiteStore(db),
            clock=clock,
            notifier=self.notifier,
        )

    def receive(self, message: Message, agent: Actor) -> str:
        case = self.engine.start(
            "inquiry",
            agent,
            {
                "customer_id": message.customer,
                "channel": message.channel,
                "question": message.text,
            },
        )
        return case.id

    def act(self, case_id: str, event: str, who: Actor, **data: object) -> None:
        try:
            self.engine.fire(case_id, event, who, data)
        except IllegalEventError as err:
            allowed = ", ".join(err.allowed) or "nothing, for this role"
            print(f"  refused {event!r}; allowed now: {allowed}")


def main(db: Path) -> None:
    clock = VirtualClock(datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI))  # Monday 09:00
    desk = Helpdesk(db, clock)
    li = Actor("li.na", {"cs_agent"})
    qian = Actor("qian.yu", {"tech_support"})

    print("09:00 three messages arrive")
    easy = desk.receive(Message("C-1", "chat", "How do I reset the scanner?"), li)
    hard = desk.receive(Message("C-2", "email", "Firmware 2.1 crashes on boot"), li)
    slow = desk.receive(Message("C-3", "email", "Where is my invoice?"), li)

    desk.act(easy, "respond", li)
    desk.act(
        easy,
        "answer",
        li,
        answer="Hold the button for 5 s",
        advice="Unplug it first; you lose the pairing",
    )
    desk.act(easy, "close", li)
    desk.act(hard, "respond", li)
    desk.act(hard, "transfer", li, question_detail="Crash log attached")
    desk.act(hard, "close", li)  # not allowed yet: prints what is

    print("nobody answers C-3 for a while …")
    desk.engine.advance(timedelta(hours=2))  # the warning, then the breach

    desk.act(hard, "provide_answer", qian, support_answer="Update to 2.2")
    desk.act(hard, "tell_customer", li, answer="Update to 2.2", advice="Back up first")
    desk.act(slow, "respond", li)
    desk.engine.flush()

    for cid in (easy, hard, slow):
        case = desk.engine.get(cid)
        print(
            f"{case.data['customer_id']}: {case.state}, {case.breaches} missed deadline(s)"
        )
    assert desk.engine.get(slow).breaches == 1
    assert any("#cs-leads" in line for line in desk.notifier.sent)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp) / "helpdesk.db")
