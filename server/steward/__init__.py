"""Steward: the server side of the Steward moderation console, as a reusable Django app.

The product's surface:

    import steward

    @steward.register(Post)              # in the app's steward.py, autodiscovered
    class PostSource(steward.Source): ...

    steward.report(post, reason="spam", reporter=request.user, note="")

steward.signals.reported / decided fire after commit for the product's side effects.
"""

from steward.content.source import DecisionRefused, Source


def register(model, source_class=None):
    """Register `model` with its Source (also usable as a class decorator)."""
    from steward.content.registry import site

    return site.register(model, source_class)


def report(obj, reason: str, reporter=None, note: str = ""):
    """Open an item for `obj`, or add a report to its open item; returns a ReportResult
    (item, report, opened). Raises steward.NotRegistered for a model never registered."""
    from steward.content.reporting import report as report_object

    return report_object(obj, reason, reporter=reporter, note=note)


def __getattr__(name):
    if name in ("NotRegistered", "AlreadyRegistered"):
        from steward.content import registry

        return getattr(registry, name)
    raise AttributeError(name)


__all__ = ["DecisionRefused", "Source", "register", "report"]
