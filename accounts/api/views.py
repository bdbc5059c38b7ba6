"""Accounts API: thin views over :mod:`accounts.services`."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api import serializers as s
from accounts.authentication import granted_permissions
from accounts.models import ApiKey, User
from accounts.permissions import AUTHENTICATED, HasApiPermission, SessionOnly
from accounts.roles import DEFAULT_ROLE, ROLES
from flowbuilder.api.errors import Forbidden, NotFound


def _token_response(pair: services.TokenPair, *, http_status: int = status.HTTP_200_OK) -> Response:
    return Response(s.TokenPairSerializer(pair).data, status=http_status)


class AuthView(APIView):
    """Base of the public login-family endpoints: no auth, the strict ``auth`` rate."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "auth"


class RegisterView(AuthView):
    @extend_schema(request=s.RegisterInputSerializer, responses={201: s.UserSerializer}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = s.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data, request=request._request)
        if user._state.adding:  # the address was taken: answered as if it were not (see user_register)
            body = {**s.UserSerializer(user).data, "roles": [DEFAULT_ROLE], "permissions": sorted(ROLES[DEFAULT_ROLE])}
            return Response(body, status=status.HTTP_201_CREATED)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(AuthView):
    @extend_schema(request=s.LoginInputSerializer, responses={200: s.TokenPairSerializer}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = s.LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_authenticate(request=request._request, **data.validated_data)
        return _token_response(services.token_pair_issue(user=user))


class OAuth2TokenView(AuthView):
    """OAuth2 password grant for tools (form-encoded ``username`` and ``password``)."""

    @extend_schema(
        request={"application/x-www-form-urlencoded": s.OAuth2PasswordInputSerializer},
        responses={200: s.TokenPairSerializer},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = s.OAuth2PasswordInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_authenticate(
            request=request._request, email=data.validated_data["username"], password=data.validated_data["password"]
        )
        return _token_response(services.token_pair_issue(user=user))


def _refresh_token_of(request: Request) -> str:
    """``{"refresh_token": …}``, or (seed 003) the refresh token as ``Authorization: Bearer …``."""
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    body = request.data if isinstance(request.data, dict) else {}
    if "refresh_token" not in body and scheme.lower() == "bearer" and credential.strip():
        body = {"refresh_token": credential.strip()}
    data = s.RefreshInputSerializer(data=body)
    data.is_valid(raise_exception=True)
    return data.validated_data["refresh_token"]


class RefreshView(AuthView):
    throttle_scope = "token"

    @extend_schema(
        request=s.RefreshInputSerializer,
        responses={200: s.TokenPairSerializer},
        tags=["auth"],
        description="The refresh token in the body, or as `Authorization: Bearer <refresh token>`.",
    )
    def post(self, request: Request) -> Response:
        return _token_response(services.token_refresh(refresh_token=_refresh_token_of(request)))


class LogoutView(AuthView):
    throttle_scope = "token"

    @extend_schema(
        request=s.RefreshInputSerializer, responses={204: OpenApiResponse(description="Logged out")}, tags=["auth"]
    )
    def post(self, request: Request) -> Response:
        services.token_logout(refresh_token=_refresh_token_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class GuestView(AuthView):
    @extend_schema(request=None, responses={201: s.TokenPairSerializer}, tags=["auth"])
    def post(self, request: Request) -> Response:
        return _token_response(services.guest_session_create(), http_status=status.HTTP_201_CREATED)


class MeView(APIView):
    permission_classes = [HasApiPermission]
    required_permissions = {"GET": AUTHENTICATED}

    @extend_schema(responses={200: s.UserSerializer}, tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(s.UserSerializer(request.user).data)


class PasswordChangeView(APIView):
    """A person's own password: with their session, never with an API key."""

    permission_classes = [HasApiPermission, SessionOnly]
    required_permissions = {"POST": AUTHENTICATED}
    throttle_scope = "auth"

    @extend_schema(
        request=s.PasswordChangeInputSerializer,
        responses={204: OpenApiResponse(description="Password changed; earlier tokens are revoked")},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        if request.user.is_guest:
            raise Forbidden("Guest sessions have no password")
        data = s.PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CrossSystemTokenView(APIView):
    # The token carries at most what the request may do (an API key's scopes included).
    permission_classes = [HasApiPermission]
    required_permissions = {"POST": AUTHENTICATED}

    @extend_schema(
        request=s.CrossSystemTokenInputSerializer, responses={201: s.CrossSystemTokenSerializer}, tags=["auth"]
    )
    def post(self, request: Request) -> Response:
        data = s.CrossSystemTokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.cross_system_token_create(
            user=request.user, granted=granted_permissions(request), **data.validated_data
        )
        return Response(s.CrossSystemTokenSerializer(token).data, status=status.HTTP_201_CREATED)


class UserDetailView(APIView):
    # One's own profile; staff see anyone's.
    permission_classes = [HasApiPermission]
    required_permissions = {"GET": AUTHENTICATED}

    @extend_schema(responses={200: s.UserSerializer}, tags=["users"])
    def get(self, request: Request, user_id: str) -> Response:
        user = request.user
        if str(user.pk) != str(user_id):
            if not user.is_staff:
                raise NotFound("User not found")
            user = User.objects.filter(pk=user_id).prefetch_related("groups").first()
            if user is None:
                raise NotFound("User not found")
        return Response(s.UserSerializer(user).data)


@extend_schema(tags=["api-keys"])
class ApiKeyViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """``GET|POST /api-keys``, ``DELETE /api-keys/{id}`` (revokes)."""

    serializer_class = s.ApiKeySerializer
    # A person's session holds api_key:write through their role (guests do not); a key needs the scope,
    # and mints only keys narrower than itself (api_key_create).
    permission_classes = [HasApiPermission]
    required_permissions = {"list": "api_key:write", "create": "api_key:write", "destroy": "api_key:write"}
    queryset = ApiKey.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> QuerySet[ApiKey]:
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        return ApiKey.objects.active().filter(user=self.request.user).order_by("-created_at")

    @extend_schema(request=s.ApiKeyInputSerializer, responses={201: s.ApiKeyCreatedSerializer})
    def create(self, request: Request) -> Response:
        if request.user.is_guest:
            raise Forbidden("Guest sessions cannot create API keys")
        data = s.ApiKeyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parent = request.auth if isinstance(request.auth, ApiKey) else None
        key, raw = services.api_key_create(
            user=request.user, granted=granted_permissions(request), parent=parent, **data.validated_data
        )
        key.key = raw
        return Response(s.ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiKey) -> None:
        services.api_key_revoke(api_key=instance)
