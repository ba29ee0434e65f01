"""The system change board's quarterly pack: barriers, what people told us, and what was
published on "you said, we did". Counts go through the small-number rule, because the
pack leaves the app with the board report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from onestory.core.disclosure import Rule, shown
from onestory.voice.models import Answer, Barrier, Category, FeedbackResponse, PublicStory
from onestory.voice.services import escalate_after


@dataclass(frozen=True)
class KindRow:
    label: str
    raised: int | None
    resolved: int | None


@dataclass(frozen=True)
class VoicePack:
    quarter_start: date
    raised: int | None
    resolved: int | None
    open: int | None
    overdue: int | None
    kinds: list[KindRow]
    answered: int | None
    felt_listened: int | None  # people answering "yes" to "Did we listen to you?"
    told_once: int | None  # ... "yes" to "Did you only have to tell your story once?"
    stories: list[PublicStory]


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_pack(as_of: date, rule: Rule | None) -> VoicePack:
    """The pack's counts, exact without a rule."""

    def count(n: int) -> int | None:
        return shown(n, rule)

    start = quarter_start(as_of)
    rows = list(Barrier.objects.values_list("category", "raised_on", "resolved_on", "status"))
    closed = {Barrier.Status.RESOLVED, Barrier.Status.NOT_TAKEN_FORWARD}
    raised = Counter(c for c, r, _, _ in rows if start <= r <= as_of)
    resolved = Counter(c for c, _, done, _ in rows if done and start <= done <= as_of)
    still_open = [r for _, r, _, s in rows if s not in closed]
    late = as_of - timedelta(days=escalate_after())
    answers = list(
        FeedbackResponse.objects.filter(
            submitted_on__gte=start, submitted_on__lte=as_of
        ).values_list("listened", "told_once")
    )
    return VoicePack(
        quarter_start=start,
        raised=count(sum(raised.values())),
        resolved=count(sum(resolved.values())),
        open=count(len(still_open)),
        overdue=count(sum(1 for r in still_open if r <= late)),
        kinds=[
            KindRow(str(label), count(raised[value]), count(resolved[value]))
            for value, label in Category.choices
            if raised[value] or resolved[value]
        ],
        answered=count(len(answers)),
        felt_listened=count(sum(1 for a, _ in answers if a == Answer.YES)),
        told_once=count(sum(1 for _, t in answers if t == Answer.YES)),
        stories=list(PublicStory.objects.filter(published_on__gte=start, published_on__lte=as_of)),
    )
