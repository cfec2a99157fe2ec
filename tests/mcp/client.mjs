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
  list_themes: { properties: [], required: [] },
  get_theme: { properties: ["themeName"], required: ["themeName"] },
  apply_theme: { properties: ["dryRun", "presetId", "query", "tailwindVersion"], required: [] },
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

// Upstream's recorded answer to the call whose header starts with `header`.
function upstream(header) {
  const all = readFileSync(`${env.FIXTURES}/theme-tools-upstream-outputs.txt`, "utf8");
  const rest = all.slice(all.indexOf(header));
  const open = "--- text (exact, between markers) ---\n";
  const start = rest.indexOf(open) + open.length;
  return rest.slice(start, rest.indexOf("\n--- end ---", start));
}

// The theme tools against upstream's recorded answers; the prompts, resources and resource
// templates under upstream's names.
async function themes() {
  const client = await connect(["--framework", "react"]);
  const same = async (name, args, header) => {
    const { result, text } = await call(client, name, args);
    check(text === upstream(header), `${name}(${JSON.stringify(args)}) differs from upstream's answer`);
    return result;
  };
  await same("list_themes", {}, "### tools/call list_themes {}");
  await same("list_themes", { query: "NIGHT" }, '### tools/call list_themes {"query":"NIGHT"}');
  await same("get_theme", { themeName: "modern-minimal" }, '### tools/call get_theme {"themeName":"modern-minimal"}');
  await same("get_theme", { themeName: "cosmic night" }, '### tools/call get_theme {"themeName":"cosmic night"}');
  const missing = await same("get_theme", { themeName: "no-such-theme" }, '### tools/call get_theme {"themeName":"no-such-theme"}');
  check(missing.isError === true, "get_theme(no-such-theme) is not an error");
  await same(
    "apply_theme",
    { presetId: "modern-minimal", dryRun: true },
    '### tools/call apply_theme {"presetId":"modern-minimal","dryRun":true}',
  );
  await same(
    "apply_theme",
    { query: "cyber", dryRun: true, tailwindVersion: "4" },
    '### tools/call apply_theme {"query":"cyber","dryRun":true,"tailwindVersion":"4"}',
  );
  const none = await same("apply_theme", {}, "### tools/call apply_theme {}   ");
  check(none.isError === true, "apply_theme({}) is not an error");

  const { prompts } = await client.listPrompts();
  const names = prompts.map((p) => p.name);
  const want = ["build-shadcn-page", "create-dashboard", "create-auth-flow", "optimize-shadcn-component", "create-data-table"];
  check(JSON.stringify(names) === JSON.stringify(want), `prompts: ${names}`);
  const args = Object.fromEntries(prompts.map((p) => [p.name, p.arguments.map((a) => `${a.name}${a.required ? "!" : ""}`)]));
  check(args["build-shadcn-page"].join() === "pageType!,features,layout,style", `build-shadcn-page: ${args["build-shadcn-page"]}`);
  check(args["create-data-table"].join() === "dataType!,features,actions", `create-data-table: ${args["create-data-table"]}`);
  const page = await client.getPrompt({ name: "create-auth-flow", arguments: { authType: "login" } });
  const pageText = page.messages[0].content.text;
  check(pageText.includes("login flow") && pageText.includes("get_block"), `create-auth-flow: ${pageText}`);

  const { resources } = await client.listResources();
  const uris = resources.map((r) => r.uri);
  check(JSON.stringify(uris) === JSON.stringify(["resource:get_components", "resource:get_theme_metadata"]), `resources: ${uris}`);
  const { resourceTemplates } = await client.listResourceTemplates();
  const templates = resourceTemplates.map((t) => t.uriTemplate);
  check(
    JSON.stringify(templates) ===
      JSON.stringify([
        "resource-template:get_install_script_for_component?packageManager={packageManager}&component={component}",
        "resource-template:get_installation_guide?buildTool={buildTool}&packageManager={packageManager}",
      ]),
    `templates: ${templates}`,
  );
  const components = JSON.parse((await client.readResource({ uri: "resource:get_components" })).contents[0].text);
  check(components.length === 61 && components.includes("button"), `get_components: ${components.length}`);
  const metadata = JSON.parse((await client.readResource({ uri: "resource:get_theme_metadata" })).contents[0].text);
  check(metadata.total_themes === 42 && metadata.themes["modern-minimal"].name === "Modern Minimal", "get_theme_metadata");
  const script = (
    await client.readResource({
      uri: "resource-template:get_install_script_for_component?packageManager=npm&component=button",
    })
  ).contents[0].text;
  check(script === "npx shadcn@latest add button --yes --overwrite", `install script: ${script}`);
  const guide = (
    await client.readResource({ uri: "resource-template:get_installation_guide?buildTool=vite&packageManager=pnpm" })
  ).contents[0].text;
  check(guide.includes("pnpm dlx shadcn@latest init"), `installation guide: ${guide}`);
  let refused = false;
  try {
    await client.readResource({ uri: "resource:nope" });
  } catch (e) {
    refused = String(e).includes("Resource not found: resource:nope");
  }
  check(refused, "an unknown resource is not refused");
  await client.close();
  console.log(JSON.stringify({ themes: true, prompts: names.length, resources: uris.length }));
}

const modes = { tools, concurrent, nodaemon, startdaemon, frameworks, themes };
const run = modes[env.MODE];
if (!run) fail(`MODE must be one of ${Object.keys(modes)}`);
await run();
