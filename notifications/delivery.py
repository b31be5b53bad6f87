"""Sending: claim delivery rows, say each reminder on its channel once, record the outcome.

The life of a row: PENDING → (claimed) SENDING → SENT, or back to PENDING with a later
`not_before` after a transient failure, or FAILED (a permanent failure, or too many
transient ones), or CANCELLED when the reminder no longer applies by the time it would
go out (the task was finished meanwhile), or INTERRUPTED when the worker died while the
message was on its way (see below). FAILED and INTERRUPTED rows can be sent again from
the admins' delivery log.

Exactly once:
- claiming is a conditional update of PENDING rows under a row lock (SKIP LOCKED on
  PostgreSQL), so of two workers handed the same ids only one gets each row;
- an inbox item is created in the same transaction that marks its row SENT, and is tied
  to it one-to-one, so it cannot be made twice;
- email and robot messages are sent after the claim is committed, and just before one
  goes on the wire its rows get `handed_over_at` in a write of their own, committed; the
  outcome is written after. A worker killed in between leaves the rows SENDING, and once
  the lease has run out the sweep puts back to PENDING those never handed over (nothing
  left the building), and marks INTERRUPTED those that were: the far end may have the
  message, so sending it again automatically could say it twice. An admin checks and
  resends them from the delivery log.
"""

import dataclasses
import datetime
import functools
import logging
import smtplib
from collections import defaultdict
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, Value, When
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from notifications import robots
from notifications.choices import Channel, DeliveryState, Rule
from notifications.models import Delivery, Notification, Robot
from notifications.robots import DeliveryError, PermanentError, TransientError
from notifications.rules import for_display
from notifications.sql import adapt, date_of, in_ids, insert_rows, json_of, quote, update_returning
from tasks.choices import FINISHED
from tasks.models import Milestone, Task
from workplans.choices import PlanStatus

logger = logging.getLogger(__name__)


def _policy() -> dict:
    return settings.REMINDERS


def max_attempts() -> int:
    return len(_policy()["retry_delays_seconds"]) + 1


# --- What each reminder says ------------------------------------------------------------

# The rules whose words are the task's or the time node's alone: worded once per reminder
# and day, whoever hears it. The others carry what each person is told in their payload.
MILESTONE_RULES = frozenset({Rule.MILESTONE_DUE.value, Rule.MILESTONE_OVERDUE.value})
SAID_ALIKE = frozenset({Rule.TASK_DUE.value, Rule.TASK_OVERDUE.value}) | MILESTONE_RULES


@dataclasses.dataclass
class Message:
    title: str
    lines: list[str]
    link: str  # a path inside the site

    # Worked out once per message: one message is said to every recipient of its reminder.
    @functools.cached_property
    def url(self) -> str:
        return settings.SITE_URL + self.link

    @functools.cached_property
    def body(self) -> str:
        return "\n".join(self.lines)

    @functools.cached_property
    def text(self) -> str:
        return "\n".join([*self.lines, self.url])

    # The message as an email shows it (templates/notifications/email.*), made once and put
    # in the email of each of its recipients as it is.
    @functools.cached_property
    def email_text(self) -> str:
        return "".join([self.title, "\n", *(line + "\n" for line in self.lines), self.url])

    @functools.cached_property
    def email_html(self) -> str:
        lines = format_html_join("", '<p style="margin: 0;">{}</p>', ((line,) for line in self.lines))
        return format_html(
            '<div style="border-left: 3px solid #b42318; padding: 4px 12px; margin: 12px 0;">\n'
            '  <p style="margin: 0; font-weight: bold;"><a href="{}">{}</a></p>\n  {}\n</div>',
            self.url,
            self.title,
            lines,
        )


class Claimed(NamedTuple):
    """A delivery row taken for sending, as the claim returned it: what the sender reads."""

    pk: int
    rule: str
    object_id: int
    due_on: datetime.date
    day_offset: int
    channel: str
    recipient_id: int | None
    robot_id: int | None
    task_id: int | None
    payload: dict
    attempts: int


