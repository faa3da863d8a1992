"""Sign-in, token refresh, sign-out and /me."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from steward import auth, throttle
from steward.errors import StewardError
from steward.schema import errors
from steward.serializers.auth import (
    LoginRequestSerializer,
    LogoutRequestSerializer,
    MeResponseSerializer,
    RefreshRequestSerializer,
    TokenResponseSerializer,
    token_digest,
)
from steward.serializers.common import ErrorSerializer
from steward.views.base import StewardAPIView


def _token_body(issued):
    return TokenResponseSerializer(
        {
            "access_token": issued.access_token,
            "access_expires_at": issued.access_expires_at,
            "refresh_token": issued.refresh_token,
            "token_digest": token_digest(issued.access_token, issued.refresh_token),
            "user": issued.user,
        }
    ).data


THROTTLED = OpenApiResponse(
    ErrorSerializer,
    description="too_many_attempts: too many failed sign-ins for this username or from this "
    "address. The message says when to try again, in words; the Retry-After header says it "
    "in seconds. The password was not checked.",
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    description="Seconds until sign-in is allowed again.",
    response=[429],
)


# Auth


class LoginView(StewardAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_login",
        description="Failed sign-ins are counted per username and per client address "
        "(STEWARD_LOGIN_MAX_FAILURES_PER_USER, default 5, and "
        "STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS, default 50, within "
        "STEWARD_LOGIN_WINDOW_SECONDS, default 900); reaching either locks it out for "
        "STEWARD_LOGIN_LOCKOUT_SECONDS (default 300), doubled for each lockout in a row. "
        "A locked-out sign-in gets 429 without its password being checked.",
        request=LoginRequestSerializer,
        parameters=[RETRY_AFTER],
        responses={200: TokenResponseSerializer, **errors(400, 401), 429: THROTTLED},
        auth=[],
    )
    def post(self, request):
        serializer = LoginRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = auth.login(**serializer.validated_data, address=throttle.client_address(request))
        return Response(_token_body(issued))


class RefreshView(StewardAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_refresh",
        description="Rotates the refresh token: the one presented is spent and a new pair "
        "is issued. Presenting a spent token again revokes the whole session (401 "
        "token_reused), except for a retry after a lost answer: within "
        "STEWARD_REFRESH_REUSE_GRACE_SECONDS (default 60) of the rotation, and while no "
        "token it was rotated to has been used, the retry gets a new pair too; the first "
        "of these pairs to be used retires the others (presenting one of them later is "
        "reuse). A session also ends, "
        "whatever its refreshes, STEWARD_SESSION_MAX_AGE_SECONDS (default 30 days) after "
        "its login, and when the user's password changes: refresh then answers 401 "
        "not_authenticated, and the user signs in again.",
        request=RefreshRequestSerializer,
        responses={200: TokenResponseSerializer, **errors(400, 401)},
        auth=[],
    )
    def post(self, request):
        serializer = RefreshRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = auth.refresh(serializer.validated_data["refresh_token"])
        return Response(_token_body(issued))


class LogoutView(StewardAPIView):
    # Authentication is optional here: an expired access token must not stop a logout.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_logout",
        request=LogoutRequestSerializer,
        responses={204: None, **errors(400)},
    )
    def post(self, request):
        serializer = LogoutRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        family = None
        try:
            result = auth.BearerTokenAuthentication().authenticate(request)
        except StewardError:
            result = None
        if result is not None:
            family = result[1].family
        auth.logout(serializer.validated_data.get("refresh_token"), family)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(StewardAPIView):
    @extend_schema(operation_id="me", responses={200: MeResponseSerializer, **errors(401)})
    def get(self, request):
        return Response(MeResponseSerializer(request.user).data)
