"""The bulk user import (console:user_import): a sheet (.xlsx, or .csv in UTF-8 or GBK)
previewed row by row with its errors in Chinese, then confirmed: only the good rows become
accounts, each with an initial password shown once and handed out in a file, which the
user must change at the first sign-in. A second confirmation creates nothing."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from accounts.models import User
from audit.models import AuditEvent
from console.models import UserImport
from core.roles import Role

pytestmark = pytest.mark.django_db

HEADER = ["登录名", "姓名", "单位", "角色", "手机号", "邮箱", "单位审核人"]


def xlsx(rows, header=HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client, data: bytes, name="users.xlsx"):
    return client.post(reverse("console:user_import"), {"file": SimpleUploadedFile(name, data)})


def preview_rows(client, response):
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response.url)
    return page.context["rows"]


@pytest.fixture
def signed_in(client, security_admin, agency_a, agency_b, staff_a):
    """The security admin, who grants roles (三员分立), imports staff, leaders, supervisors."""
    client.force_login(security_admin)
    return client


GOOD = [
    ["zhangsan", "张三", "医政医管处", "经办人", "13800138000", "zs@example.cn", "是"],
    ["lisi", "李四", "疾病预防控制处", "领导", "", "", "否"],
    ["wangwu", "王五", "", "督查专员", "", "", ""],
]


def test_the_template_is_a_sheet_with_the_columns(signed_in):
    response = signed_in.get(reverse("console:user_import_template"))

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]] == HEADER


def test_good_rows_are_previewed_and_created_with_initial_passwords(client, signed_in, login):
    # when
    rows = preview_rows(signed_in, upload(signed_in, xlsx(GOOD)))

    # then: every row is good
    assert [row["errors"] for row in rows] == [[], [], []]
    assert User.objects.filter(username="zhangsan").exists() is False

    # when: confirmed
    user_import = UserImport.objects.get()
    done = signed_in.post(reverse("console:user_import_confirm", args=[user_import.pk]))

    # then: the accounts exist, must change their password, and the page shows each once
    assert done.status_code == 200
    created = {row["username"]: row for row in done.context["created"]}
    assert set(created) == {"zhangsan", "lisi", "wangwu"}
    zhangsan = User.objects.get(username="zhangsan")
    assert (zhangsan.agency.name, zhangsan.role, zhangsan.phone, zhangsan.is_unit_reviewer) == (
        "医政医管处",
        Role.STAFF,
        "13800138000",
        True,
    )
    assert User.objects.get(username="lisi").role == Role.LEADER
    assert User.objects.get(username="wangwu").role == Role.SUPERVISOR
    assert zhangsan.must_change_password is True
    assert zhangsan.check_password(created["zhangsan"]["password"])
    assert escape(created["zhangsan"]["password"]) in done.content.decode()
    event = AuditEvent.objects.get(detail__action="user_import")
    assert sorted(event.detail["created"]) == ["lisi", "wangwu", "zhangsan"]

    # and the new user signs in with it and is sent to choose their own
    signed_in.logout()
    login(zhangsan, password=created["zhangsan"]["password"])
    assert client.get(reverse("tasks:my_tasks")).url.startswith(reverse("accounts:password_change"))


def test_the_initial_passwords_come_as_a_file_to_hand_out(signed_in):
    upload(signed_in, xlsx(GOOD[:1]))
    user_import = UserImport.objects.get()
    done = signed_in.post(reverse("console:user_import_confirm", args=[user_import.pk]))
    token, password = done.context["token"], done.context["created"][0]["password"]
    url = reverse("console:user_import_logins", args=[user_import.pk])

    as_xlsx = signed_in.post(url, {"logins": token, "kind": "xlsx"})
    as_csv = signed_in.post(url, {"logins": token, "kind": "csv"})
    forged = signed_in.post(url, {"logins": token + "x", "kind": "csv"})

    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [cell.value for cell in sheet[2]] == ["zhangsan", "张三", "医政医管处", "经办人", password]
    assert as_csv["Content-Type"].startswith("text/csv")
    assert f"zhangsan,张三,医政医管处,经办人,{password}" in as_csv.content.decode("utf-8-sig")
    assert forged.status_code == 400


def test_confirming_twice_creates_nothing_twice(signed_in):
    upload(signed_in, xlsx(GOOD))
    user_import = UserImport.objects.get()
    url = reverse("console:user_import_confirm", args=[user_import.pk])

    signed_in.post(url)
    again = signed_in.post(url)

    assert again.status_code == 302
    assert User.objects.filter(username__in=["zhangsan", "lisi", "wangwu"]).count() == 3
    assert AuditEvent.objects.filter(detail__action="user_import").count() == 1
    assert "已经确认导入过" in signed_in.get(again.url).content.decode()


@pytest.mark.parametrize(
    "row, message",
    [
        (["x1", "甲", "不存在的处", "经办人", "", "", ""], "找不到单位“不存在的处”"),
        (["x2", "乙", "", "经办人", "", "", ""], "经办人和领导必须填写单位"),
        (["x3", "丙", "", "领导", "", "", ""], "经办人和领导必须填写单位"),
        (["x4", "丁", "医政医管处", "系统管理员", "", "", ""], "不能通过批量导入创建管理员账户"),
        (["x5", "戊", "医政医管处", "安全管理员", "", "", ""], "不能通过批量导入创建管理员账户"),
        (["x6", "己", "医政医管处", "处长", "", "", ""], "角色“处长”不正确"),
        (["x7", "庚", "医政医管处", "经办人", "12345", "", ""], "手机号“12345”格式不正确"),
        (["x8", "辛", "医政医管处", "经办人", "", "bad@", ""], "邮箱“bad@”格式不正确"),
        (["x9", "壬", "医政医管处", "领导", "", "", "是"], "只有经办人可以设为单位审核人"),
        (["STAFF_A", "癸", "医政医管处", "经办人", "", "", ""], "已被现有账户使用"),
        (["bad name!", "子", "医政医管处", "经办人", "", "", ""], "只能包含字母、数字"),
        (["x10", "", "医政医管处", "经办人", "", "", ""], "姓名为空"),
    ],
)
def test_a_bad_row_is_shown_with_its_error_and_never_created(signed_in, row, message):
    rows = preview_rows(signed_in, upload(signed_in, xlsx([GOOD[0], row])))

    assert rows[0]["errors"] == []
    assert any(message in error for error in rows[1]["errors"]), rows[1]["errors"]

    user_import = UserImport.objects.get()
    done = signed_in.post(reverse("console:user_import_confirm", args=[user_import.pk]))
    assert [row["username"] for row in done.context["created"]] == ["zhangsan"]
    assert not User.objects.filter(full_name=row[1] or "—").exclude(username="zhangsan").exists()
    assert User.objects.count() == 3  # admin, staff_a and zhangsan


def test_a_login_name_twice_in_the_sheet_is_an_error_on_the_second(signed_in):
    rows = preview_rows(signed_in, upload(signed_in, xlsx([GOOD[0], ["ZhangSan", "张三二", "医政医管处", "经办人"]])))

    assert rows[0]["errors"] == []
    assert rows[1]["errors"] == ["登录名与第 2 行重复"]


def test_a_login_name_taken_after_the_preview_is_skipped_at_the_confirmation(signed_in, agency_a):
    upload(signed_in, xlsx(GOOD[:2]))
    User.objects.create_user("lisi", agency=agency_a)
    user_import = UserImport.objects.get()

    done = signed_in.post(reverse("console:user_import_confirm", args=[user_import.pk]))

    assert [row["username"] for row in done.context["created"]] == ["zhangsan"]
    assert "已被现有账户使用" in done.content.decode()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_csv_in_utf8_or_gbk_is_read(signed_in, encoding):
    rows = preview_rows(signed_in, upload(signed_in, csv_bytes(GOOD, encoding), name="users.csv"))

    assert [(row["full_name"], row["agency_name"], row["errors"]) for row in rows] == [
        ("张三", "医政医管处", []),
        ("李四", "疾病预防控制处", []),
        ("王五", "", []),
    ]


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"", "users.csv", "文件为空"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "users.xlsx", "旧版 Office 格式"),
        (xlsx([["a", "b"]], header=["账号", "名字"]), "users.xlsx", "表头缺少以下列：登录名、姓名、角色"),
        (b"PK\x03\x04garbage", "users.xlsx", "损坏"),
        (b"%PDF-1.4 nothing", "users.csv", "不是表格文件"),
        (b"a,b", "users.txt", "只能上传 .xlsx 或 .csv 文件"),
        (csv_bytes([]), "users.csv", "没有任何账户"),
    ],
)
def test_a_file_that_is_not_a_user_sheet_is_refused_and_stores_nothing(signed_in, data, name, message):
    response = upload(signed_in, data, name=name)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not UserImport.objects.exists()


def test_only_the_system_admin_imports_users(client, staff_a, leader):
    for user in (staff_a, leader):
        client.force_login(user)
        assert client.get(reverse("console:user_import")).status_code == 403


def test_an_account_made_meanwhile_under_the_same_name_skips_its_row(signed_in, agency_a, monkeypatch):
    # given: the name is taken after every check ran (another request got there first)
    upload(signed_in, xlsx(GOOD[:2]))
    User.objects.create_user("lisi", agency=agency_a)
    monkeypatch.setattr("console.users.login_name_taken", lambda raw, excluding=None: False)
    user_import = UserImport.objects.get()

    # when
    done = signed_in.post(reverse("console:user_import_confirm", args=[user_import.pk]))

    # then: the database's refusal skips the row, the others are made
    assert done.status_code == 200
    assert [row["username"] for row in done.context["created"]] == ["zhangsan"]
    assert "已被现有账户使用" in done.content.decode()


def test_the_system_admin_imports_staff_and_leaves_other_roles_to_the_security_admin(
    client, admin_user, agency_a, agency_b, staff_a
):
    client.force_login(admin_user)
    rows = preview_rows(client, upload(client, xlsx(GOOD)))
    assert rows[0]["errors"] == []
    for row in rows[1:]:
        assert row["errors"] == [
            f"“{row['role_label']}”角色由安全管理员分配（三员分立）：请由安全管理员导入这一行，"
            "或以经办人导入后由安全管理员在“用户角色”页面调整"
        ]
    done = client.post(reverse("console:user_import_confirm", args=[UserImport.objects.get().pk]))
    assert [row["username"] for row in done.context["created"]] == ["zhangsan"]
    assert not User.objects.filter(username__in=["lisi", "wangwu"]).exists()
