"""Input and output serializers of the accounts API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import ApiKey, User
from accounts.roles import PERMISSIONS


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "company",
            "is_staff",
            "is_guest",
            "guest_expires_at",
            "date_joined",
            "last_login",
            "roles",
            "permissions",
        ]
        read_only_fields = fields

    def get_permissions(self, user: User) -> list[str]:
        return sorted(user.api_permissions)


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    full_name = serializers.CharField(
        max_length=301,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Seed 003's field: split at the first space.",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        full_name = values.pop("full_name", "").strip()
        if full_name and not (values.get("first_name") or values.get("last_name")):
            first, _, last = full_name.partition(" ")
            if len(first) > 150 or len(last.strip()) > 150:
                raise serializers.ValidationError({"full_name": ["Each part of the name is at most 150 characters"]})
            values["first_name"], values["last_name"] = first, last.strip()
        return values


class LoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class OAuth2PasswordInputSerializer(serializers.Serializer):
    grant_type = serializers.ChoiceField(choices=["password"], required=False, default="password")
    username = serializers.EmailField(max_length=254, help_text="The account's e-mail address.")
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    scope = serializers.CharField(required=False, allow_blank=True)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField(allow_null=True)
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")
    user = UserSerializer()


class RefreshInputSerializer(serializers.Serializer):
    refresh_token = serializers.CharField()


class PasswordChangeInputSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class CrossSystemTokenInputSerializer(serializers.Serializer):
    target_system = serializers.RegexField(r"^[A-Za-z0-9._:/\-]{1,100}$", help_text="The audience of the token.")
    permissions = serializers.ListField(child=serializers.CharField(max_length=50), allow_empty=False, max_length=50)


class CrossSystemTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    target_system = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())


class ApiKeyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(PERMISSIONS)),
        required=False,
        help_text="Defaults to every permission you hold.",
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApiKeySerializer(serializers.ModelSerializer):
    key_preview = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = ["id", "name", "key_preview", "scopes", "expires_at", "last_used_at", "created_at"]
        read_only_fields = fields

    def get_key_preview(self, key: ApiKey) -> str:
        return f"fbk_{key.prefix}_…"


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself. It is shown this once only.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields
