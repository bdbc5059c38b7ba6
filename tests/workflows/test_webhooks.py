"""Webhook triggers: signatures (unit, with the secret passed in), the token's life, and /hooks/<token> itself.

The API tests go through the real URL conf. The test transaction never
commits, so runs are written but never queued: these tests look at the rows;
test_triggers_celery.py runs them on a real worker.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from asgiref.sync import async_to_sync

from executions.models import Execution
from flowbuilder.api.errors import Unauthorized
from tests.clients import client_for
from tests.workflows.helpers import linear, node
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_update
from workflows.triggers import webhook

pytestmark = pytest.mark.django_db

SECRET = b"whsec_test_0123456789"
URL = "/api/v1/workflows"


def webhook_definition(**config):
    return linear(node("hook", "trigger.webhook", **config), node("out", "output", value="{{ input.body }}"))


@pytest.fixture
def make_hook(user):
    def make(*, is_active: bool = True, **config) -> Workflow:
        return workflow_create(owner=user, name="hook", definition=webhook_definition(**config), is_active=is_active)

    return make


@pytest.fixture
def signing_credential(make_credential) -> str:
    """The id of an hmac_secret credential of the user whose secret is SECRET (stored encrypted, as the API does)."""
    return str(make_credential("hmac_secret", {"secret": SECRET.decode()}).pk)


def hook_url(workflow: Workflow) -> str:
    workflow.refresh_from_db()
    return f"/hooks/{workflow.webhook_token}"


def error(response, status: int, code: str, reason: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code
    if reason is not None:
        assert body["reason"] == reason
    assert body["request_id"] == response["X-Request-ID"]
    return body


# --- signatures, with the secret passed directly ----------------------------------------------


class TestVerifySignature:
    body = b'{"event": "paid"}'

    def test_a_good_signature_passes(self):
        now = time.time()
        header = webhook.sign(SECRET, self.body, int(now))
        assert webhook.verify_signature(secret=SECRET, header=header, body=self.body, now=now) == int(now)

    def test_the_signature_covers_timestamp_dot_body(self):
        import hashlib
        import hmac

        expected = hmac.new(SECRET, b"1700000000." + self.body, hashlib.sha256).hexdigest()
        assert webhook.sign(SECRET, self.body, 1_700_000_000) == f"t=1700000000,v1={expected}"

    def test_any_of_several_v1_may_match(self):
        now = int(time.time())
        good = webhook.sign(SECRET, self.body, now).partition("v1=")[2]
        header = f"t={now},v1={'0' * 64},v1={good.upper()}"
        assert webhook.verify_signature(secret=SECRET, header=header, body=self.body, now=now) == now

    @pytest.mark.parametrize(
        ("header", "message"),
        [
            (None, "requires"),
            ("", "requires"),
            ("v1=abcdef", "Malformed"),
            ("t=notanumber,v1=abcdef", "Malformed"),
            ("t=1700000000", "Malformed"),
            ("garbage", "Malformed"),
        ],
    )
    def test_missing_or_malformed(self, header, message):
        with pytest.raises(Unauthorized, match=message) as caught:
            webhook.verify_signature(secret=SECRET, header=header, body=self.body, now=1_700_000_000)
        assert caught.value.details[0]["field"] == webhook.SIGNATURE_HEADER

    def test_wrong_secret_or_tampered_body(self):
        now = 1_700_000_000
        header = webhook.sign(b"another secret", self.body, now)
        with pytest.raises(Unauthorized, match="does not match"):
            webhook.verify_signature(secret=SECRET, header=header, body=self.body, now=now)
        header = webhook.sign(SECRET, self.body, now)
        with pytest.raises(Unauthorized, match="does not match"):
            webhook.verify_signature(secret=SECRET, header=header, body=self.body + b" ", now=now)

    def test_a_signature_for_another_timestamp_does_not_match(self):
        now = 1_700_000_000
        digest = webhook.sign(SECRET, self.body, now).partition("v1=")[2]
        with pytest.raises(Unauthorized, match="does not match"):
            webhook.verify_signature(secret=SECRET, header=f"t={now + 1},v1={digest}", body=self.body, now=now)

    @pytest.mark.parametrize("offset", [301, -301, 86400])
    def test_older_or_newer_than_five_minutes(self, offset):
        now = 1_700_000_000
        header = webhook.sign(SECRET, self.body, now - offset)
        with pytest.raises(Unauthorized, match="more than 300 seconds"):
            webhook.verify_signature(secret=SECRET, header=header, body=self.body, now=now)

    @pytest.mark.parametrize("offset", [300, -300, 0])
    def test_within_the_tolerance(self, offset):
        now = 1_700_000_000
        header = webhook.sign(SECRET, self.body, now - offset)
        assert webhook.verify_signature(secret=SECRET, header=header, body=self.body, now=now) == now - offset


class TestClaimDelivery:
    def test_a_delivery_id_is_accepted_once(self):
        assert webhook.claim_delivery(workflow_id="w1", delivery_id="d-1", signature=None)
        assert not webhook.claim_delivery(workflow_id="w1", delivery_id="d-1", signature=None)
        assert webhook.claim_delivery(workflow_id="w2", delivery_id="d-1", signature=None)  # per workflow

    def test_a_signature_is_accepted_once_whatever_the_delivery_id(self):
        assert webhook.claim_delivery(workflow_id="w1", delivery_id="d-1", signature="t=1,v1=ab")
        assert not webhook.claim_delivery(workflow_id="w1", delivery_id="d-2", signature="t=1,v1=ab")

    def test_remembered_for_the_tolerance_window(self, settings):
        settings.FLOWBUILDER_WEBHOOK_TOLERANCE_SECONDS = 1
        assert webhook.claim_delivery(workflow_id="w1", delivery_id="short", signature=None)
        time.sleep(1.1)
        assert webhook.claim_delivery(workflow_id="w1", delivery_id="short", signature=None)


class TestRequestInput:
    def request(self, body: bytes = b"", content_type: str = "", headers=None, query=None):
        return webhook.WebhookRequest(
            method="POST", headers=headers or {}, query=query or {}, body=body, content_type=content_type, meta={}
        )

    def test_headers_without_credentials_or_hop_by_hop(self):
        headers = {
            "Content-Type": "application/json",
            "Authorization": "Bearer x",
            "Cookie": "sessionid=1",
            "X-Api-Key": "fbk_x",
            "Proxy-Authorization": "Basic x",
            "Proxy-Foo": "1",
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "named by Connection",
            "Keep-Alive": "timeout=5",
            "Transfer-Encoding": "chunked",
            "Upgrade": "h2c",
            "TE": "trailers",
            "X-Github-Event": "push",
        }
        assert webhook.input_headers(headers) == {"content-type": "application/json", "x-github-event": "push"}

    @pytest.mark.parametrize(
        ("content_type", "body", "expected"),
        [
            ("application/json", b'{"a": [1, 2]}', {"a": [1, 2]}),
            ("application/vnd.api+json; charset=utf-8", b'{"a": 1}', {"a": 1}),
            ("application/x-www-form-urlencoded", b"a=1&b=2&b=3&c=%C3%A9", {"a": "1", "b": ["2", "3"], "c": "é"}),
            ("text/plain", b"hello", "hello"),
            ("application/xml", b"<a>1</a>", "<a>1</a>"),
            ("", b"raw", "raw"),
            ("application/json", b"", None),
        ],
    )
    def test_bodies(self, content_type, body, expected):
        assert webhook.parse_body(self.request(body, content_type)) == expected

    def test_multipart_fields_and_files(self):
        boundary = "XyZ"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nAda\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="doc"; filename="a.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
        ).encode()
        parsed = webhook.parse_body(self.request(body, f"multipart/form-data; boundary={boundary}"))
        assert parsed == {"name": "Ada", "doc": {"filename": "a.txt", "content_type": "text/plain", "size": 5}}

    @pytest.mark.parametrize("body", [b"{not json", b"NaN", b"[" * 100 + b"]" * 100])
    def test_bad_json_is_400_with_a_pointer(self, body):
        from flowbuilder.api.errors import ValidationFailed

        with pytest.raises(ValidationFailed) as caught:
            webhook.parse_body(self.request(body, "application/json"))
        assert caught.value.details[0]["field"] == "body"


# --- the token -----------------------------------------------------------------------------------


class TestToken:
    def test_created_for_a_webhook_trigger_only(self, make_hook, user):
        hook = make_hook()
        assert len(hook.webhook_token) >= 43  # token_urlsafe(32)
        manual = workflow_create(owner=user, name="m", definition=linear(node("s", "trigger.manual")))
        assert manual.webhook_token is None

    def test_kept_across_edits_dropped_when_the_trigger_changes(self, make_hook, user):
        hook = make_hook()
        token = hook.webhook_token
        edited = workflow_update(workflow=hook, actor=user, definition=webhook_definition(method="PUT"), name="x")
        assert edited.webhook_token == token
        manual = workflow_update(workflow=hook, actor=user, definition=linear(node("s", "trigger.manual")))
        assert manual.webhook_token is None
        again = workflow_update(workflow=hook, actor=user, definition=webhook_definition())
        assert again.webhook_token not in (None, token)

    def test_tokens_are_unique_and_unguessable(self, make_hook):
        tokens = {make_hook().webhook_token for _ in range(5)}
        assert len(tokens) == 5


class TestRepresentation:
    def test_url_is_absolute_from_the_request_host(self, auth_client, make_hook, settings):
        settings.ALLOWED_HOSTS = ["flows.example.com"]
        hook = make_hook()
        trigger = auth_client.get(f"{URL}/{hook.pk}", HTTP_HOST="flows.example.com").json()["trigger"]
        assert trigger == {
            "type": "webhook",
            "method": "POST",
            "respond": "immediately",
            "signed": False,
            "url": f"http://flows.example.com/hooks/{hook.webhook_token}",
        }

    def test_public_url_setting_wins(self, auth_client, make_hook, settings):
        settings.FLOWBUILDER_PUBLIC_URL = "https://hooks.example.org"
        hook = make_hook()
        trigger = auth_client.get(f"{URL}/{hook.pk}").json()["trigger"]
        assert trigger["url"] == f"https://hooks.example.org/hooks/{hook.webhook_token}"

    def test_created_workflow_shows_its_url(self, auth_client):
        response = auth_client.post(URL, {"name": "h", "definition": webhook_definition()}, format="json")
        assert response.status_code == 201
        token = Workflow.objects.get().webhook_token
        assert response.json()["trigger"]["url"].endswith(f"/hooks/{token}")

    def test_a_viewer_does_not_see_the_secret_url(self, make_hook, make_user):
        hook = make_hook()
        viewer = make_user()
        hook.shares.create(user=viewer, role="viewer")
        trigger = client_for(viewer).get(f"{URL}/{hook.pk}").json()["trigger"]
        assert (trigger["type"], trigger["url"]) == ("webhook", None)
        operator = make_user()
        hook.shares.create(user=operator, role="operator")
        assert client_for(operator).get(f"{URL}/{hook.pk}").json()["trigger"]["url"]


class TestRegenerate:
    def test_new_token_old_url_stops_at_once(self, auth_client, make_hook, api_client):
        hook = make_hook()
        old = hook_url(hook)
        response = auth_client.post(f"{URL}/{hook.pk}/webhook/regenerate")
        assert response.status_code == 200, response.content
        new = hook_url(hook)
        assert new != old
        assert response.json()["trigger"]["url"].endswith(new)
        error(api_client.post(old, {}, format="json"), 404, "NOT_FOUND")
        assert api_client.post(new, {}, format="json").status_code == 202

    def test_owner_and_editor_only(self, make_hook, make_user):
        hook = make_hook()
        editor, operator, stranger = make_user(), make_user(), make_user()
        hook.shares.create(user=editor, role="editor")
        hook.shares.create(user=operator, role="operator")
        assert client_for(editor).post(f"{URL}/{hook.pk}/webhook/regenerate").status_code == 200
        error(client_for(operator).post(f"{URL}/{hook.pk}/webhook/regenerate"), 403, "FORBIDDEN")
        error(client_for(stranger).post(f"{URL}/{hook.pk}/webhook/regenerate"), 404, "NOT_FOUND")

    def test_the_audit_log_records_the_change_not_the_token(self, auth_client, make_hook):
        from audit.models import AuditEvent

        hook = make_hook()
        old = hook.webhook_token
        assert auth_client.post(f"{URL}/{hook.pk}/webhook/regenerate").status_code == 200
        hook.refresh_from_db()
        events = AuditEvent.objects.filter(object_type="workflows.workflow", object_id=str(hook.pk))
        assert events.filter(action="workflow.updated", changes__has_key="webhook_token").exists()
        logged = json.dumps(list(events.values_list("changes", flat=True)))
        assert old not in logged
        assert hook.webhook_token not in logged

    def test_not_a_webhook_is_409(self, auth_client, user):
        manual = workflow_create(owner=user, name="m", definition=linear(node("s", "trigger.manual")))
        body = error(auth_client.post(f"{URL}/{manual.pk}/webhook/regenerate"), 409, "CONFLICT")
        assert body["details"][0]["field"] == "definition"


# --- /hooks/<token> --------------------------------------------------------------------------------


class TestReceive:
    def test_post_json_starts_a_run_with_body_query_headers(self, api_client, make_hook):
        hook = make_hook()
        response = api_client.post(
            f"{hook_url(hook)}?page=2&tag=a&tag=b",
            data=json.dumps({"order": 42}),
            content_type="application/json",
            HTTP_AUTHORIZATION="Bearer secret-of-the-caller",
            HTTP_COOKIE="sessionid=abc",
            HTTP_X_API_KEY="fbk_nope",
            HTTP_X_SHOP="acme",
        )
        assert response.status_code == 202, response.content
        execution = Execution.objects.get()
        assert response.json() == {"execution_id": str(execution.pk)}
        assert response[webhook.EXECUTION_HEADER] == str(execution.pk)
        assert (execution.trigger, execution.workflow_id, execution.triggered_by) == ("webhook", hook.pk, None)
        data = execution.input_data
        assert data["body"] == {"order": 42}
        assert data["query"] == {"page": "2", "tag": ["a", "b"]}
        assert data["headers"]["x-shop"] == "acme"
        assert data["headers"]["content-type"] == "application/json"
        assert not {"authorization", "cookie", "x-api-key"} & set(data["headers"])

    @pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
    def test_each_method_when_configured(self, api_client, make_hook, method):
        hook = make_hook(method=method)
        response = api_client.generic(method, f"{hook_url(hook)}?x=1", data=b"plain words", content_type="text/plain")
        assert response.status_code == 202, response.content
        execution = Execution.objects.get()
        assert execution.input_data["query"] == {"x": "1"}
        assert execution.input_data["body"] == "plain words"

    def test_form_body(self, api_client, make_hook):
        hook = make_hook()
        response = api_client.post(hook_url(hook), data="a=1&b=two", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 202
        assert Execution.objects.get().input_data["body"] == {"a": "1", "b": "two"}

    def test_no_csrf_and_no_session_needed(self, make_hook, user):
        from django.test import Client

        hook = make_hook()
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        response = browser.post(hook_url(hook), data="{}", content_type="application/json")
        assert response.status_code == 202
        assert Execution.objects.get().triggered_by is None

    def test_wrong_method_is_405(self, api_client, make_hook):
        hook = make_hook(method="POST")
        response = api_client.get(hook_url(hook))
        body = error(response, 405, "METHOD_NOT_ALLOWED")
        assert "accepts POST" in body["message"]
        assert response["Allow"] == "POST"
        assert not Execution.objects.exists()

    @pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "TRACE", "CONNECT"])
    def test_other_methods_start_nothing_and_say_which_is_allowed(self, api_client, make_hook, method):
        hook = make_hook(method="GET")
        response = api_client.generic(method, hook_url(hook))
        assert response.status_code == 405
        assert response["Allow"] == "GET"
        if method != "HEAD":
            assert "accepts GET requests, not " + method in error(response, 405, "METHOD_NOT_ALLOWED")["message"]
        assert api_client.generic(method, "/hooks/no-such-token").status_code == 404
        assert not Execution.objects.exists()

    def test_unknown_token_is_404(self, api_client):
        error(api_client.post("/hooks/no-such-token", {}, format="json"), 404, "NOT_FOUND")
        error(api_client.post(f"/hooks/{'x' * 200}", {}, format="json"), 404, "NOT_FOUND")

    def test_inactive_workflow_is_404(self, api_client, make_hook, user):
        hook = make_hook(is_active=False)
        assert hook.webhook_token
        error(api_client.post(hook_url(hook), {}, format="json"), 404, "NOT_FOUND")
        workflow_update(workflow=hook, actor=user, is_active=True)
        assert api_client.post(hook_url(hook), {}, format="json").status_code == 202

    def test_owner_deactivated_is_404(self, api_client, make_hook, user):
        hook = make_hook()
        user.is_active = False
        user.save()
        error(api_client.post(hook_url(hook), {}, format="json"), 404, "NOT_FOUND")

    def test_declared_length_over_limit_is_413(self, api_client, make_hook, settings):
        settings.API_MAX_BODY_BYTES = 1000
        hook = make_hook()
        response = api_client.post(hook_url(hook), data="x" * 1001, content_type="text/plain")
        error(response, 413, "PAYLOAD_TOO_LARGE")
        assert not Execution.objects.exists()

    def test_default_limit_is_2_mb(self, api_client, make_hook):
        hook = make_hook()
        response = api_client.post(hook_url(hook), data="x" * (2 * 1024 * 1024 + 1), content_type="text/plain")
        error(response, 413, "PAYLOAD_TOO_LARGE")

    def test_bad_json_is_400(self, api_client, make_hook):
        hook = make_hook()
        body = error(
            api_client.post(hook_url(hook), data="{oops", content_type="application/json"), 400, "VALIDATION_ERROR"
        )
        assert body["details"][0]["field"] == "body"

    def test_rate_limited_per_token(self, api_client, make_hook, settings):
        settings.FLOWBUILDER_WEBHOOK_RATE_LIMIT = ["3/minute"]
        hook, other = make_hook(), make_hook()
        statuses = [api_client.post(hook_url(hook), {}, format="json").status_code for _ in range(3)]
        assert statuses == [202, 202, 202]
        limited = api_client.post(hook_url(hook), {}, format="json")
        error(limited, 429, "RATE_LIMIT_EXCEEDED", "WEBHOOK_RATE_LIMITED")
        assert 1 <= int(limited["Retry-After"]) <= 60
        assert (limited["X-RateLimit-Limit"], limited["X-RateLimit-Remaining"]) == ("3", "0")
        assert api_client.post(hook_url(other), {}, format="json").status_code == 202  # another URL, another count
        assert Execution.objects.filter(workflow=hook).count() == 3

    def test_rate_limit_headers(self, api_client, make_hook):
        hook = make_hook()
        response = api_client.post(hook_url(hook), {}, format="json")
        assert (response["X-RateLimit-Limit"], response["X-RateLimit-Remaining"]) == ("60", "59")

    def test_delivery_id_replayed_is_409(self, api_client, make_hook):
        hook = make_hook()
        first = api_client.post(hook_url(hook), {}, format="json", HTTP_X_FLOWBUILDER_DELIVERY="evt_1")
        assert first.status_code == 202
        replayed = api_client.post(hook_url(hook), {}, format="json", HTTP_X_FLOWBUILDER_DELIVERY="evt_1")
        error(replayed, 409, "CONFLICT", "WEBHOOK_DELIVERY_REPLAYED")
        assert (
            api_client.post(hook_url(hook), {}, format="json", HTTP_X_FLOWBUILDER_DELIVERY="evt_2").status_code == 202
        )
        assert Execution.objects.count() == 2

    def test_max_concurrency_reject_is_429(self, api_client, user):
        definition = webhook_definition()
        definition["settings"] = {"max_concurrency": 1, "concurrency_policy": "reject"}
        hook = workflow_create(owner=user, name="h", definition=definition)
        assert api_client.post(hook_url(hook), {}, format="json").status_code == 202
        refused = api_client.post(hook_url(hook), {}, format="json", HTTP_X_FLOWBUILDER_DELIVERY="evt_busy")
        error(refused, 429, "RATE_LIMIT_EXCEEDED", "CONCURRENCY_LIMIT_REACHED")
        assert refused["Retry-After"] == "5"
        # No run was made: the sender's retry of that delivery is not a replay.
        Execution.objects.update(status=Execution.Status.COMPLETED)
        retried = api_client.post(hook_url(hook), {}, format="json", HTTP_X_FLOWBUILDER_DELIVERY="evt_busy")
        assert retried.status_code == 202

    def test_a_refused_body_does_not_burn_its_delivery_id(self, api_client, make_hook):
        hook = make_hook()
        bad = api_client.post(
            hook_url(hook), data="{", content_type="application/json", HTTP_X_FLOWBUILDER_DELIVERY="e"
        )
        error(bad, 400, "VALIDATION_ERROR")
        good = api_client.post(
            hook_url(hook), data="{}", content_type="application/json", HTTP_X_FLOWBUILDER_DELIVERY="e"
        )
        assert good.status_code == 202


class TestSignedReceive:
    def post(self, client, workflow, body: bytes, **headers):
        return client.post(hook_url(workflow), data=body, content_type="application/json", **headers)

    def signed(self, body: bytes, timestamp: int | None = None, secret: bytes = SECRET) -> dict:
        return {"HTTP_X_FLOWBUILDER_SIGNATURE": webhook.sign(secret, body, timestamp or int(time.time()))}

    def test_a_signed_request_runs(self, api_client, make_hook, signing_credential):
        hook = make_hook(hmac_credential=signing_credential)
        body = b'{"paid": true}'
        response = self.post(api_client, hook, body, **self.signed(body), HTTP_X_FLOWBUILDER_DELIVERY="d1")
        assert response.status_code == 202, response.content
        assert Execution.objects.get().input_data["body"] == {"paid": True}

    def test_missing_signature_is_401(self, api_client, make_hook, signing_credential):
        hook = make_hook(hmac_credential=signing_credential)
        body = error(self.post(api_client, hook, b"{}"), 401, "UNAUTHORIZED")
        assert body["details"][0]["field"] == webhook.SIGNATURE_HEADER
        assert not Execution.objects.exists()

    def test_bad_signature_is_401(self, api_client, make_hook, signing_credential):
        hook = make_hook(hmac_credential=signing_credential)
        error(
            self.post(api_client, hook, b"{}", **self.signed(b"{}", secret=b"wrong")),
            401,
            "UNAUTHORIZED",
            "WEBHOOK_SIGNATURE_INVALID",
        )
        error(self.post(api_client, hook, b'{"a":1}', **self.signed(b"{}")), 401, "UNAUTHORIZED")
        error(self.post(api_client, hook, b"{}", HTTP_X_FLOWBUILDER_SIGNATURE="v1=00"), 401, "UNAUTHORIZED")
        assert not Execution.objects.exists()

    def test_old_signature_is_401(self, api_client, make_hook, signing_credential):
        hook = make_hook(hmac_credential=signing_credential)
        stale = self.signed(b"{}", timestamp=int(time.time()) - 301)
        body = error(self.post(api_client, hook, b"{}", **stale), 401, "UNAUTHORIZED")
        assert "300 seconds" in body["message"]

    def test_replayed_delivery_is_409(self, api_client, make_hook, signing_credential):
        hook = make_hook(hmac_credential=signing_credential)
        headers = {**self.signed(b"{}"), "HTTP_X_FLOWBUILDER_DELIVERY": "evt_9"}
        assert self.post(api_client, hook, b"{}", **headers).status_code == 202
        error(self.post(api_client, hook, b"{}", **headers), 409, "CONFLICT")
        # The same signed request under a fresh delivery id is still the same request.
        replay = {**headers, "HTTP_X_FLOWBUILDER_DELIVERY": "evt_10"}
        error(self.post(api_client, hook, b"{}", **replay), 409, "CONFLICT")
        assert Execution.objects.count() == 1

    def test_unsigned_requests_do_not_burn_delivery_ids(self, api_client, make_hook, signing_credential):
        hook = make_hook(hmac_credential=signing_credential)
        forged = {**self.signed(b"{}", secret=b"forger"), "HTTP_X_FLOWBUILDER_DELIVERY": "evt_x"}
        error(self.post(api_client, hook, b"{}", **forged), 401, "UNAUTHORIZED")
        genuine = {**self.signed(b"{}"), "HTTP_X_FLOWBUILDER_DELIVERY": "evt_x"}
        assert self.post(api_client, hook, b"{}", **genuine).status_code == 202

    def test_a_credential_gone_since_the_save_fails_closed(self, api_client, make_hook, signing_credential):
        from integrations.models import Credential

        hook = make_hook(hmac_credential=signing_credential)
        Credential.objects.filter(pk=signing_credential).delete()
        body = error(self.post(api_client, hook, b"{}", **self.signed(b"{}")), 401, "UNAUTHORIZED")
        assert "signing credential" in body["message"]
        assert not Execution.objects.exists()

    def test_the_summary_says_signed(self, make_hook, signing_credential):
        hook = make_hook(hmac_credential=signing_credential)
        assert client_for(hook.owner).get(f"{URL}/{hook.pk}").json()["trigger"]["signed"] is True

    def test_a_test_secret_provider_stands_in_for_credentials(self, api_client, make_hook, signing_credential):
        previous = webhook.install_secret_provider(lambda workflow, ref: b"provided-secret")
        try:
            hook = make_hook(hmac_credential=signing_credential)
            body = b"{}"
            signed = self.signed(body, secret=b"provided-secret")
            assert self.post(api_client, hook, body, **signed).status_code == 202
        finally:
            webhook.install_secret_provider(previous)

    def test_a_credential_of_another_type_is_refused_at_save(self, auth_client, make_credential):
        bearer = make_credential("http_bearer", {"token": "t" * 20})
        definition = webhook_definition(hmac_credential=str(bearer.pk))
        response = auth_client.post(URL, {"name": "h", "definition": definition}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == "definition.nodes[0].config.hmac_credential"


@pytest.mark.usefixtures("no_dispatch")
class TestChunkedBodies:
    """Bodies without Content-Length (chunked), through Django's real ASGI handler."""

    def call(self, path: str, chunks: list[bytes], method: str = "POST") -> tuple[int, dict, bytes]:
        from flowbuilder.asgi import application

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"content-type", b"text/plain"), (b"transfer-encoding", b"chunked")],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
        sent: list[dict] = []

        async def receive():
            if messages:
                return messages.pop(0)
            await asyncio.Event().wait()  # the client stays connected until the answer (Django then cancels this)

        async def send(message):
            sent.append(message)

        async_to_sync(application)(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], dict(start["headers"]), body

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_chunked_body_over_the_limit_is_413(self, make_hook, settings):
        settings.API_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        hook = make_hook()
        status, _, body = self.call(hook_url(hook), [b"x" * 4000] * 3)
        assert status == 413, body
        assert json.loads(body)["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert not Execution.objects.exists()

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_chunked_body_under_the_limit_runs(self, make_hook, settings):
        settings.API_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        hook = make_hook()
        status, _, body = self.call(hook_url(hook), [b"ab"] * 3)
        assert status == 202, body
        assert Execution.objects.get().input_data["body"] == "ababab"
