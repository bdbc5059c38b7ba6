import { defineConfig } from "tsup";

// One source, two builds: dist/index.js (ESM) and dist/index.cjs (CommonJS), each with its types.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  target: "es2022",
  platform: "neutral",
  external: ["ws", "node:fs/promises", "node:path"],
  clean: true,
  sourcemap: true,
});
