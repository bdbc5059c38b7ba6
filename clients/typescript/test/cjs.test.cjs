// The CommonJS build: `require("@flowbuilder/client")` works as `import` does.
const assert = require("node:assert/strict");
const { test } = require("node:test");

const { Flowbuilder, NotFoundError, APIError } = require("../dist/index.cjs");

test("the CommonJS build talks to the server", async () => {
  assert.equal((await new Flowbuilder({ apiKey: "" }).monitoring.health()).status, "ok");
  const fb = new Flowbuilder({ apiKey: "fbk_not_a_real_key" });
  await assert.rejects(fb.workflows.list().next(), (error) => error instanceof APIError && error.status === 401);
  assert.ok(new NotFoundError("x", { status: 404 }) instanceof APIError);
});
