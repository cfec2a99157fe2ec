// What each MCP client pays for its own MCP server process: spawn to `initialize` answered,
// one `tools/call`, and the process's peak RSS (VmHWM, read from /proc before it is closed),
// for `shadcache mcp` (forwarding to a running daemon, the call answered from L1) beside the
// servers it replaces: @jpisnice/shadcn-ui-mcp-server 2.0.0 and the official `shadcn mcp`.
// Their calls may fail offline (no network here): it is their start-up and footprint that is
// measured, and each answer's kind is printed.
//
//   node mcp_cost.mjs RUNS SHADCACHE_BIN SOCKET CONFIG
// Prints a line per run and a table row per server: median initialize ms, median call ms,
// median peak RSS MiB.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [runs, bin, socket, config] = [Number(process.argv[2]), ...process.argv.slice(3)];
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const env = { HOME: process.env.HOME ?? "/tmp", PATH: process.env.PATH ?? "/usr/bin:/bin" };

const servers = [
  {
    name: "shadcache mcp",
    command: bin,
    args: ["--socket", socket, "--config", config, "mcp", "--framework", "react"],
    call: { name: "get_component", arguments: { componentName: "button" } },
  },
  {
    name: "@jpisnice/shadcn-ui-mcp-server 2.0.0",
    command: process.execPath,
    args: [here("./node_modules/@jpisnice/shadcn-ui-mcp-server/build/index.js"), "--framework", "react"],
    call: { name: "get_component", arguments: { componentName: "button" } },
  },
  {
    name: "shadcn mcp 4.23.1",
    command: here("./node_modules/.bin/shadcn"),
    args: ["mcp"],
    call: { name: "get_project_registries", arguments: {} },
  },
];

function peakRssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
  return kib / 1024;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

for (const server of servers) {
  const inits = [], calls = [], rss = [];
  for (let run = 0; run < runs; run++) {
    const transport = new StdioClientTransport({
      command: server.command,
      args: server.args,
      env,
      stderr: "ignore",
    });
    const client = new Client({ name: "shadcache-bench", version: "0.0.1" });
    const started = process.hrtime.bigint();
    await client.connect(transport);
    const init = ms(started);
    const callStarted = process.hrtime.bigint();
    let kind;
    try {
      const result = await client.callTool(server.call);
      kind = result.isError ? "tool error" : "answer";
    } catch (e) {
      kind = `failed: ${String(e.message ?? e).slice(0, 60)}`;
    }
    const call = ms(callStarted);
    const peak = peakRssMiB(transport.pid);
    await client.close();
    console.log(`${server.name} run ${run + 1}: initialize ${init.toFixed(1)} ms, ${server.call.name} ${call.toFixed(1)} ms (${kind}), peak RSS ${peak.toFixed(1)} MiB`);
    inits.push(init); calls.push(call); rss.push(peak);
  }
  console.log(`| ${server.name} | ${median(inits).toFixed(1)} | ${median(calls).toFixed(1)} | ${median(rss).toFixed(1)} |`);
}