CLAIMED_COLUMNS = tuple(Delivery._meta.get_field(name).column for name in Claimed._fields if name != "pk")


@dataclasses.dataclass
class Context:
    """The objects a batch of deliveries talks about, loaded in one query per kind."""

    tasks: dict[int, Task]
    milestones: dict[int, Milestone]
    today: datetime.date

    @classmethod
    def load(cls, deliveries: list[Claimed], today: datetime.date) -> "Context":
        task_ids = {d.task_id for d in deliveries if d.task_id}
        milestone_ids = {d.object_id for d in deliveries if d.rule in MILESTONE_RULES}
        tasks = Task.objects.select_related("plan").only(
            "id", "number", "heading", "due_on", "status", "percent", "plan__title", "plan__status"
        )
        return cls(
            tasks={t.pk: t for t in tasks.filter(pk__in=task_ids)} if task_ids else {},
            milestones={m.pk: m for m in Milestone.objects.filter(pk__in=milestone_ids)} if milestone_ids else {},
            today=today,
        )


def _task_lines(task: Task) -> list[str]:
    return [
        _("任务：%(task)s") % {"task": task.label},
        _("计划：%(plan)s") % {"plan": task.plan.title},
        _("完成时限：%(date)s") % {"date": f"{task.due_on:%Y-%m-%d}"},
        _("当前：%(status)s，%(percent)d%%") % {"status": task.get_status_display(), "percent": task.percent},
    ]


def why_not(delivery: Claimed, context: Context) -> str:
    """Why the reminder no longer applies ("" when it still does)."""
    rule = delivery.rule
    if rule in (Rule.TASK_DUE, Rule.TASK_OVERDUE, Rule.MILESTONE_DUE, Rule.MILESTONE_OVERDUE):
        task = context.tasks.get(delivery.task_id)
        if task is None:
            return _("任务已删除")
        if task.status in FINISHED:
            return _("任务已完成")
        if task.plan.status != PlanStatus.ACTIVE:
            return _("计划已不在执行中")
        if rule in (Rule.TASK_DUE, Rule.TASK_OVERDUE) and task.due_on != delivery.due_on:
            return _("完成时限已调整")
        if rule in (Rule.MILESTONE_DUE, Rule.MILESTONE_OVERDUE):
            milestone = context.milestones.get(delivery.object_id)
            if milestone is None:
                return _("时间节点已删除")
            if milestone.done_on is not None:
                return _("时间节点已完成")
            if milestone.due_on != delivery.due_on:
                return _("节点日期已调整")
    elif rule == Rule.REPORT_DUE and context.today > delivery.due_on:
        return _("本期报送已截止")
    elif rule == Rule.CO_OWNER_DUE and context.today > delivery.due_on:
        return _("本期配合反馈已截止")
    return ""


# Messages of the rules said alike, by everything their words are made of: a worker sends
# one reminder to each of its people, on each of their channels, in batches of its own;
# each is worded once. Bounded (a few KB each; emptied when full): a year-end peak has
# about 13,000 at 50,000 tasks.
_said: dict[tuple, Message] = {}
SAID_KEPT = 20_000


def render(delivery: Claimed, context: Context) -> Message:
    if delivery.rule not in SAID_ALIKE:
        return _render(delivery, context)
    task = context.tasks[delivery.task_id]
    milestone = context.milestones.get(delivery.object_id) if delivery.rule in MILESTONE_RULES else None
    key = (
        delivery.rule,
        delivery.day_offset,
        translation.get_language(),
        settings.SITE_URL,
        (task.pk, task.number, task.heading, task.plan.title, task.due_on, task.status, task.percent),
        milestone and (milestone.pk, milestone.due_on, milestone.text),
    )
    message = _said.get(key)
    if message is None:
        if len(_said) >= SAID_KEPT:
            _said.clear()
        message = _said[key] = _render(delivery, context)
    return message


