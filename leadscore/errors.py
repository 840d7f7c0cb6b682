"""The one error type a user can cause, and how it reaches them."""

MAX_MESSAGE = 1500


def fit_message(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` cut to ``limit`` characters, keeping its end (where the fix is said)."""
    if len(message) <= limit:
        return message
    tail = message[-300:]
    return message[: limit - len(tail) - 5] + " ... " + tail


class LeadscoreError(Exception):
    """A problem the user can fix: the message is one sentence naming the problem and the fix.

    The command line prints it on one line and exits non-zero; it never shows a traceback. No
    message is longer than ``MAX_MESSAGE`` characters: lists in it are capped where they are
    built (``features.messages``), and this is the last guard.
    """

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(fit_message(str(message)), *args)
