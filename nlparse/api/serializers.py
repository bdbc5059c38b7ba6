from __future__ import annotations

from rest_framework import serializers

from nlparse.parser import MAX_TEXT_LENGTH


class ParseInputSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=MAX_TEXT_LENGTH,
        trim_whitespace=False,  # warnings point at character positions of the text as sent
        help_text="What the workflow should do, in plain English: a trigger, then steps joined by 'then', "
        "commas or numbered lines.",
    )


class ParseWarningSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="'text', or the definition path of a placeholder to fill in."
    )
    message = serializers.CharField()
    start = serializers.IntegerField(allow_null=True, help_text="First character of the words meant (0-based).")
    end = serializers.IntegerField(allow_null=True, help_text="Character after the last one (exclusive).")


class ParseResultSerializer(serializers.Serializer):
    definition = serializers.JSONField(help_text="A definition that passes POST /workflows/validate.")
    confidence = serializers.FloatField(min_value=0, max_value=1, help_text="How much of the text was understood.")
    warnings = ParseWarningSerializer(many=True)
    parser = serializers.ChoiceField(choices=["builtin", "provider"], help_text="Which parser answered.")
