from django.urls import path

from tasks import views

app_name = "tasks"

urlpatterns = [
    path("mine/", views.my_tasks, name="my_tasks"),
]
