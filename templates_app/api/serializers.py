"""Template API serializers: input shapes and the output representation."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from templates_app.models import Template, TemplateParameter
from templates_app.parameters import ParameterSpec
from templates_app.substitution import whole_placeholder
from workflows.api.serializers import WorkflowCreatedSerializer

_TYPE_HELP = "string, number, boolean, email, url, enum (with choices) or json."


class ParameterInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, help_text="Used in the definition as {{ name }}.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    parameter_type = serializers.ChoiceField(
        choices=TemplateParameter.Type.choices, required=False, help_text=_TYPE_HELP
    )
    # A plain field: a second enum named "type" would collide with others in the schema.
    type = serializers.CharField(required=False, max_length=16, help_text="Alias of parameter_type.")
    is_required = serializers.BooleanField(required=False, default=False)
    default_value = serializers.JSONField(required=False, allow_null=True, default=None)
    choices = serializers.ListField(child=serializers.JSONField(), required=False, default=list, max_length=100)

    def validate_type(self, value: str) -> str:
        if value not in TemplateParameter.Type.values:
            raise serializers.ValidationError(f'"{value}" is not a valid choice.')
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        alias = attrs.pop("type", None)
        if "parameter_type" in attrs and alias and alias != attrs["parameter_type"]:
            raise serializers.ValidationError({"type": "Give parameter_type or type, not two different ones"})
        attrs["parameter_type"] = attrs.get("parameter_type") or alias or TemplateParameter.Type.STRING
        return attrs

    @staticmethod
    def specs(items: list[dict[str, Any]]) -> list[ParameterSpec]:
        return [
            ParameterSpec(
                name=item["name"],
                parameter_type=item["parameter_type"],
                description=item.get("description", ""),
                is_required=item.get("is_required", False),
                default_value=item.get("default_value"),
                choices=tuple(item.get("choices") or ()),
            )
            for item in items
        ]


class CompanionSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=64, help_text="Referred to as {{ companions.<key> }} (its workflow id).")
    name = serializers.CharField(max_length=150)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    definition = serializers.JSONField()


class TemplateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    category = serializers.CharField(required=False, allow_blank=True, max_length=50)
    definition = serializers.JSONField(help_text="A workflow definition with {{ parameter }} placeholders.")
    parameters = ParameterInputSerializer(many=True, required=False)
    companions = CompanionSerializer(
        many=True, required=False, help_text="Workflows created along with the main one (e.g. a for_each's child)."
    )
    is_active = serializers.BooleanField(required=False)
    is_builtin = serializers.BooleanField(
        required=False, help_text="Staff only: publish the template to everyone as a built-in one."
    )


class TemplateParameterSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateParameter
        fields = ["name", "description", "parameter_type", "is_required", "default_value", "choices"]
        read_only_fields = fields


class TemplateListSerializer(serializers.ModelSerializer):
    created_by = serializers.UUIDField(source="owner_id", read_only=True, allow_null=True)
    parameter_count = serializers.IntegerField(read_only=True)
    editable = serializers.BooleanField(read_only=True, help_text="Whether you may change or delete it.")

    class Meta:
        model = Template
        fields = [
            "id",
            "key",
            "name",
            "description",
            "category",
            "is_builtin",
            "is_active",
            "created_by",
            "usage_count",
            "parameter_count",
            "editable",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TemplateDetailSerializer(TemplateListSerializer):
    definition = serializers.JSONField(read_only=True)
    parameters = TemplateParameterSerializer(many=True, read_only=True)
    companions = CompanionSerializer(many=True, read_only=True)
    source_workflow = serializers.UUIDField(source="source_workflow_id", read_only=True, allow_null=True)

    class Meta(TemplateListSerializer.Meta):
        fields = [*TemplateListSerializer.Meta.fields, "definition", "parameters", "companions", "source_workflow"]
        read_only_fields = fields


class InstantiateInputSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False, max_length=200, help_text="The new workflow's name; the template's by default."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    parameter_values = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        required=False,
        default=dict,
        help_text="Parameter name to value; parameters left out get their default.",
    )
    is_active = serializers.BooleanField(required=False, default=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=20, required=False)


class CompanionWorkflowSerializer(serializers.Serializer):
    key = serializers.CharField()
    id = serializers.UUIDField()
    name = serializers.CharField()


class InstantiatedWorkflowSerializer(WorkflowCreatedSerializer):
    template_id = serializers.UUIDField(read_only=True)
    companion_workflows = CompanionWorkflowSerializer(many=True, read_only=True)

    class Meta(WorkflowCreatedSerializer.Meta):
        fields = [*WorkflowCreatedSerializer.Meta.fields, "template_id", "companion_workflows"]
        read_only_fields = fields


class ReplacementSerializer(serializers.Serializer):
    value = serializers.JSONField(help_text="A literal value of the definition.")
    parameter = serializers.CharField(max_length=64, help_text="The parameter it becomes, as {{ parameter }}.")


def _parameter_name(text: str) -> str:
    return whole_placeholder(text) or text.strip()


class SaveAsTemplateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200, help_text="The workflow's name by default.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    category = serializers.CharField(required=False, allow_blank=True, max_length=50)
    parameters = ParameterInputSerializer(many=True, required=False)
    replace = serializers.JSONField(
        required=False,
        help_text='Literal values to turn into placeholders: {"literal": "parameter"} or '
        '[{"value": <any JSON>, "parameter": "name"}].',
    )

    def validate_replace(self, value: Any) -> list[tuple[Any, str]]:
        if isinstance(value, dict):
            pairs = []
            for literal, parameter in value.items():
                if not isinstance(parameter, str):
                    raise serializers.ValidationError({literal: "The name of a parameter"})
                pairs.append((literal, _parameter_name(parameter)))
            return pairs
        if isinstance(value, list):
            items = ReplacementSerializer(data=value, many=True)
            items.is_valid(raise_exception=True)
            return [(item["value"], _parameter_name(item["parameter"])) for item in items.validated_data]
        raise serializers.ValidationError("An object {literal: parameter} or a list of {value, parameter}")
