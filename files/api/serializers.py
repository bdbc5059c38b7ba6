from __future__ import annotations

from rest_framework import serializers

from files.models import StoredFile


class UploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False, help_text="The file (multipart).")
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    process_immediately = serializers.BooleanField(
        required=False, default=False, help_text="Start the workflow on it at once (needs workflow_id)."
    )
    workflow_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="The workflow that processes it (linked to the file)."
    )


class ProcessInputSerializer(serializers.Serializer):
    workflow_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="The workflow to run; the file's linked one if unset."
    )
    input_data = serializers.DictField(
        required=False, default=dict, help_text="More input for the run; `file` is set to the file's reference."
    )


class FileSerializer(serializers.ModelSerializer):
    workflow_id = serializers.UUIDField(read_only=True, allow_null=True)
    execution_id = serializers.UUIDField(read_only=True, allow_null=True)
    download_url = serializers.HyperlinkedIdentityField(view_name="file-download", read_only=True)
    processing_result = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = StoredFile
        fields = [
            "id",
            "name",
            "description",
            "content_type",
            "declared_content_type",
            "category",
            "size",
            "sha256",
            "status",
            "workflow_id",
            "execution_id",
            "processing_result",
            "download_url",
            "created_at",
            "updated_at",
            "processed_at",
        ]
        read_only_fields = fields
