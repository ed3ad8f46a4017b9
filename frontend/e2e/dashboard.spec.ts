import { expect, test, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// End to end against the real stack that ../scripts/test-dashboard starts: paloma-api,
// paloma-worker, MariaDB, Redis and an SMTP server that rejects every address whose local part
// starts with "bounce" (550 5.1.1 ... mailbox unavailable).

const SHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
mkdirSync(SHOTS, { recursive: true });
const RUN = Date.now().toString(36);
const ID = /\/campaigns\/([0-9a-f-]{36})$/;

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Waits on the detail page until every recipient has an outcome. */
async function waitUntilDone(page: Page) {
  const bar = page.getByRole("progressbar", { name: "Delivery progress" });
  await expect(bar).toHaveAttribute("aria-valuenow", "100", { timeout: 90_000 });
}

/** Picks a status in the recipients filter (the radios are visually hidden behind labels). */
async function filterBy(page: Page, status: "All" | "Pending" | "Sent" | "Failed") {
  const group = page.getByRole("group", { name: "Filter by status" });
  await group.locator("label", { hasText: status }).click();
  await expect(group.getByRole("radio", { name: status })).toBeChecked();
  await expect(page.getByRole("table", { name: new RegExp(`^${status} recipients`) })).toBeVisible();
}

async function fillSubjectAndBody(page: Page, subject: string) {
  await page.getByLabel("Subject").fill(subject);
  await page
    .getByLabel("HTML body")
    .fill(`<h1 style="color:#0f766e">${subject}</h1><p>Hello from the end-to-end test.</p>`);
  // The preview renders in a sandboxed iframe, never in the page itself.
  const preview = page.frameLocator('iframe[title="Email preview"]');
  await expect(preview.getByRole("heading", { name: subject })).toBeVisible();
  await expect(page.locator("iframe[title='Email preview']")).toHaveAttribute("sandbox", "");
}

test("a pasted list: checked before sending, delivered, failures shown with the SMTP reply", async ({
  page,
}) => {
  const subject = `Pasted list ${RUN}`;
  const lines = [
    ...Array.from({ length: 40 }, (_, i) => `reader${i}.${RUN}@example.org`),
    `bounce1.${RUN}@example.org`,
    `Bea Bounce <bounce2.${RUN}@example.org>`,
    "not-an-address",
    `READER0.${RUN}@EXAMPLE.ORG`,
  ];

  await page.goto("/campaigns/new");
  await fillSubjectAndBody(page, subject);
  await page.getByLabel("Recipients", { exact: true }).fill(lines.join("\n"));

  const check = page.getByRole("list", { name: "Recipient check" });
  await expect(check).toContainText("42 valid");
  await expect(check).toContainText("1 invalid");
  await expect(check).toContainText("1 duplicate");
  await expect(page.getByText("not-an-address", { exact: true })).toBeVisible();
  await shot(page, "new-campaign-form");

  await page.getByRole("button", { name: "Send campaign" }).click();
  await expect(page).toHaveURL(ID, { timeout: 30_000 });
  await expect(page.getByRole("heading", { name: subject })).toBeVisible();
  await waitUntilDone(page);
  await expect(page.getByText("Completed").first()).toBeVisible();
  // Watched live to the end: the chart and the table show the final outcomes, not the last
  // ones polled while sending.
  await expect(page.getByRole("figure")).toContainText("40 sent, 2 failed");

  await filterBy(page, "Failed");
  const rows = page.getByRole("row").filter({ hasText: `.${RUN}@example.org` });
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: `bounce1.${RUN}@example.org` })).toContainText("550");
  await expect(rows.filter({ hasText: `bounce2.${RUN}@example.org` })).toContainText(
    "mailbox unavailable",
  );
  await shot(page, "campaign-detail-failed-recipients");
});

test("an uploaded CSV: names, quotes and a missing-email row, delivered", async ({ page }) => {
  const subject = `CSV upload ${RUN}`;
  const csv = [
    "name,email",
    `"Doe, Jane",jane.${RUN}@example.org`,
    `Omar,omar.${RUN}@example.org`,
    `"Quote ""Q"" Person",q.${RUN}@example.org`,
    `Bounce Back,bounce3.${RUN}@example.org`,
    `Nobody,`,
  ].join("\n");

  await page.goto("/campaigns/new");
  await fillSubjectAndBody(page, subject);
  await page.getByLabel("Upload CSV").setInputFiles({
    name: "recipients.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(csv),
  });
  const check = page.getByRole("list", { name: "Recipient check" });
  await expect(check).toContainText("4 valid");
  await expect(check).toContainText("1 invalid");
  await shot(page, "new-campaign-form-csv");

  await page.getByRole("button", { name: "Send campaign" }).click();
  await expect(page).toHaveURL(ID, { timeout: 30_000 });
  await waitUntilDone(page);

  await filterBy(page, "Sent");
  await expect(page.getByRole("row").filter({ hasText: `jane.${RUN}@example.org` })).toContainText(
    "Doe, Jane",
  );
  await filterBy(page, "Failed");
  await expect(page.getByRole("row").filter({ hasText: `bounce3.${RUN}@example.org` })).toContainText(
    "550",
  );
  await shot(page, "campaign-detail-csv");
});

test("the list shows both campaigns, newest first, finished", async ({ page }) => {
  await page.goto("/");
  const campaigns = page.getByRole("list", { name: "Campaigns" });
  const csvItem = campaigns.getByRole("listitem").filter({ hasText: `CSV upload ${RUN}` });
  const pastedItem = campaigns.getByRole("listitem").filter({ hasText: `Pasted list ${RUN}` });
  await expect(csvItem).toBeVisible();
  await expect(pastedItem).toBeVisible();
  await expect(csvItem.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
  const order = await campaigns.getByRole("listitem").allInnerTexts();
  const csvAt = order.findIndex((t) => t.includes(`CSV upload ${RUN}`));
  const pastedAt = order.findIndex((t) => t.includes(`Pasted list ${RUN}`));
  expect(csvAt).toBeLessThan(pastedAt);
  await shot(page, "campaign-list");

  await pastedItem.getByRole("link").first().click();
  await expect(page).toHaveURL(ID);
  await expect(page.getByRole("figure")).toContainText("40 sent, 2 failed");
  await expect(page.locator(".uplot canvas").first()).toBeVisible();
  await shot(page, "campaign-detail");
});

test("@phone the list and the form fit a phone screen", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("list", { name: "Campaigns" })).toBeVisible();
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await shot(page, "phone-campaign-list");
  await page.goto("/campaigns/new");
  await expect(page.getByLabel("Subject")).toBeVisible();
  await shot(page, "phone-new-campaign-form");
});