def _render(delivery: Claimed, context: Context) -> Message:
    days = abs(delivery.day_offset)
    rule = delivery.rule
    if rule in (Rule.TASK_DUE, Rule.TASK_OVERDUE):
        task = context.tasks[delivery.task_id]
        if rule == Rule.TASK_DUE:
            title = ngettext("任务还有%(days)d天到期：%(task)s", "任务还有%(days)d天到期：%(task)s", days)
        else:
            title = ngettext("任务已逾期%(days)d天：%(task)s", "任务已逾期%(days)d天：%(task)s", days)
        return Message(title % {"days": days, "task": task.label}, _task_lines(task), f"/tasks/{task.pk}/")
    if rule in (Rule.MILESTONE_DUE, Rule.MILESTONE_OVERDUE):
        task = context.tasks[delivery.task_id]
        milestone = context.milestones[delivery.object_id]
        if rule == Rule.MILESTONE_DUE:
            title = ngettext("时间节点还有%(days)d天到期：%(text)s", "时间节点还有%(days)d天到期：%(text)s", days)
        else:
            title = ngettext("时间节点已逾期%(days)d天：%(text)s", "时间节点已逾期%(days)d天：%(text)s", days)
        lines = [_("节点：%(date)s %(text)s") % {"date": f"{milestone.due_on:%Y-%m-%d}", "text": milestone.text}]
        title = title % {"days": days, "text": milestone.text[:60]}
        return Message(title, lines + _task_lines(task), f"/tasks/{task.pk}/")
    if rule == Rule.REPORT_DUE:
        due = f"{delivery.due_on:%Y-%m-%d}"
        if delivery.day_offset == 0:
            title = _("今天截止报送本期进展（%(date)s）") % {"date": due}
        else:
            title = ngettext(
                "还有%(days)d天截止报送本期进展（%(date)s）", "还有%(days)d天截止报送本期进展（%(date)s）", days
            ) % {"days": days, "date": due}
        owed, plans = delivery.payload.get("owed"), delivery.payload.get("plans", 1)
        if owed:
            line = ngettext(
                "您还有%(n)d项任务（涉及%(plans)d个计划）未报送本期进展。",
                "您还有%(n)d项任务（涉及%(plans)d个计划）未报送本期进展。",
                owed,
            ) % {"n": owed, "plans": plans}
        else:
            line = _("本单位还有任务未报送本期进展，请相关同事尽快报送。")
        return Message(title, [line], "/tasks/mine/?reported=0")
    if rule == Rule.CO_OWNER_DUE:
        title = ngettext(
            "还有%(days)d天截止提交配合单位反馈（%(date)s）", "还有%(days)d天截止提交配合单位反馈（%(date)s）", days
        ) % {"days": days, "date": f"{delivery.due_on:%Y-%m-%d}"}
        owed = delivery.payload.get("owed", 0)
        line = ngettext(
            "本单位还有%(n)d项配合任务未提交本期反馈，牵头单位据此报送。",
            "本单位还有%(n)d项配合任务未提交本期反馈，牵头单位据此报送。",
            owed,
        ) % {"n": owed}
        return Message(title, [line], delivery.payload.get("link", "/supervision/"))
    if rule in (Rule.SECURITY_ALERT, Rule.SUPERVISION, Rule.ESCALATION):
        # Said when it was raised (notifications.alerts) or the step was taken
        # (notifications.receivers), in the words it was said with.
        payload = delivery.payload
        return Message(payload["title"], payload.get("body", "").splitlines(), payload["link"])
    # The leaders' digest.
    figures = delivery.payload
    title = _("每周督办摘要（%(date)s）：逾期%(overdue)d项，新增风险%(risk)d项") % {
        "date": figures["week_of"],
        "overdue": figures["overdue_count"],
        "risk": figures["newly_at_risk_count"],
    }
    lines = [
        _("逾期任务：%(n)d项") % {"n": figures["overdue_count"]},
        *(f"  · {t['number']} {t['heading'][:40]}（{t['due_on']}）" for t in figures["overdue"]),
        _("新增风险任务：%(n)d项") % {"n": figures["newly_at_risk_count"]},
        *(f"  · {t['number']} {t['heading'][:40]}" for t in figures["newly_at_risk"]),
        _("未达目标的指标：%(n)d项") % {"n": figures["missed_indicator_count"]},
        *(f"  · {i['name']}：{i['latest']}（{i['target']}）" for i in figures["missed_indicators"]),
        _("本期未报送的单位：%(n)d个") % {"n": len(figures["unreported_agencies"])},
        *(
            "  · " + _("%(name)s（%(owed)d项）") % {"name": a["name"], "owed": a["owed"]}
            for a in figures["unreported_agencies"][:10]
        ),
        *_digest_escalation_lines(figures),
    ]
    return Message(title, lines, "/dashboard/")


