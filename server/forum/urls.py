from django.urls import path

from forum import views

app_name = "forum"

urlpatterns = [
    path("", views.post_list, name="posts"),
    path("posts/<uuid:post_id>", views.post_detail, name="post"),
    path("posts/<uuid:post_id>/report", views.report_post, name="report"),
]
