"""Signals for the product's own side effects, sent after the transaction commits (so a
receiver never acts on something rolled back). Receivers' errors are logged, not raised.

reported(sender=<model>, obj, item, report, opened)
    A report was recorded; `opened` when it opened the item.
decided(sender=<model>, obj, item, decision)
    A moderator's decision was applied (and the Source's method ran). `obj` is None when
    the object no longer exists; `sender` is Item for items without an object.
"""

from django.dispatch import Signal

reported = Signal()
decided = Signal()
