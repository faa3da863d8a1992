# Accounts become the product's users (issue 12): Member is renamed Account and linked to
# the user of the same username; members suspended in Steward carry their suspension over
# to that user; every other user gets an account, so the accounts feed lists them all.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import migrations, models

from steward import feed_stamps


def drop_member_triggers(apps, schema_editor):
    # The stamping triggers of steward_member go before the rename; install_stamps puts
    # them back on steward_account (PostgreSQL keeps them across a rename anyway).
    feed_stamps.uninstall_table(schema_editor.connection, "steward_member")


def install_stamps(apps, schema_editor):
    # SQLite rebuilt tables above, which dropped their triggers: put them back before
    # writing rows, so the rows written below are stamped.
    feed_stamps.install(schema_editor.connection, feed_stamps.FEED_TABLES)


def link_members_to_users(apps, schema_editor):
    install_stamps(apps, schema_editor)
    Account = apps.get_model("steward", "Account")
    Suspension = apps.get_model("steward", "Suspension")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    real_user_model = get_user_model()
    name_field = real_user_model.USERNAME_FIELD
    email_field = real_user_model.get_email_field_name()
    now = django.utils.timezone.now()
    for account in Account.objects.all().iterator():
        user = User.objects.filter(**{name_field: account.username}).first()
        if user is None:
            continue  # kept as it was: a member with no user in the product
        account.user_key = str(user.pk)
        active = bool(getattr(user, "is_active", True))
        in_force = account.status == "suspended" and (
            account.suspended_until is None or account.suspended_until > now
        )
        if in_force:
            Suspension.objects.create(
                account=account,
                starts_at=account.updated_at,
                ends_at=account.suspended_until,
                note="Carried over from Steward's member record.",
                deactivated_user=active,
            )
            if active:
                User.objects.filter(pk=user.pk).update(is_active=False)
            active = False
        else:
            account.status = "active" if active else "inactive"
            account.suspended_until = None
        account.is_active = active
        account.email = getattr(user, email_field, "") or account.email
        account.updated_at = now
        account.save()
    linked = set(Account.objects.exclude(user_key=None).values_list("user_key", flat=True))
    batch = []
    for user in User.objects.all().iterator():
        if str(user.pk) in linked:
            continue
        active = bool(getattr(user, "is_active", True))
        name = " ".join(
            part for part in (getattr(user, "first_name", ""), getattr(user, "last_name", "")) if part
        )
        batch.append(
            Account(
                user_key=str(user.pk),
                username=str(getattr(user, name_field))[:150],
                email=(getattr(user, email_field, "") or "")[:254],
                display_name=name[:200],
                is_active=active,
                status="active" if active else "inactive",
                joined_at=getattr(user, "date_joined", None) or now,
                last_seen_at=getattr(user, "last_login", None),
                updated_at=now,
            )
        )
        if len(batch) >= 5000:
            Account.objects.bulk_create(batch)
            batch = []
    Account.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ('steward', '0005_product_jobs'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_member_triggers, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name='member', name='steward_member_feed'),
        migrations.RenameModel(old_name='Member', new_name='Account'),
        migrations.RenameModel(old_name='MemberNote', new_name='AccountNote'),
        migrations.RenameField(model_name='accountnote', old_name='member', new_name='account'),
        migrations.AddIndex(
            model_name='account',
            index=models.Index(fields=['feed_seq', 'id'], name='steward_account_feed'),
        ),
        migrations.AddField(
            model_name='account',
            name='user_key',
            field=models.CharField(blank=True, max_length=255, null=True, unique=True),
        ),
        migrations.AddField(
            model_name='account',
            name='is_active',
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name='account',
            name='deleted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='account',
            name='username',
            field=models.CharField(db_index=True, max_length=150),
        ),
        migrations.AlterField(
            model_name='account',
            name='status',
            field=models.CharField(choices=[('active', 'Active'), ('suspended', 'Suspended'), ('inactive', 'Inactive'), ('deleted', 'Deleted')], default='active', max_length=16),
        ),
        migrations.AlterField(
            model_name='item',
            name='author',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='items', to='steward.account'),
        ),
        migrations.CreateModel(
            name='Suspension',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('starts_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('ends_at', models.DateTimeField(blank=True, null=True)),
                ('reason_code', models.CharField(blank=True, max_length=64)),
                ('note', models.TextField(blank=True)),
                ('deactivated_user', models.BooleanField(default=False)),
                ('ended_at', models.DateTimeField(blank=True, null=True)),
                ('end_reason', models.CharField(blank=True, choices=[('expired', 'Expired'), ('reactivated', 'Reactivated'), ('reactivated_in_product', 'Reactivated In Product'), ('user_deleted', 'User Deleted')], max_length=32)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='suspensions', to='steward.account')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('ended_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['id'],
                'indexes': [models.Index(fields=['ended_at', 'ends_at'], name='steward_suspension_open')],
            },
        ),
        migrations.CreateModel(
            name='UserSession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('session_key', models.CharField(max_length=64, unique=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sessions', to='steward.account')),
            ],
        ),
        migrations.RunPython(link_members_to_users, migrations.RunPython.noop),
    ]
