"""The one error type a user can cause, and how it reaches them."""


class LeadscoreError(Exception):
    """A problem the user can fix: the message is one sentence naming the problem and the fix.

    The command line prints it on one line and exits non-zero; it never shows a traceback.
    """
