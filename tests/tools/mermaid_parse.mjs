// Parses Mermaid text from stdin with Mermaid's own parser (the `mermaid` npm package) on a
// jsdom window; exits 0 when it parses, 1 with the parser's message when it does not.
// Run with NODE_PATH pointing at a node_modules that holds mermaid and jsdom.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH ?? ".", "noop.js"));
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
Object.defineProperty(globalThis, "navigator", { value: dom.window.navigator, configurable: true });
const mermaidPath = require.resolve("mermaid");
const { default: mermaid } = await import(mermaidPath.replace(/mermaid\.core\.mjs$|mermaid\.js$/, "mermaid.core.mjs"));
const text = readFileSync(0, "utf8");
try {
  const result = await mermaid.parse(text);
  console.log(`parsed: ${result.diagramType}`);
} catch (error) {
  console.error(String(error.message ?? error).split("\n").slice(0, 4).join(" "));
  process.exit(1);
}
