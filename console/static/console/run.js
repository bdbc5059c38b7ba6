// The console's run page: the timeline and node details from the page's JSON, then live updates
// over the run's websocket (the staff session authenticates it) until the run ends. No reload.
(function () {
  "use strict";
  const root = document.getElementById("fb-run");
  const source = document.getElementById("fb-run-data");
  if (!root || !source) return;
  const FINISHED = ["completed", "failed", "cancelled", "timed_out"];
  let run = JSON.parse(source.textContent);
  const statusAtLoad = run.status;
  let selected = null;
  let refreshTimer = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function ms(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function formatTimes() {
    for (const t of root.querySelectorAll("time.fb-time")) t.textContent = ms(t.getAttribute("datetime"));
  }

  function setNodeStatus(nodeId, status) {
    for (const g of root.querySelectorAll(`.fb-graph [data-node-id="${CSS.escape(nodeId)}"]`)) {
      g.setAttribute("data-status", status);
    }
  }

  function setRunStatus(status) {
    const badge = document.getElementById("fb-run-status");
    badge.textContent = status;
    badge.setAttribute("data-status", status);
    root.setAttribute("data-status", status);
    if (FINISHED.includes(status)) {
      const cancel = root.querySelector('form[data-operation="cancel"]');
      if (cancel) cancel.remove(); // a run that ended cannot be cancelled
    }
  }

  function renderTimeline() {
    const body = document.querySelector("#fb-timeline tbody");
    body.replaceChildren();
    const times = [];
    for (const step of run.steps) {
      for (const a of step.attempts) {
        for (const t of [a.queued_at, a.started_at, a.finished_at]) if (t) times.push(Date.parse(t));
      }
    }
    if (run.started_at) times.push(Date.parse(run.started_at));
    const end = Math.max(...times, Date.parse(run.completed_at || run.now));
    const start = Math.min(...times, end);
    const span = Math.max(end - start, 1);
    const pct = (t) => `${(((Date.parse(t) - start) / span) * 100).toFixed(3)}%`;
    const width = (a, b) => `${Math.max(((Date.parse(b) - Date.parse(a)) / span) * 100, 0.3).toFixed(3)}%`;
    for (const step of run.steps) {
      const track = el("div", { class: "fb-track" });
      for (const a of step.attempts) {
        const finish = a.finished_at || run.now;
        if (a.queued_at && a.started_at) {
          track.append(el("div", { class: "fb-queued", style: `left:${pct(a.queued_at)};width:${width(a.queued_at, a.started_at)}`, title: `queued ${ms(a.queued_at)}` }));
        }
        track.append(
          el("div", {
            class: "fb-bar",
            "data-node-id": step.node_id,
            "data-attempt": a.attempt,
            "data-status": a.status,
            style: `left:${pct(a.started_at)};width:${width(a.started_at, finish)}`,
            title: `${step.name}, attempt ${a.attempt} (${a.outcome}): started ${ms(a.started_at)}, ${a.finished_at ? "finished " + ms(a.finished_at) : "still going"}`,
          }),
        );
      }
      const label = `${step.name}${step.attempts.length > 1 ? ` ×${step.attempts.length}` : ""}`;
      body.append(
        el("tr", { "data-node-id": step.node_id, "data-status": step.status },
          el("td", { class: "fb-tl-name", text: label }),
          el("td", {}, track)),
      );
    }
  }

  function block(title, text, cls) {
    if (!text) return null;
    return el("div", {}, el("h4", { text: title }), el("pre", { class: cls || "", text }));
  }

  function renderPanel() {
    const panel = document.getElementById("fb-node-panel");
    const step = run.steps.find((s) => s.node_id === selected);
    if (!step) {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    panel.setAttribute("data-node-id", step.node_id);
    panel.setAttribute("data-status", step.status);
    const logs = el("ul", {});
    for (const line of step.logs) {
      logs.append(el("li", { class: line.level === "error" ? "fb-log-error" : "", text: `${ms(line.at)} ${line.level}: ${line.message}` }));
    }
    const children = el("ul", {});
    for (const child of step.children) {
      children.append(el("li", {}, el("a", { href: child.url, text: `run ${child.id.slice(0, 8)}${child.index !== null ? ` (item ${child.index})` : ""}: ${child.status}` })));
    }
    const parts = [
      el("h3", { text: `${step.name} (${step.type})` }),
      el("p", { text: `Status ${step.status}, attempt ${step.attempt}; queued ${ms(step.queued_at)}, started ${ms(step.started_at)}, finished ${ms(step.completed_at)}` }),
      block("Error", step.error, "fb-error"),
      block("Input", step.input),
      block("Configuration (secrets redacted)", step.config),
      block("Output", step.output),
      step.children.length ? el("div", {}, el("h4", { text: "Child runs" }), children) : null,
      step.logs.length ? el("div", {}, el("h4", { text: "Log lines" }), logs) : null,
    ];
    panel.replaceChildren(...parts.filter(Boolean));
  }

  function render() {
    for (const step of run.steps) setNodeStatus(step.node_id, step.status);
    setRunStatus(run.status);
    // The admin's own fields under this panel are drawn by the server, as of when the page opened.
    document.getElementById("fb-stale").hidden = run.status === statusAtLoad;
    const ended = document.getElementById("fb-run-ended");
    ended.setAttribute("datetime", run.completed_at || "");
    formatTimes();
    renderTimeline();
    renderPanel();
  }

  async function refresh() {
    refreshTimer = null;
    const response = await fetch(root.dataset.liveUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) {
      run = await response.json();
      render();
    }
  }

  function scheduleRefresh() {
    if (refreshTimer === null) refreshTimer = setTimeout(refresh, 250);
  }

  function connect() {
    const state = document.getElementById("fb-live-state");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/executions/${run.id}/`);
    socket.addEventListener("open", () => (state.textContent = "live"));
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "snapshot") {
        for (const step of message.steps || []) setNodeStatus(step.node_id, step.status);
        setRunStatus(message.status);
      } else if (message.type === "step_update" && message.data) {
        setNodeStatus(message.data.node_id, message.data.status);
      } else if (message.status && message.type !== "log") {
        setRunStatus(message.status);
      }
      if (message.type !== "ping") scheduleRefresh();
    });
    socket.addEventListener("close", () => {
      state.textContent = FINISHED.includes(root.getAttribute("data-status")) ? "" : "disconnected";
      scheduleRefresh();
    });
  }

  root.addEventListener("click", (event) => {
    const node = event.target.closest(".fb-graph [data-node-id]");
    if (!node) return;
    selected = node.getAttribute("data-node-id");
    for (const g of root.querySelectorAll(".fb-graph .fb-node")) g.classList.toggle("fb-selected", g === node);
    renderPanel();
  });
  root.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.closest(".fb-graph [data-node-id]")) event.target.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  });

  render();
  if (!FINISHED.includes(run.status)) connect();
})();
