"""One-to-one support: caseloads, contacts, reviews, closures, the support plan, safety,
safeguarding, deaths and the flexible personal budget.

Sensitive models: views reach them only through ``onestory.casework.selectors``, which take
a ``PersonView`` that ``access.scope`` has already authorised and narrowed to categories.
Each entry belongs to the organisation that wrote it (rule 8).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from onestory.access.models import Organisation
from onestory.access.roles import Category
from onestory.people.models import Person, Relationship

User = settings.AUTH_USER_MODEL


class Allocation(models.Model):
    """A worker's place on a person's support: the lead worker (navigator) or a co-worker.

    Re-allocation ends the old row with a handover note and starts a new one: history stays.
    """

    class Kind(models.TextChoices):
        LEAD = "lead", "Lead worker"
        CO_WORKER = "co_worker", "Co-worker"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="allocations")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="allocations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    handover_note = models.TextField(blank=True)
    # A manager's agreement to go over the caseload cap (SECURITY.md: managers allocate).
    over_cap_agreed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allocated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    relationship = models.ForeignKey(
        Relationship, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        indexes = [models.Index(fields=["worker", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.worker} for person {self.person_id}"


class Contact(models.Model):
    """An attempted or successful contact with the person (category ``case_notes``)."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        OUTREACH = "outreach", "Outreach (looking for the person)"
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        VIDEO = "video", "Video call"
        VIA_SERVICE = "via_service", "Through another service"

    category = Category.CASE_NOTES
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contacts")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    occurred_on = models.DateField()
    method = models.CharField(max_length=20, choices=Method.choices)
    successful = models.BooleanField(help_text="Did you see or speak with the person?")
    where = models.CharField(max_length=200, blank=True)
    who = models.CharField("Who else was there", max_length=200, blank=True)
    note = models.TextField(blank=True)
    # Rule 6: visible only to the organisation that wrote it, never through break glass.
    sealed = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["person", "occurred_on"])]

    def __str__(self) -> str:
        outcome = "contact" if self.successful else "attempt"
        return f"{self.get_method_display()} {outcome} on {self.occurred_on}"


class Review(models.Model):
    """A review of the person's support: of their plan, or of how to keep in touch with
    someone who is hard to reach (with the organisations that took part)."""

    class Kind(models.TextChoices):
        PLAN = "plan", "Support plan review"
        ENGAGEMENT = "engagement", "Multi-agency review of engagement"

    category = Category.SUPPORT_PLAN
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="reviews")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PLAN)
    due_on = models.DateField()
    held_on = models.DateField(null=True, blank=True)
    organisations = models.ManyToManyField(Organisation, blank=True, related_name="+")
    notes = models.TextField(blank=True)
    scheduled_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_on}"


class Closure(models.Model):
    """Support ended by an organisation, with its reason (never "not engaging" alone)."""

    class Reason(models.TextChoices):
        GOAL_REACHED = "goal_reached", "Support goal reached"
        HOUSED = "housed", "Housed and settled"
        MOVED_AWAY = "moved_away", "Moved away"
        INSTITUTION = "institution", "In an institution for more than 90 days"
        DIED = "died", "Died"
        DECLINED = "declined_after_review", "Declined support, after a recorded review"

    category = Category.CASE_NOTES
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="closures")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=30, choices=Reason.choices)
    closed_on = models.DateField()
    note = models.TextField(blank=True)
    review = models.ForeignKey(
        Review, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-closed_on", "-id"]

    def __str__(self) -> str:
        return f"Closed {self.closed_on}: {self.get_reason_display()}"


class SupportPlan(models.Model):
    """The person's plan, in their words: aspirations and strengths (category
    ``support_plan``). One per person, shared by the team around them."""

    category = Category.SUPPORT_PLAN
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="support_plan")
    aspirations = models.TextField("What I want for my future", blank=True)
    strengths = models.TextField("My strengths, and what is going well", blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    updated_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Support plan for person {self.person_id}"


class SupportPlanVersion(models.Model):
    """Every saved wording of the plan's aspirations and strengths: a change appends a new
    version that supersedes the last; the earlier ones are kept (rule 8)."""

    category = Category.SUPPORT_PLAN
    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    aspirations = models.TextField(blank=True)
    strengths = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="plan_unique_version")
        ]

    def __str__(self) -> str:
        return f"Plan v{self.version} for person {self.plan.person_id}"


class Goal(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Working on it"
        ACHIEVED = "achieved", "Achieved"
        CHANGED = "changed", "Changed"
        LET_GO = "let_go", "Let go"

    category = Category.SUPPORT_PLAN
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="goals")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    in_their_words = models.TextField("The goal, in the person's words")
    target_on = models.DateField("Target date", null=True, blank=True)
    review_on = models.DateField("Review date", null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_changed_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "target_on", "id"]

    def __str__(self) -> str:
        return self.in_their_words[:60]


class Step(models.Model):
    """A step towards a goal, and who helps with it: any organisation in the team."""

    category = Category.SUPPORT_PLAN
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="steps")
    description = models.CharField(max_length=300)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    helper = models.CharField("Who helps", max_length=200, blank=True)
    target_on = models.DateField(null=True, blank=True)
    done_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done_on", "target_on", "id"]

    def __str__(self) -> str:
        return self.description


