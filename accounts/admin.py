"""The Django admin is the system admin's (the only role with is_staff): agencies and
users. Not here: the audit trail (the login log, change history, django-axes' records:
the audit admin reads it on the audit pages), second factors, and roles and groups (a user's role is the
security admin's, on accounts:user_role; Django groups and permissions are not used, the
access policy in accounts/policy.py is the one source)."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Agency, AgencyAlias, User
from accounts.roles import is_last_active_security_admin
from core.roles import can_manage_account

# Second factors (django-otp registers its TOTP devices, secrets included) are their users'
# own and the security admin's (accounts/two_factor), never the system admin's.
for _model in (Group, AccessAttempt, AccessLog, AccessFailureLog, TOTPDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class ConstraintsCheckedForm(forms.ModelForm):
    """An admin form that checks every constraint of its model against the row as it will
    be saved, so a row the database would refuse is a form error in Chinese, never a 500.

    Django's ModelForm checks a constraint only when every field it names is on the form
    (a read-only role, the row's own id are not), and then in its own words ("Constraint
    … is violated"). `constraint_errors` names, per constraint, the field its message
    belongs to (None: the form as a whole) and the message; each app's admin gives its own
    (tests/test_admin_constraints.py fails on a constraint an editable admin leaves out)."""

    constraint_errors: dict[str, tuple[str | None, str]] = {}

    def _post_clean(self):
        super()._post_clean()
        skip = {name for name in self._errors if name != NON_FIELD_ERRORS}
        model = type(self.instance)
        for constraint in model._meta.constraints:
            try:
                constraint.validate(model, self.instance, exclude=skip, using=DEFAULT_DB_ALIAS)
            except ValidationError as error:
                self._constraint_error(constraint.name, error)

    def _constraint_error(self, name: str, error: ValidationError) -> None:
        field, message = self.constraint_errors.get(name, (None, None))
        if message is None:
            if not any(text in self.errors.get(key, []) for key in self._errors for text in error.messages):
                self.add_error(None, error.messages[0])
            return
        # What Django's own check said of this constraint, in its words, gives way to ours.
        said = set(error.messages)
        for key in list(self._errors):
            kept = [e for e in self._errors[key].as_data() if not said & set(e.messages)]
            if kept:
                self._errors[key] = self.error_class(kept, error_class="nonfield" if key == NON_FIELD_ERRORS else None)
            else:
                del self._errors[key]
        field = field if field in self.fields else None
        if message not in self.errors.get(field or NON_FIELD_ERRORS, []):
            self.add_error(field, message)


class AgencyForm(ConstraintsCheckedForm):
    constraint_errors = {"agency_not_own_parent": ("parent", gettext_lazy("上级单位不能是本单位。"))}

    class Meta:
        model = Agency
        fields = ["name", "short_name", "level", "parent", "order", "is_active"]


# The constraints of accounts.User, as the admin's user forms say them.
USER_CONSTRAINT_ERRORS = {
    "user_staff_and_leaders_have_agency": (
        "agency",
        gettext_lazy("经办人和领导必须有所属单位：请选择单位（新建账户的角色为经办人）。"),
    ),
    "user_role_valid": (None, gettext_lazy("未知的角色。")),
    "user_admin_roles_have_person": (
        None,
        gettext_lazy("系统管理员、安全管理员、审计管理员账户必须填写工号/证件号。"),
    ),
    "user_one_admin_role_per_person": (
        None,
        gettext_lazy("此人已担任系统管理员、安全管理员或审计管理员之一，不能再担任另一个。"),
    ),
}


class UserCreationForm(ConstraintsCheckedForm, AdminUserCreationForm):
    """A new account (经办人 until the security admin gives it another role) with a
    password the system admin chose: the user changes it at the first sign-in."""

    constraint_errors = USER_CONSTRAINT_ERRORS

    def save(self, commit=True):
        self.instance.must_change_password = True
        return super().save(commit)


class UserEditForm(ConstraintsCheckedForm, UserChangeForm):
    constraint_errors = USER_CONSTRAINT_ERRORS


class PasswordResetForm(AdminPasswordChangeForm):
    """The system admin's reset of an ordinary account's password: the user chooses their
    own at the next sign-in."""

    def save(self, commit=True):
        self.user.must_change_password = True
        return super().save(commit)


class AgencyAliasInline(admin.TabularInline):
    model = AgencyAlias
    extra = 1


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    form = AgencyForm
    list_display = ["name", "short_name", "level", "parent", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "short_name", "aliases__name"]
    autocomplete_fields = ["parent"]
    inlines = [AgencyAliasInline]
    list_select_related = ["parent"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts, agencies and contact details. The role and the person behind an
    administrator account are shown, never changed here: a new account starts as 经办人
    and the security admin gives it another role. The administrators' accounts are
    read-only here: the security admin changes them on accounts:account."""

    form = UserEditForm
    add_form = UserCreationForm
    change_password_form = PasswordResetForm
    list_display = ["username", "full_name", "agency", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "agency"]
    search_fields = ["username", "full_name", "email", "agency__name"]
    autocomplete_fields = ["agency"]
    list_select_related = ["agency"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("个人信息"), {"fields": ("full_name", "email", "phone")}),
        (gettext_lazy("单位与角色"), {"fields": ("agency", "role", "person_id", "is_active")}),
        (gettext_lazy("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "full_name", "agency", "password1", "password2")}),
    )
    readonly_fields = ["role", "person_id", "last_login", "date_joined"]

    # The three administrators' accounts (the system admin's own included) are the security
    # admin's (core.roles.can_manage_account): shown here read-only, and any change to one
    # (the form, the password form, a deletion, the bulk delete) is refused with 403.
    def _manages(self, request, obj) -> bool:
        if obj is None or can_manage_account(request.user, obj):
            return True
        request.denial_reason = "protected_account"
        return False

    def has_change_permission(self, request, obj=None):
        return self._manages(request, obj) and super().has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        # Read-only: not even the password's summary and its "reset" button (a 403 behind it).
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or can_manage_account(request.user, obj):
            return fieldsets
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f != "password"]}) for name, opts in fieldsets]

    def has_delete_permission(self, request, obj=None):
        return self._manages(request, obj) and super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        if not all(self._manages(request, user) for user in queryset):
            raise PermissionDenied(_("所选用户中有管理员账户：其账户只能由安全管理员管理。"))
        for user in queryset:
            self.delete_model(request, user)

    def save_model(self, request, obj, form, change):
        # Without an active security admin nobody could grant roles or unlock accounts.
        if change and "is_active" in form.changed_data and not obj.is_active:
            current = User.objects.get(pk=obj.pk)
            if is_last_active_security_admin(current, lock=True):
                messages.error(request, _("不能停用最后一位在用的安全管理员。"))
                obj.is_active = True
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        if is_last_active_security_admin(obj, lock=True):
            raise PermissionDenied(_("不能删除最后一位在用的安全管理员。"))
        super().delete_model(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For logs: visible to the system admin, never edited or deleted through the app."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AgencyAlias)
class AgencyAliasAdmin(admin.ModelAdmin):
    list_display = ["name", "agency"]
    search_fields = ["name", "agency__name", "agency__short_name"]
    autocomplete_fields = ["agency"]
    list_select_related = ["agency"]
