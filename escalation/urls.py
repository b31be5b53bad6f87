"""Escalation's pages, under /escalation/ (namespace `escalation`)."""

from escalation import views

app_name = "escalation"

urlpatterns = views.urlpatterns
