"""The bulk user import: a sheet (.xlsx, or .csv in UTF-8 or GBK) with one account a row,
read into rows with their errors for the preview (console.UserImport), then confirmed:
the good rows become accounts with a generated initial password the user must change at
the first sign-in. Rows with errors are never created (the preview says so); a second
confirmation creates nothing. The three administrator roles are never given here."""

import csv
import dataclasses
import io
import secrets
import string
import zipfile

import openpyxl
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from accounts.lockout import login_key, login_name_taken
from accounts.matching import AgencyMatcher
from accounts.models import Agency, User
from accounts.phones import validate_phone
from audit.history import give_reason
from console.models import UserImport
from core.roles import ADMIN_ROLES, Role, grantable_roles
from core.spreadsheets import clean_text, csv_cell
from core.uploads import MB, FileRefused, check_size, read_at_most
from core.uploads.errors import KindMismatch
from core.uploads.office import check_package, refuse_compound_file
from core.uploads.sniff import sniff

MAX_BYTES = 5 * MB
MAX_ROWS = 2000

# The sheet's words are fixed Chinese, whatever the page's language: the columns (header →
# key; 登录名, 姓名 and 角色 must be there), the roles and yes/no. Marked, not translated.
COLUMNS = {
    gettext_noop("登录名"): "username",
    gettext_noop("姓名"): "full_name",
    gettext_noop("单位"): "agency",
    gettext_noop("角色"): "role",
    gettext_noop("手机号"): "phone",
    gettext_noop("邮箱"): "email",
    gettext_noop("单位审核人"): "reviewer",
}
REQUIRED_COLUMNS = (gettext_noop("登录名"), gettext_noop("姓名"), gettext_noop("角色"))
IMPORTABLE_ROLES = {
    gettext_noop("经办人"): Role.STAFF,
    gettext_noop("领导"): Role.LEADER,
    gettext_noop("督查专员"): Role.SUPERVISOR,
}
ADMIN_ROLE_WORDS = {gettext_noop("系统管理员"), gettext_noop("安全管理员"), gettext_noop("审计管理员"), *ADMIN_ROLES}
NEEDS_AGENCY = (Role.STAFF, Role.LEADER)
YES, NO = (gettext_noop("是"), "y", "yes", "true", "1"), (gettext_noop("否"), "", "n", "no", "false", "0")
PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0OoIl1") + "#$%&*?!"
PASSWORD_LENGTH = 12  # no symbol a spreadsheet reads as a formula's start (=, +, -, @)


class SheetRefused(Exception):
    """The whole file cannot be read as a user sheet; the message says why, in Chinese."""


# --- Reading -----------------------------------------------------------------------------


def _xlsx_rows(data: bytes) -> list[list]:
    try:
        check_package(data, "xlsx", _("Excel 表格"), ".xlsx")
    except KindMismatch:
        raise SheetRefused(_("这是其他类型的 Office 文件，请上传 .xlsx 或 .csv 文件。")) from None
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, IndexError, AttributeError) as exc:
        raise SheetRefused(_("文件已损坏或不是 .xlsx 格式（%(error)s）。") % {"error": type(exc).__name__}) from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=20, values_only=True)]
    except Exception as exc:  # openpyxl on a damaged part: whatever it raises, the file is unreadable
        raise SheetRefused(_("表格内容已损坏（%(error)s）。") % {"error": type(exc).__name__}) from None
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetRefused(_("无法识别 CSV 文件的编码：请保存为 UTF-8 或 GBK 编码。"))
    if "\x00" in text:
        raise SheetRefused(_("不是文本文件：请上传 .xlsx 或 .csv 文件。"))
    try:
        reader = csv.reader(io.StringIO(text))
        return [row for _line, row in zip(range(MAX_ROWS + 2), reader, strict=False)]
    except csv.Error as exc:
        raise SheetRefused(_("CSV 文件格式有误：%(error)s") % {"error": exc}) from None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(str(value), 200).strip()


