import type { NextConfig } from "next";

import { ASSET_POLICY, SECURITY_HEADERS } from "./src/lib/security-headers";

const nextConfig: NextConfig = {
  // A self-contained server (`.next/standalone/server.js`) for the Docker image.
  output: "standalone",
  poweredByHeader: false,
  reactStrictMode: true,
  async headers() {
    return [
      { source: "/:path*", headers: [...SECURITY_HEADERS] },
      // Pages get their Content-Security-Policy, with a nonce, from src/proxy.ts, which does not
      // run for these.
      {
        source: "/_next/static/:path*",
        headers: [{ key: "Content-Security-Policy", value: ASSET_POLICY }],
      },
      {
        source: "/_next/image",
        headers: [{ key: "Content-Security-Policy", value: ASSET_POLICY }],
      },
    ];
  },
};

export default nextConfig;
