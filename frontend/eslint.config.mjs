import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([
    ".next/**",
    "out/**",
    "build/**",
    "coverage/**",
    "next-env.d.ts",
    // Generated from ../openapi.json by `npm run gen:api`.
    "src/lib/api/schema.d.ts",
    // The browser end-to-end tests have their own tooling.
    "e2e/**",
  ]),
]);
