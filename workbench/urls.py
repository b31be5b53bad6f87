from django.urls import path

from workbench import views

# The task pages keep the `tasks` URL namespace (/tasks/…, tasks:task_detail): they are
# the tasks' pages, served by this app because they bring tasks and indicators together.
app_name = "tasks"

urlpatterns = [
    path("mine/", views.my_tasks, name="my_tasks"),
    path("<int:pk>/", views.task_detail, name="task_detail"),
    path("<int:pk>/report/", views.task_report, name="task_report"),
    path("<int:pk>/responsible/", views.task_responsible, name="task_responsible"),
    path("<int:pk>/updates/", views.task_updates, name="task_updates"),
    path("<int:pk>/history/", views.task_history, name="task_history"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("<int:pk>/readings/<int:reading_pk>/correct/", views.reading_correct, name="reading_correct"),
    path("<int:pk>/milestones/<int:milestone_pk>/reopen/", views.milestone_reopen, name="milestone_reopen"),
]