class ProgressNote(models.Model):
    category = Category.SUPPORT_PLAN
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="progress_notes")
    text = models.TextField()
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]


class SafetyMarker(models.Model):
    """Shown before a visit (category ``safety``)."""

    class Kind(models.TextChoices):
        RISK_TO_STAFF = "risk_to_staff", "Risk to staff"
        LONE_WORKING = "lone_working", "Do not visit alone"
        OTHER = "other", "Other safety information"

    category = Category.SAFETY
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="safety_markers")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.TextField()
    review_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    ended_on = models.DateField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return self.get_kind_display()


class SafeguardingConcern(models.Model):
    """A safeguarding concern raised and sent to the organisation that handles it: an adult
    at risk (Care Act 2014 section 42) to adult social care, a child to children's services."""

    class Kind(models.TextChoices):
        ADULT = "adult", "Adult at risk (Care Act 2014, section 42)"
        CHILD = "child", "Child"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        ENQUIRY = "enquiry", "Enquiry under way"
        CLOSED = "closed", "Closed"

    category = Category.SAFETY
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="safeguarding_concerns"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    concern = models.TextField()
    immediate_risk = models.BooleanField(default=False)
    sent_to = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="safeguarding_received"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SENT)
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} concern sent to {self.sent_to}"


class SafeguardingUpdate(models.Model):
    concern = models.ForeignKey(
        SafeguardingConcern, on_delete=models.CASCADE, related_name="updates"
    )
    status = models.CharField(max_length=20, choices=SafeguardingConcern.Status.choices)
    note = models.TextField(blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.status} at {self.recorded_at:%Y-%m-%d}"


class Death(models.Model):
    """A death, recorded so it is reviewed and the partnership learns from it."""

    class ReviewStatus(models.TextChoices):
        NOT_STARTED = "not_started", "Review not started"
        UNDER_WAY = "under_way", "Review under way"
        COMPLETE = "complete", "Review complete"

    category = Category.CASE_NOTES
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="death")
    died_on = models.DateField(null=True, blank=True)
    circumstances = models.TextField(blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    review_status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.NOT_STARTED
    )
    review_learning = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Death of person {self.person_id}"


class EntryRevision(models.Model):
    """Each version of an entry recorded in place (what a review agreed; where a death review
    stands and its learning), appended, never overwritten (rule 8): the entry shows the
    latest, and every earlier version stays, with who recorded it and when."""

    class Kind(models.TextChoices):
        REVIEW = "review", "Review"
        DEATH_REVIEW = "death_review", "Death review"

    category = Category.CASE_NOTES
    kind = models.CharField(max_length=20, choices=Kind.choices)
    entry_id = models.PositiveBigIntegerField()
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    values = models.JSONField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "entry_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "entry_id", "number"], name="one_number_per_entry_revision"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.entry_id} version {self.number}"


class Budget(models.Model):
    """A navigator's flexible personal budget for a period."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="budgets")
    starts_on = models.DateField()
    ends_on = models.DateField()
    amount = models.DecimalField(
        max_digits=9, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    set_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-starts_on", "id"]

    def __str__(self) -> str:
        return f"£{self.amount} for {self.worker} from {self.starts_on}"


class Spend(models.Model):
    """A small spend for a person from their navigator's budget (category ``case_notes``)."""

    class Kind(models.TextChoices):
        FOOD = "food", "Food and essentials"
        TRAVEL = "travel", "Travel"
        PHONE = "phone", "Phone and data"
        CLOTHING = "clothing", "Clothing"
        ID_DOCUMENTS = "id_documents", "ID documents"
        HOME = "home", "Setting up home"
        ACTIVITY = "activity", "Activities and wellbeing"
        OTHER = "other", "Other"

    category = Category.CASE_NOTES
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="spends")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    spent_on = models.DateField()
    kind = models.CharField("Category", max_length=20, choices=Kind.choices)
    amount = models.DecimalField(
        max_digits=9, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    purpose = models.CharField(max_length=300)
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-spent_on", "-id"]

    def __str__(self) -> str:
        return f"£{self.amount} {self.get_kind_display()}"


class PersonVisit(models.Model):
    """When a worker last opened a person's page: what is new since then."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "person"], name="person_visit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} saw person {self.person_id}"


class MigrationRun(models.Model):
    """One caseload migration file: people, lead workers, About me, goals, contacts."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=300)
    file_sha256 = models.CharField(max_length=64)
    imported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)
    people_created = models.PositiveIntegerField(default=0)
    people_matched = models.PositiveIntegerField(default=0)
    allocations = models.PositiveIntegerField(default=0)
    goals = models.PositiveIntegerField(default=0)
    contacts = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"Caseload migration {self.file_name}"

    @property
    def summary(self) -> str:
        return (
            f"people_created={self.people_created} people_matched={self.people_matched} "
            f"allocations={self.allocations} goals={self.goals} contacts={self.contacts} "
            f"quarantined={self.quarantined}"
        )


class MigrationQuarantine(models.Model):
    run = models.ForeignKey(MigrationRun, on_delete=models.CASCADE, related_name="quarantine")
    row_number = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    raw = models.JSONField(default=dict)

    class Meta:
        ordering = ["run", "row_number"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.reason}"
