"""/api/v1/o/<org-slug>/...: one router for every resource, and the schema with its docs."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from accounts.api import AccountViewSet, DomainViewSet
from contacts.api import ContactViewSet
from conversations.api import CommitmentViewSet, ConversationViewSet, MessageViewSet
from followups.api import FollowUpViewSet
from health.api import HealthViewSet
from mail.api import MailboxViewSet
from search.api import SearchViewSet

router = SimpleRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("domains", DomainViewSet, basename="domain")
router.register("contacts", ContactViewSet, basename="contact")
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")
router.register("commitments", CommitmentViewSet, basename="commitment")
router.register("followups", FollowUpViewSet, basename="followup")
router.register("health", HealthViewSet, basename="health")
router.register("mailboxes", MailboxViewSet, basename="mailbox")


@csrf_exempt  # nothing happens here; a POST must get the same JSON 404 as a GET
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    # Unknown API addresses answer in the API's own error shape, not with an HTML page.
    body = {"status": 404, "code": "not_found", "message": "No such API address."}
    return JsonResponse({"error": body}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path(
        "v1/o/<slug:org_slug>/search/",
        SearchViewSet.as_view({"get": "search"}),
        name="search-api",
    ),
    path("v1/o/<slug:org_slug>/", include(router.urls)),
    re_path(r"^(?P<path>[\s\S]*)$", not_found),
]
