from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Django's own sign-in, sign-out and password reset pages (the reset mail links here).
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("steward.urls")),
    path("", include("forum.urls")),
]
