"""When Kayse's own 404 proves a record gone, and when it proves nothing: for refresh and destroy.

A 404 in Kayse's ``{error, message}`` shape to a read or a delete of one saved record says
that record is gone, and its symbol is released. But another account's key (or another
Kayse behind the URL) answers so for every record: each one looks deleted while all of them
still exist. So when two or more records answer 404 and not one answer shows a record this
key can see, the run releases nothing and stops with ``EVERY_404``. A run that stops for
another reason (a refused key, a spent budget, a signal) before any answer found a record
cannot tell even one 404 from a wrong key: it releases nothing either (``STOPPED_NOTE``).
A single record that answers 404 while others are found is released as before.
"""

from __future__ import annotations

from kayse_pipeline.advice import PROGRAM, state_command

EVERY_404 = (
    "every record answered 404: is this the right account and URL? Nothing was released. "
    "Another account's key, or another Kayse behind --api-url (or KAYSE_API_URL), makes "
    f"every record look deleted: check KAYSE_API_KEY with `{PROGRAM} doctor MANIFEST`. "
    "If the records really were deleted in Kayse, release them on purpose with "
    f"`{state_command('forget')} SYMBOL ...`"
)
NOT_RELEASED = "answered 404 like every other record: not released"
STOPPED_NOTE = (
    "answered 404 before any answer showed that this key sees the recipe's records, and "
    "the run stopped: not released; the next run asks again"
)


def proves_nothing(gone: int, found: int, *, stopped: bool = False) -> bool:
    """Whether ``gone`` 404s beside ``found`` records seen say "wrong account", not "deleted"
    (after a run that ``stopped`` early, one 404 is enough to doubt).

    ``gone`` counts the answers that would release something (a record, or a list whose
    memberships go with it); ``found`` the answers that show this key sees the recipe's
    records (a record read, deleted, or a list that took a detach).
    """
    return found == 0 and gone >= (1 if stopped else 2)
