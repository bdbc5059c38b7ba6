from __future__ import annotations

from django.urls import path

from nlparse.api import views

urlpatterns = [path("test/parse", views.ParseView.as_view(), name="test-parse")]
