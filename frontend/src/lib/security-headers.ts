/**
 * The dashboard's security headers. Every response gets a Content-Security-Policy: pages (and
 * the /api proxy's answers) from src/proxy.ts, with a nonce of their own; the static assets,
 * which that proxy does not see, from next.config.ts.
 */

export interface PolicyOptions {
  /** This response's nonce: the only way a script may run. */
  nonce: string;
  /** `next dev`: React's development build needs eval to rebuild server error stacks. */
  dev: boolean;
  /** The page was requested over HTTPS: any http: URL it uses is upgraded. */
  https: boolean;
}

/**
 * The policy of a page.
 *
 * - Scripts: a nonce per response plus 'strict-dynamic', not 'unsafe-inline'. Next.js writes
 *   inline scripts into every page (the React Server Components payload); it puts the nonce it
 *   finds in the request's policy on them and on its own script tags, and what those load
 *   (chunks, the chart's uPlot) is trusted through 'strict-dynamic'. A nonce exists only per
 *   request, so no page is prerendered (see app/layout.tsx); they all depend on the signed-in key
 *   anyway.
 * - Styles: 'unsafe-inline'. The server-rendered HTML has style attributes (the progress bars'
 *   widths), which a nonce cannot cover, and the email preview's sandboxed iframe (srcdoc)
 *   inherits this policy: a campaign's HTML is styled inline. Without scripts, inline CSS cannot
 *   run code.
 * - Images: also https:, for the same preview: an email's images are usually on a web server.
 * - No other origin: the dashboard loads nothing from elsewhere and talks only to itself.
 */
export function contentSecurityPolicy({ nonce, dev, https }: PolicyOptions): string {
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  if (https) directives.push("upgrade-insecure-requests");
  return directives.join("; ");
}

/** For responses that are not pages (static assets): nothing may run, nothing may frame it. */
export const ASSET_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** Headers that do not vary by response, set on every one (next.config.ts). */
export const SECURITY_HEADERS: readonly { key: string; value: string }[] = [
  // For browsers without frame-ancestors.
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  // Full URLs within the dashboard, none to other sites (URLs hold campaign ids).
  { key: "Referrer-Policy", value: "same-origin" },
];

/** A fresh nonce: 128 random bits, base64. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}
