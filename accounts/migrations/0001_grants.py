"""Table privileges for the runtime role, before any table exists.

Default privileges are stored per database, so they live here (and run in test databases
too), not in bootstrap SQL. The runtime role is DATABASE_URL's user; migrations run as the
owner (DATABASE_OWNER_URL), which owns every table it creates.
"""

from django.conf import settings
from django.db import migrations


def grant(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor != "postgresql" or settings.DATABASE_OWNER_CREDENTIALS is None:
        return
    app_role = settings.DATABASE_APP_ROLE
    owner_role = settings.DATABASE_OWNER_CREDENTIALS[0]
    if not app_role or app_role == owner_role:
        return
    role = conn.ops.quote_name(app_role)
    for sql in [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    run_before = [("contenttypes", "0001_initial")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop, elidable=False)]
