"""Create the role groups of SPEC §3 with their permissions.

The catalog is frozen here as it was when this migration was written; later
changes to roles come as new migrations.
"""

from django.db import migrations

PERMISSIONS = {
    "workflow:read": "Read workflows",
    "workflow:create": "Create workflows",
    "workflow:update": "Update workflows",
    "workflow:delete": "Delete workflows",
    "workflow:execute": "Execute workflows",
    "execution:read": "Read executions",
    "execution:cancel": "Cancel executions",
    "log:read": "Read execution logs",
    "credential:read": "Read credentials",
    "credential:write": "Create and change credentials",
    "template:read": "Read templates",
    "template:write": "Create and change templates",
}
ALL = set(PERMISSIONS)
ROLES = {
    "admin": ALL,
    "editor": ALL,
    "operator": {
        "workflow:read", "workflow:execute", "execution:read", "execution:cancel",
        "log:read", "credential:read", "template:read",
    },
    "viewer": {"workflow:read", "execution:read", "log:read", "template:read"},
    "guest": {
        "template:read", "workflow:read", "workflow:create", "workflow:update",
        "workflow:execute", "execution:read", "log:read",
    },
}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    permissions = {}
    for codename, name in PERMISSIONS.items():
        permissions[codename], _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([permissions[c] for c in codenames])


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
