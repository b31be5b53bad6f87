from django.urls import path

from workbench import sheet_views, views

# The task pages keep the `tasks` URL namespace (/tasks/…, tasks:task_detail): they are
# the tasks' pages, served by this app because they bring tasks and indicators together.
app_name = "tasks"

urlpatterns = [
    path("mine/", views.my_tasks, name="my_tasks"),
    path("mine/plans/", views.plan_options, name="plan_options"),
    path("<int:pk>/", views.task_detail, name="task_detail"),
    path("<int:pk>/report/", views.task_report, name="task_report"),
    path("<int:pk>/responsible/", views.task_responsible, name="task_responsible"),
    path("<int:pk>/updates/", views.task_updates, name="task_updates"),
    path("<int:pk>/history/", views.task_history, name="task_history"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("<int:pk>/readings/<int:reading_pk>/correct/", views.reading_correct, name="reading_correct"),
    path("<int:pk>/milestones/<int:milestone_pk>/reopen/", views.milestone_reopen, name="milestone_reopen"),
    # Excel fill-in sheets (填报表)
    path("sheets/", sheet_views.fill_sheets, name="fill_sheets"),
    path("sheets/download/", sheet_views.fill_sheet_download, name="fill_sheet_download"),
    path("sheets/imports/<int:pk>/", sheet_views.fill_sheet_import, name="fill_sheet_import"),
    path("sheets/imports/<int:pk>/confirm/", sheet_views.fill_sheet_confirm, name="fill_sheet_confirm"),
    path("sheets/imports/<int:pk>/discard/", sheet_views.fill_sheet_discard, name="fill_sheet_discard"),
]
