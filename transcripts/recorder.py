"""The agent's :class:`~agent.student.Recorder` for one session, backed by a :class:`Store`."""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any

from transcripts.records import TurnRow
from transcripts.store import Store

if TYPE_CHECKING:
    from agent.student import CompletedTurn


class SessionRecorder:
    """Logs one session's turns and swaps as they happen; every call commits before it returns.

    Create it with :meth:`start` for a new session or :meth:`resume` for an old one.
    """

    def __init__(self, store: Store, session_id: int) -> None:
        self.store = store
        self.session_id = session_id
        self.unanswered: str | None = None
        """A teacher message logged last that never got its answer (the previous run crashed or
        quit mid-reply). It stays in the log until :meth:`teacher_sent` replaces it or
        :meth:`discard_unanswered` drops it; a UI can put it back into the input box."""
        self.keep_unanswered = False
        """Set when the chat quits mid-reply: the pending message is kept as :attr:`unanswered`
        instead of withdrawn, as if the process had died there."""
        self.last_student_turn_id: int | None = None
        """The id of the student turn logged last, for feedback on it."""
        self._pending: str | None = None  # the teacher message awaiting its reply
        self._resent = False  # ...and it had been waiting in the log before this run

    @classmethod
    def start(cls, store: Store, persona_id: str, trainee: str, brain_id: str) -> SessionRecorder:
        return cls(store, store.start_session(persona_id, trainee, brain_id))

    @classmethod
    def resume(cls, store: Store, session_id: int) -> SessionRecorder:
        """Continue ``session_id``; raises :class:`~transcripts.store.UnknownSession`.

        If the previous run stopped between sending a teacher message and logging the reply (a
        crash, a killed terminal, quitting mid-reply), that message stays logged and its text is
        in :attr:`unanswered`; sending replaces it, so teacher and student turns keep alternating.
        """
        store.session(session_id)
        recorder = cls(store, session_id)
        turns = store.turns(session_id)
        if turns and turns[-1].role == "teacher":
            recorder.unanswered = turns[-1].text
        return recorder

    # --- what a resumed agent needs -----------------------------------------------------------

    def turns(self) -> list[TurnRow]:
        return self.store.turns(self.session_id)

    def answered_turns(self) -> list[TurnRow]:
        """The turns without a trailing unanswered message (that one belongs in the input box)."""
        turns = self.turns()
        return turns[:-1] if turns and turns[-1].role == "teacher" else turns

    def discard_unanswered(self) -> None:
        """The trainee dropped the message that never got its answer: remove it from the log."""
        if self.unanswered is not None:
            self.store.delete_last_turn_if_teacher(self.session_id)
            self.unanswered = None

    def exchanges(self) -> list[tuple[str, str]]:
        """(teacher, student) pairs in order, e.g. to refill ``ConversationMemory``."""
        return [
            (teacher.text, student.text)
            for teacher, student in pairwise(self.turns())
            if teacher.role == "teacher" and student.role == "student"
        ]

    def latest_state(self) -> dict[str, Any] | None:
        """For ``StudentState.from_dict``; ``None`` before the first reply."""
        return self.store.latest_state(self.session_id)

    # --- the Recorder protocol ----------------------------------------------------------------

    def teacher_sent(self, text: str) -> None:
        self._pending = text
        self._resent = self.unanswered is not None
        if self._resent:  # re-sent (perhaps edited): it takes the old one's place
            self.store.resend_unanswered(self.session_id, text)
        else:
            self.store.add_turn(self.session_id, "teacher", text)
        self.unanswered = None

    def teacher_withdrawn(self) -> None:
        # Quitting mid-reply keeps the message for resume, as a crash would; so does a failed
        # re-send of a message that was already waiting in the log (it stays until answered or
        # discarded). Otherwise the failed or stopped exchange leaves nothing.
        if self._pending is not None and (self.keep_unanswered or self._resent):
            self.unanswered = self._pending
            return
        self.store.delete_last_turn_if_teacher(self.session_id)

    def student_replied(self, turn: CompletedTurn) -> None:
        self.last_student_turn_id = self.store.add_turn(
            self.session_id,
            "student",
            turn.student,
            brain_id=turn.brain_id,
            latency_ms=turn.latency_ms,
            prompt_tokens=turn.prompt_tokens,
            completion_tokens=turn.completion_tokens,
            student_state=turn.state.to_dict(),
        )
        self._pending, self._resent = None, False

    def brain_swapped(self, old_id: str, new_id: str, accepted: bool, reason: str) -> None:
        self.store.record_swap(self.session_id, old_id, new_id, accepted, reason)

    def end(self) -> None:
        self.store.end_session(self.session_id)
