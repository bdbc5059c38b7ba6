"""Permissions for what only needed a login before: approvals, files, API keys, analytics.

Roles get them as ``accounts.roles`` says (as of this migration, frozen here). An API key
that held every permission of the time gets the new ones, so full keys keep working;
narrower keys do not: a key scoped to ``template:read`` must not keep deleting files.
"""

from django.db import migrations

NEW = {
    "execution:approve": "Approve or reject waiting approval steps",
    "file:read": "List and download files",
    "file:write": "Upload and delete files",
    "api_key:write": "List, create and delete API keys",
    "analytics:read": "Read usage analytics",
}
OLD = {
    "workflow:read", "workflow:create", "workflow:update", "workflow:delete", "workflow:execute",
    "execution:read", "execution:cancel", "log:read", "credential:read", "credential:write",
    "template:read", "template:write",
}
GRANTS = {
    "admin": set(NEW),
    "editor": set(NEW),
    "operator": set(NEW),
    "viewer": {"execution:approve", "file:read", "api_key:write", "analytics:read"},
    "guest": {"execution:approve", "file:read", "file:write"},
}


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    ApiKey = apps.get_model("accounts", "ApiKey")
    content_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    permissions = {
        codename: Permission.objects.get_or_create(content_type=content_type, codename=codename, defaults={"name": name})[0]
        for codename, name in NEW.items()
    }
    for role, codenames in GRANTS.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.add(*(permissions[c] for c in codenames))
    for key in ApiKey.objects.all():
        if OLD <= set(key.scopes or ()):
            key.scopes = sorted(set(key.scopes) | set(NEW))
            key.save(update_fields=["scopes"])


def backwards(apps, schema_editor):
    apps.get_model("auth", "Permission").objects.filter(codename__in=NEW).delete()
    for key in apps.get_model("accounts", "ApiKey").objects.all():
        key.scopes = [s for s in key.scopes or () if s not in NEW]
        key.save(update_fields=["scopes"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
