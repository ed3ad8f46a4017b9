#!/usr/bin/env node
// Fails when src/lib/api/schema.d.ts is not what `npm run gen:api` makes from ../openapi.json.
// It regenerates into a temporary file and compares bytes: no git needed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const spec = resolve(root, "../openapi.json");
const committed = resolve(root, "src/lib/api/schema.d.ts");
const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve("openapi-typescript/package.json")), "bin/cli.js");

function fail(message) {
  console.error(`check:api: ${message}`);
  process.exit(1);
}

if (!existsSync(spec)) fail(`the API contract ${spec} does not exist`);
if (!existsSync(committed)) {
  fail("src/lib/api/schema.d.ts is missing: run `npm run gen:api` and commit the result");
}

const dir = mkdtempSync(join(tmpdir(), "paloma-check-api-"));
try {
  const fresh = join(dir, "schema.d.ts");
  // The same arguments as `npm run gen:api`, from the same directory, so the output matches.
  const run = spawnSync(process.execPath, [cli, "../openapi.json", "--output", fresh], {
    cwd: root,
    encoding: "utf8",
  });
  if (run.status !== 0 || !existsSync(fresh)) {
    fail(`openapi-typescript failed (exit ${run.status}):\n${run.stderr || run.stdout}`);
  }
  const want = readFileSync(fresh, "utf8");
  const have = readFileSync(committed, "utf8");
  if (want !== have) {
    const a = have.split("\n");
    const b = want.split("\n");
    let line = 0;
    while (line < Math.max(a.length, b.length) && a[line] === b[line]) line += 1;
    fail(
      [
        "src/lib/api/schema.d.ts is out of date with ../openapi.json.",
        `First difference at line ${line + 1}:`,
        `  committed:   ${a[line] ?? "<end of file>"}`,
        `  regenerated: ${b[line] ?? "<end of file>"}`,
        "Run `npm run gen:api` and commit src/lib/api/schema.d.ts.",
      ].join("\n"),
    );
  }
  console.log("check:api: src/lib/api/schema.d.ts matches ../openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
