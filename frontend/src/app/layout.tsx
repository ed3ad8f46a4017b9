import type { Metadata, Viewport } from "next";
import { connection } from "next/server";

import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Paloma", template: "%s · Paloma" },
  description: "Send mass email campaigns and follow their delivery live.",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: "#1d4ed8",
};

export default async function RootLayout({ children }: Readonly<{ children: React.ReactNode }>) {
  // Every page is rendered for its request, never ahead of time: its scripts carry the nonce of
  // that response's Content-Security-Policy (src/proxy.ts), and the pages depend on who is signed
  // in anyway.
  await connection();
  return (
    <html lang="en">
      <body className="min-h-dvh font-sans">{children}</body>
    </html>
  );
}
