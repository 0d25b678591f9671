from django.urls import path, re_path

from ledger import views

urlpatterns = [
    path("api/v1/health", views.health),
    path("api/v1/auth/whoami", views.WhoAmI.as_view()),
    path("api/v1/auth/me", views.Me.as_view()),
    path("api/v1/throttled/whoami", views.ThrottledWhoAmI.as_view()),
    path("api/v1/bench/debits", views.Debit.as_view()),
    # DRF's routers end with a slash; ours does not. Both, so one load script drives both stacks (a POST redirected
    # by APPEND_SLASH would lose its body).
    re_path(r"^api/v1/generations/?$", views.CreateGeneration.as_view()),
]