def read_upload(uploaded) -> list[dict]:
    """The sheet's rows as dicts of the COLUMNS keys (text), each with its line number."""
    data = read_at_most(uploaded, MAX_BYTES + 1)
    try:
        check_size(data, MAX_BYTES)
        kind = sniff(data)
        if kind == "ole":
            refuse_compound_file(data)  # always refuses, saying whether it is encrypted or old
        if kind == "zip":
            grid = _xlsx_rows(data)
        elif kind is None:
            grid = _csv_rows(data)
        else:
            raise SheetRefused(_("不是表格文件：请上传 .xlsx 或 .csv 文件。"))
    except FileRefused as refused:
        raise SheetRefused(refused.message) from None
    grid = [[_text(cell) for cell in row] for row in grid]
    while grid and not any(grid[0]):
        grid.pop(0)
    if not grid:
        raise SheetRefused(_("表格中没有内容。"))
    header = grid[0]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise SheetRefused(
            _("表头缺少以下列：%(columns)s。请使用下载的模板（第一行为：%(all)s）。")
            % {"columns": "、".join(missing), "all": "、".join(COLUMNS)}
        )
    index = {COLUMNS[name]: header.index(name) for name in COLUMNS if name in header}
    rows: list[dict] = []
    for number, values in enumerate(grid[1:], start=2):
        if not any(values):
            continue
        if len(rows) >= MAX_ROWS:
            raise SheetRefused(_("一次最多导入 %(n)d 个账户，请分批导入。") % {"n": MAX_ROWS})
        row = {key: values[i] if i < len(values) else "" for key, i in index.items()}
        rows.append({"line": number, **{key: row.get(key, "") for key in COLUMNS.values()}})
    if not rows:
        raise SheetRefused(_("表格中除表头外没有任何账户。"))
    return rows


# --- Checking ----------------------------------------------------------------------------


def check_rows(rows: list[dict], actor) -> list[dict]:
    """Each row with what it will create (role, agency) and its errors in Chinese; a role
    `actor` may not grant (core.roles.grantable_roles) is an error of its row."""
    matcher = AgencyMatcher.load()
    grantable = grantable_roles(actor)
    seen: dict[str, int] = {}
    checked = []
    for row in rows:
        errors = []
        username = row["username"].strip()
        key = login_key(username)
        if not username:
            errors.append(_("登录名为空"))
        else:
            try:
                User.username_validator(username)
                if len(username) > 150:
                    raise ValidationError("too long")
            except ValidationError:
                errors.append(_("登录名“%(name)s”只能包含字母、数字和 @ . + - _") % {"name": username})
            if key in seen:
                errors.append(_("登录名与第 %(line)d 行重复") % {"line": seen[key]})
            elif login_name_taken(username):
                errors.append(_("登录名“%(name)s”已被现有账户使用") % {"name": username})
            seen.setdefault(key, row["line"])
        full_name = row["full_name"].strip()
        if not full_name:
            errors.append(_("姓名为空"))
        elif len(full_name) > 50:
            errors.append(_("姓名过长（最多 50 字）"))
        role_text = row["role"].strip()
        role = IMPORTABLE_ROLES.get(role_text)
        if role is None:
            if role_text in ADMIN_ROLE_WORDS:
                errors.append(_("不能通过批量导入创建管理员账户（%(role)s）") % {"role": role_text})
            elif not role_text:
                errors.append(_("角色为空：应为经办人、领导或督查专员"))
            else:
                errors.append(_("角色“%(role)s”不正确：应为经办人、领导或督查专员") % {"role": role_text})
        elif role not in grantable:
            errors.append(
                _(
                    "“%(role)s”角色由安全管理员分配（三员分立）：请由安全管理员导入这一行，"
                    "或以经办人导入后由安全管理员在“用户角色”页面调整"
                )
                % {"role": role_text}
            )
        agency_id, agency_name = None, ""
        agency_text = row["agency"].strip()
        if agency_text:
            match = matcher.match(agency_text)
            if match.agency is None and match.candidates:
                errors.append(
                    _("单位“%(name)s”对应多个单位（%(candidates)s），请写全称")
                    % {"name": agency_text, "candidates": "、".join(a.name for a in match.candidates)}
                )
            elif match.agency is None:
                errors.append(_("找不到单位“%(name)s”") % {"name": agency_text})
            elif not match.agency.is_active:
                errors.append(_("单位“%(name)s”已停用") % {"name": match.agency.name})
            else:
                agency_id, agency_name = match.agency.pk, match.agency.name
        elif role in NEEDS_AGENCY:
            errors.append(_("经办人和领导必须填写单位"))
        phone = ""
        try:
            phone = validate_phone(row["phone"])
        except ValidationError as error:
            errors.append(error.messages[0])
        email = row["email"].strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.append(_("邮箱“%(email)s”格式不正确") % {"email": email})
        reviewer_text = row["reviewer"].strip().lower()
        reviewer = reviewer_text in YES
        if reviewer_text not in YES + NO:
            errors.append(_("单位审核人应填“是”或“否”"))
        elif reviewer and role is not None and role != Role.STAFF:
            errors.append(_("只有经办人可以设为单位审核人"))
        checked.append(
            {
                "line": row["line"],
                # as written, for the check again at the confirmation
                "raw": {key: row[key] for key in COLUMNS.values()},
                "agency": agency_text,
                "username": username,
                "full_name": full_name,
                "role": role or "",
                "role_label": role_text,
                "agency_id": agency_id,
                "agency_name": agency_name,
                "phone": phone,
                "email": email,
                "reviewer": reviewer,
                "errors": errors,
            }
        )
    return checked


