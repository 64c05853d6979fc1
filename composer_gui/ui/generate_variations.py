"""Flipping through the variations of the last generation. The K candidates come back
ranked by the critic (the conductor); showing another one undoes the one shown, so the
generation stays one undo step, and flipping ends once the song is edited since or the
user keeps a variation. :func:`verdict` words how real the conductor judged a candidate:
a percentile among its scores of real passages of the model's training data.
"""

from __future__ import annotations

from composer_gui.core.song import Track
from composer_gui.ui.document import Document
from composer_gui.ui.generate_plan import GenerationPlan, plan_edits


class Variations:
    """The candidates of the last generation and which of them the song shows."""

    def __init__(self, document: Document) -> None:
        self.document = document
        #: The plan and the GenerateJob of the last request (set when it is sent).
        self.plan: GenerationPlan | None = None
        self.job = None
        #: The worker's result whose candidates are flipped through (None: none).
        self.result = None
        self.shown = 0
        self._undo_index = -1
        self._undo_text = ""

    def count(self) -> int:
        return len(self.result.candidates) if self.result is not None else 0

    def take(self, result) -> None:
        """A result arrived: flip through its candidates (none shown yet)."""
        self.result = result
        self._undo_index = -1

    def drop(self) -> None:
        """Flipping ends (a variation was kept, or another song was opened)."""
        self.result = None
        self._undo_index = -1

    def still_ours(self) -> bool:
        """The song shows a candidate and was not edited since."""
        stack = self.document.undo_stack
        return (self._undo_index >= 1 and stack.index() == self._undo_index
                and stack.text(self._undo_index - 1) == self._undo_text)

    def live(self) -> bool:
        """Flipping is possible: a result, none of it shown yet or still the last edit."""
        return self.result is not None and (self._undo_index < 0 or self.still_ours())

    def show(self, k: int) -> bool:
        """Show candidate ``k`` (clamped; 0 = the conductor's favourite) in place of the
        shown one, as one undo step. False when nothing changed."""
        if self.result is None or self.plan is None:
            return False
        k = max(0, min(k, self.count() - 1))
        if self._undo_index >= 0:
            if not self.still_ours() or k == self.shown:
                return False
            self.document.undo_stack.undo()
        edits = plan_edits(self.plan, self._shaped(k))
        text = f"Generate {', '.join(self.plan.roles[r] for r in self.plan.regenerate)}"
        self.document.push_many(edits, text)
        stack = self.document.undo_stack
        self._undo_index = stack.index()
        self._undo_text = stack.text(self._undo_index - 1)
        self.shown = k
        return True

    def _shaped(self, k: int) -> list[Track]:
        """Candidate ``k`` with the job's density and dynamics applied."""
        from composer_gui.ml.generate.controls import shape_tracks  # numpy only

        job = self.job
        return shape_tracks(self.result.candidates[k], job.song, job.density, job.dynamics,
                            job.seed)


def verdict(result, k: int, no_reference: bool) -> str:
    """How real the conductor judged candidate ``k`` of ``result``; ``no_reference``:
    the model's training data is not on this machine (no percentile will come)."""
    pct = result.percentiles[k]
    score = result.scores[k]
    if pct is not None:
        return f"the conductor judged it more real than {pct:.0f}% of real passages"
    if no_reference:
        return (f"conductor score {score:+.2f} (no real passages of its training data "
                "on this machine to compare with)")
    return f"conductor score {score:+.2f} (comparing with real passages\u2026)"
