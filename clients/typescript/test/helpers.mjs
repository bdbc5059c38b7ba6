// Shared by the tests: a fresh account on the live server (FLOWBUILDER_URL), definitions, a stub server.
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";

import { Flowbuilder } from "../dist/index.js";

if (!process.env.FLOWBUILDER_URL) {
  throw new Error("Set FLOWBUILDER_URL to a running Flowbuilder server (e.g. `make run`'s)");
}

export const PASSWORD = "correct-horse-battery-9";

/** A client logged in as a user made for the test. */
export async function newClient(options = {}) {
  const fb = new Flowbuilder({ maxRetries: 0, ...options });
  const email = `sdk-ts-${randomUUID().slice(0, 12)}@example.com`;
  await fb.auth.register({ email, password: PASSWORD, firstName: "Sdk" });
  await fb.auth.login(email, PASSWORD);
  return Object.assign(new Flowbuilder({ ...options, token: fb.token }), { email });
}

/** manual trigger → transform (doubles input.n) → output. */
export function simpleDefinition() {
  return {
    nodes: [
      { id: "start", type: "trigger.manual", name: "Start", config: {} },
      { id: "double", type: "transform", name: "Double", config: { value: "{{ input.n * 2 }}" } },
      { id: "out", type: "output", name: "Out", config: { value: { result: "{{ steps.double.output }}" } } },
    ],
    edges: [
      { id: "e1", source: "start", target: "double" },
      { id: "e2", source: "double", target: "out" },
    ],
  };
}

/** manual trigger → delay → output: a run still going when a client looks. */
export function slowDefinition(seconds = 1) {
  return {
    nodes: [
      { id: "start", type: "trigger.manual", name: "Start", config: {} },
      { id: "pause", type: "delay", name: "Pause", config: { seconds } },
      { id: "out", type: "output", name: "Out", config: { value: { done: true } } },
    ],
    edges: [
      { id: "e1", source: "start", target: "pause" },
      { id: "e2", source: "pause", target: "out" },
    ],
  };
}

/** A real HTTP server on loopback answering scripted responses and recording what it was sent. */
export async function stubServer(answers) {
  const requests = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const [status, headers, payload] = answers.shift() ?? [500, {}, { error: {} }];
      res.writeHead(status, { "Content-Type": "application/json", ...headers });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
