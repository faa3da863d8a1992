"""The forum's pages: the list of posts (removed ones hidden) and one post."""

from django.shortcuts import get_object_or_404, render

from forum.models import Post


def post_list(request):
    posts = Post.objects.select_related("author").order_by("-created_at")[:100]
    return render(request, "forum/post_list.html", {"posts": posts})


def post_detail(request, post_id):
    post = get_object_or_404(Post.objects.select_related("author"), pk=post_id)
    comments = post.comments.filter(hidden=False).select_related("author")
    return render(request, "forum/post_detail.html", {"post": post, "comments": comments})
