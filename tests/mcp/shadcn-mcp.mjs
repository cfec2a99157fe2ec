// Drives the official `shadcn mcp` (the npm package pinned in package.json) with the official
// TypeScript MCP SDK client, its registry pointed at shadcache through REGISTRY_URL, as an
// editor configured by README's .mcp.json would. Run by tests/it/registry.rs, which passes in
// the environment: REGISTRY_URL, PROJECT (a folder with a components.json) and MODE
// (`online` or `offline`: the same calls must answer the same either way). Prints one JSON
// line of findings; exits non-zero, saying why, on the first mismatch.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { fileURLToPath } from "node:url";

const env = process.env;
const shadcn = fileURLToPath(new URL("./node_modules/.bin/shadcn", import.meta.url));

function fail(message) {
  console.error(`shadcn mcp client: ${message}`);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

const transport = new StdioClientTransport({
  command: shadcn,
  args: ["mcp"],
  cwd: env.PROJECT,
  env: {
    HOME: env.HOME ?? "/tmp",
    PATH: env.PATH ?? "/usr/bin:/bin",
    REGISTRY_URL: env.REGISTRY_URL,
    NO_PROXY: "127.0.0.1,localhost",
  },
  stderr: "inherit",
});
const client = new Client({ name: "shadcache-it", version: "0.0.1" });
await client.connect(transport);

async function call(name, args) {
  const started = process.hrtime.bigint();
  const result = await client.callTool({ name, arguments: args });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const text = (result.content ?? []).map((c) => c.text ?? "").join("\n");
  return { isError: result.isError === true, text, ms };
}

const findings = {};

const listed = await call("list_items_in_registries", { registries: ["@shadcn"] });
check(!listed.isError && listed.text.includes("Found 471 items"), `list: ${listed.text.slice(0, 300)}`);
const ui = await call("list_items_in_registries", {
  registries: ["@shadcn"],
  types: ["registry:ui"],
  limit: 5,
  offset: 10,
});
check(!ui.isError && ui.text.includes("Found 61 items"), `list ui: ${ui.text.slice(0, 300)}`);

const searched = await call("search_items_in_registries", { registries: ["@shadcn"], query: "butt" });
check(!searched.isError && searched.text.includes("@shadcn/button-group"), `search: ${searched.text.slice(0, 300)}`);

const viewed = await call("view_items_in_registries", { items: ["@shadcn/button", "@shadcn/card"] });
check(!viewed.isError, `view: ${viewed.text.slice(0, 300)}`);
check(viewed.text.includes("## button") && viewed.text.includes("## card") && viewed.text.includes("radix-ui"), `view content: ${viewed.text.slice(0, 300)}`);

const examples = await call("get_item_examples_from_registries", { registries: ["@shadcn"], query: "button-demo" });
check(!examples.isError && examples.text.includes("button-demo"), `examples: ${examples.text.slice(0, 300)}`);
findings.examples_ms = examples.ms;

const missing = await call("view_items_in_registries", { items: ["@shadcn/no-such-widget"] });
check(missing.isError, `no-such-widget answered: ${missing.text.slice(0, 300)}`);
findings.missing = missing.text.slice(0, 200);

// An item nobody fetched: upstream answers 404 (not in the recorded set); offline, a 503.
const never = await call("view_items_in_registries", { items: ["@shadcn/calendar-demo"] });
check(never.isError, `calendar-demo answered: ${never.text.slice(0, 300)}`);
findings.never = never.text.slice(0, 200);
findings.never_ms = never.ms;

findings.view_ms = viewed.ms;
console.log(JSON.stringify(findings));
await client.close();
