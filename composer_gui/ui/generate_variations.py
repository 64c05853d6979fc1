"""Flipping through the variations of the last generation. The K candidates come back
ranked by the critic (the conductor); showing another one undoes the one shown, so the
generation stays one undo step, and flipping ends once the song is edited since or the
user keeps a variation. :func:`verdict` words how real the conductor judged a candidate:
a percentile among its scores of real passages of the model's training data.

Only candidates that differ where they were asked to are offered: where the network is
sure of a part (a folk bass under two bars of a plain tune), many candidates write the
same notes, and flipping between equal variations looks like a broken button. The panel
asks for more candidates than it offers when it regenerates part of a song, and
:meth:`Variations.why_few` says why fewer came and what to change.
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
        #: How many variations were asked for (the result may hold more candidates).
        self.wanted = 0
        #: The result's candidates offered, best first: distinct where regenerated.
        self.order: list[int] = []
        #: Every offered candidate writes what the song had there already.
        self.same_as_before = False

    def count(self) -> int:
        return len(self.order) if self.result is not None else 0

    def take(self, result, before=None) -> None:
        """A result arrived: flip through its distinct candidates (none shown yet).
        ``before``: the song the request was made on (to tell a repeat of its notes)."""
        self.result = result
        self._undo_index = -1
        seen: dict = {}
        for i, candidate in enumerate(result.candidates):
            seen.setdefault(self._key(candidate), i)
        wanted = self.wanted or len(result.candidates)
        self.order = sorted(seen.values())[:wanted]
        self.same_as_before = before is not None and all(
            self._key(result.candidates[i]) == self._key_of_song(before) for i in self.order)

    def _key(self, candidate: list[Track]) -> tuple:
        """The notes of the regenerated parts within the region (what a user compares)."""
        lo, hi = self.plan.region
        return tuple(tuple((n.pitch, n.start) for n in candidate[r].notes if lo <= n.start < hi)
                     for r in self.plan.regenerate)

    def _key_of_song(self, song) -> tuple | None:
        plan = self.plan
        if plan.mode != "update" or any(r not in plan.targets for r in plan.regenerate):
            return None
        lo, hi = plan.region
        return tuple(tuple((n.pitch, n.start) for n in song.tracks[plan.targets[r]].notes
                           if lo <= n.start < hi) for r in plan.regenerate)

    def why_few(self, bars: tuple[int, int] | None) -> str:
        """Why fewer variations than asked came (or the song's own notes came back), and
        what to change; empty when there is nothing to say."""
        if self.result is None or self.plan is None:
            return ""
        parts = ", ".join(self.plan.roles[r] for r in self.plan.regenerate)
        where = f" in bars {bars[0]}-{bars[1]}" if bars else ""
        change = ("raise Variation, regenerate more bars or more parts at once, or change "
                  "the melody there")
        if self.same_as_before:
            return (f"The model writes the same {parts}{where} again: it is sure of this "
                    f"part here. For something new, {change}.")
        if self.count() < self.wanted:
            n = self.count()
            return (f"Only {n} different version{'s' if n != 1 else ''} of {parts}{where} "
                    f"came out of {len(self.result.candidates)} tries: the model is sure of "
                    f"this part here. For more choice, {change}.")
        return ""

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
        edits = plan_edits(self.plan, self._shaped(self.order[k]))
        text = f"Generate {', '.join(self.plan.roles[r] for r in self.plan.regenerate)}"
        self.document.push_many(edits, text)
        stack = self.document.undo_stack
        self._undo_index = stack.index()
        self._undo_text = stack.text(self._undo_index - 1)
        self.shown = k
        return True

    def percentile_index(self, k: int) -> int:
        """The result's index of offered variation ``k``."""
        return self.order[k]

    def _shaped(self, k: int) -> list[Track]:
        """The result's candidate ``k`` with the job's density and dynamics applied."""
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
