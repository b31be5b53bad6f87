from django.urls import path

from workplans import views

app_name = "workplans"

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
]
