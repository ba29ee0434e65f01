"""The insight dashboard: cohort, flows and overlaps; exact for managers, and for analysts
and board members no figure from 1-7 people and none recoverable from a total."""

from __future__ import annotations

import re

from onestory.people.models import Person
from tests.conftest import World, signed_in_client, visible
from tests.test_by_name_list import _in_cohort


def test_small_cells_are_suppressed_for_analysts(world: World) -> None:
    people = [
        Person.objects.create(given_name=f"Cell-{i}", family_name="Small-Case") for i in range(9)
    ]
    for person in people:
        _in_cohort(world, person)
    manager = signed_in_client(world.user("manager")).get("/insight/").content.decode()
    assert re.search(r'govuk-heading-xl">9<', manager)  # exact for a manager
    analyst = signed_in_client(world.user("analyst")).get("/insight/").content.decode()
    assert re.search(r'govuk-heading-xl">10<', analyst)  # 9 rounded to the nearest 5
    for cell in re.findall(r'govuk-table__cell--numeric">([^<]*)<', analyst):
        assert cell == "*" or int(cell) == 0 or int(cell) > 7, cell
        assert cell == "*" or int(cell) % 5 == 0, cell
    # Names carry a hyphen so they can never turn up by chance inside a CSRF token.
    assert "Small-Case" not in visible(analyst) and "Cell-1" not in visible(analyst)


def test_secondary_suppression() -> None:
    from onestory.core.disclosure import secondary

    assert secondary([None, 20, 10], [3, 20, 10]) == [None, 20, None]
    assert secondary([None, None, 10], [3, 2, 10]) == [None, None, 10]
    assert secondary([20, 10], [20, 10]) == [20, 10]
