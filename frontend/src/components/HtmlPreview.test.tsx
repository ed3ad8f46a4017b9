import { describe, expect, it } from "vitest";

import { withoutTabStops } from "./HtmlPreview";

describe("withoutTabStops", () => {
  it("takes every link and control of an email out of the tab order", () => {
    const html = withoutTabStops(
      '<p><a href="https://example.org">One</a> <a name="x">anchor</a></p><button>Two</button><div tabindex="0">Three</div>',
    );
    const doc = new DOMParser().parseFromString(html, "text/html");
    expect(doc.querySelector("a[href]")?.getAttribute("tabindex")).toBe("-1");
    expect(doc.querySelector("a[name]")?.hasAttribute("tabindex")).toBe(false);
    expect(doc.querySelector("button")?.getAttribute("tabindex")).toBe("-1");
    expect(doc.querySelector("div")?.getAttribute("tabindex")).toBe("-1");
    expect(doc.querySelector("a[href]")?.textContent).toBe("One");
  });

  it("leaves an email without any such element as it is", () => {
    expect(withoutTabStops("<p>Hello <b>there</b></p>")).toBe("<p>Hello <b>there</b></p>");
    expect(withoutTabStops("")).toBe("");
  });
});
