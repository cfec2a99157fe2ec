// Drives `shadcache mcp` with the official TypeScript MCP SDK client, as an editor would.
// Run by tests/it/mcp.rs, which starts a daemon on a fake GitHub and passes, in the
// environment: SHADCACHE_BIN, SHADCACHE_SOCKET, SHADCACHE_CONFIG, FIXTURE_RAW (the recorded
// react registry folder), FIXTURES (the recorded GitHub content) and MODE (a function below). Prints one JSON line of
// findings; exits non-zero, saying why, on the first mismatch.
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const env = process.env;
const raw = (path) => readFileSync(`${env.FIXTURE_RAW}/${path}`, "utf8");

function fail(message) {
  console.error(`mcp client: ${message}`);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

async function connect(extraArgs = []) {
  const transport = new StdioClientTransport({
    command: env.SHADCACHE_BIN,
    args: ["--socket", env.SHADCACHE_SOCKET, "--config", env.SHADCACHE_CONFIG, "mcp", ...extraArgs],
    env: { HOME: env.HOME ?? "/tmp", PATH: env.PATH ?? "/usr/bin:/bin" },
    stderr: "inherit",
  });
  const client = new Client({ name: "shadcache-it", version: "0.0.1" });
  await client.connect(transport);
  return client;
}

async function call(client, name, args) {
  const started = process.hrtime.bigint();
  const result = await client.callTool({ name, arguments: args });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  check(Array.isArray(result.content) && result.content[0]?.type === "text", `${name}: no text content`);
  return { result, text: result.content[0].text, ms };
}

// What the upstream server (@jpisnice/shadcn-ui-mcp-server 2.0.0) declares: tool names with
// their argument names and which are required.
const UPSTREAM = {
  get_component: { properties: ["componentName"], required: ["componentName"] },
  get_component_demo: { properties: ["componentName"], required: ["componentName"] },
  list_components: { properties: [], required: [] },
  get_component_metadata: { properties: ["componentName"], required: ["componentName"] },
  get_directory_structure: { properties: ["branch", "owner", "path", "repo"], required: [] },
  get_block: { properties: ["blockName", "includeComponents"], required: ["blockName"] },
  list_blocks: { properties: ["category"], required: [] },
};

async function tools() {
  const client = await connect(["--framework", "react", "--github-api-key", "ignored-token"]);
  const { tools } = await client.listTools();
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  for (const [name, want] of Object.entries(UPSTREAM)) {
    const tool = byName[name];
    check(tool, `tool ${name} is missing`);
    const props = Object.keys(tool.inputSchema.properties ?? {}).sort();
    check(JSON.stringify(props) === JSON.stringify(want.properties), `${name}: arguments ${props}`);
    const required = (tool.inputSchema.required ?? []).slice().sort();
    check(JSON.stringify(required) === JSON.stringify(want.required), `${name}: required ${required}`);
  }
  check(byName.get_cache_stats, "get_cache_stats is missing");
  check(tools.length === Object.keys(UPSTREAM).length + 1, `unexpected tools: ${tools.map((t) => t.name)}`);

  const findings = {};
  const button = await call(client, "get_component", { componentName: "button" });
  check(button.text === raw("ui/button.tsx"), "get_component(button) differs from the fixture");
  findings.l3_miss_ms = button.ms;
  const again = await call(client, "get_component", { componentName: "button" });
  check(again.text === button.text, "the second answer differs");
  findings.l1_hit_ms = again.ms;

  const demo = await call(client, "get_component_demo", { componentName: "card" });
  check(demo.text === raw("examples/card-demo.tsx"), "get_component_demo(card) differs from the fixture");

  const list = JSON.parse((await call(client, "list_components", {})).text);
  check(list.total === 61 && list.components.includes("button"), `list_components: ${list.total}`);

  const meta = JSON.parse((await call(client, "get_component_metadata", { componentName: "alert-dialog" })).text);
  check(meta.name === "alert-dialog" && meta.dependencies[0] === "radix-ui", "metadata(alert-dialog)");
  check(meta.registryDependencies[0] === "button", "metadata(alert-dialog) registryDependencies");

  const tree = JSON.parse((await call(client, "get_directory_structure", {})).text);
  check(tree.type === "directory" && tree.children.ui?.children["button.tsx"]?.type === "file", "structure");

  const block = JSON.parse((await call(client, "get_block", { blockName: "login-01" })).text);
  check(block.files["page.tsx"].content === raw("blocks/login-01/page.tsx"), "get_block(login-01) page.tsx");
  check(block.componentsUsed.includes("button"), `componentsUsed: ${block.componentsUsed}`);
  check(block.components?.button === raw("ui/button.tsx"), "get_block includes the button source");
  const bare = JSON.parse((await call(client, "get_block", { blockName: "login-01", includeComponents: false })).text);
  check(bare.components === undefined, "includeComponents: false still included them");

  const login = JSON.parse((await call(client, "list_blocks", { category: "login" })).text);
  check(login.total >= 1 && login.blocks.some((b) => b.name === "login-01"), "list_blocks(login)");
  const all = JSON.parse((await call(client, "list_blocks", {})).text);
  check(all.totalBlocks >= 4 && all.categories.login, "list_blocks()");

  const stats = JSON.parse((await call(client, "get_cache_stats", {})).text);
  check(stats.router && Array.isArray(stats.tiers), "get_cache_stats");

  const typo = await call(client, "get_component", { componentName: "buton" });
  check(typo.result.isError === true, "a bad name is not a tool error");
  check(typo.text.includes("did you mean `button`"), `a bad name says: ${typo.text}`);
  const missingArg = await client.callTool({ name: "get_component", arguments: {} });
  check(missingArg.isError === true, "a missing argument is not a tool error");

  await client.close();
  console.log(JSON.stringify(findings));
}

// Three `shadcache mcp` processes ask for the same uncached component at once.
async function concurrent() {
  const clients = await Promise.all([connect(), connect(), connect()]);
  const answers = await Promise.all(
    clients.map((c) => call(c, "get_component", { componentName: "card" })),
  );
  for (const a of answers) check(a.text === raw("ui/card.tsx"), "get_component(card) differs");
  await Promise.all(clients.map((c) => c.close()));
  console.log(JSON.stringify({ answers: answers.length }));
}

// No daemon on the socket: the tool answers with how to start one.
async function nodaemon() {
  const client = await connect();
  const answer = await call(client, "get_component", { componentName: "button" });
  check(answer.result.isError === true, "no daemon, yet not an error");
  check(answer.text.includes("shadcache daemon"), `no daemon says: ${answer.text}`);
  await client.close();
  console.log(JSON.stringify({ said: answer.text }));
}

// No daemon, but `--start-daemon`: the first call starts one and is answered by it.
async function startdaemon() {
  const client = await connect(["--start-daemon"]);
  const answer = await call(client, "get_component", { componentName: "button" });
  check(!answer.result.isError, `started no daemon: ${answer.text}`);
  check(answer.text === raw("ui/button.tsx"), "get_component(button) differs from the fixture");
  await client.close();
  console.log(JSON.stringify({ started: true }));
}

// Vue and React Native through the same tools, each server launched with its framework.
// FIXTURES is the recorded GitHub content's root.
async function frameworks() {
  const file = (path) => readFileSync(`${env.FIXTURES}/raw.githubusercontent.com/${path}`, "utf8");
  const vue = await connect(["--framework", "vue"]);
  const vueRoot = "unovue/shadcn-vue/dev/apps/v4";
  const card = await call(vue, "get_component", { componentName: "card" });
  check(card.text === file(`${vueRoot}/registry/new-york-v4/ui/card/Card.vue`), "vue get_component(card)");
  const vueDemo = await call(vue, "get_component_demo", { componentName: "tabs" });
  check(vueDemo.text === file(`${vueRoot}/components/demo/TabsDemo.vue`), "vue get_component_demo(tabs)");
  const vueList = JSON.parse((await call(vue, "list_components", {})).text);
  check(vueList.total === 60 && vueList.components.includes("input-otp"), `vue list_components: ${vueList.total}`);
  const vueMeta = JSON.parse((await call(vue, "get_component_metadata", { componentName: "button" })).text);
  check(vueMeta.name === "button", "vue get_component_metadata(button)");
  const vueBlock = JSON.parse((await call(vue, "get_block", { blockName: "login-01" })).text);
  check(
    vueBlock.files["page.vue"].content === file(`${vueRoot}/registry/new-york-v4/blocks/login-01/page.vue`),
    "vue get_block(login-01)",
  );
  const chart = await call(vue, "get_component", { componentName: "chart" });
  check(chart.result.isError === true && chart.text.includes("no single source file"), `vue chart: ${chart.text}`);
  await vue.close();

  const native = await connect(["--framework", "react-native"]);
  const src = "founded-labs/react-native-reusables/main/packages/registry/src";
  const input = await call(native, "get_component", { componentName: "input" });
  check(input.text === file(`${src}/nativewind/components/ui/input.tsx`), "react-native get_component(input)");
  const select = await call(native, "get_component_demo", { componentName: "select" });
  for (const variant of ["index.ts", "scrollable-select.tsx", "select.tsx"]) {
    const header = `// packages/registry/src/examples/select/${variant}\n`;
    check(select.text.includes(header + file(`${src}/examples/select/${variant}`)), `react-native select demo: ${variant}`);
  }
  const clerk = JSON.parse((await call(native, "get_block", { blockName: "clerk" })).text);
  check(clerk.totalFiles === 7, `react-native get_block(clerk): ${clerk.totalFiles}`);
  const signIn = JSON.parse((await call(native, "get_block", { blockName: "sign-in-form" })).text);
  check(signIn.type === "simple" && signIn.totalFiles === 1, "react-native get_block(sign-in-form)");
  const nativeList = JSON.parse((await call(native, "list_components", {})).text);
  check(nativeList.total === 32, `react-native list_components: ${nativeList.total}`);
  const blocks = JSON.parse((await call(native, "list_blocks", {})).text);
  check(blocks.totalBlocks === 8, `react-native list_blocks: ${blocks.totalBlocks}`);
  await native.close();
  console.log(JSON.stringify({ frameworks: ["vue", "react-native"] }));
}

const modes = { tools, concurrent, nodaemon, startdaemon, frameworks };
const run = modes[env.MODE];
if (!run) fail(`MODE must be one of ${Object.keys(modes)}`);
await run();