def _digest_escalation_lines(figures: dict) -> list[str]:
    """The digest's 督办 part: the open red and yellow notices of the leader's agencies and
    the leader's instructions not yet settled. A digest written before these were part of
    it has neither key, and says nothing of them (rather than "0")."""
    lines = []
    notices = figures.get("open_notices")
    if notices is not None:
        lines.append(
            _("未办结的督办单：红色%(red)d件，黄色%(yellow)d件；逾期未反馈%(late)d件")
            % {
                "red": notices.get("red", 0),
                "yellow": notices.get("yellow", 0),
                "late": notices.get("unanswered_late", 0),
            }
        )
    if "open_instructions" in figures:
        instructions = figures.get("open_instructions") or []
        lines.append(_("您的批示尚未办结：%(n)d项") % {"n": figures.get("open_instruction_count", len(instructions))})
        for item in instructions:
            task = " ".join(filter(None, [item.get("task_number", ""), item.get("task_heading", "")[:30]]))
            # Answered: the leader's turn (settle it or ask for more); otherwise the owners'.
            state = _("已反馈，待您审阅") if item.get("responded") else _("待落实")
            lines.append(
                "  · "
                + _("%(task)s：%(text)s（反馈时限%(date)s，%(state)s）")
                % {
                    "task": task,
                    "text": " ".join(item.get("text", "").split())[:40],
                    "date": item.get("respond_by", ""),
                    "state": state,
                }
            )
    return lines


# --- Claiming and recording outcomes ---------------------------------------------------


DELIVERY = Delivery._meta.db_table


def claim(ids: list[int], now: datetime.datetime, *, inbox_sent: bool = False) -> list[Claimed]:
    """Take the rows among `ids` that are pending and due, so no other worker sends them:
    one UPDATE … RETURNING, of the rows it could lock (SKIP LOCKED on PostgreSQL: a row
    another worker is taking is left to it). They become SENDING; with `inbox_sent`, inbox
    rows become SENT at once, for a caller that writes their items in the same transaction
    (send_batch): one write per inbox row instead of two."""
    if not ids:
        return []
    match, params = in_ids(ids)
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    pending = f"SELECT id FROM {quote(DELIVERY)} WHERE id {match} AND state = %s AND not_before <= %s{skip_locked}"
    state = "CASE WHEN channel = %s THEN %s ELSE %s END"
    expressions = {"state": (state, [Channel.INBOX, DeliveryState.SENDING, DeliveryState.SENDING])}
    if inbox_sent:
        expressions = {
            "state": (state, [Channel.INBOX, DeliveryState.SENT, DeliveryState.SENDING]),
            "sent_at": ("CASE WHEN channel = %s THEN %s ELSE sent_at END", [Channel.INBOX, adapt(now)]),
        }
    rows = update_returning(
        DELIVERY,
        {"claimed_at": now, "handed_over_at": None},
        f"state = %s AND id IN ({pending})",
        [DeliveryState.PENDING, *params, DeliveryState.PENDING, adapt(now)],
        ("id", *CLAIMED_COLUMNS),
        increment="attempts",
        expressions=expressions,
    )
    claimed = [
        Claimed(pk, rule, object_id, date_of(due_on), offset, channel, user, robot, task, json_of(payload), attempts)
        for pk, rule, object_id, due_on, offset, channel, user, robot, task, payload, attempts in rows
    ]
    claimed.sort()
    return claimed


