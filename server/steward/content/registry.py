"""The registry of Sources, filled at start-up from the product's steward.py modules
(autodiscovered by StewardConfig.ready, as the admin discovers admin.py).

Registering connects post_save and post_delete of that model only: an open item follows
its object's edits and deletion (content/reporting.py). Nothing is added to the model.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_delete, post_save

from steward.content.source import Source


class AlreadyRegistered(ImproperlyConfigured):
    pass


class NotRegistered(LookupError):
    pass


class Registry:
    def __init__(self):
        self._registry = {}
        self._registered_by = {}

    def register(self, model, source_class=None):
        """register(Post, PostSource), or @register(Post) on the Source class."""
        if source_class is None:

            def decorator(cls):
                self.register(model, cls)
                return cls

            return decorator
        label = model._meta.label
        if model._meta.abstract or model._meta.proxy:
            raise ImproperlyConfigured(
                f"Steward registers concrete models; {label} is "
                f"{'abstract' if model._meta.abstract else 'a proxy'}."
            )
        if not (isinstance(source_class, type) and issubclass(source_class, Source)):
            raise ImproperlyConfigured(
                f"steward.register({label}, ...) needs a subclass of steward.Source."
            )
        if model in self._registry:
            raise AlreadyRegistered(
                f"{label} is registered with Steward twice: by "
                f"{self._registered_by[model]} and by "
                f"{source_class.__module__}.{source_class.__qualname__}. Register each model "
                "once, in its app's steward.py."
            )
        self._registry[model] = source_class(model)
        self._registered_by[model] = f"{source_class.__module__}.{source_class.__qualname__}"
        from steward.content import reporting

        uid = f"steward_content_{label}"
        post_save.connect(reporting.object_saved, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(reporting.object_deleted, sender=model, dispatch_uid=f"{uid}_del")
        return source_class

    def unregister(self, model) -> None:
        from steward.content import reporting

        self._registry.pop(model, None)
        self._registered_by.pop(model, None)
        uid = f"steward_content_{model._meta.label}"
        post_save.disconnect(reporting.object_saved, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.disconnect(reporting.object_deleted, sender=model, dispatch_uid=f"{uid}_del")

    def is_registered(self, model) -> bool:
        return model._meta.concrete_model in self._registry

    def source_for_model(self, model) -> Source:
        source = self._registry.get(model._meta.concrete_model)
        if source is None:
            label = model._meta.label
            raise NotRegistered(
                f"{label} is not registered with Steward, so it cannot be reported. Add "
                f"steward.register({model.__name__}, {model.__name__}Source) to the "
                f"steward.py of the {model._meta.app_label} app."
            )
        return source

    def source_for(self, obj) -> Source:
        return self.source_for_model(type(obj))


site = Registry()
