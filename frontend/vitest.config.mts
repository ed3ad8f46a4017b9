import { fileURLToPath } from "node:url";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  test: {
    environment: "happy-dom",
    // Unit and component tests only: the browser end-to-end tests in e2e/ run elsewhere.
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