def _ours(pks: list[int], now: datetime.datetime) -> tuple[str, list]:
    """The WHERE clause of rows among `pks` still claimed by this batch (claimed at `now`)."""
    match, params = in_ids(pks)
    return f"id {match} AND state = %s AND claimed_at = %s", [*params, DeliveryState.SENDING, adapt(now)]


def _hand_over(pks: list[int], now: datetime.datetime, sent: list[int] | None = None) -> set[int]:
    """Record, committed before anything goes on the wire, that these rows are about to be
    sent; returns those still ours (a row whose lease ran out meanwhile is left alone).
    One UPDATE … RETURNING, which commits on its own. With `sent`, the same statement records
    that the rows of the message before went out (SENT): a message costs one commit, not two,
    and its outcome is written before the next goes on the wire, as it was on its own."""
    if not sent:
        where, params = _ours(pks, now)
        rows = update_returning(
            DELIVERY, {"handed_over_at": timezone.now()}, where + " AND handed_over_at IS NULL", params, ("id",)
        )
        return {pk for (pk,) in rows}
    these, these_params = in_ids(pks)
    before, before_params = in_ids(sent)
    rows = update_returning(
        DELIVERY,
        {},
        f"state = %s AND claimed_at = %s AND ((id {these} AND handed_over_at IS NULL) OR id {before})",
        [DeliveryState.SENDING, adapt(now), *these_params, *before_params],
        ("id",),
        expressions={
            "handed_over_at": (
                f"CASE WHEN id {these} THEN %s ELSE handed_over_at END",
                [*these_params, adapt(timezone.now())],
            ),
            "state": (f"CASE WHEN id {before} THEN %s ELSE state END", [*before_params, DeliveryState.SENT]),
            "sent_at": (f"CASE WHEN id {before} THEN %s ELSE sent_at END", [*before_params, adapt(now)]),
            "last_error": (f"CASE WHEN id {before} THEN %s ELSE last_error END", [*before_params, ""]),
        },
    )
    return {pk for (pk,) in rows}.intersection(pks)


def _finish(pks: list[int], state: str, now: datetime.datetime, error: str = "") -> None:
    fields = {"state": state, "last_error": error}
    if state == DeliveryState.SENT:
        fields["sent_at"] = now
    Delivery.objects.filter(pk__in=pks, state=DeliveryState.SENDING).update(**fields)


def _failed(rows: list[Claimed], error: DeliveryError, now: datetime.datetime) -> None:
    pks = [r.pk for r in rows]
    attempts = max(r.attempts for r in rows)
    if isinstance(error, PermanentError) or attempts >= max_attempts():
        reason = error.reason
        if not isinstance(error, PermanentError):
            reason = _("重试%(n)d次仍未成功：%(reason)s") % {"n": attempts, "reason": error.reason}
        logger.warning("delivery failed: %s (%s)", reason, pks)
        _finish(pks, DeliveryState.FAILED, now, reason)
        return
    delay = _policy()["retry_delays_seconds"][attempts - 1]
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        delay = max(delay, retry_after)
    Delivery.objects.filter(pk__in=pks, state=DeliveryState.SENDING).update(
        state=DeliveryState.PENDING, not_before=now + datetime.timedelta(seconds=delay), last_error=error.reason
    )


# --- The channels ------------------------------------------------------------------------


def _email_error(error: Exception) -> DeliveryError:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return PermanentError(_("收件地址被邮件服务器拒绝：%(detail)s") % {"detail": ", ".join(error.recipients)})
    if isinstance(error, smtplib.SMTPSenderRefused):
        return PermanentError(_("发件地址被邮件服务器拒绝（%(code)s）") % {"code": error.smtp_code})
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500 and error.smtp_code != 535:
        return PermanentError(_("邮件服务器拒绝发送（%(code)s）") % {"code": error.smtp_code})
    return TransientError(_("邮件暂时无法发送：%(error)s") % {"error": error.__class__.__name__})


