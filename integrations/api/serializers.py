"""Input and output serializers of the credentials, integrations and AI gateway API.

A credential's ``data`` appears only in input serializers: no output
serializer has a field that could carry it.
"""

from __future__ import annotations

import base64
import binascii

from django.core.validators import URLValidator
from rest_framework import serializers

from integrations.credential_types import CHOICES
from integrations.models import Credential, Integration

CHAT_ROLES = [("system", "system"), ("user", "user"), ("assistant", "assistant")]
NAME = {"max_length": 200, "allow_blank": False, "trim_whitespace": True}


class CredentialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Credential
        fields = ["id", "name", "type", "hint", "created_at", "updated_at", "last_used_at"]
        read_only_fields = fields


class CredentialInputSerializer(serializers.Serializer):
    name = serializers.CharField(**NAME)
    type = serializers.ChoiceField(choices=CHOICES)
    data = serializers.JSONField(
        write_only=True,
        help_text=(
            "The secret data, by type: http_basic {username, password, test_url?}; http_bearer {token, test_url?}; "
            "api_key {name, value, in: header|query, test_url?}; oauth2_token {access_token, refresh_token?, "
            "token_url?, client_id?, client_secret?, scope?, test_url?}; smtp {host, port, username?, password?, "
            "use_tls?, use_ssl?, from_email}; openai_compatible {base_url, api_key?, default_model?, organization?}; "
            "slack_webhook {url}; hmac_secret {secret}. Never returned."
        ),
    )


class CredentialUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, **NAME)
    data = serializers.JSONField(
        write_only=True,
        required=False,
        help_text="Fields to change, merged over the stored data; null removes a field. The type cannot change.",
    )

    def validate(self, attrs: dict) -> dict:
        if "type" in self.initial_data:
            raise serializers.ValidationError({"type": "The type cannot change; create a new credential instead"})
        return attrs


class CredentialTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    schema = serializers.DictField(help_text="JSON Schema of the credential's data.")
    secret_fields = serializers.ListField(child=serializers.CharField(), help_text="Fields never shown again.")


class CredentialTestInputSerializer(serializers.Serializer):
    post = serializers.BooleanField(
        required=False, default=False, help_text="slack_webhook only: post a test message to the channel."
    )


class CredentialTestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField(allow_null=True, help_text="null when nothing could be tested.")
    message = serializers.CharField()
    details = serializers.DictField()


class IntegrationSerializer(serializers.ModelSerializer):
    credential = serializers.UUIDField(source="credential_id", allow_null=True, read_only=True)
    credential_type = serializers.CharField(source="credential.type", allow_null=True, read_only=True, default=None)

    class Meta:
        model = Integration
        fields = ["id", "type", "name", "settings", "credential", "credential_type", "created_at", "updated_at"]
        read_only_fields = fields


class IntegrationInputSerializer(serializers.Serializer):
    type = serializers.RegexField(
        r"^[a-z0-9][a-z0-9_.\-]{0,63}$", help_text="The kind of service, e.g. slack, github, openai."
    )
    name = serializers.CharField(**NAME)
    settings = serializers.JSONField(required=False, help_text="Non-secret settings (an object).")
    credential = serializers.UUIDField(required=False, allow_null=True, help_text="A credential of yours.")


# --- AI gateway ------------------------------------------------------------------------------------


class ChatMessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=CHAT_ROLES)
    content = serializers.JSONField(help_text="Text, or a list of content parts (OpenAI's format).")

    def validate_content(self, value: object) -> object:
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(p, dict) for p in value)):
            return value
        raise serializers.ValidationError("Expected a string or a list of content parts")


class AIChatInputSerializer(serializers.Serializer):
    messages = ChatMessageSerializer(many=True, allow_empty=False)
    model = serializers.CharField(required=False, max_length=200)
    credential_id = serializers.UUIDField(required=False, allow_null=True)
    temperature = serializers.FloatField(required=False, min_value=0, max_value=2)
    max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=128_000)
    response_format = serializers.DictField(required=False)


class UsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


class AIChatResultSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)
    message = serializers.DictField()
    model = serializers.CharField(allow_null=True)
    usage = UsageSerializer()
    cost = serializers.FloatField(help_text="USD, by the server's price table.")
    provider = serializers.CharField()
    finish_reason = serializers.CharField(allow_null=True)


class AIImageGenerateInputSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=32_000)
    size = serializers.ChoiceField(
        required=False,
        choices=["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792", "1536x1024", "1024x1536", "auto"],
    )
    model = serializers.CharField(required=False, max_length=200)
    n = serializers.IntegerField(required=False, min_value=1, max_value=4, default=1)
    quality = serializers.CharField(required=False, max_length=32)
    credential_id = serializers.UUIDField(required=False, allow_null=True)


class ImageSerializer(serializers.Serializer):
    url = serializers.CharField(required=False)
    b64_json = serializers.CharField(required=False)
    revised_prompt = serializers.CharField(required=False)


class AIImageGenerateResultSerializer(serializers.Serializer):
    images = ImageSerializer(many=True)
    model = serializers.CharField(allow_null=True)
    usage = UsageSerializer()
    cost = serializers.FloatField()
    provider = serializers.CharField()


class AIImageAnalyzeInputSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=32_000)
    image_url = serializers.URLField(
        required=False, max_length=4096, validators=[URLValidator(schemes=["http", "https"])]
    )
    image_base64 = serializers.CharField(required=False, help_text="The image's bytes, base64-encoded.")
    mime_type = serializers.ChoiceField(
        required=False, default="image/png", choices=["image/png", "image/jpeg", "image/gif", "image/webp"]
    )
    detail = serializers.ChoiceField(required=False, choices=["low", "high", "auto"])
    model = serializers.CharField(required=False, max_length=200)
    max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=128_000)
    credential_id = serializers.UUIDField(required=False, allow_null=True)

    def validate_image_base64(self, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not valid base64") from None
        return value

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("image_url")) == bool(attrs.get("image_base64")):
            raise serializers.ValidationError({"image_url": "Give either image_url or image_base64"})
        return attrs


class AIImageAnalyzeResultSerializer(AIChatResultSerializer):
    pass
