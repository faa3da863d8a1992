import steward
from forum.models import Post


@steward.register(Post)
class AnotherPostSource(steward.Source):
    pass
