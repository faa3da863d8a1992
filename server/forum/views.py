"""The forum's pages: the list of posts (removed ones hidden), one post, and reporting
a post, which hands it to Steward."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

import steward
from forum.models import Post

REASONS = ("spam", "harassment", "nsfw", "other")


def post_list(request):
    posts = Post.objects.select_related("author").order_by("-created_at")[:100]
    return render(request, "forum/post_list.html", {"posts": posts})


def post_detail(request, post_id):
    post = get_object_or_404(Post.objects.select_related("author"), pk=post_id)
    comments = post.comments.filter(hidden=False).select_related("author")
    return render(request, "forum/post_detail.html", {"post": post, "comments": comments})


@require_POST
@login_required
def report_post(request, post_id):
    """Report a post: Steward opens an item for it, or adds the report to its open item."""
    post = get_object_or_404(Post, pk=post_id)
    reason = request.POST.get("reason", "other")
    if reason not in REASONS:
        return JsonResponse({"error": f"reason must be one of {', '.join(REASONS)}"}, status=400)
    result = steward.report(
        post, reason=reason, reporter=request.user, note=request.POST.get("note", "")[:2000]
    )
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"item": result.item.pk, "opened": result.opened}, status=201)
    return redirect(post.get_absolute_url())
