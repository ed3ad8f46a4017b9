// Serves the production build the way the Docker image does: Next.js's standalone server, with
// the static assets and public/ copied next to it (`next build` leaves them out of
// .next/standalone). Honours PORT (default 3000), HOSTNAME (default 127.0.0.1) and
// PALOMA_API_URL (read at run time by the /api proxy).
import { cpSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const standalone = path.join(root, ".next", "standalone");
if (!existsSync(path.join(standalone, "server.js"))) {
  console.error("serve: no standalone build found; run `npm run build` first");
  process.exit(1);
}
cpSync(path.join(root, ".next", "static"), path.join(standalone, ".next", "static"), {
  recursive: true,
});
cpSync(path.join(root, "public"), path.join(standalone, "public"), { recursive: true });
process.env.HOSTNAME ??= "127.0.0.1";
process.env.NEXT_TELEMETRY_DISABLED ??= "1";
await import(path.join(standalone, "server.js"));
