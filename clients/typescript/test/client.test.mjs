// The ESM build against a live server: what a user's script sees.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import {
  APIConnectionError,
  AuthenticationError,
  Flowbuilder,
  NotFoundError,
  RateLimitError,
  ValidationError,
  WaitTimeoutError,
} from "../dist/index.js";
import { newClient, simpleDefinition, slowDefinition, stubServer } from "./helpers.mjs";

test("create, execute, wait and read the result", async () => {
  const fb = await newClient();
  const wf = await fb.workflows.create({ name: "doubler", definition: simpleDefinition(), tags: ["sdk"] });
  assert.equal(wf.version, 1);
  const run = await fb.workflows.execute(wf.id, { inputData: { n: 21 } });
  const done = await fb.executions.wait(run.id, { timeoutMs: 60_000 });
  assert.equal(done.status, "completed");
  assert.deepEqual(done.output_data, { result: 42 });
  assert.deepEqual(
    done.steps.map((s) => [s.node_id, s.status]),
    [["start", "completed"], ["double", "completed"], ["out", "completed"]],
  );
});

test("a sync execute answers the finished run", async () => {
  const fb = await newClient();
  const wf = await fb.workflows.create({ name: "doubler", definition: simpleDefinition() });
  const done = await fb.workflows.execute(wf.id, { inputData: { n: 5 }, mode: "sync" });
  assert.equal(done.status, "completed");
  assert.deepEqual(done.output_data, { result: 10 });
});

test("seed 002's JavaScript snippet runs with only the import changed", async () => {
  const owner = await newClient();
  const { key } = await owner.apiKeys.create({ name: "seed" });
  const FlowsyAI = Flowbuilder; // import { Flowbuilder as FlowsyAI } from '@flowbuilder/client';

  const client = new FlowsyAI({ apiKey: key });

  // Create workflow
  const workflow = await client.workflows.create({
    name: "My Workflow",
    workflowData: simpleDefinition(),
  });

  // Execute workflow
  const execution = await client.workflows.execute(workflow.id, {
    inputData: { topic: "AI", n: 3 },
  });

  assert.deepEqual((await client.executions.wait(execution.id)).output_data, { result: 6 });
});

test("stream yields a snapshot, then the updates, and ends with the run", async () => {
  const fb = await newClient();
  const wf = await fb.workflows.create({ name: "slow", definition: slowDefinition(1) });
  const run = await fb.workflows.execute(wf.id, { inputData: {} });
  const events = [];
  for await (const event of fb.executions.stream(run.id)) events.push(event);
  assert.equal(events[0].type, "snapshot");
  assert.equal(events.at(-1).type, "execution_completed");
  assert.deepEqual(events.at(-1).data.output_data, { done: true });
  // An API key goes in the query string (browsers cannot set a socket's headers).
  const { key } = await fb.apiKeys.create({ name: "live" });
  const again = [];
  for await (const event of new Flowbuilder({ apiKey: key }).executions.stream(run.id)) again.push(event);
  assert.deepEqual(again.map((e) => [e.type, e.status]), [["snapshot", "completed"]]);
});

test("a stream of a run you may not see is a NotFoundError", async () => {
  const fb = await newClient();
  await assert.rejects(async () => {
    for await (const _ of fb.executions.stream(randomUUID())) {
      // nothing comes
    }
  }, NotFoundError);
});

test("wait gives up with the run as last seen", async () => {
  const fb = await newClient();
  const wf = await fb.workflows.create({ name: "slow", definition: slowDefinition(30) });
  const run = await fb.workflows.execute(wf.id, { inputData: {} });
  await assert.rejects(fb.executions.wait(run.id, { timeoutMs: 500 }), (error) => {
    assert.ok(error instanceof WaitTimeoutError);
    assert.ok(["queued", "running", "waiting"].includes(error.execution.status));
    return true;
  });
  assert.equal((await fb.executions.cancel(run.id)).status, "cancelled");
});

test("a missing object is a NotFoundError with the envelope", async () => {
  const fb = await newClient();
  await assert.rejects(fb.workflows.get(randomUUID()), (error) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.status, 404);
    assert.equal(error.statusCode, 404);
    assert.equal(error.code, "NOT_FOUND");
    assert.ok(error.requestId);
    return true;
  });
});

