"""Cross-organisational working measures, and small-number suppression for analysts and
board members (DOMAIN.md: figures from 1-7 people suppressed, counts rounded to 5)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from onestory.core.disclosure import Rule
from onestory.people.models import Person
from onestory.referrals.models import Referral
from tests.conftest import World, signed_in_client


def test_the_disclosure_rule() -> None:
    rule = Rule(threshold=7, base=5)
    assert [rule.count(n) for n in (0, 1, 7, 8, 12, 13, 100)] == [0, None, None, 10, 10, 15, 100]
    assert rule.rate(9, 20) == 0.45
    assert rule.rate(3, 20) is None  # the numerator is a small number
    assert rule.rate(18, 20) is None  # so is what is left
    assert rule.rate(2, 5) is None


def _referrals(world: World, accepted: int, declined: int) -> None:
    now = timezone.now()
    for i in range(accepted + declined):
        person = Person.objects.create(given_name=f"P{i}", family_name="Ref")
        Referral.objects.create(
            person=person,
            from_organisation=world.nav_org,
            sent_by=world.user("navigator"),
            to_organisation=world.housing_org,
            reason="r",
            what_they_want="w",
            respond_by=now.date(),
            status="accepted" if i < accepted else "declined",
            decline_reason="" if i < accepted else "no_capacity",
            decided_at=now + timedelta(days=2) if i < accepted else now,
        )


def test_managers_see_exact_figures_analysts_suppressed(world: World) -> None:
    _referrals(world, accepted=9, declined=3)
    manager = signed_in_client(world.user("manager")).get("/measures/working-together/")
    page = manager.content.decode()
    assert world.housing_org.name in page
    assert ">12<" in page  # received, exact
    assert "75%" in page  # 9 of 12 accepted
    analyst = signed_in_client(world.user("analyst")).get("/measures/working-together/")
    page = analyst.content.decode()
    assert ">10<" in page  # 12 rounded to the nearest 5
    assert "75%" not in page  # 3 declined is a small number: the rate is suppressed
    assert "Figures from 1 to 7 people are not shown" in page
    for name in ("P1 Ref", "Alice"):
        assert name not in page
