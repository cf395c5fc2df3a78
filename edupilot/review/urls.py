from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("ranking/", views.ranking, name="ranking"),
    path("ranking/save/", views.rerank, name="rerank"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/recommend/", views.recommend, name="recommend"),
    path("<int:pk>/return/", views.return_, name="return"),
    path("<int:pk>/not-recommend/", views.not_recommend, name="not_recommend"),
    path("decisions/<int:decision_id>/withdraw/", views.withdraw, name="withdraw"),
]