test("a bad definition is a ValidationError pointing at the field", async () => {
  const fb = await newClient();
  const definition = simpleDefinition();
  definition.nodes[1].type = "no.such.type";
  await assert.rejects(fb.workflows.create({ name: "broken", definition }), (error) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.status, 400);
    assert.ok(error.details.some((d) => d.field.startsWith("definition.nodes[1]")), JSON.stringify(error.details));
    return true;
  });
});

test("bad credentials are an AuthenticationError", async () => {
  await assert.rejects(new Flowbuilder({ apiKey: "fbk_not_a_real_key" }).auth.me(), AuthenticationError);
});

test("the server's rate limit is a RateLimitError with retryAfter", async () => {
  const fb = await newClient({ maxRetries: 0 });
  await assert.rejects(
    (async () => {
      for (let i = 0; i < 1000; i++) await fb.auth.me(); // the default limit is 100 a minute per user
    })(),
    (error) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.code, "RATE_LIMIT_EXCEEDED");
      assert.ok(error.retryAfter > 0);
      return true;
    },
  );
});

test("a 429 is retried after the time the server asks", async () => {
  const stub = await stubServer([
    [429, { "Retry-After": "1" }, { error: { code: "RATE_LIMIT_EXCEEDED" } }],
    [200, {}, { status: "ok" }],
  ]);
  try {
    const started = Date.now();
    const body = await new Flowbuilder({ baseUrl: stub.url, apiKey: "fbk_x" }).monitoring.health();
    assert.deepEqual(body, { status: "ok" });
    assert.ok(Date.now() - started >= 1000);
    assert.equal(stub.requests.length, 2);
  } finally {
    await stub.close();
  }
});

test("a retried execute carries one Idempotency-Key", async () => {
  const stub = await stubServer([
    [503, { "Retry-After": "0" }, { error: { code: "SERVICE_UNAVAILABLE" } }],
    [202, {}, { id: "x", execution_id: "x", status: "queued" }],
  ]);
  try {
    await new Flowbuilder({ baseUrl: stub.url, apiKey: "fbk_x" }).workflows.execute("w", { inputData: {} });
    const keys = stub.requests.map((r) => r.headers["idempotency-key"]);
    assert.equal(keys.length, 2);
    assert.ok(keys[0]);
    assert.equal(keys[0], keys[1]);
    assert.deepEqual(JSON.parse(stub.requests[0].body), { input_data: {} });
  } finally {
    await stub.close();
  }
});

test("an unreachable server is an APIConnectionError after the retries", async () => {
  const fb = new Flowbuilder({ baseUrl: "http://127.0.0.1:9", apiKey: "fbk_x", maxRetries: 1 });
  await assert.rejects(fb.auth.me(), APIConnectionError);
});

test("list iterates every page", async () => {
  const fb = await newClient();
  const tag = randomUUID().slice(0, 8);
  const made = new Set();
  for (let n = 0; n < 5; n++) made.add((await fb.workflows.create({ name: `${tag}-${n}`, definition: simpleDefinition() })).id);
  const listed = [];
  for await (const w of fb.workflows.list({ search: tag })) listed.push(w.id);
  assert.deepEqual(new Set(listed), made);
  assert.equal(listed.length, 5);
});

test("upload a file and download it", async () => {
  const fb = await newClient();
  const dir = await mkdtemp(join(tmpdir(), "fb-sdk-"));
  const path = join(dir, "report.csv");
  await writeFile(path, "name,total\nada,42\n");
  const uploaded = await fb.files.upload(path, { description: "numbers" });
  assert.deepEqual([uploaded.name, uploaded.size, uploaded.description], ["report.csv", 18, "numbers"]);
  assert.equal(new TextDecoder().decode(await fb.files.download(uploaded.id)), "name,total\nada,42\n");
  const fromBytes = await fb.files.upload(new TextEncoder().encode("a,b\n"), { filename: "b.csv", contentType: "text/csv" });
  assert.equal(fromBytes.name, "b.csv");
});

test("templates are instantiated as new workflows", async () => {
  const fb = await newClient();
  const template = await fb.templates.create({ name: "tpl", definition: simpleDefinition(), description: "x" });
  const made = await fb.templates.instantiate(template.id, { name: "from template" });
  assert.equal(made.name, "from template");
  assert.equal(made.template_id, template.id);
});

test("parse drafts a workflow that validates", async () => {
  const fb = await newClient();
  const draft = await fb.test.parse("Every day at 9am fetch https://example.com/api and email the result to ops@example.com");
  assert.equal((await fb.workflows.validate(draft.definition)).valid, true);
});