def receive(uploaded, user) -> UserImport:
    """Read and check an uploaded sheet and keep it for the preview; SheetRefused when the
    file cannot be read as a user sheet (nothing is stored then)."""
    rows = check_rows(read_upload(uploaded), user)
    return UserImport.objects.create(original_name=clean_text(uploaded.name, 255), rows=rows, created_by=user)


# --- Confirming --------------------------------------------------------------------------


def initial_password(user: User) -> str:
    """A random password that passes the password rules (settings.AUTH_PASSWORD_VALIDATORS)."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _i in range(PASSWORD_LENGTH))
        try:
            validate_password(password, user)
        except ValidationError:
            continue
        return password


@dataclasses.dataclass
class Confirmed:
    created: list[dict]  # login name, name, agency, role, initial password
    skipped: list[dict]  # rows with errors (at the preview, or found at confirmation)
    already: bool = False


class AlreadyConfirmed(Exception):
    pass


@transaction.atomic
def confirm(user_import: UserImport, user) -> Confirmed:
    """Create the accounts of the good rows (checked again now: a login name taken or an
    agency deactivated since the preview skips its row). AlreadyConfirmed the second time."""
    locked = UserImport.objects.select_for_update().get(pk=user_import.pk)
    if locked.confirmed_at is not None:
        raise AlreadyConfirmed
    rows = check_rows([{"line": row["line"], **row["raw"]} for row in locked.rows], user)
    agencies = Agency.objects.in_bulk([row["agency_id"] for row in rows if row["agency_id"]])
    created, skipped = [], []
    for row in rows:
        if row["errors"]:
            skipped.append(row)
            continue
        account = User(
            username=row["username"],
            full_name=row["full_name"],
            agency=agencies.get(row["agency_id"]),
            role=row["role"],
            phone=row["phone"],
            email=row["email"],
            is_unit_reviewer=row["reviewer"],
            must_change_password=True,
        )
        password = initial_password(account)
        account.set_password(password)
        give_reason(account, _("批量导入"))
        try:
            with transaction.atomic():  # an account made meanwhile under the same name
                account.save()
        except IntegrityError:
            row["errors"].append(_("登录名“%(name)s”已被现有账户使用") % {"name": row["username"]})
            skipped.append(row)
            continue
        created.append(
            {
                "username": account.username,
                "full_name": account.full_name,
                "agency": row["agency_name"],
                "role": str(Role(account.role).label),
                "password": password,
            }
        )
    locked.rows = rows
    locked.confirmed_at = timezone.now()
    locked.save(update_fields=["rows", "confirmed_at"])
    return Confirmed(created, skipped)


# --- Files -------------------------------------------------------------------------------

# Example rows of the template (made-up people and agencies, in the sheet's words).
TEMPLATE_EXAMPLE = [
    [
        "zhangsan",
        gettext_noop("张三"),
        gettext_noop("医政医管处"),
        gettext_noop("经办人"),
        "13800138000",
        "zhangsan@example.cn",
        gettext_noop("是"),
    ],
    ["lisi", gettext_noop("李四"), gettext_noop("市卫生健康委"), gettext_noop("领导"), "", "", gettext_noop("否")],
    ["wangwu", gettext_noop("王五"), "", gettext_noop("督查专员"), "", "", ""],
]
LOGIN_COLUMNS = [
    gettext_lazy("登录名"),
    gettext_lazy("姓名"),
    gettext_lazy("单位"),
    gettext_lazy("角色"),
    gettext_lazy("初始密码"),
]


def _xlsx(header: list, rows: list[list], title: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = title
    sheet.append([str(h) for h in header])
    for row in rows:
        sheet.append([clean_text(v) for v in row])
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"
    for column in "ABCDEFG":
        sheet.column_dimensions[column].width = 18
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv(header: list, rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_file() -> bytes:
    """The sheet to fill in: the columns and three example rows."""
    return _xlsx(list(COLUMNS), TEMPLATE_EXAMPLE, _("用户导入"))


def logins_file(created: list[dict], kind: str) -> bytes:
    rows = [[r["username"], r["full_name"], r["agency"], r["role"], r["password"]] for r in created]
    if kind == "csv":
        return _csv(LOGIN_COLUMNS, rows)
    return _xlsx(LOGIN_COLUMNS, rows, _("初始密码"))