def _send_email(recipient, messages: list[Message]) -> None:
    if len(messages) == 1:
        subject = messages[0].title
    else:
        subject = ngettext("督办提醒：您有%(n)d条新提醒", "督办提醒：您有%(n)d条新提醒", len(messages)) % {
            "n": len(messages)
        }
    context = {"recipient": recipient, "messages": messages, "site_url": settings.SITE_URL}
    email = EmailMultiAlternatives(
        subject=_("[督办平台] %(subject)s") % {"subject": subject},
        body=render_to_string("notifications/email.txt", context),
        to=[recipient.email],
    )
    email.attach_alternative(render_to_string("notifications/email.html", context), "text/html")
    try:
        email.send()
    except (smtplib.SMTPException, OSError) as error:
        raise _email_error(error) from error


def _send_robot(robot, messages: list[Message], mentions: list[str]) -> None:
    header = _("【督办提醒】")
    text = "\n\n".join(f"{header}{m.title}\n" + m.text for m in messages)
    robots.send(robot, text, title=messages[0].title, mentions=mentions)


# --- A batch ---------------------------------------------------------------------------


NOTIFICATION_COLUMNS = tuple(
    Notification._meta.get_field(name).column
    for name in ("recipient", "rule", "title", "body", "link", "task", "delivery", "payload", "created_at")
)


def _judged(rows: list[Claimed], context: Context) -> list[tuple[Claimed, str, Message | None]]:
    """Each row with why it no longer applies ("" if it does) and, if it does, its message:
    both worked out once per reminder (rule, object, due date and day) and shared by all
    the rows of its recipients and channels."""
    said: dict[tuple, tuple[str, Message | None]] = {}
    judged = []
    for row in rows:
        key = (row.rule, row.object_id, row.due_on, row.day_offset, row.task_id, row.rule in SAID_ALIKE or row.pk)
        found = said.get(key)
        if found is None:
            reason = why_not(row, context)
            found = said[key] = (reason, None if reason else render(row, context))
        judged.append((row, *found))
    return judged


def _to_inbox(items: list[tuple[Claimed, Message]], now: datetime.datetime) -> None:
    """The inbox items of rows this transaction's claim marked SENT: one INSERT (COPY past
    a few thousand), in the claim's transaction, so an item exists exactly when its row is
    SENT; the item is tied to its row one-to-one besides."""
    created_at = adapt(now)
    insert_rows(
        Notification._meta.db_table,
        NOTIFICATION_COLUMNS,
        [
            (
                row.recipient_id,
                row.rule,
                message.title[:200],
                message.body,
                message.link,
                row.task_id,
                row.pk,
                adapt(for_display(row.payload)) if row.payload else "{}",
                created_at,
            )
            for row, message in items
        ],
    )


