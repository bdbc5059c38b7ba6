from __future__ import annotations

from rest_framework.routers import SimpleRouter

from files.api import views

router = SimpleRouter(trailing_slash=False)
router.register("files", views.FileViewSet, basename="file")

urlpatterns = router.urls