def send_batch(ids: list[int], now: datetime.datetime | None = None) -> dict[str, int]:
    """Send the deliveries among `ids` that are pending and due; return counts by outcome.
    A fixed number of queries for the batch (however many rows) plus one per email or
    robot message (handed over, with the outcome of the one before), one per failed
    message and one per reason rows are cancelled for."""
    now = now or timezone.now()
    outcome: dict[str, int] = defaultdict(int)
    with translation.override(settings.LANGUAGE_CODE):
        # The claim, and the inbox delivered, in one transaction: inbox rows are claimed as
        # SENT and their items written before it commits (or neither, if anything fails).
        with transaction.atomic():
            rows = claim(ids, now, inbox_sent=True)
            if not rows:
                return {}
            context = Context.load(rows, timezone.localdate(now))
            live: list[tuple[Claimed, Message]] = []
            cancelled: dict[str, list[int]] = defaultdict(list)
            for row, reason, message in _judged(rows, context):
                if reason:
                    cancelled[reason].append(row.pk)
                else:
                    live.append((row, message))
            for reason, pks in cancelled.items():
                Delivery.objects.filter(pk__in=pks, claimed_at=now).update(
                    state=DeliveryState.CANCELLED, sent_at=None, last_error=reason
                )
                outcome["cancelled"] += len(pks)
            inbox = [(row, message) for row, message in live if row.channel == Channel.INBOX]
            if inbox:
                _to_inbox(inbox, now)
                outcome["sent"] += len(inbox)

        groups: dict[tuple, list[tuple[Claimed, Message]]] = defaultdict(list)
        for row, message in live:
            if row.channel != Channel.INBOX:
                groups[(row.channel, row.recipient_id, row.robot_id)].append((row, message))
        if not groups:
            return dict(outcome)
        recipients = User.objects.in_bulk({user for _c, user, _r in groups if user})
        group_robots = Robot.objects.in_bulk({robot for _c, _u, robot in groups if robot})
        sent_before: list[int] = []  # the rows of the message that just went out, recorded with the next
        try:
            for (channel, user_id, robot_id), items in groups.items():
                handed_over = _hand_over([row.pk for row, _m in items], now, sent_before)
                sent_before = []
                if not handed_over:
                    continue
                items = [(row, message) for row, message in items if row.pk in handed_over]
                group_rows = [row for row, _m in items]
                messages = [message for _r, message in items]
                try:
                    if channel == Channel.EMAIL:
                        _send_email(recipients[user_id], messages)
                    else:
                        mentions = sorted({m for row in group_rows for m in row.payload.get("mentions", [])})
                        _send_robot(group_robots[robot_id], messages, mentions)
                except DeliveryError as error:
                    _failed(group_rows, error, now)
                    outcome["failed"] += len(group_rows)
                else:
                    sent_before = [row.pk for row in group_rows]
                    outcome["sent"] += len(group_rows)
        finally:
            if sent_before:
                _finish(sent_before, DeliveryState.SENT, now)
    return dict(outcome)


def recover_stale_claims(now: datetime.datetime) -> int:
    """Rows left SENDING by a worker that died, once the lease is over: back to pending when
    they were never handed over, INTERRUPTED (for an admin to check) when they were."""
    lease = datetime.timedelta(seconds=_policy()["claim_lease_seconds"])
    stale = Delivery.objects.filter(state=DeliveryState.SENDING, claimed_at__lt=now - lease)
    interrupted = stale.filter(handed_over_at__isnull=False).update(
        state=DeliveryState.INTERRUPTED, last_error=_("发送中断，可能已送达，请核实后手动重发")
    )
    if interrupted:
        logger.warning("%d deliveries interrupted while sending; left for an admin to check", interrupted)
    requeued = stale.filter(handed_over_at__isnull=True).update(
        state=DeliveryState.PENDING, last_error=_("上次发送中断（尚未发出），已重新排队")
    )
    return interrupted + requeued


def sendable_batches(now: datetime.datetime) -> list[list[int]]:
    """Ids of what is due to go out, in batches of about `batch_size` (inbox rows:
    `inbox_batch_size`: nothing goes over the network for them), never splitting one
    recipient's rows: one email or robot message carries all of them. Inbox rows need no
    such grouping and come in the order the scan wrote them, a reminder's people together,
    so that a batch words each reminder once for all of them."""
    policy = _policy()
    size = policy["batch_size"]
    sizes = {Channel.INBOX.value: policy["inbox_batch_size"]}
    recipient = Case(
        When(channel=Channel.INBOX, then=Value(0)), default=F("recipient_id"), output_field=BigIntegerField()
    )
    rows = Delivery.objects.sendable(now).order_by("channel", recipient, "robot_id", "id")
    batches: list[list[int]] = []
    current: list[int] = []
    previous = None
    for pk, *who in rows.values_list("pk", "channel", "recipient_id", "robot_id"):
        # The batch so far is of the previous row's channel: its size decides.
        if previous is not None and len(current) >= sizes.get(previous[0], size) and who != previous:
            batches.append(current)
            current = []
        current.append(pk)
        previous = who
    if current:
        batches.append(current)
    return batches
